// Experiment `first-detection` (issue #3): how long after a crash does the first node suspect
// the crashed one, in protocol periods, beside SWIM's e/(e−1) for random probing and the
// expectation for memberlist's shuffled round-robin probing.
//
// Method: each size forms one LAN cluster, then repeats crash → first suspicion → restart:
// wait a random 0–1 probe interval (so the crash falls at a random phase of every prober's
// ticker), crash a random node that everybody sees alive, wait until some node's view of it
// leaves 'alive', record the time, and restart it at once (same name and address; it rejoins
// through a random node and refutes the suspicion). A restart before anyone declares it dead
// keeps the node lists, and so the round-robin, at N entries.
//
// Each crash waits for a cluster at rest (every health score back to 0, see setup.ts atRest):
// otherwise the previous detector still carries awareness 3 and, when it happens to probe the
// next victim first, concludes that probe only after 4 intervals (at N = 16, seed 1, crashing
// back to back gave a mean of 2.05 instead of 1.98). And one crash at a time: with four in
// flight at N = 256 (tried, to share the gossip cost), a prober now and then picked a crashed
// but not yet suspected node as an indirect helper, missed its nack and stretched its next
// probe; p99 went from 5.4 to 6.4 intervals and the maximum from 6.9 to 13.4.
//
// The instant of the first suspicion is caught without polling: it is always a failed probe,
// which logs, so on every log line we ask whether the logging node now suspects the victim.
import { PROFILES } from '../../src/protocol/config.js';
import { fixed, round, Stopwatch, summarize, table, type Cost, type Experiment, type ExperimentOptions, type ExperimentReport, type Summary } from './report.js';
import { atRest, experimentRng, formCluster, pickAliveEverywhere, restartAndRejoin } from './setup.js';

export interface FirstDetectionParams {
  readonly sizes: readonly number[];
  readonly crashesPerSize: number;
}

export interface ModelFigures {
  readonly mean: number;
  readonly p50: number;
  readonly p99: number;
}

export interface FirstDetectionRow {
  readonly nodes: number;
  /** First detection after each crash, in probe intervals. */
  readonly periods: Summary;
  readonly roundRobinModel: ModelFigures;
  readonly randomProbingModel: ModelFigures;
  readonly virtualSeconds: number;
  readonly cost: Cost;
}

const LAN = PROFILES.lan;
/** SWIM §3.1: expected periods to first detection with uniform random probing, 1/(1 − e^−1). */
export const SWIM_EXPECTED_PERIODS = Math.E / (Math.E - 1);
const DETECTION_LIMIT_MS = 120_000;

export function runFirstDetection(params: FirstDetectionParams, seed: number): FirstDetectionRow[] {
  return params.sizes.map((nodes, i) => measureSize(nodes, params.crashesPerSize, seed + i));
}

interface Crash {
  readonly name: string;
  readonly crashedAtMs: number;
}

function measureSize(nodes: number, crashes: number, seed: number): FirstDetectionRow {
  const watch = new Stopwatch();
  const cluster = formCluster({ seed, nodes });
  const rng = experimentRng(seed, 0xfd);
  const scheduler = cluster.world.scheduler;
  /** The crashed node nobody has suspected yet (an object, so the callbacks below share it). */
  const current: { victim: Crash | null } = { victim: null };
  const periods: number[] = [];

  const crashOne = (): void => {
    const name = atRest(cluster) ? pickAliveEverywhere(cluster, rng) : null;
    if (name === null) {
      // A detector's health score is still raised, or a refutation is still on its way: try again shortly.
      scheduler.after(rng.next() * LAN.probeIntervalMs, crashOne);
      return;
    }
    current.victim = { name, crashedAtMs: cluster.now };
    cluster.crash(name);
  };
  const detected = (crashed: Crash): void => {
    current.victim = null;
    periods.push((cluster.now - crashed.crashedAtMs) / LAN.probeIntervalMs);
    // Not inside the host's flush that logged: the restart and the next crash are events of their own.
    scheduler.at(cluster.now, () => {
      restartAndRejoin(cluster, rng, crashed.name);
      if (periods.length < crashes) scheduler.after(rng.next() * LAN.probeIntervalMs, crashOne);
    });
  };
  cluster.world.onLog = (host) => {
    const victim = current.victim;
    if (victim === null) return;
    const state = cluster.stateOf(host.name, victim.name);
    if (state === 'suspect' || state === 'dead') detected(victim);
  };

  const startMs = cluster.now;
  scheduler.after(rng.next() * LAN.probeIntervalMs, crashOne);
  let lastProgressMs = cluster.now;
  let lastCount = 0;
  while (periods.length < crashes) {
    cluster.runUntil(() => periods.length > lastCount, DETECTION_LIMIT_MS);
    if (periods.length > lastCount) {
      lastCount = periods.length;
      lastProgressMs = cluster.now;
    } else if (cluster.now - lastProgressMs >= DETECTION_LIMIT_MS) {
      const waiting = current.victim === null ? 'no node could be crashed (none was seen alive everywhere)' : `nobody suspected crashed ${current.victim.name}`;
      throw new Error(`${nodes} nodes, seed ${seed}: no detection for ${DETECTION_LIMIT_MS / 1000} virtual seconds: ${waiting}`);
    }
  }
  const virtualSeconds = (cluster.now - startMs) / 1000;
  delete cluster.world.onLog;
  return {
    nodes,
    periods: summarize(periods),
    roundRobinModel: firstDetectionModel(nodes, roundRobinResidual(nodes - 1)),
    randomProbingModel: firstDetectionModel(nodes, randomResidual(nodes - 1)),
    virtualSeconds,
    cost: watch.cost(),
  };
}

