// Event handler scripts as the Serf agent runs them (cmd/serf/command/agent event_handler.go,
// invoke.go): `[filter=]script` specs, one `/bin/sh -c` per matching script with Serf's
// environment and stdin, events handled one at a time in the order they come, and a query
// script's output sent back as the query's response.
import { spawn } from 'node:child_process';
import type { LogLevel } from '../protocol/effects.js';
import { ipToString } from '../protocol/address.js';
import type { Member } from '../cluster/member.js';
import type { IncomingQuery, SerfEvent } from '../cluster/serf.js';
import { EventCoalescer, type AgentCoalesceOptions } from '../cluster/coalesce.js';

/** event_handler.go EventFilter: `*`, a member event type, `user`/`query`, with an optional name. */
export interface EventFilter {
  readonly event: string;
  /** For `user:NAME` / `query:NAME`; empty: any name. */
  readonly name: string;
}

export interface EventScript extends EventFilter {
  readonly script: string;
}

const VALID_EVENTS = new Set(['member-join', 'member-leave', 'member-failed', 'member-update', 'member-reap', 'user', 'query', '*']);

/** invoke.go maxBufSize: the output kept from a script (the last 8 KiB, as circbuf keeps). */
export const MAX_SCRIPT_OUTPUT = 8 * 1024;
/** invoke.go warnSlow. */
const WARN_SLOW_MS = 1_000;

/** ParseEventScript: "script", "TYPE=script", "user:NAME=script", "a,b=script". */
export function parseEventScript(spec: string): EventScript[] {
  const eq = spec.indexOf('=');
  const filter = eq < 0 ? '' : spec.slice(0, eq);
  const script = eq < 0 ? spec : spec.slice(eq + 1);
  return parseEventFilter(filter).map((f) => ({ ...f, script }));
}

/** ParseEventFilter: comma-separated; empty means every event. */
export function parseEventFilter(spec: string): EventFilter[] {
  return (spec === '' ? '*' : spec).split(',').map((event) => {
    if (event.startsWith('user:')) return { event: 'user', name: event.slice('user:'.length) };
    if (event.startsWith('query:')) return { event: 'query', name: event.slice('query:'.length) };
    return { event, name: '' };
  });
}

export function isValidFilter(filter: EventFilter): boolean {
  return VALID_EVENTS.has(filter.event);
}

/** EventScript.String, used in Serf's "Invalid event script" message. */
export function describeScript(s: EventScript): string {
  return s.name !== '' ? `Event '${s.event}:${s.name}' invoking '${s.script}'` : `Event '${s.event}' invoking '${s.script}'`;
}

/** EventFilter.Invoke. */
export function filterMatches(filter: EventFilter, event: SerfEvent): boolean {
  if (filter.event === '*') return true;
  if (event.type !== filter.event) return false;
  if (filter.name === '') return true;
  if (event.type === 'user') return event.name === filter.name;
  if (event.type === 'query') return event.query.name === filter.name;
  return true;
}

const SANITIZE_TAG = /[^A-Z0-9_]/g;

/** The environment invoke.go adds to the agent's own. */
export function scriptEnv(self: Member, event: SerfEvent): Record<string, string> {
  const env: Record<string, string> = {
    SERF_EVENT: event.type,
    SERF_SELF_NAME: self.name,
    SERF_SELF_ROLE: self.tags.get('role') ?? '',
  };
  for (const [name, value] of self.tags) env[`SERF_TAG_${name.toUpperCase().replace(SANITIZE_TAG, '_')}`] = value;
  if (event.type === 'user') {
    env['SERF_USER_EVENT'] = event.name;
    env['SERF_USER_LTIME'] = event.lTime.toString();
  } else if (event.type === 'query') {
    env['SERF_QUERY_NAME'] = event.query.name;
    env['SERF_QUERY_LTIME'] = event.query.lTime.toString();
  }
  return env;
}

/** invoke.go eventClean. */
function clean(v: string): string {
  return v.replaceAll('\t', '\\t').replaceAll('\n', '\\n');
}

/**
 * What the script reads: for member events one `name\taddr\trole\ttags` line per member
 * (memberEventStdin), for user events and queries the payload with a newline added when it
 * lacks one (streamPayload).
 */
export function scriptStdin(event: SerfEvent): Uint8Array {
  if (event.type === 'user' || event.type === 'query') {
    const payload = (event.type === 'user' ? event.payload : event.query.payload) ?? new Uint8Array(0);
    if (payload.length === 0 || payload[payload.length - 1] === 0x0a) return payload;
    const out = new Uint8Array(payload.length + 1);
    out.set(payload);
    out[payload.length] = 0x0a;
    return out;
  }
  const lines = event.members.map((m) => {
    const tags = [...m.tags].map(([k, v]) => `${k}=${v}`).join(',');
    return `${clean(m.name)}\t${ipToString(m.addr)}\t${clean(m.tags.get('role') ?? '')}\t${clean(tags)}\n`;
  });
  return new TextEncoder().encode(lines.join(''));
}

/** circbuf with a fixed size: keeps the last `size` bytes and counts everything written. */
class TailBuffer {
  private chunks: Buffer[] = [];
  private kept = 0;
  total = 0;

  constructor(private readonly size: number) {}

