// Turns the model and a screen size into lines of styled text. Pure: no terminal, no clock (the
// time comes in), no widget library — blessed-screen.ts paints these lines, and the tests read
// them as plain text. Every line is exactly `cols` characters or shorter; there are exactly `rows`.
import { FILTER_SYNTAX, isEmptyFilter } from './filter.js';
import { formatTags, type DisplayStatus, type LogEntry, type LogKind, type MemberRow, type SortColumn, type TuiModel } from './model.js';
import { healthCounts, instanceHealth, serviceHealth, serviceTags, type HealthState, type ServiceInfo } from './services-model.js';

export const Styles = [
  'plain', 'title', 'dim', 'head', 'alive', 'suspect', 'leaving', 'left', 'failed', 'none', 'warn', 'err', 'fault', 'input', 'key',
] as const;
export type Style = (typeof Styles)[number];

export interface Segment {
  readonly text: string;
  readonly style: Style;
}

export interface ScreenLine {
  readonly segments: readonly Segment[];
  /** The selected table row: drawn in reverse video. */
  readonly inverse?: boolean;
}

/** Symbol and colour (style) for each status: the symbol keeps the table readable without colour. */
export const STATUS_SYMBOLS: Readonly<Record<DisplayStatus, string>> = {
  alive: '●', suspect: '?', leaving: '↓', left: '○', failed: '✖', none: '·',
};

const LOG_STYLES: Readonly<Record<LogKind, Style>> = {
  join: 'alive', failed: 'failed', leave: 'left', update: 'plain', reap: 'dim', user: 'key', query: 'key',
  suspect: 'suspect', refute: 'alive', conn: 'warn', fault: 'fault', service: 'plain', info: 'dim',
};

/** Symbol and colour for a service's or an instance's health, like the members' statuses. */
export const HEALTH_SYMBOLS: Readonly<Record<HealthState, string>> = { passing: '●', warning: '!', critical: '✖' };
const HEALTH_STYLES: Readonly<Record<HealthState, Style>> = { passing: 'alive', warning: 'suspect', critical: 'failed' };

export interface RenderOptions {
  /** Wall clock (local time of day) or a simulation's virtual clock (+seconds). */
  readonly clock?: 'wall' | 'virtual';
}

export const KEY_HINTS = '↑↓/jk move  / filter  s sort  S reverse  ⏎ details  l log  v services  e event  ? help  q quit';
export const SERVICE_KEY_HINTS = '↑↓/jk select a service (its instances below)  v members  l log  e event  ? help  q quit';

export function render(model: TuiModel, cols: number, rows: number, nowMs: number, options: RenderOptions = {}): ScreenLine[] {
  const width = Math.max(1, cols);
  const height = Math.max(1, rows);
  const clock = options.clock ?? 'wall';
  const out: ScreenLine[] = [];
  out.push(headerLine(model, nowMs));
  if (model.sim !== null) out.push(simLine(model));
  if (model.hint !== '') out.push({ segments: [{ text: model.hint, style: 'key' }] });
  const bodyHeight = Math.max(0, height - out.length - 1);
  const body: ScreenLine[] = [];
  if (model.view === 'help') body.push(...helpLines(model));
  else if (model.view === 'services') body.push(...servicesLines(model, bodyHeight, width));
  else if (model.view === 'log') {
    body.push(ruleLine(`events (${model.log.length}${model.logScroll > 0 ? `, ${model.logScroll} newer below` : ''}) — PgUp/PgDn scroll, l back`, width));
    body.push(...logLines(model, bodyHeight - 1, clock));
  } else {
    const minPane = bodyHeight >= 12 ? Math.max(5, Math.floor((bodyHeight - 2) * 0.38)) : Math.max(0, Math.floor(bodyHeight / 3));
    const table = tableLines(model, Math.max(1, bodyHeight - minPane - (minPane > 0 ? 1 : 0)));
    body.push(...table);
    // A short table leaves its rows to the pane below.
    const paneHeight = minPane > 0 ? bodyHeight - table.length - 1 : 0;
    if (paneHeight > 0) {
      const selected = model.selected();
      if (model.view === 'details') {
        body.push(ruleLine(`details: ${selected?.name ?? '(nothing selected)'} — ⏎/Esc back`, width));
        body.push(...detailLines(model, selected, paneHeight, clock));
      } else {
        body.push(ruleLine(`events (newest last, ${model.log.length})`, width));
        body.push(...logLines(model, paneHeight, clock));
      }
    }
  }
  while (body.length < bodyHeight) body.push({ segments: [] });
  out.push(...body.slice(0, bodyHeight));
  out.push(statusLine(model, nowMs));
  return out.slice(0, height).map((line) => clip(line, width));
}

