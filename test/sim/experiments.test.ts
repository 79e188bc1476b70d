// Smoke tests of the issue #3 experiments (sim/experiments): each runs at a tiny size and must
// produce figures of the right shape and plausible magnitude. The real runs are
// `npm run experiments`; these only keep the code from rotting. Deterministic: fixed seeds.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { SimCluster } from '../../sim/cluster.js';
import { ReceiveStalls } from '../../sim/receive-stall.js';
import { crashToDeadJson, formatCrashToDead, runCrashToDead } from '../../sim/experiments/crash-to-dead.js';
import { disseminationJson, formatDissemination, lowerBoundRounds, runDissemination } from '../../sim/experiments/dissemination.js';
import {
  firstDetectionJson, firstDetectionModel, formatFirstDetection, randomResidual, roundRobinResidual, runFirstDetection,
} from '../../sim/experiments/first-detection.js';
import { formatLifeguard, lifeguardJson, runLifeguard, STALL_MODELS } from '../../sim/experiments/lifeguard.js';
import { percentileSorted, summarize, table } from '../../sim/experiments/report.js';
import { formatSpeed, runSpeed, speedJson } from '../../sim/experiments/speed.js';

test('summaries use nearest-rank percentiles', () => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentileSorted([...values].sort((a, b) => a - b), 50), 50);
  assert.deepEqual(summarize(values), { count: 100, mean: 50.5, p50: 50, p99: 99, max: 100 });
  assert.equal(table(['a', 'bb'], [['x', '1'], ['yy', '22']]), 'a   bb\n--  --\nx    1\nyy  22');
});

test('first-detection model: ≈ 1 + (N−1)/N intervals, round-robin a little below random probing', () => {
  for (const n of [16, 64, 256]) {
    const rr = firstDetectionModel(n, roundRobinResidual(n - 1));
    const random = firstDetectionModel(n, randomResidual(n - 1));
    assert.ok(Math.abs(rr.mean - (1 + (n - 1) / n)) < 0.01, `N=${n}: round-robin mean ${rr.mean}`);
    assert.ok(rr.mean < random.mean && random.mean < 2, `N=${n}: random probing mean ${random.mean}`);
    assert.ok(rr.p50 > 1 && rr.p50 < rr.mean && rr.p99 > 5 && rr.p99 < 6, `N=${n}: quantiles ${rr.p50} ${rr.p99}`);
  }
});

test('first-detection at N = 8: crashes are detected about two probe intervals later', () => {
  const rows = runFirstDetection({ sizes: [8], crashesPerSize: 20 }, 1);
  const row = rows[0];
  assert.ok(row !== undefined);
  assert.equal(row.periods.count, 20);
  assert.ok(row.periods.mean > 1 && row.periods.mean < 4, `mean ${row.periods.mean}`);
  assert.ok(row.periods.p50 <= row.periods.p99 && row.periods.p99 <= row.periods.max);
  assert.ok(row.periods.max < 20);
  const json = firstDetectionJson(rows);
  assert.equal(json.experiment, 'first-detection');
  assert.match(formatFirstDetection(rows), /^first-detection/);
});

test('crash-to-dead at N = 5: every node declares the crash dead after at least the minimum suspicion', () => {
  const rows = runCrashToDead({ sizes: [5], trials: () => 4 }, 2);
  const row = rows[0];
  assert.ok(row !== undefined);
  assert.equal(row.allDead.count, 4);
  assert.equal(row.suspicionMinSeconds, 4);
  assert.ok(row.allDead.p50 >= row.suspicionMinSeconds && row.allDead.max < 40, `p50 ${row.allDead.p50}, max ${row.allDead.max}`);
  assert.ok(row.firstDead.p50 <= row.allDead.p50);
  assert.equal(row.serfMedianSeconds, 5.72);
  const json = crashToDeadJson(rows);
  assert.equal(json.experiment, 'crash-to-dead');
  assert.match(formatCrashToDead(rows), /ours\/Serf/);
});

test('dissemination at N = 16: the update reaches half, then all, within a few seconds', () => {
  assert.deepEqual([4, 16, 17, 64, 65, 100, 1_000, 1_024, 1_025].map(lowerBoundRounds), [1, 2, 3, 3, 4, 4, 5, 5, 6]);
  const rows = runDissemination({ sizes: [16], trials: () => 3 }, 3);
  const row = rows[0];
  assert.ok(row !== undefined);
  assert.equal(row.to100.count, 3);
  assert.ok(row.to50.p50 > 0 && row.to50.p50 <= row.to99.p50 && row.to99.p50 <= row.to100.p50 && row.to100.max < 5, `${row.to50.p50} ${row.to99.p50} ${row.to100.max}`);
  assert.equal(disseminationJson(rows).experiment, 'dissemination');
  assert.match(formatDissemination(rows), /lower bound/);
});

