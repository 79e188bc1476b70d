// `npm run bench:faults -- [--minutes M] [--agents N] [--phases stall,cpu,restart] [--restarts R] [--seed S]`:
// Lifeguard under faults on real processes, shoal beside the real serf 0.9.4, both clusters at
// once on the same machine so they meet the same load:
//   stall    one agent of each cluster at a time is SIGSTOPped for 2–20 s (the same index in both);
//   cpu      `stress-ng --cpu <cores>` runs for the whole phase, no agent stalled;
//   restart  one shoal agent is restarted R times in a row (kill -9 and graceful leave by turns).
// Every agent streams its member-failed events over RPC; a failure declared about an agent that
// was not stalled in the 60 s before is a false positive. Prints false positives per healthy
// agent-hour for each implementation. Ports: shoal 26100–26199, serf 26200–26299.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RpcClient } from '../src/cli/rpc-client.js';
import { SeededRng } from '../src/protocol/rng.js';
import { isRunning, kill, killAllAgents, members, sleep, startAgent, waitExit, waitRpc, type Impl, type LocalAgent } from './hardening/agents.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' }, agents: { type: 'string', default: '10' }, phases: { type: 'string', default: 'stall,cpu' },
    restarts: { type: 'string', default: '50' }, seed: { type: 'string', default: '1' }, 'cpu-minutes': { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const cpuMinutes = Number(values['cpu-minutes'] ?? values.minutes);
const n = Number(values.agents);
const phases = values.phases.split(',');
const rng = new SeededRng(Number(values.seed));
const PORTS: Record<Impl, number> = { shoal: 26_100, serf: 26_200 };
const IMPLS: Impl[] = ['shoal', 'serf'];
const STALL_GRACE_MS = 60_000;

const stressKids = new Set<ChildProcess>();
const cleanup = (): void => {
  for (const k of stressKids) k.kill('SIGKILL');
  killAllAgents();
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

interface FailedEvent {
  readonly atMs: number;
  readonly observer: string;
  readonly subject: string;
}

interface Cluster {
  readonly impl: Impl;
  readonly agents: LocalAgent[];
  readonly clients: RpcClient[];
  readonly failed: FailedEvent[];
  /** Stall windows per agent index: [start, end]. */
  readonly stalls: [number, number][][];
}

async function startCluster(impl: Impl, dir: string): Promise<Cluster> {
  const c: Cluster = { impl, agents: [], clients: [], failed: [], stalls: Array.from({ length: n }, () => []) };
  for (let i = 0; i < n; i++) {
    const a = startAgent({
      impl, name: `${impl}-${i}`, port: PORTS[impl] + i, rpcPort: PORTS[impl] + 50 + i, dir, profile: 'lan',
      ...(i > 0 ? { join: [`127.0.0.1:${PORTS[impl]}`] } : {}),
    });
    await waitRpc(a, 30_000);
    c.agents.push(a);
  }
  const until = Date.now() + 60_000;
  for (;;) {
    let ok = true;
    for (const a of c.agents) if ((await members(a)).filter((m) => m.Status === 'alive').length !== n) ok = false;
    if (ok) break;
    if (Date.now() > until) throw new Error(`${impl}: the cluster did not form in 60 s`);
    await sleep(500);
  }
  for (const a of c.agents) {
    const client = await RpcClient.connect(`127.0.0.1:${a.spec.rpcPort}`, { timeoutMs: 10_000 });
    await client.stream('stream', { Type: 'member-failed' }, (record) => {
      if (record.kind !== 'memberEvent') return;
      for (const m of record.value.Members ?? []) c.failed.push({ atMs: Date.now(), observer: a.spec.name, subject: m.Name });
    });
    c.clients.push(client);
  }
  return c;
}

function falsePositives(c: Cluster, fromMs: number, toMs: number): { events: number; incidents: number; detail: string[] } {
  const fps = c.failed.filter((e) => {
    if (e.atMs < fromMs || e.atMs > toMs) return false;
    const idx = Number(e.subject.split('-').pop());
    return !(c.stalls[idx] ?? []).some(([s, end]) => e.atMs >= s && e.atMs <= end + STALL_GRACE_MS);
  });
  // One accusation reaches every observer: count distinct (subject, 30 s) incidents too.
  const incidents = new Set(fps.map((e) => `${e.subject}@${Math.floor(e.atMs / 30_000)}`));
  return { events: fps.length, incidents: incidents.size, detail: fps.slice(0, 10).map((e) => `${e.observer} declared ${e.subject} failed at +${Math.round((e.atMs - fromMs) / 1000)} s`) };
}

async function stallPhase(clusters: Cluster[]): Promise<void> {
  const end = Date.now() + minutes * 60_000;
  let stalls = 0;
  while (Date.now() < end) {
    const idx = rng.int(n);
    const ms = 2_000 + rng.int(18_001);
    const start = Date.now();
    for (const c of clusters) c.agents[idx]?.child.kill('SIGSTOP');
    await sleep(Math.min(ms, Math.max(0, end - Date.now())));
    for (const c of clusters) {
      c.agents[idx]?.child.kill('SIGCONT');
      c.stalls[idx]?.push([start, Date.now()]);
    }
    stalls++;
    await sleep(3_000 + rng.int(5_000));
  }
  console.log(`stall: ${stalls} stalls of 2–20 s`);
}

async function cpuPhase(): Promise<void> {
  const cores = availableParallelism();
  const kid = spawn('stress-ng', ['--cpu', String(cores), '--timeout', `${Math.round(cpuMinutes * 60)}s`, '--quiet'], { stdio: 'ignore' });
  stressKids.add(kid);
  const samples: number[] = [];
  const end = Date.now() + cpuMinutes * 60_000;
  while (Date.now() < end && kid.exitCode === null) {
    await sleep(10_000);
    samples.push(loadavg()[0] ?? 0);
  }
  kid.kill('SIGKILL');
  stressKids.delete(kid);
  console.log(`cpu: stress-ng --cpu ${cores}; 1-min load average during the phase: ${samples.map((x) => x.toFixed(1)).join(' ')}`);
}

async function restartPhase(dir: string): Promise<void> {
  const rounds = Number(values.restarts);
  const base = 26_140;
  const peers: LocalAgent[] = [];
  for (let i = 0; i < 2; i++) {
    const p = startAgent({ impl: 'shoal', name: `rp-${i}`, port: base + i, rpcPort: base + 50 + i, dir, profile: 'local', ...(i > 0 ? { join: [`127.0.0.1:${base}`] } : {}) });
    await waitRpc(p);
    peers.push(p);
  }
  const vspec = { impl: 'shoal' as const, name: 'rp-victim', port: base + 5, rpcPort: base + 55, dir, profile: 'local' as const, snapshot: true, join: [`127.0.0.1:${base}`] };
  let victim = startAgent(vspec);
  await waitRpc(victim);
  const times: number[] = [];
  let failures = 0;
  for (let r = 0; r < rounds; r++) {
    if (r % 2 === 1) {
      victim.child.kill('SIGINT');
      await waitExit(victim, 10_000);
    } else {
      kill(victim);
      await waitExit(victim);
    }
    const t0 = Date.now();
    victim = startAgent(vspec);
    await waitRpc(victim);
    const until = Date.now() + 30_000;
    let ok = false;
    while (Date.now() < until && !ok) {
      ok = true;
      for (const p of [...peers, victim]) {
        const alive = (await members(p).catch(() => [])).filter((m) => m.Status === 'alive').length;
        if (alive !== 3) ok = false;
      }
      if (!ok) await sleep(100);
    }
    if (!ok) failures++;
    times.push(Date.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log(`restart: ${rounds} restarts (kill -9 and leave by turns): ${rounds - failures} rejoined (all three see three alive), median ${times[times.length >> 1]} ms, max ${times[times.length - 1]} ms from process start to rejoined`);
  for (const a of [...peers, victim]) kill(a);
}

const dir = mkdtempSync(join(tmpdir(), 'shoal-faults-bench-'));
try {
  if (phases.includes('stall') || phases.includes('cpu')) {
    console.log(`faults: ${n} shoal and ${n} serf agents (LAN profile), load average before: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
    const clusters = await Promise.all(IMPLS.map((impl) => startCluster(impl, dir)));
    await sleep(5_000);
    for (const phase of ['stall', 'cpu'].filter((p) => phases.includes(p))) {
      const from = Date.now();
      if (phase === 'stall') await stallPhase(clusters);
      else await cpuPhase();
      await sleep(STALL_GRACE_MS / 2); // late declarations still count
      const to = Date.now();
      const hours = (to - from) / 3_600_000;
      for (const c of clusters) {
        const fp = falsePositives(c, from, to);
        const healthyAgentHours = n * hours; // every agent is healthy outside its own stalls (upper bound)
        console.log(`${phase} ${c.impl.padEnd(5)}: ${fp.incidents} false-failure incidents (${fp.events} observer events) in ${healthyAgentHours.toFixed(2)} agent-hours → ${(fp.incidents / healthyAgentHours).toFixed(2)} per agent-hour; true failures declared about stalled agents: ${c.failed.filter((e) => e.atMs >= from && e.atMs <= to).length - fp.events} observer events`);
        for (const d of fp.detail) console.log(`    ${d}`);
        const down = c.agents.filter((a) => !isRunning(a)).length;
        if (down > 0) console.log(`    ${down} ${c.impl} agent(s) exited during the phase`);
      }
    }
    for (const c of clusters) for (const cl of c.clients) cl.close();
  }
  if (phases.includes('restart')) await restartPhase(dir);
} finally {
  cleanup();
  rmSync(dir, { recursive: true, force: true });
}
