// `shoal swarm -n N`: N shoal agents in this one process, each on its own real UDP/TCP port on
// 127.0.0.1 (the runtime transport, real clock), joined into one cluster — a cheap way to load-test
// a cluster without N processes. Every few seconds it prints how many agents see the whole
// cluster alive, how many member-failed events were raised (with no agent killed, every one is a
// false failure), the event-loop lag all agents share, CPU and memory. With --duration it ends
// on its own and prints a summary (as JSON with --json); Ctrl-C ends it at once.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Command } from 'commander';
import { Agent } from '../agent/agent.js';
import { RpcServer } from '../agent/rpc-server.js';
import type { ProfileName } from '../protocol/config.js';
import type { SerfEvent } from '../cluster/serf.js';

interface SwarmFlags {
  readonly nodes: string;
  readonly basePort: string;
  readonly profile: string;
  readonly rpcPort?: string;
  readonly duration?: string;
  readonly json?: boolean;
  readonly reportEvery: string;
}

const EXAMPLES = `
Examples:
  shoal swarm -n 100                          100 agents on 127.0.0.1:27000..27099 until Ctrl-C
  shoal swarm -n 300 --duration 60 --json     a minute, then a JSON summary
  shoal swarm -n 50 --rpc-port 7373           and in another terminal: shoal members
`;

export interface SwarmSummary {
  readonly agents: number;
  /** From the first start until every agent saw all N alive (null: never within the run). */
  readonly formedMs: number | null;
  /** At the end: agents that see all N alive. */
  readonly convergedAgents: number;
  /** member-failed events raised by any agent about any other (nobody was killed: all false). */
  readonly falseFailureEvents: number;
  /** Distinct agents some agent declared failed. */
  readonly falselyFailedAgents: number;
  readonly eventLoopLagP99Ms: number;
  readonly eventLoopLagMaxMs: number;
  readonly rssMiB: number;
  readonly heapUsedMiB: number;
  /** CPU time used per wall second while steady (after forming), in percent of one core. */
  readonly cpuPct: number;
  readonly elapsedS: number;
}

