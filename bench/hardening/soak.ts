// The soak run (issue #10): a cluster of real shoal agent processes under churn — joins, graceful
// leaves, crashes, restarts from snapshots, user events, tag changes, service churn over the
// HTTP API — for M minutes, with invariants checked after every action and all along, and each
// agent's memory (RSS, V8 heap) sampled. `npm run soak -- --minutes 60` runs it from the command line (bench/soak-main.ts);
// test/hardening/soak.test.ts runs a short one in CI.
//
// Adding a workload (queries, key rotation …) is one entry in WORKLOADS: when it can run, what
// it does, and what the cluster must then converge to.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRng } from '../../src/protocol/rng.js';
import {
  isRunning, kill, killAllAgents, memory, rpc, sleep, startAgent, stats, view, waitExit, waitRpc, type LocalAgent, type AgentSpec,
} from './agents.js';

export interface SoakOptions {
  readonly minutes: number;
  /** Agents in the cluster; the first `anchors` are never churned (their memory is the trend). */
  readonly agents: number;
  readonly anchors: number;
  /** Gossip ports portBase.., RPC ports portBase+500.., HTTP API portBase+600.., DNS portBase+700.. */
  readonly portBase: number;
  readonly seed: number;
  readonly profile: 'lan' | 'local';
  /** How long the cluster may take to agree after an action before that counts as a violation. */
  readonly convergeTimeoutMs: number;
  readonly memorySampleEveryMs: number;
  /** A running agent accused within this long of its (re)start is not a false failure yet. */
  readonly restartGraceMs: number;
  readonly log: (line: string) => void;
}

export const DEFAULT_SOAK: SoakOptions = {
  minutes: 10, agents: 8, anchors: 3, portBase: 26_000, seed: 1, profile: 'lan',
  convergeTimeoutMs: 60_000, memorySampleEveryMs: 30_000, restartGraceMs: 20_000, log: (line) => console.log(line),
};

export interface Violation {
  readonly atS: number;
  readonly kind: 'no-convergence' | 'false-failure' | 'unexpected-exit' | 'event-lost' | 'catalog-diverged' | 'rpc-unresponsive';
  readonly detail: string;
}

export interface MemoryTrend {
  readonly name: string;
  readonly samples: { tS: number; rssMiB: number; heapMiB: number | null }[];
  /** Mean of the samples in the first window after warm-up vs the last window, in percent. */
  readonly rssGrowthPct: number | null;
  /** The same for the heap's floor (its minimum in each window: after a major collection). */
  readonly heapGrowthPct: number | null;
}

export interface SoakReport {
  readonly durationS: number;
  readonly actions: Record<string, number>;
  readonly violations: Violation[];
  readonly convergeMs: { readonly count: number; readonly p50: number; readonly max: number };
  readonly anchors: MemoryTrend[];
  /** Peak RSS across every agent process and sample, MiB. */
  readonly peakRssMiB: number;
}

type Expected = 'alive' | 'failed' | 'left';

interface Slot {
  readonly spec: AgentSpec;
  agent: LocalAgent | null;
  expected: Expected | null; // null: never started
  tag: string;
  /** Expected to be running: a process exit while true is a violation. */
  up: boolean;
  /** Already reported as falsely accused in this check (one violation per check, not per observer). */
  accusedSeen: boolean;
  /** The services this agent registered over its HTTP API since it started: ID → TTL check status. */
  services: Map<string, 'passing' | 'critical'>;
}

interface Ctx {
  readonly o: SoakOptions;
  readonly rng: SeededRng;
  readonly slots: Slot[];
  readonly t0: number;
  /** After an action, extra conditions the cluster must meet (besides membership). */
  pending: (() => Promise<string | null>)[];
  violations: Violation[];
  tagCounter: number;
  serviceCounter: number;
}

interface Workload {
  readonly weight: number;
  readonly canRun: (ctx: Ctx) => boolean;
  readonly run: (ctx: Ctx) => Promise<void>;
}

