// Serf stories of issue #4, member status: leave → left (never failed); a failed member is
// retried by reconnect attempts, then reaped after the reconnect timeout; force-leave turns
// failed into left; tag updates reach everyone and oversized tags are refused before anything is
// sent; of two nodes claiming one name, the minority shuts down. Fixed seeds, exact outcomes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SerfCluster, type SerfClusterOptions } from '../../sim/serf-cluster.js';
import type { SerfEvent } from '../../src/cluster/serf.js';

function formed(nodes: number, options: SerfClusterOptions): SerfCluster {
  const c = new SerfCluster(options);
  c.grow(nodes);
  assert.ok(c.runUntil(() => c.converged(), 60_000), `${nodes} nodes did not converge`);
  return c;
}

/** Member events about `subject`, as "observer type" lines. */
function memberEvents(c: SerfCluster, subject: string, type?: SerfEvent['type']): Array<{ atMs: number; observer: string; type: string }> {
  return c.events
    .filter((r) => r.event.type !== 'user' && r.event.type !== 'query' && r.event.members.some((m) => m.name === subject))
    .filter((r) => type === undefined || r.event.type === type)
    .map((r) => ({ atMs: r.atMs, observer: r.observer, type: r.event.type }));
}

const others = (c: SerfCluster, name: string): string[] => c.running().map((h) => h.name).filter((n) => n !== name);

describe('member status', () => {
  test('a node that leaves is left everywhere, never failed, also after its process is gone', () => {
    const c = formed(10, { seed: 11 });
    const since = c.now;
    let result: string | null | undefined;
    c.act('node-5', (serf, now) => serf.leave(now, (err) => {
      result = err;
    }));
    assert.ok(c.runUntil(() => result !== undefined, 20_000));
    assert.equal(result, null);
    assert.equal(c.serf('node-5').currentState, 'left');
    const viewers = others(c, 'node-5');
    assert.ok(c.allSee('node-5', 'left', viewers));
    // The agent shuts down after leaving; the others keep it left through every probe timeout.
    c.crash('node-5');
    c.run(120_000);
    assert.ok(c.allSee('node-5', 'left', viewers));
    // One member-leave at each node (itself included), nothing else, and never a member-failed.
    const after = memberEvents(c, 'node-5').filter((e) => e.atMs >= since);
    assert.deepEqual(after.map((e) => e.type), Array(viewers.length + 1).fill('member-leave'));
    assert.deepEqual(after.map((e) => e.observer).sort(), [...viewers, 'node-5'].sort());
    assert.deepEqual(memberEvents(c, 'node-5', 'member-failed'), []);
  });

  test('a failed member is retried by reconnect attempts, then reaped after the reconnect timeout', () => {
    const reconnectTimeoutMs = 120_000;
    const reapIntervalMs = 15_000;
    const c = formed(10, { seed: 20, serf: { reconnectTimeoutMs, reapIntervalMs } });
    const attempts: Array<{ atMs: number; by: string; message: string }> = [];
    c.world.onLog = (host, _level, message) => {
      if (message.includes('attempting reconnect')) attempts.push({ atMs: c.now, by: host.name, message });
    };
    const streamsBefore = c.world.network.stats.streamsFailed;
    c.crash('node-7');
    const viewers = others(c, 'node-7');
    assert.ok(c.runUntil(() => c.allSee('node-7', 'failed', viewers), 60_000));
    const failedAt = new Map(memberEvents(c, 'node-7', 'member-failed').map((e) => [e.observer, e.atMs]));
    assert.deepEqual([...failedAt.keys()].sort(), viewers.sort());
    assert.ok(c.runUntil(() => viewers.every((v) => c.statusOf(v, 'node-7') === undefined), 300_000));

    for (const reap of memberEvents(c, 'node-7', 'member-reap')) {
      const afterMs = reap.atMs - (failedAt.get(reap.observer) as number);
      // Reaped at the first reap tick past the timeout (serf.go reap: now − leaveTime > timeout).
      assert.ok(afterMs > reconnectTimeoutMs && afterMs <= reconnectTimeoutMs + reapIntervalMs, `${reap.observer} reaped it ${afterMs} ms after it failed`);
    }
    assert.deepEqual(memberEvents(c, 'node-7', 'member-reap').map((e) => e.observer).sort(), viewers.sort());

    // Before that, the cluster tried to join it again, about once per reconnect interval in all
    // (each node with probability failed / alive = 1/9 every 30 s: about 4 tries in 2 minutes),
    // each try a failed stream, each between the node's failure and its reaping at the trying node.
    const reapedAt = new Map(memberEvents(c, 'node-7', 'member-reap').map((e) => [e.observer, e.atMs]));
    assert.ok(attempts.length >= 1, 'no reconnect attempt');
    for (const a of attempts) {
      assert.equal(a.message, 'serf: attempting reconnect to node-7 127.0.0.8:7946');
      assert.ok(a.atMs > (failedAt.get(a.by) as number) && a.atMs < (reapedAt.get(a.by) as number), `${a.by} tried at ${a.atMs}`);
    }
    assert.ok(c.world.network.stats.streamsFailed - streamsBefore >= attempts.length);
    // Once reaped, nobody tries again.
    const count = attempts.length;
    c.run(120_000);
    assert.equal(attempts.length, count);
  });

  test('force-leave turns a failed member into left everywhere; with prune it is erased', () => {
    const c = formed(8, { seed: 13 });
    c.crash('node-3');
    c.crash('node-6');
    const viewers = others(c, 'node-3');
    assert.ok(c.runUntil(() => c.allSee('node-3', 'failed', viewers) && c.allSee('node-6', 'failed', viewers), 60_000));

    let result: string | null | undefined;
    c.act('node-0', (serf, now) => serf.forceLeave(now, 'node-3', false, (err) => {
      result = err;
    }));
    assert.ok(c.runUntil(() => c.allSee('node-3', 'left', viewers), 10_000));
    c.run(6_000);
    assert.equal(result, null);
    assert.deepEqual(memberEvents(c, 'node-3', 'member-leave').map((e) => e.observer).sort(), viewers.sort());
    assert.ok(c.allSee('node-3', 'left', viewers));

    c.act('node-4', (serf, now) => serf.forceLeave(now, 'node-6', true));
    assert.ok(c.runUntil(() => viewers.every((v) => c.statusOf(v, 'node-6') === undefined), 10_000));
    // Left first (the forced leave), then reaped at once (serf.go handlePrune).
    for (const v of viewers) {
      assert.deepEqual(memberEvents(c, 'node-6').filter((e) => e.observer === v).map((e) => e.type), ['member-join', 'member-failed', 'member-leave', 'member-reap'], v);
    }
  });
});

