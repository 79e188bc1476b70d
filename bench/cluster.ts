// Cluster benchmark (`npm run bench:cluster`, issue #5): shoal and the real serf 0.9.4 side by side
// on 127.0.0.1, one OS process per agent, default LAN profile, driven through their RPC ports (the
// same Serf IPC client for both). For each cluster size and implementation it measures
//   - join convergence: all agents started alone, then every agent but the first joins the first;
//     time until every agent lists N alive members;
//   - idle cost, after a settling pause: CPU seconds per agent per minute and RSS (/proc), UDP
//     payload bytes sent per agent per second (nftables counter, bench/cluster-udp.ts);
//   - user event: one agent fires an uncoalesced event; time until every agent's handler script ran
//     (each script appends `date +%s%N` to a file); median over EVENTS events;
//   - crash: kill -9 of one agent; time until the first and until every remaining agent lists it failed;
//   - leave: graceful leave of another agent; time until every remaining agent lists it left.
// Times are measured by polling `members` on every agent every POLL_MS, so they carry up to
// POLL_MS of lag (the same for both). It prints figures beside issue #5's targets and never asserts.
//
//   node dist/bench/cluster.js [--sizes 5,20,50] [--impl shoal|serf|both] [--idle-seconds N] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  connectRpc, handlerTimes, kill, killAll, sampleProc, sleep, startAgent, type AgentProc, type Impl,
} from './cluster-procs.js';
import { UdpCounters } from './cluster-udp.js';

const POLL_MS = 50;
const SETTLE_MS = 5000;
const MIB = 1024 * 1024;
/** User events fired one after another; one sample is noisy (gossip tick phase, handler start-up). */
const EVENTS = 9;
/** Pause between events, plus a random part of one LAN gossip interval (200 ms) so the events do not
 * all land at the same phase of the agents' gossip ticks. */
const EVENT_GAP_MS = 500;
const GOSSIP_INTERVAL_MS = 200;

interface Figures {
  joinConvergenceS: number | null;
  /** Median over agents of the time until each listed N alive. */
  joinMedianS: number | null;
  eventAllS: number | null;
  crashFirstS: number | null;
  crashAllS: number | null;
  leaveAllS: number | null;
  cpuSecPerAgentPerMin: number;
  rssMiBMean: number;
  rssMiBMax: number;
  udpBytesPerAgentPerSec: number | null;
  udpPacketsPerAgentPerSec: number | null;
}

type MemberView = ReadonlyMap<string, string>;

async function members(agent: AgentProc): Promise<MemberView> {
  if (agent.client === null) throw new Error(`${agent.name} has no RPC connection`);
  const body = await agent.client.call('members');
  return new Map((body?.Members ?? []).map((m) => [m.Name, m.Status]));
}

/**
 * Polls every agent's member list until `done` holds for it or `timeoutMs` passes; returns, per
 * agent, the seconds from `t0` (performance.now()) to the first poll where it held, or null.
 */
async function untilEach(agents: AgentProc[], t0: number, timeoutMs: number, done: (view: MemberView) => boolean): Promise<(number | null)[]> {
  return Promise.all(agents.map(async (agent) => {
    while (performance.now() - t0 < timeoutMs) {
      try {
        if (done(await members(agent))) return (performance.now() - t0) / 1000;
      } catch {
        // A busy agent may drop a poll; the deadline bounds the retries.
      }
      await sleep(POLL_MS);
    }
    return null;
  }));
}

function maxOrNull(times: (number | null)[]): number | null {
  if (times.some((t) => t === null)) return null;
  return Math.max(...(times as number[]));
}