const churnable = (ctx: Ctx): Slot[] => ctx.slots.slice(ctx.o.anchors);
const upSlots = (ctx: Ctx): Slot[] => ctx.slots.filter((s) => s.up && s.agent !== null);
function pick<T>(ctx: Ctx, items: readonly T[]): T {
  return items[ctx.rng.int(items.length)] as T;
}

async function launch(ctx: Ctx, slot: Slot): Promise<void> {
  const anchors = ctx.slots.slice(0, ctx.o.anchors).filter((s) => s.up && s !== slot);
  const join = anchors.length > 0 ? [`127.0.0.1:${pick(ctx, anchors).spec.port}`] : [];
  slot.agent = startAgent({ ...slot.spec, join, extraArgs: [...(slot.spec.extraArgs ?? []), `-tag=soak=${slot.tag}`] });
  slot.up = true;
  slot.expected = 'alive';
  // Services registered over the HTTP API are not persisted: a restarted agent has none.
  slot.services.clear();
  await waitRpc(slot.agent);
}

export const WORKLOADS: Record<string, Workload> = {
  event: {
    weight: 4,
    canRun: (ctx) => upSlots(ctx).length > 0,
    run: async (ctx) => {
      const sender = pick(ctx, upSlots(ctx));
      const payload = new Uint8Array(ctx.rng.int(256));
      await rpc(sender.agent as LocalAgent, (c) => c.call('event', { Name: `soak-${ctx.rng.int(10)}`, Payload: payload, Coalesce: false }));
      const sent = Number((await stats(sender.agent as LocalAgent)).get('serf')?.get('event_time') ?? 0);
      // Every agent up now must see the event (its Lamport event clock reaches the sender's).
      const receivers = upSlots(ctx);
      ctx.pending.push(async () => {
        for (const r of receivers) {
          if (!r.up || r.agent === null) continue;
          const t = Number((await stats(r.agent)).get('serf')?.get('event_time') ?? 0);
          if (t < sent) return `${r.spec.name} event clock ${t} < ${sent}`;
        }
        return null;
      });
    },
  },
  tags: {
    weight: 2,
    canRun: (ctx) => upSlots(ctx).length > 0,
    run: async (ctx) => {
      const s = pick(ctx, upSlots(ctx));
      s.tag = String(++ctx.tagCounter);
      await rpc(s.agent as LocalAgent, (c) => c.call('tags', { Tags: new Map([['soak', s.tag]]), DeleteTags: [] }));
    },
  },
  crash: {
    weight: 2,
    canRun: (ctx) => churnable(ctx).some((s) => s.up),
    run: async (ctx) => {
      const s = pick(ctx, churnable(ctx).filter((x) => x.up));
      s.up = false;
      s.expected = 'failed';
      kill(s.agent as LocalAgent);
      await waitExit(s.agent as LocalAgent);
    },
  },
  leave: {
    weight: 2,
    canRun: (ctx) => churnable(ctx).some((s) => s.up),
    run: async (ctx) => {
      const s = pick(ctx, churnable(ctx).filter((x) => x.up));
      s.up = false;
      s.expected = 'left';
      await rpc(s.agent as LocalAgent, (c) => c.call('leave'), 15_000).catch(() => undefined);
      await waitExit(s.agent as LocalAgent, 10_000);
    },
  },
  services: {
    // Service churn over the HTTP API: register a service with a TTL check, deregister one, or
    // flap a check between passing and critical. Every running agent's catalog must then hold
    // exactly every running agent's services with their checks' states.
    weight: 4,
    canRun: (ctx) => upSlots(ctx).length > 0,
    run: async (ctx) => {
      const s = pick(ctx, upSlots(ctx));
      const ids = [...s.services.keys()];
      const roll = ctx.rng.int(10);
      if (ids.length === 0 || (roll < 4 && ids.length < 20)) {
        const id = `${s.spec.name}-svc-${++ctx.serviceCounter}`;
        await httpPut(s, '/v1/agent/service/register', { ID: id, Name: `soak-${ctx.rng.int(5)}`, Port: 1_000 + ctx.rng.int(60_000), Tags: ['soak'], Check: { TTL: '1h', Status: 'passing' } });
        s.services.set(id, 'passing');
      } else if (roll < 6) {
        const id = pick(ctx, ids);
        await httpPut(s, `/v1/agent/service/deregister/${id}`);
        s.services.delete(id);
      } else {
        const id = pick(ctx, ids);
        const next = s.services.get(id) === 'passing' ? 'critical' : 'passing';
        await httpPut(s, `/v1/agent/check/${next === 'passing' ? 'pass' : 'fail'}/service:${id}`);
        s.services.set(id, next);
      }
      ctx.pending.push(() => catalogDiffers(ctx));
    },
  },
  restart: {
    weight: 3,
    canRun: (ctx) => churnable(ctx).some((s) => !s.up),
    run: async (ctx) => launch(ctx, pick(ctx, churnable(ctx).filter((x) => !x.up))),
  },
};

