// `npm run testbed -- [--loss 30] [--minutes 2] [--runs 3] [--crashes 3] [--seeds 10] [--udp-only]
//                     [--only loss|partition|sim] [--json FILE]`
//
// The long runs of the test bed (issue #9) and the figures for the closing note, shoal beside
// serf: five shoal hosts and five serf hosts, each set in a bed of its own, run side by side.
//   loss       N% loss on every link for M minutes: false positives per agent-hour; then crashes
//              (kill -9) detected through the loss, each victim restarted and rejoined by mDNS.
//   partition  3 + 2, healed once both sides declared the other failed: detection and heal times.
//   sim        the simulator's prediction for the same partition, loss and timings
//              (test/hosts/sim-predict.ts), printed beside the bed's figures with the difference.
// Needs root (network namespaces); the simulator part runs anywhere.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { TestBed, testBedUnavailable, type AgentKind, type BedAgent } from './testbed.js';
import { crashAndDetect, detectionBoundMs, median, partitionAndHeal, startDiscovering, underLoss, waitWhole, type HostPlan } from './scenarios.js';
import { simLoss, simPartition } from './sim-predict.js';

const { values: opts } = parseArgs({
  options: {
    loss: { type: 'string', default: '30' },
    minutes: { type: 'string', default: '2' },
    runs: { type: 'string', default: '3' },
    crashes: { type: 'string', default: '3' },
    seeds: { type: 'string', default: '10' },
    'udp-only': { type: 'boolean', default: false },
    only: { type: 'string' },
    json: { type: 'string' },
  },
});

const LOSS = Number(opts.loss);
const DURATION_MS = Number(opts.minutes) * 60_000;
const RUNS = Number(opts.runs);
const CRASHES = Number(opts.crashes);
const SEEDS = Number(opts.seeds);
const UDP_ONLY = opts['udp-only'] === true;
for (const [name, v, ok] of [['--loss', LOSS, LOSS >= 0 && LOSS <= 100], ['--minutes', DURATION_MS, DURATION_MS > 0], ['--runs', RUNS, RUNS >= 0], ['--crashes', CRASHES, CRASHES >= 0], ['--seeds', SEEDS, SEEDS >= 1]] as const) {
  if (!Number.isFinite(v) || !ok) {
    process.stderr.write(`testbed: ${name} must be a number in range, got ${String(v)}\n`);
    process.exit(2);
  }
}
const want = (part: string): boolean => opts.only === undefined || opts.only === part;
const N = 5;
const FORM_LIMIT_MS = 30_000;
const REJOIN_LIMIT_MS = 120_000;
/** Serf's default ReconnectInterval (serf/config.go). */
const RECONNECT_INTERVAL_MS = 30_000;

const log = (text: string): void => void process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
const s = (ms: number): string => (Number.isFinite(ms) ? (ms / 1000).toFixed(1) : '—');

function plan(kind: AgentKind, tag: string): HostPlan[] {
  return Array.from({ length: N }, (_, i) => ({ host: `${tag}${i + 1}`, kind }));
}

async function formedBed(kind: AgentKind, tag: string): Promise<{ bed: TestBed; agents: BedAgent[] }> {
  const p = plan(kind, tag);
  const bed = await TestBed.create(p.map((x) => x.host));
  const { agents, lastStartMs } = await startDiscovering(bed, p, `tb-${tag}`);
  const ms = await waitWhole(bed, agents, FORM_LIMIT_MS, lastStartMs);
  if (ms === null) {
    await bed.destroy();
    throw new Error(`${kind}: the ${N} agents did not form a cluster by mDNS within ${FORM_LIMIT_MS / 1000} s`);
  }
  log(`${kind}: ${N} agents formed by mDNS in ${s(ms)} s`);
  return { bed, agents };
}

interface LossFigures {
  readonly kind: AgentKind;
  readonly falsePositives: number;
  readonly flappingPairs: number;
  readonly perAgentHour: number;
  /** Per crash: median and slowest observer, ms. */
  readonly crashes: Array<{ victim: string; medianMs: number; maxMs: number; undetected: number }>;
}

