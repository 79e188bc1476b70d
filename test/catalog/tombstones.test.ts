// Catalog tombstones: a departed node's entry is kept (so stale states lose) until Serf has
// forgotten the member and the tombstone timeout has passed, then forgotten; a stale state that
// arrives after that cannot bring back what the node's newer version superseded — not in the
// reads, not through anti-entropy between an agent that forgot and one that still remembers,
// and not when the node returns. Time is given by the test (the catalog is sans-IO).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog, type CatalogMember, type MemberHealth } from '../../src/catalog/catalog.js';
import { CatalogGossip, DEFAULT_GOSSIP_CONFIG, type GossipPort } from '../../src/catalog/gossip.js';
import { LocalCatalog } from '../../src/catalog/local.js';
import type { NodeCatalog } from '../../src/catalog/types.js';
import { CatalogCluster, simService } from '../../sim/catalog-cluster.js';

const HOUR_MS = 3_600_000;
const TOMBSTONE_MS = 24 * HOUR_MS;

function member(name: string, health: MemberHealth): CatalogMember {
  return { name, address: '10.0.0.9', health, tags: new Map() };
}

function state(node: string, version: number, serviceIds: string[]): NodeCatalog {
  return { node, version, services: serviceIds.map((id) => simService(id, id, 80)), checks: [] };
}

/** Observer "a" that saw x register "old", then drop it (v11), then leave and be reaped. */
function catalogAfterReap(): Catalog {
  const cat = new Catalog('a');
  cat.setMember(member('a', 'alive'));
  cat.apply(state('a', 1, []));
  cat.setMember(member('x', 'alive'));
  assert.equal(cat.apply(state('x', 10, ['old'])), 'new');
  assert.equal(cat.apply(state('x', 11, ['kept'])), 'new');
  cat.setMember(member('x', 'left'));
  cat.removeMember('x');
  return cat;
}

test('a tombstone keeps the version (stale states lose), is not offered to peers, and expires a timeout after the reap', () => {
  const cat = catalogAfterReap();
  assert.equal(cat.apply(state('x', 10, ['old'])), 'stale', 'before expiry the tombstone rules the stale state out');
  assert.equal(cat.versions().has('x'), false, 'a tombstone is not offered in anti-entropy');
  assert.equal(cat.heldEntries, 2);
  const t0 = 5_000;
  assert.equal(cat.expireTombstones(t0, TOMBSTONE_MS), 0, 'the first sweep starts the clock');
  assert.equal(cat.expireTombstones(t0 + TOMBSTONE_MS - 1, TOMBSTONE_MS), 0);
  assert.equal(cat.expireTombstones(t0 + TOMBSTONE_MS, TOMBSTONE_MS), 1);
  assert.equal(cat.heldEntries, 1, 'only our own entry is left');
  assert.equal(cat.version('x'), -1);
});

test('the entry of a left member is kept while Serf still lists it, and the local entry never expires', () => {
  const cat = new Catalog('a');
  cat.setMember(member('x', 'alive'));
  cat.apply(state('a', 1, ['mine']));
  cat.apply(state('x', 5, ['s']));
  cat.setMember(member('x', 'left'));
  for (let t = 0; t <= 3 * TOMBSTONE_MS; t += HOUR_MS) assert.equal(cat.expireTombstones(t, TOMBSTONE_MS), 0);
  assert.equal(cat.apply(state('x', 4, ['s'])), 'stale');
  assert.deepEqual(cat.servicesOf('a').map((s) => s.ID), ['mine']);
});

