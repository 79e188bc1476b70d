// One run of a scenario on simulated Serf agents, steppable and observable (the TUI drives it).
//
//   const run = new ScenarioRun(scenario, { seed });   // builds the cluster, queues the timeline
//   run.step();               // advances one check interval (scenario `check`, default 500 ms);
//                             // returns false once finished
//   run.advanceTo(30_000);    // steps until virtual time 30 s (or the end)
//   run.finished              // true once the heal has converged and every assertion is decided
//   run.now                   // virtual ms; run.healAtMs: when the final heal comes
//   run.cluster               // the cluster: hosts (status running/paused/crashed), their Serf
//                             // layers (run.cluster.serf(name)), network, scheduler; a SerfCluster,
//                             // or with the catalog a CatalogCluster of shoal nodes
//   run.catalog               // the catalog workload and checker (null without the catalog)
//   run.faults                // fault windows so far: { kind, label, line, startMs, endMs, nodes, reachability }
//                             // (endMs is the planned end while the fault is active)
//   run.phase[i]              // node i's process: Phase.notStarted/running/paused/down/left (types.ts)
//   run.views                 // every live process's view: stateAt(observer, member) (-1 unknown,
//                             // 0 alive, 1 suspect, 2 failed, 3 left), count(member, state), converged()
//   run.record                // recorded so far: declarations (classified), suspicions and refutations
//                             // (marks), crashes with detection times, user events and deliveries,
//                             // queries, actions, samples (cluster state per check), nodeStates
//   run.outcomes              // each assertion: passed (null while undecided), detail, atMs
//   run.finish();             // runs to the end and decides what is still open
//   resultOf(run)             // (result.ts) the RunResult every report is made from
//
// A run is a pure function of the scenario and the seed: everything random derives from the
// seed, and nothing here reads a clock (the wall time is measured by execute.ts).
import { NodeStateType } from '../../src/protocol/node-state.js';
import type { Serf } from '../../src/cluster/serf.js';
import type { ShoalNode } from '../../src/catalog/node.js';
import type { GossipConfig } from '../../src/catalog/gossip.js';
import { SeededRng } from '../../src/protocol/rng.js';
import { suspicionBounds } from '../../src/protocol/timing.js';
import { PROFILES, type ConfigInput } from '../../src/protocol/config.js';
import { ReceiveStalls } from '../receive-stall.js';
import { SerfCluster, type SerfClusterOf, type SerfClusterOptions } from '../serf-cluster.js';
import { CatalogCluster } from '../catalog-cluster.js';
import { CatalogWorkload, isCatalogAction } from './catalog-workload.js';
import { NetworkFaults, type ActiveNetworkFault } from './network-faults.js';
import { Recorder, type RunRecord } from './record.js';
import { Phase, type ActionSpec, type Assertion, type FaultSpec, type NodeSet, type Predicate, type Scenario, type TimelineEntry } from './types.js';
import { Views } from './views.js';

export interface RunOptions {
  /** Overrides the scenario's seed (the CLI's --seed). */
  readonly seed?: number;
  /** Memberlist settings the file cannot set (tests: testOnlyDisableRefutation). */
  readonly memberlistOverrides?: Partial<Omit<ConfigInput, 'name' | 'advertise' | 'profile'>>;
  /** Catalog gossip settings the file cannot set (tests: a catalog that cannot spread). */
  readonly catalogGossip?: Partial<GossipConfig>;
}

export interface FaultWindow {
  readonly kind: string;
  readonly label: string;
  readonly line: number;
  readonly startMs: number;
  endMs: number;
  readonly nodes: readonly string[];
  /** A reachability fault (partition, one-way, isolate, flap, total link loss): declarations across it are expected. */
  readonly reachability: boolean;
  /** Nodes it touches, as a mask over scenario node indexes. */
  readonly touches: Uint8Array;
  /** When the views first agreed again after it ended (null: not yet): its aftermath lasts until then. */
  settledMs: number | null;
}

export interface AssertionOutcome {
  readonly assertion: Assertion;
  /** null while undecided. */
  passed: boolean | null;
  detail: string;
  atMs: number | null;
}


const MAX_NODE_SAMPLES = 2_000;

