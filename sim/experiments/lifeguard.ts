// Experiment `lifeguard` (issue #3): false positives under stalls, with Lifeguard on and off,
// after the Lifeguard paper's evaluation (Dadgar, Phillips, Currey 2018, §V).
//
// A few random nodes stall again and again (each: run 2–20 s, stall 2–20 s, …); the others stay
// healthy. A false positive is a healthy node (never stalled) declared dead — a notifyLeave with
// state dead about it — at any observer, stalled observers included. The same seeds run with
// Lifeguard on (LAN defaults) and off: awarenessMaxMultiplier 1 (no local health scaling of the
// probe interval) and suspicionMaxTimeoutMult 1 (the suspicion timeout starts at its minimum, so
// confirmations have nothing to shorten). memberlist has no switch; these settings are how one
// turns Lifeguard off. Nacks still flow, but without awareness they change nothing.
//
// How a node stalls matters, so three models run side by side:
//  - pause: SimCluster.pause/resume, a SIGSTOP. Nothing runs — not even timers — and on resume
//    the host replays what waited in arrival order, so an ack that arrived before a probe's
//    timeout was due is handled before that timeout.
//  - pause-timers-first: the same stall, but on resume the overdue timers fire before the
//    socket buffer is read (Go's runtime checks timers before the network poller), and a stream
//    reply read after its deadline is a timeout.
//  - slow-receive: the paper's "message processing delays": the receive path stalls while the
//    clock runs, so the node's probes time out on acks it has not read (sim/receive-stall.ts).
// Only a stalled node that keeps timing out probes accuses healthy peers; which models produce
// such accusers is part of what this experiment reports.
import type { ConfigInput } from '../../src/protocol/config.js';
import type { SimCluster } from '../cluster.js';
import { ReceiveStalls } from '../receive-stall.js';
import { fixed, mean, round, Stopwatch, table, type Cost, type Experiment, type ExperimentOptions, type ExperimentReport } from './report.js';
import { experimentRng, formCluster } from './setup.js';

export const STALL_MODELS = ['pause', 'pause-timers-first', 'slow-receive'] as const;
export type StallModel = (typeof STALL_MODELS)[number];

export interface LifeguardParams {
  readonly nodes: number;
  readonly stalledNodes: number;
  readonly durationMs: number;
  readonly seeds: readonly number[];
  readonly models: readonly StallModel[];
  /** Each stall and each healthy spell between two stalls lasts a uniform time in [min, max]. */
  readonly stallMs: readonly [number, number];
  readonly runMs: readonly [number, number];
}

/** What one run (a model, a seed, Lifeguard on or off) produced. */
export interface RunFigures {
  /** Healthy nodes declared dead, at any observer. */
  readonly falsePositives: number;
  /** … of those, declared by a healthy observer. */
  readonly falsePositivesAtHealthy: number;
  /** Failed probes of a healthy node (each starts or confirms a suspicion of it), by who probed. */
  readonly accusationsByStalled: number;
  readonly accusationsByHealthy: number;
  /** Healthy nodes refuting a suspicion of themselves. */
  readonly refutationsByHealthy: number;
  /** Stalled nodes declared dead (the detections Lifeguard may slow down). */
  readonly stalledDeclaredDead: number;
  readonly stallEpisodes: number;
  /** Stalled nodes' local health score (0..7), sampled every second while they stall. */
  readonly awarenessMean: number;
  readonly awarenessMax: number;
}

export interface ModelResult {
  readonly model: StallModel;
  readonly with: RunFigures;
  readonly without: RunFigures;
}

export interface LifeguardResult {
  readonly params: LifeguardParams;
  readonly models: readonly ModelResult[];
  readonly cost: Cost;
}

const LIFEGUARD_OFF: Partial<ConfigInput> = { awarenessMaxMultiplier: 1, suspicionMaxTimeoutMult: 1 };
/** memberlist's log line for a failed probe (state.go probeNode: "Suspect %s has failed, no acks received"). */
const FAILED_PROBE = /suspect (\S+) has failed, no acks received/;
/** After the last stall ends: time for refutations to settle before counting. */
const SETTLE_MS = 30_000;
const SAMPLE_MS = 1_000;

export function runLifeguard(params: LifeguardParams): LifeguardResult {
  const watch = new Stopwatch();
  const models = params.models.map((model): ModelResult => {
    const runs = (lifeguard: boolean): RunFigures[] => params.seeds.map((seed) => runOnce(params, model, seed, lifeguard));
    return { model, with: total(runs(true)), without: total(runs(false)) };
  });
  return { params, models, cost: watch.cost() };
}

