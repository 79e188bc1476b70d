// The TUI's views rendered from recorded event streams, read back as screen text: no terminal.
process.env['TZ'] = 'UTC';
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TuiApp, type KeyPress, type TuiScreen, type TuiSource } from '../../src/tui/app.js';
import { parseAgentLogLine } from '../../src/tui/log-lines.js';
import { TuiModel, type MemberInfo } from '../../src/tui/model.js';
import { render, toText, type ScreenLine } from '../../src/tui/render.js';

const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);

function member(name: string, status = 'alive', tags: Record<string, string> = {}, port = 7946): MemberInfo {
  return { name, addr: `127.0.0.1:${port}`, status, tags: new Map(Object.entries(tags)), protocolCur: 2, delegateCur: 5 };
}

/** A recorded stream as the RPC source would feed it: what an agent's stream, monitor and polls said. */
type Recorded =
  | { readonly atMs: number; readonly poll: readonly MemberInfo[] }
  | { readonly atMs: number; readonly event: string; readonly members: readonly MemberInfo[] }
  | { readonly atMs: number; readonly log: string }
  | { readonly atMs: number; readonly user: string; readonly payload: string };

function replay(model: TuiModel, stream: readonly Recorded[]): void {
  for (const r of stream) {
    if ('poll' in r) model.setMembers(r.atMs, r.poll);
    else if ('event' in r) model.memberEvent(r.atMs, r.event, r.members);
    else if ('user' in r) model.userEvent(r.atMs, r.user, r.payload, 7n);
    else {
      const { fact } = parseAgentLogLine(r.log);
      if (fact?.kind === 'suspect') model.suspected(r.atMs, fact.node, fact.by ?? model.localName);
      else if (fact?.kind === 'confirm') model.confirmed(r.atMs, fact.node, fact.by);
      else if (fact?.kind === 'refuted') model.refuted(r.atMs, fact.node, null);
      else if (fact?.kind === 'refuting') model.refuted(r.atMs, model.localName, fact.accuser);
      else if (fact?.kind === 'timeout') model.suspicionTimedOut(r.atMs, fact.node, fact.detail);
    }
  }
}

function connectedModel(): TuiModel {
  const model = new TuiModel();
  model.source = '127.0.0.1:7373';
  model.localName = 'a';
  model.setConnection(T0, 'connected', '');
  model.setHealth(0);
  return model;
}

function screen(model: TuiModel, cols = 120, rows = 24, nowMs = T0 + 60_000): string[] {
  const lines = render(model, cols, rows, nowMs);
  assert.equal(lines.length, rows, 'exactly one line per terminal row');
  for (const l of toText(lines)) assert.ok(l.length <= cols, `line fits in ${cols} columns: ${l}`);
  return toText(lines);
}

const rowOf = (text: string[], name: string): string | undefined => text.find((l) => new RegExp(`^. ${name}\\s`).test(l));

// A kill -9 as a shoal agent reports it: a failed probe, the suspicion, its timeout, Serf's failure.
const crashOfC: Recorded[] = [
  { atMs: T0, poll: [member('a'), member('b', 'alive', { role: 'web' }, 7947), member('c', 'alive', { role: 'db' }, 7948)] },
  { atMs: T0 + 10_000, log: '2026/11/22 10:00:10 [INFO] memberlist: suspect c has failed, no acks received' },
  { atMs: T0 + 10_000, log: '2026/11/22 10:00:10 [DEBUG] memberlist: marking c as suspect (from: a)' },
  { atMs: T0 + 10_400, log: '2026/11/22 10:00:10 [DEBUG] memberlist: suspect c confirmed (from: b)' },
];
const failOfC: Recorded[] = [
  { atMs: T0 + 15_000, log: '2026/11/22 10:00:15 [INFO] memberlist: marking c as failed, suspect timeout reached (1 peer confirmations)' },
  { atMs: T0 + 15_000, event: 'member-failed', members: [member('c', 'failed', { role: 'db' }, 7948)] },
];

