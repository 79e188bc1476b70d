// A finished run as one plain object: the checkers that run on every scenario, the scenario's
// own assertions, every metric, and the timeline. The JSON report is this object; the text,
// JUnit and HTML reports are views of it. Apart from `wall` (added by the caller, the only
// wall-clock figures), it is a pure function of the scenario and the seed.
import { round } from '../experiments/report.js';
import { computeMetrics, metricValue, type Metrics } from './metrics.js';
import type { ScenarioRun } from './run.js';

export interface Verdict {
  readonly name: string;
  /** The scenario file line of an assertion (0 for the built-in checkers). */
  readonly line: number;
  readonly passed: boolean;
  readonly detail: string;
  readonly violations?: ReadonlyArray<{ readonly atSeconds: number | null; readonly detail: string }>;
}

export interface WallFigures {
  readonly seconds: number;
  readonly simSecondsPerWallSecond: number | null;
  readonly eventsPerSecond: number | null;
  readonly peakRssMiB: number;
}

export interface RunResult {
  readonly report: 'shoal-sim';
  readonly version: 1;
  readonly scenario: { readonly name: string; readonly file: string; readonly description: string; readonly seed: number; readonly nodes: number; readonly profile: string };
  readonly passed: boolean;
  readonly replay: string;
  readonly checkers: readonly Verdict[];
  readonly assertions: readonly Verdict[];
  readonly metrics: Metrics;
  readonly timeline: ReturnType<typeof timelineOf>;
  wall?: WallFigures;
}

/** The one command that replays a run exactly. */
export function replayCommand(file: string, seed: number): string {
  const quoted = /^[\w./@%+=:,-]+$/.test(file) ? file : `'${file.replace(/'/g, "'\\''")}'`;
  return `npx shoal sim ${quoted} --seed ${seed}`;
}

function checkersOf(run: ScenarioRun, m: Metrics): Verdict[] {
  const r = run.record;
  const s = run.scenario;
  const list = (items: ReadonlyArray<{ atMs: number; detail: string }>) => items.map((v) => ({ atSeconds: round(v.atMs / 1000, 3), detail: v.detail }));
  const after = m.convergence.afterHealSeconds;
  const disagreements = run.views.disagreements((i) => run.isMemberLive(i), 5);
  const eventProblems = r.violationCounts['event-unknown'] + r.violationCounts['event-twice'];
  return [
    {
      name: 'incarnations never go backwards', line: 0, passed: r.violationCounts.incarnation === 0,
      detail: r.violationCounts.incarnation === 0 ? 'no view ever lowered a member\'s incarnation' : `${r.violationCounts.incarnation} times a view lowered a member's incarnation`,
      violations: list(r.violations.incarnation),
    },
    {
      name: 'a left member never returns without rejoining', line: 0, passed: r.violationCounts['left-returns'] === 0,
      detail: r.violationCounts['left-returns'] === 0 ? 'no view brought a left member back' : `${r.violationCounts['left-returns']} times a left member came back without a rejoin`,
      violations: list(r.violations['left-returns']),
    },
    {
      name: 'every live view converges after the final heal', line: 0, passed: after !== null && after * 1000 <= s.healWithinMs,
      detail: after !== null
        ? `converged ${after}s after the heal (limit ${s.healWithinMs / 1000}s)`
        : `not converged ${round((run.now - s.healAtMs) / 1000, 3)}s after the heal (limit ${s.healWithinMs / 1000}s): ${disagreements.join('; ')}`,
    },
    {
      name: 'every delivered user event was fired, and delivered once per node', line: 0, passed: eventProblems === 0,
      detail: eventProblems === 0
        ? `${r.events.length} events fired, ${r.events.reduce((n, e) => n + e.deliveredAt.size, 0)} deliveries, none unknown or repeated`
        : `${r.violationCounts['event-unknown']} deliveries of events nobody fired, ${r.violationCounts['event-twice']} repeated deliveries`,
      violations: [...list(r.violations['event-unknown']), ...list(r.violations['event-twice'])],
    },
    {
      name: 'false positives (healthy nodes declared failed)', line: 0, passed: r.falsePositiveCount <= s.falsePositivesMax,
      detail: `${r.falsePositiveCount} false positives (allowed: ${s.falsePositivesMax}; ${m.falsePositives.byStalledObserver} by a paused or slow accuser); `
        + `${r.declarationCounts.expected} declarations of really failed nodes, ${r.declarationCounts.network} across network faults`,
      violations: r.falsePositives.slice(0, 20).map((d) => ({ atSeconds: round(d.atMs / 1000, 3), detail: `${d.observer} declared ${d.subject} failed${d.stalledObserver ? ' (the accuser had been paused or slow)' : ''}` })),
    },
    ...catalogCheckerOf(run, m),
  ];
}

