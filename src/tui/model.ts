// The terminal UI's state, with no terminal in sight: the members as one agent (or one simulated
// node) sees them, the event log, each member's history, and what the person at the keyboard chose
// (filter, sort, selection, view). Sources (RPC, simulation) feed it events with the time they
// happened; the renderer (render.ts) turns it into screen lines; keys.ts maps keys onto it.
// Nothing here reads a clock: every input carries its time, so a recorded stream replays exactly.
import { parseMemberFilter, memberMatches, type MemberFilter } from './filter.js';
import { catalogChanges, INSTANCE_LIMIT, SERVICE_LIMIT, type CatalogState, type ServiceInfo } from './services-model.js';

/**
 * What the table shows. Serf's statuses, plus `suspect`: Serf reports a suspected member as
 * alive (memberlist keeps suspicion to itself), so the TUI learns it from the agent's log lines
 * (or, in a simulation, from the node's memberlist state) and shows it until it is refuted or failed.
 */
export const DisplayStatuses = ['alive', 'suspect', 'leaving', 'left', 'failed', 'none'] as const;
export type DisplayStatus = (typeof DisplayStatuses)[number];

/** One member as a source reports it (the RPC's Member, or a simulated node's view). */
export interface MemberInfo {
  readonly name: string;
  /** host:port */
  readonly addr: string;
  /** Serf's status name: alive, leaving, left, failed, none. */
  readonly status: string;
  readonly tags: ReadonlyMap<string, string>;
  /** memberlist protocol version in use, and Serf's (delegate) version, e.g. 2 and 5. */
  readonly protocolCur: number;
  readonly delegateCur: number;
}

/** A Vivaldi coordinate in Serf's units (seconds). */
export interface CoordinateInfo {
  readonly vec: readonly number[];
  readonly error: number;
  readonly adjustment: number;
  readonly height: number;
}

export interface HistoryEntry {
  readonly atMs: number;
  readonly text: string;
}

export interface MemberRow {
  readonly name: string;
  addr: string;
  serfStatus: string;
  status: DisplayStatus;
  tags: ReadonlyMap<string, string>;
  /** "2/5": memberlist/Serf protocol versions. */
  protocol: string;
  coordinate: CoordinateInfo | null;
  rttMs: number | null;
  /** Who started the current suspicion and who confirmed it (shoal agents only). */
  suspectedBy: string[];
  /** When the current suspicion was first seen. */
  suspectSinceMs: number;
  /** Process state a demo or a simulation knows about: "paused", "killed", "crashed"; "" otherwise. */
  process: string;
  readonly history: HistoryEntry[];
}

export const LogKinds = ['join', 'failed', 'leave', 'update', 'reap', 'user', 'query', 'suspect', 'refute', 'conn', 'fault', 'service', 'info'] as const;
export type LogKind = (typeof LogKinds)[number];

export interface LogEntry {
  readonly atMs: number;
  readonly kind: LogKind;
  readonly text: string;
}

export const SortColumns = ['name', 'address', 'status', 'tags', 'protocol', 'rtt'] as const;
export type SortColumn = (typeof SortColumns)[number];

/**
 * What fills the screen: the members table with the log or the details below it, the log alone,
 * the services (the catalog, with the selected service's instances below), or help.
 */
export const Views = ['members', 'details', 'log', 'services', 'help'] as const;
export type View = (typeof Views)[number];

/** A one-line prompt at the bottom: typing a filter or a user event. */
export interface Prompt {
  readonly kind: 'filter' | 'event';
  text: string;
}

export type ConnectionState = 'connecting' | 'connected' | 'lost';

/** Limits, so a long incident cannot grow the TUI's memory without bound. */
export const LOG_LIMIT = 2_000;
export const HISTORY_LIMIT = 50;
export const MEMBER_LIMIT = 100_000;
/**
 * Longest a suspicion is shown without a failure or a refutation in the log: above memberlist's
 * largest suspicion timeout for up to ~1,000 members on the LAN profile (6 × 4 × log10(n) × 1 s = 72 s).
 */
