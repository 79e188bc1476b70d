// Catalog benchmark (`npm run bench:catalog`, issue #8). Prints figures, asserts nothing.
//  1. read latency: one agent (in this process) whose catalog holds 5,000 instances, injected as
//     gossip would deliver them; sequential keep-alive GETs of /v1/health/service/web?passing from
//     a client process of its own (bench/catalog-reader.ts, node:http), timed to the last byte,
//     plus the agent's CPU time per read; p50/p90/p99/max over REQUESTS requests, for two shapes: 1,000 nodes × 5
//     services (web has 1,000 instances) and 5,000 web instances (one per node) — the response
//     size is what costs, so both are shown — each twice: reads of an unchanged catalog (the
//     agent answers from its cache), and reads each preceded by a change (one node's check
//     output, as gossip would deliver it), so every read encodes the answer afresh;
//  2. change → watcher: two `shoal agent` processes on 127.0.0.1 (ports 22500–22599); a blocking
//     query on agent B (/v1/health/service/web?index=N) while agent A's TTL check changes state;
//     time from A's HTTP call returning to B's blocking query answering, CHANGES times.
//
//   node dist/bench/catalog.js [--requests N] [--changes N] [--reads-only] [--json]
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent } from '../src/agent/agent.js';
import { HttpApi } from '../src/agent/http-api.js';
import { AgentServices } from '../src/agent/services.js';
import type { Catalog } from '../src/catalog/catalog.js';