async function lossRun(kind: AgentKind): Promise<LossFigures> {
  const { bed, agents } = await formedBed(kind, kind === 'shoal' ? 'L' : 'S');
  try {
    log(`${kind}: ${LOSS}% loss on every link${UDP_ONLY ? ' (UDP only)' : ''} for ${DURATION_MS / 60_000} min`);
    const r = await underLoss(bed, agents, LOSS, DURATION_MS, UDP_ONLY);
    log(`${kind}: ${r.falsePositives.length} false failures (${r.pairs} pairs) = ${r.perAgentHour.toFixed(1)} per agent-hour`);
    const crashes: LossFigures['crashes'] = [];
    for (let i = 0; i < CRASHES; i++) {
      const live = agents.map((a) => bed.agent(a.name));
      const victim = live[i % N] as BedAgent;
      const c = await crashAndDetect(victim, live, detectionBoundMs(N) * 3);
      const times = c.detections.filter((d) => d.ms !== null).map((d) => d.ms as number);
      crashes.push({ victim: c.victim, medianMs: median(times), maxMs: Math.max(...times), undetected: c.detections.length - times.length });
      log(`${kind}: crash of ${c.victim} detected in ${c.detections.map((d) => s(d.ms ?? Number.NaN)).join(', ')} s`);
      const again = bed.startAgent(victim.host.name, kind, { discover: `tb-${kind === 'shoal' ? 'L' : 'S'}` });
      const rejoin = await waitWhole(bed, agents.map((a) => bed.agent(a.name)), REJOIN_LIMIT_MS, again.startedAtMs);
      log(`${kind}: ${victim.name} restarted, whole again after ${rejoin === null ? 'never (limit)' : `${s(rejoin)} s`}`);
    }
    return { kind, falsePositives: r.falsePositives.length, flappingPairs: r.pairs, perAgentHour: r.perAgentHour, crashes };
  } finally {
    await bed.destroy();
  }
}

interface PartitionFigures {
  readonly kind: AgentKind;
  readonly runs: Array<{ firstMs: number; lastMs: number; healMs: number; missing: number; sameSide: number; healFlaps: number }>;
}

async function partitionRuns(kind: AgentKind): Promise<PartitionFigures> {
  const { bed, agents } = await formedBed(kind, kind === 'shoal' ? 'P' : 'Q');
  const runs: PartitionFigures['runs'] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      // A random phase of Serf's reconnect timer (every 30 s), as each simulated run has: a run
      // that starts right after the previous heal (itself often a reconnect) would be in step with it.
      await new Promise((r) => setTimeout(r, Math.random() * RECONNECT_INTERVAL_MS));
      const r = await partitionAndHeal(bed, agents.slice(0, 3), agents.slice(3));
      const det = r.detections.filter((d) => d.ms !== null).map((d) => d.ms as number);
      const joins = r.rejoins.filter((d) => d.ms !== null).map((d) => d.ms as number);
      const healMs = r.wholeMs ?? Number.NaN;
      runs.push({ firstMs: Math.min(...det), lastMs: Math.max(...det), healMs, missing: r.detections.length - det.length, sameSide: r.sameSideFailures.length, healFlaps: r.healFlaps.length });
      log(`${kind}: partition ${i + 1}: detection first ${s(Math.min(...det))} s, last ${s(Math.max(...det))} s; members all alive ${s(healMs)} s after the heal (last rejoin event ${s(Math.max(...joins))} s); same-side failures: ${r.sameSideFailures.length} while apart, ${r.healFlaps.length} at the heal`);
      await waitWhole(bed, agents, 60_000);
    }
    return { kind, runs };
  } finally {
    await bed.destroy();
  }
}

function pct(bed: number, sim: number): string {
  if (!Number.isFinite(bed) || !Number.isFinite(sim) || sim === 0) return '—';
  const d = ((bed - sim) / sim) * 100;
  return `${d >= 0 ? '+' : ''}${d.toFixed(0)}%${Math.abs(d) <= 25 ? '' : ' (>25%)'}`;
}

function row(cells: readonly string[]): string {
  return cells.map((c, i) => (i === 0 ? c.padEnd(44) : c.padStart(12))).join(' ');
}