export const SUSPECT_DISPLAY_MAX_MS = 75_000;

/** What a simulation shows in its header: the virtual clock and the pacing. */
export interface SimStatus {
  readonly virtualMs: number;
  readonly speed: number;
  readonly paused: boolean;
  /** Labels of the faults in force now. */
  readonly activeFaults: readonly string[];
  /** The next fault to start, if any: label and virtual start time. */
  readonly nextFault: { readonly label: string; readonly startMs: number } | null;
  readonly endMs: number | null;
}

export class TuiModel {
  /** Where the data comes from, for the header: "127.0.0.1:7373" or "sim: partition-heal". */
  source = '';
  /** The node whose view is shown (the agent's own name). */
  localName = '';
  /** Lifeguard's awareness score of that node, 0 is healthy; null until known. */
  healthScore: number | null = null;
  connection: ConnectionState = 'connecting';
  connectionDetail = '';
  /** A line under the header: the demo's or the simulation's keys. */
  hint = '';
  sim: SimStatus | null = null;
  /** Extra key bindings a source offers (demo: kill/pause/restart), listed in the help view. */
  extraKeys: ReadonlyArray<{ readonly key: string; readonly description: string }> = [];
  /** Error text of the last failed action (an event that could not be sent, a bad filter), shown in the status line. */
  message = '';
  messageAtMs = 0;

  readonly members = new Map<string, MemberRow>();

  /** The service catalog (services view): where it comes from, whether it is there, what it holds. */
  catalogState: CatalogState = 'none';
  /** Why the catalog is unavailable, or where it comes from ("127.0.0.1:8500"). */
  catalogDetail = 'this source has no service catalog';
  catalogAddr = '';
  /** Sorted by name. */
  services: readonly ServiceInfo[] = [];
  selectedService: string | null = null;
  serviceScrollTop = 0;
  readonly log: LogEntry[] = [];
  lastChangeMs: number | null = null;

  view: View = 'members';
  prompt: Prompt | null = null;
  filterText = '';
  filter: MemberFilter = parseMemberFilterOrEmpty('');
  sortColumn: SortColumn = 'name';
  sortDescending = false;
  selectedName: string | null = null;
  /** Index of the first table row on screen; the renderer keeps the selection visible. */
  scrollTop = 0;
  /** Lines scrolled back in the log view (0 = following the newest). */
  logScroll = 0;

  /** Bumped on every change, so the app repaints only when something changed. */
  version = 0;
  private visibleCache: { version: number; rows: MemberRow[] } | null = null;
  private membersVersion = 0;

  // ------------------------------------------------------------------ inputs from sources

  /** A full list of members (a poll): adds, updates and drops rows; changes go to each member's history. */
  setMembers(nowMs: number, members: readonly MemberInfo[]): void {
    const seen = new Set<string>();
    for (const info of members.slice(0, MEMBER_LIMIT)) {
      seen.add(info.name);
      this.upsert(nowMs, info, null);
    }
    for (const name of [...this.members.keys()]) {
      if (!seen.has(name)) {
        this.members.delete(name);
        this.touchMembers();
      }
    }
    this.changed();
  }

  /** A member event from the agent's stream (member-join, member-failed, …). */
  memberEvent(nowMs: number, event: string, members: readonly MemberInfo[]): void {
    const kind = MEMBER_EVENT_KINDS[event] ?? 'info';
    for (const info of members) {
      this.upsert(nowMs, info, event);
      const extra = event === 'member-update' ? ` ${formatTags(info.tags)}` : '';
      this.addLog(nowMs, kind, `${event} ${info.name} ${info.addr}${extra}`);
      if (event === 'member-reap') {
        this.members.delete(info.name);
        this.touchMembers();
      }
    }
    if (members.length > 0) this.lastChangeMs = nowMs;
    this.changed();
  }

