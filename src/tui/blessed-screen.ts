// The only module that imports blessed: it paints the renderer's lines into one full-screen box,
// reads keys, follows resizes, and puts the terminal back (normal screen, cursor, cooked mode) on
// quit, on SIGTERM/SIGINT/SIGHUP, and on a crash — a TUI that dies in raw mode on the alternate
// screen leaves the person with a terminal that looks broken.
import type { Readable, Writable } from 'node:stream';
import blessed from 'blessed';
import type { KeyPress, TuiScreen } from './app.js';
import type { ScreenLine, Style } from './render.js';

/** blessed tags for each style. */
const STYLE_TAGS: Readonly<Record<Style, readonly [string, string]>> = {
  plain: ['', ''],
  title: ['{bold}', '{/bold}'],
  dim: ['{gray-fg}', '{/gray-fg}'],
  head: ['{bold}', '{/bold}'],
  alive: ['{green-fg}', '{/green-fg}'],
  suspect: ['{yellow-fg}{bold}', '{/bold}{/yellow-fg}'],
  leaving: ['{cyan-fg}', '{/cyan-fg}'],
  left: ['{gray-fg}', '{/gray-fg}'],
  failed: ['{red-fg}{bold}', '{/bold}{/red-fg}'],
  none: ['{gray-fg}', '{/gray-fg}'],
  warn: ['{yellow-fg}', '{/yellow-fg}'],
  err: ['{red-fg}', '{/red-fg}'],
  fault: ['{magenta-fg}{bold}', '{/bold}{/magenta-fg}'],
  input: ['{underline}', '{/underline}'],
  key: ['{cyan-fg}', '{/cyan-fg}'],
};

/** Turns the renderer's lines into blessed's tagged text. */
export function toBlessedContent(lines: readonly ScreenLine[]): string {
  return lines.map((line) => {
    const body = line.segments.map((s) => {
      const [open, close] = STYLE_TAGS[s.style];
      return `${open}${blessed.escape(s.text)}${close}`;
    }).join('');
    return line.inverse === true ? `{inverse}${body}{/inverse}` : body;
  }).join('\n');
}

export interface BlessedScreenOptions {
  /** Streams other than the process's (the benchmark paints into a sink). */
  readonly input?: NodeJS.ReadableStream;
  readonly output?: NodeJS.WritableStream;
  /** Install process handlers that restore the terminal on signals and crashes (default true). */
  readonly guardProcess?: boolean;
}

export function openBlessedScreen(options: BlessedScreenOptions = {}): TuiScreen {
  const screen = blessed.screen({
    smartCSR: true,
    fullUnicode: true,
    // blessed otherwise swaps ─ and · for the terminal's line-drawing set when LANG does not say UTF-8.
    forceUnicode: true,
    warnings: false,
    autoPadding: false,
    title: 'shoal tui',
    // @types/blessed types the screen's input as a Writable; blessed reads keys from it.
    ...(options.input === undefined ? {} : { input: options.input as unknown as Writable }),
    ...(options.output === undefined ? {} : { output: options.output as unknown as Readable }),
  });
  // And it would draw ─ and · with the terminal's ACS line-drawing mode, which tmux and many
  // terminals then show as 'q' and '~': UTF-8 is drawn as it is.
  (screen as unknown as { tput: { brokenACS: boolean } }).tput.brokenACS = true;
  const box = blessed.box({ top: 0, left: 0, width: '100%', height: '100%', tags: true, wrap: false });
  screen.append(box);
  let destroyed = false;
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    try {
      screen.destroy();
    } catch {
      // Restoring is best effort: a closed terminal cannot be restored.
    }
  };
  if (options.guardProcess !== false) guardProcess(destroy);
  return {
    size: () => ({ cols: Number(screen.width), rows: Number(screen.height) }),
    paint: (lines) => {
      if (destroyed) return;
      box.setContent(toBlessedContent(lines));
      screen.render();
    },
    onKey: (handler) => {
      screen.on('keypress', (ch: string | undefined, key: { name?: string; ctrl?: boolean; full?: string } | undefined) => {
        // blessed reports \r twice, as 'return' and as 'enter': take one.
        if (key?.name === 'return') return;
        handler(normaliseKey(ch, key));
      });
    },
    onResize: (handler) => {
      screen.on('resize', handler);
    },
    destroy,
  };
}

function normaliseKey(ch: string | undefined, key: { name?: string; ctrl?: boolean } | undefined): KeyPress {
  let name = key?.name ?? ch ?? '';
  if (name === 'linefeed') name = 'enter';
  // Keys blessed does not name ('/', '?', '+') come as the character alone.
  if (name === '' && ch !== undefined) name = ch;
  const out: KeyPress = { name, ctrl: key?.ctrl === true };
  return ch === undefined ? out : { ...out, ch };
}

/**
 * Restores the terminal before the process ends for any reason: the exit hook covers process.exit,
 * the signal handlers cover kill and a closed terminal, the crash handlers print the error after
 * the terminal is back so it can be read.
 */
function guardProcess(destroy: () => void): void {
  process.once('exit', destroy);
  for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130], ['SIGHUP', 129]] as const) {
    process.once(signal, () => {
      destroy();
      process.exit(code);
    });
  }
  const crash = (err: unknown): void => {
    destroy();
    process.stderr.write(`shoal tui crashed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(70);
  };
  process.once('uncaughtException', crash);
  process.once('unhandledRejection', crash);
}
