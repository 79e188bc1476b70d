// What the test bed is used for (issue #9), as functions that return what they measured, so the
// CI tests (short) and `npm run testbed` (long runs, the figures) share them. Times come from
// the agents' own log lines (EventMemberFailed / EventMemberJoin, stamped as they arrive);
// members' status is checked through the RPC inside each host.
import { PROFILES } from '../../src/protocol/config.js';
import { suspicionBounds } from '../../src/protocol/timing.js';
import { sleep, waitUntil, type AgentKind, type BedAgent, type MemberEvent, type TestBed } from './testbed.js';

/** The agents' profile (the agent's default, 'lan'). */
export const TIMINGS = PROFILES.lan;

/**
 * The longest a fault can take to be declared, for `n` members (SWIM §4 + Lifeguard): a prober
 * reaches the node within one round of probes (round-robin over the n − 1 others), each probe
 * period stretched up to awarenessMaxMultiplier × probeInterval when the prober's own probes
 * keep failing (Lifeguard §IV-A: in a partition they do), then the longest suspicion (no
 * confirmations).
 */
export function detectionBoundMs(n: number): number {
  const { maxMs } = suspicionBounds(TIMINGS.suspicionMult, TIMINGS.suspicionMaxTimeoutMult, n, TIMINGS.probeIntervalMs);
  return (n - 1) * TIMINGS.awarenessMaxMultiplier * TIMINGS.probeIntervalMs + maxMs;
}

/** The heal bound: a push/pull interval (Serf's reconnect interval is the same 30 s) plus the detection bound. */
export function healBoundMs(n: number): number {
  return TIMINGS.pushPullIntervalMs + detectionBoundMs(n);
}

export interface HostPlan {
  readonly host: string;
  readonly kind: AgentKind;
}

/** Starts the agents `staggerMs` apart, all with `-discover cluster` and no join address. */
export async function startDiscovering(bed: TestBed, plan: readonly HostPlan[], cluster: string, staggerMs = 200, extra: readonly string[] = []): Promise<{ agents: BedAgent[]; lastStartMs: number }> {
  const agents: BedAgent[] = [];
  let lastStartMs = 0;
  for (const [i, p] of plan.entries()) {
    if (i > 0) await sleep(staggerMs);
    agents.push(bed.startAgent(p.host, p.kind, { discover: cluster, extra }));
    lastStartMs = Date.now();
  }
  return { agents, lastStartMs };
}

/** Every agent lists every agent alive (through `serf members` on each host's RPC). */
export function allAlive(bed: TestBed, agents: readonly BedAgent[]): Promise<boolean> {
  return bed.allSee(agents, agents.map((a) => a.name), 'alive');
}

/** Waits until the cluster is whole; ms from `sinceMs` to the first check that found it whole, or null. */
export async function waitWhole(bed: TestBed, agents: readonly BedAgent[], limitMs: number, sinceMs = Date.now()): Promise<number | null> {
  const ok = await waitUntil(() => allAlive(bed, agents), limitMs, 250);
  return ok ? Date.now() - sinceMs : null;
}

/** The first event of `kind` about `subject` that `observer` logged at or after `sinceMs`. */
export function firstEvent(observer: BedAgent, kind: MemberEvent['kind'], subject: string, sinceMs: number): MemberEvent | undefined {
  return observer.events.find((e) => e.kind === kind && e.subject === subject && e.atMs >= sinceMs);
}

/**
 * Waits until every observer logged `kind` about every subject since `sinceMs`; the ms from
 * `sinceMs` to each (observer, subject) event, or null for pairs that never came.
 */
export async function waitPairs(
  observers: readonly BedAgent[],
  subjects: readonly string[],
  kind: MemberEvent['kind'],
  sinceMs: number,
  limitMs: number,
): Promise<Array<{ observer: string; subject: string; ms: number | null }>> {
  const pairs = observers.flatMap((o) => subjects.filter((s) => s !== o.name).map((s) => ({ o, s })));
  await waitUntil(() => pairs.every(({ o, s }) => firstEvent(o, kind, s, sinceMs) !== undefined), limitMs, 200);
  return pairs.map(({ o, s }) => {
    const e = firstEvent(o, kind, s, sinceMs);
    return { observer: o.name, subject: s, ms: e === undefined ? null : e.atMs - sinceMs };
  });
}

