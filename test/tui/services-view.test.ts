// The services view rendered from recorded catalog answers (the /v1/health/service shapes a shoal
// agent gives, as captured from one): counts per service, instances with node, address:port, tags
// and checks, health changes in the event log, the keys that reach it, and what it says when there
// is no catalog. The catalog reader is checked against a small stand-in HTTP API (ports 23510–23519).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { test } from 'node:test';
import { TuiApp, type KeyPress, type TuiScreen, type TuiSource } from '../../src/tui/app.js';
import { CatalogSource, instanceOf } from '../../src/tui/catalog-source.js';
import { TuiModel } from '../../src/tui/model.js';
import { render, toText, type ScreenLine } from '../../src/tui/render.js';
import type { ServiceInfo } from '../../src/tui/services-model.js';
import { waitFor } from '../helpers/tmux.js';

const T0 = Date.UTC(2026, 10, 22, 3, 0, 0);

/** One entry of /v1/health/service/:name, in the shape (and with the values) a shoal agent answers. */
function entry(node: string, id: string, service: string, port: number, tags: string[], serfHealth: string, check: [string, string] | null, address = ''): unknown {
  const checks: unknown[] = [{
    Node: node, CheckID: 'serfHealth', Name: 'Serf Health Status', Status: serfHealth, Notes: '',
    Output: serfHealth === 'passing' ? 'Agent alive and reachable' : 'Agent not live or unreachable', ServiceID: '', ServiceName: '', ServiceTags: [], Type: '',
  }];
  if (check !== null) checks.push({ Node: node, CheckID: `service:${id}`, Name: `Service '${service}' check`, Status: check[0], Notes: '', Output: check[1], ServiceID: id, ServiceName: service, ServiceTags: tags, Type: 'ttl' });
  return {
    Node: { ID: '645fcba0-2891-a65e-3e80-39656ba3276e', Node: node, Address: `127.0.0.${node.slice(-1) === 'a' ? 1 : node.slice(-1) === 'b' ? 2 : 3}`, Datacenter: 'dc1', Meta: {} },
    Service: { ID: id, Service: service, Tags: tags, Meta: {}, Port: port, Address: address, Weights: { Passing: 1, Warning: 1 } },
    Checks: checks,
  };
}

function catalog(webCCheck: [string, string], cHealth = 'passing'): ServiceInfo[] {
  return [
    { name: 'web', instances: [
      entry('node-a', 'web', 'web', 8080, ['v1', 'primary'], 'passing', ['passing', 'TTL check passed']),
      entry('node-b', 'web', 'web', 8080, ['v1'], 'passing', ['warning', 'slow: p99 2s']),
      entry('node-c', 'web-2', 'web', 8081, ['v2'], cHealth, webCCheck),
    ].map(instanceOf) },
    { name: 'db', instances: [entry('node-a', 'db', 'db', 5432, [], 'passing', null, '10.0.0.7')].map(instanceOf) },
  ];
}

function connectedModel(): TuiModel {
  const model = new TuiModel();
  model.source = '127.0.0.1:7373';
  model.localName = 'node-a';
  model.catalogAddr = '127.0.0.1:8500';
  model.setConnection(T0, 'connected', '');
  model.setServices(T0, catalog(['passing', 'TTL check passed']));
  model.setView('services');
  return model;
}

const screen = (model: TuiModel, cols = 130, rows = 24): string[] => toText(render(model, cols, rows, T0 + 5_000));

