// Drives a real terminal for end-to-end tests of the TUI: a private tmux server (its own socket,
// so parallel tests never meet), keys in, the screen out as text. Every wait is bounded.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

export async function waitFor(what: string, limitMs: number, check: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
}

export class Tmux {
  readonly socket = `shoal-tui-test-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  run(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', timeout: 5_000 });
  }
  start(): void {
    // A plain shell with a known prompt, 160×50 as an operator's terminal.
    this.run('new-session', '-d', '-x', '160', '-y', '50', 'env', 'PS1=tui-test$ ', 'TERM=xterm-256color', 'bash', '--norc', '--noprofile');
  }
  type(text: string): void {
    this.run('send-keys', '-l', '--', text);
  }
  key(name: string): void {
    this.run('send-keys', name);
  }
  screen(): string[] {
    return this.run('capture-pane', '-p').split('\n');
  }
  kill(): void {
    try {
      this.run('kill-server');
    } catch {
      // already gone
    }
    // tmux leaves the socket file of a killed server behind.
    rmSync(join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
  }
}

export const rowOf = (screen: string[], name: string): string => screen.find((l) => new RegExp(`^. ${name}\\s`).test(l)) ?? '';

export async function waitForScreen(tmux: Tmux, what: string, limitMs: number, ok: (screen: string[]) => boolean): Promise<string[]> {
  let last: string[] = [];
  try {
    await waitFor(what, limitMs, () => ok((last = tmux.screen())));
  } catch (err) {
    throw new Error(`${(err as Error).message}; the screen was:\n${last.join('\n')}`, { cause: err });
  }
  return last;
}