function httpPort(slot: Slot): number {
  return slot.spec.port + 600;
}

async function httpPut(slot: Slot, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`http://127.0.0.1:${httpPort(slot)}${path}`, {
    method: 'PUT', ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(10_000),
  });
  if (res.status !== 200) throw new Error(`${slot.spec.name} PUT ${path}: ${res.status} ${await res.text()}`);
}

/**
 * The first way a running agent's catalog differs from the truth (every running agent's own
 * services, each with its TTL check in its last state), or null when none does. Services of
 * agents that are down are not judged (a failed node's entries may linger until it is reaped).
 */
async function catalogDiffers(ctx: Ctx): Promise<string | null> {
  const up = upSlots(ctx);
  const truth = new Set(up.flatMap((s) => [...s.services].map(([id, status]) => `${s.spec.name}/${id}=${status}`)));
  const upNames = new Set(up.map((s) => s.spec.name));
  for (const observer of up) {
    const res = await fetch(`http://127.0.0.1:${httpPort(observer)}/v1/health/state/any`, { signal: AbortSignal.timeout(10_000) });
    if (res.status !== 200) return `${observer.spec.name} /v1/health/state/any: ${res.status}`;
    const checks = (await res.json()) as { Node: string; CheckID: string; ServiceID: string; Status: string }[];
    const seen = new Set(checks.filter((c) => c.ServiceID !== '' && upNames.has(c.Node) && c.CheckID === `service:${c.ServiceID}`).map((c) => `${c.Node}/${c.ServiceID}=${c.Status}`));
    const missing = [...truth].filter((x) => !seen.has(x));
    const extra = [...seen].filter((x) => !truth.has(x));
    if (missing.length > 0 || extra.length > 0) {
      return `${observer.spec.name} catalog: missing ${missing.slice(0, 3).join(' ') || 'none'}${missing.length > 3 ? ` (+${missing.length - 3})` : ''}; unexpected ${extra.slice(0, 3).join(' ') || 'none'}${extra.length > 3 ? ` (+${extra.length - 3})` : ''}`;
    }
  }
  return null;
}

function elapsedS(ctx: Ctx): number {
  return (Date.now() - ctx.t0) / 1000;
}

function violate(ctx: Ctx, kind: Violation['kind'], detail: string): void {
  const v = { atS: Math.round(elapsedS(ctx)), kind, detail };
  ctx.violations.push(v);
  ctx.o.log(`VIOLATION ${v.atS}s ${kind}: ${detail}`);
}

