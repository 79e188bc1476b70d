// `npm run bench:scale -- [--mode procs|swarm|both] [--sizes 50,100,200] [--swarm-sizes 100,200,400,800]
// [--observe S] [--impls shoal,serf]`: how many agents one machine holds before false failures appear.
//   procs  one OS process per agent, shoal beside the real serf (one implementation at a time, the
//          same sizes): start N agents joined into one cluster, wait until it has formed, then watch
//          it idle for S seconds. Nobody is killed, so every member-failed event is a false failure.
//          Stepping stops for an implementation at its first size with false failures or that never
//          forms ("collapsed"), or when free memory would not hold the next size.
//   swarm  `shoal swarm -n N --duration S` (all agents in one process) at each swarm size.
// Ports: shoal 27000–27499 (RPC +500), serf 28000–28499 (RPC +500), swarm 29000–29999.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { freemem, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RpcClient } from '../src/cli/rpc-client.js';
import { sampleProc } from './cluster-procs.js';
import { isRunning, killAllAgents, members, sleep, startAgent, waitRpc, type Impl, type LocalAgent } from './hardening/agents.js';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'both' }, sizes: { type: 'string', default: '50,100,200' }, 'swarm-sizes': { type: 'string', default: '100,200,400,800' },
    observe: { type: 'string', default: '60' }, impls: { type: 'string', default: 'shoal,serf' },
  },
});
const observeS = Number(values.observe);
const PORTS: Record<Impl, number> = { shoal: 27_000, serf: 28_000 };
const OBSERVERS = 8;
process.on('exit', killAllAgents);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

interface StepResult {
  impl: string;
  size: number;
  formedS: number | null;
  falseFailureEvents: number;
  falselyFailed: number;
  cpuPctTotal: number;
  rssMiBPerAgent: number;
  load1: number;
  note: string;
}

async function procStep(impl: Impl, size: number, dir: string): Promise<StepResult> {
  const agents: LocalAgent[] = [];
  const t0 = Date.now();
  for (let i = 0; i < size; i++) {
    // Join one of the first ten (already up) at random, as an operator's seed list would.
    // -retry-join, not -join: under a start-up storm a first join may time out, and -join would
    // make the agent exit (as serf's does) — a start-up artefact, not what is being measured.
    const seed = i === 0 ? [] : [`-retry-join=127.0.0.1:${PORTS[impl] + Math.floor(Math.random() * Math.min(i, 10))}`, '-retry-interval=5s'];
    agents.push(startAgent({ impl, name: `${impl}-${i}`, port: PORTS[impl] + i, rpcPort: PORTS[impl] + 500 + i, dir, profile: 'lan', extraArgs: ['-log-level=warn', ...seed] }));
    // Start in steps of ten, each step once the last agent of the one before answers: a machine
    // starting hundreds of processes at once measures its start-up, not the protocol.
    if (i < 10 || i % 10 === 9) await waitRpc(agents[i] as LocalAgent, 120_000);
    else await sleep(30);
  }
  const observers = agents.filter((_, i) => i % Math.max(1, Math.floor(size / OBSERVERS)) === 0).slice(0, OBSERVERS);
  for (const o of observers) await waitRpc(o, 120_000);
  let formedS: number | null = null;
  const formDeadline = Date.now() + Math.max(120_000, size * 1_000);
  while (Date.now() < formDeadline) {
    let ok = true;
    for (const o of observers) {
      const alive = (await members(o).catch(() => [])).filter((m) => m.Status === 'alive').length;
      if (alive !== agents.filter(isRunning).length) ok = false;
    }
    if (ok) {
      formedS = Math.round((Date.now() - t0) / 1000);
      break;
    }
    await sleep(2_000);
  }
  const failed: { observer: string; subject: string }[] = [];
  const clients: RpcClient[] = [];
  for (const o of observers) {
    try {
      const c = await RpcClient.connect(`127.0.0.1:${o.spec.rpcPort}`, { timeoutMs: 10_000 });
      await c.stream('stream', { Type: 'member-failed' }, (r) => {
        if (r.kind === 'memberEvent') for (const m of r.value.Members ?? []) failed.push({ observer: o.spec.name, subject: m.Name });
      });
      clients.push(c);
    } catch {
      // counted below as an unanswering observer
    }
  }
  const cpu0 = agents.map((a) => (isRunning(a) ? safeCpu(a.pid) : 0));
  const w0 = Date.now();
  await sleep(observeS * 1000);
  const cpu1 = agents.map((a) => (isRunning(a) ? safeCpu(a.pid) : 0));
  const wallS = (Date.now() - w0) / 1000;
  const cpuPct = Math.round((cpu1.reduce((s, x, i) => s + Math.max(0, x - (cpu0[i] ?? 0)), 0) / wallS) * 100);
  const rss = agents.filter(isRunning).map((a) => safeRss(a.pid));
  for (const c of clients) c.close();
  const exited = agents.filter((a) => !isRunning(a)).length;
  killAllAgents();
  await sleep(2_000);
  return {
    impl, size, formedS, falseFailureEvents: failed.length, falselyFailed: new Set(failed.map((f) => f.subject)).size, cpuPctTotal: cpuPct,
    rssMiBPerAgent: Math.round(rss.reduce((a, b) => a + b, 0) / Math.max(1, rss.length) / 2 ** 20),
    load1: Number((loadavg()[0] ?? 0).toFixed(1)),
    note: [formedS === null ? 'never formed' : '', exited > 0 ? `${exited} exited` : '', clients.length < observers.length ? `${observers.length - clients.length} observers unreachable` : ''].filter((s) => s !== '').join(', '),
  };
}

