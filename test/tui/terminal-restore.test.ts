// The TUI gives the terminal back when it dies: on an uncaught exception (the error is printed
// after the screen is restored, so it can be read) and on SIGTERM. Checked in a real terminal
// (tmux): the shell prompt returns and a typed command echoes and runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Tmux, waitForScreen } from '../helpers/tmux.js';

const fixture = fileURLToPath(new URL('./crash-fixture.js', import.meta.url));

async function shellWorks(tmux: Tmux, n: number): Promise<string[]> {
  await waitForScreen(tmux, 'the shell prompt', 5_000, (s) => s.some((l) => /^tui-test\$ ?$/.test(l)));
  tmux.type(`echo restored-$((${n}+1))`);
  tmux.key('Enter');
  return waitForScreen(tmux, 'the command to echo and run', 5_000, (s) => s.includes(`restored-${n + 1}`) && s.includes(`tui-test$ echo restored-$((${n}+1))`));
}

test('a crash restores the terminal and prints the error', { timeout: 30_000 }, async (t) => {
  const tmux = new Tmux();
  t.after(() => tmux.kill());
  tmux.start();
  tmux.type(`${process.execPath} ${fixture} throw; echo "status $?"`);
  tmux.key('Enter');
  const screen = await shellWorks(tmux, 1);
  assert.ok(screen.some((l) => l.startsWith('shoal tui crashed: Error: boom from the crash fixture')), screen.join('\n'));
  assert.ok(screen.includes('status 70'), screen.join('\n'));
  assert.ok(!screen.some((l) => l.includes('crash fixture running')), 'the alternate screen is gone');
});

test('SIGTERM restores the terminal', { timeout: 30_000 }, async (t) => {
  const tmux = new Tmux();
  t.after(() => tmux.kill());
  tmux.start();
  tmux.type(`${process.execPath} ${fixture} & sleep 1.5; kill -TERM $!; wait $!; echo "status $?"`);
  tmux.key('Enter');
  const screen = await shellWorks(tmux, 2);
  assert.ok(screen.includes('status 143'), screen.join('\n'));
});