/** With the catalog: every live node's catalog matches the truth within catalog.within of the heal. */
function catalogCheckerOf(run: ScenarioRun, m: Metrics): Verdict[] {
  const c = run.catalog;
  const cm = m.catalog;
  if (c === null || cm === undefined || cm === null) return [];
  const after = cm.afterHealSeconds;
  const limit = cm.withinSeconds;
  const passed = after !== null && limit !== null && after <= limit;
  return [{
    name: 'every live catalog matches the truth after the final heal', line: 0, passed,
    detail: after !== null
      ? `every live node's catalog matched ${after}s after the heal (limit ${limit}s): live nodes' services and check states, failed nodes critical, left nodes gone`
      : `not matched ${round((run.now - run.scenario.healAtMs) / 1000, 3)}s after the heal (limit ${limit}s): ${c.lastComplete} live nodes hold the full catalog, `
        + `${c.lastWrongPairs} (observer, node) pairs differ; ${c.lastMismatches.join('; ')}`,
  }];
}

function assertionsOf(run: ScenarioRun, m: Metrics): Verdict[] {
  return run.outcomes.map((o) => {
    const a = o.assertion;
    if (a.kind === 'metric') {
      const value = metricValue(m, a.metric);
      const ok = value !== null && (a.min === null || value >= a.min) && (a.max === null || value <= a.max);
      return { name: a.text, line: a.line, passed: ok, detail: value === null ? `${a.metric} was not measured in this run` : `${a.metric} = ${value}` };
    }
    return { name: a.text, line: a.line, passed: o.passed === true, detail: o.detail };
  });
}

/** Virtual ms as seconds, exact to the ms (timeline values are never null). */
const sec = (ms: number): number => Math.round(ms) / 1000;

function timelineOf(run: ScenarioRun) {
  const r = run.record;
  return {
    endSeconds: sec(run.now),
    healSeconds: r.healAtMs === null ? null : sec(r.healAtMs),
    faults: run.faults.map((w) => ({ kind: w.kind, label: w.label, line: w.line, startSeconds: sec(w.startMs), endSeconds: sec(w.endMs), nodes: w.nodes })),
    actions: r.actions.map((a) => ({ atSeconds: sec(a.atMs), kind: a.kind, label: a.label, nodes: a.nodes })),
    suspicions: r.suspicions.slice(0, 1000).map((x) => ({ atSeconds: sec(x.atMs), node: x.node, by: x.by })),
    refutations: r.refutations.slice(0, 1000).map((x) => ({ atSeconds: sec(x.atMs), node: x.node })),
    samples: r.samples.map((x) => ({ atSeconds: sec(x.atMs), converged: x.converged, live: x.live, alive: x.alive, suspect: x.suspect, failed: x.failed, left: x.left })),
    // With the catalog: how many live nodes held the full, correct catalog at each check that compared them.
    ...(run.catalog === null ? {} : { catalogSamples: run.catalog.samples.map((x) => ({ atSeconds: sec(x.atMs), complete: x.complete, live: x.live })) }),
    nodeStates: Object.fromEntries(r.nodeStates.map((rle, i) => [run.scenario.nodeNames[i] as string, rle.map(([code, ms]): [string, number] => [code, sec(ms)])])) as Record<string, Array<[string, number]>>,
  };
}

export function resultOf(run: ScenarioRun): RunResult {
  const s = run.scenario;
  const metrics = computeMetrics(run);
  const checkers = checkersOf(run, metrics);
  const assertions = assertionsOf(run, metrics);
  return {
    report: 'shoal-sim',
    version: 1,
    scenario: { name: s.name, file: s.file, description: s.description, seed: run.seed, nodes: s.nodeCount, profile: s.profile },
    passed: checkers.every((c) => c.passed) && assertions.every((a) => a.passed),
    replay: replayCommand(s.file, run.seed),
    checkers,
    assertions,
    metrics,
    timeline: timelineOf(run),
  };
}

/** The JSON report: stable key order, two-space indent, newline-terminated. */
export function jsonReport(result: RunResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