/** One look at every running agent's view. Returns what still differs from the expectation (empty: converged). */
async function check(ctx: Ctx): Promise<string[]> {
  const diffs: string[] = [];
  const now = Date.now();
  for (const s of ctx.slots) {
    if (s.up && s.agent !== null && !isRunning(s.agent)) {
      violate(ctx, 'unexpected-exit', `${s.spec.name} exited ${JSON.stringify(s.agent.exit)}; log ${s.agent.logFile}`);
      s.up = false;
      s.expected = 'failed';
    }
  }
  for (const observer of upSlots(ctx)) {
    let members;
    try {
      members = await view(observer.agent as LocalAgent);
    } catch (err) {
      diffs.push(`${observer.spec.name}: RPC failed: ${String(err)}`);
      continue;
    }
    for (const subject of ctx.slots) {
      if (subject.expected === null) continue;
      const m = members.get(subject.spec.name);
      const status = m?.Status;
      // A running agent accused by a running peer, past its restart grace: a false failure.
      if (status === 'failed' && subject.up && subject.agent !== null && now - subject.agent.startedAtMs > ctx.o.restartGraceMs && !subject.accusedSeen) {
        subject.accusedSeen = true;
        violate(ctx, 'false-failure', `${observer.spec.name} sees ${subject.spec.name} failed while it runs`);
      }
      // A node that went down before the observer (re)joined may be unknown to it: memberlist
      // ignores a dead or left node it never knew (state.go deadNode), as Serf does.
      const acceptable = status === subject.expected || (status === undefined && subject.expected !== 'alive');
      if (!acceptable) diffs.push(`${observer.spec.name} sees ${subject.spec.name} ${status ?? 'absent'}, expected ${subject.expected}`);
      else if (subject.up && m?.Tags?.get('soak') !== subject.tag) diffs.push(`${observer.spec.name} sees ${subject.spec.name} tag soak=${m?.Tags?.get('soak')}, expected ${subject.tag}`);
    }
  }
  for (const s of ctx.slots) if (s.up) s.accusedSeen = false;
  return diffs;
}

