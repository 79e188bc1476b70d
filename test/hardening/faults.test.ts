// Faults on real shoal agent processes (bench/hardening/agents.ts): a stalled agent (SIGSTOP),
// one agent restarted two dozen times in a row, its snapshot file truncated or corrupted, and
// the disk filling up under it. Ports 25400–25499 (gossip 254xx, RPC 254xx + 50). Every process
// is killed in `after`; every wait is bounded. `npm run bench:faults` measures the same faults
// at length, shoal beside serf.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isRunning, kill, killAllAgents, members, rpc, sleep, snapshotPath, startAgent, stats, waitExit, waitRpc, type AgentSpec, type LocalAgent,
} from '../../bench/hardening/agents.js';

/** Restarts in the CI test (`npm run bench:faults -- --restarts N` does more). */
const RESTARTS = Number(process.env['SHOAL_RESTARTS'] ?? 12);
const dirs: string[] = [];
const mounts: string[] = [];
after(() => {
  killAllAgents();
  for (const m of mounts) {
    try {
      execFileSync('umount', ['-l', m]);
    } catch {
      // not mounted
    }
  }
  if (process.env['KEEP_FAULT_DIRS'] !== '1') for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(): string {
  const d = mkdtempSync(join(tmpdir(), 'shoal-faults-'));
  dirs.push(d);
  return d;
}

function spec(dir: string, i: number, extra: Partial<AgentSpec> = {}): AgentSpec {
  return { impl: 'shoal', name: `f${i}`, port: 25_400 + i, rpcPort: 25_450 + i, dir, profile: 'local', extraArgs: ['-log-level=info'], ...extra };
}

async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let lastError: string;
  for (;;) {
    try {
      if (await check()) return;
      lastError = '';
    } catch (err) {
      // an agent between lives: ask again
      lastError = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}${lastError === '' ? '' : ` (last error: ${lastError})`}`);
    await sleep(150);
  }
}

async function statusIn(observer: LocalAgent, name: string): Promise<string | undefined> {
  return (await members(observer)).find((m) => m.Name === name)?.Status;
}

async function allSee(observers: readonly LocalAgent[], name: string, status: string): Promise<boolean> {
  for (const o of observers) if ((await statusIn(o, name)) !== status) return false;
  return true;
}

async function startCluster(dir: string, n: number, extra: (i: number) => Partial<AgentSpec> = () => ({})): Promise<LocalAgent[]> {
  const agents: LocalAgent[] = [];
  for (let i = 0; i < n; i++) {
    const a = startAgent(spec(dir, i, { ...(i > 0 ? { join: ['127.0.0.1:25400'] } : {}), ...extra(i) }));
    await waitRpc(a);
    agents.push(a);
  }
  await eventually(`${n} agents see each other`, async () => {
    for (const a of agents) if ((await members(a)).filter((m) => m.Status === 'alive').length !== n) return false;
    return true;
  });
  return agents;
}

function logOf(a: LocalAgent): string {
  return readFileSync(a.logFile, 'utf8');
}

describe('faults on real agent processes', () => {
  test('a stalled agent (SIGSTOP 4 s): the healthy ones are never accused; the stalled one comes back alive', async () => {
    const dir = tmp();
    const agents = await startCluster(dir, 4);
    const healthy = agents.slice(0, 3);
    const stalled = agents[3] as LocalAgent;
    stalled.child.kill('SIGSTOP');
    const accused: string[] = [];
    const until = Date.now() + 4_000;
    while (Date.now() < until) {
      for (const o of healthy) {
        for (const m of await members(o)) {
          if (m.Status !== 'alive' && healthy.some((h) => h.spec.name === m.Name)) accused.push(`${o.spec.name} sees ${m.Name} ${m.Status}`);
        }
      }
      await sleep(200);
    }
    stalled.child.kill('SIGCONT');
    assert.deepEqual(accused, []);
    await eventually('every agent sees the stalled one alive again', () => allSee(agents, stalled.spec.name, 'alive'));
    for (const a of agents) assert.ok(isRunning(a));
    for (const a of agents) kill(a);
  });

  test('an agent restarted a dozen times in a row (kill -9 and graceful leave by turns) rejoins every time, with no leftover state', async () => {
    const dir = tmp();
    const agents = await startCluster(dir, 3, (i) => (i === 2 ? { snapshot: true } : {}));
    const peers = agents.slice(0, 2);
    let victim = agents[2] as LocalAgent;
    const name = victim.spec.name;
    for (let round = 0; round < RESTARTS; round++) {
      const graceful = round % 2 === 1;
      if (graceful) {
        victim.child.kill('SIGINT'); // leaves gracefully, then exits
        await waitExit(victim, 10_000);
        await eventually(`round ${round}: peers see ${name} left`, () => allSee(peers, name, 'left'));
      } else {
        kill(victim);
        await waitExit(victim);
      }
      victim = startAgent({ ...victim.spec, join: ['127.0.0.1:25400'] });
      await waitRpc(victim);
      await eventually(`round ${round}: peers see ${name} alive`, () => allSee(peers, name, 'alive'));
      await eventually(`round ${round}: ${name} sees the peers alive`, async () => (await members(victim)).filter((m) => m.Status === 'alive').length === 3);
    }
    // No duplicates, nothing stale: exactly the three members, all alive, everywhere.
    for (const a of [...peers, victim]) {
      const list = await members(a);
      assert.deepEqual(list.map((m) => `${m.Name}:${m.Status}`).sort(), ['f0:alive', 'f1:alive', 'f2:alive']);
    }
    // The snapshot stays small (it is compacted), and no life logged an internal error.
    const size = statSync(snapshotPath(victim.spec)).size;
    assert.ok(size < 64 * 1024, `snapshot grew to ${size} bytes`);
    assert.doesNotMatch(logOf(victim), /internal error|Unhandled|TypeError/);
    for (const a of [...peers, victim]) kill(a);
  });

  test('a truncated or corrupted snapshot: clear warnings, the agent starts, and it recovers what its peers still know', async () => {
    const dir = tmp();
    const agents = await startCluster(dir, 3, (i) => (i === 0 ? { snapshot: true } : {}));
    const [a0, a1, a2] = agents as [LocalAgent, LocalAgent, LocalAgent];
    await rpc(a1, (c) => c.call('event', { Name: 'before', Payload: Uint8Array.of(1), Coalesce: false }));
    await eventually('a0 saw the event', async () => Number((await stats(a0)).get('serf')?.get('event_time')) >= 1);
    const eventTime = Number((await stats(a1)).get('serf')?.get('event_time'));
    await sleep(600); // the snapshotter appends on its own schedule
    const path = snapshotPath(a0.spec);
    const good = readFileSync(path);
    assert.match(good.toString(), /alive: f1 /);
    const corruptions: [string, (b: Buffer) => Buffer][] = [
      ['cut mid-line', (b) => b.subarray(0, Math.max(1, b.length - 7))],
      ['junk in the middle', (b) => Buffer.concat([b.subarray(0, b.length >> 1), Buffer.from('\u0000\u0001zz not a record \xff\n'), b.subarray(b.length >> 1)])],
      ['all binary junk', () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) & 0xff))],
    ];
    let agent = a0;
    for (const [what, corrupt] of corruptions) {
      kill(agent);
      await waitExit(agent);
      writeFileSync(path, corrupt(good));
      // Restarted with a join address, as an operator would: the peers fill in what was lost.
      agent = startAgent({ ...a0.spec, join: ['127.0.0.1:25401'] });
      await waitRpc(agent);
      await eventually(`${what}: a0 sees both peers alive`, async () => (await members(agent)).filter((m) => m.Status === 'alive').length === 3);
      await eventually(`${what}: the peers see a0 alive`, () => allSee([a1, a2], 'f0', 'alive'));
      await eventually(`${what}: a0's event clock caught up`, async () => Number((await stats(agent)).get('serf')?.get('event_time')) >= eventTime);
      assert.ok(isRunning(agent));
    }
    const log = logOf(agent);
    assert.match(log, /snapshot line \d+: /, 'the corruption is reported, naming the line');
    kill(agent);
    kill(a1);
    kill(a2);
  });

  test('the disk fills up under the snapshot: a clear error, the agent keeps running, and writes resume when space returns', async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('mounting a small tmpfs needs root (CI is root)');
      return;
    }
    const dir = tmp();
    const mnt = join(dir, 'small');
    execFileSync('mkdir', ['-p', mnt]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mnt]);
    mounts.push(mnt);
    // Fill the file system to the last byte, then start an agent whose snapshot lives there.
    try {
      execFileSync('dd', ['if=/dev/zero', `of=${join(mnt, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
    } catch {
      // dd ends with "No space left on device": that is the point
    }
    const agents = await startCluster(dir, 2, (i) => (i === 1 ? { extraArgs: ['-log-level=info', `-snapshot=${join(mnt, 'f1.snapshot')}`] } : {}));
    const [a0, a1] = agents as [LocalAgent, LocalAgent];
    // Membership changes and events make the snapshotter write.
    const extra = startAgent(spec(dir, 2, { join: ['127.0.0.1:25400'] }));
    await waitRpc(extra);
    for (let i = 0; i < 20; i++) await rpc(a0, (c) => c.call('event', { Name: `full-${i}`, Payload: new Uint8Array(100), Coalesce: false }));
    await eventually('the write error is logged', () => /failed to write snapshot .*ENOSPC/.test(logOf(a1)), 10_000);
    assert.ok(isRunning(a1), 'the agent is still running');
    // The write error can come before f2's join reaches a1 (the events alone make a1 write).
    await eventually('a1, its disk full, still follows the cluster: sees f2 join', async () => (await statusIn(a1, 'f2')) === 'alive', 10_000);
    // Space comes back: the next writes land.
    rmSync(join(mnt, 'filler'));
    const sizeBefore = existsSync(join(mnt, 'f1.snapshot')) ? statSync(join(mnt, 'f1.snapshot')).size : 0;
    kill(extra);
    const killedAt = Date.now();
    // Bounded by the local profile's worst case: a probe round, then Lifeguard's longest suspicion
    // (6 × 3 s = 18 s when no second node confirms), with room for a loaded CI machine.
    let lastSeen: string | undefined;
    await eventually('a1 sees f2 failed', async () => (lastSeen = await statusIn(a1, 'f2')) === 'failed', 40_000).catch((err: unknown) => {
      throw new Error(`${err instanceof Error ? err.message : String(err)}; a1 last saw f2 ${lastSeen ?? 'nowhere'}; a1's log: ${a1.logFile}`);
    });
    t.diagnostic(`a1 saw f2 failed ${Date.now() - killedAt} ms after the kill`);
    for (let i = 0; i < 5; i++) await rpc(a0, (c) => c.call('event', { Name: `room-${i}`, Payload: null, Coalesce: false }));
    await eventually('the snapshot grows again', () => statSync(join(mnt, 'f1.snapshot')).size > sizeBefore, 10_000);
    assert.match(logOf(a1), /snapshot .* is written again \(\d+ writes failed/);
    const errorLines = logOf(a1).split('\n').filter((l) => /failed to write snapshot/.test(l)).length;
    assert.ok(errorLines >= 1 && errorLines <= 3, `${errorLines} error lines: one at first, then one per 100 failures`);
    assert.ok(isRunning(a1));
    kill(a0);
    kill(a1);
  });
});