test('a stale state arriving after expiry shows nothing, stops being offered, and loses to the returning node', () => {
  const cat = catalogAfterReap();
  cat.expireTombstones(0, TOMBSTONE_MS);
  assert.equal(cat.expireTombstones(TOMBSTONE_MS, TOMBSTONE_MS), 1);
  // An agent cut off for longer than reap + timeout still holds x@10, which had "old".
  assert.equal(cat.apply(state('x', 10, ['old'])), 'new', 'nothing remembers x any more');
  assert.deepEqual(cat.instances('old'), [], 'x is not a member: nothing of it is shown');
  assert.equal(cat.nodes().some((n) => n.name === 'x'), false);
  // Offered until a sweep finds its member gone (it may be a joiner whose member event is late) …
  assert.equal(cat.versions().get('x'), 10);
  cat.expireTombstones(TOMBSTONE_MS + 1, TOMBSTONE_MS);
  // … then no more, so it cannot travel back and forth between agents.
  assert.equal(cat.versions().has('x'), false);
  // x returns as a new run: its versions start above every version of its earlier runs.
  cat.setMember(member('x', 'alive'));
  assert.equal(cat.apply(state('x', 11_000_000, ['fresh'])), 'new');
  assert.deepEqual(cat.instances('old'), [], 'the superseded service stays gone');
  assert.deepEqual(cat.servicesOf('x').map((s) => s.ID), ['fresh']);
  assert.equal(cat.versions().get('x'), 11_000_000, 'a member again: offered again');
  assert.equal(cat.apply(state('x', 10, ['old'])), 'stale');
});

test("a returning node's newer entry, arriving before its member event, is not swept with the old tombstone", () => {
  const cat = catalogAfterReap();
  cat.expireTombstones(0, TOMBSTONE_MS);
  assert.equal(cat.apply(state('x', 12_000_000, ['fresh'])), 'new');
  assert.equal(cat.expireTombstones(TOMBSTONE_MS, TOMBSTONE_MS), 0, 'the absence clock starts again');
  cat.setMember(member('x', 'alive'));
  assert.deepEqual(cat.servicesOf('x').map((s) => s.ID), ['fresh']);
  assert.equal(cat.expireTombstones(10 * TOMBSTONE_MS, TOMBSTONE_MS), 0, 'a member is never swept');
});

test('a stale entry of a node that never returns expires in its turn', () => {
  const cat = catalogAfterReap();
  cat.expireTombstones(0, TOMBSTONE_MS);
  cat.expireTombstones(TOMBSTONE_MS, TOMBSTONE_MS);
  cat.apply(state('x', 10, ['old']));
  cat.expireTombstones(2 * TOMBSTONE_MS, TOMBSTONE_MS);
  assert.equal(cat.expireTombstones(3 * TOMBSTONE_MS, TOMBSTONE_MS), 1);
  assert.equal(cat.heldEntries, 1);
});

