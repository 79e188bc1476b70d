// The figures of a finished run, computed from what it recorded: detection latencies,
// dissemination curves, false positives, messages and bytes per node, convergence times.
// Pure functions of the run (no clock), so the JSON report is byte-identical for a seed.
import { round, summarize, type Summary } from '../experiments/report.js';
import type { ScenarioRun } from './run.js';
import type { MetricName } from './types.js';

export interface RoundedSummary {
  readonly count: number;
  readonly mean: number | null;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

function rounded(s: Summary, digits = 3): RoundedSummary {
  return { count: s.count, mean: round(s.mean, digits), p50: round(s.p50, digits), p99: round(s.p99, digits), max: round(s.max, digits) };
}

/** Times (s after the start) at which a share of the nodes had it: the dissemination curve. */
const CURVE_SHARES = [0.25, 0.5, 0.75, 0.9, 0.99, 1] as const;

function curve(offsetsMs: readonly number[], of: number): Record<string, number | null> {
  const sorted = [...offsetsMs].sort((a, b) => a - b);
  const out: Record<string, number | null> = {};
  for (const share of CURVE_SHARES) {
    const k = Math.ceil(share * of);
    out[`p${Math.round(share * 100)}`] = k >= 1 && k <= sorted.length ? round((sorted[k - 1] as number) / 1000, 3) : null;
  }
  return out;
}

export function computeMetrics(run: ScenarioRun) {
  const r = run.record;
  const s = run.scenario;
  const crashes = r.crashes.map((c) => ({
    node: c.node,
    atSeconds: round(c.atMs / 1000, 3),
    firstDetectionSeconds: c.firstMs === null ? null : round((c.firstMs - c.atMs) / 1000, 3),
    allDetectedSeconds: c.allMs === null ? null : round((c.allMs - c.atMs) / 1000, 3),
    declaredBy: c.offsets.length,
    curve: curve(c.offsets, Math.max(1, c.offsets.length)),
  }));
  const first = summarize(r.crashes.filter((c) => c.firstMs !== null).map((c) => ((c.firstMs as number) - c.atMs) / 1000));
  const all = summarize(r.crashes.filter((c) => c.allMs !== null).map((c) => ((c.allMs as number) - c.atMs) / 1000));

  const events = r.events.map((e) => ({
    id: e.id,
    from: e.from,
    atSeconds: round(e.atMs / 1000, 3),
    reached: e.deliveredAt.size,
    of: e.expected,
    curve: curve([...e.deliveredAt.values()].map((t) => t - e.atMs), e.expected),
  }));
  const expectedDeliveries = r.events.reduce((sum, e) => sum + e.expected, 0);
  const deliveries = r.events.reduce((sum, e) => sum + Math.min(e.deliveredAt.size, e.expected), 0);

  // Traffic per node: what each host sent (datagrams, and bytes of datagrams and streams), over the run.
  const net = run.cluster.world.network;
  const seconds = Math.max(run.now, 1) / 1000;
  const perNode = run.cluster.hosts.map((h) => ({
    node: h.name,
    messages: net.sentByHost[h.id] ?? 0,
    bytes: net.bytesByHost[h.id] ?? 0,
  }));
  const messagesPerSecond = summarize(perNode.map((p) => p.messages / seconds));
  const bytesPerSecond = summarize(perNode.map((p) => p.bytes / seconds));

  const convergenceAfterHealMs = run.convergedAtMs === null || r.healAtMs === null ? null : run.convergedAtMs - r.healAtMs;
  const afterFaults = run.faults.map((w) => {
    const sample = r.samples.find((x) => x.atMs >= w.endMs && x.converged);
    return { fault: w.label, endSeconds: round(w.endMs / 1000, 3), convergedAfterSeconds: sample === undefined ? null : round((sample.atMs - w.endMs) / 1000, 3) };
  });

  const stats = { probes: 0, failedProbes: 0, indirectProbes: 0, suspicionsStarted: 0, refutations: 0, declaredDead: 0, pushPulls: 0 };
  for (const h of run.cluster.hosts) {
    const m = run.cluster.serfOf(h.engine).memberlist.stats;
    for (const k of Object.keys(stats) as Array<keyof typeof stats>) stats[k] += m[k];
  }

  return {
    virtualSeconds: round(run.now / 1000, 3),
    detection: {
      crashes,
      firstDetectionSeconds: rounded(first),
      allDetectedSeconds: rounded(all),
    },
    dissemination: {
      events,
      deliveryRatio: expectedDeliveries === 0 ? null : round(deliveries / expectedDeliveries, 4),
    },
    falsePositives: {
      count: r.falsePositiveCount,
      byStalledObserver: r.falsePositives.filter((d) => d.stalledObserver).length,
      declarations: r.declarationCounts,
      list: r.falsePositives.slice(0, 100).map((d) => ({ atSeconds: round(d.atMs / 1000, 3), observer: d.observer, subject: d.subject, stalledObserver: d.stalledObserver })),
    },
    lifeguard: { suspicions: r.suspicionCount, refutations: r.refutationCount, currentProcesses: stats },
    traffic: {
      datagrams: net.stats.datagramsSent,
      datagramsLost: net.stats.datagramsLost,
      datagramsBlocked: net.stats.datagramsBlocked,
      streams: net.stats.streamsOpened,
      bytes: net.stats.bytesSent + net.stats.streamBytes,
      messagesPerNodePerSecond: rounded(messagesPerSecond, 2),
      bytesPerNodePerSecond: rounded(bytesPerSecond, 1),
      perNode: s.nodeCount <= 200 ? perNode : [],
    },
    convergence: {
      healAtSeconds: r.healAtMs === null ? null : round(r.healAtMs / 1000, 3),
      convergedAtSeconds: run.convergedAtMs === null ? null : round(run.convergedAtMs / 1000, 3),
      afterHealSeconds: convergenceAfterHealMs === null ? null : round(convergenceAfterHealMs / 1000, 3),
      afterFaults,
    },
    queries: r.queries.map((q) => ({ name: q.name, from: q.from, atSeconds: round(q.atMs / 1000, 3), acks: q.acks, responses: q.responses, of: q.expected })),
    // Only scenarios with the catalog have this key (the others' reports stay as they were).
    ...(run.catalog === null ? {} : { catalog: catalogMetrics(run, seconds) }),
  };
}

/**
 * The catalog's figures: when every live catalog matched the truth after each catalog change and
 * after the heal, and what the catalog's own messages cost (their payload bytes, without
 * memberlist's framing; all traffic is in `traffic`).
 */
function catalogMetrics(run: ScenarioRun, seconds: number) {
  const c = run.catalog;
  if (c === null) return null;
  const s = run.scenario;
  const t = c.totals();
  const full = c.changes.filter((x) => x.fullAtMs !== null).map((x) => ((x.fullAtMs as number) - x.atMs) / 1000);
  const healAtMs = run.record.healAtMs;
  return {
    withinSeconds: round((s.catalog?.withinMs ?? 0) / 1000, 3),
    convergedAtSeconds: c.convergedAtMs === null ? null : round(c.convergedAtMs / 1000, 3),
    afterHealSeconds: c.convergedAtMs === null || healAtMs === null ? null : round((c.convergedAtMs - healAtMs) / 1000, 3),
    fullCatalogSeconds: rounded(summarize(full)),
    changes: c.changes.slice(0, 200).map((x) => ({
      label: x.label, line: x.line, atSeconds: round(x.atMs / 1000, 3), fullAfterSeconds: x.fullAtMs === null ? null : round((x.fullAtMs - x.atMs) / 1000, 3),
    })),
    messages: t.messagesOut,
    bytes: t.bytesOut,
    messagesPerNodePerSecond: round(t.messagesOut / s.nodeCount / seconds, 2),
    bytesPerNodePerSecond: round(t.bytesOut / s.nodeCount / seconds, 1),
    publications: t.publications,
    coalesced: t.coalesced,
    antiEntropyRounds: t.antiEntropyRounds,
    statesApplied: t.statesApplied,
    statesStale: t.statesStale,
    malformed: t.malformed,
  };
}

export type Metrics = ReturnType<typeof computeMetrics>;

/** A named metric's value, for `metric:` assertions (null: not measured in this run). */
export function metricValue(m: Metrics, name: MetricName): number | null {
  switch (name) {
    case 'detectionLatencyP99': return m.detection.allDetectedSeconds.p99;
    case 'firstDetectionP99': return m.detection.firstDetectionSeconds.p99;
    case 'falsePositives': return m.falsePositives.count;
    case 'bytesPerNodePerSecond': return m.traffic.bytesPerNodePerSecond.mean;
    case 'messagesPerNodePerSecond': return m.traffic.messagesPerNodePerSecond.mean;
    case 'convergenceAfterHealSeconds': return m.convergence.afterHealSeconds;
    case 'eventDeliveryRatio': return m.dissemination.deliveryRatio;
    case 'catalogConvergenceAfterHealSeconds': return m.catalog?.afterHealSeconds ?? null;
    case 'catalogFullSecondsP99': return m.catalog?.fullCatalogSeconds.p99 ?? null;
    case 'catalogBytesPerNodePerSecond': return m.catalog?.bytesPerNodePerSecond ?? null;
  }
}