export interface PartitionResult {
  /** ms from the cut until each cross pair (observer, subject) logged EventMemberFailed. */
  readonly detections: Array<{ observer: string; subject: string; ms: number | null }>;
  /** ms from the heal until each cross pair logged EventMemberJoin again. */
  readonly rejoins: Array<{ observer: string; subject: string; ms: number | null }>;
  /** ms from the heal until `members` listed all alive everywhere (null: not within the bound). */
  readonly wholeMs: number | null;
  /** Every agent lists the other side failed when the detection finished. */
  readonly sidesSawFailed: boolean;
  /** Failed events about a member of one's own side while the sides were apart (false positives). */
  readonly sameSideFailures: MemberEvent[];
  /**
   * Failed events about a member of one's own side after the heal: dead messages the other side
   * still gossips (to the dead) carry the incarnation everyone knew, so the subject's own side
   * accepts them too, until the subject's refutation arrives (memberlist deadNode takes a dead
   * message of an equal incarnation). SWIM behaviour at a heal, serf's as well as shoal's.
   */
  readonly healFlaps: MemberEvent[];
}

/** Splits a formed cluster into `left` and `right`, waits for both sides to declare the other failed, heals. */
export async function partitionAndHeal(bed: TestBed, left: readonly BedAgent[], right: readonly BedAgent[]): Promise<PartitionResult> {
  const all = [...left, ...right];
  const n = all.length;
  const cutAt = Date.now();
  await bed.partition(left.map((a) => a.host.name), right.map((a) => a.host.name));
  const detections = [
    ...(await waitPairs(left, right.map((a) => a.name), 'failed', cutAt, detectionBoundMs(n))),
    ...(await waitPairs(right, left.map((a) => a.name), 'failed', cutAt, detectionBoundMs(n))),
  ];
  const sidesSawFailed = (await bed.allSee(left, right.map((a) => a.name), 'failed')) && (await bed.allSee(right, left.map((a) => a.name), 'failed'));
  const healAt = Date.now();
  await bed.heal();
  const wholeMs = await waitWhole(bed, all, healBoundMs(n), healAt);
  const rejoins = [
    ...(await waitPairs(left, right.map((a) => a.name), 'join', healAt, 2_000)),
    ...(await waitPairs(right, left.map((a) => a.name), 'join', healAt, 2_000)),
  ];
  const side = new Map(all.map((a) => [a.name, left.includes(a) ? 'L' : 'R']));
  const sameSide = bed.events('failed').filter((e) => e.atMs >= cutAt && side.get(e.observer) === side.get(e.subject));
  const sameSideFailures = sameSide.filter((e) => e.atMs < healAt);
  const healFlaps = sameSide.filter((e) => e.atMs >= healAt);
  return { detections, rejoins, wholeMs, sidesSawFailed, sameSideFailures, healFlaps };
}

export interface LossResult {
  readonly percent: number;
  readonly durationMs: number;
  /** EventMemberFailed about agents that were running all along. */
  readonly falsePositives: MemberEvent[];
  readonly agentHours: number;
  readonly perAgentHour: number;
  /** How many distinct (observer, subject) pairs flapped. */
  readonly pairs: number;
}

/** Loss on every link for `durationMs`; counts failures of healthy agents (the loss stays on). */
export async function underLoss(bed: TestBed, agents: readonly BedAgent[], percent: number, durationMs: number, udpOnly = false): Promise<LossResult> {
  await bed.setLossEverywhere(percent, { udpOnly });
  const from = Date.now();
  await sleep(durationMs);
  const names = new Set(agents.map((a) => a.name));
  const falsePositives = bed.events('failed').filter((e) => e.atMs >= from && names.has(e.subject) && names.has(e.observer));
  const agentHours = (agents.length * durationMs) / 3_600_000;
  return {
    percent, durationMs, falsePositives, agentHours,
    perAgentHour: falsePositives.length / agentHours,
    pairs: new Set(falsePositives.map((e) => `${e.observer}>${e.subject}`)).size,
  };
}

export interface CrashResult {
  readonly victim: string;
  /** ms from kill -9 until each observer logged EventMemberFailed (null: not within the bound). */
  readonly detections: Array<{ observer: string; ms: number | null }>;
}

/** kill -9 one agent; how long each other running agent takes to declare it failed. */
export async function crashAndDetect(victim: BedAgent, observers: readonly BedAgent[], limitMs: number): Promise<CrashResult> {
  const at = Date.now();
  await victim.crash();
  const pairs = await waitPairs(observers.filter((o) => o !== victim && o.running), [victim.name], 'failed', at, limitMs);
  return { victim: victim.name, detections: pairs.map((p) => ({ observer: p.observer, ms: p.ms })) };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

export function seconds(ms: number | null): string {
  return ms === null ? 'never' : (ms / 1000).toFixed(1);
}
