// `shoal demo`: a local cluster of shoal agents on 127.0.0.1 to watch and play with. It starts N
// agents (one process each), joins them and opens the terminal UI on agent 0, with keys to kill
// (-9), pause (SIGSTOP/SIGCONT) and restart the selected member, so failure detection can be seen
// within a minute. Without a terminal (piped, in CI) it prints the membership every few seconds
// instead. Quitting (q, or Ctrl-C when printing) makes every agent leave gracefully.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, chmodSync, rmSync, openSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import type { KeyPress } from '../tui/app.js';
import { TuiModel } from '../tui/model.js';
import { RpcSource } from '../tui/rpc-source.js';
import { runTui, terminalProblem } from '../tui/run.js';

interface DemoFlags {
  readonly nodes: string;
  readonly basePort: string;
  readonly rpcPort: string;
  readonly httpPort: string;
  readonly dnsPort: string;
}

/** Where the demo's agents listen: agent i uses each base port + i. */
interface DemoPorts {
  readonly gossip: number;
  readonly rpc: number;
  readonly http: number;
  readonly dns: number;
}

const EXAMPLES = `
Examples:
  shoal demo                 five agents on 127.0.0.1:7946.. with RPC on 127.0.0.1:7373..,
                             HTTP APIs on 127.0.0.1:8500.., DNS on 127.0.0.1:8600..
  shoal demo -nodes=3 -base-port=17946 -rpc-port=17373 -http-port=18500 -dns-port=18600

Every agent registers a service "web" (a TCP check on its HTTP port), demo-0 and demo-2 also "db"
(a TCP check on their RPC port); kill or pause an agent and its instances turn critical (v in the
TUI shows the services).

While it runs, in another terminal:
  shoal members                       the cluster as agent demo-0 sees it
  shoal services                      the catalog, through demo-0's HTTP API
  dig @127.0.0.1 -p 8600 web.service.consul SRV +short   the healthy web instances
  shoal event deploy v1               a user event: every agent's handler logs it
  shoal query uptime                  every agent answers
  kill -9 <pid of an agent>           watch it become failed
  shoal leave -rpc-addr=127.0.0.1:7374   watch demo-1 leave
`;

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .summary('run a local demo cluster on 127.0.0.1')
    .description('Starts a local cluster of shoal agents on 127.0.0.1, one process each, and opens the terminal UI on it (x kills, p pauses, r restarts the selected member). Without a terminal it prints the membership every few seconds.')
    .option('--nodes <n>', 'how many agents (1–20)', '5')
    .option('--base-port <port>', 'gossip port of the first agent; the others follow', '7946')
    .option('--rpc-port <port>', 'RPC port of the first agent; the others follow', '7373')
    .option('--http-port <port>', 'HTTP API port of the first agent (the services view reads it); the others follow', '8500')
    .option('--dns-port <port>', 'DNS port of the first agent; the others follow', '8600')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: DemoFlags) => {
      const n = Number(flags.nodes);
      if (!Number.isInteger(n) || n < 1 || n > 20) fail(`-nodes: expected a whole number from 1 to 20, got "${flags.nodes}"`);
      const port = (text: string, flag: string): number => {
        const p = Number(text);
        if (!Number.isInteger(p) || p < 1 || p + n > 65535) fail(`-${flag}: expected a port number (room for ${n} after it), got "${text}"`);
        return p;
      };
      const ports = { gossip: port(flags.basePort, 'base-port'), rpc: port(flags.rpcPort, 'rpc-port'), http: port(flags.httpPort, 'http-port'), dns: port(flags.dnsPort, 'dns-port') };
      const ranges = Object.entries({ 'base-port': ports.gossip, 'rpc-port': ports.rpc, 'http-port': ports.http, 'dns-port': ports.dns });
      for (const [i, [a, pa]] of ranges.entries()) {
        for (const [b, pb] of ranges.slice(i + 1)) {
          if (pa < pb + n && pb < pa + n) fail(`-${a}=${pa} and -${b}=${pb} overlap: each gives ${n} consecutive ports`);
        }
      }
      // An agent whose address is taken exits at once: say which before starting any.
      for (const [flag, base] of [['rpc-port', ports.rpc], ['http-port', ports.http], ['dns-port', ports.dns]] as const) {
        for (let i = 0; i < n; i++) {
          if (!(await tcpPortFree(base + i))) fail(`-${flag}: 127.0.0.1:${base + i} is in use (agent demo-${i} would listen there); give -${flag}=another port`);
        }
      }
      await runDemo(n, ports);
    });
}

function tcpPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function fail(message: string): never {
  process.stderr.write(`shoal demo: ${message}\n`);
  process.exit(1);
}

const shoalBin = fileURLToPath(new URL('./shoal.js', import.meta.url));

interface DemoAgents {
  readonly dir: string;
  readonly agents: ChildProcess[];
  readonly logFile: string | null;
  /** Starts (or restarts) agent i, joining through a running agent. */
  spawnAgent(i: number): ChildProcess;
}