  write(chunk: Buffer): void {
    this.total += chunk.length;
    this.chunks.push(chunk);
    this.kept += chunk.length;
    while (this.kept > this.size) {
      const first = this.chunks[0] as Buffer;
      const excess = this.kept - this.size;
      if (first.length <= excess) {
        this.chunks.shift();
        this.kept -= first.length;
      } else {
        this.chunks[0] = first.subarray(excess);
        this.kept -= excess;
      }
    }
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

export type Log = (level: LogLevel, message: string) => void;

export interface ScriptResult {
  /** null: exit status 0. */
  readonly error: string | null;
  readonly output: Buffer;
  readonly totalWritten: number;
}

/**
 * Runs one script for one event (invokeEventScript): stdout and stderr go to one buffer, the
 * last 8 KiB of which are logged at DEBUG and, for a query that exited 0 with output, sent as
 * the response through `respond`.
 */
export function invokeEventScript(
  log: Log,
  script: string,
  self: Member,
  event: SerfEvent,
  respond: (query: IncomingQuery, payload: Uint8Array) => string | null,
): Promise<ScriptResult> {
  return new Promise((resolve) => {
    const output = new TailBuffer(MAX_SCRIPT_OUTPUT);
    const child = spawn('/bin/sh', ['-c', script], { env: { ...process.env, ...scriptEnv(self, event) }, stdio: ['pipe', 'pipe', 'pipe'] });
    const slow = setTimeout(() => log('WARN', `agent: Script '${script}' slow, execution exceeding ${WARN_SLOW_MS / 1000}s`), WARN_SLOW_MS);
    child.stdout.on('data', (chunk: Buffer) => output.write(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.write(chunk));
    // A script that never reads its stdin closes the pipe early; Serf ignores that too.
    child.stdin.on('error', () => undefined);
    child.stdin.end(scriptStdin(event));
    let spawnError: string | null = null;
    child.on('error', (err) => {
      spawnError = err.message;
    });
    child.on('close', (code, signal) => {
      clearTimeout(slow);
      if (output.total > MAX_SCRIPT_OUTPUT) {
        log('WARN', `agent: Script '${script}' generated ${output.total} bytes of output, truncated to ${MAX_SCRIPT_OUTPUT}`);
      }
      const bytes = output.bytes();
      log('DEBUG', `agent: Event '${event.type}' script output: ${bytes.toString('utf8')}`);
      // Go's exec error strings: "exit status N", "signal: killed".
      const error = spawnError ?? (code === 0 ? null : code !== null ? `exit status ${code}` : `signal: ${signal ?? 'unknown'}`);
      if (error === null && event.type === 'query' && output.total > 0) {
        const failed = respond(event.query, bytes);
        if (failed !== null) log('WARN', `agent: Failed to respond to query '${event.query.name}': ${failed}`);
      }
      resolve({ error, output: bytes, totalWritten: output.total });
    });
  });
}

export interface ScriptHandlerOptions {
  readonly scripts: readonly EventScript[];
  /** The local member as it is when an event is handled (SelfFunc). */
  readonly self: () => Member;
  readonly log: Log;
  readonly respond: (query: IncomingQuery, payload: Uint8Array) => string | null;
}

/**
 * ScriptEventHandler: events are handled one after the other, each by every matching script in
 * order; new scripts (SIGHUP) apply from the next event on. A failing script is logged and the
 * next one runs.
 */
export class ScriptEventHandler {
  private scripts: readonly EventScript[];
  private newScripts: readonly EventScript[] | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly options: ScriptHandlerOptions) {
    this.scripts = options.scripts;
  }

  updateScripts(scripts: readonly EventScript[]): void {
    this.newScripts = scripts;
  }

  /** Queues the event; the promise settles once its scripts have run. */
  handleEvent(event: SerfEvent): Promise<void> {
    this.queue = this.queue.then(() => this.run(event));
    return this.queue;
  }

  /** Settles once every queued event has been handled. */
  idle(): Promise<void> {
    return this.queue;
  }

  private async run(event: SerfEvent): Promise<void> {
    if (this.newScripts !== null) {
      this.scripts = this.newScripts;
      this.newScripts = null;
    }
    const { log, respond } = this.options;
    let self: Member;
    try {
      self = this.options.self();
    } catch (err) {
      log('ERR', `agent: cannot run event handlers: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    for (const script of this.scripts) {
      if (!filterMatches(script, event)) continue;
      const result = await invokeEventScript(log, script.script, self, event, respond);
      if (result.error !== null) log('ERR', `agent: Error invoking script '${script.script}': ${result.error}`);
    }
  }
}

/**
 * The agent's coalescing in front of the handlers (command.go sets CoalescePeriod 3 s,
 * QuiescentPeriod 1 s and the same for user events), on the real clock: member events and
 * coalescable user events are held as Serf holds them, queries pass at once.
 */
export class CoalescedFeed {
  private readonly coalescer: EventCoalescer;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deliver: (event: SerfEvent) => void,
    private readonly now: () => number,
    options: AgentCoalesceOptions = {},
  ) {
    this.coalescer = new EventCoalescer(options);
  }

  push(event: SerfEvent): void {
    for (const d of this.coalescer.push(this.now(), event)) this.deliver(d.event);
    this.arm();
  }

  /** Delivers whatever is held (shutdown) and stops the timer. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const d of this.coalescer.flush(this.now())) this.deliver(d.event);
  }

  private arm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const due = this.coalescer.dueMs;
    if (due === null) return;
    this.timer = setTimeout(
      () => {
        this.timer = null;
        for (const d of this.coalescer.poll(this.now())) this.deliver(d.event);
        this.arm();
      },
      Math.max(0, due - this.now()),
    );
  }
}
