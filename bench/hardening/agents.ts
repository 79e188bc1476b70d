// Real agent processes — shoal or the real `serf` — for the hardening runs (soak, faults, scale)
// and their CI tests: start with a name, ports and flags; talk to them over RPC; stall, kill and
// restart them; read their memory. Every process started here is recorded so killAllAgents()
// can end them (it is synchronous, safe in 'exit' handlers and test `after` hooks).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { RpcClient } from '../../src/cli/rpc-client.js';
import type { RpcMember } from '../../src/wire/rpc-schemas.js';
import { sampleProc } from '../cluster-procs.js';

export type Impl = 'shoal' | 'serf';

export interface AgentSpec {
  readonly impl: Impl;
  readonly name: string;
  readonly port: number;
  readonly rpcPort: number;
  /** Where the log (and a snapshot, if asked) go. */
  readonly dir: string;
  readonly profile?: 'lan' | 'wan' | 'local';
  readonly join?: readonly string[];
  readonly snapshot?: boolean;
  readonly extraArgs?: readonly string[];
}

export interface LocalAgent {
  readonly spec: AgentSpec;
  readonly child: ChildProcess;
  readonly pid: number;
  readonly logFile: string;
  readonly startedAtMs: number;
  /** Set by the exit handler; null while it runs. */
  exit: { code: number | null; signal: string | null } | null;
}

const live = new Set<ChildProcess>();

export function killAllAgents(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) {
      try {
        child.kill('SIGCONT');
      } catch {
        // already gone
      }
      child.kill('SIGKILL');
    }
  }
  live.clear();
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function snapshotPath(spec: AgentSpec): string {
  return join(spec.dir, `${spec.name}.snapshot`);
}

/** Starts an agent process; its stdout and stderr are appended to `<dir>/<name>.log`. */
export function startAgent(spec: AgentSpec): LocalAgent {
  const args = [
    `-node=${spec.name}`, `-bind=127.0.0.1:${spec.port}`, `-rpc-addr=127.0.0.1:${spec.rpcPort}`,
    `-profile=${spec.profile ?? 'lan'}`,
    ...(spec.join ?? []).map((j) => `-join=${j}`),
    ...(spec.snapshot === true ? [`-snapshot=${snapshotPath(spec)}`] : []),
    ...(spec.extraArgs ?? []),
  ];
  const [file, argv] = spec.impl === 'serf'
    ? ['serf', ['agent', ...args]]
    : [process.execPath, [join(import.meta.dirname, '..', '..', 'src', 'cli', 'shoal.js'), 'agent', ...args]];
  const logFile = join(spec.dir, `${spec.name}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn(file, argv as string[], { stdio: ['ignore', log, log] });
  closeSync(log);
  live.add(child);
  const agent: LocalAgent = { spec, child, pid: child.pid ?? -1, logFile, startedAtMs: Date.now(), exit: null };
  child.once('exit', (code, signal) => {
    agent.exit = { code, signal };
    live.delete(child);
  });
  return agent;
}

export function isRunning(agent: LocalAgent): boolean {
  return agent.exit === null;
}

export function kill(agent: LocalAgent, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (!isRunning(agent)) return;
  if (signal === 'SIGKILL') agent.child.kill('SIGCONT');
  agent.child.kill(signal);
}

/** Resolves once the process has exited (SIGKILL after `timeoutMs`). */
export async function waitExit(agent: LocalAgent, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (isRunning(agent)) {
    if (Date.now() > until) {
      kill(agent);
      await sleep(50);
      if (Date.now() > until + 2_000) return;
    }
    await sleep(20);
  }
}

/** One RPC request on a fresh connection (nothing stays open to a process that may be stalled). */
export async function rpc<T>(agent: LocalAgent, fn: (client: RpcClient) => Promise<T>, timeoutMs = 3_000): Promise<T> {
  const client = await RpcClient.connect(`127.0.0.1:${agent.spec.rpcPort}`, { timeoutMs });
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Dials the RPC port until it answers; throws if the process exits or time runs out. */
export async function waitRpc(agent: LocalAgent, timeoutMs = 15_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (!isRunning(agent)) throw new Error(`${agent.spec.name} exited (${JSON.stringify(agent.exit)}) before its RPC port answered; see ${agent.logFile}`);
    try {
      await rpc(agent, (c) => c.call('stats'), 2_000);
      return;
    } catch (err) {
      if (Date.now() > until) throw new Error(`${agent.spec.name}: RPC 127.0.0.1:${agent.spec.rpcPort} did not answer in ${timeoutMs} ms: ${String(err)}`, { cause: err });
      await sleep(100);
    }
  }
}

export async function members(agent: LocalAgent): Promise<RpcMember[]> {
  return rpc(agent, async (c) => (await c.call('members'))?.Members ?? []);
}

export async function stats(agent: LocalAgent): Promise<Map<string, Map<string, string>>> {
  const raw = await rpc(agent, (c) => c.call('stats'));
  const out = new Map<string, Map<string, string>>();
  for (const [k, v] of raw ?? []) out.set(k, v ?? new Map<string, string>());
  return out;
}

export interface MemorySample {
  readonly rssBytes: number;
  readonly cpuSeconds: number;
  /** From the agent's stats (shoal only): V8 heap in use. */
  readonly heapUsedBytes: number | null;
}

export async function memory(agent: LocalAgent): Promise<MemorySample> {
  const p = sampleProc(agent.pid);
  let heap: number | null = null;
  if (agent.spec.impl === 'shoal') {
    try {
      const v = (await stats(agent)).get('runtime')?.get('heap_used_bytes');
      heap = v === undefined ? null : Number(v);
    } catch {
      heap = null;
    }
  }
  return { rssBytes: p.rssBytes, cpuSeconds: p.cpuSeconds, heapUsedBytes: heap };
}

/** The status each member has in `observer`'s view, by name. */
export async function view(observer: LocalAgent): Promise<Map<string, RpcMember>> {
  return new Map((await members(observer)).map((m) => [m.Name, m]));
}
