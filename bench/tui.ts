// TUI benchmark (`npm run bench:tui`): with 1,000 members, how long a redraw takes and how much
// CPU the TUI uses when nothing changes. It prints figures and asserts nothing (DESIGN.md).
//
//   node dist/bench/tui.js [--redraws N] [--idle-seconds S] [--no-idle]
//
// Redraw: a synthetic model of 1,000 members (tags, coordinates, a full event log), one member's
// status changed before each redraw, so every redraw re-filters and re-sorts all 1,000 rows; timed
// (a) render() alone (model → lines) and (b) the whole paint: render, blessed's tagged content,
// and blessed's screen.render() writing the terminal update into a 160×50 sink.
//
// Idle CPU: the real `shoal tui` process in tmux (160×50), talking to a stand-in Serf agent in this
// process that serves 1,000 members over the real RPC protocol (handshake, stats, members, stream,
// monitor, get-coordinate) and sends no events — so the TUI does its regular polls and repaints,
// nothing else. CPU time is read from /proc/<pid>/stat over the measuring window.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { TuiApp, type TuiSource } from '../src/tui/app.js';
import { openBlessedScreen } from '../src/tui/blessed-screen.js';
import { TuiModel, type MemberInfo } from '../src/tui/model.js';
import { render } from '../src/tui/render.js';
import { decodeRpc, encodeRpc, encodeRpcResponse, requestBodySchema, RpcStreamDecoder } from '../src/wire/rpc.js';
import { requestHeaderSchema, responseHeaderSchema, type RpcMember } from '../src/wire/rpc-schemas.js';

const { values: args } = parseArgs({
  options: {
    redraws: { type: 'string', default: '300' },
    'idle-seconds': { type: 'string', default: '20' },
    'no-idle': { type: 'boolean', default: false },
  },
});

const MEMBERS = 1000;
const COLS = 160;
const ROWS = 50;

function syntheticMember(i: number): MemberInfo {
  return {
    name: `node-${String(i).padStart(4, '0')}`,
    addr: `10.${(i >> 8) & 255}.${i & 255}.${(i * 7) & 255}:7946`,
    status: i % 97 === 0 ? 'failed' : 'alive',
    tags: new Map([['role', ['web', 'db', 'cache'][i % 3] as string], ['zone', `z${i % 5}`]]),
    protocolCur: 2,
    delegateCur: 5,
  };
}

function syntheticModel(): TuiModel {
  const model = new TuiModel();
  model.source = '127.0.0.1:7373';
  model.localName = 'node-0000';
  const now = Date.now();
  model.setConnection(now, 'connected', '');
  model.setHealth(0);
  model.setMembers(now, Array.from({ length: MEMBERS }, (_, i) => syntheticMember(i)));
  const local = { vec: [0, 0, 0, 0, 0, 0, 0, 0], error: 0.2, adjustment: 0, height: 0.0001 };
  for (let i = 0; i < MEMBERS; i++) {
    model.setCoordinate(syntheticMember(i).name, { vec: [i * 1e-6, 0.001, 0, 0, 0, 0, 0, 0], error: 0.3, adjustment: 0, height: 0.0001 }, local);
  }
  for (let i = 0; i < 2000; i++) model.addLog(now - 2000 + i, i % 2 === 0 ? 'join' : 'suspect', `event ${i} about node-${String(i % MEMBERS).padStart(4, '0')}`);
  model.sortColumn = 'status';
  return model;
}

function stats(samplesMs: number[]): string {
  const s = [...samplesMs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] as number;
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return `mean ${mean.toFixed(3)} ms, p50 ${q(0.5).toFixed(3)} ms, p99 ${q(0.99).toFixed(3)} ms, max ${(s.at(-1) as number).toFixed(3)} ms (${s.length} redraws)`;
}

function benchRedraw(redraws: number): void {
  const model = syntheticModel();
  const flip = (i: number): void => {
    const m = syntheticMember((i * 37) % MEMBERS);
    model.memberEvent(Date.now(), i % 2 === 0 ? 'member-failed' : 'member-join', [{ ...m, status: i % 2 === 0 ? 'failed' : 'alive' }]);
  };
  // (a) render alone.
  const renderMs: number[] = [];
  for (let i = 0; i < redraws; i++) {
    flip(i);
    model.moveSelection(i % 2 === 0 ? 7 : -3);
    const t0 = performance.now();
    render(model, COLS, ROWS, Date.now());
    renderMs.push(performance.now() - t0);
  }
  // (a') render with a filter on, re-applied to all rows after each change.
  model.setFilter('role=web|db -status=alive|failed');
  const filteredMs: number[] = [];
  for (let i = 0; i < redraws; i++) {
    flip(i);
    const t0 = performance.now();
    render(model, COLS, ROWS, Date.now());
    filteredMs.push(performance.now() - t0);
  }
  model.setFilter('');
  // (b) the whole paint through blessed into a sink terminal.
  let bytes = 0;
  const sink = Object.assign(new Writable({ write: (chunk: Buffer, _enc, done) => ((bytes += chunk.length), done()) }), { isTTY: true, columns: COLS, rows: ROWS });
  const screen = openBlessedScreen({ input: new PassThrough(), output: sink, guardProcess: false });
  const source: TuiSource = { clock: 'wall', now: () => Date.now(), start: () => undefined, stop: async () => undefined };
  const app = new TuiApp(model, screen, source);
  const paintMs: number[] = [];
  for (let i = 0; i < redraws; i++) {
    flip(i);
    model.moveSelection(i % 2 === 0 ? 7 : -3);
    const t0 = performance.now();
    app.paint(true);
    paintMs.push(performance.now() - t0);
  }
  screen.destroy();
  console.log(`redraw, ${MEMBERS} members, ${COLS}×${ROWS}, a status change before each (re-filter + re-sort):`);
  console.log(`  render (model → lines):           ${stats(renderMs)}`);
  console.log(`  render with a filter on:          ${stats(filteredMs)}`);
  console.log(`  full paint (render + blessed):    ${stats(paintMs)}; ${(bytes / redraws / 1024).toFixed(1)} KiB written per redraw`);
  console.log(`  target < 50 ms per redraw`);
}

