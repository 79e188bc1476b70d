// Catalog gossip on the simulated network: convergence, stale updates losing, rate limiting,
// serfHealth on failure, removal on leave, repair after a partition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogCluster, simCheck, simService } from '../../sim/catalog-cluster.js';
import { Keyring } from '../../src/wire/encryption.js';

function cluster(n: number, seed = 1): CatalogCluster {
  const c = new CatalogCluster({ seed });
  c.grow(n);
  assert.ok(c.runUntil(() => c.running().every((h) => h.engine.peers().length === n - 1), 30_000), 'every node sees every shoal peer');
  return c;
}

test('services registered on every node reach every node', () => {
  const c = cluster(8);
  for (const h of c.hosts) c.register(h.name, simService(`web-${h.name}`, 'web', 8080), [simCheck(`check-${h.name}`, 'passing', `web-${h.name}`)]);
  assert.ok(c.runUntil(() => c.catalogConverged(), 20_000), c.catalogMismatches().join('\n'));
  const seen = c.node('node-3').catalog.passingInstances('web');
  assert.equal(seen.length, 8);
  assert.deepEqual(seen.map((i) => i.checks.map((x) => x.CheckID)).at(0), ['serfHealth', 'check-node-0']);
  // Quiet once converged: anti-entropy rounds find nothing to do and nobody republishes.
  const publications = (): number => c.hosts.reduce((s, h) => s + h.engine.gossip.stats.publications, 0);
  const before = publications();
  const rounds = c.hosts.reduce((s, h) => s + h.engine.gossip.stats.antiEntropyRounds, 0);
  c.run(60_000);
  assert.equal(publications(), before);
  assert.ok(c.hosts.reduce((s, h) => s + h.engine.gossip.stats.antiEntropyRounds, 0) >= rounds + 8 * 5);
  assert.ok(c.catalogConverged());
});

test('a stale update loses against a newer one', () => {
  const c = cluster(2);
  const cat = c.node('node-1').catalog;
  const v = cat.version('node-0');
  const current = cat.stateOf('node-0');
  assert.ok(current !== undefined);
  assert.equal(cat.apply({ ...current, version: v - 1, services: [simService('old', 'old', 1)] }), 'stale');
  assert.equal(cat.apply({ ...current, version: v, services: [simService('old', 'old', 1)] }), 'stale');
  assert.deepEqual(cat.servicesOf('node-0'), []);
  assert.equal(cat.apply({ ...current, version: v + 1, services: [simService('new', 'new', 2)] }), 'new');
  assert.equal(cat.servicesOf('node-0')[0]?.ID, 'new');
});

test('a flapping check is rate-limited and coalesced, and the final state still converges', () => {
  const c = cluster(5);
  c.register('node-0', simService('db', 'db', 5432), [simCheck('db-ttl', 'passing', 'db')]);
  c.run(3_000);
  const g = c.node('node-0').gossip;
  const before = g.stats.publications;
  // 200 flips in 2 seconds: at most one publication per second goes out.
  for (let i = 0; i < 200; i++) {
    c.act('node-0', (n, now) => n.updateCheck(now, 'db-ttl', i % 2 === 0 ? 'critical' : 'passing', `flip ${i}`));
    c.run(10);
  }
  c.act('node-0', (n, now) => n.updateCheck(now, 'db-ttl', 'critical', 'final'));
  c.run(1_500);
  const published = g.stats.publications - before;
  assert.ok(published <= 5, `published ${published} times for 201 changes`);
  assert.ok(g.stats.coalesced >= 150, `coalesced ${g.stats.coalesced}`);
  assert.ok(c.runUntil(() => c.catalogConverged(), 10_000), c.catalogMismatches().join('\n'));
  assert.equal(c.node('node-4').catalog.checksOf('node-0').find((x) => x.CheckID === 'db-ttl')?.Output, 'final');
});

test('serfHealth: a crashed node\'s services turn critical everywhere; a left node\'s services go', () => {
  const c = cluster(5);
  c.register('node-1', simService('api', 'api', 9000));
  c.register('node-2', simService('api2', 'api', 9001));
  assert.ok(c.runUntil(() => c.catalogConverged(), 10_000));
  c.crash('node-1');
  const others = ['node-0', 'node-3', 'node-4'];
  assert.ok(
    c.runUntil(() => others.every((o) => c.node(o).catalog.instances('api').find((i) => i.node.name === 'node-1')?.checks[0]?.Status === 'critical'), 30_000),
    'node-1 serfHealth critical everywhere',
  );
  for (const o of others) {
    const api = c.node(o).catalog;
    assert.equal(api.instances('api').length, 2, 'a failed node keeps its services listed');
    assert.deepEqual(api.passingInstances('api').map((i) => i.service.ID), ['api2']);
  }
  c.act('node-2', (n, now) => n.serf.leave(now));
  assert.ok(c.runUntil(() => ['node-0', 'node-3', 'node-4'].every((o) => c.node(o).catalog.instances('api').every((i) => i.node.name !== 'node-2')), 30_000));
});