async function converge(ctx: Ctx, after: string): Promise<number | null> {
  const start = Date.now();
  let diffs: string[] = [];
  while (Date.now() - start < ctx.o.convergeTimeoutMs) {
    diffs = await check(ctx);
    if (diffs.length === 0) {
      const extra: string[] = [];
      for (const p of ctx.pending) {
        const e = await p().catch((err: unknown) => `check failed: ${String(err)}`);
        if (e !== null) extra.push(e);
      }
      if (extra.length === 0) {
        ctx.pending = [];
        return Date.now() - start;
      }
      diffs = extra;
    }
    await sleep(500);
  }
  violate(ctx, ctx.pending.length > 0 && diffs.some((d) => /event clock/.test(d)) ? 'event-lost' : diffs.some((d) => / catalog: /.test(d)) ? 'catalog-diverged' : 'no-convergence', `after ${after}: ${diffs.slice(0, 5).join('; ')}${diffs.length > 5 ? ` (+${diffs.length - 5})` : ''}`);
  ctx.pending = [];
  return null;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

/**
 * Growth between the first window after warm-up and the last one, in percent: of the mean for
 * RSS; of the minimum for the heap (V8's heap is a sawtooth between major collections, so its
 * floor after a collection is what shows a leak).
 */
function growth(samples: readonly { tS: number; v: number | null }[], totalS: number, of: 'mean' | 'floor' = 'mean'): number | null {
  const usable = samples.filter((s) => s.v !== null) as { tS: number; v: number }[];
  // Warm-up: the first 20% of the run; windows: 15% of it each.
  const warm = totalS * 0.2;
  const win = Math.max(totalS * 0.15, 1);
  const first = usable.filter((s) => s.tS >= warm && s.tS < warm + win).map((s) => s.v);
  const last = usable.filter((s) => s.tS >= totalS - win).map((s) => s.v);
  if (first.length === 0 || last.length === 0) return null;
  const pick = of === 'mean' ? mean : (xs: readonly number[]): number => Math.min(...xs);
  return ((pick(last) - pick(first)) / pick(first)) * 100;
}

export async function runSoak(options: Partial<SoakOptions> = {}): Promise<SoakReport> {
  const o: SoakOptions = { ...DEFAULT_SOAK, ...options };
  const dir = mkdtempSync(join(tmpdir(), 'shoal-soak-'));
  const slots: Slot[] = [];
  for (let i = 0; i < o.agents; i++) {
    const name = i < o.anchors ? `anchor-${i}` : `churn-${i}`;
    slots.push({
      spec: { impl: 'shoal', name, port: o.portBase + i, rpcPort: o.portBase + 500 + i, dir, profile: o.profile, snapshot: i >= o.anchors, extraArgs: ['-log-level=warn', `-http-addr=127.0.0.1:${o.portBase + 600 + i}`, `-dns-addr=127.0.0.1:${o.portBase + 700 + i}`] },
      agent: null, expected: null, tag: '0', up: false, accusedSeen: false, services: new Map(),
    });
  }
  const ctx: Ctx = { o, rng: new SeededRng(o.seed), slots, t0: Date.now(), pending: [], violations: [], tagCounter: 0, serviceCounter: 0 };
  const actions: Record<string, number> = {};
  const convergeTimes: number[] = [];
  const mem = new Map<string, { tS: number; rssMiB: number; heapMiB: number | null }[]>();
  let peakRss = 0;
  const sampleMemory = async (): Promise<void> => {
    for (const s of upSlots(ctx)) {
      try {
        const m = await memory(s.agent as LocalAgent);
        peakRss = Math.max(peakRss, m.rssBytes);
        if (!mem.has(s.spec.name)) mem.set(s.spec.name, []);
        mem.get(s.spec.name)?.push({ tS: Math.round(elapsedS(ctx)), rssMiB: m.rssBytes / 2 ** 20, heapMiB: m.heapUsedBytes === null ? null : m.heapUsedBytes / 2 ** 20 });
      } catch {
        // the process went away between the check and the sample
      }
    }
  };
  try {
    for (const s of slots) await launch(ctx, s);
    const formed = await converge(ctx, 'forming');
    o.log(`soak: ${o.agents} agents formed a cluster in ${formed ?? '?'} ms; churning for ${o.minutes} min (dir ${dir})`);
    const endAt = ctx.t0 + o.minutes * 60_000;
    let nextSample = Date.now();
    let lastReport = Date.now();
    const names = Object.keys(WORKLOADS);
    while (Date.now() < endAt) {
      if (Date.now() >= nextSample) {
        await sampleMemory();
        nextSample += o.memorySampleEveryMs;
      }
      const ready = names.filter((n) => (WORKLOADS[n] as Workload).canRun(ctx));
      let r = ctx.rng.next() * ready.reduce((sum, n) => sum + (WORKLOADS[n] as Workload).weight, 0);
      const name = ready.find((n) => (r -= (WORKLOADS[n] as Workload).weight) < 0) ?? (ready[0] as string);
      actions[name] = (actions[name] ?? 0) + 1;
      try {
        await (WORKLOADS[name] as Workload).run(ctx);
      } catch (err) {
        violate(ctx, 'rpc-unresponsive', `${name}: ${String(err)}`);
      }
      const ms = await converge(ctx, name);
      if (ms !== null) convergeTimes.push(ms);
      if (Date.now() - lastReport > 60_000) {
        lastReport = Date.now();
        o.log(`soak: ${Math.round(elapsedS(ctx))} s, actions ${JSON.stringify(actions)}, violations ${ctx.violations.length}`);
      }
      await sleep(500 + ctx.rng.int(1_500));
    }
    await sampleMemory();
  } finally {
    killAllAgents();
    await sleep(200);
    if (ctx.violations.length === 0) rmSync(dir, { recursive: true, force: true });
  }
  const totalS = elapsedS(ctx);
  const sorted = [...convergeTimes].sort((a, b) => a - b);
  const anchors: MemoryTrend[] = slots.slice(0, o.anchors).map((s) => {
    const samples = mem.get(s.spec.name) ?? [];
    return {
      name: s.spec.name,
      samples,
      rssGrowthPct: growth(samples.map((x) => ({ tS: x.tS, v: x.rssMiB })), totalS),
      heapGrowthPct: growth(samples.map((x) => ({ tS: x.tS, v: x.heapMiB })), totalS, 'floor'),
    };
  });
  return {
    durationS: Math.round(totalS),
    actions,
    violations: ctx.violations,
    convergeMs: { count: sorted.length, p50: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted[sorted.length - 1] ?? 0 },
    anchors,
    peakRssMiB: peakRss / 2 ** 20,
  };
}
