// The data directory's service store: Consul's layout (a file per ID, named by its hash), atomic
// replacement, unreadable files named in a warning and skipped, TTL states dropped once expired.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceStore, writeAtomic } from '../../src/agent/persist.js';

function store(): { s: ServiceStore; warnings: string[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-store-'));
  const warnings: string[] = [];
  return { s: new ServiceStore(join(dir, 'data'), (m) => warnings.push(m)), warnings, dir };
}

test('saved definitions load back as sent; removal deletes the file', (t) => {
  const { s, warnings, dir } = store();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const def = { Name: 'api', ID: 'api/1 ü', Port: 9000, Check: { TTL: '30s' } };
  s.saveService('api/1 ü', def);
  s.saveService('api/1 ü', { ...def, Port: 9001 });
  s.saveCheck('disk', { Name: 'disk', TTL: '10s' });
  assert.deepEqual(s.loadServices().map((p) => [p.id, p.definition]), [['api/1 ü', { ...def, Port: 9001 }]]);
  assert.deepEqual(s.loadChecks().map((p) => p.id), ['disk']);
  assert.deepEqual(readdirSync(s.servicesDir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file is left');
  s.removeService('api/1 ü');
  s.removeCheck('disk');
  assert.deepEqual(s.loadServices(), []);
  assert.deepEqual(s.loadChecks(), []);
  assert.deepEqual(warnings, []);
});

test('damaged, foreign and misplaced files are named in warnings and skipped; the good ones load', (t) => {
  const { s, warnings, dir } = store();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  s.saveService('good', { Name: 'good' });
  writeFileSync(join(s.servicesDir, 'torn.json'), '{"ID": "x", "Defin');
  writeFileSync(join(s.servicesDir, 'shape.json'), '{"ID": 5}');
  writeFileSync(join(s.servicesDir, 'moved.json'), JSON.stringify({ ID: 'elsewhere', Definition: { Name: 'x' } }));
  writeFileSync(join(s.servicesDir, 'left-over.json.tmp'), '{');
  assert.deepEqual(s.loadServices().map((p) => p.id), ['good']);
  assert.equal(warnings.length, 3);
  for (const name of ['torn.json', 'shape.json', 'moved.json']) assert.ok(warnings.some((w) => w.includes(join(s.servicesDir, name))), `${name} is named`);
  assert.match(warnings.find((w) => w.includes('moved.json')) ?? '', /holds ID "elsewhere", which belongs in [0-9a-f]{64}\.json/);
});

test('a TTL state is restored before it expires and deleted after', (t) => {
  const { s, warnings, dir } = store();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  s.saveCheckState('ttl', { status: 'passing', output: 'ok', expiresAtMs: 10_000 });
  assert.deepEqual(s.loadCheckState('ttl', 9_999), { status: 'passing', output: 'ok', expiresAtMs: 10_000 });
  assert.equal(s.loadCheckState('ttl', 10_000), null);
  assert.equal(existsSync(s.stateFile('ttl')), false);
  writeFileSync(s.stateFile('bad'), JSON.stringify({ CheckID: 'bad', Status: 'sunny', Output: '', Expires: 1e15 }));
  assert.equal(s.loadCheckState('bad', 0), null);
  assert.match(warnings[0] ?? '', /ignoring check state file .*the check starts critical/);
  assert.equal(s.loadCheckState('absent', 0), null);
});

test('an atomic write replaces the whole file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-atomic-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'x.json');
  writeFileSync(file, 'x'.repeat(10_000));
  writeAtomic(file, { short: true });
  assert.equal(readFileSync(file, 'utf8'), '{"short":true}');
  assert.deepEqual(readdirSync(dir), ['x.json']);
});

test('a data dir that cannot be created is named', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-notdir-'));
  try {
    const file = join(dir, 'file');
    writeFileSync(file, '');
    assert.throws(() => new ServiceStore(file, () => {}), (err: Error) => err.message.startsWith(`data dir ${file}: cannot create ${join(file, 'services')}`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