test('three alive members: the header counts them, the table lists them with symbol, address, protocol and tags', () => {
  const model = connectedModel();
  replay(model, [{ atMs: T0, poll: [member('a'), member('b', 'alive', { role: 'web' }, 7947), member('c', 'alive', { role: 'db' }, 7948)] }]);
  const text = screen(model);
  assert.match(text[0] as string, /^shoal tui · a @ 127\.0\.0\.1:7373 · 3 members: ● 3 alive ✖ 0 failed · health 0 \(good\) · last change none yet$/);
  assert.match(text[1] as string, /NAME▲\s+ADDRESS\s+STATUS\s+PROTO\s+RTT\s+TAGS\s+\[1–3 of 3\]/);
  assert.match(rowOf(text, 'b') ?? '', /^● b\s+127\.0\.0\.1:7947\s+alive\s+2\/5\s+role=web$/);
  assert.match(rowOf(text, 'c') ?? '', /^● c\s+127\.0\.0\.1:7948\s+alive\s+2\/5\s+role=db$/);
  assert.match(text.at(-1) as string, /q quit/);
});

test('a crash: suspected by whom, confirmed by whom, then failed — in the table, the header and the event log', () => {
  const model = connectedModel();
  replay(model, crashOfC);
  let text = screen(model, 120, 24, T0 + 12_000);
  assert.match(rowOf(text, 'c') ?? '', /^\? c\s+127\.0\.0\.1:7948\s+suspect/);
  assert.match(text[0] as string, /● 2 alive \? 1 suspect ✖ 0 failed .* last change 2s ago/);
  assert.ok(text.some((l) => l === '10:00:10 a suspects c'), text.join('\n'));
  assert.ok(text.some((l) => l === '10:00:10 b also suspects c'), text.join('\n'));
  assert.equal(text.filter((l) => /a suspects c/.test(l)).length, 1, 'the two lines of one failed probe are one entry');
  // A poll that still says alive does not end the suspicion: Serf reports suspects as alive.
  model.setMembers(T0 + 13_000, [member('a'), member('b', 'alive', { role: 'web' }, 7947), member('c', 'alive', { role: 'db' }, 7948)]);
  assert.match(rowOf(screen(model), 'c') ?? '', /suspect/);
  replay(model, failOfC);
  text = screen(model, 120, 24, T0 + 20_000);
  assert.match(rowOf(text, 'c') ?? '', /^✖ c\s+127\.0\.0\.1:7948\s+failed/);
  assert.match(text[0] as string, /● 2 alive ✖ 1 failed .* last change 5s ago/);
  assert.ok(text.some((l) => l === '10:00:15 a marks c failed: suspect timeout reached (1 peer confirmations)'), text.join('\n'));
  assert.ok(text.some((l) => l === '10:00:15 member-failed c 127.0.0.1:7948'), text.join('\n'));
  // A late "suspect c has failed" from a probe that was already running does not resurrect the suspicion.
  replay(model, [{ atMs: T0 + 16_000, log: '2026/11/22 10:00:16 [INFO] memberlist: Suspect c has failed, no acks received' }]);
  assert.match(rowOf(screen(model), 'c') ?? '', /failed/);
});

test('a refuted suspicion: the member is alive again and the log says who refuted whose suspicion', () => {
  const model = connectedModel();
  replay(model, [
    { atMs: T0, poll: [member('a'), member('b', 'alive', {}, 7947)] },
    { atMs: T0 + 1000, log: '2026/11/22 10:00:01 [DEBUG] memberlist: marking b as suspect (from: a)' },
    { atMs: T0 + 1500, log: '2026/11/22 10:00:01 [DEBUG] memberlist: suspect b refuted (incarnation 3)' },
    // serf's own wording when the local node is the accused one.
    { atMs: T0 + 2000, log: '2026/11/22 10:00:02 [WARN] memberlist: Refuting a suspect message (from: b)' },
  ]);
  const text = screen(model);
  assert.match(rowOf(text, 'b') ?? '', /^● b\s.*alive/);
  assert.ok(text.includes('10:00:01 a suspects b'), text.join('\n'));
  assert.ok(text.includes('10:00:01 b refuted the suspicion'), text.join('\n'));
  assert.ok(text.includes("10:00:02 a refuted b's suspicion"), text.join('\n'));
});

