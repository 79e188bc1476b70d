// What a scenario run records as it goes: failure declarations (classified: expected, across a
// network fault, or a false positive), suspicion and refutation marks, crashes and how fast they
// were detected, user events fired and delivered, queries, per-node state over time for the
// timeline, and checker violations. Bounded: marks and violations keep the first MAX_* entries
// and count the rest.
import { NodeStateType } from '../../src/protocol/node-state.js';
import { INTERNAL_QUERY_PREFIX } from '../../src/cluster/serf.js';
import type { RecordedSerfEvent, SerfClusterOf } from '../serf-cluster.js';
import type { ClusterEngine } from '../cluster-base.js';
import type { FaultWindow, ScenarioRun } from './run.js';
import { Phase, type ActionSpec, type Scenario, type TimelineEntry } from './types.js';
import { UNKNOWN, type Transition, type ViewListener } from './views.js';

const MAX_MARKS = 5_000;
const MAX_VIOLATIONS = 50;
const MAX_DECLARATIONS = 2_000;

export type DeclarationClass = 'expected' | 'network' | 'false-positive';

export interface Declaration {
  readonly atMs: number;
  readonly observer: string;
  readonly subject: string;
  readonly class: DeclarationClass;
  /** An accuser in the chain was itself paused or slow shortly before (Lifeguard's stalled accuser). */
  readonly stalledObserver: boolean;
}

export interface CrashRecord {
  readonly node: string;
  readonly atMs: number;
  firstMs: number | null;
  allMs: number | null;
  /** ms after the crash at which each observer declared it failed, in order. */
  readonly offsets: number[];
}

export interface FiredEvent {
  readonly id: string;
  readonly name: string;
  readonly from: string;
  readonly atMs: number;
  /** Nodes live when it was fired. */
  readonly expected: number;
  /** First delivery time per node index. */
  readonly deliveredAt: Map<number, number>;
}

export interface QueryRecord {
  readonly name: string;
  readonly from: string;
  readonly atMs: number;
  readonly expected: number;
  acks: number;
  responses: number;
  doneAtMs: number | null;
}

export interface Sample {
  readonly atMs: number;
  readonly converged: boolean;
  readonly live: number;
  /** (observer, member) pairs among live observers in each state. */
  readonly alive: number;
  readonly suspect: number;
  readonly failed: number;
  readonly left: number;
}

export interface Violation {
  readonly atMs: number;
  readonly detail: string;
}

export interface Mark {
  readonly atMs: number;
  readonly node: string;
  readonly by: string;
}

export interface RunRecord {
  readonly declarations: Declaration[];
  declarationCounts: Record<DeclarationClass, number>;
  readonly falsePositives: Declaration[];
  falsePositiveCount: number;
  readonly suspicions: Mark[];
  suspicionCount: number;
  readonly refutations: Mark[];
  refutationCount: number;
  readonly crashes: CrashRecord[];
  readonly events: FiredEvent[];
  readonly queries: QueryRecord[];
  readonly actions: Array<{ readonly atMs: number; readonly kind: string; readonly label: string; readonly nodes: readonly string[] }>;
  samples: Sample[];
  /** Per node, run-length encoded state codes: [code, fromMs]. a alive, s suspected, f seen failed, p paused, w slow, x down, l left, . not started. */
  readonly nodeStates: Array<Array<[string, number]>>;
  readonly violations: Record<'incarnation' | 'left-returns' | 'event-unknown' | 'event-twice', Violation[]>;
  violationCounts: Record<'incarnation' | 'left-returns' | 'event-unknown' | 'event-twice', number>;
  healAtMs: number | null;
}

export class Recorder implements ViewListener {
  /** While true (forming a preloaded cluster), transitions update views but are not recorded. */
  quiet = false;
  readonly record: RunRecord;
  private readonly eventsById = new Map<string, FiredEvent>();
  private readonly eventSerial = new Map<string, number>();
  /** Deliveries seen per process: `${node}:${process}:${eventId}`. */
  private readonly delivered = new Set<string>();
  private readonly processOf: Uint32Array;
  /** suspectedBy[o * n + s]: who started o's latest suspicion of s (-1: nobody named). */
  private readonly suspectedBy: Int32Array;

  constructor(private readonly scenario: Scenario, private readonly run: ScenarioRun) {
    this.processOf = new Uint32Array(scenario.nodeCount);
    this.suspectedBy = new Int32Array(scenario.nodeCount * scenario.nodeCount).fill(-1);
    this.record = {
      declarations: [], declarationCounts: { expected: 0, network: 0, 'false-positive': 0 }, falsePositives: [], falsePositiveCount: 0,
      suspicions: [], suspicionCount: 0, refutations: [], refutationCount: 0, crashes: [], events: [], queries: [], actions: [], samples: [],
      nodeStates: Array.from({ length: scenario.nodeCount }, () => []),
      violations: { incarnation: [], 'left-returns': [], 'event-unknown': [], 'event-twice': [] },
      violationCounts: { incarnation: 0, 'left-returns': 0, 'event-unknown': 0, 'event-twice': 0 },
      healAtMs: null,
    };
  }