// ------------------------------------------------------------------------------------------
// The model. Time is in probe intervals; the crash falls at a uniformly random instant.
//
// Each of the m = N − 1 surviving peers probes one member per interval at its own phase, so
// the time until peer i next probes the victim is T_i = U_i + K_i: U_i ~ Uniform(0, 1) until its
// next tick, then K_i further probes of other members before the victim. The peers' phases and
// shuffles are independent, so the first probe of the victim comes at T = min_i T_i with
//
//   P(T > t) = P(T_i > t)^m,   E[T] = ∫₀^∞ P(T_i > t)^m dt,
//
// and for t in [j, j+1):  P(T_i > t) = P(K ≥ j) − P(K = j)·(t − j).
//
// Round-robin (memberlist, reference §6.1): a peer walks its list of the m others and
// reshuffles at the end, so between two probes of the victim it makes G = m − p + p′ probes,
// where p, p′ are the victim's positions in two consecutive shuffles (uniform on 0..m−1):
// P(G = g) = (m − |g − m|)/m² for g in 1..2m−1, E[G] = m. Seen from a random tick, the number
// of probes before the victim's turn is the renewal residual P(K = k) = P(G > k)/E[G].
// Random probing (SWIM): P(K = k) = (1/m)(1 − 1/m)^k.
//
// A probe sent at T ends at T + 1: the probe timeout (0.5) plus the indirect probes' wait until
// the end of the interval (memberlist suspects when the ack handler times out at one probe
// interval). So first detection = T + 1, and its mean is E[T] + 1 ≈ 1 + (N − 1)/N.
//
// SWIM's e/(e − 1) counts synchronous rounds instead: a crash at the start of a round is detected
// at the end of the first round in which some member picks it (probability 1 − (1 − 1/m)^m ≈
// 1 − 1/e per round). In continuous time with random phases the wait for the first probe is
// about one interval, not 0.58, so a measured ≈ 2 is what both probing schemes predict here.
// ------------------------------------------------------------------------------------------

/** P(K = k) for k = 0, 1, … until the tail is negligible. */
type Residual = (k: number) => number;

export function roundRobinResidual(m: number): Residual {
  // P(G > k) = 1 − Σ_{g ≤ k} (m − |g − m|)/m²
  const tail: number[] = [];
  let cdf = 0;
  for (let g = 0; g <= 2 * m; g++) {
    cdf += g >= 1 && g <= 2 * m - 1 ? (m - Math.abs(g - m)) / (m * m) : 0;
    tail.push(Math.max(0, 1 - cdf));
  }
  return (k) => (k < tail.length ? (tail[k] as number) / m : 0);
}

export function randomResidual(m: number): Residual {
  return (k) => (1 / m) * (1 - 1 / m) ** k;
}

/** Mean, median and 99th percentile of first detection (T + 1) under the model, for N nodes. */
export function firstDetectionModel(nodes: number, residual: Residual): ModelFigures {
  const m = nodes - 1;
  // Pieces [j, j+1): a_j = P(K ≥ j), p_j = P(K = j); P(T > t) = (a_j − p_j (t − j))^m there.
  const pieces: Array<{ a: number; p: number }> = [];
  let a = 1;
  for (let j = 0; a > 1e-12 && j < 1_000_000; j++) {
    const p = Math.min(residual(j), a);
    pieces.push({ a, p });
    a -= p;
  }
  let meanT = 0;
  for (const { a: aj, p } of pieces) {
    // ∫₀¹ (a − p s)^m ds
    meanT += p > 0 ? (aj ** (m + 1) - Math.max(0, aj - p) ** (m + 1)) / ((m + 1) * p) : aj ** m;
  }
  const quantile = (q: number): number => {
    // Smallest t with P(T > t) ≤ 1 − q.
    const target = 1 - q;
    for (let j = 0; j < pieces.length; j++) {
      const { a: aj, p } = pieces[j] as { a: number; p: number };
      const end = Math.max(0, aj - p) ** m;
      if (end > target) continue;
      // Solve (a − p s)^m = target for s in [0, 1].
      const s = p > 0 ? Math.min(1, Math.max(0, (aj - target ** (1 / m)) / p)) : 0;
      return j + s;
    }
    return pieces.length;
  };
  return { mean: meanT + 1, p50: quantile(0.5) + 1, p99: quantile(0.99) + 1 };
}

