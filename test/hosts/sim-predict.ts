// The simulator's prediction for what the test bed measures (issue #9): the same five agents
// on the LAN profile (the agent's default), the same 3 + 2 partition healed as soon as both
// sides have declared each other failed, the same loss on every link, the same crash. The
// simulated network's delay is 0.2–1 ms per datagram (a veth bridge is ~0.05 ms); its loss
// touches datagrams only — TCP streams (push/pull, join, the TCP fallback ping) are never lost,
// where the bed's nftables rule drops TCP segments too unless run with --udp-only.
import { SeededRng } from '../../src/protocol/rng.js';
import { SerfCluster, type RecordedSerfEvent } from '../../sim/serf-cluster.js';

const FORM_LIMIT_MS = 120_000;
const PHASE_MS = 30_000;

function failedEvents(c: SerfCluster, sinceMs: number): Array<{ atMs: number; observer: string; subject: string }> {
  const out: Array<{ atMs: number; observer: string; subject: string }> = [];
  for (const e of c.events as readonly RecordedSerfEvent[]) {
    if (e.atMs < sinceMs || e.event.type !== 'member-failed') continue;
    for (const m of e.event.members) out.push({ atMs: e.atMs, observer: e.observer, subject: m.name });
  }
  return out;
}

/** Five agents joined through the first, converged, then a random wait (the phase of every timer). */
function formed(seed: number, n: number): SerfCluster {
  const c = new SerfCluster({ seed, profile: 'lan' });
  c.grow(n, 200);
  if (!c.runUntil(() => c.converged(), FORM_LIMIT_MS)) throw new Error(`sim seed ${seed}: ${n} agents did not converge`);
  c.run(new SeededRng(seed, 0x7e57).next() * PHASE_MS);
  return c;
}

export interface SimPartition {
  readonly firstMs: number;
  readonly lastMs: number;
  /** From the heal until every agent lists every agent alive. */
  readonly healMs: number;
}

/** A 3 + 2 partition until both sides declared the other failed, then the heal. */
export function simPartition(seed: number, left = 3, right = 2): SimPartition {
  const c = formed(seed, left + right);
  const names = c.hosts.map((h) => h.name);
  const a = names.slice(0, left);
  const b = names.slice(left);
  const cutAt = c.now;
  c.partition(a, b);
  const cross = (e: { observer: string; subject: string }): boolean => a.includes(e.observer) !== a.includes(e.subject);
  const pairs = left * right * 2;
  const done = (): boolean => new Set(failedEvents(c, cutAt).filter(cross).map((e) => `${e.observer}>${e.subject}`)).size >= pairs;
  if (!c.runUntil(done, 300_000)) throw new Error(`sim seed ${seed}: the sides did not declare each other failed`);
  const times = failedEvents(c, cutAt).filter(cross).map((e) => e.atMs - cutAt);
  c.heal();
  const healAt = c.now;
  if (!c.runUntil(() => c.converged(), 300_000)) throw new Error(`sim seed ${seed}: not whole after the heal`);
  return { firstMs: Math.min(...times), lastMs: Math.max(...times), healMs: c.now - healAt };
}

export interface SimLoss {
  readonly falsePositives: number;
  readonly agentHours: number;
  /** ms from a crash until each other agent declared it failed. */
  readonly crashDetectMs: number[];
}

/** `percent`% loss on every link for `durationMs`, then one crash detected through the loss. */
export function simLoss(seed: number, n: number, percent: number, durationMs: number): SimLoss {
  const c = formed(seed, n);
  c.setLoss(percent / 100);
  const from = c.now;
  c.run(durationMs);
  const falsePositives = failedEvents(c, from).length;
  const victim = c.hosts[new SeededRng(seed, 0xc4a5).int(n)]?.name as string;
  const crashAt = c.now;
  c.crash(victim);
  const observers = c.running().map((h) => h.name);
  const seen = (): Map<string, number> => {
    const m = new Map<string, number>();
    for (const e of failedEvents(c, crashAt)) if (e.subject === victim && !m.has(e.observer)) m.set(e.observer, e.atMs - crashAt);
    return m;
  };
  c.runUntil(() => seen().size >= observers.length, 300_000);
  return { falsePositives, agentHours: (n * durationMs) / 3_600_000, crashDetectMs: [...seen().values()] };
}
