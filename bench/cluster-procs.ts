// Agent processes for the cluster benchmark (bench/cluster.ts): one OS process per agent, each
// with its own RPC port and a user-event handler script that appends a timestamp to a file, plus
// the /proc readings (CPU time, RSS) of those processes. Every process started here is recorded,
// so killAll() can end them on exit, on SIGINT and on failure.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RpcClient } from '../src/cli/rpc-client.js';

export type Impl = 'serf' | 'shoal';

/** Ports of issue #5's brief: serf agents in 20000–20999, shoal agents in 21000–21999; RPC 500 above gossip. */
export const PORT_BASE: Record<Impl, number> = { serf: 20000, shoal: 21000 };
export const PORT_RANGE: Record<Impl, readonly [number, number]> = { serf: [20000, 20999], shoal: [21000, 21999] };
const RPC_OFFSET = 500;

export interface AgentProc {
  readonly name: string;
  readonly gossipAddr: string;
  readonly rpcAddr: string;
  readonly eventFile: string;
  readonly child: ChildProcess;
  client: RpcClient | null;
}

const started = new Set<ChildProcess>();

/** SIGKILL for every agent still running: synchronous, so it is safe in an 'exit' handler. */
export function killAll(): void {
  for (const child of started) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  started.clear();
}

export function kill(agent: AgentProc): void {
  agent.client?.close();
  agent.client = null;
  if (agent.child.exitCode === null && agent.child.signalCode === null) agent.child.kill('SIGKILL');
  started.delete(agent.child);
}

function command(impl: Impl, args: string[]): [string, string[]] {
  if (impl === 'serf') return ['serf', ['agent', ...args]];
  return [process.execPath, [join(import.meta.dirname, '..', 'src', 'cli', 'shoal.js'), 'agent', ...args]];
}

/**
 * Starts agent `index` of `impl` in `dir` (default LAN profile, no join: the benchmark times the
 * joins itself). Its output goes to a log file beside the event file, for post-mortems.
 */
export function startAgent(impl: Impl, index: number, dir: string): AgentProc {
  const name = `${impl}-${index}`;
  const port = PORT_BASE[impl] + index;
  const rpcPort = port + RPC_OFFSET;
  const eventFile = join(dir, `${name}.events`);
  const handler = join(dir, `${name}.sh`);
  // The payload arrives on stdin; read it so the agent never blocks writing it.
  writeFileSync(handler, `#!/bin/sh\ncat >/dev/null\ndate +%s%N >> '${eventFile}'\n`);
  chmodSync(handler, 0o755);
  const [file, args] = command(impl, [
    `-node=${name}`, `-bind=127.0.0.1:${port}`, `-rpc-addr=127.0.0.1:${rpcPort}`, `-event-handler=user=${handler}`,
  ]);
  const log = openSync(join(dir, `${name}.log`), 'w');
  const child = spawn(file, args, { stdio: ['ignore', log, log] });
  closeSync(log);
  started.add(child);
  return { name, gossipAddr: `127.0.0.1:${port}`, rpcAddr: `127.0.0.1:${rpcPort}`, eventFile, child, client: null };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Dials the agent's RPC port until it answers or `deadline` (performance.now()) passes. */
export async function connectRpc(agent: AgentProc, deadline: number): Promise<void> {
  for (;;) {
    if (agent.child.exitCode !== null) throw new Error(`${agent.name} exited with code ${agent.child.exitCode} before its RPC port opened`);
    try {
      agent.client = await RpcClient.connect(agent.rpcAddr, { timeoutMs: 2000 });
      return;
    } catch (err) {
      if (performance.now() > deadline) throw new Error(`${agent.name}: RPC ${agent.rpcAddr} did not answer in time: ${String(err)}`, { cause: err });
      await sleep(100);
    }
  }
}

/** The timestamps (epoch ms) the agent's user-event handler wrote, one per run. */
export function handlerTimes(agent: AgentProc): number[] {
  if (!existsSync(agent.eventFile)) return [];
  return readFileSync(agent.eventFile, 'utf8').split('\n').filter((line) => line !== '').map((ns) => Number(BigInt(ns) / 1000n) / 1000);
}

export interface ProcSample {
  /** utime + stime, seconds. */
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

let clockTicks = 0;

function ticksPerSecond(): number {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Reads /proc/PID/stat (utime, stime: fields 14 and 15, proc(5)) and VmRSS from /proc/PID/status. */
export function sampleProc(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return { cpuSeconds: ticks / ticksPerSecond(), rssBytes: rss?.[1] === undefined ? 0 : Number(rss[1]) * 1024 };
}
