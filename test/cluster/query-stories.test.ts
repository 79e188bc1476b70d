// Serf stories of issue #4, queries: a query reaches every node; tag and name filters pick who
// answers; acks and responses beat the deadline; a relay factor of 2 carries every response
// when the responders' direct path to the asker drops everything. Fixed seeds, exact outcomes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SerfCluster } from '../../sim/serf-cluster.js';
import type { QueryParams } from '../../src/cluster/serf.js';

const WEB = new Set(['node-3', 'node-7', 'node-9']);
const NODES = 12;
const ASKER = 'node-0';

interface Outcome {
  readonly deadlineMs: number;
  readonly doneMs: number | null;
  /** Names, in arrival order, with the time after the query started. */
  readonly acks: Array<[string, number]>;
  readonly responses: Array<[string, number, string]>;
  /** Nodes the query reached (its event, or for internal ones, its arrival). */
  readonly reached: string[];
}

/** 12 nodes, three of them role=web, every one answering each query with "up <name>". */
function cluster(seed: number): SerfCluster {
  const c = new SerfCluster({ seed, perNode: (name) => ({ tags: new Map([['role', WEB.has(name) ? 'web' : 'db']]) }) });
  c.onEvent = ({ observer, event }) => {
    if (event.type !== 'query') return;
    assert.equal(event.query.respond(c.now, new TextEncoder().encode(`up ${observer}`)), null);
  };
  c.grow(NODES);
  assert.ok(c.runUntil(() => c.converged(), 60_000));
  return c;
}

function ask(c: SerfCluster, params: QueryParams): Outcome {
  const start = c.now;
  const firstEvent = c.events.length;
  const acks: Array<[string, number]> = [];
  const responses: Array<[string, number, string]> = [];
  let doneMs: number | null = null;
  const q = c.act(ASKER, (serf, now) => serf.query(now, 'uptime', null, params, {
    onAck: (from) => acks.push([from, c.now - start]),
    onResponse: (from, payload) => responses.push([from, c.now - start, new TextDecoder().decode(payload ?? new Uint8Array(0))]),
    onDone: () => {
      doneMs = c.now - start;
    },
  }));
  assert.ok(c.runUntil(() => doneMs !== null, 60_000));
  const reached = c.events.slice(firstEvent).filter((r) => r.event.type === 'query').map((r) => r.observer);
  return { deadlineMs: q.deadlineMs - start, doneMs, acks, responses, reached };
}

const names = (pairs: ReadonlyArray<readonly [string, ...unknown[]]>): string[] => pairs.map((p) => p[0]).sort();
const all = Array.from({ length: NODES }, (_, i) => `node-${i}`).sort();

describe('queries', () => {
  const c = cluster(5);

  test('a query reaches all nodes; every ack and response arrives once, before the default timeout', () => {
    const out = ask(c, { requestAck: true });
    // GossipInterval × QueryTimeoutMult × ceil(log10(12 + 1)) = 200 ms × 16 × 2 (query.go DefaultQueryTimeout).
    assert.equal(out.deadlineMs, 6_400);
    assert.equal(out.doneMs, 6_400);
    assert.deepEqual([...out.reached].sort(), all);
    assert.deepEqual(names(out.acks), all);
    assert.deepEqual(names(out.responses), all);
    for (const [from, , payload] of out.responses) assert.equal(payload, `up ${from}`);
    for (const [from, atMs] of [...out.acks, ...out.responses]) assert.ok(atMs < 1_000, `${from} answered after ${atMs} ms`);
  });

  test('with a tag filter only the matching nodes answer, though the query reaches everyone', () => {
    const out = ask(c, { requestAck: true, filterTags: new Map([['role', '^web$']]) });
    assert.deepEqual(names(out.acks), [...WEB].sort());
    assert.deepEqual(names(out.responses), [...WEB].sort());
    assert.deepEqual([...out.reached].sort(), [...WEB].sort());
    // Everyone passed it on: each node has it in its query buffer.
    const lTime = c.serf(ASKER).queryClock.time() - 1n;
    for (const h of c.hosts) assert.ok(h.engine.queryClock.time() > lTime, `${h.name} never saw query ${lTime}`);
  });

  test('with a name filter only the named nodes answer', () => {
    const out = ask(c, { requestAck: true, filterNodes: ['node-2', 'node-5', 'node-11'] });
    assert.deepEqual(names(out.acks), ['node-11', 'node-2', 'node-5']);
    assert.deepEqual(names(out.responses), ['node-11', 'node-2', 'node-5']);
    assert.equal(out.doneMs, 6_400);
  });

  test('a tag regexp is matched unanchored, as Go regexp.MatchString does; every filter must hold', () => {
    assert.deepEqual(names(ask(c, { filterTags: new Map([['role', 'we']]) }).responses), [...WEB].sort());
    assert.deepEqual(names(ask(c, { filterTags: new Map([['role', 'web|db']]), filterNodes: ['node-3', 'node-4'] }).responses), ['node-3', 'node-4']);
    assert.deepEqual(ask(c, { filterTags: new Map([['dc', '.*']]), filterNodes: ['node-3'] }).responses.length, 1);
    assert.deepEqual(ask(c, { filterTags: new Map([['role', '^$']]) }).responses, []);
  });

  test('responders cut off from the asker: nothing arrives without relays, everything with relay factor 2', () => {
    // One way only: the query still reaches the responders by gossip, their answers cannot come back directly.
    c.partition([...WEB], [ASKER], true);
    const filterTags = new Map([['role', '^web$']]);
    const direct = ask(c, { requestAck: true, filterTags });
    assert.deepEqual([...direct.reached].sort(), [...WEB].sort());
    assert.deepEqual(direct.acks, []);
    assert.deepEqual(direct.responses, []);

    const relayed = ask(c, { requestAck: true, filterTags, relayFactor: 2 });
    assert.deepEqual(names(relayed.acks), [...WEB].sort());
    assert.deepEqual(names(relayed.responses), [...WEB].sort());
    for (const [from, atMs] of [...relayed.acks, ...relayed.responses]) assert.ok(atMs < relayed.deadlineMs, `${from} at ${atMs} ms`);
    c.heal();
  });
});