/** The screen as plain text, one string per line, trailing spaces removed: what the tests read. */
export function toText(lines: readonly ScreenLine[]): string[] {
  return lines.map((l) => l.segments.map((s) => s.text).join('').replace(/\s+$/, ''));
}

// ---------------------------------------------------------------------- header

function headerLine(model: TuiModel, nowMs: number): ScreenLine {
  const s: Segment[] = [{ text: 'shoal tui', style: 'title' }];
  const who = model.localName === '' ? model.source : `${model.localName} @ ${model.source}`;
  s.push({ text: ` · ${who} · `, style: 'plain' });
  if (model.connection !== 'connected') {
    // "dial tcp 127.0.0.1:7373: connect: connection refused" → "connection refused": the address is already in the header.
    const detail = model.connectionDetail.replace(/^dial tcp [^ ]+: (connect: )?/, '');
    const what = model.connection === 'lost' ? `agent lost, reconnecting (${detail})` : `connecting${detail === '' ? '' : ` (${detail})`}`;
    s.push({ text: `⚠ ${what} · `, style: 'warn' });
  }
  const counts = model.countsByStatus();
  s.push({ text: `${model.members.size} members:`, style: 'plain' });
  for (const status of ['alive', 'suspect', 'failed', 'leaving', 'left'] as const) {
    if (counts[status] === 0 && status !== 'alive' && status !== 'failed') continue;
    s.push({ text: ` ${STATUS_SYMBOLS[status]} ${counts[status]} ${status}`, style: status });
  }
  const health = model.healthScore;
  s.push({ text: ' · health ', style: 'plain' });
  s.push({ text: health === null ? '?' : `${health}${health === 0 ? ' (good)' : ' (degraded)'}`, style: health === null ? 'dim' : health === 0 ? 'alive' : 'warn' });
  s.push({ text: ` · last change ${model.lastChangeMs === null ? 'none yet' : `${formatAgo(nowMs - model.lastChangeMs)} ago`}`, style: 'plain' });
  return { segments: s };
}

function simLine(model: TuiModel): ScreenLine {
  const sim = model.sim;
  if (sim === null) return { segments: [] };
  const s: Segment[] = [
    { text: `virtual ${formatVirtual(sim.virtualMs)}${sim.endMs === null ? '' : ` / ${formatVirtual(sim.endMs)}`}`, style: 'title' },
    { text: ` ×${formatSpeed(sim.speed)} ${sim.paused ? '⏸ paused' : '▶ running'} · `, style: sim.paused ? 'warn' : 'plain' },
  ];
  if (sim.activeFaults.length > 0) s.push({ text: `FAULT: ${sim.activeFaults.join('; ')}`, style: 'fault' });
  else s.push({ text: 'no fault now', style: 'dim' });
  if (sim.nextFault !== null) s.push({ text: ` · next: ${sim.nextFault.label} at ${formatVirtual(sim.nextFault.startMs)}`, style: 'dim' });
  return { segments: s };
}

// ---------------------------------------------------------------------- members table

const COLUMN_TITLES: Readonly<Record<SortColumn, string>> = {
  name: 'NAME', address: 'ADDRESS', status: 'STATUS', tags: 'TAGS', protocol: 'PROTO', rtt: 'RTT',
};