async function main(): Promise<void> {
  const unavailable = testBedUnavailable();
  const bedParts = want('loss') || want('partition');
  if (bedParts && unavailable !== null && opts.only !== 'sim') {
    process.stderr.write(`testbed: ${unavailable}\n`);
    process.exit(2);
  }
  const out: Record<string, unknown> = { loss: LOSS, minutes: DURATION_MS / 60_000, udpOnly: UDP_ONLY };
  let lossFigures: LossFigures[] = [];
  let partitionFigures: PartitionFigures[] = [];
  if (want('loss')) lossFigures = await Promise.all([lossRun('shoal'), lossRun('serf')]);
  if (want('partition') && RUNS > 0) partitionFigures = await Promise.all([partitionRuns('shoal'), partitionRuns('serf')]);

  log(`simulator: ${SEEDS} seeds of the partition and of ${DURATION_MS / 60_000} min at ${LOSS}% loss`);
  const simParts = Array.from({ length: SEEDS }, (_, i) => simPartition(1000 + i));
  const simLosses = Array.from({ length: SEEDS }, (_, i) => simLoss(2000 + i, N, LOSS, DURATION_MS));
  const simFp = simLosses.reduce((a, r) => a + r.falsePositives, 0) / simLosses.reduce((a, r) => a + r.agentHours, 0);
  const simCrash = simLosses.flatMap((r) => r.crashDetectMs);
  const simCrashMedians = simLosses.map((r) => median(r.crashDetectMs));
  const simCrashMax = simLosses.map((r) => Math.max(...r.crashDetectMs));

  const lines: string[] = [];
  lines.push('', `Test bed (${N} hosts per cluster, LAN profile, ${LOSS}% loss on every link${UDP_ONLY ? ', UDP only' : ', all packets'}) vs the simulator (${SEEDS} seeds)`, '');
  lines.push(row(['figure', 'shoal bed', 'serf bed', 'simulator', 'shoal vs sim']));
  const partition = (kind: AgentKind): PartitionFigures | undefined => partitionFigures.find((p) => p.kind === kind);
  const pm = (kind: AgentKind, f: (r: PartitionFigures['runs'][number]) => number): number => median(partition(kind)?.runs.map(f) ?? []);
  const simFirst = median(simParts.map((p) => p.firstMs));
  const simLast = median(simParts.map((p) => p.lastMs));
  const simHeal = median(simParts.map((p) => p.healMs));
  if (partitionFigures.length > 0 || opts.only === 'sim') {
    lines.push(row(['3+2 partition: first failure declared, s', s(pm('shoal', (r) => r.firstMs)), s(pm('serf', (r) => r.firstMs)), s(simFirst), pct(pm('shoal', (r) => r.firstMs), simFirst)]));
    lines.push(row(['3+2 partition: both sides declared, s', s(pm('shoal', (r) => r.lastMs)), s(pm('serf', (r) => r.lastMs)), s(simLast), pct(pm('shoal', (r) => r.lastMs), simLast)]));
    lines.push(row(['heal: all alive everywhere, s', s(pm('shoal', (r) => r.healMs)), s(pm('serf', (r) => r.healMs)), s(simHeal), pct(pm('shoal', (r) => r.healMs), simHeal)]));
  }
  const lf = (kind: AgentKind): LossFigures | undefined => lossFigures.find((l) => l.kind === kind);
  const crashMedian = (kind: AgentKind): number => median(lf(kind)?.crashes.map((c) => c.medianMs) ?? []);
  const crashMax = (kind: AgentKind): number => median(lf(kind)?.crashes.map((c) => c.maxMs) ?? []);
  if (lossFigures.length > 0 || opts.only === 'sim') {
    const fp = (kind: AgentKind): string => (lf(kind) === undefined ? '—' : (lf(kind) as LossFigures).perAgentHour.toFixed(1));
    lines.push(row([`${LOSS}% loss: false failures per agent-hour`, fp('shoal'), fp('serf'), simFp.toFixed(1), pct(lf('shoal')?.perAgentHour ?? Number.NaN, simFp)]));
    lines.push(row([`${LOSS}% loss: crash detected, median observer, s`, s(crashMedian('shoal')), s(crashMedian('serf')), s(median(simCrashMedians)), pct(crashMedian('shoal'), median(simCrashMedians))]));
    lines.push(row([`${LOSS}% loss: crash detected, slowest observer, s`, s(crashMax('shoal')), s(crashMax('serf')), s(median(simCrashMax)), pct(crashMax('shoal'), median(simCrashMax))]));
  }
  lines.push('', 'Bed figures are medians over runs (partition) or crashes; simulator figures medians over seeds.');
  lines.push('Simulator loss touches datagrams only; the bed drops TCP segments too unless --udp-only.');
  process.stdout.write(lines.join('\n') + '\n');
  Object.assign(out, {
    bed: { loss: lossFigures, partition: partitionFigures },
    sim: { partition: simParts, lossFalsePerAgentHour: simFp, crashDetectMs: simCrash, crashMedianMs: median(simCrashMedians), crashMaxMs: median(simCrashMax) },
  });
  if (opts.json !== undefined) writeFileSync(opts.json, JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  process.stderr.write(`testbed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
