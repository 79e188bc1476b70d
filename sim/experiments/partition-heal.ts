// Experiment `partition-heal` (issue #4): how long a cluster takes to become whole again after a
// long partition. N Serf agents (LAN profile) split in two halves for 10 virtual minutes, far past
// the point where each half has declared the other failed and memberlist has dropped the dead
// (GossipToTheDeadTime); nothing but Serf's reconnect loop (serf.go reconnect: every
// ReconnectInterval, 30 s, each agent tries a random failed member with probability
// failed / alive) can bring them back. Heal time: from the links' return until every agent lists
// every other alive.
//
// The heal lands at a random phase of the reconnect timers: the partition starts after a random
// wait of up to one reconnect interval. Two ways of starting the agents: together (10 ms apart,
// every reconnect timer in phase, the simulator's usual cluster) and spread (each agent starts at a
// random time within one reconnect interval, as independent processes do).
import { SeededRng } from '../../src/protocol/rng.js';
import { SerfCluster } from '../serf-cluster.js';
import { fixed, percentileSorted, round, Stopwatch, table, type Cost, type Experiment, type ExperimentOptions, type ExperimentReport } from './report.js';

/** Serf's default ReconnectInterval (serf/config.go). */
const RECONNECT_INTERVAL_MS = 30_000;
const CONVERGE_LIMIT_MS = 120_000;
const HEAL_LIMIT_MS = 10 * RECONNECT_INTERVAL_MS;

export interface PartitionHealParams {
  readonly nodes: number;
  readonly partitionMs: number;
  readonly seeds: readonly number[];
  /** Agents start at random times within this window (0: together, 10 ms apart). */
  readonly startSpreadMs: number;
}

export interface PartitionHealResult {
  readonly params: PartitionHealParams;
  /** Seconds from the heal until every agent lists every other alive, one per seed, in seed order. */
  readonly healSeconds: readonly number[];
  readonly p50: number;
  readonly p90: number;
  readonly max: number;
  readonly mean: number;
  readonly cost: Cost;
}

/** Every running agent's memberlist counts everyone alive, then the full Serf view agrees. */
function whole(c: SerfCluster, n: number): boolean {
  const running = c.running();
  return running.length === n && running.every((h) => h.engine.memberlist.numMembers() === n) && c.converged();
}

/** One run: form, wait a random phase, split in halves for `partitionMs`, heal; seconds to whole. */
export function healTimeOnce(nodes: number, partitionMs: number, seed: number, startSpreadMs: number): number {
  const rng = new SeededRng(seed, 0x4ea1);
  const c = new SerfCluster({ seed });
  const first = c.addNode();
  const starts = Array.from({ length: nodes - 1 }, () => rng.next() * startSpreadMs).sort((a, b) => a - b);
  for (const at of starts) {
    c.run(Math.max(10, at - c.now));
    const host = c.addNode();
    c.join(host.name, [first.name]);
  }
  if (!c.runUntil(() => whole(c, nodes), CONVERGE_LIMIT_MS)) throw new Error(`seed ${seed}: ${nodes} agents did not converge`);
  c.run(rng.next() * RECONNECT_INTERVAL_MS);
  const names = c.hosts.map((h) => h.name);
  c.partition(names.slice(0, nodes / 2), names.slice(nodes / 2));
  c.run(partitionMs);
  const left = names.slice(0, nodes / 2);
  if (!left.every((o) => names.slice(nodes / 2).every((s) => c.statusOf(o, s) === 'failed'))) {
    throw new Error(`seed ${seed}: the halves did not declare each other failed during the partition`);
  }
  c.heal();
  const healedAt = c.now;
  if (!c.runUntil(() => whole(c, nodes), HEAL_LIMIT_MS)) throw new Error(`seed ${seed}: not whole ${HEAL_LIMIT_MS / 1000} s after the heal`);
  return (c.now - healedAt) / 1000;
}

export function runPartitionHeal(params: PartitionHealParams): PartitionHealResult {
  if (params.nodes < 2 || params.nodes % 2 !== 0) throw new RangeError(`partition-heal splits the cluster in halves: nodes must be even, got ${params.nodes}`);
  const watch = new Stopwatch();
  const healSeconds = params.seeds.map((seed) => healTimeOnce(params.nodes, params.partitionMs, seed, params.startSpreadMs));
  const sorted = [...healSeconds].sort((a, b) => a - b);
  return {
    params,
    healSeconds,
    p50: percentileSorted(sorted, 50),
    p90: percentileSorted(sorted, 90),
    max: sorted[sorted.length - 1] ?? Number.NaN,
    mean: sorted.reduce((s, v) => s + v, 0) / sorted.length,
    cost: watch.cost(),
  };
}

export function formatPartitionHeal(results: readonly PartitionHealResult[]): string {
  const header = ['agents start', 'N', 'split', 'seeds', 'p50 s', 'p90 s', 'max s', 'mean s', 'wall s'];
  const rows = results.map((r) => [
    r.params.startSpreadMs === 0 ? 'together' : `within ${fixed(r.params.startSpreadMs / 1000, 0)} s`,
    String(r.params.nodes), `${fixed(r.params.partitionMs / 60_000, 0)} min`, String(r.healSeconds.length),
    fixed(r.p50, 1), fixed(r.p90, 1), fixed(r.max, 1), fixed(r.mean, 1), fixed(r.cost.wallSeconds, 1),
  ]);
  return [
    'partition-heal: links return → every agent lists every other alive, seconds (LAN profile)',
    table(header, rows),
    '',
    `Method: N agents split in two halves; the heal comes at a random phase of the reconnect timers (Serf ReconnectInterval ${RECONNECT_INTERVAL_MS / 1000} s).`,
    'Only Serf\'s reconnect loop rejoins the halves: memberlist has forgotten the dead. "together": the agents started 10 ms apart, so',
    'their reconnect timers fire in step and the heal waits for the next common tick; "within": each agent started at a random time.',
    'Percentiles are nearest-rank.',
  ].join('\n');
}

export function partitionHealJson(results: readonly PartitionHealResult[]): ExperimentReport['json'] {
  return {
    experiment: 'partition-heal',
    unit: 'seconds',
    results: results.map((r) => ({
      nodes: r.params.nodes, partitionSeconds: r.params.partitionMs / 1000, startSpreadSeconds: r.params.startSpreadMs / 1000,
      seeds: r.params.seeds, healSeconds: r.healSeconds.map((s) => round(s)),
      p50: round(r.p50), p90: round(r.p90), max: round(r.max), mean: round(r.mean), wallSeconds: round(r.cost.wallSeconds, 2),
    })),
  };
}

export const partitionHeal: Experiment = {
  name: 'partition-heal',
  summary: '20 agents split 10/10 for 10 min: time until whole again after the heal (p50/p90/max)',
  run(options: ExperimentOptions): ExperimentReport {
    const count = options.quick ? 5 : 30;
    const seeds = Array.from({ length: count }, (_, i) => options.seed + i);
    const results = [0, RECONNECT_INTERVAL_MS].map((startSpreadMs) => runPartitionHeal({ nodes: 20, partitionMs: 600_000, seeds, startSpreadMs }));
    return { json: partitionHealJson(results), text: formatPartitionHeal(results) };
  },
};