export class ScenarioRun {
  readonly cluster: SerfClusterOf<Serf | ShoalNode>;
  readonly catalog: CatalogWorkload | null;
  readonly seed: number;
  readonly views: Views;
  readonly record: RunRecord;
  readonly faults: FaultWindow[] = [];
  readonly outcomes: AssertionOutcome[];
  /** Grace after a fault during which a failure declaration is still blamed on it. */
  readonly graceMs: number;
  private readonly recorder: Recorder;
  private readonly net: NetworkFaults;
  private readonly stalls: ReceiveStalls<Serf | ShoalNode>;
  private readonly activeNet: ActiveNetworkFault[] = [];
  private readonly rng: SeededRng;
  private readonly index = new Map<string, number>();
  /** Process phase per node. */
  readonly phase: Uint8Array;
  /** Nodes whose receive path a `slow` fault currently stalls on and off. */
  private readonly slowCount: Uint16Array;
  private readonly leaving: Uint8Array;
  /** Last time each node was unhealthy (down, paused, slow, leaving); -Infinity if never. */
  readonly unhealthyUntil: Float64Array;
  private nextCheckMs: number;
  private healed = false;
  convergedAtMs: number | null = null;
  endMs: number;
  private done = false;

  constructor(readonly scenario: Scenario, options: RunOptions = {}) {
    this.seed = options.seed ?? scenario.seed;
    const n = scenario.nodeCount;
    scenario.nodeNames.forEach((name, i) => this.index.set(name, i));
    this.phase = new Uint8Array(n);
    this.slowCount = new Uint16Array(n);
    this.leaving = new Uint8Array(n);
    this.unhealthyUntil = new Float64Array(n).fill(-Infinity);
    this.rng = new SeededRng(this.seed, 0x7a11e5);
    this.recorder = new Recorder(scenario, this);
    this.record = this.recorder.record;
    this.views = new Views(n, scenario.nodeNames, this.recorder);
    const timing = { ...PROFILES[scenario.profile], ...scenario.timing };
    const bounds = suspicionBounds(timing.suspicionMult, timing.suspicionMaxTimeoutMult, n, timing.probeIntervalMs);
    // A suspicion started just before a fault ended can still expire its longest timeout later.
    this.graceMs = bounds.maxMs + 5 * timing.probeIntervalMs;
    const usesSnapshots = scenario.timeline.some((e) => e.action?.kind === 'restart' && e.action.snapshot);
    const clusterOptions: SerfClusterOptions = {
      seed: this.seed,
      profile: scenario.profile,
      memberlist: { ...scenario.timing, ...options.memberlistOverrides },
      latency: scenario.latency,
      snapshots: usesSnapshots,
      recordEvents: false,
      onMemberState: (name) => {
        const observer = this.index.get(name) as number;
        this.views.up(observer);
        return (nowMs, subjectName, state, incarnation, by) => {
          const subject = this.index.get(subjectName);
          if (subject !== undefined) this.views.change(nowMs, observer, subject, state, incarnation, by === undefined ? -1 : this.index.get(by) ?? -1);
        };
      },
    };
    if (scenario.catalog === null) {
      this.cluster = new SerfCluster(clusterOptions);
      this.catalog = null;
    } else {
      const cluster = new CatalogCluster({ ...clusterOptions, ...(options.catalogGossip === undefined ? {} : { gossip: options.catalogGossip }) });
      this.cluster = cluster;
      this.catalog = new CatalogWorkload(scenario.catalog, { cluster, phase: this.phase, get now() { return cluster.now; }, nodeName: (i) => this.nodeName(i) }, n);
    }
    this.cluster.onEvent = (recorded) => this.recorder.onSerfEvent(recorded, this.cluster);
    this.net = new NetworkFaults(this.cluster.world.network, n, scenario);
    this.stalls = new ReceiveStalls<Serf | ShoalNode>(this.cluster);
    this.outcomes = scenario.assertions.map((assertion) => ({ assertion, passed: null, detail: '', atMs: null }));
    this.endMs = scenario.healAtMs + scenario.healWithinMs;
    for (const a of scenario.assertions) {
      if (a.kind === 'eventually') this.endMs = Math.max(this.endMs, (a.afterMs === 'heal' ? scenario.healAtMs : a.afterMs) + a.withinMs);
    }
    if (scenario.catalog !== null) this.endMs = Math.max(this.endMs, scenario.healAtMs + scenario.catalog.withinMs);
    this.startNodes();
    for (const entry of scenario.timeline) this.queue(entry);
    this.cluster.world.scheduler.at(scenario.healAtMs, () => this.heal());
    this.nextCheckMs = 0;
    this.check();
    this.nextCheckMs = scenario.checkEveryMs;
  }