function tableLines(model: TuiModel, height: number): ScreenLine[] {
  const rows = model.visibleRows();
  const dataHeight = Math.max(0, height - 1);
  const selected = model.selectedIndex();
  // Keep the selection on screen.
  if (selected >= 0) {
    if (selected < model.scrollTop) model.scrollTop = selected;
    if (selected >= model.scrollTop + dataHeight) model.scrollTop = selected - dataHeight + 1;
  }
  model.scrollTop = Math.max(0, Math.min(model.scrollTop, Math.max(0, rows.length - dataHeight)));
  const shown = rows.slice(model.scrollTop, model.scrollTop + dataHeight);
  let nameWidth = 4;
  for (const r of shown) nameWidth = Math.max(nameWidth, r.name.length);
  nameWidth = Math.min(nameWidth, 28);
  let addrWidth = 7;
  for (const r of shown) addrWidth = Math.max(addrWidth, r.addr.length);
  const title = (c: SortColumn): string => `${COLUMN_TITLES[c]}${model.sortColumn === c ? (model.sortDescending ? '▼' : '▲') : ''}`;
  const head = `  ${pad(title('name'), nameWidth)}  ${pad(title('address'), addrWidth)}  ${pad(title('status'), 9)}  ${pad(title('protocol'), 6)}  ${padStart(title('rtt'), 9)}  ${title('tags')}`;
  // While a filter is typed it already applies: name it as typed.
  const filterText = model.prompt?.kind === 'filter' ? model.prompt.text : model.filterText;
  const position = rows.length === 0 ? '' : `  [${model.scrollTop + 1}–${model.scrollTop + shown.length} of ${rows.length}${isEmptyFilter(model.filter) ? '' : `, filter: ${filterText}`}]`;
  const lines: ScreenLine[] = [{ segments: [{ text: head, style: 'head' }, { text: position, style: 'dim' }] }];
  if (rows.length === 0) {
    lines.push({ segments: [{ text: model.members.size === 0 ? '  (no members yet)' : `  (no member matches the filter: ${filterText})`, style: 'dim' }] });
  }
  shown.forEach((r, i) => {
    const rtt = r.name === model.localName ? 'self' : r.rttMs === null ? '' : formatRtt(r.rttMs);
    const status = `${r.status}${r.process === '' ? '' : '*'}`;
    lines.push({
      inverse: model.scrollTop + i === selected,
      segments: [
        { text: `${STATUS_SYMBOLS[r.status]} `, style: r.status },
        { text: `${pad(truncate(r.name, nameWidth), nameWidth)}  ${pad(r.addr, addrWidth)}  `, style: 'plain' },
        { text: pad(status, 9), style: r.status },
        { text: `  ${pad(r.protocol, 6)}  ${padStart(rtt, 9)}  ${formatTags(r.tags)}`, style: 'plain' },
      ],
    });
  });
  return lines.slice(0, height);
}

// ---------------------------------------------------------------------- panes

function logLines(model: TuiModel, height: number, clock: 'wall' | 'virtual'): ScreenLine[] {
  if (height <= 0) return [];
  const end = model.log.length - model.logScroll;
  const entries = model.log.slice(Math.max(0, end - height), end);
  if (entries.length === 0) return [{ segments: [{ text: '  (no events yet)', style: 'dim' }] }];
  return entries.map((e) => logLine(e, clock));
}

function logLine(e: LogEntry, clock: 'wall' | 'virtual'): ScreenLine {
  return {
    segments: [
      { text: `${clock === 'wall' ? formatTimeOfDay(e.atMs) : `+${formatVirtual(e.atMs)}`} `, style: 'dim' },
      { text: e.text, style: e.kind === 'service' ? serviceLogStyle(e.text) : LOG_STYLES[e.kind] },
    ],
  };
}

/** A health change in the log is coloured by where it went. */
function serviceLogStyle(text: string): Style {
  if (/→ critical|: critical$/.test(text)) return 'failed';
  if (/→ warning|: warning$/.test(text)) return 'suspect';
  if (/→ passing/.test(text)) return 'alive';
  return 'plain';
}

// ---------------------------------------------------------------------- services view

