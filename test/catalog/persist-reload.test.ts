// Consul's agent habits on a real `shoal agent` process (ports 31000–31009): services and checks
// registered through the HTTP API survive a restart (-data-dir), TTL states while unexpired,
// corrupt files are named and skipped; SIGHUP and `shoal reload` bring the config files'
// services in line and leave the API's alone; a bad file keeps the old definitions. Every
// process is killed at the end, every wait is bounded.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Consul from 'consul';

const shoal = fileURLToPath(new URL('../../src/cli/shoal.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'shoal-persist-'));
const dataDir = join(dir, 'data');
const confDir = join(dir, 'conf.d');
const procs: ChildProcess[] = [];

after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const PORTS = { gossip: 31000, rpc: 31001, http: 31002, dns: 31003 } as const;
const httpAddr = `127.0.0.1:${PORTS.http}`;

interface Running {
  readonly child: ChildProcess;
  /** Everything the agent wrote so far (its log goes to stdout). */
  output(): string;
}

function startAgent(): Running {
  const child = spawn(
    process.execPath,
    [shoal, 'agent', '-node=keeper', `-bind=127.0.0.1:${PORTS.gossip}`, `-rpc-addr=127.0.0.1:${PORTS.rpc}`, `-http-addr=${httpAddr}`, `-dns-addr=127.0.0.1:${PORTS.dns}`,
      '-profile=local', '-log-level=info', `-data-dir=${dataDir}`, `-config-dir=${confDir}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  procs.push(child);
  let text = '';
  child.stdout?.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (text += b.toString()));
  return { child, output: () => text };
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, limitMs = 15_000): Promise<void> {
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

function cli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [shoal, ...args], { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), out: `${stdout}${stderr}` }));
  });
}

async function stop(agent: Running): Promise<void> {
  const exited = new Promise((resolve) => agent.child.once('exit', resolve));
  agent.child.kill('SIGKILL');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
}

type AgentServices = Record<string, { Service: string; Port: number }>;
type AgentChecks = Record<string, { Status: string; Output: string }>;

function writeService(file: string, def: Record<string, unknown>): void {
  writeFileSync(join(confDir, file), JSON.stringify({ service: def }));
}

describe('persistence of API registrations and reloading service files', { timeout: 90_000 }, () => {
  const consul = new Consul({ host: '127.0.0.1', port: PORTS.http });
  const services = async (): Promise<AgentServices> => (await consul.agent.service.list()) as AgentServices;
  const checks = async (): Promise<AgentChecks> => (await consul.agent.check.list()) as AgentChecks;
  let agent: Running;

  test('API registrations are kept in the data dir and restored after kill -9; TTL states while unexpired', async () => {
    mkdirSync(confDir);
    writeService('web.json', { name: 'web', port: 8080 });
    writeService('cache.json', { name: 'cache', port: 6379 });
    agent = startAgent();
    await waitFor('the agent to serve web', async () => (await services())['web']?.Port === 8080);
    await consul.agent.service.register({ name: 'api', id: 'api-1', port: 9000, check: { ttl: '60s' } } as never);
    await consul.agent.service.register({ name: 'blip', id: 'blip-1', port: 9001, check: { ttl: '1s' } } as never);
    await consul.agent.check.register({ name: 'disk', id: 'disk', ttl: '60s' } as never);
    await consul.agent.check.pass('service:api-1');
    await consul.agent.check.pass({ id: 'service:blip-1', note: 'briefly' } as never);
    assert.equal(readdirSync(join(dataDir, 'services')).length, 2, 'one file per API service; the config files are not copied');
    assert.equal(readdirSync(join(dataDir, 'checks')).filter((f) => f.endsWith('.json')).length, 1);
    assert.equal(readdirSync(join(dataDir, 'checks', 'state')).length, 2);
    // A damaged file must not stop the agent.
    writeFileSync(join(dataDir, 'services', 'damaged.json'), '{"ID": "x", "Defin');
    await new Promise((r) => setTimeout(r, 1_100)); // blip's 1 s TTL runs out
    await stop(agent);

    agent = startAgent();
    await waitFor('the agent to serve again', async () => (await services())['web'] !== undefined);
    const s = await services();
    assert.deepEqual(Object.keys(s).sort(), ['api-1', 'blip-1', 'cache', 'web']);
    assert.equal(s['api-1']?.Port, 9000);
    const c = await checks();
    assert.equal(c['service:api-1']?.Status, 'passing', 'an unexpired TTL state is restored');
    assert.equal(c['service:blip-1']?.Status, 'critical', 'an expired one is not');
    assert.equal(c['disk']?.Status, 'critical', 'a check never updated starts critical');
    await waitFor('the warning naming the damaged file', () => agent.output().includes(`ignoring persisted service file ${join(dataDir, 'services', 'damaged.json')}`));
    assert.match(agent.output(), /restored 2 service\(s\) and 1 check\(s\)/);
  });

  test('deregistration removes the saved files', async () => {
    await consul.agent.service.deregister('blip-1');
    await consul.agent.check.deregister('disk');
    assert.equal(readdirSync(join(dataDir, 'services')).filter((f) => f !== 'damaged.json').length, 1);
    assert.equal(readdirSync(join(dataDir, 'checks')).filter((f) => f.endsWith('.json')).length, 0);
    assert.equal(readdirSync(join(dataDir, 'checks', 'state')).length, 1, "only api-1's TTL state is left");
  });

  test('SIGHUP brings the files\' services in line: added, changed, removed; API services untouched', async () => {
    writeService('web.json', { name: 'web', port: 8081, tags: ['v2'] });
    rmSync(join(confDir, 'cache.json'));
    writeService('db.json', { name: 'db', port: 5432 });
    agent.child.kill('SIGHUP');
    await waitFor('the reload', async () => (await services())['db'] !== undefined);
    const s = await services();
    assert.deepEqual(Object.keys(s).sort(), ['api-1', 'db', 'web']);
    assert.equal(s['web']?.Port, 8081);
    assert.equal((await checks())['service:api-1']?.Status, 'passing', "the API service's check keeps its state");
    await waitFor('the reload logged', () => /reloaded service definitions: added \[db\], updated \[web\], removed \[cache\]/.test(agent.output()));
  });

  test('a bad file keeps the old definitions and is named; `shoal reload` fails, then works', async () => {
    writeService('zz-bad.json', { name: 'bad', port: '80' });
    writeService('db.json', { name: 'db', port: 5433 });
    const bad = await cli(['reload', `-http-addr=${httpAddr}`]);
    assert.equal(bad.code, 1, bad.out);
    const where = `${join(confDir, 'zz-bad.json')}: field "service".port: expected a port number 0-65535, got "80"`;
    assert.ok(bad.out.includes(where), bad.out);
    assert.ok(agent.output().includes(where), 'the agent logs the file and field');
    assert.equal((await services())['db']?.Port, 5432, 'the old definitions stay');
    rmSync(join(confDir, 'zz-bad.json'));
    const ok = await cli(['reload', `-http-addr=${httpAddr}`]);
    assert.equal(ok.code, 0, ok.out);
    assert.equal(ok.out.trim(), 'Configuration reload triggered');
    assert.equal((await services())['db']?.Port, 5433);
  });

  test('a service removed by deregister_critical_service_after loses its saved file too', async () => {
    await consul.agent.service.register({ name: 'brief', id: 'brief-1', port: 1, check: { ttl: '1s', status: 'passing', deregistercriticalserviceafter: '1s' } } as never);
    const saved = (): number => readdirSync(join(dataDir, 'services')).filter((f) => f !== 'damaged.json').length;
    assert.equal(saved(), 2);
    await waitFor('brief-1 reaped', async () => (await services())['brief-1'] === undefined, 10_000);
    assert.equal(saved(), 1);
    assert.ok(existsSync(join(dataDir, 'services')));
  });
});