const shoal = fileURLToPath(new URL('../src/cli/shoal.js', import.meta.url));
const reader = fileURLToPath(new URL('./catalog-reader.js', import.meta.url));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function fill(catalog: Catalog, nodes: number, servicesPerNode: number, allWeb: boolean): void {
  for (let n = 0; n < nodes; n++) {
    const name = `bench-${n}`;
    catalog.setMember({ name, address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`, health: 'alive', tags: new Map() });
    const services = Array.from({ length: servicesPerNode }, (_, i) => ({
      ID: `${allWeb ? 'web' : ['web', 'api', 'db', 'cache', 'queue'][i]}-${n}-${i}`,
      Service: allWeb ? 'web' : (['web', 'api', 'db', 'cache', 'queue'][i] as string),
      Tags: ['v1', `zone-${n % 3}`],
      Address: '',
      Port: 8000 + i,
      Meta: { version: '1.2.3' },
    }));
    catalog.apply({
      node: name,
      version: 1,
      services,
      checks: services.map((s) => ({ CheckID: `service:${s.ID}`, Name: `Service '${s.ID}' check`, Status: 'passing' as const, Notes: '', Output: 'HTTP GET http://127.0.0.1:8000/health: 200 OK Output: ok', ServiceID: s.ID, ServiceName: s.Service, Type: 'http' })),
    });
  }
}

interface ReadFigures {
  instances: number;
  webInstances: number;
  bytes: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** The agent process's CPU time (user + system) per read, warm-up included. */
  agentCpuMsPerRead: number;
}

/** Another version of one node's entry, its checks' output changed: what a gossiped update does to the catalog. */
function change(catalog: Catalog, nodes: number, i: number): void {
  const node = `bench-${i % nodes}`;
  const s = catalog.stateOf(node);
  if (s === undefined) throw new Error(`no entry for ${node}`);
  catalog.apply({ ...s, version: s.version + 1, checks: s.checks.map((c) => ({ ...c, Output: `HTTP GET http://127.0.0.1:8000/health: 200 OK Output: ok ${i}` })) });
}

async function readLatency(requests: number, nodes: number, perNode: number, allWeb: boolean, changeBetweenReads: boolean): Promise<ReadFigures> {
  const agent = await Agent.start({ nodeName: 'bench-reader', bindIp: '127.0.0.1', bindPort: 0, tags: new Map(), profile: 'lan', keys: [], rejoinAfterLeave: false, protocol: 5, logLevel: 'ERR', logOutput: () => undefined });
  const services = new AgentServices(agent);
  const api = new HttpApi(agent, services);
  await api.listen('127.0.0.1:0');
  // The reader asks this server for a change before each read (untimed), when changes are wanted.
  let changes = 0;
  const changer = http.createServer((_req, res) => {
    change(agent.node.catalog, nodes, changes++);
    res.end('ok');
  });
  await new Promise<void>((resolve) => changer.listen(0, '127.0.0.1', resolve));
  try {
    fill(agent.node.catalog, nodes, perNode, allWeb);
    const url = `http://127.0.0.1:${api.port}/v1/health/service/web?passing`;
    const changeUrl = `http://127.0.0.1:${(changer.address() as { port: number }).port}/`;
    const cpu0 = process.cpuUsage();
    const { stdout } = await promisify(execFile)(process.execPath, [reader, url, String(requests), ...(changeBetweenReads ? ['--change-url', changeUrl] : [])], { encoding: 'utf8', timeout: 600_000, maxBuffer: 1 << 24 });
    const cpu = process.cpuUsage(cpu0);
    const { bytes, timesMs: times } = JSON.parse(stdout) as { bytes: number; timesMs: number[] };
    const webInstances = agent.node.catalog.passingInstances('web').length;
    return {
      instances: nodes * perNode,
      webInstances,
      bytes,
      p50Ms: percentile(times, 50),
      p90Ms: percentile(times, 90),
      p99Ms: percentile(times, 99),
      maxMs: times.at(-1) ?? Number.NaN,
      agentCpuMsPerRead: (cpu.user + cpu.system) / 1000 / (requests + Math.min(50, requests)),
    };
  } finally {
    changer.close();
    services.stop();
    await api.close();
    await agent.shutdown();
  }
}

function startAgent(name: string, i: number, extra: string[]): ChildProcess {
  const base = 22500 + i * 10;
  return spawn(process.execPath, [shoal, 'agent', `-node=${name}`, `-bind=127.0.0.1:${base}`, `-rpc-addr=127.0.0.1:${base + 1}`, `-http-addr=127.0.0.1:${base + 2}`, `-dns-addr=127.0.0.1:${base + 3}`, '-log-level=err', ...extra], { stdio: 'ignore' });
}

async function until(cond: () => Promise<boolean>, limitMs: number, what: string): Promise<void> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    try {
      if (await cond()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out: ${what}`);
}

async function changeToWatcher(changes: number): Promise<{ samplesMs: number[]; p50Ms: number; p99Ms: number; maxMs: number }> {
  const a = startAgent('bench-a', 0, []);
  const b = startAgent('bench-b', 1, ['-retry-join=127.0.0.1:22500', '-retry-interval=1s']);
  const httpA = 'http://127.0.0.1:22502';
  const httpB = 'http://127.0.0.1:22512';
  try {
    await until(async () => ((await (await fetch(`${httpB}/v1/catalog/nodes`)).json()) as unknown[]).length === 2, 30_000, 'two agents');
    const reg = await fetch(`${httpA}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify({ Name: 'web', ID: 'web-a', Port: 80, Check: { TTL: '1h', Status: 'passing' } }) });
    if (!reg.ok) throw new Error(`register: ${reg.status} ${await reg.text()}`);
    await until(async () => ((await (await fetch(`${httpB}/v1/health/service/web`)).json()) as unknown[]).length === 1, 10_000, 'web on B');
    const samples: number[] = [];
    for (let i = 0; i < changes; i++) {
      // Past the publication rate limit (1 s), so every change goes out at once.
      await new Promise((r) => setTimeout(r, 1_200 + Math.random() * 200));
      const head = await fetch(`${httpB}/v1/health/service/web`);
      const index = head.headers.get('x-consul-index');
      await head.arrayBuffer();
      const woke = fetch(`${httpB}/v1/health/service/web?index=${index}&wait=10s`).then(async (r) => {
        await r.arrayBuffer();
        return process.hrtime.bigint();
      });
      await new Promise((r) => setTimeout(r, 20)); // let the blocking query arrive first
      const verb = i % 2 === 0 ? 'fail' : 'pass';
      await fetch(`${httpA}/v1/agent/check/${verb}/service:web-a`, { method: 'PUT' });
      const t0 = process.hrtime.bigint();
      const t1 = await woke;
      samples.push(Math.max(0, Number(t1 - t0) / 1e6));
    }
    const sorted = [...samples].sort((x, y) => x - y);
    return { samplesMs: samples, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: sorted.at(-1) ?? Number.NaN };
  } finally {
    a.kill('SIGKILL');
    b.kill('SIGKILL');
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { requests: { type: 'string', default: '1000' }, changes: { type: 'string', default: '15' }, 'reads-only': { type: 'boolean', default: false }, json: { type: 'boolean', default: false } },
  });
  const requests = Number(values.requests);
  const os = await import('node:os');
  const loadBefore = os.loadavg();
  const five = await readLatency(requests, 1_000, 5, false, false);
  const allWeb = await readLatency(requests, 5_000, 1, true, false);
  // A change before every read: every read encodes the answer afresh (the first read after a change).
  const fiveChanged = await readLatency(Math.min(requests, 300), 1_000, 5, false, true);
  const allWebChanged = await readLatency(Math.min(requests, 150), 5_000, 1, true, true);
  const watch = values['reads-only'] === true ? null : await changeToWatcher(Number(values.changes));
  const result = { readLatency: { mixed: five, allWeb, mixedChanged: fiveChanged, allWebChanged }, changeToWatcher: watch, cpus: os.cpus().length, loadavgBefore: loadBefore, loadavg: os.loadavg() };
  if (values.json === true) {
    console.log(JSON.stringify(result));
    return;
  }
  const f = (x: number): string => x.toFixed(2).padStart(6);
  const row = (label: string, r: ReadFigures, n: number): void =>
    console.log(`  ${label.padEnd(48)} ${String(n).padStart(5)}  ${f(r.p50Ms)}  ${f(r.p90Ms)}  ${f(r.p99Ms)}  ${f(r.maxMs)}  ${f(r.agentCpuMsPerRead)}`);
  console.log(`GET /v1/health/service/web?passing from another process, sequential keep-alive requests (target p99 < 5 ms), ms:`);
  console.log(`  ${'catalog (5,000 instances), reads'.padEnd(48)} ${'reads'.padStart(5)}  ${'p50'.padStart(6)}  ${'p90'.padStart(6)}  ${'p99'.padStart(6)}  ${'max'.padStart(6)}  agent CPU/read`);
  const kib = (r: ReadFigures): string => `${(r.bytes / 1024).toFixed(0)} KiB`;
  row(`1,000 nodes × 5, web ${five.webInstances} (${kib(five)}), unchanged`, five, requests);
  row(`1,000 nodes × 5, a change before each read`, fiveChanged, Math.min(requests, 300));
  row(`5,000 web instances (${kib(allWeb)}), unchanged`, allWeb, requests);
  row(`5,000 web instances, a change before each read`, allWebChanged, Math.min(requests, 150));
  if (watch !== null) console.log(`local change on agent A → blocking query on agent B answers (${watch.samplesMs.length} changes): p50 ${f(watch.p50Ms)} ms  p99 ${f(watch.p99Ms)} ms  max ${f(watch.maxMs)} ms`);
  console.log(`machine: ${result.cpus} CPUs, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${result.loadavg.map((l) => l.toFixed(2)).join(' ')} after`);
}

await main();
