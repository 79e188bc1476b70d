// Service definitions in config files and API bodies (Consul's keys, either spelling), with
// errors that name the file, the field and the expectation; and the check runners' readings of
// HTTP status codes, TCP connects and script exit codes (local servers on ports 22300–22399).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, decodeConfig, readConfigPaths } from '../../src/agent/config.js';
import { parseCheckDefinition, parseServiceDefinition } from '../../src/agent/service-definition.js';
import { httpCheck, scriptCheck, tcpCheck } from '../../src/agent/checks.js';

const dir = mkdtempSync(join(tmpdir(), 'shoal-defs-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('config files: service and services, merged in file order, both spellings', () => {
  writeFileSync(join(dir, 'a.json'), JSON.stringify({ service: { name: 'web', port: 80, tags: ['v1'], check: { http: 'http://127.0.0.1/h', interval: '5s', timeout: '1s' } } }));
  writeFileSync(join(dir, 'b.json'), JSON.stringify({ services: [{ Name: 'db', ID: 'db-1', Port: 5432, Meta: { role: 'primary' }, Checks: [{ TTL: '30s', DeregisterCriticalServiceAfter: '1m' }, { Args: ['true'], Interval: '10s' }] }] }));
  const s = readConfigPaths([dir]);
  assert.deepEqual(s.services?.map((d) => d.service), [
    { ID: 'web', Service: 'web', Tags: ['v1'], Address: '', Port: 80, Meta: {} },
    { ID: 'db-1', Service: 'db', Tags: [], Address: '', Port: 5432, Meta: { role: 'primary' } },
  ]);
  const web = s.services?.[0]?.checks[0];
  assert.equal(web?.id, 'service:web');
  assert.deepEqual(web?.kind, { type: 'http', url: 'http://127.0.0.1/h', method: 'GET', header: {}, body: '' });
  assert.equal(web?.intervalMs, 5_000);
  assert.equal(web?.timeoutMs, 1_000);
  assert.equal(web?.initialStatus, 'critical');
  const [ttl, script] = s.services?.[1]?.checks ?? [];
  assert.equal(ttl?.id, 'service:db-1:1');
  assert.deepEqual(ttl?.kind, { type: 'ttl', ttlMs: 30_000 });
  assert.equal(ttl?.deregisterCriticalAfterMs, 60_000);
  assert.equal(script?.id, 'service:db-1:2');
  assert.deepEqual(script?.kind, { type: 'script', args: ['true'] });
});

test('errors name the file, the field and the expectation', () => {
  const cases: Array<[unknown, RegExp]> = [
    [{ service: { name: 'web', port: '80' } }, /^f\.json: field "service"\.port: expected a port number 0-65535, got "80"$/],
    [{ service: { port: 80 } }, /^f\.json: field "service": Missing service name$/],
    [{ services: [{ name: 'a' }, { name: 'b', check: { http: 'http://x' } }] }, /^f\.json: field "services"\[1\]\.check: HTTP checks need an interval/],
    [{ services: { name: 'a' } }, /^f\.json: field "services": expected an array of service definitions/],
    [{ service: { name: 'a', check: { ttl: 'soon' } } }, /^f\.json: field "service"\.check\.ttl: expected a duration such as "10s" or "1m", got "soon"$/],
    [{ service: { name: 'a', checks: [{ script: 'x' }] } }, /^f\.json: field "service"\.checks\[0\]: a check needs one of TTL, HTTP, TCP or Args/],
    [{ http_addr: 'nowhere' }, /^f\.json: field "http_addr": expected "ip:port", got "nowhere"$/],
  ];
  for (const [raw, message] of cases) assert.throws(() => decodeConfig('f.json', JSON.stringify(raw)), (err: unknown) => err instanceof ConfigError && message.test(err.message), JSON.stringify(raw));
});

test('API-style bodies: Check.TTL, Status, nanosecond durations', () => {
  const d = parseServiceDefinition({ Name: 'api', Check: { TTL: 15e9, Status: 'passing' } }, 'service');
  assert.deepEqual(d.checks[0]?.kind, { type: 'ttl', ttlMs: 15_000 });
  assert.equal(d.checks[0]?.initialStatus, 'passing');
  const c = parseCheckDefinition({ Name: 'disk', TCP: '[::1]:22', Interval: '500ms' }, 'check');
  assert.equal(c.id, 'disk');
  assert.equal(c.intervalMs, 1_000, 'intervals under 1 s are raised to 1 s, as Consul does');
  assert.equal(c.serviceId, '');
});

test('HTTP checks read status codes as Consul does; TCP and script checks too', async () => {
  const server = http.createServer((req, res) => {
    const code = Number(req.url?.slice(1));
    res.writeHead(code).end(`status ${code}`);
  });
  await new Promise<void>((resolve) => server.listen(22300, '127.0.0.1', resolve));
  try {
    for (const [code, status] of [[200, 'passing'], [204, 'passing'], [429, 'warning'], [503, 'critical'], [404, 'critical']] as const) {
      const [got, output] = await httpCheck(`http://127.0.0.1:22300/${code}`, 'GET', {}, '', 2_000);
      assert.equal(got, status, `HTTP ${code}`);
      assert.match(output, new RegExp(`^HTTP GET http://127\\.0\\.0\\.1:22300/${code}: ${code} .*Output: (status ${code})?$`));
    }
    const [tcpUp] = await tcpCheck('127.0.0.1:22300', 2_000);
    assert.equal(tcpUp, 'passing');
  } finally {
    server.close();
  }
  const [down, downOutput] = await httpCheck('http://127.0.0.1:22301/', 'GET', {}, '', 2_000);
  assert.equal(down, 'critical');
  assert.match(downOutput, /ECONNREFUSED/);
  const [tcpDown] = await tcpCheck('127.0.0.1:22301', 2_000);
  assert.equal(tcpDown, 'critical');
  const silent = net.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(22302, '127.0.0.1', resolve));
  const slow = http.createServer(() => undefined);
  await new Promise<void>((resolve) => slow.listen(22303, '127.0.0.1', resolve));
  try {
    const [timedOut, timeoutOutput] = await httpCheck('http://127.0.0.1:22303/', 'GET', {}, '', 300);
    assert.equal(timedOut, 'critical');
    assert.match(timeoutOutput, /timed out after 300 ms/);
  } finally {
    slow.closeAllConnections();
    slow.close();
    silent.close();
  }
  assert.deepEqual(await scriptCheck(['sh', '-c', 'echo fine'], 2_000), ['passing', 'fine\n']);
  assert.deepEqual(await scriptCheck(['sh', '-c', 'echo meh >&2; exit 1'], 2_000), ['warning', 'meh\n']);
  assert.equal((await scriptCheck(['sh', '-c', 'exit 2'], 2_000))[0], 'critical');
  assert.deepEqual(await scriptCheck(['sleep', '5'], 200), ['critical', 'Timed out (200ms) running check']);
  assert.equal((await scriptCheck(['/nonexistent/check'], 2_000))[0], 'critical');
});