test('the services view: a row per service with instance counts by health, the selected one\'s instances below', () => {
  const model = connectedModel();
  const text = screen(model);
  assert.match(text[1] as string, /^ {2}SERVICE\s+INSTANCES\s+PASSING\s+WARNING\s+CRITICAL\s+TAGS\s+\[1–2 of 2 · catalog of 127\.0\.0\.1:8500\]$/);
  // Sorted by name: db first, selected; web has one warning instance (its worst check).
  assert.match(text[2] as string, /^● db\s+1\s+1\s+0\s+0$/);
  assert.match(text[3] as string, /^! web\s+3\s+2\s+1\s+0\s+primary,v1,v2$/);
  assert.match(text[4] as string, /^── instances of db \(1\) — node, address:port, tags, checks ─+$/);
  assert.match(text[6] as string, /^● node-a\s+10\.0\.0\.7:5432\s+passing\s+serfHealth passing$/, 'the service\'s own address wins over the node\'s');
  assert.match(text.at(-1) as string, /^↑↓\/jk select a service.*v members/);

  model.moveServiceSelection(1);
  const web = screen(model);
  assert.match(web[4] as string, /^── instances of web \(3\)/);
  // The worst first: the warning instance, then the passing ones by node; the output of a check that is not passing is shown.
  assert.match(web[6] as string, /^! node-b\s+127\.0\.0\.2:8080\s+v1\s+warning\s+serfHealth passing · service:web warning \(slow: p99 2s\)$/);
  assert.match(web[7] as string, /^● node-a\s+127\.0\.0\.1:8080\s+v1,primary\s+passing\s+serfHealth passing · service:web passing$/);
  assert.match(web[8] as string, /^● node-c\s+127\.0\.0\.3:8081\s+v2\s+passing\s+serfHealth passing · service:web-2 passing$/);
});

test('a member killed: its instances turn critical through serfHealth, and the change is in the log', () => {
  const model = connectedModel();
  model.moveServiceSelection(1);
  model.setServices(T0 + 10_000, catalog(['passing', 'TTL check passed'], 'critical'));
  const text = screen(model);
  assert.match(text[3] as string, /^✖ web\s+3\s+1\s+1\s+1\s+primary,v1,v2$/);
  assert.match(text[6] as string, /^✖ node-c\s+127\.0\.0\.3:8081\s+v2\s+critical\s+serfHealth critical \(Agent not live or unreachable\) · service:web-2 passing$/);
  assert.deepEqual(model.log.filter((e) => e.kind === 'service').map((e) => e.text), [
    'service web on node-c (web-2): passing → critical (serfHealth: Agent not live or unreachable)',
  ], 'the first read is the starting point; only the change is news');
  // A TTL that expires, then a deregistration.
  model.setServices(T0 + 20_000, catalog(['critical', 'TTL expired']).map((s) => (s.name === 'db' ? { name: 'db', instances: [] } : s)));
  // node-c back (serfHealth passing) but its TTL expired: still critical, so no line; db gone.
  assert.deepEqual(model.log.filter((e) => e.kind === 'service').slice(1).map((e) => e.text), ['service db on node-a deregistered']);
  model.setView('members');
  assert.ok(screen(model, 130, 30).some((l) => /service db on node-a deregistered$/.test(l)), 'the members view\'s event pane shows it');
});

test('no catalog: the view says why and what to do instead of failing', () => {
  const model = connectedModel();
  model.setCatalogState('unavailable', 'nothing listens on 127.0.0.1:8500 (connection refused): no HTTP API there');
  const text = screen(model);
  assert.match(text[1] as string, /^── services — v back to the members ─+$/);
  assert.equal(text[2], '  no service catalog: nothing listens on 127.0.0.1:8500 (connection refused): no HTTP API there');
  assert.match(text[3] as string, /shoal tui -http-addr=HOST:PORT, default 127\.0\.0\.1:8500/);
  assert.match(text[4] as string, /a serf agent has none/);
  const sim = new TuiModel();
  sim.setView('services');
  assert.match(screen(sim)[2] as string, /no service catalog: this source has no service catalog/);
});

class FakeScreen implements TuiScreen {
  painted: readonly ScreenLine[] = [];
  key: (k: KeyPress) => void = () => undefined;
  size(): { cols: number; rows: number } {
    return { cols: 120, rows: 24 };
  }
  paint(lines: readonly ScreenLine[]): void {
    this.painted = lines;
  }
  onKey(h: (k: KeyPress) => void): void {
    this.key = h;
  }
  onResize(): void {}
  destroy(): void {}
  type(...keys: string[]): void {
    for (const k of keys) this.key(k.length === 1 ? { name: k.toLowerCase(), ch: k } : { name: k });
  }
}

