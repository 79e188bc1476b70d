// Service discovery on real `shoal agent` processes on 127.0.0.1 (ports 22100–22199): the
// unmodified `consul` client registers on agent A and reads through B and C, a blocking watch
// fires on a change, dig lists the passing instances over DNS, a TTL check expiring drops its
// service from ?passing and DNS everywhere, kill -9 of A turns its services critical everywhere,
// deregistration removes them. Every process is killed at the end.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Consul from 'consul';

const shoal = fileURLToPath(new URL('../../src/cli/shoal.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'shoal-catalog-'));
const procs: ChildProcess[] = [];

after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const BASE = 22100;
const agents = ['cat-a', 'cat-b', 'cat-c'] as const;
const ports = (i: number): { gossip: number; rpc: number; http: number; dns: number } => ({ gossip: BASE + i, rpc: BASE + 10 + i, http: BASE + 20 + i, dns: BASE + 30 + i });

function startAgent(i: number, extra: string[] = []): ChildProcess {
  const p = ports(i);
  const child = spawn(
    process.execPath,
    [shoal, 'agent', `-node=${agents[i]}`, `-bind=127.0.0.1:${p.gossip}`, `-rpc-addr=127.0.0.1:${p.rpc}`, `-http-addr=127.0.0.1:${p.http}`, `-dns-addr=127.0.0.1:${p.dns}`,
      '-profile=local', '-log-level=warn', ...extra],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  procs.push(child);
  return child;
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  let lastError: unknown = null;
  while (Date.now() < end) {
    try {
      if (await cond()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}${lastError === null ? '' : ` (last error: ${String(lastError)})`}`);
}

function dig(port: number, name: string, type: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('dig', [`@127.0.0.1`, '-p', String(port), name, type, '+short', '+time=2', '+tries=1'], { encoding: 'utf8', timeout: 10_000 }, (err, stdout) => (err === null ? resolve(stdout) : reject(err)));
  });
}

function cli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [shoal, ...args], { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), out: `${stdout}${stderr}` }));
  });
}

async function get(port: number, path: string): Promise<{ status: number; body: unknown; index: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // plain-text error
  }
  return { status: res.status, body, index: res.headers.get('x-consul-index') };
}

describe('service discovery across three real agents', { timeout: 90_000 }, () => {
  const consulA = new Consul({ host: '127.0.0.1', port: ports(0).http });
  const consulB = new Consul({ host: '127.0.0.1', port: ports(1).http });
  const consulC = new Consul({ host: '127.0.0.1', port: ports(2).http });

  test('agents start, A with a service file in its config dir, and join', async () => {
    const conf = join(dir, 'a.d');
    mkdirSync(conf);
    writeFileSync(join(conf, 'web.json'), JSON.stringify({ service: { name: 'web', id: 'web-a', port: 8080, tags: ['primary'], check: { ttl: '30s', status: 'passing' } } }));
    startAgent(0, [`-config-dir=${conf}`]);
    // Retry: A may not be listening yet when B and C start.
    startAgent(1, [`-retry-join=127.0.0.1:${ports(0).gossip}`, '-retry-interval=1s']);
    startAgent(2, [`-retry-join=127.0.0.1:${ports(0).gossip}`, '-retry-interval=1s']);
    await waitFor('three agents see each other', async () => ((await get(ports(2).http, '/v1/catalog/nodes')).body as unknown[]).length === 3);
    await waitFor('the file-defined service reaches C', async () => ((await consulC.catalog.service.nodes('web')) as unknown[]).length === 1);
  });

  test('the consul client registers on A and reads through B', async () => {
    await consulA.agent.service.register({ name: 'api', id: 'api-1', port: 9000, tags: ['v1'], meta: { team: 'core' }, check: { ttl: '30s' } } as never);
    const local = (await consulA.agent.service.list()) as Record<string, { Service: string; Port: number }>;
    assert.equal(local['api-1']?.Service, 'api');
    await waitFor('api on B', async () => ((await consulB.catalog.service.nodes('api')) as unknown[]).length === 1);
    const [entry] = (await consulB.catalog.service.nodes('api')) as Array<Record<string, unknown>>;
    assert.equal(entry?.['Node'], 'cat-a');
    assert.equal(entry?.['Address'], '127.0.0.1');
    assert.equal(entry?.['ServiceID'], 'api-1');
    assert.equal(entry?.['ServiceName'], 'api');
    assert.deepEqual(entry?.['ServiceTags'], ['v1']);
    assert.equal(entry?.['ServicePort'], 9000);
    assert.deepEqual(entry?.['ServiceMeta'], { team: 'core' });
    // The TTL check starts critical (as in Consul): not passing until A's check is passed.
    assert.deepEqual(await consulB.health.service({ service: 'api', passing: true }), []);
    await consulA.agent.check.pass('service:api-1');
    await waitFor('api passing on B', async () => ((await consulB.health.service({ service: 'api', passing: true })) as unknown[]).length === 1);
    const [health] = (await consulB.health.service({ service: 'api', passing: true })) as Array<{ Node: { Node: string }; Service: { ID: string }; Checks: Array<{ CheckID: string; Status: string; ServiceID: string }> }>;
    assert.equal(health?.Node.Node, 'cat-a');
    assert.equal(health?.Service.ID, 'api-1');
    assert.deepEqual(health?.Checks.map((c) => [c.CheckID, c.Status, c.ServiceID]), [['serfHealth', 'passing', ''], ['service:api-1', 'passing', 'api-1']]);
  });

  test('a blocking watch on C fires when B registers another instance', async () => {
    const watch = consulC.watch({ method: consulC.health.service, options: { service: 'api', passing: true, wait: '20s' } as never });
    const seen: number[] = [];
    watch.on('change', (data: unknown[]) => seen.push(data.length));
    watch.on('error', () => undefined);
    try {
      await waitFor('the first watch answer', () => seen.length >= 1);
      assert.equal(seen.at(-1), 1);
      await consulB.agent.service.register({ name: 'api', id: 'api-2', port: 9001, check: { ttl: '30s', status: 'passing' } } as never);
      await waitFor('the watch to see two instances', () => seen.at(-1) === 2, 10_000);
    } finally {
      watch.end();
    }
    // A blocking query with an index at least the current one waits, then answers with the same index.
    const now = await get(ports(2).http, '/v1/catalog/services');
    const started = Date.now();
    const blocked = await get(ports(2).http, `/v1/catalog/services?index=${now.index}&wait=300ms`);
    assert.ok(Date.now() - started >= 250, 'the query blocked for its wait time');
    assert.equal(blocked.index, now.index);
  });

  test('dig lists the passing instances over DNS (SRV and A), NXDOMAIN for unknown names', async () => {
    const srv = (await dig(ports(2).dns, 'api.service.consul', 'SRV')).trim().split('\n').sort();
    assert.deepEqual(srv, ['1 1 9000 cat-a.node.dc1.consul.', '1 1 9001 cat-b.node.dc1.consul.']);
    assert.equal((await dig(ports(1).dns, 'primary.web.service.consul', 'A')).trim(), '127.0.0.1');
    assert.equal((await dig(ports(1).dns, '_web._tcp.service.consul', 'SRV')).trim(), '1 1 8080 cat-a.node.dc1.consul.');
    assert.equal((await dig(ports(1).dns, 'cat-c.node.consul', 'A')).trim(), '127.0.0.1');
    const full = await new Promise<string>((resolve) => execFile('dig', ['@127.0.0.1', '-p', String(ports(1).dns), 'nope.service.consul', 'A', '+time=2', '+tries=1'], { encoding: 'utf8' }, (_e, out) => resolve(out)));
    assert.match(full, /status: NXDOMAIN/);
    assert.match(full, /SOA\s+ns\.consul\. hostmaster\.consul\./);
  });

  test('a TTL check expiring drops the service from ?passing and DNS everywhere', async () => {
    await consulA.agent.service.register({ name: 'cache', id: 'cache-1', port: 6379, check: { ttl: '2s', status: 'passing' } } as never);
    await waitFor('cache passing on C', async () => ((await consulC.health.service({ service: 'cache', passing: true })) as unknown[]).length === 1);
    assert.match(await dig(ports(2).dns, 'cache.service.consul', 'SRV'), /6379/);
    await waitFor('cache no longer passing on B and C', async () =>
      ((await consulC.health.service({ service: 'cache', passing: true })) as unknown[]).length === 0 &&
      ((await consulB.health.service({ service: 'cache', passing: true })) as unknown[]).length === 0, 15_000);
    assert.equal((await dig(ports(2).dns, 'cache.service.consul', 'SRV')).trim(), '');
    const critical = (await get(ports(2).http, '/v1/health/state/critical')).body as Array<{ CheckID: string; Output: string }>;
    assert.ok(critical.some((c) => c.CheckID === 'service:cache-1' && c.Output === 'TTL expired'));
  });

  test('deregister_critical_service_after removes a service whose check stays critical', async () => {
    await consulB.agent.service.register({ name: 'temp', id: 'temp-1', port: 1, check: { ttl: '1s', status: 'passing', deregistercriticalserviceafter: '1s' } } as never);
    await waitFor('temp on A', async () => ((await consulA.catalog.service.nodes('temp')) as unknown[]).length === 1);
    await waitFor('temp gone on A and C', async () =>
      ((await consulA.catalog.service.nodes('temp')) as unknown[]).length === 0 && ((await consulC.catalog.service.nodes('temp')) as unknown[]).length === 0, 15_000);
    assert.equal(((await consulB.agent.service.list()) as Record<string, unknown>)['temp-1'], undefined);
  });

  test('events, status and metrics endpoints', async () => {
    const list = await get(ports(2).http, '/v1/event/list?name=deploy');
    assert.deepEqual(list.body, []);
    const waiting = get(ports(2).http, `/v1/event/list?name=deploy&index=${list.index}&wait=10s`);
    const fired = await fetch(`http://127.0.0.1:${ports(0).http}/v1/event/fire/deploy`, { method: 'PUT', body: 'v42' });
    assert.equal(fired.status, 200);
    const firedBody = (await fired.json()) as { Name: string; Payload: string; ID: string };
    assert.equal(firedBody.Name, 'deploy');
    assert.equal(Buffer.from(firedBody.Payload, 'base64').toString(), 'v42');
    const woke = await waiting;
    assert.ok(Number(woke.index) > Number(list.index));
    const events = woke.body as Array<{ Name: string; Payload: string }>;
    assert.equal(events.length, 1);
    assert.equal(Buffer.from(events[0]?.Payload ?? '', 'base64').toString(), 'v42');
    assert.equal((await get(ports(1).http, '/v1/status/leader')).body, `127.0.0.1:${ports(1).gossip}`);
    const self = (await get(ports(1).http, '/v1/agent/self')).body as { Config: { NodeName: string; Datacenter: string } };
    assert.deepEqual([self.Config.NodeName, self.Config.Datacenter], ['cat-b', 'dc1']);
    const prom = (await get(ports(0).http, '/v1/agent/metrics?format=prometheus')).body as string;
    assert.match(prom, /^shoal_serf_members\{status="alive"\} 3$/m);
    assert.match(prom, /^shoal_catalog_publications_total [1-9]\d*$/m);
    const json = (await get(ports(0).http, '/v1/agent/metrics')).body as { Gauges: Array<{ Name: string; Value: number }> };
    assert.equal(json.Gauges.find((g) => g.Name === 'shoal.catalog.peers')?.Value, 2);
    assert.equal((await get(ports(0).http, '/v1/health/state/sunny')).status, 400);
    assert.equal((await get(ports(0).http, '/v1/nope')).status, 404);
  });

  test('deregistration on B removes its instance everywhere', async () => {
    await consulB.agent.service.deregister('api-2');
    await waitFor('api-2 gone on A and C', async () =>
      ((await consulA.catalog.service.nodes('api')) as unknown[]).length === 1 && ((await consulC.catalog.service.nodes('api')) as unknown[]).length === 1);
    const unknown = await fetch(`http://127.0.0.1:${ports(1).http}/v1/agent/service/deregister/api-2`, { method: 'PUT' });
    assert.equal(unknown.status, 404);
    assert.equal(await unknown.text(), 'Unknown service ID "api-2". Ensure that the service ID is passed, not the service name.');
    const wrongMethod = await fetch(`http://127.0.0.1:${ports(1).http}/v1/agent/service/register`);
    assert.equal(wrongMethod.status, 405);
  });

  test('the CLI registers, lists and deregisters through the HTTP API', async () => {
    const http = `-http-addr=127.0.0.1:${ports(2).http}`;
    const reg = await cli(['services', 'register', '-name=batch', '-port=7000', '-tag=nightly', http]);
    assert.equal(reg.code, 0, reg.out);
    assert.equal(reg.out.trim(), 'Registered service: batch');
    await waitFor('batch visible on A', async () => ((await consulA.catalog.service.nodes('batch')) as unknown[]).length === 1);
    const list = await cli(['services', `-http-addr=127.0.0.1:${ports(0).http}`]);
    assert.equal(list.code, 0, list.out);
    assert.match(list.out, /^batch\s+batch\s+cat-c\s+127\.0\.0\.1:7000\s+nightly\s+passing$/m);
    assert.match(list.out, /^web\s+web-a\s+cat-a\s+127\.0\.0\.1:8080\s+primary\s+passing$/m);
    const checks = await cli(['checks', '-state=critical', http]);
    assert.match(checks.out, /cat-a\s+service:cache-1\s+.*critical\s+cache-1\s+TTL expired/);
    const dereg = await cli(['services', 'deregister', 'batch', http]);
    assert.equal(dereg.out.trim(), 'Deregistered service: batch');
    const again = await cli(['services', 'deregister', 'batch', http]);
    assert.equal(again.code, 1);
    assert.match(again.out, /Unexpected response code: 404 \(Unknown service ID "batch"/);
    const down = await cli(['services', '-http-addr=127.0.0.1:22199']);
    assert.equal(down.code, 1);
    assert.match(down.out, /Error connecting to the agent's HTTP API at 127\.0\.0\.1:22199/);
  });

  test('kill -9 of A makes its services critical everywhere (serfHealth)', async () => {
    procs[0]?.kill('SIGKILL');
    await waitFor('serfHealth of A critical on B and C', async () => {
      for (const c of [consulB, consulC]) {
        const entries = (await c.health.service('web')) as Array<{ Checks: Array<{ CheckID: string; Status: string }> }>;
        if (entries[0]?.Checks.find((x) => x.CheckID === 'serfHealth')?.Status !== 'critical') return false;
      }
      return true;
    }, 20_000);
    assert.deepEqual(await consulC.health.service({ service: 'web', passing: true }), []);
    assert.equal((await dig(ports(1).dns, 'web.service.consul', 'A')).trim(), '');
  });
});
