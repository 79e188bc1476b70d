// The real `shoal sim --tui SCENARIO` in a real terminal (tmux): the scenario's members, the next
// fault announced, `+` speeds the virtual clock up until the partition starts and is marked, space
// pauses it (the clock holds still), `n` moves it exactly one check interval, `q` leaves a shell
// that works. The tmux server is ended in an after hook; every wait is bounded.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rowOf, Tmux, waitForScreen } from '../helpers/tmux.js';

const shoal = fileURLToPath(new URL('../../src/cli/shoal.js', import.meta.url));
// Scenario files are not built: they sit in the repository beside dist/.
const scenario = fileURLToPath(new URL('../../../sim/scenarios/partition-heal.yaml', import.meta.url));

/** The virtual clock in the second line, in ms: "virtual 48.500s / …" or "virtual 1m02.000s / …". */
function virtualMs(screen: readonly string[]): number {
  const m = /^virtual (?:(\d+)m)?(\d+\.\d{3})s/.exec(screen[1] ?? '');
  assert.ok(m !== null, `no virtual clock in: ${screen[1] ?? ''}`);
  return Math.round((Number(m[1] ?? 0) * 60 + Number(m[2])) * 1000);
}

test('shoal sim --tui: members, the fault marked, + faster, pause, single step, q', { timeout: 60_000 }, async (t) => {
  const tmux = new Tmux();
  t.after(() => tmux.kill());
  tmux.start();
  tmux.type(`${process.execPath} ${shoal} sim --tui ${scenario} --seed 3`);
  tmux.key('Enter');

  let screen = await waitForScreen(tmux, 'the simulated members', 15_000, (s) => /20 members: ● 20 alive/.test(s[0] ?? ''));
  assert.match(screen[0] as string, /^shoal tui · node-0 @ simulation · 20 members/);
  assert.match(screen[1] as string, /×1 ▶ running · no fault now · next: 50\/50 split at 10\.000s/, 'the planned fault is announced');
  assert.match(rowOf(screen, 'node-19'), /^● node-19\s+127\.0\.0\.20:7946\s+alive/);

  // ×1 → ×16: the partition at 10 s virtual comes within a second or two, and each side fails the other.
  for (let i = 0; i < 4; i++) tmux.type('+');
  screen = await waitForScreen(tmux, 'the partition marked and the other half failed', 25_000, (s) =>
    /×16 ▶ running · FAULT: 50\/50 split/.test(s[1] ?? '') && /● 10 alive ✖ 10 failed/.test(s[0] ?? ''));
  assert.match(rowOf(screen, 'node-15'), /^✖ node-15\s+\S+\s+failed/, 'node-0 sees the other half failed');

  tmux.type(' ');
  screen = await waitForScreen(tmux, 'paused', 5_000, (s) => /⏸ paused/.test(s[1] ?? ''));
  const pausedAt = virtualMs(screen);
  // Paused: the clock holds still over a few ticks.
  await new Promise((r) => setTimeout(r, 700));
  assert.equal(virtualMs(tmux.screen()), pausedAt, 'the virtual clock stands still while paused');

  // One step is one check interval of the scenario (500 ms).
  tmux.type('n');
  screen = await waitForScreen(tmux, 'one single step', 5_000, (s) => virtualMs(s) !== pausedAt);
  assert.equal(virtualMs(screen), pausedAt + 500);
  assert.match(screen[1] as string, /⏸ paused/);

  // The fault's start is marked in the event log, between the events before and after it (l: the
  // whole log; PgUp scrolls back to it).
  tmux.type('l');
  await waitForScreen(tmux, 'the log view', 5_000, (s) => s.some((l) => l.startsWith('── events (')));
  const mark = /^\+10\.\d{3}s ▼ fault starts: 50\/50 split$/;
  for (let i = 0; i < 3 && !tmux.screen().some((l) => mark.test(l)); i++) tmux.key('PPage');
  screen = await waitForScreen(tmux, 'the fault mark in the log', 5_000, (s) => s.some((l) => mark.test(l)));
  const markAt = screen.findIndex((l) => mark.test(l));
  assert.ok(screen.slice(markAt + 1).some((l) => /suspects node-1\d$/.test(l)), `suspicions of the other half follow the mark:\n${screen.join('\n')}`);
  tmux.type('l');

  tmux.type('q');
  await waitForScreen(tmux, 'the shell prompt after q', 5_000, (s) => s.some((l) => /^tui-test\$ ?$/.test(l)));
  tmux.type('echo ok-$((40+2))');
  tmux.key('Enter');
  screen = await waitForScreen(tmux, 'the shell to run a command after the TUI', 5_000, (s) => s.includes('ok-42'));
  assert.ok(screen.includes('tui-test$ echo ok-$((40+2))'), 'typed input echoes: the terminal is back in cooked mode');
});

test('shoal sim --tui without a terminal exits 1 and says to run it without --tui; bad combinations exit 2', () => {
  const run = (...args: string[]): { status: number; stderr: string } => {
    try {
      execFileSync(process.execPath, [shoal, 'sim', ...args], { encoding: 'utf8', stdio: 'pipe', timeout: 30_000 });
      return { status: 0, stderr: '' };
    } catch (err) {
      return { status: (err as { status: number }).status, stderr: String((err as { stderr: string }).stderr) };
    }
  };
  const noTerminal = run('--tui', scenario);
  assert.equal(noTerminal.status, 1);
  assert.match(noTerminal.stderr, /shoal sim --tui: the terminal UI needs an interactive terminal/);
  assert.match(noTerminal.stderr, /without --tui/);
  const withJson = run('--tui', '--json', scenario);
  assert.equal(withJson.status, 2);
  assert.match(withJson.stderr, /--tui cannot be combined with --json/);
  const twoFiles = run('--tui', scenario, scenario);
  assert.equal(twoFiles.status, 2);
  assert.match(twoFiles.stderr, /--tui shows one scenario, got 2 files/);
});
