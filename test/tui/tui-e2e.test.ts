// The real `shoal tui` in a real terminal (tmux), against three real agents started here — shoal
// agents, then real `serf` agents: all alive; kill -9 of one shows it failed within the detection
// bound; a restart shows it alive again; the filter narrows the table; q exits and the shell works.
// Every process and the tmux server are ended in after hooks; every wait is bounded.
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rowOf, Tmux, waitFor, waitForScreen } from '../helpers/tmux.js';

const shoal = fileURLToPath(new URL('../../src/cli/shoal.js', import.meta.url));

/**
 * LAN profile: a probe each second, suspicion timeout 4 × max(1, log10(3)) s = 4 s at the least and
 * up to 6× that without confirmations; the failure then reaches the observer by gossip or by its own
 * probe. 35 s covers the slowest case with room for a loaded CI machine.
 */
const DETECTION_BOUND_MS = 35_000;

interface AgentSpec {
  readonly name: string;
  readonly bindPort: number;
  readonly rpcPort: number;
}

type Kind = 'shoal' | 'serf';

function agentCommand(kind: Kind, spec: AgentSpec, joinPort: number | null): [string, string[]] {
  const args = [`-node=${spec.name}`, `-bind=127.0.0.1:${spec.bindPort}`, `-rpc-addr=127.0.0.1:${spec.rpcPort}`, `-tag=role=${spec.name.endsWith('a') ? 'web' : 'db'}`];
  if (joinPort !== null) args.push(`-join=127.0.0.1:${joinPort}`);
  return kind === 'shoal' ? [process.execPath, [shoal, 'agent', ...args, '-log-level=warn']] : ['serf', ['agent', ...args]];
}

function rpcUp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

class Cluster {
  readonly procs = new Map<string, ChildProcess>();
  constructor(readonly kind: Kind, readonly specs: readonly AgentSpec[]) {}

  async start(spec: AgentSpec): Promise<void> {
    // Join through any other agent that runs (none for the very first).
    const seed = this.specs.find((s) => s !== spec && this.running(s.name));
    const [cmd, args] = agentCommand(this.kind, spec, seed === undefined ? null : seed.bindPort);
    const child = spawn(cmd, args, { stdio: 'ignore' });
    this.procs.set(spec.name, child);
    await waitFor(`${spec.name}'s RPC port`, 10_000, () => rpcUp(spec.rpcPort));
  }

  running(name: string): boolean {
    const p = this.procs.get(name);
    return p !== undefined && p.exitCode === null && p.signalCode === null;
  }

  kill9(name: string): void {
    this.procs.get(name)?.kill('SIGKILL');
  }

  killAll(): void {
    for (const p of this.procs.values()) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  }
}

