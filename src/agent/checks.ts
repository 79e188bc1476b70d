// Health checks run by the local agent, as Consul's agent/checks runs them: HTTP (2xx passing,
// 429 warning, anything else critical), TCP (connect), script (exit 0 passing, 1 warning, else
// critical), TTL (critical unless refreshed through the API within the TTL). Results go into the
// node's local catalog; the catalog gossip decides when they travel. A check critical for longer
// than its deregister_critical_service_after takes its service away.
import { spawn } from 'node:child_process';
import net from 'node:net';
import type { HealthStatusName } from '../catalog/types.js';

/** The longest delay Node's setTimeout takes (2^31 - 1 ms); longer ones fire after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1;
import type { CheckDefinition } from './service-definition.js';

/** What a runner needs from the agent. */
export interface CheckSink {
  update(id: string, status: HealthStatusName, output: string): void;
  deregisterService(serviceId: string): void;
  log(level: 'DEBUG' | 'INFO' | 'WARN' | 'ERR', message: string): void;
}

/** Consul caps a check's captured output (agent/checks BufSize = 4 KiB). */
const OUTPUT_LIMIT_BYTES = 4096;
/** Consul's reaper period for deregister_critical_service_after (agent.go reapServicesInternal: 30 s); shorter here to be useful in tests. */
const REAP_INTERVAL_MS = 1_000;

interface Running {
  readonly def: CheckDefinition;
  timer: NodeJS.Timeout | null;
  status: HealthStatusName;
  criticalSinceMs: number | null;
  stopped: boolean;
}

export class CheckRunner {
  private readonly checks = new Map<string, Running>();
  private readonly reaper: NodeJS.Timeout;

  constructor(private readonly sink: CheckSink) {
    this.reaper = setInterval(() => this.reap(), REAP_INTERVAL_MS);
    this.reaper.unref();
  }

  /** Starts (or restarts) a check. */
  add(def: CheckDefinition): void {
    this.remove(def.id);
    const run: Running = { def, timer: null, status: def.initialStatus, criticalSinceMs: def.initialStatus === 'critical' ? Date.now() : null, stopped: false };
    this.checks.set(def.id, run);
    if (def.kind.type === 'ttl') this.armTtl(run);
    // Consul staggers the first run randomly within the interval; a short random delay is enough here.
    else this.schedule(run, Math.floor(Math.random() * Math.min(def.intervalMs, 500)));
  }

  remove(id: string): void {
    const run = this.checks.get(id);
    if (run === undefined) return;
    run.stopped = true;
    if (run.timer !== null) clearTimeout(run.timer);
    this.checks.delete(id);
  }

  /** Removes every check of a service. */
  removeService(serviceId: string): void {
    for (const [id, run] of [...this.checks]) if (run.def.serviceId === serviceId) this.remove(id);
  }

  has(id: string): boolean {
    return this.checks.has(id);
  }

  definition(id: string): CheckDefinition | undefined {
    return this.checks.get(id)?.def;
  }

  /** A TTL check's update through the API (pass/warn/fail/update). Returns an error or null. */
  ttlUpdate(id: string, status: HealthStatusName, output: string): string | null {
    const run = this.checks.get(id);
    if (run === undefined) return `Unknown check ID "${id}". Ensure that the check ID is passed, not the check name.`;
    if (run.def.kind.type !== 'ttl') return `CheckID "${id}" does not have associated TTL`;
    this.armTtl(run);
    this.record(run, status, output);
    return null;
  }

  stop(): void {
    clearInterval(this.reaper);
    for (const id of [...this.checks.keys()]) this.remove(id);
  }

  private record(run: Running, status: HealthStatusName, output: string): void {
    if (run.stopped) return;
    run.status = status;
    if (status !== 'critical') run.criticalSinceMs = null;
    else run.criticalSinceMs ??= Date.now();
    this.sink.update(run.def.id, status, output);
  }

  private armTtl(run: Running): void {
    if (run.def.kind.type !== 'ttl') return;
    if (run.timer !== null) clearTimeout(run.timer);
    // A TTL past Node's timer range (about 24.8 days) waits in steps: setTimeout would fire it
    // after 1 ms (found by the http-body fuzz target: TTL "9e299h" went critical at once).
    const arm = (leftMs: number): void => {
      const stepMs = Math.min(leftMs, MAX_TIMER_MS);
      run.timer = setTimeout(() => {
        run.timer = null;
        if (leftMs > stepMs) return arm(leftMs - stepMs);
        this.sink.log('WARN', `agent: Check "${run.def.id}" missed TTL, is now critical`);
        this.record(run, 'critical', `TTL expired`);
      }, stepMs);
    };
    arm(run.def.kind.ttlMs);
  }