function runOnce(params: LifeguardParams, model: StallModel, seed: number, lifeguard: boolean): RunFigures {
  const cluster = formCluster({ seed, nodes: params.nodes, ...(lifeguard ? {} : { config: LIFEGUARD_OFF }) });
  // The stall plan comes from its own generator, so Lifeguard on and off get the same plan.
  const rng = experimentRng(seed, 0x1f);
  const names = cluster.hosts.map((h) => h.name);
  const stalled = new Set<string>();
  while (stalled.size < Math.min(params.stalledNodes, names.length - 1)) stalled.add(names[rng.int(names.length)] as string);
  const stalls = new ReceiveStalls(cluster);
  if (model !== 'pause') for (const name of stalled) stalls.watch(name);

  const startMs = cluster.now;
  const endMs = startMs + params.durationMs;
  const uniform = ([lo, hi]: readonly [number, number]): number => lo + rng.next() * (hi - lo);
  const stalledNow = new Set<string>();
  let episodes = 0;
  const begin = (name: string): void => {
    episodes++;
    stalledNow.add(name);
    if (model !== 'pause') stalls.stall(name);
    if (model !== 'slow-receive') cluster.pause(name);
  };
  const end = (name: string): void => {
    stalledNow.delete(name);
    if (model !== 'slow-receive') cluster.resume(name);
    if (model !== 'pause') stalls.release(name);
  };
  const scheduler = cluster.world.scheduler;
  for (const name of stalled) {
    const plan = (stallAtMs: number): void => {
      if (stallAtMs >= endMs) return;
      const resumeAtMs = Math.min(endMs, stallAtMs + uniform(params.stallMs));
      scheduler.at(stallAtMs, () => begin(name));
      scheduler.at(resumeAtMs, () => {
        end(name);
        plan(resumeAtMs + uniform(params.runMs));
      });
    };
    // The first stalls are spread over a whole healthy spell.
    plan(startMs + rng.next() * params.runMs[1]);
  }

  let accusationsByStalled = 0;
  let accusationsByHealthy = 0;
  cluster.world.onLog = (host, _level, message) => {
    const match = FAILED_PROBE.exec(message);
    if (match === null || stalled.has(match[1] as string)) return;
    if (stalled.has(host.name)) accusationsByStalled++;
    else accusationsByHealthy++;
  };
  const awareness: number[] = [];
  while (cluster.now < endMs) {
    cluster.run(Math.min(SAMPLE_MS, endMs - cluster.now));
    for (const name of stalledNow) awareness.push(cluster.node(name).healthScore());
  }
  for (const name of [...stalledNow]) end(name);
  cluster.run(SETTLE_MS);
  delete cluster.world.onLog;
  return count(cluster, startMs, stalled, { accusationsByStalled, accusationsByHealthy, episodes, awareness });
}

function count(
  cluster: SimCluster,
  startMs: number,
  stalled: ReadonlySet<string>,
  seen: { accusationsByStalled: number; accusationsByHealthy: number; episodes: number; awareness: number[] },
): RunFigures {
  const deaths = cluster.events.filter((e) => e.atMs >= startMs && e.kind === 'leave' && e.state === 'dead');
  const falsePositives = deaths.filter((e) => !stalled.has(e.node));
  return {
    falsePositives: falsePositives.length,
    falsePositivesAtHealthy: falsePositives.filter((e) => !stalled.has(e.observer)).length,
    accusationsByStalled: seen.accusationsByStalled,
    accusationsByHealthy: seen.accusationsByHealthy,
    refutationsByHealthy: cluster.hosts.filter((h) => !stalled.has(h.name)).reduce((sum, h) => sum + h.engine.stats.refutations, 0),
    stalledDeclaredDead: deaths.length - falsePositives.length,
    stallEpisodes: seen.episodes,
    awarenessMean: mean(seen.awareness),
    awarenessMax: seen.awareness.length === 0 ? Number.NaN : Math.max(...seen.awareness),
  };
}

function total(runs: readonly RunFigures[]): RunFigures {
  const sum = (f: (r: RunFigures) => number): number => runs.reduce((s, r) => s + f(r), 0);
  const samples = runs.filter((r) => Number.isFinite(r.awarenessMean));
  return {
    falsePositives: sum((r) => r.falsePositives),
    falsePositivesAtHealthy: sum((r) => r.falsePositivesAtHealthy),
    accusationsByStalled: sum((r) => r.accusationsByStalled),
    accusationsByHealthy: sum((r) => r.accusationsByHealthy),
    refutationsByHealthy: sum((r) => r.refutationsByHealthy),
    stalledDeclaredDead: sum((r) => r.stalledDeclaredDead),
    stallEpisodes: sum((r) => r.stallEpisodes),
    awarenessMean: mean(samples.map((r) => r.awarenessMean)),
    awarenessMax: samples.length === 0 ? Number.NaN : Math.max(...samples.map((r) => r.awarenessMax)),
  };
}

/** without / with; infinite when Lifeguard had none (and NaN when neither had any). */
export function reduction(m: ModelResult): number {
  if (m.with.falsePositives === 0) return m.without.falsePositives === 0 ? Number.NaN : Infinity;
  return m.without.falsePositives / m.with.falsePositives;
}