function safeCpu(pid: number): number {
  try {
    return sampleProc(pid).cpuSeconds;
  } catch {
    return 0;
  }
}

function safeRss(pid: number): number {
  try {
    return sampleProc(pid).rssBytes;
  } catch {
    return 0;
  }
}

function print(r: StepResult): void {
  console.log(
    `${r.impl.padEnd(5)} ${String(r.size).padStart(4)} agents: formed ${r.formedS === null ? 'never' : `in ${r.formedS} s`}, ` +
      `${r.falseFailureEvents} false member-failed events (${r.falselyFailed} agents) in ${observeS} s idle, CPU ${r.cpuPctTotal}% of a core in all, ` +
      `RSS ${r.rssMiBPerAgent} MiB/agent, load ${r.load1}${r.note === '' ? '' : ` — ${r.note}`}`,
  );
}

const results: StepResult[] = [];
const mode = values.mode;
if (mode === 'procs' || mode === 'both') {
  for (const impl of values.impls.split(',') as Impl[]) {
    for (const size of values.sizes.split(',').map(Number)) {
      const needMiB = size * (impl === 'shoal' ? 62 : 30) + 1024;
      if (freemem() / 2 ** 20 < needMiB) {
        console.log(`${impl.padEnd(5)} ${String(size).padStart(4)} agents: skipped, ${Math.round(freemem() / 2 ** 20)} MiB free < ${needMiB} MiB needed`);
        break;
      }
      const dir = mkdtempSync(join(tmpdir(), `shoal-scale-${impl}-`));
      const r = await procStep(impl, size, dir);
      rmSync(dir, { recursive: true, force: true });
      results.push(r);
      print(r);
      if (r.formedS === null || r.falseFailureEvents > 0) {
        console.log(`${impl}: collapsed at ${size} agents; stepping stops`);
        break;
      }
    }
  }
}
if (mode === 'swarm' || mode === 'both') {
  const shoal = join(import.meta.dirname, '..', 'src', 'cli', 'shoal.js');
  for (const n of values['swarm-sizes'].split(',').map(Number)) {
    const out = execFileSync(process.execPath, [shoal, 'swarm', '-n', String(n), '--base-port', '29000', '--duration', String(observeS + Math.ceil(n / 10)), '--json'], {
      encoding: 'utf8', timeout: (observeS + n) * 1000 + 120_000,
    });
    const s = JSON.parse(out.trim().split('\n').pop() as string) as Record<string, unknown>;
    console.log(`swarm ${String(n).padStart(4)} agents in one process: ${JSON.stringify(s)}`);
    if (s['formedMs'] === null || (s['falseFailureEvents'] as number) > 0) {
      console.log(`swarm: limit reached at ${n} agents`);
      break;
    }
  }
}