function servicesLines(model: TuiModel, height: number, width: number): ScreenLine[] {
  if (model.catalogState !== 'ok') {
    const why = model.catalogState === 'connecting' ? `reading the service catalog from ${model.catalogAddr}…` : `no service catalog: ${model.catalogDetail}`;
    return [
      ruleLine('services — v back to the members', width),
      { segments: [{ text: `  ${why}`, style: model.catalogState === 'connecting' ? 'dim' : 'warn' }] },
      { segments: [{ text: '  The services view reads a shoal agent\'s Consul-compatible HTTP API (shoal tui -http-addr=HOST:PORT, default 127.0.0.1:8500);', style: 'dim' }] },
      { segments: [{ text: '  a serf agent has none. See docs/catalog.md.', style: 'dim' }] },
    ];
  }
  const services = model.services;
  const selected = model.selectedServiceIndex();
  const minPane = height >= 12 ? Math.max(5, Math.floor((height - 2) * 0.45)) : Math.max(0, Math.floor(height / 3));
  const tableHeight = Math.max(2, height - minPane - (minPane > 0 ? 1 : 0));
  const dataHeight = tableHeight - 1;
  if (selected >= 0) {
    if (selected < model.serviceScrollTop) model.serviceScrollTop = selected;
    if (selected >= model.serviceScrollTop + dataHeight) model.serviceScrollTop = selected - dataHeight + 1;
  }
  model.serviceScrollTop = Math.max(0, Math.min(model.serviceScrollTop, Math.max(0, services.length - dataHeight)));
  const shown = services.slice(model.serviceScrollTop, model.serviceScrollTop + dataHeight);
  let nameWidth = 7;
  for (const s of shown) nameWidth = Math.max(nameWidth, s.name.length);
  nameWidth = Math.min(nameWidth, 32);
  const position = services.length === 0 ? '' : `  [${model.serviceScrollTop + 1}–${model.serviceScrollTop + shown.length} of ${services.length} · catalog of ${model.catalogAddr}]`;
  const lines: ScreenLine[] = [{
    segments: [
      { text: `  ${pad('SERVICE', nameWidth)}  ${padStart('INSTANCES', 9)}  ${padStart('PASSING', 7)}  ${padStart('WARNING', 7)}  ${padStart('CRITICAL', 8)}  TAGS`, style: 'head' },
      { text: position, style: 'dim' },
    ],
  }];
  if (services.length === 0) lines.push({ segments: [{ text: `  (no services registered in the catalog of ${model.catalogAddr})`, style: 'dim' }] });
  shown.forEach((s, i) => {
    const health = serviceHealth(s);
    const c = healthCounts(s);
    lines.push({
      inverse: model.serviceScrollTop + i === selected,
      segments: [
        { text: `${HEALTH_SYMBOLS[health]} `, style: HEALTH_STYLES[health] },
        { text: `${pad(truncate(s.name, nameWidth), nameWidth)}  ${padStart(String(s.instances.length), 9)}  `, style: 'plain' },
        { text: padStart(String(c.passing), 7), style: c.passing > 0 ? 'alive' : 'dim' },
        { text: `  ${padStart(String(c.warning), 7)}`, style: c.warning > 0 ? 'suspect' : 'dim' },
        { text: `  ${padStart(String(c.critical), 8)}`, style: c.critical > 0 ? 'failed' : 'dim' },
        { text: `  ${serviceTags(s).join(',')}`, style: 'plain' },
      ],
    });
  });
  const out = lines.slice(0, tableHeight);
  const paneHeight = minPane > 0 ? height - out.length - 1 : 0;
  if (paneHeight > 0) {
    const service = model.selectedServiceInfo();
    out.push(ruleLine(service === undefined ? 'instances' : `instances of ${service.name} (${service.instances.length}) — node, address:port, tags, checks`, width));
    out.push(...instanceLines(service, paneHeight));
  }
  return out;
}

