// Serf stories for network coordinates and the snapshot (issue #4), on the simulated network.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { distanceMs } from '../../src/cluster/coordinate.js';
import { SerfCluster } from '../../sim/serf-cluster.js';

test('coordinates: on a fixed latency matrix every estimated RTT converges to within 25% of the true one', () => {
  const c = new SerfCluster({ seed: 21 });
  // Twelve nodes on a 3 × 4 grid, 6 ms of one-way delay per unit of distance (RTT 12–60 ms).
  const n = 12;
  const pos = Array.from({ length: n }, (_, i) => [i % 4, Math.floor(i / 4)] as const);
  const oneWayMs = (a: number, b: number): number => 6 * Math.hypot((pos[a] as readonly number[])[0]! - (pos[b] as readonly number[])[0]!, (pos[a] as readonly number[])[1]! - (pos[b] as readonly number[])[1]!);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      const d = a === b ? 0.1 : oneWayMs(a, b);
      c.world.network.setLink(a, b, { latency: { minMs: d, maxMs: d } });
    }
  }
  c.grow(n);
  assert.ok(c.runUntil(() => c.converged(), 30_000));
  c.run(600_000);
  const errors: number[] = [];
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const ca = c.serf(`node-${a}`).getCoordinate();
      const cb = c.serf(`node-${b}`).getCoordinate();
      assert.ok(ca !== null && cb !== null);
      const estimated = distanceMs(ca, cb);
      const truth = 2 * oneWayMs(a, b);
      errors.push(Math.abs(estimated - truth) / truth);
    }
  }
  const worst = Math.max(...errors);
  assert.ok(worst <= 0.25, `worst relative error ${worst.toFixed(3)} over ${errors.length} pairs`);
  // Any node can estimate the RTT between two others from the coordinates it cached.
  const viaThirdParty = c.serf('node-0').estimateRttMs('node-5', 'node-11');
  assert.ok(viaThirdParty !== null && Math.abs(viaThirdParty - 2 * oneWayMs(5, 11)) / (2 * oneWayMs(5, 11)) <= 0.25);
});

test('snapshot: a restarted node restores its clocks, delivers no old event twice and rejoins its peers with no join address', () => {
  const c = new SerfCluster({ seed: 22, snapshots: true });
  c.grow(5);
  assert.ok(c.runUntil(() => c.converged(), 20_000));
  const te = new TextEncoder();
  for (let i = 0; i < 3; i++) {
    c.act('node-1', (serf, now) => serf.userEvent(now, 'deploy', te.encode(`v${i}`), false));
    c.run(2_000);
  }
  const before = c.eventsAt('node-4', 'user').length;
  assert.equal(before, 3);
  const file = c.snapshotFiles.get('node-4');
  assert.ok(file !== undefined && /alive: node-0 127\.0\.0\.1:7946/.test(file.text) && /event-clock: /.test(file.text), 'the snapshot holds peers and clocks');
  c.crash('node-4');
  assert.ok(c.runUntil(() => c.allSee('node-4', 'failed'), 60_000));
  c.restart('node-4'); // no seeds: the snapshot's peers are the way back
  assert.ok(c.runUntil(() => c.converged(), 30_000), 'it rejoined its previous peers');
  c.run(10_000);
  assert.equal(c.eventsAt('node-4', 'user').length, before, 'the old events were not delivered again');
  c.act('node-2', (serf, now) => serf.userEvent(now, 'deploy', te.encode('v3'), false));
  c.run(5_000);
  assert.equal(c.eventsAt('node-4', 'user').length, before + 1, 'a new event still arrives');
  assert.ok(c.serf('node-4').eventClock.time() > 3n);
});
