// Catalog benchmark (`npm run bench:catalog`, issue #8). Prints figures, asserts nothing.
//  1. read latency: one agent (in this process) whose catalog holds 5,000 instances, injected as
//     gossip would deliver them; sequential keep-alive GETs of /v1/health/service/web?passing from
//     this process; p50/p99 over REQUESTS requests, for two shapes: 1,000 nodes × 5 services
//     (web has 1,000 instances) and 5,000 web instances (one per node) — the response size is what
//     costs, so both are shown;
//  2. change → watcher: two `shoal agent` processes on 127.0.0.1 (ports 22500–22599); a blocking
//     query on agent B (/v1/health/service/web?index=N) while agent A's TTL check changes state;
//     time from A's HTTP call returning to B's blocking query answering, CHANGES times.
//
//   node dist/bench/catalog.js [--requests N] [--changes N] [--json]
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Agent } from '../src/agent/agent.js';
import { HttpApi } from '../src/agent/http-api.js';
import { AgentServices } from '../src/agent/services.js';
import type { Catalog } from '../src/catalog/catalog.js';

const shoal = fileURLToPath(new URL('../src/cli/shoal.js', import.meta.url));

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

async function readLatency(requests: number, nodes: number, perNode: number, allWeb: boolean, cacheReads: boolean): Promise<{ instances: number; webInstances: number; bytes: number; p50Ms: number; p99Ms: number; maxMs: number }> {
  const agent = await Agent.start({ nodeName: 'bench-reader', bindIp: '127.0.0.1', bindPort: 0, tags: new Map(), profile: 'lan', keys: [], rejoinAfterLeave: false, protocol: 5, logLevel: 'ERR', logOutput: () => undefined });
  const services = new AgentServices(agent);
  const api = new HttpApi(agent, services, { cacheReads });
  await api.listen('127.0.0.1:0');
  try {
    fill(agent.node.catalog, nodes, perNode, allWeb);
    const url = `http://127.0.0.1:${api.port}/v1/health/service/web?passing`;
    let bytes = 0;
    for (let i = 0; i < 50; i++) bytes = (await (await fetch(url)).arrayBuffer()).byteLength; // warm-up
    const times: number[] = [];
    for (let i = 0; i < requests; i++) {
      const t0 = process.hrtime.bigint();
      const res = await fetch(url);
      await res.arrayBuffer();
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    times.sort((a, b) => a - b);
    const webInstances = agent.node.catalog.passingInstances('web').length;
    return { instances: nodes * perNode, webInstances, bytes, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99), maxMs: times.at(-1) ?? Number.NaN };
  } finally {
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
  const { values } = parseArgs({ options: { requests: { type: 'string', default: '1000' }, changes: { type: 'string', default: '15' }, json: { type: 'boolean', default: false } } });
  const requests = Number(values.requests);
  const five = await readLatency(requests, 1_000, 5, false, true);
  const allWeb = await readLatency(requests, 5_000, 1, true, true);
  // Every read encoded afresh: what the first read after each catalog change costs.
  const fiveFresh = await readLatency(Math.min(requests, 200), 1_000, 5, false, false);
  const allWebFresh = await readLatency(Math.min(requests, 100), 5_000, 1, true, false);
  const watch = await changeToWatcher(Number(values.changes));
  const result = { readLatency: { mixed: five, allWeb, mixedUncached: fiveFresh, allWebUncached: allWebFresh }, changeToWatcher: watch, cpus: (await import('node:os')).cpus().length, loadavg: (await import('node:os')).loadavg() };
  if (values.json === true) {
    console.log(JSON.stringify(result));
    return;
  }
  const f = (x: number): string => x.toFixed(2);
  console.log(`GET /v1/health/service/web?passing, ${requests} sequential keep-alive requests (target p99 < 5 ms):`);
  console.log(`  5,000 instances = 1,000 nodes × 5 services, web has ${five.webInstances} (${(five.bytes / 1024).toFixed(0)} KiB): p50 ${f(five.p50Ms)} ms  p99 ${f(five.p99Ms)} ms  max ${f(five.maxMs)} ms`);
  console.log(`  5,000 instances, all web (${(allWeb.bytes / 1024).toFixed(0)} KiB):              p50 ${f(allWeb.p50Ms)} ms  p99 ${f(allWeb.p99Ms)} ms  max ${f(allWeb.maxMs)} ms`);
  console.log(`  uncached (first read after a change), 1,000 nodes × 5 services: p50 ${f(fiveFresh.p50Ms)} ms  p99 ${f(fiveFresh.p99Ms)} ms`);
  console.log(`  uncached (first read after a change), all web:                   p50 ${f(allWebFresh.p50Ms)} ms  p99 ${f(allWebFresh.p99Ms)} ms`);
  console.log(`local change on agent A → blocking query on agent B answers (${watch.samplesMs.length} changes): p50 ${f(watch.p50Ms)} ms  p99 ${f(watch.p99Ms)} ms  max ${f(watch.maxMs)} ms`);
  console.log(`machine: ${result.cpus} CPUs, load average ${result.loadavg.map((l) => l.toFixed(2)).join(' ')}`);
}

await main();