function instanceLines(service: ServiceInfo | undefined, height: number): ScreenLine[] {
  if (service === undefined) return [{ segments: [{ text: '  select a service with ↑↓ or j/k', style: 'dim' }] }];
  let nodeWidth = 4;
  let addrWidth = 7;
  let tagWidth = 4;
  for (const i of service.instances) {
    nodeWidth = Math.max(nodeWidth, i.node.length);
    addrWidth = Math.max(addrWidth, `${i.address}:${i.port}`.length);
    tagWidth = Math.max(tagWidth, i.tags.join(',').length);
  }
  nodeWidth = Math.min(nodeWidth, 28);
  tagWidth = Math.min(tagWidth, 24);
  // The critical ones first: they are what the person is looking for.
  const order: Record<HealthState, number> = { critical: 0, warning: 1, passing: 2 };
  const instances = [...service.instances].sort((a, b) => order[instanceHealth(a)] - order[instanceHealth(b)] || cmp(a.node, b.node) || cmp(a.id, b.id));
  const lines: ScreenLine[] = [{ segments: [{ text: `  ${pad('NODE', nodeWidth)}  ${pad('ADDRESS', addrWidth)}  ${pad('TAGS', tagWidth)}  ${pad('HEALTH', 8)}  CHECKS`, style: 'head' }] }];
  for (const inst of instances) {
    const health = instanceHealth(inst);
    const checks: Segment[] = [];
    inst.checks.forEach((c, k) => {
      const st: HealthState = c.status === 'passing' || c.status === 'warning' ? c.status : 'critical';
      checks.push({ text: `${k === 0 ? '' : ' · '}${c.id === '' ? c.name : c.id} `, style: 'plain' });
      checks.push({ text: c.status, style: HEALTH_STYLES[st] });
      if (st !== 'passing' && c.output !== '') checks.push({ text: ` (${truncate(c.output, 60)})`, style: 'dim' });
    });
    if (checks.length === 0) checks.push({ text: '(no checks)', style: 'dim' });
    lines.push({
      segments: [
        { text: `${HEALTH_SYMBOLS[health]} `, style: HEALTH_STYLES[health] },
        { text: `${pad(truncate(inst.node, nodeWidth), nodeWidth)}  ${pad(`${inst.address}:${inst.port}`, addrWidth)}  ${pad(truncate(inst.tags.join(','), tagWidth), tagWidth)}  `, style: 'plain' },
        { text: pad(health, 8), style: HEALTH_STYLES[health] },
        { text: '  ', style: 'plain' },
        ...checks,
      ],
    });
  }
  if (lines.length > height) {
    const more = lines.length - height + 1;
    return [...lines.slice(0, height - 1), { segments: [{ text: `  … ${more} more instances`, style: 'dim' }] }];
  }
  return lines;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function detailLines(model: TuiModel, row: MemberRow | undefined, height: number, clock: 'wall' | 'virtual'): ScreenLine[] {
  if (row === undefined) return [{ segments: [{ text: '  select a member with ↑↓ or j/k', style: 'dim' }] }];
  const lines: ScreenLine[] = [];
  const kv = (k: string, v: string, style: Style = 'plain'): void => {
    lines.push({ segments: [{ text: `  ${pad(k, 13)}`, style: 'head' }, { text: v, style }] });
  };
  kv('status', `${STATUS_SYMBOLS[row.status]} ${row.status}${row.serfStatus !== row.status ? ` (serf: ${row.serfStatus})` : ''}${row.process === '' ? '' : ` · process ${row.process}`}`, row.status);
  kv('address', `${row.addr}   protocol ${row.protocol} (memberlist/serf)`);
  kv('tags', row.tags.size === 0 ? '(none)' : formatTags(row.tags));
  const c = row.coordinate;
  kv('coordinate', c === null ? '(unknown)' : `vec [${c.vec.slice(0, 4).map((x) => (x * 1000).toFixed(3)).join(' ')}${c.vec.length > 4 ? ' …' : ''}] ms · height ${(c.height * 1000).toFixed(3)} ms · adj ${(c.adjustment * 1000).toFixed(3)} ms · error ${c.error.toFixed(3)}`);
  kv('rtt', row.rttMs === null ? '(unknown)' : `${formatRtt(row.rttMs)} from ${model.localName === '' ? 'the local node' : model.localName} (estimate from coordinates)`);
  if (row.suspectedBy.length > 0) kv('suspected by', row.suspectedBy.join(', '), 'suspect');
  const historyRoom = Math.max(1, height - lines.length - 1);
  lines.push({ segments: [{ text: `  history (${row.history.length}, newest last)`, style: 'head' }] });
  for (const h of row.history.slice(-historyRoom)) {
    lines.push({ segments: [{ text: `    ${clock === 'wall' ? formatTimeOfDay(h.atMs) : `+${formatVirtual(h.atMs)}`}  `, style: 'dim' }, { text: h.text, style: 'plain' }] });
  }
  return lines.slice(0, height);
}

function helpLines(model: TuiModel): ScreenLine[] {
  const keys: Array<[string, string]> = [
    ['↑ ↓  j k', 'move the selection (PgUp/PgDn a page, g/G first/last)'],
    ['/', `filter the table: ${FILTER_SYNTAX}; empty clears`],
    ['s  S', 'sort by the next column (name, address, status, tags, protocol, rtt) · reverse'],
    ['⏎', 'details of the selected member (tags, coordinate, RTT, history); ⏎ or Esc to go back'],
    ['l', 'the event log on the whole screen (PgUp/PgDn to scroll)'],
    ['v  Tab', 'services in the agent\'s catalog, instances by health; the selected one\'s instances and checks below · v back'],
    ['e', 'fire a user event: NAME [PAYLOAD]'],
    ...model.extraKeys.map((k): [string, string] => [k.key, k.description]),
    ['?', 'this help (any key closes it)'],
    ['q  Ctrl-C', 'quit'],
  ];
  const lines: ScreenLine[] = [{ segments: [{ text: 'keys', style: 'title' }] }];
  for (const [k, d] of keys) lines.push({ segments: [{ text: `  ${pad(k, 12)}`, style: 'key' }, { text: d, style: 'plain' }] });
  lines.push({ segments: [] });
  lines.push({ segments: [{ text: 'status symbols', style: 'title' }] });
  for (const st of ['alive', 'suspect', 'leaving', 'left', 'failed'] as const) {
    lines.push({ segments: [{ text: `  ${STATUS_SYMBOLS[st]} ${pad(st, 10)}`, style: st }, { text: STATUS_HELP[st], style: 'plain' }] });
  }
  lines.push({ segments: [] });
  lines.push({ segments: [{ text: 'health is the local node\'s Lifeguard awareness score: 0 is healthy, higher means it is missing acks and probes more slowly.', style: 'dim' }] });
  return lines;
}

const STATUS_HELP: Readonly<Record<DisplayStatus, string>> = {
  alive: 'answering probes',
  suspect: 'missed probes; failed unless it refutes before the suspicion timeout (shoal agents report this)',
  leaving: 'leaving gracefully',
  left: 'left gracefully',
  failed: 'did not refute a suspicion in time: declared failed',
  none: 'unknown',
};

function statusLine(model: TuiModel, nowMs: number): ScreenLine {
  const p = model.prompt;
  if (p !== null) {
    const label = p.kind === 'filter' ? 'filter> ' : 'user event (NAME [PAYLOAD])> ';
    const help = p.kind === 'filter' ? `   ⏎ apply · Esc cancel · ${FILTER_SYNTAX}` : '   ⏎ send · Esc cancel';
    return { segments: [{ text: label, style: 'key' }, { text: `${p.text}▏`, style: 'input' }, { text: help, style: 'dim' }] };
  }
  if (model.message !== '' && nowMs - model.messageAtMs < MESSAGE_SHOW_MS) return { segments: [{ text: model.message, style: 'warn' }] };
  return { segments: [{ text: model.view === 'services' ? SERVICE_KEY_HINTS : KEY_HINTS, style: 'dim' }] };
}

/** How long a message stays in the status line. */
export const MESSAGE_SHOW_MS = 6_000;

// ---------------------------------------------------------------------- text helpers

function ruleLine(title: string, width: number): ScreenLine {
  const text = `── ${title} `;
  return { segments: [{ text: text + '─'.repeat(Math.max(0, width - text.length)), style: 'dim' }] };
}

function clip(line: ScreenLine, width: number): ScreenLine {
  let room = width;
  const segments: Segment[] = [];
  for (const s of line.segments) {
    if (room <= 0) break;
    const text = s.text.length > room ? s.text.slice(0, room) : s.text;
    room -= text.length;
    segments.push({ text, style: s.style });
  }
  // A selected row is reversed across the whole width.
  if (line.inverse === true && room > 0) segments.push({ text: ' '.repeat(room), style: 'plain' });
  return line.inverse === true ? { segments, inverse: true } : { segments };
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function padStart(s: string, n: number): string {
  return s.length >= n ? s : ' '.repeat(n - s.length) + s;
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

export function formatRtt(ms: number): string {
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

export function formatAgo(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Local time of day, HH:MM:SS. */
export function formatTimeOfDay(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A virtual time as seconds with milliseconds: 12.345s, or 2m03.500s. */
export function formatVirtual(ms: number): string {
  const total = Math.max(0, ms) / 1000;
  if (total < 60) return `${total.toFixed(3)}s`;
  const m = Math.floor(total / 60);
  return `${m}m${(total - m * 60).toFixed(3).padStart(6, '0')}s`;
}

function formatSpeed(speed: number): string {
  return speed >= 1 ? String(speed) : `1/${Math.round(1 / speed)}`;
}
