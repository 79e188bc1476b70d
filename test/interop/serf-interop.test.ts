// Interop with the real serf 0.9.4 (installed by .ci/run; these tests never skip): shoal agents
// (the Agent class on real sockets) and serf agents in one cluster on 127.0.0.1.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Agent } from '../../src/agent/agent.js';
import type { SerfEvent } from '../../src/cluster/serf.js';

const dir = mkdtempSync(join(tmpdir(), 'shoal-interop-'));
const processes: ChildProcess[] = [];
const agents: Agent[] = [];

after(async () => {
  for (const p of processes) if (p.exitCode === null) p.kill('SIGKILL');
  for (const a of agents) await a.shutdown().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

function serfAgent(name: string, port: number, rpcPort: number, extra: string[] = []): { proc: ChildProcess; logPath: string; rpc: string } {
  const logPath = join(dir, `${name}.log`);
  const log: string[] = [];
  const proc = spawn('serf', ['agent', `-node=${name}`, `-bind=127.0.0.1:${port}`, `-rpc-addr=127.0.0.1:${rpcPort}`, '-log-level=debug', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  const collect = (chunk: Buffer): void => {
    log.push(chunk.toString());
    writeFileSync(logPath, log.join(''));
  };
  proc.stdout?.on('data', collect);
  proc.stderr?.on('data', collect);
  processes.push(proc);
  return { proc, logPath, rpc: `127.0.0.1:${rpcPort}` };
}

/** Runs the serf CLI without blocking the event loop (the shoal agents live in this process). */
function serfCli(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile('serf', args, { encoding: 'utf8', timeout: 15_000 }, (_err, stdout, stderr) => resolve(`${stdout}${stderr}`));
  });
}

/** serf members as {name: status}. */
async function serfMembers(rpc: string): Promise<Record<string, string>> {
  const out = await serfCli(['members', `-rpc-addr=${rpc}`, '-format=json']);
  const parsed = JSON.parse(out) as { members: Array<{ name: string; status: string }> };
  return Object.fromEntries(parsed.members.map((m) => [m.name, m.status]));
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function shoalAgent(name: string, port: number, keys: string[] = []): Promise<{ agent: Agent; events: SerfEvent[] }> {
  const agent = await Agent.start({
    nodeName: name, bindIp: '127.0.0.1', bindPort: port, tags: new Map([['impl', 'shoal']]), profile: 'lan', keys,
    rejoinAfterLeave: false, protocol: 5, logLevel: 'ERR',
  });
  agents.push(agent);
  const events: SerfEvent[] = [];
  agent.on('serf', (e: SerfEvent) => {
    events.push(e);
    // Every shoal agent answers the "whoami" query with its name.
    if (e.type === 'query' && e.query.name === 'whoami') agent.act((_s, now) => e.query.respond(now, new TextEncoder().encode(name)));
  });
  return { agent, events };
}

function statuses(agent: Agent): Record<string, string> {
  const names = ['none', 'alive', 'leaving', 'left', 'failed'];
  return Object.fromEntries(agent.serf.members().map((m) => [m.name, names[m.status] as string]));
}

describe('a mixed cluster of three serf and three shoal agents', { timeout: 240_000 }, () => {
  const handlerOut = join(dir, 'handler.out');
  const handler = join(dir, 'handler.sh');
  writeFileSync(handler, `#!/bin/sh\nif [ "$SERF_EVENT" = "query" ]; then echo "serf-$SERF_SELF_NAME"; else echo "$SERF_SELF_NAME $SERF_EVENT $SERF_USER_EVENT $(cat)" >> ${handlerOut}; fi\n`);
  chmodSync(handler, 0o755);
  const serfs = [0, 1, 2].map((i) => serfAgent(`serf-${i}`, 19401 + i, 19411 + i, [`-event-handler=${handler}`]));
  const shoals: Array<{ agent: Agent; events: SerfEvent[] }> = [];

  test('they join both ways and every agent lists six alive', async () => {
    await waitFor('serf agents up', () => serfs.every((s) => existsSync(s.logPath) && readFileSync(s.logPath, 'utf8').includes('Serf agent running')), 15_000);
    assert.match(await serfCli(['join', `-rpc-addr=${serfs[1]!.rpc}`, '127.0.0.1:19401']), /Successfully joined cluster by contacting 1 nodes/);
    for (let i = 0; i < 3; i++) shoals.push(await shoalAgent(`shoal-${i}`, 19421 + i));
    // shoal joins serf, and serf joins shoal.
    assert.equal((await shoals[0]!.agent.join(['127.0.0.1:19401'], false)).num, 1);
    assert.equal((await shoals[1]!.agent.join(['127.0.0.1:19421'], false)).num, 1);
    assert.match(await serfCli(['join', `-rpc-addr=${serfs[2]!.rpc}`, '127.0.0.1:19422']), /Successfully joined/);
    assert.equal((await shoals[2]!.agent.join(['127.0.0.1:19403'], false)).num, 1);
    const all = ['serf-0', 'serf-1', 'serf-2', 'shoal-0', 'shoal-1', 'shoal-2'];
    await waitFor('six alive everywhere', async () => {
      for (const s of serfs) {
        const m = await serfMembers(s.rpc);
        if (!all.every((n) => m[n] === 'alive')) return false;
      }
      return shoals.every((s) => { const m = statuses(s.agent); return all.every((n) => m[n] === 'alive'); });
    });
    assert.match(await serfCli(['members', `-rpc-addr=${serfs[0]!.rpc}`, '-tag', 'impl=shoal']), /shoal-0.*alive.*impl=shoal/);
  });

  test('user events and queries go round trip both ways', async () => {
    await serfCli(['event', `-rpc-addr=${serfs[0]!.rpc}`, '-coalesce=false', 'from-serf', 'p1']);
    await waitFor('shoal agents get the serf event', () => shoals.every((s) => s.events.some((e) => e.type === 'user' && e.name === 'from-serf')));
    shoals[1]!.agent.act((serf, now) => serf.userEvent(now, 'from-shoal', new TextEncoder().encode('p2'), false));
    await waitFor('serf handlers get the shoal event', () => existsSync(handlerOut) && ['serf-0', 'serf-1', 'serf-2'].every((n) => readFileSync(handlerOut, 'utf8').includes(`${n} user from-shoal p2`)));
    const queryOut = await serfCli(['query', `-rpc-addr=${serfs[1]!.rpc}`, '-timeout=4s', 'whoami']);
    for (const n of ['shoal-0', 'shoal-1', 'shoal-2']) assert.match(queryOut, new RegExp(`Response from '${n}': ${n}`));
    const responses = new Map<string, string>();
    let done = false;
    // Each serf answers by forking its handler script, which under a loaded machine has taken more
    // than 4 s once: a generous timeout, and the wait ends as soon as all three have answered.
    shoals[0]!.agent.act((serf, now) => serf.query(now, 'whoami', null, { requestAck: true, timeoutMs: 10_000 }, {
      onResponse: (from, payload) => responses.set(from, new TextDecoder().decode(payload ?? new Uint8Array())),
      onDone: () => { done = true; },
    }));
    await waitFor('the shoal query has three answers or finishes', () => done || responses.size === 3, 15_000);
    for (const n of ['serf-0', 'serf-1', 'serf-2']) assert.equal(responses.get(n)?.trim(), `serf-${n}`);
  });

  test('tags set on a shoal agent show in serf members', async () => {
    await new Promise<void>((resolve) => shoals[2]!.agent.act((serf, now) => serf.setTags(now, new Map([['impl', 'shoal'], ['role', 'cache']]), resolve)));
    await waitFor('serf sees the new tag', async () => /shoal-2.*role=cache/.test(await serfCli(['members', `-rpc-addr=${serfs[0]!.rpc}`, '-tag', 'role=cache'])));
  });

  test('kill -9 is seen as failed both ways, and a graceful leave as left both ways', async () => {
    // A shoal agent dies without a word: its sockets simply go quiet.
    const victim = shoals[2]!.agent;
    await victim.transport.close();
    await waitFor('serf agents see shoal-2 failed', async () => (await Promise.all(serfs.map((s) => serfMembers(s.rpc)))).every((m) => m['shoal-2'] === 'failed'), 40_000);
    serfs[2]!.proc.kill('SIGKILL');
    await waitFor('shoal agents see serf-2 failed', () => shoals.slice(0, 2).every((s) => statuses(s.agent)['serf-2'] === 'failed'), 40_000);
    assert.equal(await shoals[1]!.agent.leave(), null);
    await waitFor('serf agents see shoal-1 left', async () => (await Promise.all(serfs.slice(0, 2).map((s) => serfMembers(s.rpc)))).every((m) => m['shoal-1'] === 'left'));
    await serfCli(['leave', `-rpc-addr=${serfs[1]!.rpc}`]);
    await waitFor('shoal-0 sees serf-1 left', () => statuses(shoals[0]!.agent)['serf-1'] === 'left');
  });

  test("the serf agents' logs hold no error or warning caused by shoal's traffic", () => {
    for (const s of serfs) {
      const lines = readFileSync(s.logPath, 'utf8').split('\n').filter((l) => /\[(ERR|WARN)\]/.test(l));
      // Only the agents killed on purpose may show up in a warning or an error, and serf-1
      // announces its own departure after `serf leave`.
      const unexpected = lines.filter((l) => !/shoal-2|serf-2|127\.0\.0\.1:1940[23]|127\.0\.0\.1:19423|Serf shutdown detected, quitting/.test(l));
      assert.deepEqual(unexpected, [], `${s.logPath}`);
    }
  });
});

describe('an encrypted mixed cluster, and a key rotation driven by serf keys', { timeout: 180_000 }, () => {
  const k1 = Buffer.alloc(32, 7).toString('base64');
  const k2 = Buffer.alloc(32, 9).toString('base64');

  test('serf and shoal agents with one key join, rotate to a new key and stay together', async () => {
    const serfs = [0, 1].map((i) => serfAgent(`eserf-${i}`, 19431 + i, 19441 + i, [`-encrypt=${k1}`]));
    await waitFor('serf agents up', () => serfs.every((s) => existsSync(s.logPath) && readFileSync(s.logPath, 'utf8').includes('Serf agent running')), 15_000);
    const shoals = [await shoalAgent('eshoal-0', 19451, [k1]), await shoalAgent('eshoal-1', 19452, [k1])];
    assert.equal((await shoals[0]!.agent.join(['127.0.0.1:19431'], false)).num, 1);
    assert.match(await serfCli(['join', `-rpc-addr=${serfs[1]!.rpc}`, '127.0.0.1:19451']), /Successfully joined/);
    assert.equal((await shoals[1]!.agent.join(['127.0.0.1:19432'], false)).num, 1);
    const all = ['eserf-0', 'eserf-1', 'eshoal-0', 'eshoal-1'];
    const together = async (): Promise<boolean> => {
      for (const s of serfs) {
        const m = await serfMembers(s.rpc);
        if (!all.every((n) => m[n] === 'alive')) return false;
      }
      return shoals.every((s) => { const m = statuses(s.agent); return all.every((n) => m[n] === 'alive'); });
    };
    await waitFor('four alive everywhere, encrypted', together);
    const rpc = serfs[0]!.rpc;
    for (const [flag, key] of [['-install', k2], ['-use', k2], ['-remove', k1]] as const) {
      const out = await serfCli(['keys', `-rpc-addr=${rpc}`, `${flag}=${key}`]);
      assert.doesNotMatch(out, /Error|failure|reported success/, `serf keys ${flag}: ${out}`);
      await waitFor(`still together after ${flag}`, together, 15_000);
    }
    const list = await serfCli(['keys', `-rpc-addr=${rpc}`, '-list']);
    assert.match(list, new RegExp(`${k2.replace(/[+/=]/g, '\\$&')}\\s+\\[4/4\\]`), list);
    for (const s of shoals) assert.deepEqual(s.agent.keyring?.keys().map((k) => Buffer.from(k).toString('base64')), [k2]);
    // A user event still reaches everyone under the new key.
    shoals[0]!.agent.act((serf, now) => serf.userEvent(now, 'after-rotation', null, false));
    await waitFor('the other shoal agent gets it', () => shoals[1]!.events.some((e) => e.type === 'user' && e.name === 'after-rotation'));
  });
});

describe('a shoal agent restarted with its snapshot', { timeout: 120_000 }, () => {
  test('rejoins its previous peers with no join address', async () => {
    const snapshotPath = join(dir, 'snap-0');
    const s = serfAgent('sserf-0', 19461, 19471);
    await waitFor('serf agent up', () => existsSync(s.logPath) && readFileSync(s.logPath, 'utf8').includes('Serf agent running'), 15_000);
    const config = {
      nodeName: 'sshoal-0', bindIp: '127.0.0.1', bindPort: 19481, tags: new Map<string, string>(), profile: 'lan' as const, keys: [],
      rejoinAfterLeave: false, protocol: 5, logLevel: 'ERR' as const, snapshotPath,
    };
    const first = await Agent.start(config);
    agents.push(first);
    assert.equal((await first.join(['127.0.0.1:19461'], false)).num, 1);
    await waitFor('serf sees it', async () => (await serfMembers(s.rpc))['sshoal-0'] === 'alive');
    await first.shutdown();
    assert.match(readFileSync(snapshotPath, 'utf8'), /alive: sserf-0 127\.0\.0\.1:19461/);
    const second = await Agent.start(config);
    agents.push(second);
    await waitFor('the restarted agent is back in the cluster', async () =>
      second.serf.member('sserf-0')?.status === 1 && (await serfMembers(s.rpc))['sshoal-0'] === 'alive', 30_000);
  });
});
