// Experiment `crash-to-dead` (issue #3): from a crash until every other node has declared the
// node dead, at N = 5, 20, 50, 100 and 200 on the LAN profile, beside the medians real Serf
// 0.9.4 agents measured on this machine (every agent logging the member failed).
//
// Method: each size forms one cluster and repeats: wait a random 0–1 probe interval (more, until
// the cluster is at rest: every Lifeguard health score back to 0, see setup.ts), crash a random
// node that everybody sees alive, run until each running node has reported it dead (a
// notifyLeave with state dead — Serf's member-failed), record that time, then restart it (same
// name and address, joining through a random node) and wait until every node has it alive again
// (a notifyJoin from each) before the next crash.
import type { NodeView } from '../../src/protocol/node-state.js';
import { NodeStateType } from '../../src/protocol/node-state.js';
import { PROFILES } from '../../src/protocol/config.js';
import { suspicionBounds } from '../../src/protocol/timing.js';
import { fixed, round, Stopwatch, summarize, table, type Cost, type Experiment, type ExperimentOptions, type ExperimentReport, type Summary } from './report.js';
import { atRest, experimentRng, formCluster, restartAndRejoin, waitForAliveEverywhere } from './setup.js';

/** Real Serf 0.9.4 on this machine: median seconds from the crash until all agents marked it failed. */
export const SERF_MEDIAN_SECONDS: ReadonlyMap<number, number> = new Map([[5, 5.72], [20, 6.56], [50, 8.27], [100, 10.3], [200, 11.2]]);

export interface CrashToDeadParams {
  readonly sizes: readonly number[];
  readonly trials: (nodes: number) => number;
}

export interface CrashToDeadRow {
  readonly nodes: number;
  /** Seconds from the crash until the last running node declared it dead. */
  readonly allDead: Summary;
  /** Seconds from the crash until the first node declared it dead. */
  readonly firstDead: Summary;
  readonly suspicionMinSeconds: number;
  readonly suspicionMaxSeconds: number;
  readonly serfMedianSeconds: number | undefined;
  readonly virtualSeconds: number;
  readonly cost: Cost;
}

const LAN = PROFILES.lan;
const LIMIT_MS = 300_000;

export function runCrashToDead(params: CrashToDeadParams, seed: number): CrashToDeadRow[] {
  return params.sizes.map((nodes, i) => measureSize(nodes, params.trials(nodes), seed + i));
}

function measureSize(nodes: number, trials: number, seed: number): CrashToDeadRow {
  const watch = new Stopwatch();
  let victim: string | null = null;
  const deadAt = new Map<string, number>();
  const rejoinedAt = new Map<string, number>();
  const cluster = formCluster({
    seed,
    nodes,
    delegates: (observer) => ({
      notifyLeave: (nowMs: number, node: NodeView) => {
        if (node.name === victim && observer !== victim && node.state === NodeStateType.dead && !deadAt.has(observer)) deadAt.set(observer, nowMs);
      },
      notifyJoin: (nowMs: number, node: NodeView) => {
        if (node.name === victim && observer !== victim && !rejoinedAt.has(observer)) rejoinedAt.set(observer, nowMs);
      },
    }),
  });
  const rng = experimentRng(seed, 0xcd);
  const startMs = cluster.now;
  const allDead: number[] = [];
  const firstDead: number[] = [];
  for (let i = 0; i < trials; i++) {
    do cluster.run(rng.next() * LAN.probeIntervalMs);
    while (!atRest(cluster));
    const name = waitForAliveEverywhere(cluster, rng);
    deadAt.clear();
    rejoinedAt.clear();
    victim = name;
    const crashedAtMs = cluster.now;
    cluster.crash(name);
    const others = nodes - 1;
    if (!cluster.runUntil(() => deadAt.size >= others, LIMIT_MS)) {
      throw new Error(`${nodes} nodes, seed ${seed}: only ${deadAt.size} of ${others} nodes declared crashed ${name} dead within ${LIMIT_MS / 1000} s`);
    }
    const times = [...deadAt.values()];
    allDead.push((Math.max(...times) - crashedAtMs) / 1000);
    firstDead.push((Math.min(...times) - crashedAtMs) / 1000);
    restartAndRejoin(cluster, rng, name);
    if (!cluster.runUntil(() => rejoinedAt.size >= others, LIMIT_MS)) {
      throw new Error(`${nodes} nodes, seed ${seed}: restarted ${name} is alive at only ${rejoinedAt.size} of ${others} nodes after ${LIMIT_MS / 1000} s`);
    }
    victim = null;
  }
  const bounds = suspicionBounds(LAN.suspicionMult, LAN.suspicionMaxTimeoutMult, nodes, LAN.probeIntervalMs);
  return {
    nodes,
    allDead: summarize(allDead),
    firstDead: summarize(firstDead),
    suspicionMinSeconds: bounds.minMs / 1000,
    suspicionMaxSeconds: bounds.maxMs / 1000,
    serfMedianSeconds: SERF_MEDIAN_SECONDS.get(nodes),
    virtualSeconds: (cluster.now - startMs) / 1000,
    cost: watch.cost(),
  };
}