function minOrNull(times: (number | null)[]): number | null {
  const seen = times.filter((t): t is number => t !== null);
  return seen.length === 0 ? null : Math.min(...seen);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Fires the `k`th (from 0) uncoalesced user event at the first agent; returns the seconds until
 * every agent's handler had appended its timestamp for it, or null after 20 s.
 */
async function userEventToAll(agents: AgentProc[], k: number): Promise<number | null> {
  const t0 = performance.now();
  const firedAt = performance.timeOrigin + t0;
  await agents[0]!.client!.call('event', { Name: `bench${k}`, Payload: new TextEncoder().encode('payload'), Coalesce: false });
  while (performance.now() - t0 < 20_000) {
    const ran = agents.map((agent) => handlerTimes(agent)[k]);
    if (ran.every((t) => t !== undefined)) {
      await sleep(EVENT_GAP_MS + Math.random() * GOSSIP_INTERVAL_MS);
      return (Math.max(...(ran as number[])) - firedAt) / 1000;
    }
    await sleep(20);
  }
  return null;
}

function log(message: string): void {
  console.error(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function runCluster(impl: Impl, n: number, idleSeconds: number, udp: UdpCounters | null): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), `bench-${impl}-${n}-`));
  const agents: AgentProc[] = [];
  try {
    log(`${impl} N=${n}: starting agents (${dir})`);
    for (let i = 0; i < n; i++) agents.push(startAgent(impl, i, dir));
    const connectDeadline = performance.now() + 30_000 + n * 1000;
    await Promise.all(agents.map((agent) => connectRpc(agent, connectDeadline)));
    const seed = agents[0]!;

    log(`${impl} N=${n}: joining`);
    let t0 = performance.now();
    const joins = Promise.allSettled(agents.slice(1).map((agent) => agent.client!.call('join', { Existing: [seed.gossipAddr], Replay: false })));
    const joinTimes = await untilEach(agents, t0, 60_000, (view) => [...view.values()].filter((s) => s === 'alive').length === n);
    for (const outcome of await joins) if (outcome.status === 'rejected') log(`${impl} N=${n}: a join failed: ${String(outcome.reason)}`);

    log(`${impl} N=${n}: settling ${SETTLE_MS / 1000} s, then idle for ${idleSeconds} s`);
    await sleep(SETTLE_MS);
    const pids = agents.map((agent) => agent.child.pid!);
    const cpuBefore = pids.map((pid) => sampleProc(pid).cpuSeconds);
    const udpBefore = udp?.read(impl) ?? null;
    const idleStart = performance.now();
    await sleep(idleSeconds * 1000);
    const idleS = (performance.now() - idleStart) / 1000;
    const udpAfter = udp?.read(impl) ?? null;
    const after = pids.map((pid) => sampleProc(pid));
    const cpuPerMin = after.map((s, i) => ((s.cpuSeconds - cpuBefore[i]!) / idleS) * 60);
    const rss = after.map((s) => s.rssBytes / MIB);

    log(`${impl} N=${n}: ${EVENTS} user events`);
    const eventAll: (number | null)[] = [];
    for (let k = 0; k < EVENTS; k++) eventAll.push(await userEventToAll(agents, k));
    const eventsDone = eventAll.filter((t): t is number => t !== null);

    const victim = agents[n - 1]!;
    const leaver = agents[n - 2]!;
    const observers = agents.slice(0, n - 2);
    log(`${impl} N=${n}: kill -9 ${victim.name}`);
    kill(victim);
    t0 = performance.now();
    const crashTimes = await untilEach(observers.concat(leaver), t0, 90_000, (view) => view.get(victim.name) === 'failed');

    log(`${impl} N=${n}: ${leaver.name} leaves`);
    t0 = performance.now();
    // The agent shuts down after leaving, which may close the connection before it answers.
    const leaving = leaver.client!.call('leave').catch(() => undefined);
    const leaveTimes = await untilEach(observers, t0, 30_000, (view) => view.get(leaver.name) === 'left');
    await leaving;

    const perAgentSecond = (count: number): number => count / n / idleS;
    return {
      joinConvergenceS: maxOrNull(joinTimes),
      joinMedianS: joinTimes.some((t) => t === null) ? null : median(joinTimes as number[]),
      eventAllS: eventsDone.length < EVENTS ? null : median(eventsDone),
      crashFirstS: minOrNull(crashTimes),
      crashAllS: maxOrNull(crashTimes),
      leaveAllS: maxOrNull(leaveTimes),
      cpuSecPerAgentPerMin: cpuPerMin.reduce((a, b) => a + b, 0) / n,
      rssMiBMean: rss.reduce((a, b) => a + b, 0) / n,
      rssMiBMax: Math.max(...rss),
      udpBytesPerAgentPerSec: udpBefore === null || udpAfter === null ? null : perAgentSecond(udpAfter.bytes - udpBefore.bytes),
      udpPacketsPerAgentPerSec: udpBefore === null || udpAfter === null ? null : perAgentSecond(udpAfter.packets - udpBefore.packets),
    };
  } finally {
    for (const agent of agents) kill(agent);
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Row {
  readonly label: string;
  readonly key: keyof Figures;
  readonly digits: number;
  /** Issue #5's target: shoal/serf ratio at most `ratio`, or shoal's figure at most `absolute`. */
  readonly target?: { readonly ratio: number } | { readonly absolute: number; readonly unit: string };
}

const ROWS: readonly Row[] = [
  { label: 'join convergence, all (s)', key: 'joinConvergenceS', digits: 2 },
  { label: 'join convergence, median agent (s)', key: 'joinMedianS', digits: 2 },
  { label: `user event → all handlers, median of ${EVENTS} (s)`, key: 'eventAllS', digits: 3, target: { ratio: 1.0 } },
  { label: 'crash → failed, first (s)', key: 'crashFirstS', digits: 2, target: { ratio: 1.0 } },
  { label: 'crash → failed, all (s)', key: 'crashAllS', digits: 2, target: { ratio: 1.0 } },
  { label: 'leave → left, all (s)', key: 'leaveAllS', digits: 3, target: { ratio: 1.0 } },
  { label: 'idle CPU s / agent / min', key: 'cpuSecPerAgentPerMin', digits: 3, target: { ratio: 2.0 } },
  { label: 'idle RSS / agent, mean (MiB)', key: 'rssMiBMean', digits: 1, target: { absolute: 60, unit: 'MiB' } },
  { label: 'idle RSS / agent, max (MiB)', key: 'rssMiBMax', digits: 1, target: { absolute: 60, unit: 'MiB' } },
  { label: 'idle UDP bytes / agent / s', key: 'udpBytesPerAgentPerSec', digits: 0, target: { ratio: 1.1 } },
  { label: 'idle UDP packets / agent / s', key: 'udpPacketsPerAgentPerSec', digits: 2 },
];

function cell(value: number | null | undefined, digits: number): string {
  if (value === undefined) return '';
  return value === null ? 'timeout' : value.toFixed(digits);
}

function verdict(row: Row, serf: number | null | undefined, shoal: number | null | undefined): [string, string, string] {
  const ratio = typeof serf === 'number' && typeof shoal === 'number' && serf > 0 ? shoal / serf : null;
  const ratioText = ratio === null ? '' : `${ratio.toFixed(2)}×`;
  if (row.target === undefined) return [ratioText, '', ''];
  if ('ratio' in row.target) {
    const met = ratio === null ? '' : ratio <= row.target.ratio ? 'yes' : 'NO';
    return [ratioText, `≤ ${row.target.ratio.toFixed(1)}× serf`, met];
  }
  const met = typeof shoal === 'number' ? (shoal <= row.target.absolute ? 'yes' : 'NO') : '';
  return [ratioText, `≤ ${row.target.absolute} ${row.target.unit}`, met];
}

function printTable(n: number, results: Partial<Record<Impl, Figures>>): void {
  const header = ['N=' + n, 'serf', 'shoal', 'shoal/serf', 'target', 'met'];
  const lines = ROWS.map((row) => {
    const serf = results.serf?.[row.key];
    const shoal = results.shoal?.[row.key];
    return [row.label, cell(serf, row.digits), cell(shoal, row.digits), ...verdict(row, serf, shoal)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cols: string[]): string => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) console.log(format(line));
  console.log('');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '5,20,50' },
      impl: { type: 'string', default: 'both' },
      'idle-seconds': { type: 'string', default: '30' },
      json: { type: 'boolean', default: false },
    },
  });
  const sizes = values.sizes.split(',').map((s) => Number(s.trim()));
  if (sizes.some((n) => !Number.isInteger(n) || n < 3 || n > 400)) throw new Error(`--sizes: integers from 3 to 400 expected, got ${values.sizes}`);
  if (!['shoal', 'serf', 'both'].includes(values.impl)) throw new Error(`--impl: shoal, serf or both expected, got ${values.impl}`);
  const impls: Impl[] = values.impl === 'both' ? ['serf', 'shoal'] : [values.impl as Impl];
  const idleSeconds = Number(values['idle-seconds']);
  if (!(idleSeconds > 0)) throw new Error(`--idle-seconds: a positive number expected, got ${values['idle-seconds']}`);

  const cleanUp = (): void => {
    killAll();
    UdpCounters.remove();
  };
  process.on('exit', cleanUp);
  process.on('SIGINT', () => process.exit(130));
  process.on('SIGTERM', () => process.exit(143));

  const udp = UdpCounters.create();
  const all: Record<string, Partial<Record<Impl, Figures>>> = {};
  for (const n of sizes) {
    const results: Partial<Record<Impl, Figures>> = {};
    for (const impl of impls) results[impl] = await runCluster(impl, n, idleSeconds, udp);
    all[n] = results;
    if (!values.json) printTable(n, results);
  }
  if (values.json) console.log(JSON.stringify({ idleSeconds, pollMs: POLL_MS, results: all }, null, 2));
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
