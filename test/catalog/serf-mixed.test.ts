// A real `serf` 0.9.4 agent in a cluster with two shoal agents (ports 22200–22299): the catalog
// travels only between the shoal agents, serf logs no warning or error (so it never received a
// catalog message), `serf members` shows exactly the tags that were set, and the shoal catalog
// is complete: both shoal agents list the serf node (serfHealth passing, no services) and each
// other's services. Every process is killed at the end.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const shoal = fileURLToPath(new URL('../../src/cli/shoal.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'shoal-catalog-serf-'));
const procs: ChildProcess[] = [];

after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, limitMs = 20_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    try {
      if (await cond()) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function getJson(port: number, path: string): Promise<unknown> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return res.json() as Promise<unknown>;
}

test('a real serf agent and two shoal agents: serf logs nothing, the shoal catalog is complete', { timeout: 60_000 }, async () => {
  const logPath = join(dir, 'serf.log');
  const serf = spawn('serf', ['agent', '-node=real-serf', '-bind=127.0.0.1:22200', '-rpc-addr=127.0.0.1:22201', '-log-level=debug', '-tag', 'role=db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(serf);
  const log = createWriteStream(logPath);
  serf.stdout?.pipe(log);
  serf.stderr?.pipe(log);
  const shoals = [0, 1].map((i) => {
    const p = spawn(process.execPath, [shoal, 'agent', `-node=shoal-${i}`, `-bind=127.0.0.1:${22210 + i}`, `-rpc-addr=127.0.0.1:${22220 + i}`, `-http-addr=127.0.0.1:${22230 + i}`, `-dns-addr=127.0.0.1:${22240 + i}`,
      '-retry-join=127.0.0.1:22200', '-retry-interval=1s', '-tag', `role=web${i}`, '-log-level=warn'], { stdio: ['ignore', 'ignore', 'ignore'] });
    procs.push(p);
    return p;
  });
  assert.equal(shoals.length, 2);
  await waitFor('both shoal agents list three nodes', async () => {
    for (const port of [22230, 22231]) if (((await getJson(port, '/v1/catalog/nodes')) as unknown[]).length !== 3) return false;
    return true;
  });
  for (const i of [0, 1]) {
    const res = await fetch(`http://127.0.0.1:${22230 + i}/v1/agent/service/register`, { method: 'PUT', body: JSON.stringify({ Name: 'web', ID: `web-${i}`, Port: 8080 + i, Check: { TTL: '60s', Status: 'passing' } }) });
    assert.equal(res.status, 200);
  }
  await waitFor('each shoal agent sees both web instances passing', async () => {
    for (const port of [22230, 22231]) if (((await getJson(port, '/v1/health/service/web?passing')) as unknown[]).length !== 2) return false;
    return true;
  });
  const node = (await getJson(22231, '/v1/health/node/real-serf')) as Array<{ CheckID: string; Status: string }>;
  assert.deepEqual(node.map((c) => [c.CheckID, c.Status]), [['serfHealth', 'passing']]);
  assert.deepEqual(await getJson(22230, '/v1/catalog/node/real-serf'), { Node: (await getJson(22230, '/v1/catalog/nodes') as Array<{ Node: string }>).find((n) => n.Node === 'real-serf'), Services: {} });
  // Let a few gossip, push/pull and anti-entropy rounds pass with serf in the cluster.
  await new Promise((r) => setTimeout(r, 3_000));
  const members = await new Promise<string>((resolve) => execFile('serf', ['members', '-rpc-addr=127.0.0.1:22201'], { encoding: 'utf8' }, (_e, out) => resolve(out)));
  assert.match(members, /^shoal-0\s+127\.0\.0\.1:22210\s+alive\s+role=web0\s*$/m);
  assert.match(members, /^shoal-1\s+127\.0\.0\.1:22211\s+alive\s+role=web1\s*$/m);
  const bad = readFileSync(logPath, 'utf8').split('\n').filter((l) => /\[(ERR|WARN)\]/.test(l));
  assert.deepEqual(bad, [], 'serf logged warnings or errors');
});
