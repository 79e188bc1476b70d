// `shoal demo` starts a local cluster, shows it converged, and leaves no process behind: piped it
// prints the members; in a terminal (tmux) it opens the TUI, whose keys kill and restart members.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rowOf, Tmux, waitForScreen } from '../helpers/tmux.js';

const shoal = fileURLToPath(new URL('../../src/cli/shoal.js', import.meta.url));

test('shoal demo runs two agents that see each other alive, and Ctrl-C stops them all', { timeout: 60_000 }, async () => {
  const demo = spawn(process.execPath, [shoal, 'demo', '-nodes=2', '-base-port=23401', '-rpc-port=23411', '-http-port=23414', '-dns-port=23417'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (c: Buffer) => (out += c.toString()));
  demo.stderr.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const end = Date.now() + 30_000;
    while (Date.now() < end && !(/demo-0\s+127\.0\.0\.1:23401\s+alive/.test(out) && /demo-1\s+127\.0\.0\.1:23402\s+alive/.test(out))) {
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(out, /demo-1\s+127\.0\.0\.1:23402\s+alive/, out);
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    demo.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 25_000))]);
    assert.notEqual(code, 'timeout', 'the demo stops');
    assert.match(out, /stopping, every agent leaves/);
  } finally {
    if (demo.exitCode === null) demo.kill('SIGKILL');
  }
  const left = (() => {
    try {
      return execFileSync('pgrep', ['-f', 'agent -node=demo-.*-bind=127.0.0.1:2340'], { encoding: 'utf8' });
    } catch {
      return '';
    }
  })();
  assert.equal(left.trim(), '', 'no agent outlives the demo');
});

test('shoal demo refuses a bad node count with a readable error', () => {
  let status = 0;
  let stderr = '';
  try {
    execFileSync(process.execPath, [shoal, 'demo', '-nodes=0'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    status = (err as { status: number }).status;
    stderr = String((err as { stderr: string }).stderr);
  }
  assert.equal(status, 1);
  assert.match(stderr, /-nodes: expected a whole number from 1 to 20, got "0"/);
});

test('shoal demo in a terminal: the TUI shows the cluster; x kills the selected member, r restarts it, q stops them all', { timeout: 90_000 }, async (t) => {
  const tmux = new Tmux();
  // Killing the tmux server hangs up the demo, whose exit hook SIGKILLs every agent it started.
  t.after(() => tmux.kill());
  tmux.start();
  tmux.type(`${process.execPath} ${shoal} demo -nodes=3 -base-port=23421 -rpc-port=23431 -http-port=23434 -dns-port=23437`);
  tmux.key('Enter');
  let screen = await waitForScreen(tmux, 'three demo members alive', 20_000, (s) => ['demo-0', 'demo-1', 'demo-2'].every((n) => /alive/.test(rowOf(s, n))));
  assert.match(screen[1] as string, /^demo: select a member, then x kill -9 · p pause\/resume · r restart/);
  tmux.key('End');
  tmux.key('x');
  screen = await waitForScreen(tmux, 'demo-2 failed after x', 35_000, (s) => /^✖ demo-2\s+\S+\s+failed\*/.test(rowOf(s, 'demo-2')));
  assert.ok(screen.some((l) => /demo: kill -9 demo-2 \(pid \d+\)/.test(l)), screen.join('\n'));
  tmux.key('r');
  await waitForScreen(tmux, 'demo-2 alive after r', 20_000, (s) => /^● demo-2\s+\S+\s+alive\s/.test(rowOf(s, 'demo-2')));
  tmux.key('q');
  screen = await waitForScreen(tmux, 'the demo to stop and the prompt to return', 20_000, (s) => s.some((l) => /^tui-test\$ ?$/.test(l)));
  assert.ok(screen.some((l) => /shoal demo: stopping, every agent leaves/.test(l)), screen.join('\n'));
  const left = (() => {
    try {
      return execFileSync('pgrep', ['-f', 'agent -node=demo-.*-bind=127.0.0.1:2342'], { encoding: 'utf8' });
    } catch {
      return '';
    }
  })();
  assert.equal(left.trim(), '', 'no agent outlives the demo');
});