describe('tags', () => {
  test('a tag update is visible at every node', () => {
    const c = formed(10, { seed: 14, perNode: () => ({ tags: new Map([['role', 'web']]) }) });
    const since = c.now;
    c.act('node-4', (serf, now) => serf.setTags(now, new Map([['role', 'db'], ['dc', 'east']])));
    c.run(5_000);
    for (const h of c.hosts) {
      assert.deepEqual(Object.fromEntries(h.engine.member('node-4')?.tags ?? []), { role: 'db', dc: 'east' }, h.name);
      assert.deepEqual(Object.fromEntries(h.engine.member('node-0')?.tags ?? []), { role: 'web' }, h.name);
    }
    const updates = c.events.filter((r) => r.atMs >= since && r.event.type === 'member-update');
    assert.deepEqual(updates.map((r) => r.observer).sort(), c.hosts.map((h) => h.name).sort());
    for (const r of updates) {
      assert.ok(r.event.type === 'member-update');
      assert.deepEqual(r.event.members.map((m) => m.name), ['node-4']);
    }
  });

  test('tags over 512 bytes are refused before anything is sent', () => {
    const c = formed(5, { seed: 15 });
    const host = c.host('node-2');
    const stats = { ...c.world.network.stats };
    const before = c.events.length;
    const huge = new Map([['blob', 'x'.repeat(510)]]);
    assert.throws(() => c.act('node-2', (serf, now) => serf.setTags(now, huge)), {
      name: 'RangeError',
      message: 'Encoded length of tags exceeds limit of 512 bytes (these encode to 520)',
    });
    assert.deepEqual(host.engine.takeEffects(), []);
    assert.deepEqual(c.world.network.stats, stats);
    assert.deepEqual(host.engine.localTags, new Map());
    c.run(5_000);
    assert.deepEqual(c.events.slice(before).filter((r) => r.event.type === 'member-update'), []);
    for (const h of c.hosts) assert.deepEqual(h.engine.member('node-2')?.tags, new Map());
  });
});

describe('name conflicts', () => {
  test('two nodes claiming one name from different addresses: the minority shuts down, the other keeps running', () => {
    const c = formed(5, { seed: 16, logLines: 50 });
    const original = c.host('node-2');
    // A second agent named node-2 at another address joins through the original.
    const impostor = c.addNode('node-2', 5);
    impostor.engine.join(c.now, [original.address], false);
    impostor.flush();
    assert.ok(c.runUntil(() => impostor.engine.currentState === 'shutdown', 30_000));
    c.run(60_000);
    assert.equal(impostor.engine.currentState, 'shutdown');
    assert.equal(original.engine.currentState, 'alive');
    // Both saw the conflict and asked the cluster (serf.go resolveNodeConflict): the four
    // other nodes know node-2 at the original address.
    assert.ok(impostor.logs.some((l) => l.endsWith('serf: minority in name conflict resolution, quitting [0 / 4]')), impostor.logs.join('\n'));
    assert.ok(original.logs.some((l) => l.endsWith('serf: majority in name conflict resolution [4 / 4]')), original.logs.join('\n'));
    for (const h of c.running()) {
      const m = h.engine.member('node-2');
      assert.deepEqual([m?.addr, m?.status], [original.address.ip, 1], h.name);
    }
    assert.ok(c.converged());
  });
});