  private name(i: number): string {
    return this.scenario.nodeNames[i] as string;
  }

  onViolation(checker: keyof RunRecord['violations'], atMs: number, detail: string): void {
    this.record.violationCounts[checker]++;
    const list = this.record.violations[checker];
    if (list.length < MAX_VIOLATIONS) list.push({ atMs, detail });
  }

  onTransition(t: Transition): void {
    if (t.to === NodeStateType.suspect && t.from !== NodeStateType.suspect) this.suspectedBy[t.observer * this.scenario.nodeCount + t.subject] = t.by;
    if (this.quiet) return;
    const r = this.record;
    if (t.to === NodeStateType.suspect && t.from !== NodeStateType.suspect && t.observer !== t.subject) {
      r.suspicionCount++;
      if (r.suspicions.length < MAX_MARKS) r.suspicions.push({ atMs: t.atMs, node: this.name(t.subject), by: this.name(t.observer) });
    }
    if (t.observer === t.subject && t.to === NodeStateType.alive && t.from !== UNKNOWN && t.incarnation > t.fromIncarnation) {
      r.refutationCount++;
      if (r.refutations.length < MAX_MARKS) r.refutations.push({ atMs: t.atMs, node: this.name(t.subject), by: this.name(t.subject) });
    }
    if (t.to === NodeStateType.dead && t.from !== NodeStateType.dead) this.declared(t);
    if (t.to === NodeStateType.dead || t.to === NodeStateType.left || t.to === UNKNOWN) this.checkAllDetected(t.subject, t.atMs);
  }

  /**
   * The chain of accusers behind a declaration: whoever the dead message names (the observer
   * itself when its own suspicion expired), and whoever started the suspicion it acted on.
   */
  private accusers(o: number, s: number, by: number): number[] {
    const n = this.scenario.nodeCount;
    const chain = [o];
    const declarer = by >= 0 ? by : o;
    if (declarer !== o) chain.push(declarer);
    const origin = this.suspectedBy[declarer * n + s] as number;
    if (origin >= 0 && !chain.includes(origin)) chain.push(origin);
    const own = this.suspectedBy[o * n + s] as number;
    if (own >= 0 && !chain.includes(own)) chain.push(own);
    return chain;
  }

  private declared(t: Transition): void {
    const run = this.run;
    const r = this.record;
    const { observer: o, subject: s, atMs } = t;
    const recently = (i: number): boolean => !run.isHealthy(i) || atMs - (run.unhealthyUntil[i] as number) <= run.graceMs;
    // A declaration is blamed on a network fault that touched the accused or anyone in the
    // chain of accusers (a node back from isolation gossips the deaths it declared while cut off).
    const chain = this.accusers(o, s, t.by);
    const involved = [s, ...chain];
    let cls: DeclarationClass;
    if (recently(s)) cls = 'expected';
    else if (run.faults.some((w) => w.reachability && w.startMs <= atMs && this.aftermathEnd(w) + run.graceMs >= atMs && involved.some((i) => w.touches[i] === 1))) cls = 'network';
    else cls = 'false-positive';
    const d: Declaration = { atMs, observer: this.name(o), subject: this.name(s), class: cls, stalledObserver: chain.some((i) => i !== s && recently(i)) };
    r.declarationCounts[cls]++;
    if (r.declarations.length < MAX_DECLARATIONS) r.declarations.push(d);
    if (cls === 'false-positive') {
      r.falsePositiveCount++;
      if (r.falsePositives.length < MAX_DECLARATIONS) r.falsePositives.push(d);
    }
    const crash = this.openCrash(s);
    if (crash !== undefined) {
      if (crash.firstMs === null) crash.firstMs = atMs;
      crash.offsets.push(atMs - crash.atMs);
    }
  }

  /** A network fault's effects last until the views agree again after it ended (at least until it ends). */
  private aftermathEnd(w: FaultWindow): number {
    if (w.endMs > this.run.now) return w.endMs;
    return w.settledMs === null ? Infinity : Math.max(w.endMs, w.settledMs);
  }

  private openCrash(s: number): CrashRecord | undefined {
    const name = this.name(s);
    for (let k = this.record.crashes.length - 1; k >= 0; k--) {
      const c = this.record.crashes[k] as CrashRecord;
      if (c.node === name) return c.allMs === null && this.run.phase[s] === Phase.down ? c : undefined;
    }
    return undefined;
  }

  private checkAllDetected(s: number, atMs: number): void {
    const crash = this.openCrash(s);
    if (crash === undefined) return;
    const v = this.run.views;
    if (v.count(s, NodeStateType.alive) + v.count(s, NodeStateType.suspect) === 0 && crash.firstMs !== null) crash.allMs = atMs;
  }

  crashed(i: number): void {
    this.record.crashes.push({ node: this.name(i), atMs: this.run.now, firstMs: null, allMs: null, offsets: [] });
  }

  restarted(i: number): void {
    this.processOf[i] = (this.processOf[i] as number) + 1;
  }

  leaving(_i: number): void {}

  left(_i: number): void {}

  healed(): void {
    this.record.healAtMs = this.run.now;
  }