export function formatLifeguard(result: LifeguardResult): string {
  const p = result.params;
  const header = ['stall model', 'Lifeguard', 'false positives', 'at healthy observers', 'accusations of healthy: by stalled', 'by healthy', 'refutations by healthy', 'stalled declared dead', 'awareness mean', 'max'];
  const body: string[][] = [];
  for (const m of result.models) {
    for (const [label, f] of [['on', m.with], ['off', m.without]] as const) {
      body.push([
        m.model, label, String(f.falsePositives), String(f.falsePositivesAtHealthy), String(f.accusationsByStalled), String(f.accusationsByHealthy),
        String(f.refutationsByHealthy), String(f.stalledDeclaredDead), fixed(f.awarenessMean, 2), Number.isFinite(f.awarenessMax) ? String(f.awarenessMax) : '–',
      ]);
    }
  }
  const ratios = table(['stall model', 'false positives off / on', 'issue: ≥ 20×', 'paper: > 50×'], result.models.map((m) => {
    const r = reduction(m);
    return [m.model, Number.isNaN(r) ? '– (none either way)' : r === Infinity ? `∞ (${m.without.falsePositives} / 0)` : `${fixed(r, 1)}×`, Number.isNaN(r) ? 'n/a' : r >= 20 ? 'yes' : 'no', ''];
  }));
  const episodes = result.models[0]?.with.stallEpisodes ?? 0;
  return [
    `lifeguard: ${p.nodes} nodes, ${p.stalledNodes} of them stalling (stalls ${p.stallMs[0] / 1000}–${p.stallMs[1] / 1000} s, ${p.runMs[0] / 1000}–${p.runMs[1] / 1000} s apart), ${p.durationMs / 60_000} virtual min × ${p.seeds.length} seed(s) [${p.seeds.join(', ')}], ${episodes} stalls per model`,
    table(header, body),
    '',
    ratios,
    '',
    'False positive: a never-stalled node declared dead, at any observer. Accusation: a failed probe of a healthy node',
    '(memberlist\'s "suspect X has failed, no acks received"). Awareness: stalled nodes\' local health score, sampled each',
    'second while they stall. Lifeguard off = awarenessMaxMultiplier 1 + suspicionMaxTimeoutMult 1 (same seeds and stall plan).',
    `Models: pause = SimCluster.pause (SIGSTOP; on resume inputs replay in arrival order); pause-timers-first = the same,`,
    'but overdue timers fire before queued packets are read; slow-receive = the receive path stalls while timers run',
    '(the paper\'s message processing delays). A model without accusations by stalled nodes cannot produce the false',
    `positives Lifeguard prevents. Wall ${result.cost.wallSeconds.toFixed(1)} s, CPU ${result.cost.cpuSeconds.toFixed(1)} s.`,
  ].join('\n');
}

export function lifeguardJson(result: LifeguardResult): ExperimentReport['json'] {
  const figures = (f: RunFigures) => ({ ...f, awarenessMean: round(f.awarenessMean, 3), awarenessMax: Number.isFinite(f.awarenessMax) ? f.awarenessMax : null });
  const models = result.models.map((m) => ({
    model: m.model,
    falsePositivesWith: m.with.falsePositives,
    falsePositivesWithout: m.without.falsePositives,
    ratio: round(reduction(m), 2),
    with: figures(m.with),
    without: figures(m.without),
  }));
  // The paper's stall (Lifeguard §V: slow message processing while timers run) is the headline;
  // a frozen process (pause) accuses nobody, so it shows no false positives either way.
  const primary = models.find((m) => m.model === 'slow-receive') ?? models[0];
  const p = result.params;
  return {
    experiment: 'lifeguard',
    stallModel: primary?.model ?? null,
    falsePositivesWith: primary?.falsePositivesWith ?? null,
    falsePositivesWithout: primary?.falsePositivesWithout ?? null,
    ratio: primary?.ratio ?? null,
    nodes: p.nodes, stalledNodes: p.stalledNodes, virtualSecondsPerRun: p.durationMs / 1000, seeds: p.seeds,
    stallSeconds: p.stallMs.map((ms) => ms / 1000), runSeconds: p.runMs.map((ms) => ms / 1000),
    models,
    wallSeconds: round(result.cost.wallSeconds, 2), cpuSeconds: round(result.cost.cpuSeconds, 2),
  };
}

export const lifeguard: Experiment = {
  name: 'lifeguard',
  summary: 'false positives with stalling nodes, Lifeguard on vs off (three stall models)',
  run(options: ExperimentOptions): ExperimentReport {
    const base = { stallMs: [2_000, 20_000], runMs: [2_000, 20_000], models: STALL_MODELS } as const;
    const params: LifeguardParams = options.quick
      ? { ...base, nodes: 50, stalledNodes: 5, durationMs: 5 * 60_000, seeds: [options.seed] }
      : { ...base, nodes: 100, stalledNodes: 10, durationMs: 10 * 60_000, seeds: [options.seed, options.seed + 1] };
    const result = runLifeguard(params);
    return { json: lifeguardJson(result), text: formatLifeguard(result) };
  },
};