test('lifeguard at N = 10: same stall plan with Lifeguard on and off, for every stall model', () => {
  const result = runLifeguard({
    nodes: 10, stalledNodes: 2, durationMs: 60_000, seeds: [4], models: STALL_MODELS, stallMs: [2_000, 20_000], runMs: [2_000, 20_000],
  });
  assert.deepEqual(result.models.map((m) => m.model), [...STALL_MODELS]);
  for (const m of result.models) {
    assert.ok(m.with.stallEpisodes > 0 && m.with.stallEpisodes === m.without.stallEpisodes, `${m.model}: the same stall plan`);
    assert.ok(m.with.falsePositivesAtHealthy <= m.with.falsePositives && m.without.falsePositivesAtHealthy <= m.without.falsePositives);
    assert.ok(m.with.stalledDeclaredDead > 0, `${m.model}: long stalls are detected`);
  }
  const slow = result.models.find((m) => m.model === 'slow-receive');
  assert.ok(slow !== undefined && slow.without.accusationsByStalled > 0, 'a node whose receive path stalls accuses the peers it probes');
  assert.ok(slow.with.awarenessMax > 0, 'and Lifeguard raises its local health score');
  const json = lifeguardJson(result);
  assert.equal(json.experiment, 'lifeguard');
  assert.ok('falsePositivesWith' in json && 'falsePositivesWithout' in json && 'ratio' in json);
  assert.match(formatLifeguard(result), /false positives off \/ on/);
});

test('speed at N = 16: figures for the whole run and each phase, formed and from joins', () => {
  const formed = runSpeed({ nodes: 16, virtualSeconds: 20 }, 5, 'formed');
  const joins = runSpeed({ nodes: 16, virtualSeconds: 20 }, 5, 'from joins');
  for (const result of [formed, joins]) {
    assert.equal(result.nodes, 16);
    assert.equal(result.virtualSeconds, 20);
    assert.ok(result.convergedAtSeconds !== null && result.convergedAtSeconds < 20);
    assert.ok(result.datagrams > 0 && result.peakRssMiB > 0 && result.wallSeconds > 0);
  }
  assert.equal(formed.phases.length, 2);
  assert.equal(joins.phases.length, 3);
  assert.ok(joins.streams >= 15, 'each join is a push/pull');
  const json = speedJson([formed, joins]);
  for (const key of ['nodes', 'virtualSeconds', 'wallSeconds', 'peakRssMiB', 'simSecondsPerWallSecond', 'messagesPerSecond']) assert.ok(key in json, key);
  assert.equal(json['start'], 'formed');
  assert.match(formatSpeed([formed, joins]), /sim s \/ wall s/);
});

test('receive stall: timers keep running, so the stalled node times out on acks it has not read', () => {
  const c = new SimCluster({ seed: 6 });
  c.grow(4);
  assert.ok(c.runUntil(() => c.converged(), 10_000));
  const stalls = new ReceiveStalls(c);
  stalls.watch('node-1');
  stalls.stall('node-1');
  const probesBefore = c.node('node-1').stats.probes;
  c.run(3_000);
  const node1 = c.node('node-1');
  assert.ok(node1.stats.probes > probesBefore, 'it keeps probing');
  assert.ok(node1.stats.failedProbes > 0, 'and its probes fail');
  assert.ok(['node-0', 'node-2', 'node-3'].some((n) => c.stateOf('node-1', n) === 'suspect'), 'so it suspects a healthy peer');
  stalls.release('node-1');
  assert.ok(c.runUntil(() => c.converged(), 20_000), 'after the stall everybody agrees again');
});

test('the experiments CLI refuses an unknown name with exit code 2 and lists the names', () => {
  const main = fileURLToPath(new URL('../../sim/experiments/run-experiments.js', import.meta.url));
  const run = spawnSync(process.execPath, [main, 'no-such-experiment'], { encoding: 'utf8' });
  assert.equal(run.status, 2);
  for (const name of ['first-detection', 'crash-to-dead', 'dissemination', 'lifeguard', 'speed']) assert.match(run.stderr, new RegExp(name));
});