/** Two catalogs whose gossip talks through queues the test drains; timers are run by hand. */
function gossipPair(): { a: CatalogGossip; b: CatalogGossip; exchange: () => void } {
  const queues = new Map<string, Uint8Array[]>([['a', []], ['b', []]]);
  const ticks = new Map<string, Array<() => void>>([['a', []], ['b', []]]);
  const make = (name: string, peer: string): CatalogGossip => {
    const catalog = new Catalog(name);
    catalog.setMember(member('a', 'alive'));
    catalog.setMember(member('b', 'alive'));
    let seed = name === 'a' ? 1 : 2;
    const port: GossipPort = {
      peers: () => [peer],
      send: (to, payload) => queues.get(to)?.push(payload),
      schedule: (kind, _delayMs, fn) => {
        if (kind === 'antiEntropy') ticks.get(name)?.push(fn);
        else fn();
      },
      log: () => {},
      rng: { int: (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n, float: () => 0.5 } as never,
    };
    const g = new CatalogGossip(catalog, new LocalCatalog(name, name === 'a' ? 1_000 : 2_000), port, DEFAULT_GOSSIP_CONFIG);
    g.start(0);
    return g;
  };
  const a = make('a', 'b');
  const b = make('b', 'a');
  const drain = (): void => {
    for (let round = 0; round < 20; round++) {
      let moved = false;
      for (const [to, g] of [['a', a], ['b', b]] as const) {
        const q = queues.get(to) as Uint8Array[];
        while (q.length > 0) {
          moved = true;
          g.receive(0, q.shift() as Uint8Array);
        }
      }
      if (!moved) return;
    }
  };
  const exchange = (): void => {
    for (const name of ['a', 'b']) {
      const pending = ticks.get(name) as Array<() => void>;
      ticks.set(name, []);
      for (const fn of pending) fn();
      drain();
    }
  };
  return { a, b, exchange };
}

test('anti-entropy between an agent that forgot a node and one that still holds its tombstone does not bring the entry back', () => {
  const { a, b, exchange } = gossipPair();
  for (const g of [a, b]) {
    g.catalog.setMember(member('x', 'alive'));
    g.catalog.apply(state('x', 10, ['old']));
    g.catalog.apply(state('x', 11, ['kept']));
    g.catalog.setMember(member('x', 'left'));
    g.catalog.removeMember('x');
  }
  // a's sweeps ran earlier than b's: a has forgotten x, b still holds the tombstone.
  a.catalog.expireTombstones(0, TOMBSTONE_MS);
  assert.equal(a.catalog.expireTombstones(TOMBSTONE_MS, TOMBSTONE_MS), 1);
  for (let i = 0; i < 5; i++) exchange();
  assert.ok(a.stats.antiEntropyRounds >= 5 && b.stats.antiEntropyRounds >= 5);
  assert.equal(a.catalog.version('x'), -1, 'b never offers its tombstone to a');
  assert.equal(b.catalog.version('x'), 11);
  // The same exchange does carry what should travel: a new entry of a live member.
  b.catalog.setMember(member('y', 'alive'));
  a.catalog.setMember(member('y', 'alive'));
  b.catalog.apply(state('y', 3, ['svc']));
  for (let i = 0; i < 3; i++) exchange();
  assert.equal(a.catalog.version('y'), 3, 'anti-entropy still repairs live entries');
});

test('simulated cluster: a left node is reaped by Serf, then its catalog entry is forgotten everywhere', () => {
  const c = new CatalogCluster({ seed: 3, serf: { tombstoneTimeoutMs: 20_000, reapIntervalMs: 1_000 } });
  c.grow(4);
  assert.ok(c.runUntil(() => c.running().every((h) => h.engine.peers().length === 3), 30_000));
  c.register('node-3', simService('gone', 'gone', 1));
  assert.ok(c.runUntil(() => c.running().every((h) => h.engine.catalog.instances('gone').length === 1), 20_000));
  c.act('node-3', (n, now) => n.serf.leave(now));
  const observers = ['node-0', 'node-1', 'node-2'];
  assert.ok(c.runUntil(() => observers.every((o) => c.node(o).catalog.instances('gone').length === 0), 20_000), 'the leave removes the service');
  // The agent shuts down once its leave is done (Serf's agent does the same).
  c.run(3_000);
  c.crash('node-3');
  assert.ok(observers.every((o) => c.node(o).catalog.heldEntries === 4), 'the tombstone is held');
  // Reap after 20 s, forgotten 20 s after that (sweeps every 2 s: a tenth of the timeout).
  assert.ok(c.runUntil(() => observers.every((o) => c.node(o).catalog.heldEntries === 3), 60_000), 'forgotten everywhere');
  c.run(30_000);
  const held = observers.map((o) => `${o}: ${c.node(o).catalog.heldEntries} entries, node-3 at ${c.node(o).catalog.version('node-3')}, member ${c.node(o).catalog.member('node-3')?.health}`);
  assert.ok(observers.every((o) => c.node(o).catalog.heldEntries === 3 && c.node(o).catalog.version('node-3') === -1), `not brought back by anti-entropy: ${held.join('; ')}`);
  assert.ok(c.catalogConverged(), c.catalogMismatches().join('\n'));
});