/**
 * Starts N agents one after another. In the TUI their stderr (and the event handler's) goes to a
 * file, so nothing writes over the screen; without the TUI it comes through as before.
 */
async function startAgents(n: number, ports: DemoPorts, toFile: boolean): Promise<DemoAgents> {
  const basePort = ports.gossip;
  const dir = mkdtempSync(join(tmpdir(), 'shoal-demo-'));
  const handler = join(dir, 'handler.sh');
  // Queries named "uptime" are answered; user events are printed on the demo's screen.
  writeFileSync(handler, '#!/bin/sh\nif [ "$SERF_EVENT" = "query" ]; then echo "$SERF_SELF_NAME up"; else echo "[$SERF_SELF_NAME] $SERF_EVENT $SERF_USER_EVENT $(cat)" >&2; fi\n');
  chmodSync(handler, 0o755);
  const logFile = toFile ? join(dir, 'agents.log') : null;
  const logFd = logFile === null ? null : openSync(logFile, 'a');
  const agents: ChildProcess[] = [];
  // Whatever ends the demo, no agent outlives it (a paused one is ended too: SIGKILL needs no SIGCONT).
  process.on('exit', () => {
    for (const a of agents) if (a.exitCode === null && a.signalCode === null) a.kill('SIGKILL');
    // A hang-up or a crash skips the normal cleanup: the temporary directory goes here too.
    rmSync(dir, { recursive: true, force: true });
  });
  for (let i = 0; i < n; i++) {
    mkdirSync(join(dir, `demo-${i}.d`));
    writeFileSync(join(dir, `demo-${i}.d`, 'services.json'), JSON.stringify(demoServices(i, ports)));
  }
  const spawnAgent = (i: number): ChildProcess => {
    const args = [
      shoalBin, 'agent', `-node=demo-${i}`, `-bind=127.0.0.1:${basePort + i}`, `-rpc-addr=127.0.0.1:${ports.rpc + i}`,
      `-http-addr=127.0.0.1:${ports.http + i}`, `-dns-addr=127.0.0.1:${ports.dns + i}`, `-config-dir=${join(dir, `demo-${i}.d`)}`,
      `-event-handler=${handler}`, '-log-level=warn', `-tag=demo=${i}`,
    ];
    // Join through the first agent still running (the first one itself joins nobody at the start).
    const seed = agents.findIndex((a, j) => j !== i && a.exitCode === null && a.signalCode === null);
    if (seed >= 0) args.push(`-join=127.0.0.1:${basePort + seed}`);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', logFd ?? 'inherit'] });
    agents[i] = child;
    return child;
  };
  for (let i = 0; i < n; i++) {
    spawnAgent(i);
    await new Promise((r) => setTimeout(r, i === 0 ? 700 : 150));
  }
  return { dir, agents, logFile, spawnAgent };
}

/**
 * The demo's example services, in Consul's definition format: "web" on every agent and "db" on
 * demo-0 and demo-2, each with a TCP check on one of the agent's own ports — passing while the
 * agent runs; when it is killed or paused, gossip fails it and serfHealth turns its instances critical.
 */
export function demoServices(i: number, ports: DemoPorts): unknown {
  const services: unknown[] = [{
    name: 'web', id: 'web', port: ports.http + i, tags: [i % 2 === 0 ? 'v1' : 'v2'],
    check: { tcp: `127.0.0.1:${ports.http + i}`, interval: '2s', timeout: '1s', status: 'passing' },
  }];
  if (i === 0 || i === 2) {
    services.push({
      name: 'db', id: 'db', port: ports.rpc + i, tags: [i === 0 ? 'primary' : 'replica'],
      check: { tcp: `127.0.0.1:${ports.rpc + i}`, interval: '3s', timeout: '1s', status: 'passing' },
    });
  }
  return { services };
}

/** Every agent leaves gracefully (a paused one is resumed first); the slow ones are killed. */
function stopAgents(agents: readonly ChildProcess[]): Promise<void> {
  return new Promise<void>((resolve) => {
    let left = agents.filter((a) => a.exitCode === null && a.signalCode === null).length;
    if (left === 0) resolve();
    for (const a of agents) {
      if (a.exitCode !== null || a.signalCode !== null) continue;
      a.once('exit', () => {
        if (--left === 0) resolve();
      });
      a.kill('SIGCONT');
      a.kill('SIGINT');
    }
    // Agents that do not finish leaving in time are ended.
    setTimeout(() => {
      for (const a of agents) if (a.exitCode === null) a.kill('SIGKILL');
      resolve();
    }, 15_000).unref();
  });
}

