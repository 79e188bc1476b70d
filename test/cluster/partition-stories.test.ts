// Serf stories of issue #4, partitions: a partition shorter than the reconnect timeout heals by
// itself, however long it lasted — 20 nodes split 10/10 for 10 virtual minutes, or one node cut
// off for 10 minutes: within two reconnect intervals (60 s, LAN) of the links' return, every node
// lists every other alive. Past the reconnect timeout the halves have reaped each other and stay
// apart, as in Serf. The distribution over many seeds: sim/experiments/partition-heal.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SerfCluster, type SerfClusterOptions } from '../../sim/serf-cluster.js';
import { healTimeOnce } from '../../sim/experiments/partition-heal.js';

const TEN_MINUTES = 600_000;
const TWO_RECONNECT_INTERVALS = 60_000;

function formed(nodes: number, options: SerfClusterOptions): SerfCluster {
  const c = new SerfCluster(options);
  c.grow(nodes);
  assert.ok(c.runUntil(() => c.converged(), 60_000), `${nodes} nodes did not converge`);
  return c;
}

/** Every node in `a` has every node in `b` with this status. */
function sees(c: SerfCluster, a: readonly string[], b: readonly string[], status: string | undefined): boolean {
  return a.every((o) => b.every((s) => c.statusOf(o, s) === status));
}

describe('partitions heal', () => {
  test('20 nodes split 10/10 for 10 virtual minutes are whole again within two reconnect intervals', () => {
    const c = formed(20, { seed: 21 });
    const names = c.hosts.map((h) => h.name);
    const [a, b] = [names.slice(0, 10), names.slice(10)];
    c.partition(a, b);
    c.run(TEN_MINUTES);
    // Each half holds the other failed (not left, not reaped: the reconnect timeout is 24 h).
    assert.ok(sees(c, a, b, 'failed') && sees(c, b, a, 'failed'));
    assert.ok(sees(c, a, a, 'alive') && sees(c, b, b, 'alive'));
    assert.deepEqual(c.events.filter((r) => r.event.type === 'member-leave' || r.event.type === 'member-reap'), []);
    c.heal();
    const healedAt = c.now;
    assert.ok(c.runUntil(() => c.converged(), TWO_RECONNECT_INTERVALS), `still split ${TWO_RECONNECT_INTERVALS / 1000} s after the heal`);
    assert.ok(c.now - healedAt < TWO_RECONNECT_INTERVALS);
  });

  test('one node isolated for 10 virtual minutes is back within two reconnect intervals', () => {
    const c = formed(20, { seed: 22 });
    const lonely = 'node-13';
    const rest = c.hosts.map((h) => h.name).filter((n) => n !== lonely);
    c.partition([lonely], rest);
    c.run(TEN_MINUTES);
    assert.ok(sees(c, rest, [lonely], 'failed') && sees(c, [lonely], rest, 'failed'));
    c.heal();
    const healedAt = c.now;
    assert.ok(c.runUntil(() => c.converged(), TWO_RECONNECT_INTERVALS), `still apart ${TWO_RECONNECT_INTERVALS / 1000} s after the heal`);
    assert.ok(c.now - healedAt < TWO_RECONNECT_INTERVALS);
  });

  test('the experiment measures the same: three seeds, each healed within two reconnect intervals', () => {
    for (const seed of [1, 2, 3]) {
      const seconds = healTimeOnce(20, TEN_MINUTES, seed, 0);
      assert.ok(seconds > 0 && seconds < TWO_RECONNECT_INTERVALS / 1000, `seed ${seed}: ${seconds} s`);
    }
  });

  test('past the reconnect timeout the halves have reaped each other and stay apart', () => {
    const c = formed(10, { seed: 23, serf: { reconnectTimeoutMs: 300_000 } });
    const names = c.hosts.map((h) => h.name);
    const [a, b] = [names.slice(0, 5), names.slice(5)];
    c.partition(a, b);
    c.run(TEN_MINUTES);
    assert.ok(sees(c, a, b, undefined) && sees(c, b, a, undefined));
    c.heal();
    c.run(5 * TWO_RECONNECT_INTERVALS);
    assert.ok(sees(c, a, b, undefined) && sees(c, b, a, undefined));
    assert.ok(sees(c, a, a, 'alive') && sees(c, b, b, 'alive'));
  });
});