  userEvent(nowMs: number, name: string, payload: string, lTime: bigint | number): void {
    this.addLog(nowMs, 'user', `user event ${name}${payload === '' ? '' : ` ${payload}`} (ltime ${lTime})`);
    this.changed();
  }

  queryEvent(nowMs: number, name: string, payload: string, lTime: bigint | number): void {
    this.addLog(nowMs, 'query', `query ${name}${payload === '' ? '' : ` ${payload}`} (ltime ${lTime})`);
    this.changed();
  }

  /** `by` suspects `name` (a failed probe, or gossip that names who started it). */
  suspected(nowMs: number, name: string, by: string): void {
    const row = this.members.get(name);
    // A shoal agent logs its own failed probe twice (memberlist's line and the one naming the accuser).
    if (row?.status === 'suspect' && row.suspectedBy.includes(by)) return;
    // memberlist logs a probe's failure even when the member was declared failed meanwhile; suspectNode then ignores it.
    if (row !== undefined && row.status !== 'alive' && row.status !== 'suspect') return;
    // Already suspected by others: this is one more accuser.
    if (row?.status === 'suspect') return this.confirmed(nowMs, name, by);
    if (row !== undefined) {
      row.suspectedBy = [];
      row.suspectSinceMs = nowMs;
      this.setStatus(nowMs, row, 'suspect', `suspected by ${by}`);
      row.suspectedBy.push(by);
    }
    this.addLog(nowMs, 'suspect', `${by} suspects ${name}`);
    this.lastChangeMs = nowMs;
    this.changed();
  }

  /** Another member confirmed a suspicion (Lifeguard: independent confirmations shorten the timeout). */
  confirmed(nowMs: number, name: string, by: string): void {
    const row = this.members.get(name);
    if (row !== undefined) {
      if (row.suspectedBy.includes(by) || (row.status !== 'suspect' && row.status !== 'alive')) return;
      row.suspectedBy.push(by);
    }
    this.addLog(nowMs, 'suspect', `${by} also suspects ${name}`);
    this.changed();
  }