async function runDemo(n: number, ports: DemoPorts): Promise<void> {
  if (terminalProblem('shoal demo') === null) {
    await runDemoTui(n, ports);
    process.exit(0);
  }
  const { dir, agents } = await startAgents(n, ports, false);
  const basePort = ports.gossip;
  const rpcPort = ports.rpc;
  process.stdout.write(`\nshoal demo: ${n} agents on 127.0.0.1:${basePort}..${basePort + n - 1} (RPC 127.0.0.1:${rpcPort}..${rpcPort + n - 1}, HTTP 127.0.0.1:${ports.http}..${ports.http + n - 1})\n`);
  process.stdout.write(`pids: ${agents.map((a, i) => `demo-${i}=${a.pid ?? '?'}`).join(' ')}\n`);
  process.stdout.write(`${EXAMPLES.split('\n').slice(EXAMPLES.split('\n').indexOf('While it runs, in another terminal:')).join('\n')}\nCtrl-C stops the demo (every agent leaves).\n\n`);
  let stopping = false;
  const show = (): void => {
    if (stopping) return;
    execFile(process.execPath, [shoalBin, 'members', `-rpc-addr=127.0.0.1:${rpcPort}`], { timeout: 5_000 }, (_err, stdout, stderr) => {
      if (stopping) return;
      process.stdout.write(`--- ${new Date().toLocaleTimeString()} members as demo-0 sees them\n${stdout}${stderr}`);
    });
  };
  const timer = setInterval(show, 3_000);
  show();
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      clearInterval(timer);
      process.stdout.write('\nshoal demo: stopping, every agent leaves...\n');
      void stopAgents(agents).then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  rmSync(dir, { recursive: true, force: true });
}

export const DEMO_KEYS: ReadonlyArray<{ readonly key: string; readonly description: string }> = [
  { key: 'x', description: 'demo: kill -9 the selected member (watch: ? suspect, then ✖ failed)' },
  { key: 'p', description: 'demo: pause / resume the selected member (SIGSTOP / SIGCONT: a stalled process)' },
  { key: 'r', description: 'demo: restart the selected member (it rejoins and is ● alive again)' },
];

const DEMO_HINT = 'demo: select a member, then x kill -9 · p pause/resume · r restart — failure shows in ~5–10 s · v services · ? help · q quit';

/** The demo in the terminal UI, watching through demo-0, with keys to hurt and heal members. */
async function runDemoTui(n: number, ports: DemoPorts): Promise<void> {
  const demo = await startAgents(n, ports, true);
  const paused = new Set<number>();
  const handleKey = (key: KeyPress, model: TuiModel): boolean => {
    if (key.name !== 'x' && key.name !== 'p' && key.name !== 'r') return false;
    const name = model.selected()?.name ?? '';
    const m = /^demo-(\d+)$/.exec(name);
    const i = m === null ? -1 : Number(m[1]);
    const child = demo.agents[i];
    const now = Date.now();
    if (child === undefined) {
      model.showMessage(now, `select a demo member first (${name === '' ? 'nothing selected' : `${name} is not one of this demo's agents`})`);
      return true;
    }
    const running = child.exitCode === null && child.signalCode === null;
    const watched = i === 0 ? ' — the TUI watches through demo-0, so it reconnects when demo-0 is back (r)' : '';
    if (key.name === 'x') {
      if (!running) model.showMessage(now, `${name} is not running (r restarts it)`);
      else {
        child.kill('SIGKILL');
        paused.delete(i);
        model.setProcess(now, name, 'killed');
        model.addLog(now, 'info', `demo: kill -9 ${name} (pid ${child.pid ?? '?'})${watched}`);
      }
    } else if (key.name === 'p') {
      if (!running) model.showMessage(now, `${name} is not running (r restarts it)`);
      else if (paused.delete(i)) {
        child.kill('SIGCONT');
        model.setProcess(now, name, '');
        model.addLog(now, 'info', `demo: resumed ${name} (SIGCONT)`);
      } else {
        paused.add(i);
        child.kill('SIGSTOP');
        model.setProcess(now, name, 'paused');
        model.addLog(now, 'info', `demo: paused ${name} (SIGSTOP)${watched}`);
      }
    } else {
      if (running) child.kill('SIGKILL');
      paused.delete(i);
      const fresh = demo.spawnAgent(i);
      model.setProcess(now, name, '');
      model.addLog(now, 'info', `demo: restarted ${name} (pid ${fresh.pid ?? '?'})`);
    }
    return true;
  };
  const model = new TuiModel();
  model.extraKeys = DEMO_KEYS;
  model.addLog(Date.now(), 'info', `demo: ${n} agents, pids ${demo.agents.map((a, i) => `demo-${i}=${a.pid ?? '?'}`).join(' ')}; their logs: ${demo.logFile ?? ''} (removed at the end)`);
  try {
    await runTui(new RpcSource({ addr: `127.0.0.1:${ports.rpc}`, httpAddr: `127.0.0.1:${ports.http}`, handleKey }), { model, hint: DEMO_HINT });
  } finally {
    process.stdout.write('shoal demo: stopping, every agent leaves...\n');
    await stopAgents(demo.agents);
    rmSync(demo.dir, { recursive: true, force: true });
  }
}