export function registerSwarm(program: Command): void {
  program
    .command('swarm')
    .summary('run many agents in one process on 127.0.0.1 (load testing)')
    .description('Starts N shoal agents in this process, each on its own UDP/TCP port on 127.0.0.1, joins them into one cluster and reports convergence, false failures, event-loop lag, CPU and memory.')
    .option('-n, --nodes <n>', 'how many agents (1–5000)', '50')
    .option('--base-port <port>', 'gossip port of the first agent; the others follow', '27000')
    .option('--profile <name>', 'timing profile: lan, wan or local', 'lan')
    .option('--rpc-port <port>', 'serve the RPC of agent 0 on 127.0.0.1:<port> (for shoal members, monitor …)')
    .option('--duration <seconds>', 'stop after this many seconds and print a summary')
    .option('--report-every <seconds>', 'seconds between progress lines', '5')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', EXAMPLES)
    .action(async (flags: SwarmFlags) => {
      const n = Number(flags.nodes);
      const base = Number(flags.basePort);
      if (!Number.isInteger(n) || n < 1 || n > 5000) fail(`-n: expected a whole number from 1 to 5000, got "${flags.nodes}"`);
      if (!Number.isInteger(base) || base < 1 || base + n > 65535) fail(`--base-port: expected a port with room for ${n} agents after it, got "${flags.basePort}"`);
      if (!['lan', 'wan', 'local'].includes(flags.profile)) fail(`--profile: expected lan, wan or local, got "${flags.profile}"`);
      const duration = flags.duration === undefined ? undefined : Number(flags.duration);
      if (duration !== undefined && !(duration > 0)) fail(`--duration: expected a positive number of seconds, got "${flags.duration}"`);
      const rpcPort = flags.rpcPort === undefined ? undefined : Number(flags.rpcPort);
      if (rpcPort !== undefined && !(Number.isInteger(rpcPort) && rpcPort > 0 && rpcPort < 65536)) fail(`--rpc-port: expected a port number, got "${flags.rpcPort}"`);
      const summary = await runSwarm({
        n, basePort: base, profile: flags.profile as ProfileName, durationS: duration, rpcPort, reportEveryS: Number(flags.reportEvery) || 5,
        print: flags.json === true ? () => {} : (line) => process.stdout.write(`${line}\n`),
      });
      if (flags.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
      process.exit(0);
    });
}

function fail(message: string): never {
  process.stderr.write(`shoal swarm: ${message}\n`);
  process.exit(1);
}

export interface SwarmOptions {
  readonly n: number;
  readonly basePort: number;
  readonly profile: ProfileName;
  readonly durationS: number | undefined;
  readonly rpcPort: number | undefined;
  readonly reportEveryS: number;
  readonly print: (line: string) => void;
}

export async function runSwarm(o: SwarmOptions): Promise<SwarmSummary> {
  const agents: Agent[] = [];
  const failedAbout = new Set<string>();
  let failedEvents = 0;
  let errors = 0;
  let lastError = '';
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const t0 = performance.now();
  let stopping = false;
  const stop = async (): Promise<void> => {
    stopping = true;
    await Promise.all(agents.map((a) => a.shutdown().catch(() => undefined)));
  };
  process.once('SIGINT', () => {
    void stop().then(() => process.exit(130));
  });
  for (let i = 0; i < o.n; i++) {
    const agent = await Agent.start(
      {
        nodeName: `swarm-${i}`, bindIp: '127.0.0.1', bindPort: o.basePort + i, tags: new Map([['swarm', String(i)]]), profile: o.profile, keys: [],
        rejoinAfterLeave: false, protocol: 5, logLevel: 'ERR',
        logOutput: (line) => {
          if (line.level === 'ERR') {
            errors++;
            lastError = line.message;
          }
        },
      },
      (a) =>
        a.on('serf', (event: SerfEvent) => {
          if (event.type !== 'member-failed' || stopping) return;
          for (const m of event.members) {
            failedEvents++;
            failedAbout.add(m.name);
          }
        }),
    );
    agents.push(agent);
    // Join the first agent and a random earlier one (so no single agent does every push/pull
    // of a large swarm), in the background.
    if (i > 0) {
      const other = Math.floor(Math.random() * i);
      void agent.join(other === 0 ? [`127.0.0.1:${o.basePort}`] : [`127.0.0.1:${o.basePort}`, `127.0.0.1:${o.basePort + other}`], false);
    }
    // Let the event loop breathe between starts, so the earlier agents keep their timers.
    if (i % 10 === 9) await new Promise((r) => setTimeout(r, 20));
  }
  let rpc: RpcServer | undefined;
  if (o.rpcPort !== undefined && agents[0] !== undefined) rpc = await RpcServer.listen(agents[0], { addr: `127.0.0.1:${o.rpcPort}` });
  o.print(`shoal swarm: ${o.n} agents on 127.0.0.1:${o.basePort}..${o.basePort + o.n - 1} (${o.profile} profile) started in ${Math.round(performance.now() - t0)} ms${rpc === undefined ? '' : `; RPC of swarm-0 on 127.0.0.1:${o.rpcPort}`}`);

  const converged = (): number => agents.filter((a) => a.serf.memberlist.numMembers() === o.n).length;
  let formedMs: number | null = null;
  let cpuAtForm = process.cpuUsage();
  let formedAt = performance.now();
  const endAt = o.durationS === undefined ? Infinity : t0 + o.durationS * 1000;
  let nextReport = performance.now() + o.reportEveryS * 1000;
  while (performance.now() < endAt && !stopping) {
    await new Promise((r) => setTimeout(r, 250));
    const c = converged();
    if (formedMs === null && c === o.n) {
      formedMs = Math.round(performance.now() - t0);
      cpuAtForm = process.cpuUsage();
      formedAt = performance.now();
      lag.reset();
      o.print(`  formed: all ${o.n} agents see ${o.n} alive after ${formedMs} ms`);
    }
    if (performance.now() >= nextReport) {
      nextReport += o.reportEveryS * 1000;
      const mem = process.memoryUsage();
      o.print(
        `  +${Math.round((performance.now() - t0) / 1000)} s: ${c}/${o.n} see all alive, member-failed events ${failedEvents} (about ${failedAbout.size} agents), ` +
          `loop lag p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms, RSS ${(mem.rss / 2 ** 20).toFixed(0)} MiB, heap ${(mem.heapUsed / 2 ** 20).toFixed(0)} MiB` +
          (errors > 0 ? `, ${errors} errors (last: ${lastError.slice(0, 120)})` : ''),
      );
    }
  }
  const cpu = process.cpuUsage(cpuAtForm);
  const steadyS = Math.max(0.001, (performance.now() - formedAt) / 1000);
  const mem = process.memoryUsage();
  const summary: SwarmSummary = {
    agents: o.n, formedMs, convergedAgents: converged(), falseFailureEvents: failedEvents, falselyFailedAgents: failedAbout.size,
    eventLoopLagP99Ms: Number((lag.percentile(99) / 1e6).toFixed(1)), eventLoopLagMaxMs: Number((lag.max / 1e6).toFixed(1)),
    rssMiB: Math.round(mem.rss / 2 ** 20), heapUsedMiB: Math.round(mem.heapUsed / 2 ** 20),
    cpuPct: Math.round(((cpu.user + cpu.system) / 1e6 / steadyS) * 100), elapsedS: Math.round((performance.now() - t0) / 1000),
  };
  lag.disable();
  await rpc?.close();
  await stop();
  o.print(`shoal swarm: ${JSON.stringify(summary)}`);
  return summary;
}