  /** `name` refuted a suspicion (about itself), optionally raised by `accuser`. */
  refuted(nowMs: number, name: string, accuser: string | null, detail = ''): void {
    const row = this.members.get(name);
    if (row !== undefined && row.status === 'suspect') {
      this.setStatus(nowMs, row, row.serfStatus === 'alive' ? 'alive' : displayStatusOf(row.serfStatus), `refuted${accuser === null ? '' : ` ${accuser}'s suspicion`}`);
      row.suspectedBy = [];
    }
    this.addLog(nowMs, 'refute', `${name} refuted ${accuser === null ? 'the suspicion' : `${accuser}'s suspicion`}${detail === '' ? '' : ` ${detail}`}`);
    this.lastChangeMs = nowMs;
    this.changed();
  }

  /** The suspicion timed out: the observer declares the member failed (Serf's member-failed follows). */
  suspicionTimedOut(nowMs: number, name: string, detail: string): void {
    this.addLog(nowMs, 'failed', `${this.localName === '' ? 'the agent' : this.localName} marks ${name} failed: ${detail}`);
    this.changed();
  }

  setHealth(score: number | null): void {
    if (score === this.healthScore) return;
    this.healthScore = score;
    this.changed();
  }

  /** Coordinates: the local one and the members'; RTT estimates follow (Serf's DistanceTo). */
  setCoordinate(name: string, coordinate: CoordinateInfo | null, local: CoordinateInfo | null): void {
    const row = this.members.get(name);
    if (row === undefined) return;
    const rtt = coordinate === null || local === null ? null : estimateRttMs(local, coordinate);
    if (row.coordinate === coordinate && row.rttMs === rtt) return;
    row.coordinate = coordinate;
    row.rttMs = rtt;
    if (this.sortColumn === 'rtt') this.touchMembers();
    this.changed();
  }

  setProcess(nowMs: number, name: string, process: string): void {
    const row = this.members.get(name);
    if (row === undefined || row.process === process) return;
    row.process = process;
    row.history.push({ atMs: nowMs, text: process === '' ? 'process running' : `process ${process}` });
    trim(row.history, HISTORY_LIMIT);
    this.changed();
  }

  setConnection(nowMs: number, state: ConnectionState, detail: string): void {
    if (state === this.connection && detail === this.connectionDetail) return;
    const was = this.connection;
    this.connection = state;
    this.connectionDetail = detail;
    if (state === 'lost' && was === 'connected') this.addLog(nowMs, 'conn', `lost the agent: ${detail}; reconnecting`);
    if (state === 'connected' && was !== 'connected') this.addLog(nowMs, 'conn', `connected to ${this.source}${detail === '' ? '' : ` (${detail})`}`);
    this.changed();
  }

  addLog(nowMs: number, kind: LogKind, text: string): void {
    this.log.push({ atMs: nowMs, kind, text });
    trim(this.log, LOG_LIMIT);
    // Scrolled back: the view stays on the same entries; following (0): it shows the new one.
    if (this.logScroll > 0) this.logScroll = Math.min(this.logScroll + 1, this.log.length);
    this.changed();
  }

  showMessage(nowMs: number, text: string): void {
    this.message = text;
    this.messageAtMs = nowMs;
    this.changed();
  }

  /** A read of the catalog: replaces the services, logs which instances changed health. */
  setServices(nowMs: number, services: readonly ServiceInfo[]): void {
    const sorted = [...services]
      .sort((a, b) => cmpStr(a.name, b.name))
      .slice(0, SERVICE_LIMIT)
      .map((s) => ({ name: s.name, instances: s.instances.slice(0, INSTANCE_LIMIT) }));
    // The first read is the starting point, not news.
    if (this.catalogState === 'ok') {
      const changes = catalogChanges(this.services, sorted);
      for (const line of changes) this.addLog(nowMs, 'service', line);
      if (changes.length > 0) this.lastChangeMs = nowMs;
    }
    this.services = sorted;
    this.setCatalogState('ok', this.catalogAddr);
  }

  setCatalogState(state: CatalogState, detail: string): void {
    if (state === this.catalogState && detail === this.catalogDetail) return;
    this.catalogState = state;
    this.catalogDetail = detail;
    if (state !== 'ok') this.services = [];
    this.changed();
  }

  selectedServiceIndex(): number {
    if (this.services.length === 0) return -1;
    const i = this.selectedService === null ? -1 : this.services.findIndex((s) => s.name === this.selectedService);
    return i < 0 ? 0 : i;
  }

  selectedServiceInfo(): ServiceInfo | undefined {
    return this.services[this.selectedServiceIndex()];
  }

  /** Moves the services view's selection by `delta` rows (clamped); Infinity / -Infinity: last / first. */
  moveServiceSelection(delta: number): void {
    if (this.services.length === 0) return;
    const i = Math.max(0, Math.min(this.services.length - 1, this.selectedServiceIndex() + delta));
    this.selectedService = (this.services[i] as ServiceInfo).name;
    this.changed();
  }

  // ------------------------------------------------------------------ what the user chose

  /** Applies filter text (the syntax of `shoal members`); returns an error message or null. */
  setFilter(text: string): string | null {
    const parsed = parseMemberFilter(text);
    if (!parsed.ok) return parsed.error;
    this.filterText = text.trim();
    this.filter = parsed.filter;
    this.touchMembers();
    this.scrollTop = 0;
    this.changed();
    return null;
  }

  /** `s`: the next column; the same column again flips the direction. */
  cycleSort(): void {
    const i = SortColumns.indexOf(this.sortColumn);
    this.sortColumn = SortColumns[(i + 1) % SortColumns.length] as SortColumn;
    this.sortDescending = false;
    this.touchMembers();
    this.changed();
  }

  reverseSort(): void {
    this.sortDescending = !this.sortDescending;
    this.touchMembers();
    this.changed();
  }

  /** The rows the table shows: filtered and sorted; cached until members, filter or sort change. */
  visibleRows(): MemberRow[] {
    if (this.visibleCache?.version === this.membersVersion) return this.visibleCache.rows;
    const rows = [...this.members.values()].filter((r) => memberMatches(this.filter, r));
    const cmp = COMPARATORS[this.sortColumn];
    const sign = this.sortDescending ? -1 : 1;
    rows.sort((a, b) => sign * cmp(a, b) || cmpStr(a.name, b.name));
    this.visibleCache = { version: this.membersVersion, rows };
    return rows;
  }

  selectedIndex(): number {
    const rows = this.visibleRows();
    if (rows.length === 0) return -1;
    const i = this.selectedName === null ? -1 : rows.findIndex((r) => r.name === this.selectedName);
    return i < 0 ? 0 : i;
  }

  selected(): MemberRow | undefined {
    const rows = this.visibleRows();
    return rows[this.selectedIndex()];
  }

  /** Moves the selection by `delta` rows (clamped). */
  moveSelection(delta: number): void {
    const rows = this.visibleRows();
    if (rows.length === 0) return;
    const i = Math.max(0, Math.min(rows.length - 1, this.selectedIndex() + delta));
    this.selectedName = (rows[i] as MemberRow).name;
    this.changed();
  }

  selectEdge(last: boolean): void {
    const rows = this.visibleRows();
    if (rows.length === 0) return;
    this.selectedName = (rows[last ? rows.length - 1 : 0] as MemberRow).name;
    this.changed();
  }

  setView(view: View): void {
    this.view = view;
    this.changed();
  }

  scrollLog(delta: number): void {
    this.logScroll = Math.max(0, Math.min(this.log.length, this.logScroll + delta));
    this.changed();
  }

  countsByStatus(): Record<DisplayStatus, number> {
    const counts: Record<DisplayStatus, number> = { alive: 0, suspect: 0, leaving: 0, left: 0, failed: 0, none: 0 };
    for (const r of this.members.values()) counts[r.status]++;
    return counts;
  }

  changed(): void {
    this.version++;
  }

  // ------------------------------------------------------------------ internals

  private touchMembers(): void {
    this.membersVersion++;
  }

  private upsert(nowMs: number, info: MemberInfo, event: string | null): void {
    let row = this.members.get(info.name);
    const protocol = `${info.protocolCur}/${info.delegateCur}`;
    if (row === undefined) {
      row = {
        name: info.name, addr: info.addr, serfStatus: info.status, status: displayStatusOf(info.status), tags: info.tags, protocol,
        coordinate: null, rttMs: null, suspectedBy: [], suspectSinceMs: 0, process: '', history: [],
      };
      this.members.set(info.name, row);
      row.history.push({ atMs: nowMs, text: `${event ?? 'seen'}: ${info.status}` });
      this.touchMembers();
      if (event !== null) this.lastChangeMs = nowMs;
      return;
    }
    if (row.addr !== info.addr || row.protocol !== protocol) {
      row.addr = info.addr;
      row.protocol = protocol;
      this.touchMembers();
    }
    if (!sameTags(row.tags, info.tags)) {
      row.history.push({ atMs: nowMs, text: `tags ${formatTags(info.tags)}` });
      trim(row.history, HISTORY_LIMIT);
      row.tags = info.tags;
      this.touchMembers();
      this.lastChangeMs = nowMs;
    }
    const serfChanged = row.serfStatus !== info.status;
    row.serfStatus = info.status;
    // A suspect stays suspect while Serf still says alive: the suspicion ends with a refutation or a
    // failure. A serf agent does not log a peer's refutation, so a suspicion no failure followed
    // within SUSPECT_DISPLAY_MAX_MS ends here.
    const stale = nowMs - row.suspectSinceMs > SUSPECT_DISPLAY_MAX_MS;
    const next = row.status === 'suspect' && info.status === 'alive' && event === null && !stale ? 'suspect' : displayStatusOf(info.status);
    const why = row.status === 'suspect' && next === 'alive' && event === null ? 'no failure followed: refuted' : event ?? 'poll';
    if (next !== row.status || (serfChanged && event !== null)) this.setStatus(nowMs, row, next, why);
  }

  private setStatus(nowMs: number, row: MemberRow, status: DisplayStatus, why: string): void {
    if (status !== 'suspect') row.suspectedBy = [];
    const from = row.status;
    row.status = status;
    row.history.push({ atMs: nowMs, text: from === status ? `${status} (${why})` : `${from} → ${status} (${why})` });
    trim(row.history, HISTORY_LIMIT);
    this.lastChangeMs = nowMs;
    this.touchMembers();
  }
}

function parseMemberFilterOrEmpty(text: string): MemberFilter {
  const parsed = parseMemberFilter(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.filter;
}

const MEMBER_EVENT_KINDS: Readonly<Record<string, LogKind>> = {
  'member-join': 'join',
  'member-failed': 'failed',
  'member-leave': 'leave',
  'member-update': 'update',
  'member-reap': 'reap',
};

export function displayStatusOf(serfStatus: string): DisplayStatus {
  return (DisplayStatuses as readonly string[]).includes(serfStatus) ? (serfStatus as DisplayStatus) : 'none';
}

/** Drops the oldest entries beyond `limit`; returns how many it dropped. */
function trim<T>(list: T[], limit: number): number {
  const extra = list.length - limit;
  if (extra > 0) list.splice(0, extra);
  return Math.max(0, extra);
}

export function formatTags(tags: ReadonlyMap<string, string>): string {
  return [...tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join(',');
}

function sameTags(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

/**
 * Serf's Coordinate.DistanceTo in milliseconds: Euclidean distance plus both heights, plus both
 * adjustments unless that makes it non-positive (serf coordinate/coordinate.go; src/cluster/coordinate.ts
 * does the same for the agent, which the TUI, a client, does not import).
 */
export function estimateRttMs(a: CoordinateInfo, b: CoordinateInfo): number | null {
  if (a.vec.length !== b.vec.length) return null;
  let sum = 0;
  for (let i = 0; i < a.vec.length; i++) {
    const d = (a.vec[i] as number) - (b.vec[i] as number);
    sum += d * d;
  }
  let dist = Math.sqrt(sum) + a.height + b.height;
  const adjusted = dist + a.adjustment + b.adjustment;
  if (adjusted > 0) dist = adjusted;
  return dist * 1000;
}

const STATUS_ORDER: Readonly<Record<DisplayStatus, number>> = { failed: 0, suspect: 1, leaving: 2, left: 3, none: 4, alive: 5 };

function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Address order by IP bytes then port, so 10.0.0.10 follows 10.0.0.9. */
function addrKey(addr: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+):(\d+)$/.exec(addr);
  if (m === null) return addr;
  return m.slice(1).map((p, i) => p.padStart(i === 4 ? 5 : 3, '0')).join('.');
}

const COMPARATORS: Readonly<Record<SortColumn, (a: MemberRow, b: MemberRow) => number>> = {
  name: (a, b) => cmpStr(a.name, b.name),
  address: (a, b) => cmpStr(addrKey(a.addr), addrKey(b.addr)),
  // Trouble first: failed and suspect members at the top.
  status: (a, b) => STATUS_ORDER[a.status] - STATUS_ORDER[b.status],
  tags: (a, b) => cmpStr(formatTags(a.tags), formatTags(b.tags)),
  protocol: (a, b) => cmpStr(a.protocol, b.protocol),
  // Unknown RTTs last.
  rtt: (a, b) => (a.rttMs ?? Infinity) - (b.rttMs ?? Infinity) || 0,
};
