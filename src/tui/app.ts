// The TUI's controller: keys change the model or go to the source, model changes schedule a
// repaint, a one-second tick keeps "last change 12s ago" true. It knows the screen and the source
// only through the two small interfaces below, so blessed can be swapped for another library and
// the tests drive it with a fake screen.
import type { TuiModel } from './model.js';
import { render, type RenderOptions, type ScreenLine } from './render.js';

/** One key press, in blessed's names ('up', 'enter', 'escape', 'backspace', 'pageup', …) or a character. */
export interface KeyPress {
  readonly name: string;
  /** The character typed, for printable keys. */
  readonly ch?: string;
  readonly ctrl?: boolean;
}

/** What the controller needs from a terminal. */
export interface TuiScreen {
  size(): { readonly cols: number; readonly rows: number };
  paint(lines: readonly ScreenLine[]): void;
  onKey(handler: (key: KeyPress) => void): void;
  onResize(handler: () => void): void;
  /** Restores the terminal (normal screen, cursor, cooked mode). Safe to call twice. */
  destroy(): void;
}

/** Where the data comes from: an agent over RPC, or a simulation. */
export interface TuiSource {
  readonly clock: 'wall' | 'virtual';
  /** Starts feeding the model; call `changed` after each change so the screen follows. */
  start(model: TuiModel, changed: () => void): void;
  stop(): Promise<void>;
  /** The time the header and the log measure against (Date.now() or the virtual clock). */
  now(): number;
  /** Sends a user event; resolves to an error message, or null when it was sent. */
  fireUserEvent?(name: string, payload: string): Promise<string | null>;
  /** Keys of the source's own (demo: kill/pause/restart; simulation: pacing). True when handled. */
  handleKey?(key: KeyPress, model: TuiModel): boolean;
}

/** Bursts of events (a partition fails 500 members at once) repaint once per this interval at most. */
const REPAINT_COALESCE_MS = 40;
/** The header's "last change … ago" and the simulation's clock move on their own. */
const TICK_MS = 1_000;

export class TuiApp {
  private repaintTimer: NodeJS.Timeout | null = null;
  private tickTimer: NodeJS.Timeout | null = null;
  private paintedVersion = -1;
  private quitting = false;
  private resolveDone: () => void = () => undefined;
  /** Resolves when the user quits (q, Ctrl-C). */
  readonly done: Promise<void>;
  /** The last painted screen, for tests and the benchmark. */
  lastLines: readonly ScreenLine[] = [];

