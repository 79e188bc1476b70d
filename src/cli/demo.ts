// `shoal demo`: a local cluster of shoal agents on 127.0.0.1 to watch and play with. It starts N
// agents (one process each), joins them and opens the terminal UI on agent 0, with keys to kill
// (-9), pause (SIGSTOP/SIGCONT) and restart the selected member, so failure detection can be seen
// within a minute. Without a terminal (piped, in CI) it prints the membership every few seconds
// instead. Quitting (q, or Ctrl-C when printing) makes every agent leave gracefully.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, rmSync, openSync } from 'node:fs';
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
}

const EXAMPLES = `
Examples:
  shoal demo                 five agents on 127.0.0.1:7946.. with RPC on 127.0.0.1:7373..
  shoal demo -nodes=3 -base-port=17946 -rpc-port=17373

While it runs, in another terminal:
  shoal members                       the cluster as agent demo-0 sees it
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
    .addHelpText('after', EXAMPLES)
    .action(async (flags: DemoFlags) => {
      const n = Number(flags.nodes);
      const base = Number(flags.basePort);
      const rpc = Number(flags.rpcPort);
      if (!Number.isInteger(n) || n < 1 || n > 20) fail(`-nodes: expected a whole number from 1 to 20, got "${flags.nodes}"`);
      if (!Number.isInteger(base) || base < 1 || base + n > 65535) fail(`-base-port: expected a port number, got "${flags.basePort}"`);
      if (!Number.isInteger(rpc) || rpc < 1 || rpc + n > 65535) fail(`-rpc-port: expected a port number, got "${flags.rpcPort}"`);
      await runDemo(n, base, rpc);
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
async function startAgents(n: number, basePort: number, rpcPort: number, toFile: boolean): Promise<DemoAgents> {
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
  });
  const spawnAgent = (i: number): ChildProcess => {
    const args = [
      shoalBin, 'agent', `-node=demo-${i}`, `-bind=127.0.0.1:${basePort + i}`, `-rpc-addr=127.0.0.1:${rpcPort + i}`,
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

async function runDemo(n: number, basePort: number, rpcPort: number): Promise<void> {
  if (terminalProblem('shoal demo') === null) {
    await runDemoTui(n, basePort, rpcPort);
    process.exit(0);
  }
  const { dir, agents } = await startAgents(n, basePort, rpcPort, false);
  process.stdout.write(`\nshoal demo: ${n} agents on 127.0.0.1:${basePort}..${basePort + n - 1} (RPC 127.0.0.1:${rpcPort}..${rpcPort + n - 1})\n`);
  process.stdout.write(`pids: ${agents.map((a, i) => `demo-${i}=${a.pid ?? '?'}`).join(' ')}\n`);
  process.stdout.write(`${EXAMPLES.split('\n').slice(6).join('\n')}\nCtrl-C stops the demo (every agent leaves).\n\n`);
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

const DEMO_HINT = 'demo: select a member, then x kill -9 · p pause/resume · r restart — failure shows in ~5–10 s · ? help · q quit (agents leave)';

/** The demo in the terminal UI, watching through demo-0, with keys to hurt and heal members. */
async function runDemoTui(n: number, basePort: number, rpcPort: number): Promise<void> {
  const demo = await startAgents(n, basePort, rpcPort, true);
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
    await runTui(new RpcSource({ addr: `127.0.0.1:${rpcPort}`, handleKey }), { model, hint: DEMO_HINT });
  } finally {
    process.stdout.write('shoal demo: stopping, every agent leaves...\n');
    await stopAgents(demo.agents);
    rmSync(demo.dir, { recursive: true, force: true });
  }
}