test('deregistration and a partition heal: anti-entropy repairs what rumors missed', () => {
  const c = cluster(6);
  c.register('node-0', simService('a', 'a', 1));
  assert.ok(c.runUntil(() => c.catalogConverged(), 10_000));
  c.partition(['node-0', 'node-1', 'node-2'], ['node-3', 'node-4', 'node-5']);
  c.act('node-0', (n, now) => n.deregisterService(now, 'a'));
  c.register('node-4', simService('b', 'b', 2));
  c.run(1_000);
  c.heal();
  assert.ok(c.runUntil(() => c.catalogConverged(), 60_000), c.catalogMismatches().join('\n'));
  assert.deepEqual([...c.node('node-5').catalog.serviceNames().keys()], ['b']);
});

test('a restarted node\'s fresh entry replaces what its previous run gossiped', () => {
  const c = cluster(4);
  c.register('node-3', simService('old', 'old', 1));
  assert.ok(c.runUntil(() => c.catalogConverged(), 10_000));
  c.crash('node-3');
  c.run(2_000);
  c.restart('node-3', ['node-0']);
  c.register('node-3', simService('new', 'new', 2));
  assert.ok(c.runUntil(() => c.catalogConverged() && c.node('node-0').catalog.servicesOf('node-3').length === 1, 60_000), c.catalogMismatches().join('\n'));
  assert.deepEqual(c.node('node-1').catalog.servicesOf('node-3').map((s) => s.ID), ['new']);
});

test('encrypted gossip, and entries too big for a packet travel by TCP', () => {
  const key = Buffer.alloc(32, 7).toString('base64');
  const c = new CatalogCluster({ seed: 5, memberlist: { keyring: Keyring.fromBase64([key]) } });
  c.grow(6);
  assert.ok(c.runUntil(() => c.running().every((h) => h.engine.peers().length === 5), 30_000));
  const streamsBefore = c.world.network.stats.streamsOpened;
  const many = Array.from({ length: 40 }, (_, i) => simService(`big-${i}`, 'big', 9000 + i, ['a-rather-long-tag-to-make-the-entry-large']));
  c.act('node-2', (n, now) => {
    for (const s of many) n.registerService(now, s, []);
  });
  c.register('node-4', simService('small', 'small', 1));
  assert.ok(c.runUntil(() => c.catalogConverged(), 20_000), c.catalogMismatches().join('\n'));
  assert.equal(c.node('node-0').catalog.instances('big').length, 40);
  assert.ok(c.world.network.stats.streamsOpened - streamsBefore >= 4, 'the big entry went by TCP streams');
  assert.equal(c.hosts.reduce((s, h) => s + h.engine.gossip.stats.malformed, 0), 0);
});

test('everyone changing at once: rumors announce versions and pull entries, so each node receives each entry about once', () => {
  const n = 24;
  const c = cluster(n, 3);
  const total = (k: 'statesApplied' | 'statesStale' | 'requested' | 'announced'): number => c.hosts.reduce((s, h) => s + h.engine.gossip.stats[k], 0);
  const applied0 = total('statesApplied');
  const stale0 = total('statesStale');
  for (const h of c.hosts) {
    for (let i = 0; i < 2; i++) c.register(h.name, simService(`s${i}-${h.name}`, `s${i}`, 9000 + i), [simCheck(`c${i}-${h.name}`, 'passing', `s${i}-${h.name}`)]);
  }
  assert.ok(c.runUntil(() => c.catalogConverged(), 20_000), c.catalogMismatches().join('\n'));
  const applied = total('statesApplied') - applied0;
  const stale = total('statesStale') - stale0;
  // Every node learned every other node's new entry once; pushing whole entries to `fanout` peers
  // from every node that found them news delivered each about five times (stale ≈ 1.5 × applied).
  assert.ok(applied >= n * (n - 1), `applied ${applied}`);
  assert.ok(stale <= applied * 0.2, `stale ${stale} of ${applied + stale} entries received`);
  assert.ok(total('announced') > 0 && total('requested') >= applied * 0.5, `announced ${total('announced')}, requested ${total('requested')}`);
});