  private schedule(run: Running, delayMs: number): void {
    // An interval past Node's timer range runs the check every MAX_TIMER_MS instead of at once.
    delayMs = Math.min(delayMs, MAX_TIMER_MS);
    run.timer = setTimeout(() => {
      run.timer = null;
      void this.runOnce(run).then(([status, output]) => {
        if (run.stopped) return;
        this.record(run, status, output);
        this.schedule(run, run.def.intervalMs);
      });
    }, delayMs);
  }

  private runOnce(run: Running): Promise<[HealthStatusName, string]> {
    const kind = run.def.kind;
    switch (kind.type) {
      case 'http':
        return httpCheck(kind.url, kind.method, kind.header, kind.body, run.def.timeoutMs);
      case 'tcp':
        return tcpCheck(kind.address, run.def.timeoutMs);
      case 'script':
        return scriptCheck(kind.args, run.def.timeoutMs);
      case 'ttl':
        return Promise.resolve([run.status, '']);
    }
  }

  private reap(): void {
    const now = Date.now();
    for (const run of [...this.checks.values()]) {
      const after = run.def.deregisterCriticalAfterMs;
      if (after <= 0 || run.def.serviceId === '' || run.criticalSinceMs === null || now - run.criticalSinceMs < after) continue;
      this.sink.log('INFO', `agent: Check "${run.def.id}" for service "${run.def.serviceId}" has been critical for too long; deregistered service`);
      this.removeService(run.def.serviceId);
      this.sink.deregisterService(run.def.serviceId);
    }
  }
}

function cap(text: string): string {
  return text.length > OUTPUT_LIMIT_BYTES ? text.slice(0, OUTPUT_LIMIT_BYTES) : text;
}

/** agent/checks CheckHTTP: 2xx passing, 429 warning, else critical; output "HTTP GET url: 200 OK Output: body". */
export async function httpCheck(url: string, method: string, header: Readonly<Record<string, readonly string[]>>, body: string, timeoutMs: number): Promise<[HealthStatusName, string]> {
  const headers = new Headers();
  for (const [k, vs] of Object.entries(header)) for (const v of vs) headers.append(k, v);
  if (!headers.has('User-Agent')) headers.set('User-Agent', 'Consul Health Check');
  if (!headers.has('Accept')) headers.set('Accept', 'text/plain, text/*, */*');
  try {
    const res = await fetch(url, { method, headers, ...(body === '' ? {} : { body }), signal: AbortSignal.timeout(Math.min(timeoutMs, MAX_TIMER_MS)), redirect: 'follow' });
    const text = cap(await res.text());
    const output = `HTTP ${method} ${url}: ${res.status} ${res.statusText} Output: ${text}`;
    if (res.status >= 200 && res.status <= 299) return ['passing', output];
    if (res.status === 429) return ['warning', output];
    return ['critical', output];
  } catch (err) {
    const reason = err instanceof Error ? (err.name === 'TimeoutError' ? `request timed out after ${timeoutMs} ms` : ((err.cause as Error | undefined)?.message ?? err.message)) : String(err);
    return ['critical', `Get "${url}": ${reason}`];
  }
}

/** agent/checks CheckTCP: a connection within the timeout passes. */
export function tcpCheck(address: string, timeoutMs: number): Promise<[HealthStatusName, string]> {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(address);
  const host = m?.[1] ?? m?.[2] ?? address;
  const port = Number(m?.[3] ?? 0);
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (status: HealthStatusName, output: string): void => {
      socket.destroy();
      clearTimeout(timer);
      resolve([status, output]);
    };
    const timer = setTimeout(() => done('critical', `dial tcp ${address}: i/o timeout`), Math.min(timeoutMs, MAX_TIMER_MS));
    socket.on('connect', () => done('passing', `TCP connect ${address}: Success`));
    socket.on('error', (err) => done('critical', `dial tcp ${address}: ${err.message}`));
  });
}

/** agent/checks CheckMonitor: exit 0 passing, 1 warning, anything else critical; output is stdout and stderr. */
export function scriptCheck(args: readonly string[], timeoutMs: number): Promise<[HealthStatusName, string]> {
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    const child = spawn(args[0] as string, args.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    const settle = (status: HealthStatusName, text: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve([status, cap(text)]);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle('critical', `Timed out (${timeoutMs}ms) running check`);
    }, Math.min(timeoutMs, MAX_TIMER_MS));
    const collect = (chunk: Buffer): void => {
      if (output.length < OUTPUT_LIMIT_BYTES) output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => settle('critical', `Check failed to start: ${err.message}`));
    child.on('close', (code) => settle(code === 0 ? 'passing' : code === 1 ? 'warning' : 'critical', output));
  });
}