  get now(): number {
    return this.cluster.now;
  }

  get finished(): boolean {
    return this.done;
  }

  get healAtMs(): number {
    return this.scenario.healAtMs;
  }

  nodeName(i: number): string {
    return this.scenario.nodeNames[i] as string;
  }

  /** A member counts as live (its view and its own liveness matter) when its process runs or is paused, and it is not leaving. */
  isMemberLive(i: number): boolean {
    return this.views.live[i] === 1 && this.leaving[i] === 0;
  }

  // ---------------------------------------------------------------- stepping

  /** Advances one check interval; returns false once finished. */
  step(): boolean {
    if (this.done) return false;
    this.cluster.world.scheduler.runUntil(this.nextCheckMs);
    this.check();
    this.nextCheckMs += this.scenario.checkEveryMs;
    return !this.done;
  }

  advanceTo(virtualMs: number): void {
    while (!this.done && this.nextCheckMs <= virtualMs) this.step();
  }

  /** Runs to the end. */
  runToEnd(): void {
    while (this.step());
  }

  // ---------------------------------------------------------------- start and timeline

  private startNodes(): void {
    const s = this.scenario;
    const names = s.start.map((i) => this.nodeName(i));
    if (s.startMode === 'formed') {
      this.recorder.quiet = true;
      for (const [k, i] of s.start.entries()) {
        this.phase[i] = Phase.running;
        this.net.registerHost(k, i);
      }
      this.cluster.formConverged(names);
      this.recorder.quiet = false;
      for (const i of s.start) this.catalog?.processStarted(i);
    } else {
      // Joined: the first starts alone, the others join through it 10 ms apart.
      for (const [k, i] of s.start.entries()) {
        this.cluster.world.scheduler.at(k * 10, () => this.addAndJoin(i, k === 0 ? [] : [s.start[0] as number]));
      }
    }
    this.net.apply(this.activeNet);
  }

  private addAndJoin(i: number, via: NodeSet): void {
    const name = this.nodeName(i);
    const host = this.cluster.addNode(name);
    this.net.registerHost(host.id, i);
    this.phase[i] = Phase.running;
    this.catalog?.processStarted(i);
    const seeds = this.liveAmong(via, i);
    if (seeds.length > 0) this.cluster.join(name, [this.nodeName(seeds[this.rng.int(seeds.length)] as number)]);
    else if (via.length > 0) this.joinAnyLive(i);
  }

  private liveAmong(set: NodeSet, not: number): number[] {
    return set.filter((j) => j !== not && this.phase[j] === Phase.running);
  }

  private joinAnyLive(i: number): void {
    const live: number[] = [];
    for (let j = 0; j < this.scenario.nodeCount; j++) if (j !== i && this.phase[j] === Phase.running) live.push(j);
    if (live.length === 0) return;
    this.cluster.join(this.nodeName(i), [this.nodeName(live[this.rng.int(live.length)] as number)]);
  }

  private queue(entry: TimelineEntry): void {
    const scheduler = this.cluster.world.scheduler;
    if (entry.action !== undefined) {
      const action = entry.action;
      scheduler.at(entry.atMs, () => this.act(entry, action));
      return;
    }
    const fault = entry.fault as FaultSpec;
    const endMs = entry.endMs as number;
    scheduler.at(entry.atMs, () => this.startFault(entry, fault, endMs));
  }

  private nodesOfFault(spec: FaultSpec): NodeSet {
    switch (spec.kind) {
      case 'partition':
      case 'flap':
        return spec.groups.flat();
      case 'one-way':
        return [...new Set([...spec.from, ...spec.to])];
      case 'isolate':
      case 'pause':
      case 'slow':
        return spec.nodes;
      default:
        return spec.link === null ? [] : [...new Set([...spec.link.from, ...spec.link.to])];
    }
  }