test('a serf agent logs its own suspicion but not the refutation: the suspicion is dropped when no failure follows', () => {
  const model = connectedModel();
  const alive = [member('a'), member('b', 'alive', {}, 7947)];
  replay(model, [
    { atMs: T0, poll: alive },
    { atMs: T0 + 1000, log: '2026/11/22 10:00:01 [INFO] memberlist: Suspect b has failed, no acks received' },
    { atMs: T0 + 40_000, poll: alive },
  ]);
  assert.match(rowOf(screen(model), 'b') ?? '', /suspect/, 'within the longest suspicion timeout it stays suspect');
  replay(model, [{ atMs: T0 + 80_000, poll: alive }]);
  assert.match(rowOf(screen(model), 'b') ?? '', /^● b\s.*alive/);
  assert.equal(model.members.get('b')?.history.at(-1)?.text, 'suspect → alive (no failure followed: refuted)');
});

test('the filter speaks shoal members: name, status and tag expressions, anchored; a bad expression is refused', () => {
  const model = connectedModel();
  replay(model, [...crashOfC, ...failOfC]);
  const names = (): string[] => model.visibleRows().map((r) => r.name);
  assert.equal(model.setFilter('status=failed'), null);
  assert.deepEqual(names(), ['c']);
  assert.match(screen(model)[1] as string, /\[1–1 of 1, filter: status=failed\]/);
  assert.equal(model.setFilter('-tag role=web'), null);
  assert.deepEqual(names(), ['b']);
  assert.equal(model.setFilter('role=w'), null, 'anchored: "w" is not "web"');
  assert.deepEqual(names(), []);
  assert.match(screen(model).join('\n'), /\(no member matches the filter: role=w\)/);
  assert.equal(model.setFilter('-name=[ab]'), null);
  assert.deepEqual(names(), ['a', 'b']);
  assert.equal(model.setFilter('-status alive role=.*'), null);
  assert.deepEqual(names(), ['a', 'b']);
  assert.match(model.setFilter('name=(') ?? '', /Failed to compile regex: "\(" is not a valid regular expression/);
  assert.deepEqual(names(), ['a', 'b'], 'a refused filter leaves the last one');
  assert.equal(model.setFilter(''), null);
  assert.deepEqual(names(), ['a', 'b', 'c']);
});

test('sorting by any column, and reversing: trouble first by status, unknown RTTs last', () => {
  const model = connectedModel();
  replay(model, [...crashOfC, ...failOfC]);
  const local = { vec: [0, 0], error: 0.1, adjustment: 0, height: 0.0001 };
  model.setCoordinate('b', { vec: [0.003, 0.004], error: 0.1, adjustment: 0, height: 0.0001 }, local);
  model.setCoordinate('a', { vec: [0.001, 0], error: 0.1, adjustment: 0, height: 0.0001 }, local);
  const names = (): string => model.visibleRows().map((r) => r.name).join('');
  const sortBy = (column: string): void => {
    while (model.sortColumn !== column) model.cycleSort();
  };
  sortBy('status');
  assert.equal(names(), 'cab');
  assert.match(screen(model)[1] as string, /STATUS▲/);
  model.reverseSort();
  assert.equal(names(), 'abc', 'alive first, ties by name');
  sortBy('rtt');
  assert.equal(names(), 'abc');
  assert.match(rowOf(screen(model), 'b') ?? '', /5\.20 ms/, 'RTT = distance (5 ms) + both heights (0.2 ms)');
  sortBy('tags');
  assert.equal(names(), 'acb', 'no tags, role=db, role=web');
  sortBy('address');
  assert.equal(names(), 'abc');
});

