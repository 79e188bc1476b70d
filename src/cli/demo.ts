// `shoal demo`: a local cluster of shoal agents on 127.0.0.1 to watch and play with — the main
// job until the terminal UI exists. It starts N agents (one process each), joins them, prints
// the membership as agent 0 sees it every few seconds, and tells the person what to try.
// Ctrl-C makes every agent leave gracefully and exits.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

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
    .description('Starts a local cluster of shoal agents on 127.0.0.1, one process each, and shows its membership live.')
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

async function runDemo(n: number, basePort: number, rpcPort: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-demo-'));
  const handler = join(dir, 'handler.sh');
  // Queries named "uptime" are answered; user events are printed on the demo's screen.
  writeFileSync(handler, '#!/bin/sh\nif [ "$SERF_EVENT" = "query" ]; then echo "$SERF_SELF_NAME up"; else echo "[$SERF_SELF_NAME] $SERF_EVENT $SERF_USER_EVENT $(cat)" >&2; fi\n');
  chmodSync(handler, 0o755);
  const agents: ChildProcess[] = [];
  // Whatever ends the demo, no agent outlives it.
  process.on('exit', () => {
    for (const a of agents) if (a.exitCode === null && a.signalCode === null) a.kill('SIGKILL');
  });
  for (let i = 0; i < n; i++) {
    const args = [
      shoalBin, 'agent', `-node=demo-${i}`, `-bind=127.0.0.1:${basePort + i}`, `-rpc-addr=127.0.0.1:${rpcPort + i}`,
      `-event-handler=${handler}`, '-log-level=warn', `-tag=demo=${i}`,
    ];
    if (i > 0) args.push(`-join=127.0.0.1:${basePort}`);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    agents.push(child);
    await new Promise((r) => setTimeout(r, i === 0 ? 700 : 150));
  }
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
      let left = agents.filter((a) => a.exitCode === null && a.signalCode === null).length;
      if (left === 0) resolve();
      for (const a of agents) {
        if (a.exitCode !== null || a.signalCode !== null) continue;
        a.once('exit', () => {
          if (--left === 0) resolve();
        });
        a.kill('SIGINT');
      }
      // Agents that do not finish leaving in time are ended.
      setTimeout(() => {
        for (const a of agents) if (a.exitCode === null) a.kill('SIGKILL');
        resolve();
      }, 15_000).unref();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  rmSync(dir, { recursive: true, force: true });
}