  private startFault(entry: TimelineEntry, spec: FaultSpec, endMs: number): void {
    const nodes = this.nodesOfFault(spec);
    const reachability = spec.kind === 'partition' || spec.kind === 'one-way' || spec.kind === 'isolate' || spec.kind === 'flap'
      || (spec.kind === 'loss' && spec.link !== null && spec.rate >= 1);
    const window: FaultWindow = {
      kind: spec.kind, label: entry.label, line: entry.line, startMs: this.now, endMs, nodes: nodes.map((i) => this.nodeName(i)),
      reachability, touches: this.net.mask(nodes), settledMs: null,
    };
    this.faults.push(window);
    const scheduler = this.cluster.world.scheduler;
    let ended = false;
    let end: () => void;
    if (spec.kind === 'pause') {
      for (const i of spec.nodes) {
        if (this.phase[i] !== Phase.running) continue;
        this.cluster.pause(this.nodeName(i));
        this.phase[i] = Phase.paused;
      }
      end = () => {
        for (const i of spec.nodes) this.resume(i);
      };
    } else if (spec.kind === 'slow') {
      for (const i of spec.nodes) this.slowCount[i] = (this.slowCount[i] as number) + 1;
      const cycle = (): void => {
        if (ended) return;
        for (const i of spec.nodes) this.stall(i);
        scheduler.after(spec.stallMs, () => {
          for (const i of spec.nodes) this.release(i);
          if (!ended) scheduler.after(spec.everyMs - spec.stallMs, cycle);
        });
      };
      cycle();
      end = () => {
        for (const i of spec.nodes) {
          this.slowCount[i] = (this.slowCount[i] as number) - 1;
          this.release(i);
          this.unhealthyUntil[i] = this.now;
        }
      };
    } else {
      const active: ActiveNetworkFault = { spec, down: true };
      this.activeNet.push(active);
      this.net.apply(this.activeNet);
      if (spec.kind === 'flap') {
        const flip = (): void => {
          if (ended) return;
          active.down = !active.down;
          this.net.apply(this.activeNet);
          scheduler.after(active.down ? spec.downMs : spec.upMs, flip);
        };
        scheduler.after(spec.downMs, flip);
      }
      end = () => {
        const k = this.activeNet.indexOf(active);
        if (k >= 0) this.activeNet.splice(k, 1);
        this.net.apply(this.activeNet);
      };
    }
    const finish = (): void => {
      if (ended) return;
      ended = true;
      window.endMs = this.now;
      end();
    };
    this.enders.push(finish);
    scheduler.at(endMs, finish);
  }

  private readonly enders: Array<() => void> = [];

  private stall(i: number): void {
    if (this.phase[i] !== Phase.running && this.phase[i] !== Phase.paused) return;
    this.stalls.stall(this.nodeName(i));
  }

  private release(i: number): void {
    const name = this.nodeName(i);
    if (this.phase[i] !== Phase.running || !this.cluster.host(name).running) return;
    if (this.stalls.isStalled(name)) this.stalls.release(name);
  }

  private resume(i: number): void {
    if (this.phase[i] !== Phase.paused) return;
    this.cluster.resume(this.nodeName(i));
    this.phase[i] = Phase.running;
    this.unhealthyUntil[i] = this.now;
  }

  private act(entry: TimelineEntry, action: ActionSpec): void {
    this.recorder.action(entry, action);
    if (isCatalogAction(action)) {
      // The loader only lets catalog workload into scenarios that have the catalog.
      this.catalog?.act(entry, action);
      return;
    }
    switch (action.kind) {
      case 'crash':
        for (const i of action.nodes) this.crash(i);
        return;
      case 'restart':
        // `every`: one after the other (a rolling restart); otherwise all at once.
        action.nodes.forEach((i, k) => {
          if (action.everyMs === 0) this.restart(i, action.snapshot);
          else this.cluster.world.scheduler.after(k * action.everyMs, () => this.restart(i, action.snapshot));
        });
        return;
      case 'join': {
        const step = action.nodes.length > 1 ? action.overMs / (action.nodes.length - 1) : 0;
        action.nodes.forEach((i, k) => {
          this.cluster.world.scheduler.after(k * step, () => {
            if (this.phase[i] === Phase.notStarted) this.addAndJoin(i, action.via);
            else if (this.phase[i] === Phase.down || this.phase[i] === Phase.left) this.restart(i, false, action.via);
          });
        });
        return;
      }
      case 'leave':
        for (const i of action.nodes) this.leave(i);
        return;
      case 'tags':
        for (const i of action.nodes) {
          if (this.phase[i] !== Phase.running) continue;
          this.cluster.actSerf(this.nodeName(i), (serf, now) => serf.setTags(now, action.tags));
        }
        return;
      case 'event':
        for (let k = 0; k < action.count; k++) {
          this.cluster.world.scheduler.after(k * action.everyMs, () => {
            const from = this.pickLive(action.from, k);
            if (from !== null) this.recorder.fireEvent(this.cluster, from, action.name);
          });
        }
        return;
      case 'query': {
        const from = this.pickLive(action.from, 0);
        if (from !== null) this.recorder.fireQuery(this.cluster, from, action.name);
        return;
      }
    }
  }