test('1,000 members stay readable: the table scrolls with the selection and says where it is', () => {
  const model = connectedModel();
  const many = Array.from({ length: 1000 }, (_, i) => member(`node-${String(i).padStart(4, '0')}`, i % 100 === 7 ? 'failed' : 'alive', { zone: `z${i % 3}` }, 10_000 + i));
  model.setMembers(T0, many);
  let text = screen(model, 120, 40);
  assert.match(text[0] as string, /1000 members: ● 990 alive ✖ 10 failed/);
  assert.match(text[1] as string, /\[1–\d+ of 1000\]/);
  assert.ok(rowOf(text, 'node-0000') !== undefined);
  model.moveSelection(500);
  text = screen(model, 120, 40);
  const selected = render(model, 120, 40, T0).find((l) => l.inverse === true);
  assert.match(toText([selected as ScreenLine])[0] as string, /node-0500/);
  assert.ok(rowOf(text, 'node-0500') !== undefined && rowOf(text, 'node-0000') === undefined, 'scrolled down to the selection');
  model.selectEdge(true);
  text = screen(model, 120, 40);
  assert.ok(rowOf(text, 'node-0999') !== undefined);
  assert.match(text[1] as string, /–1000 of 1000\]/);
});

test('the detail pane: tags, coordinate, RTT, suspicion and the history of state changes', () => {
  const model = connectedModel();
  replay(model, crashOfC);
  model.setCoordinate('c', { vec: [0.002, 0, 0, 0, 0, 0, 0, 0], error: 0.25, adjustment: 0.0001, height: 0.0002 }, { vec: [0, 0, 0, 0, 0, 0, 0, 0], error: 0.2, adjustment: 0, height: 0.0001 });
  replay(model, failOfC);
  model.selectedName = 'c';
  model.setView('details');
  const text = screen(model, 140, 30);
  const pane = text.slice(text.findIndex((l) => l.startsWith('── details: c')));
  assert.match(pane.join('\n'), /status\s+✖ failed/);
  assert.match(pane.join('\n'), /tags\s+role=db/);
  assert.match(pane.join('\n'), /coordinate\s+vec \[2\.000 0\.000 0\.000 0\.000 …\] ms · height 0\.200 ms · adj 0\.100 ms · error 0\.250/);
  assert.match(pane.join('\n'), /rtt\s+2\.40 ms from a \(estimate from coordinates\)/);
  assert.ok(pane.includes('    10:00:00  seen: alive'), pane.join('\n'));
  assert.ok(pane.includes('    10:00:10  alive → suspect (suspected by a)'), pane.join('\n'));
  assert.ok(pane.includes('    10:00:15  suspect → failed (member-failed)'), pane.join('\n'));
});

test('the event log is bounded, follows the newest entry, and holds still while scrolled back', () => {
  const model = connectedModel();
  for (let i = 0; i < 2100; i++) model.addLog(T0 + i * 1000, 'info', `entry ${i}`);
  assert.equal(model.log.length, 2000);
  assert.equal(model.log[0]?.text, 'entry 100', 'the oldest go first');
  assert.match(screen(model).at(-2) as string, /entry 2099$/);
  model.setView('log');
  model.scrollLog(10);
  const before = screen(model).at(-2);
  assert.match(before as string, /entry 2089$/);
  model.addLog(T0 + 3_000_000, 'info', 'entry new');
  assert.equal(screen(model).at(-2), before, 'a new entry does not move a scrolled-back view');
  assert.match(screen(model)[1] as string, /events \(2000, 11 newer below\)/);
});

test('a narrow or short terminal still gets whole lines, one per row', () => {
  const model = connectedModel();
  replay(model, [...crashOfC, ...failOfC, { atMs: T0 + 20_000, user: 'deploy', payload: 'v2' }]);
  for (const [cols, rows] of [[40, 10], [80, 24], [200, 60], [20, 3]] as const) screen(model, cols, rows);
  assert.ok(screen(model, 80, 24).includes('10:00:20 user event deploy v2 (ltime 7)'));
});

// ---------------------------------------------------------------------- the controller, with a fake screen

class FakeScreen implements TuiScreen {
  cols = 120;
  rows = 30;
  painted: readonly ScreenLine[] = [];
  key: (k: KeyPress) => void = () => undefined;
  resize: () => void = () => undefined;
  destroyed = false;
  size(): { cols: number; rows: number } {
    return { cols: this.cols, rows: this.rows };
  }
  paint(lines: readonly ScreenLine[]): void {
    this.painted = lines;
  }
  onKey(h: (k: KeyPress) => void): void {
    this.key = h;
  }
  onResize(h: () => void): void {
    this.resize = h;
  }
  destroy(): void {
    this.destroyed = true;
  }
  text(): string[] {
    return toText(this.painted);
  }
  type(...keys: string[]): void {
    for (const k of keys) this.key(k.length === 1 ? { name: k.toLowerCase(), ch: k } : { name: k });
  }
}

