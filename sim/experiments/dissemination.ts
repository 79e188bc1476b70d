// Experiment `dissemination` (issue #3): how fast one broadcast reaches 50 %, 99 % and 100 % of
// N = 100 and 1,000 nodes, beside the bound of ⌈log4 N⌉ synchronous gossip rounds (each holder tells 3
// others per 200 ms round, so at best the holders ×4 per round) and Serf's published convergence
// model (99.99 % of 1,000 nodes in 2.2 s at a 200 ms interval and fanout 3).
//
// The broadcast: one node changes its meta and calls updateMeta, as Serf does when tags change
// — an alive message with a new incarnation, queued and gossiped by memberlist's own machinery
// (fanout 3 per gossip interval, and piggybacked on probes). A node has it when its notifyUpdate
// fires with the new meta. Each trial picks a random origin in a quiet cluster (no broadcast
// queued anywhere) and counts the origin as holding it from the start.
import type { NodeView } from '../../src/protocol/node-state.js';
import { PROFILES } from '../../src/protocol/config.js';
import { fixed, round, RssSampler, Stopwatch, summarize, table, type Cost, type Experiment, type ExperimentOptions, type ExperimentReport, type Summary } from './report.js';
import { experimentRng, formCluster, waitQuiet } from './setup.js';

export interface DisseminationParams {
  readonly sizes: readonly number[];
  readonly trials: (nodes: number) => number;
}

export interface DisseminationRow {
  readonly nodes: number;
  /** Seconds from the update until the given share of the N nodes had it, one figure per trial. */
  readonly to50: Summary;
  readonly to99: Summary;
  readonly to100: Summary;
  readonly lowerBoundRounds: number;
  readonly formSeconds: { readonly virtual: number; readonly wall: number };
  readonly peakRssMiB: number;
  readonly cost: Cost;
}

const LAN = PROFILES.lan;
const ROUND_SECONDS = LAN.gossipIntervalMs / 1000;
/** Holders after one round: each tells gossipNodes others. */
const GROWTH = LAN.gossipNodes + 1;
/** Serf's convergence simulator (serf.io, "Gossip protocol" internals): 99.99 % of 1,000 nodes in 2.2 s. */
export const SERF_MODEL = { nodes: 1_000, share: 0.9999, seconds: 2.2, intervalMs: 200, fanout: 3 } as const;
const SPREAD_LIMIT_MS = 120_000;

export function lowerBoundRounds(nodes: number): number {
  // ⌈log4 N⌉, computed in integers to avoid log rounding at exact powers.
  let rounds = 0;
  for (let holders = 1; holders < nodes; holders *= GROWTH) rounds++;
  return rounds;
}

export function runDissemination(params: DisseminationParams, seed: number): DisseminationRow[] {
  return params.sizes.map((nodes, i) => measureSize(nodes, params.trials(nodes), seed + i));
}