// ---------------------------------------------------------------------- idle CPU

function rpcMember(i: number): RpcMember {
  const m = syntheticMember(i);
  return {
    Name: m.name, Addr: Uint8Array.of(10, (i >> 8) & 255, i & 255, (i * 7) & 255), Port: 7946, Tags: new Map(m.tags), Status: m.status,
    ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 5,
  };
}

/** A stand-in agent: answers the commands the TUI uses, with 1,000 members and no events. */
function fakeAgent(): Promise<{ port: number; close: () => void; requests: () => number }> {
  const members = Array.from({ length: MEMBERS }, (_, i) => rpcMember(i));
  let requests = 0;
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const decoder = new RpcStreamDecoder();
    let pending: { command: string; seq: bigint } | null = null;
    socket.on('data', (chunk: Buffer) => {
      decoder.push(chunk);
      for (let f = decoder.next(); f !== null; f = decoder.next()) {
        if (pending === null) {
          const h = decodeRpc(requestHeaderSchema, f.bytes);
          pending = { command: h.Command, seq: h.Seq };
          if (requestBodySchema(h.Command) !== null) continue;
        }
        const { command, seq } = pending;
        pending = null;
        requests++;
        const ok = { Seq: seq, Error: '' };
        if (command === 'stats') {
          socket.write(encodeRpcResponse('stats', ok, new Map([['agent', new Map([['name', 'node-0000']])], ['serf', new Map([['health_score', '0']])]])));
        } else if (command === 'members') socket.write(encodeRpcResponse('members', ok, { Members: members }));
        else if (command === 'get-coordinate') {
          socket.write(encodeRpcResponse('get-coordinate', ok, { Coord: { Vec: [0.001, 0, 0, 0, 0, 0, 0, 0], Error: 0.2, Adjustment: 0, Height: 0.0001 }, Ok: true }));
        } else socket.write(encodeRpc(responseHeaderSchema, ok)); // handshake, stream, monitor, stop
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve({
        port: typeof address === 'object' && address !== null ? address.port : 0,
        close: () => {
          for (const s of sockets) s.destroy();
          server.close();
        },
        requests: () => requests,
      });
    });
  });
}

function cpuTicks(pid: number): number {
  // /proc/<pid>/stat: fields 14 and 15 are utime and stime in clock ticks; the name (field 2) may hold spaces.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function benchIdle(seconds: number): Promise<void> {
  const agent = await fakeAgent();
  const socket = `shoal-bench-tui-${process.pid}`;
  const tmux = (...a: string[]): string => execFileSync('tmux', ['-L', socket, ...a], { encoding: 'utf8' });
  const shoal = fileURLToPath(new URL('../src/cli/shoal.js', import.meta.url));
  try {
    tmux('new-session', '-d', '-x', String(COLS), '-y', String(ROWS), 'env', 'TERM=xterm-256color', process.execPath, shoal, 'tui', `-rpc-addr=127.0.0.1:${agent.port}`);
    const pid = Number(tmux('display', '-p', '#{pane_pid}').trim());
    // Warm up: connect, first poll, first coordinates.
    await new Promise((r) => setTimeout(r, 5_000));
    const screen = tmux('capture-pane', '-p').split('\n');
    const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    const before = cpuTicks(pid);
    const requestsBefore = agent.requests();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const cpuS = (cpuTicks(pid) - before) / ticksPerSecond;
    const wallS = (performance.now() - t0) / 1000;
    console.log(`idle CPU of \`shoal tui\` (${MEMBERS} members, nothing changing, polls every 3 s, ${COLS}×${ROWS} tmux):`);
    console.log(`  ${((cpuS / wallS) * 100).toFixed(2)}% of one core (${cpuS.toFixed(2)} s CPU in ${wallS.toFixed(1)} s; ${agent.requests() - requestsBefore} RPC requests answered)`);
    console.log(`  target < 5% of a core`);
    console.log(`  screen header: ${screen[0]?.trim()}`);
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // gone already
    }
    rmSync(join(process.env['TMUX_TMPDIR'] ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, socket), { force: true });
    agent.close();
  }
}

benchRedraw(Number(args.redraws));
if (!args['no-idle']) await benchIdle(Number(args['idle-seconds']));
process.exit(0);