function fakeSource(events: Array<{ name: string; payload: string }>): TuiSource {
  return {
    clock: 'wall',
    now: () => T0 + 30_000,
    start: (model) => replay(model, [...crashOfC, ...failOfC]),
    stop: async () => undefined,
    fireUserEvent: async (name, payload) => {
      events.push({ name, payload });
      return null;
    },
  };
}

test('keys: / filters as you type, Enter details, ? help, s sort, e fires a user event, q quits; resize repaints', async () => {
  const fake = new FakeScreen();
  const fired: Array<{ name: string; payload: string }> = [];
  const app = new TuiApp(connectedModel(), fake, fakeSource(fired));
  app.start();
  try {
    assert.ok(fake.text().some((l) => /^✖ c\s/.test(l)));
    fake.type('/', 'r', 'o', 'l', 'e', '=', 'd', 'b');
    assert.match(fake.text().at(-1) as string, /^filter> role=db▏/);
    assert.deepEqual(app.model.visibleRows().map((r) => r.name), ['c'], 'applied while typing');
    fake.type('enter');
    assert.equal(app.model.filterText, 'role=db');
    fake.type('/', 'backspace', 'backspace', 'escape');
    assert.equal(app.model.filterText, 'role=db', 'Esc keeps the filter that was applied');
    assert.deepEqual(app.model.visibleRows().map((r) => r.name), ['c']);
    fake.type('/', ...'a'.split(''), 'enter');
    fake.type('/');
    for (let i = 0; i < 10; i++) fake.type('backspace');
    fake.type('enter');
    assert.equal(app.model.visibleRows().length, 3);
    fake.type('j', 'j', 'enter');
    assert.ok(fake.text().some((l) => l.startsWith('── details: c')), fake.text().join('\n'));
    fake.type('escape', '?');
    assert.equal(fake.text()[1], 'keys');
    fake.type('x');
    assert.equal(app.model.view, 'members');
    fake.type('G');
    assert.equal(app.model.selected()?.name, 'c', 'G: the last row');
    fake.type('g');
    assert.equal(app.model.selected()?.name, 'a', 'g: the first row');
    fake.type('s');
    assert.equal(app.model.sortColumn, 'address');
    fake.type('S');
    assert.equal(app.model.sortDescending, true);
    fake.type('e', ...'deploy v9'.split(''), 'enter');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(fired, [{ name: 'deploy', payload: 'v9' }]);
    fake.cols = 50;
    fake.rows = 12;
    fake.resize();
    assert.equal(fake.painted.length, 12);
    assert.ok(fake.text().every((l) => l.length <= 50));
    fake.type('q');
    await app.done;
  } finally {
    await app.stop();
  }
});

test('log lines of serf and of shoal are read alike', () => {
  assert.deepEqual(parseAgentLogLine('2026/11/22 10:00:01 [INFO] memberlist: Suspect web-1 has failed, no acks received').fact, { kind: 'suspect', node: 'web-1', by: null });
  assert.deepEqual(parseAgentLogLine('2026/11/22 10:00:01 [INFO] memberlist: Marking web-1 as failed, suspect timeout reached (2 peer confirmations)').fact, { kind: 'timeout', node: 'web-1', detail: 'suspect timeout reached (2 peer confirmations)' });
  assert.deepEqual(parseAgentLogLine('2026/11/22 10:00:01 [WARN] memberlist: Refuting a dead message (from: db-2)').fact, { kind: 'refuting', accuser: 'db-2', what: 'dead' });
  assert.deepEqual(parseAgentLogLine('2026/11/22 10:00:01 [DEBUG] memberlist: marking x as suspect (from: y)'), { atMs: Date.UTC(2026, 10, 22, 10, 0, 1), fact: { kind: 'suspect', node: 'x', by: 'y' } });
  assert.equal(parseAgentLogLine('2026/11/22 10:00:01 [INFO] serf: EventMemberJoin: a 127.0.0.1').fact, null);
});