async function scenario(t: TestContext, kind: Kind, basePort: number): Promise<void> {
  const specs: AgentSpec[] = ['a', 'b', 'c'].map((x, i) => ({ name: `${kind}-${x}`, bindPort: basePort + i, rpcPort: basePort + 10 + i }));
  const cluster = new Cluster(kind, specs);
  const tmux = new Tmux();
  t.after(() => {
    tmux.kill();
    cluster.killAll();
  });
  for (const s of specs) await cluster.start(s);
  const [a, , c] = specs as [AgentSpec, AgentSpec, AgentSpec];
  tmux.start();
  tmux.type(`${process.execPath} ${shoal} tui -rpc-addr=127.0.0.1:${a.rpcPort}`);
  tmux.key('Enter');

  let screen = await waitForScreen(tmux, 'all three members alive', 20_000, (s) => specs.every((x) => /alive/.test(rowOf(s, x.name))));
  assert.match(screen[0] as string, new RegExp(`shoal tui · ${a.name} @ 127\\.0\\.0\\.1:${a.rpcPort} · 3 members: ● 3 alive`));
  assert.match(rowOf(screen, c.name), new RegExp(`^● ${c.name}\\s+127\\.0\\.0\\.1:${c.bindPort}\\s+alive\\s+\\d/\\d\\s+.*role=db$`));

  const killedAt = Date.now();
  cluster.kill9(c.name);
  screen = await waitForScreen(tmux, `${c.name} shown failed`, DETECTION_BOUND_MS, (s) => /^✖ \S+\s+\S+\s+failed/.test(rowOf(s, c.name)) && s.some((l) => l.includes(`member-failed ${c.name} `)));
  const detectedMs = Date.now() - killedAt;
  t.diagnostic(`${kind}: kill -9 of ${c.name} shown failed after ${detectedMs} ms`);
  assert.match(screen[0] as string, /● 2 alive ✖ 1 failed/);
  if (kind === 'shoal') assert.ok(screen.some((l) => new RegExp(`suspects ${c.name}$`).test(l)), `who suspected is in the log:\n${screen.join('\n')}`);

  await cluster.start(c);
  screen = await waitForScreen(tmux, `${c.name} alive again`, 20_000, (s) => /^● \S+\s+\S+\s+alive/.test(rowOf(s, c.name)));
  assert.match(screen[0] as string, /● 3 alive ✖ 0 failed/);

  // The watched agent itself restarts: the TUI says so and reconnects by itself.
  cluster.kill9(a.name);
  await waitForScreen(tmux, 'the lost agent on screen', 10_000, (s) => /⚠ agent lost, reconnecting/.test(s[0] as string));
  await cluster.start(a);
  screen = await waitForScreen(tmux, 'the TUI reconnected', 15_000, (s) => !/⚠/.test(s[0] as string) && s.some((l) => /lost the agent: .*; reconnecting/.test(l)));
  assert.ok(screen.filter((l) => new RegExp(`connected to 127\\.0\\.0\\.1:${a.rpcPort}$`).test(l)).length >= 2, screen.join('\n'));
  await waitForScreen(tmux, 'the restarted agent to see the cluster again', 15_000, (s) => /3 members: ● 3 alive/.test(s[0] as string));

  tmux.key('/');
  tmux.type('-tag role=web');
  tmux.key('Enter');
  screen = await waitForScreen(tmux, 'the filter to narrow the table', 5_000, (s) => s.some((l) => /\[1–1 of 1, filter: -tag role=web\]/.test(l)));
  assert.notEqual(rowOf(screen, a.name), '');
  assert.equal(rowOf(screen, c.name), '', 'the filtered-out member is gone from the table');

  // A resize repaints at the new width: the rule above the event log spans it exactly.
  tmux.run('resize-window', '-x', '100', '-y', '40');
  await waitForScreen(tmux, 'a repaint at 100 columns', 5_000, (s) => s.some((l) => l.startsWith('── events') && l.length === 100));

  tmux.key('q');
  await waitForScreen(tmux, 'the shell prompt after q', 5_000, (s) => s.some((l) => /^tui-test\$ ?$/.test(l)));
  tmux.type('echo ok-$((40+2))');
  tmux.key('Enter');
  screen = await waitForScreen(tmux, 'the shell to run a command after the TUI', 5_000, (s) => s.includes('ok-42'));
  assert.ok(screen.some((l) => l === 'tui-test$ echo ok-$((40+2))'), 'typed input echoes: the terminal is back in cooked mode');
}

test('shoal tui against three shoal agents: alive, kill -9 shown failed, restart alive, filter, q', { timeout: 90_000 }, async (t) => {
  await scenario(t, 'shoal', 23300);
});

test('shoal tui against three real serf agents: the same', { timeout: 90_000 }, async (t) => {
  await scenario(t, 'serf', 23340);
});

test('shoal tui without a terminal exits non-zero and points to shoal members / shoal monitor', () => {
  let status = 0;
  let stderr = '';
  try {
    execFileSync(process.execPath, [shoal, 'tui', '-rpc-addr=127.0.0.1:23399'], { encoding: 'utf8', stdio: 'pipe', timeout: 10_000 });
  } catch (err) {
    status = (err as { status: number }).status;
    stderr = String((err as { stderr: string }).stderr);
  }
  assert.equal(status, 1);
  assert.match(stderr, /the terminal UI needs an interactive terminal/);
  assert.match(stderr, /shoal members/);
  assert.match(stderr, /shoal monitor/);
});