  action(entry: TimelineEntry, action: ActionSpec): void {
    const nodes = 'nodes' in action ? action.nodes : action.from;
    this.record.actions.push({ atMs: entry.atMs, kind: action.kind, label: entry.label, nodes: nodes.map((i) => this.name(i)) });
  }

  // ---------------------------------------------------------------- events and queries

  fireEvent(cluster: SerfClusterOf<ClusterEngine>, from: number, name: string): void {
    const k = (this.eventSerial.get(name) ?? 0) + 1;
    this.eventSerial.set(name, k);
    const id = `${name}#${k}`;
    const ev: FiredEvent = { id, name, from: this.name(from), atMs: this.run.now, expected: this.liveCount(), deliveredAt: new Map() };
    this.record.events.push(ev);
    this.eventsById.set(id, ev);
    cluster.actSerf(this.name(from), (serf, now) => serf.userEvent(now, name, new TextEncoder().encode(id), false));
  }

  fireQuery(cluster: SerfClusterOf<ClusterEngine>, from: number, name: string): void {
    const q: QueryRecord = { name, from: this.name(from), atMs: this.run.now, expected: this.liveCount(), acks: 0, responses: 0, doneAtMs: null };
    this.record.queries.push(q);
    cluster.actSerf(this.name(from), (serf, now) => serf.query(now, name, null, { requestAck: true }, {
      onAck: () => q.acks++,
      onResponse: () => q.responses++,
      onDone: () => {
        q.doneAtMs = this.run.now;
      },
    }));
  }

  private liveCount(): number {
    let n = 0;
    for (let i = 0; i < this.scenario.nodeCount; i++) if (this.run.isMemberLive(i)) n++;
    return n;
  }

  onSerfEvent(recorded: RecordedSerfEvent, _cluster: SerfClusterOf<ClusterEngine>): void {
    const e = recorded.event;
    if (e.type === 'query') {
      if (!e.query.name.startsWith(INTERNAL_QUERY_PREFIX)) e.query.respond(recorded.atMs, new TextEncoder().encode(recorded.observer));
      return;
    }
    if (e.type !== 'user') return;
    const i = this.scenario.nodeNames.indexOf(recorded.observer);
    const id = e.payload === null ? '' : new TextDecoder().decode(e.payload);
    const fired = this.eventsById.get(id);
    if (fired === undefined || fired.name !== e.name) {
      this.onViolation('event-unknown', recorded.atMs, `${recorded.observer} received user event '${e.name}' (payload '${id}') that nobody fired`);
      return;
    }
    const key = `${i}:${this.processOf[i]}:${id}`;
    if (this.delivered.has(key)) {
      this.onViolation('event-twice', recorded.atMs, `${recorded.observer} received ${id} a second time`);
      return;
    }
    this.delivered.add(key);
    if (!fired.deliveredAt.has(i)) fired.deliveredAt.set(i, recorded.atMs);
  }

  /** null if every live node has every event of that name; otherwise who lacks what. */
  undelivered(name: string): string | null {
    const events = this.record.events.filter((e) => e.name === name);
    if (events.length === 0) return `no event named '${name}' was fired yet`;
    for (const e of events) {
      let missing = 0;
      let example = '';
      for (let i = 0; i < this.scenario.nodeCount; i++) {
        if (this.run.isMemberLive(i) && !e.deliveredAt.has(i)) {
          missing++;
          if (example === '') example = this.name(i);
        }
      }
      if (missing > 0) return `${missing} live nodes (e.g. ${example}) have not received ${e.id}`;
    }
    return null;
  }

  // ---------------------------------------------------------------- samples

  sample(atMs: number, converged: boolean): void {
    const v = this.run.views;
    const n = this.scenario.nodeCount;
    let alive = 0;
    let suspect = 0;
    let failed = 0;
    let left = 0;
    for (let s = 0; s < n; s++) {
      alive += v.count(s, NodeStateType.alive);
      suspect += v.count(s, NodeStateType.suspect);
      failed += v.count(s, NodeStateType.dead);
      left += v.count(s, NodeStateType.left);
      const code = this.code(s);
      const rle = this.record.nodeStates[s] as Array<[string, number]>;
      const last = rle[rle.length - 1];
      if (last === undefined || last[0] !== code) rle.push([code, atMs]);
      this.checkAllDetected(s, atMs);
    }
    this.record.samples.push({ atMs, converged, live: v.liveCount, alive, suspect, failed, left });
  }

  private code(s: number): string {
    const run = this.run;
    const phase = run.phase[s];
    if (phase === Phase.notStarted) return '.';
    if (phase === Phase.down) return 'x';
    if (phase === Phase.left) return 'l';
    if (phase === Phase.paused) return 'p';
    const v = run.views;
    if (v.count(s, NodeStateType.dead) > 0) return 'f';
    if (v.count(s, NodeStateType.suspect) > 0) return 's';
    if (!run.isHealthy(s)) return 'w';
    return 'a';
  }

  /** Keeps every other sample (long runs): the curve keeps its shape, the report its size. */
  thin(): void {
    this.record.samples = this.record.samples.filter((_, k) => k % 2 === 0);
  }
}