// ------------------------------------------------------------------------------------------

export function formatFirstDetection(rows: readonly FirstDetectionRow[]): string {
  const header = ['N', 'crashes', 'mean', 'p50', 'p99', 'max', 'RR model mean', 'p50', 'p99', 'random model mean', 'SWIM e/(e−1)', 'virtual s', 'wall s', 'CPU s'];
  const body = rows.map((r) => [
    String(r.nodes), String(r.periods.count), fixed(r.periods.mean, 3), fixed(r.periods.p50, 3), fixed(r.periods.p99, 3), fixed(r.periods.max, 3),
    fixed(r.roundRobinModel.mean, 3), fixed(r.roundRobinModel.p50, 3), fixed(r.roundRobinModel.p99, 3), fixed(r.randomProbingModel.mean, 3),
    fixed(SWIM_EXPECTED_PERIODS, 3), fixed(r.virtualSeconds, 0), fixed(r.cost.wallSeconds, 1), fixed(r.cost.cpuSeconds, 1),
  ]);
  const wall = rows.reduce((s, r) => s + r.cost.wallSeconds, 0);
  const cpu = rows.reduce((s, r) => s + r.cost.cpuSeconds, 0);
  return [
    'first-detection: crash → first node suspects it, in probe intervals (LAN: 1 s)',
    table(header, body),
    '',
    'Method: one cluster per N, one crash at a time, each into a cluster at rest (all Lifeguard health scores 0): a',
    'random node (seen alive by all) crashes at a random phase, the time to the first suspicion anywhere is recorded,',
    'and the node restarts at once (same address, rejoins, refutes).',
    'RR model: memberlist\'s shuffled round-robin, N−1 peers with independent phases and shuffles; first probe of the',
    'victim at T = min over peers, detection at T + 1 interval (probe timeout + indirect wait). "random model": the',
    'same with uniform random probing. SWIM\'s e/(e−1) counts synchronous rounds (first probe right at the crash),',
    'so in continuous time both schemes predict ≈ 1 + (N−1)/N. Percentiles are nearest-rank.',
    `Total: wall ${wall.toFixed(1)} s, CPU ${cpu.toFixed(1)} s.`,
  ].join('\n');
}

export function firstDetectionJson(rows: readonly FirstDetectionRow[]): ExperimentReport['json'] {
  return {
    experiment: 'first-detection',
    unit: 'probe intervals',
    swimExpected: round(SWIM_EXPECTED_PERIODS, 4),
    results: rows.map((r) => ({
      nodes: r.nodes, crashes: r.periods.count,
      mean: round(r.periods.mean, 4), p50: round(r.periods.p50, 4), p99: round(r.periods.p99, 4), max: round(r.periods.max, 4),
      roundRobinModel: { mean: round(r.roundRobinModel.mean, 4), p50: round(r.roundRobinModel.p50, 4), p99: round(r.roundRobinModel.p99, 4) },
      randomProbingModel: { mean: round(r.randomProbingModel.mean, 4), p50: round(r.randomProbingModel.p50, 4), p99: round(r.randomProbingModel.p99, 4) },
      virtualSeconds: round(r.virtualSeconds, 1), wallSeconds: round(r.cost.wallSeconds, 2), cpuSeconds: round(r.cost.cpuSeconds, 2),
    })),
  };
}

export const firstDetection: Experiment = {
  name: 'first-detection',
  summary: 'crash → first suspicion, in probe periods, at N = 16, 64, 256 (≥ 1,000 crashes each)',
  run(options: ExperimentOptions): ExperimentReport {
    const params: FirstDetectionParams = options.quick ? { sizes: [16, 64], crashesPerSize: 200 } : { sizes: [16, 64, 256], crashesPerSize: 1_000 };
    const rows = runFirstDetection(params, options.seed);
    return { json: firstDetectionJson(rows), text: formatFirstDetection(rows) };
  },
};