export function formatCrashToDead(rows: readonly CrashToDeadRow[]): string {
  const header = ['N', 'trials', 'all dead p50', 'p99', 'max', 'Serf p50', 'ours/Serf', 'first dead p50', 'suspicion min', 'max', 'virtual s', 'wall s', 'CPU s'];
  const body = rows.map((r) => [
    String(r.nodes), String(r.allDead.count), fixed(r.allDead.p50, 2), fixed(r.allDead.p99, 2), fixed(r.allDead.max, 2),
    r.serfMedianSeconds === undefined ? '–' : fixed(r.serfMedianSeconds, 2),
    r.serfMedianSeconds === undefined ? '–' : fixed(r.allDead.p50 / r.serfMedianSeconds, 2),
    fixed(r.firstDead.p50, 2), fixed(r.suspicionMinSeconds, 2), fixed(r.suspicionMaxSeconds, 1),
    fixed(r.virtualSeconds, 0), fixed(r.cost.wallSeconds, 1), fixed(r.cost.cpuSeconds, 1),
  ]);
  const wall = rows.reduce((s, r) => s + r.cost.wallSeconds, 0);
  const cpu = rows.reduce((s, r) => s + r.cost.cpuSeconds, 0);
  return [
    'crash-to-dead: crash → dead at every node, seconds (LAN profile)',
    table(header, body),
    '',
    'Method: one cluster per N; once it is at rest (every Lifeguard health score 0), a random node seen alive by all',
    'crashes at a random phase; "all dead" is when the last running node reports it dead (Serf: member-failed), "first',
    'dead" the first. It then restarts and rejoins before the next crash. Serf p50: real Serf 0.9.4 agents on this',
    'machine, all agents marking the member failed (medians). Suspicion min/max: memberlist\'s timeout bounds at N',
    '(k = 2 confirmations bring it to min). Percentiles are nearest-rank.',
    `Total: wall ${wall.toFixed(1)} s, CPU ${cpu.toFixed(1)} s.`,
  ].join('\n');
}

export function crashToDeadJson(rows: readonly CrashToDeadRow[]): ExperimentReport['json'] {
  return {
    experiment: 'crash-to-dead',
    unit: 'seconds',
    results: rows.map((r) => ({
      nodes: r.nodes, trials: r.allDead.count,
      p50: round(r.allDead.p50), p99: round(r.allDead.p99), max: round(r.allDead.max), mean: round(r.allDead.mean),
      serfMedian: r.serfMedianSeconds ?? null,
      ratioToSerfMedian: r.serfMedianSeconds === undefined ? null : round(r.allDead.p50 / r.serfMedianSeconds),
      firstDeadP50: round(r.firstDead.p50),
      suspicionMinSeconds: r.suspicionMinSeconds, suspicionMaxSeconds: r.suspicionMaxSeconds,
      virtualSeconds: round(r.virtualSeconds, 1), wallSeconds: round(r.cost.wallSeconds, 2), cpuSeconds: round(r.cost.cpuSeconds, 2),
    })),
  };
}

export const crashToDead: Experiment = {
  name: 'crash-to-dead',
  summary: 'crash → dead at every node (p50/p99) at N = 5, 20, 50, 100, 200, beside real Serf 0.9.4',
  run(options: ExperimentOptions): ExperimentReport {
    const params: CrashToDeadParams = options.quick
      ? { sizes: [5, 20, 50], trials: () => 30 }
      : { sizes: [5, 20, 50, 100, 200], trials: (n) => (n <= 50 ? 200 : n <= 100 ? 100 : 60) };
    const rows = runCrashToDead(params, options.seed);
    return { json: crashToDeadJson(rows), text: formatCrashToDead(rows) };
  },
};