function measureSize(nodes: number, trials: number, seed: number): DisseminationRow {
  const watch = new Stopwatch();
  const rss = new RssSampler();
  const meta = new Map<string, Uint8Array>();
  let origin: string | null = null;
  let revision = new Uint8Array(0);
  const heardAt = new Map<string, number>();
  const cluster = formCluster({
    seed,
    nodes,
    onStep: () => rss.sample(),
    delegates: (name) => ({
      nodeMeta: () => meta.get(name) ?? new Uint8Array(0),
      notifyUpdate: (nowMs: number, node: NodeView) => {
        if (node.name === origin && name !== origin && !heardAt.has(name) && sameBytes(node.meta, revision)) heardAt.set(name, nowMs);
      },
    }),
  });
  waitQuiet(cluster, undefined, () => rss.sample());
  const formSeconds = { virtual: cluster.now / 1000, wall: watch.cost().wallSeconds };
  const rng = experimentRng(seed, 0xd1);
  const to50: number[] = [];
  const to99: number[] = [];
  const to100: number[] = [];
  for (let t = 0; t < trials; t++) {
    const host = cluster.hosts[rng.int(cluster.hosts.length)];
    if (host === undefined) throw new Error('empty cluster');
    origin = host.name;
    revision = new TextEncoder().encode(`rev-${t}`);
    meta.set(host.name, revision);
    heardAt.clear();
    const startMs = cluster.now;
    host.engine.updateMeta(startMs);
    host.flush();
    if (!cluster.runUntil(() => heardAt.size >= nodes - 1, SPREAD_LIMIT_MS)) {
      throw new Error(`${nodes} nodes, seed ${seed}: the update from ${host.name} reached ${heardAt.size + 1} of ${nodes} nodes in ${SPREAD_LIMIT_MS / 1000} s`);
    }
    // The origin holds it at 0; the k-th node to hear it brings the holders to k + 1.
    const times = [0, ...[...heardAt.values()].map((at) => (at - startMs) / 1000)].sort((a, b) => a - b);
    const reached = (share: number): number => times[Math.ceil(share * nodes) - 1] as number;
    to50.push(reached(0.5));
    to99.push(reached(0.99));
    to100.push(reached(1));
    origin = null;
    waitQuiet(cluster, undefined, () => rss.sample());
    rss.sample();
  }
  return {
    nodes,
    to50: summarize(to50),
    to99: summarize(to99),
    to100: summarize(to100),
    lowerBoundRounds: lowerBoundRounds(nodes),
    formSeconds,
    peakRssMiB: rss.peakMiB,
    cost: watch.cost(),
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

const rounds = (seconds: number): string => fixed(seconds / ROUND_SECONDS, 1);

export function formatDissemination(rows: readonly DisseminationRow[]): string {
  const header = ['N', 'trials', '50% s', 'rounds', '99% s', 'rounds', '100% s', 'rounds', '100% p99 s', 'lower bound rounds', 's', 'form virtual s', 'form wall s', 'wall s', 'CPU s', 'peak RSS MiB'];
  const body = rows.map((r) => [
    String(r.nodes), String(r.to50.count),
    fixed(r.to50.p50, 2), rounds(r.to50.p50), fixed(r.to99.p50, 2), rounds(r.to99.p50), fixed(r.to100.p50, 2), rounds(r.to100.p50), fixed(r.to100.p99, 2),
    String(r.lowerBoundRounds), fixed(r.lowerBoundRounds * ROUND_SECONDS, 1),
    fixed(r.formSeconds.virtual, 0), fixed(r.formSeconds.wall, 1), fixed(r.cost.wallSeconds, 1), fixed(r.cost.cpuSeconds, 1), fixed(r.peakRssMiB, 0),
  ]);
  return [
    'dissemination: one broadcast (updateMeta → alive with new meta; a node has it when notifyUpdate fires) — medians over trials',
    table(header, body),
    '',
    `Rounds are gossip intervals of ${LAN.gossipIntervalMs} ms. Lower bound: ⌈log${GROWTH} N⌉ rounds (fanout ${LAN.gossipNodes} + the sender: ×${GROWTH} per round).`,
    'That bound holds for synchronous rounds. memberlist\'s gossip tickers run at random phases, so a node that has just',
    'heard a broadcast passes it on after half a round on average, and it also rides on probes and acks: the measured',
    'spread can beat the bound in seconds while taking more than that many forwarding hops.',
    `Serf's published model: ${SERF_MODEL.share * 100}% of ${SERF_MODEL.nodes} nodes in ${SERF_MODEL.seconds} s (${SERF_MODEL.seconds / (SERF_MODEL.intervalMs / 1000)} rounds) at ${SERF_MODEL.intervalMs} ms / fanout ${SERF_MODEL.fanout}.`,
    'Each trial starts in a quiet cluster (no broadcast queued anywhere) from a random origin. "form": growing the',
    'cluster (joins 10 ms apart through node-0) until it converged and its broadcast queues drained.',
  ].join('\n');
}

export function disseminationJson(rows: readonly DisseminationRow[]): ExperimentReport['json'] {
  const figures = (s: Summary) => ({ p50Seconds: round(s.p50), p50Rounds: round(s.p50 / ROUND_SECONDS, 2), meanSeconds: round(s.mean), p99Seconds: round(s.p99), maxSeconds: round(s.max) });
  return {
    experiment: 'dissemination',
    broadcast: 'updateMeta (alive with new meta), received = notifyUpdate',
    roundMs: LAN.gossipIntervalMs,
    serfModel: SERF_MODEL,
    results: rows.map((r) => ({
      nodes: r.nodes, trials: r.to50.count,
      to50: figures(r.to50), to99: figures(r.to99), to100: figures(r.to100),
      lowerBoundRounds: r.lowerBoundRounds, lowerBoundSeconds: round(r.lowerBoundRounds * ROUND_SECONDS, 2),
      formVirtualSeconds: round(r.formSeconds.virtual, 1), formWallSeconds: round(r.formSeconds.wall, 2),
      wallSeconds: round(r.cost.wallSeconds, 2), cpuSeconds: round(r.cost.cpuSeconds, 2), peakRssMiB: round(r.peakRssMiB, 0),
    })),
  };
}

export const dissemination: Experiment = {
  name: 'dissemination',
  summary: 'one broadcast to 50 %, 99 %, 100 % of N = 100 and 1,000 nodes, beside ⌈log4 N⌉ rounds and Serf\'s model',
  run(options: ExperimentOptions): ExperimentReport {
    const params: DisseminationParams = options.quick
      ? { sizes: [100, 300], trials: () => 10 }
      : { sizes: [100, 1_000], trials: (n) => (n <= 100 ? 50 : 20) };
    const rows = runDissemination(params, options.seed);
    return { json: disseminationJson(rows), text: formatDissemination(rows) };
  },
};