  constructor(
    readonly model: TuiModel,
    private readonly screen: TuiScreen,
    private readonly source: TuiSource,
    private readonly renderOptions: RenderOptions = { clock: source.clock },
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  start(): void {
    this.screen.onKey((key) => this.handleKey(key));
    this.screen.onResize(() => this.paint(true));
    this.source.start(this.model, () => this.scheduleRepaint());
    this.tickTimer = setInterval(() => this.paint(true), TICK_MS);
    this.paint(true);
  }

  async stop(): Promise<void> {
    if (this.repaintTimer !== null) clearTimeout(this.repaintTimer);
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    this.repaintTimer = null;
    this.tickTimer = null;
    await this.source.stop();
  }

  scheduleRepaint(): void {
    if (this.repaintTimer !== null || this.quitting) return;
    this.repaintTimer = setTimeout(() => {
      this.repaintTimer = null;
      this.paint(false);
    }, REPAINT_COALESCE_MS);
  }

  /** Renders and paints; unless forced, only when the model changed since the last paint. */
  paint(force: boolean): void {
    if (this.quitting) return;
    if (!force && this.model.version === this.paintedVersion) return;
    this.paintedVersion = this.model.version;
    const { cols, rows } = this.screen.size();
    this.lastLines = render(this.model, cols, rows, this.source.now(), this.renderOptions);
    this.screen.paint(this.lastLines);
  }

  quit(): void {
    if (this.quitting) return;
    this.quitting = true;
    this.resolveDone();
  }

  handleKey(key: KeyPress): void {
    const m = this.model;
    if (key.ctrl === true && key.name === 'c') return this.quit();
    if (m.prompt !== null) {
      this.promptKey(key);
      this.paint(true);
      return;
    }
    if (m.view === 'help') {
      if (key.name === 'q') return this.quit();
      m.setView('members');
      this.paint(true);
      return;
    }
    const page = Math.max(1, this.screen.size().rows - 10);
    if (m.view === 'services' && this.servicesKey(key, page)) {
      this.paint(true);
      return;
    }
    const inLog = m.view === 'log';
    // Shifted letters arrive as the letter's name with the capital as the character.
    if (key.ch === 'G') {
      m.selectEdge(true);
      this.paint(true);
      return;
    }
    if (key.ch === 'S') {
      m.reverseSort();
      this.paint(true);
      return;
    }
    switch (key.name) {
      case 'q': return this.quit();
      case 'up': case 'k': if (inLog) m.scrollLog(1); else m.moveSelection(-1); break;
      case 'down': case 'j': if (inLog) m.scrollLog(-1); else m.moveSelection(1); break;
      case 'pageup': if (inLog) m.scrollLog(page); else m.moveSelection(-page); break;
      case 'pagedown': if (inLog) m.scrollLog(-page); else m.moveSelection(page); break;
      case 'home': case 'g': m.selectEdge(false); break;
      case 'end': m.selectEdge(true); break;
      case 'enter': m.setView(m.view === 'details' ? 'members' : 'details'); break;
      case 'escape': m.setView('members'); break;
      case 'l': m.setView(inLog ? 'members' : 'log'); break;
      case 'v': case 'tab': m.setView('services'); break;
      case '?': m.setView('help'); break;
      case '/': m.prompt = { kind: 'filter', text: m.filterText }; m.changed(); break;
      case 'e':
        if (this.source.fireUserEvent === undefined) m.showMessage(this.source.now(), 'this source cannot send user events');
        else {
          m.prompt = { kind: 'event', text: '' };
          m.changed();
        }
        break;
      case 's': m.cycleSort(); break;
      default:
        this.source.handleKey?.(key, m);
    }
    this.paint(true);
  }

  /** Keys of the services view; false for those it shares with the others (l, e, ?, q, the source's). */
  private servicesKey(key: KeyPress, page: number): boolean {
    const m = this.model;
    if (key.ch === 'G') {
      m.moveServiceSelection(Infinity);
      return true;
    }
    switch (key.name) {
      case 'up': case 'k': m.moveServiceSelection(-1); return true;
      case 'down': case 'j': m.moveServiceSelection(1); return true;
      case 'pageup': m.moveServiceSelection(-page); return true;
      case 'pagedown': m.moveServiceSelection(page); return true;
      case 'home': case 'g': m.moveServiceSelection(-Infinity); return true;
      case 'end': m.moveServiceSelection(Infinity); return true;
      case 'v': case 'tab': case 'escape': m.setView('members'); return true;
      case '/': case 's': case 'enter':
        m.showMessage(this.source.now(), 'filter, sort and details are for the members table: v goes back to it');
        return true;
      default: return false;
    }
  }

  private promptKey(key: KeyPress): void {
    const m = this.model;
    const p = m.prompt;
    if (p === null) return;
    if (key.name === 'escape') {
      m.prompt = null;
      if (p.kind === 'filter') m.setFilter(m.filterText);
      m.changed();
      return;
    }
    if (key.name === 'enter') {
      m.prompt = null;
      if (p.kind === 'filter') {
        const error = m.setFilter(p.text);
        if (error !== null) m.showMessage(this.source.now(), error);
      } else this.fireEvent(p.text);
      m.changed();
      return;
    }
    if (key.name === 'backspace') p.text = p.text.slice(0, -1);
    else if (key.ch !== undefined && key.ch.length === 1 && key.ch >= ' ' && key.ctrl !== true && p.text.length < 200) p.text += key.ch;
    else return;
    // The filter applies as it is typed, when it parses.
    if (p.kind === 'filter') {
      const filterText = m.filterText;
      if (m.setFilter(p.text) === null) m.filterText = filterText;
    }
    m.changed();
  }

  private fireEvent(text: string): void {
    const m = this.model;
    const trimmed = text.trim();
    if (trimmed === '') return;
    const space = trimmed.indexOf(' ');
    const name = space < 0 ? trimmed : trimmed.slice(0, space);
    const payload = space < 0 ? '' : trimmed.slice(space + 1);
    void this.source.fireUserEvent?.(name, payload).then((error) => {
      m.showMessage(this.source.now(), error === null ? `sent user event ${name}` : `user event ${name} failed: ${error}`);
      this.scheduleRepaint();
    });
  }
}