  /** The k-th live node of the set (round robin), or null if none is running. */
  private pickLive(set: NodeSet, k: number): number | null {
    for (let j = 0; j < set.length; j++) {
      const i = set[(k + j) % set.length] as number;
      if (this.phase[i] === Phase.running) return i;
    }
    return null;
  }

  private crash(i: number): void {
    if (this.phase[i] !== Phase.running && this.phase[i] !== Phase.paused) return;
    this.cluster.crash(this.nodeName(i));
    this.views.down(i);
    this.phase[i] = Phase.down;
    this.leaving[i] = 0;
    this.recorder.crashed(i);
  }

  private restart(i: number, snapshot: boolean, via?: NodeSet): void {
    if (this.phase[i] === Phase.notStarted) return this.addAndJoin(i, via ?? []);
    if (this.phase[i] === Phase.running || this.phase[i] === Phase.paused) this.crash(i);
    const name = this.nodeName(i);
    if (!snapshot) this.cluster.snapshotFiles.delete(name);
    this.views.leftNow[i] = 0;
    this.leaving[i] = 0;
    this.phase[i] = Phase.running;
    this.unhealthyUntil[i] = this.now;
    this.recorder.restarted(i);
    // With a snapshot the agent rejoins its previous peers by itself (serf handleRejoin).
    this.catalog?.processReplaced(i);
    this.cluster.restart(name, []);
    this.catalog?.processStarted(i);
    if (!snapshot) {
      const seeds = via === undefined ? [] : this.liveAmong(via, i);
      if (seeds.length > 0) this.cluster.join(name, [this.nodeName(seeds[this.rng.int(seeds.length)] as number)]);
      else this.joinAnyLive(i);
    }
  }

  private leave(i: number): void {
    if (this.phase[i] !== Phase.running) return;
    this.leaving[i] = 1;
    const name = this.nodeName(i);
    const host = this.cluster.host(name);
    this.recorder.leaving(i);
    this.cluster.actSerf(name, (serf, now) => serf.leave(now, () => {
      // The agent exits after its leave, as `serf leave` makes it do.
      this.cluster.world.scheduler.after(0, () => {
        if (this.cluster.host(name) !== host || this.phase[i] !== Phase.running || this.leaving[i] !== 1) return;
        this.cluster.crash(name);
        this.views.down(i);
        this.views.leftNow[i] = 1;
        this.phase[i] = Phase.left;
        this.leaving[i] = 0;
        this.unhealthyUntil[i] = this.now;
        this.recorder.left(i);
      });
    }));
  }

  /** The final heal: every fault ends, paused processes resume, stalled ones read their buffers. */
  private heal(): void {
    for (const end of this.enders.splice(0)) end();
    this.activeNet.length = 0;
    this.net.apply(this.activeNet);
    for (let i = 0; i < this.scenario.nodeCount; i++) this.resume(i);
    this.healed = true;
    this.recorder.healed();
  }

  // ---------------------------------------------------------------- checks

  /** Healthy: the process runs, unpaused, unstalled, not leaving. */
  isHealthy(i: number): boolean {
    return this.phase[i] === Phase.running && this.slowCount[i] === 0 && this.leaving[i] === 0;
  }

  private check(): void {
    const now = this.now;
    for (let i = 0; i < this.scenario.nodeCount; i++) if (this.phase[i] !== Phase.notStarted && !this.isHealthy(i)) this.unhealthyUntil[i] = now;
    const converged = this.views.converged((s) => this.isMemberLive(s));
    this.recorder.sample(now, converged);
    if (this.healed && converged && this.convergedAtMs === null) this.convergedAtMs = now;
    if (converged) for (const w of this.faults) if (w.settledMs === null && w.endMs <= now) w.settledMs = now;
    const catalog = this.catalog;
    if (catalog !== null && catalog.needed(this.healed, this.catalogAssertionOpen())) catalog.evaluate(this.healed);
    for (const o of this.outcomes) this.evaluate(o, now, converged);
    const undecided = this.outcomes.some((o) => o.passed === null && o.assertion.kind === 'eventually');
    const catalogDone = catalog === null || catalog.convergedAtMs !== null;
    if (this.healed && ((this.convergedAtMs !== null && catalogDone && !undecided) || now >= this.endMs)) this.done = true;
    if (this.record.samples.length > MAX_NODE_SAMPLES) this.recorder.thin();
  }

