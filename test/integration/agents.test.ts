// Real `shoal agent` processes on 127.0.0.1: five join, handlers see events and answer queries,
// kill -9 is seen as failed, `shoal leave` as left, and a restart with the snapshot rejoins with
// no join address — plain and encrypted. Every process is killed at the end.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const shoal = fileURLToPath(new URL('../../src/cli/shoal.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'shoal-agents-'));
const procs: ChildProcess[] = [];

after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const handler = join(dir, 'handler.sh');
writeFileSync(handler, `#!/bin/sh\nif [ "$SERF_EVENT" = "query" ]; then echo "pong-$SERF_SELF_NAME"; else echo "$SERF_SELF_NAME $SERF_EVENT $SERF_USER_EVENT $(cat)" >> ${join(dir, 'events.log')}; fi\n`);
chmodSync(handler, 0o755);

function startAgent(name: string, port: number, rpcPort: number, extra: string[] = []): ChildProcess {
  const p = spawn(process.execPath, [shoal, 'agent', `-node=${name}`, `-bind=127.0.0.1:${port}`, `-rpc-addr=127.0.0.1:${rpcPort}`,
    `-event-handler=${handler}`, `-snapshot=${join(dir, `${name}.snap`)}`, '-log-level=warn', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(p);
  return p;
}

function cli(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [shoal, ...args], { encoding: 'utf8', timeout: 20_000 }, (err, stdout, stderr) =>
      resolve({ code: err === null ? 0 : ((err as { code?: number }).code ?? 1), out: `${stdout}${stderr}` }));
  });
}

async function members(rpcPort: number): Promise<Record<string, string>> {
  const r = await cli(['members', `-rpc-addr=127.0.0.1:${rpcPort}`, '-format=json']);
  if (r.code !== 0) return {};
  const parsed = JSON.parse(r.out) as { members: Array<{ name: string; status: string }> | null };
  return Object.fromEntries((parsed.members ?? []).map((m) => [m.name, m.status]));
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, limitMs = 40_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`timed out waiting for ${what}`);
}

for (const encrypted of [false, true]) {
  describe(encrypted ? 'five encrypted agents' : 'five agents', { timeout: 200_000 }, () => {
    const base = encrypted ? 19650 : 19600;
    const key = Buffer.alloc(32, 3).toString('base64');
    const extra = encrypted ? [`-encrypt=${key}`] : [];
    const names = [0, 1, 2, 3, 4].map((i) => `${encrypted ? 'enc' : 'pl'}-${i}`);
    const port = (i: number): number => base + i;
    const rpc = (i: number): number => base + 20 + i;
    const agents: ChildProcess[] = [];

    test('join through one seed and list five alive', async () => {
      for (let i = 0; i < 5; i++) {
        agents.push(startAgent(names[i] as string, port(i), rpc(i), i === 0 ? extra : [...extra, `-join=127.0.0.1:${port(0)}`]));
        await new Promise((r) => setTimeout(r, 300));
      }
      await waitFor('five alive at every agent', async () => {
        for (let i = 0; i < 5; i++) {
          const m = await members(rpc(i));
          if (!names.every((n) => m[n] === 'alive')) return false;
        }
        return true;
      });
    });

    test('user events reach every handler and queries are answered by every handler', async () => {
      const event = `ev-${base}`;
      assert.equal((await cli(['event', `-rpc-addr=127.0.0.1:${rpc(1)}`, '-coalesce=false', event, 'payload-x'])).code, 0);
      await waitFor('every handler logs the event', () => {
        const log = join(dir, 'events.log');
        return existsSync(log) && names.every((n) => readFileSync(log, 'utf8').includes(`${n} user ${event} payload-x`));
      });
      const q = await cli(['query', `-rpc-addr=127.0.0.1:${rpc(2)}`, '-timeout=5s', 'ping-all']);
      for (const n of names) assert.match(q.out, new RegExp(`Response from '${n}': pong-${n}`), q.out);
    });

    test('kill -9 is seen as failed, shoal leave as left', async () => {
      agents[4]!.kill('SIGKILL');
      await waitFor('the others see it failed', async () => (await members(rpc(0)))[names[4] as string] === 'failed' && (await members(rpc(1)))[names[4] as string] === 'failed');
      assert.equal((await cli(['leave', `-rpc-addr=127.0.0.1:${rpc(3)}`])).code, 0);
      await waitFor('the others see it left', async () => (await members(rpc(0)))[names[3] as string] === 'left' && (await members(rpc(2)))[names[3] as string] === 'left');
    });

    test('a restart with the snapshot rejoins with no join address', async () => {
      agents[4] = startAgent(names[4] as string, port(4), rpc(4), extra); // no -join
      await waitFor('it is alive again everywhere', async () =>
        (await members(rpc(0)))[names[4] as string] === 'alive' && (await members(rpc(4)))[names[0] as string] === 'alive');
    });
  });
}

test('a bad flag or config file exits 1 naming what is wrong', async () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ bind: 12 }));
  const r1 = await cli(['agent', `-config-file=${bad}`]);
  assert.equal(r1.code, 1);
  assert.match(r1.out, new RegExp(`${bad.replace(/[/.]/g, '\\$&')}.*field "bind".*expected`));
  const r2 = await cli(['agent', '-bind=nope']);
  assert.equal(r2.code, 1);
  assert.match(r2.out, /-bind/);
});
