// The filters Serf's agent RPC applies for its clients: event filters of `stream`
// (event_handler.go ParseEventFilter/Valid/Invoke), the anchored regular expressions of
// `members-filtered` (ipc.go filterMembers) and the level filter of `monitor` (logutils).
import { goRegexpMatch } from '../cluster/regexp.js';
import { statusName, type Member } from '../cluster/member.js';
import type { SerfEvent } from '../cluster/serf.js';
import type { LogLevel } from '../protocol/effects.js';

export interface EventFilter {
  /** "*", a member event name, "user" or "query". */
  readonly event: string;
  /** For "user:NAME" and "query:NAME"; "" matches every name. */
  readonly name: string;
}

const VALID_EVENTS: ReadonlySet<string> = new Set([
  'member-join', 'member-leave', 'member-failed', 'member-update', 'member-reap', 'user', 'query', '*',
]);

/** Parses "member-join,user:deploy,query:q" ("" means "*"); null when one entry is not a known event. */
export function parseEventFilter(text: string): EventFilter[] | null {
  const filters: EventFilter[] = [];
  for (const entry of (text === '' ? '*' : text).split(',')) {
    let event = entry;
    let name = '';
    if (entry.startsWith('user:')) {
      event = 'user';
      name = entry.slice('user:'.length);
    } else if (entry.startsWith('query:')) {
      event = 'query';
      name = entry.slice('query:'.length);
    }
    if (!VALID_EVENTS.has(event)) return null;
    filters.push({ event, name });
  }
  return filters;
}

/** Whether any of the filters lets the event through (EventFilter.Invoke). */
export function eventPasses(filters: readonly EventFilter[], event: SerfEvent): boolean {
  return filters.some((f) => {
    if (f.event === '*') return true;
    if (f.event !== event.type) return false;
    if (f.name === '') return true;
    if (event.type === 'user') return event.name === f.name;
    if (event.type === 'query') return event.query.name === f.name;
    return true;
  });
}

/**
 * The members whose tags, status and name match the expressions, each anchored as Serf does it
 * (`^expr$`, so "^a|b$" keeps Go's precedence); "" for status or name matches all. Returns the
 * error text Serf gives when an expression does not compile.
 */
export function filterMembers(
  members: readonly Member[],
  tags: ReadonlyMap<string, string> | null,
  status: string,
  name: string,
): { ok: true; members: Member[] } | { ok: false; error: string } {
  const exprs = [...(tags?.values() ?? []), status, name];
  for (const expr of exprs) {
    if (goRegexpMatch(`^${expr}$`, '') === null) return { ok: false, error: `Failed to compile regex: ${JSON.stringify(expr)} is not a valid regular expression` };
  }
  const matches = (expr: string, value: string): boolean => goRegexpMatch(`^${expr}$`, value) === true;
  const out = members.filter((m) => {
    for (const [tag, expr] of tags ?? []) if (!matches(expr, m.tags.get(tag) ?? '')) return false;
    if (status !== '' && !matches(status, statusName(m.status))) return false;
    if (name !== '' && !matches(name, m.name)) return false;
    return true;
  });
  return { ok: true, members: out };
}

/** The agent's log levels, lowest first (log_levels.go LevelFilter). */
const MONITOR_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERR'] as const;
export type MonitorLevel = (typeof MONITOR_LEVELS)[number];

/** The level a monitor asked for, upper-cased as Serf does, or null when Serf would not know it. */
export function parseMonitorLevel(text: string): MonitorLevel | null {
  const upper = text.toUpperCase();
  return (MONITOR_LEVELS as readonly string[]).includes(upper) ? (upper as MonitorLevel) : null;
}

/** Whether a line at `level` passes a monitor at `min`. */
export function levelPasses(min: MonitorLevel, level: LogLevel): boolean {
  return MONITOR_LEVELS.indexOf(level) >= MONITOR_LEVELS.indexOf(min);
}