test('keys: v and Tab switch views, j/k/G/g move the service selection, / in the services view says where it applies', async () => {
  const fake = new FakeScreen();
  const model = connectedModel();
  model.setView('members');
  const source: TuiSource = { clock: 'wall', now: () => T0, start: () => undefined, stop: async () => undefined };
  const app = new TuiApp(model, fake, source);
  app.start();
  try {
    assert.match(toText(fake.painted).at(-1) as string, /v services/, 'the key is in the hints');
    fake.type('v');
    assert.equal(model.view, 'services');
    assert.equal(model.selectedServiceInfo()?.name, 'db');
    fake.type('j');
    assert.equal(model.selectedServiceInfo()?.name, 'web');
    fake.type('j', 'j');
    assert.equal(model.selectedServiceInfo()?.name, 'web', 'clamped at the last');
    fake.type('g');
    assert.equal(model.selectedServiceInfo()?.name, 'db');
    fake.type('G');
    assert.equal(model.selectedServiceInfo()?.name, 'web');
    fake.type('/');
    assert.equal(model.prompt, null);
    assert.match(toText(fake.painted).at(-1) as string, /filter, sort and details are for the members table: v goes back to it/);
    fake.type('tab');
    assert.equal(model.view, 'members');
    fake.type('?');
    assert.ok(toText(fake.painted).some((l) => /^ {2}v {2}Tab\s+services in the agent's catalog/.test(l)), 'help lists the key');
  } finally {
    await app.stop();
  }
});

// ---------------------------------------------------------------------- the HTTP reader

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, port: number): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer(handler);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

test('the catalog reader: blocking queries follow changes; no API and another agent\'s API are reported', async (t) => {
  let index = 5;
  let status = 'passing';
  const requests: string[] = [];
  const waiters: Array<() => void> = [];
  const server = await listen((req, res) => {
    requests.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (body: unknown): void => {
      res.setHeader('X-Consul-Index', String(index));
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/v1/agent/self') return send({ Config: { NodeName: 'node-a' } });
    if (url.pathname === '/v1/catalog/services') {
      const wanted = Number(url.searchParams.get('index') ?? 0);
      // Blocking: answer when the index passes the one asked for (or after a short wait).
      const answer = (): void => send({ web: ['v1'] });
      if (wanted < index) return answer();
      const timer = setTimeout(answer, 2_000);
      res.on('close', () => clearTimeout(timer));
      waiters.push(() => {
        clearTimeout(timer);
        answer();
      });
      return;
    }
    if (url.pathname === '/v1/health/service/web') return send([entry('node-a', 'web', 'web', 80, ['v1'], 'passing', [status, status === 'passing' ? 'ok' : 'TTL expired'])]);
    res.statusCode = 404;
    res.end('404 page not found');
  }, 23510);
  t.after(() => server.close());

  const model = new TuiModel();
  model.localName = 'node-a';
  const reader = new CatalogSource({ addr: '127.0.0.1:23510', waitMs: 3_000, minIntervalMs: 50 });
  reader.start(model, () => undefined);
  try {
    await waitFor('the first read', 5_000, () => model.catalogState === 'ok').catch((err: unknown) => assert.fail(`${String(err)}: ${model.catalogState} ${model.catalogDetail}`));
    assert.deepEqual(model.services.map((s) => s.name), ['web']);
    await waitFor('a blocking query with the index', 5_000, () => requests.some((r) => /^\/v1\/catalog\/services\?index=5&wait=3s$/.test(r)));
    index = 6;
    status = 'critical';
    for (const w of waiters.splice(0)) w();
    await waitFor('the change', 5_000, () => model.log.some((e) => e.text === 'service web on node-a: passing → critical (service:web: TTL expired)'));
  } finally {
    await reader.stop();
  }

  const nobody = new TuiModel();
  const none = new CatalogSource({ addr: '127.0.0.1:23511', retryMs: 50 });
  none.start(nobody, () => undefined);
  try {
    await waitFor('connection refused reported', 5_000, () => nobody.catalogState === 'unavailable');
    assert.equal(nobody.catalogDetail, 'nothing listens on 127.0.0.1:23511 (connection refused): no HTTP API there');
  } finally {
    await none.stop();
  }

  const other = new TuiModel();
  other.localName = 'serf-b';
  const wrong = new CatalogSource({ addr: '127.0.0.1:23510', retryMs: 50 });
  wrong.start(other, () => undefined);
  try {
    await waitFor('another agent\'s API reported', 5_000, () => other.catalogState === 'unavailable');
    assert.equal(other.catalogDetail, 'the HTTP API at 127.0.0.1:23510 is agent node-a\'s, not serf-b\'s (give -http-addr)');
  } finally {
    await wrong.stop();
  }
});