  /** An assertion on catalog-converged that this check must decide. */
  private catalogAssertionOpen(): boolean {
    const now = this.now;
    return this.outcomes.some((o) => {
      const a = o.assertion;
      if (o.passed !== null || a.kind === 'metric' || a.predicate.kind !== 'catalog-converged') return false;
      if (a.kind === 'eventually') return now >= (a.afterMs === 'heal' ? this.scenario.healAtMs : a.afterMs);
      return now >= a.fromMs && (a.toMs === null || now <= a.toMs);
    });
  }

  private evaluate(o: AssertionOutcome, now: number, converged: boolean): void {
    const a = o.assertion;
    if (o.passed !== null || a.kind === 'metric') return;
    if (a.kind === 'eventually') {
      const after = a.afterMs === 'heal' ? this.scenario.healAtMs : a.afterMs;
      if (now < after) return;
      const { holds, why } = this.holds(a.predicate, converged);
      if (holds) {
        o.passed = true;
        o.atMs = now;
        o.detail = `held at ${fmtS(now)} (${fmtS(now - after)} after ${a.afterMs === 'heal' ? 'the heal' : fmtS(after)})`;
      } else if (now >= after + a.withinMs) {
        o.passed = false;
        o.atMs = now;
        o.detail = `still not true at ${fmtS(now)}: ${why}`;
      }
      return;
    }
    if (now < a.fromMs || (a.toMs !== null && now > a.toMs)) return;
    const { holds, why } = this.holds(a.predicate, converged);
    const ok = a.kind === 'always' ? holds : !holds;
    if (!ok) {
      o.passed = false;
      o.atMs = now;
      o.detail = a.kind === 'always' ? `false at ${fmtS(now)}: ${why}` : `happened at ${fmtS(now)}`;
    }
  }

  /** Whether a predicate holds now, and if not, why (for the report). */
  holds(p: Predicate, converged: boolean): { holds: boolean; why: string } {
    switch (p.kind) {
      case 'converged':
        return { holds: converged, why: converged ? '' : this.views.disagreements((s) => this.isMemberLive(s), 3).join('; ') };
      case 'false-positive': {
        const fp = this.record.falsePositives;
        return fp.length > 0 ? { holds: true, why: '' } : { holds: false, why: 'no healthy node was declared failed' };
      }
      case 'delivered': {
        const missing = this.recorder.undelivered(p.event);
        return { holds: missing === null, why: missing ?? '' };
      }
      case 'catalog-converged': {
        const c = this.catalog;
        if (c === null) return { holds: false, why: 'the scenario has no catalog' };
        return { holds: c.lastOk, why: c.lastOk ? '' : `${c.lastComplete} live nodes hold the full catalog; ${c.lastMismatches.join('; ')}` };
      }
      case 'seen': {
        const state = { alive: NodeStateType.alive, suspect: NodeStateType.suspect, failed: NodeStateType.dead, left: NodeStateType.left }[p.as];
        for (const s of p.nodes) {
          if (p.by === 'all') {
            const others = this.views.othersLive(s);
            const holding = this.views.othersHolding(s, state);
            if (holding !== others) return { holds: false, why: `${holding} of ${others} live nodes see ${this.nodeName(s)} as ${p.as}` };
          } else {
            for (const o of p.by) {
              if (o === s || this.views.live[o] !== 1) continue;
              if (this.views.stateAt(o, s) !== state) return { holds: false, why: `${this.nodeName(o)} does not see ${this.nodeName(s)} as ${p.as}` };
            }
          }
        }
        return { holds: true, why: '' };
      }
    }
  }

  /** Runs to the end and decides every assertion left open. */
  finish(): void {
    this.runToEnd();
    for (const o of this.outcomes) {
      if (o.passed !== null || o.assertion.kind === 'metric') continue;
      o.passed = o.assertion.kind !== 'eventually';
      o.atMs = this.now;
      o.detail = o.passed ? 'held throughout' : 'the run ended first';
    }
  }
}

export function fmtS(ms: number): string {
  return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : ms % 100 === 0 ? 1 : 3)}s`;
}
