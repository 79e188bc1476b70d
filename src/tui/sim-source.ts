// Feeds the TUI from a simulation instead of an agent: the same screens, with the virtual clock
// paced at real time or faster (+/-), paused and single-stepped (space, n), and the fault timeline
// marked in the header and the event log — the way to watch a partition happen and heal.
//
// It drives anything that looks like SimDriver: the scenario runner's run object (`shoal sim`)
// or, through clusterDriver(), a bare SerfCluster. Members, health and coordinates are read from
// one observer node (`o` picks the next), events from the cluster's recording, who-suspected-whom
// from that node's memberlist log lines (the same lines an agent's monitor stream carries).
// Only types come from sim/, so this module loads without the simulator.
import type { SerfCluster, SerfClusterOf, RecordedSerfEvent } from '../../sim/serf-cluster.js';
import type { ClusterEngine } from '../../sim/cluster-base.js';
import type { SimEngine, SimHost } from '../../sim/host.js';
import type { LogLevel } from '../protocol/effects.js';
import type { Member } from '../cluster/member.js';
import type { KeyPress, TuiSource } from './app.js';
import { parseAgentLogLine } from './log-lines.js';
import type { CoordinateInfo, MemberInfo, TuiModel } from './model.js';

/** One window of the fault timeline (a partition, a crash, packet loss …). endMs null: until the end. */
export interface FaultWindow {
  readonly kind: string;
  readonly startMs: number;
  readonly endMs: number | null;
  readonly nodes: readonly string[];
  readonly label: string;
}

/** What the TUI needs from a simulation run. */
export interface SimDriver {
  /** The virtual time now. */
  readonly now: number;
  /**
   * Runs the simulation up to this virtual time (faults of the timeline included). It may stop
   * short, at its own step boundary (the scenario runner moves in check intervals): the source
   * keeps its own target and asks again on the next tick.
   */
  advanceTo(virtualMs: number): void;
  /** One step of the driver's own size (the runner: a check interval); `n` uses it when present. */
  step?(): boolean;
  /** A SerfCluster, or the CatalogCluster of a scenario with the catalog. */
  readonly cluster: SerfClusterOf<ClusterEngine>;
  readonly faults: readonly FaultWindow[];
  /** Where the run ends, if it does. */
  readonly endMs?: number | null;
}

/** A SerfCluster as a SimDriver: no faults of its own unless given (the test applies them itself). */
export function clusterDriver(cluster: SerfCluster, faults: readonly FaultWindow[] = [], endMs: number | null = null): SimDriver {
  return {
    get now() {
      return cluster.now;
    },
    advanceTo: (virtualMs) => {
      if (virtualMs > cluster.now) cluster.run(virtualMs - cluster.now);
    },
    cluster,
    faults,
    endMs,
  };
}

export interface SimSourceOptions {
  /** Whose view the table shows (default: the first node). */
  readonly observer?: string;
  /** Virtual ms per real ms (1 = real time). */
  readonly speed?: number;
  readonly paused?: boolean;
  /** Real ms between two advances of the virtual clock. */
  readonly tickMs?: number;
  /** Virtual ms one single step (n) moves. */
  readonly stepMs?: number;
}

export const SIM_KEYS: ReadonlyArray<{ readonly key: string; readonly description: string }> = [
  { key: 'space', description: 'pause / resume the virtual clock' },
  { key: 'n', description: 'single step: pauses, then one step of the run (100 ms, or the scenario\'s check interval)' },
  { key: '+  -', description: 'run faster / slower (×2, ÷2; 1 is real time)' },
  { key: 'o', description: 'watch the cluster from the next node' },
];

const MIN_SPEED = 1 / 16;
const MAX_SPEED = 256;
const DEFAULT_TICK_MS = 100;
const DEFAULT_STEP_MS = 100;

export class SimSource implements TuiSource {
  readonly clock = 'virtual' as const;
  speed: number;
  paused: boolean;
  observer: string;
  private model: TuiModel | null = null;
  private changed: () => void = () => undefined;
  private timer: NodeJS.Timeout | null = null;
  private lastFaultSyncMs = -1;
  /** Where the virtual clock should be: ahead of the driver's when it moves in bigger steps. */
  private targetMs: number;
  private readonly tickMs: number;
  private readonly stepMs: number;

  constructor(readonly driver: SimDriver, options: SimSourceOptions = {}) {
    this.speed = options.speed ?? 1;
    this.paused = options.paused ?? false;
    this.tickMs = options.tickMs ?? DEFAULT_TICK_MS;
    this.stepMs = options.stepMs ?? DEFAULT_STEP_MS;
    this.observer = options.observer ?? driver.cluster.hosts[0]?.name ?? '';
    this.targetMs = driver.now;
  }

  now(): number {
    return this.driver.now;
  }

  start(model: TuiModel, changed: () => void): void {
    this.model = model;
    this.changed = changed;
    model.source = 'simulation';
    model.extraKeys = SIM_KEYS;
    model.hint = 'simulation: space pause · n step · + faster · - slower · o next observer';
    this.hook();
    model.setConnection(this.now(), 'connected', `watching from ${this.observer}`);
    this.sync();
    this.timer = setInterval(() => this.tick(), this.tickMs);
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** Advances the virtual clock by `virtualMs` and brings the model up to date (the tick and single steps). */
  advance(virtualMs: number): void {
    const end = this.driver.endMs ?? null;
    const from = Math.max(this.targetMs, this.driver.now);
    const target = end === null ? from + virtualMs : Math.min(end, from + virtualMs);
    this.targetMs = target;
    // Stop at each fault edge on the way, so its mark lands in the log between the events before and after it.
    const edges = this.driver.faults
      .flatMap((f) => (f.endMs === null ? [f.startMs] : [f.startMs, f.endMs]))
      .filter((t) => t > this.driver.now && t < target)
      .sort((a, b) => a - b);
    for (const edge of [...edges, target]) {
      if (edge > this.driver.now) this.driver.advanceTo(edge);
      if (this.model !== null) this.syncFaults(this.now());
    }
    this.sync();
  }

  /** A user event from the observer node, as `shoal event` would send it through its agent. */
  fireUserEvent(name: string, payload: string): Promise<string | null> {
    const host = this.driver.cluster.hosts.find((h) => h.name === this.observer);
    if (host === undefined || !host.running) return Promise.resolve(`${this.observer} is not running`);
    this.driver.cluster.actSerf(this.observer, (serf, nowMs) => serf.userEvent(nowMs, name, payload === '' ? null : Buffer.from(payload), false));
    this.sync();
    return Promise.resolve(null);
  }

  handleKey(key: KeyPress, model: TuiModel): boolean {
    const ch = key.ch ?? key.name;
    if (key.name === 'space' || ch === ' ') this.paused = !this.paused;
    else if (ch === 'n') {
      this.paused = true;
      if (this.driver.step === undefined) this.advance(this.stepMs);
      else {
        this.driver.step();
        this.targetMs = this.driver.now;
      }
    } else if (ch === '+' || ch === '=') this.speed = Math.min(MAX_SPEED, this.speed * 2);
    else if (ch === '-') this.speed = Math.max(MIN_SPEED, this.speed / 2);
    else if (ch === 'o') this.nextObserver(model);
    else return false;
    this.sync();
    return true;
  }

  private tick(): void {
    if (this.paused) return;
    const end = this.driver.endMs ?? null;
    if (end !== null && this.driver.now >= end) {
      this.paused = true;
      this.model?.addLog(this.now(), 'info', 'the scenario ended: the clock stops (q quits)');
      this.sync();
      return;
    }
    this.advance(this.tickMs * this.speed);
  }

  private nextObserver(model: TuiModel): void {
    const names = this.driver.cluster.hosts.map((h) => h.name);
    if (names.length === 0) return;
    this.observer = names[(names.indexOf(this.observer) + 1) % names.length] as string;
    model.members.clear();
    model.setMembers(this.now(), []);
    model.setConnection(this.now(), 'connected', `watching from ${this.observer}`);
    model.addLog(this.now(), 'info', `now watching from ${this.observer}`);
  }

  /** Chains onto the cluster's event and log hooks (the runner may use them too). */
  private hook(): void {
    const cluster = this.driver.cluster;
    const previousEvent = cluster.onEvent;
    cluster.onEvent = (recorded) => {
      previousEvent?.(recorded);
      this.onEvent(recorded);
    };
    const world = cluster.world;
    const previousLog = world.onLog;
    world.onLog = (host, level, message) => {
      previousLog?.(host, level, message);
      this.onLog(host, level, message);
    };
  }

  private onEvent(recorded: RecordedSerfEvent): void {
    const model = this.model;
    if (model === null || recorded.observer !== this.observer) return;
    const e = recorded.event;
    if (e.type === 'user') model.userEvent(recorded.atMs, e.name, e.payload === null ? '' : Buffer.from(e.payload).toString('utf8'), e.lTime);
    else if (e.type === 'query') model.queryEvent(recorded.atMs, e.query.name, '', e.query.lTime);
    else model.memberEvent(recorded.atMs, e.type, e.members.map(memberInfo));
    this.changed();
  }

  private onLog(host: SimHost<SimEngine>, _level: LogLevel, message: string): void {
    const model = this.model;
    if (model === null || host.name !== this.observer) return;
    const { fact } = parseAgentLogLine(message);
    if (fact === null) return;
    const now = this.now();
    switch (fact.kind) {
      case 'suspect': model.suspected(now, fact.node, fact.by ?? this.observer); break;
      case 'confirm': model.confirmed(now, fact.node, fact.by); break;
      case 'refuted': model.refuted(now, fact.node, null, `(incarnation ${fact.incarnation})`); break;
      case 'refuting': model.refuted(now, this.observer, fact.accuser); break;
      case 'timeout': model.suspicionTimedOut(now, fact.node, fact.detail); break;
    }
    this.changed();
  }

  /** Reads the observer's view, the processes and the fault timeline into the model. */
  private sync(): void {
    const model = this.model;
    if (model === null) return;
    const now = this.now();
    const cluster = this.driver.cluster;
    const host = cluster.hosts.find((h) => h.name === this.observer);
    model.localName = this.observer;
    if (host !== undefined) {
      const serf = cluster.serfOf(host.engine);
      model.setMembers(now, serf.members().map(memberInfo));
      model.setHealth(serf.memberlist.healthScore());
      const local = coordinateInfo(serf.getCachedCoordinate(this.observer));
      for (const name of model.members.keys()) model.setCoordinate(name, coordinateInfo(serf.getCachedCoordinate(name)), local);
    }
    for (const h of cluster.hosts) model.setProcess(now, h.name, h.status === 'running' ? '' : h.status);
    this.syncFaults(now);
    model.sim = {
      virtualMs: now,
      speed: this.speed,
      paused: this.paused,
      activeFaults: this.driver.faults.filter((f) => f.startMs <= now && (f.endMs === null || now < f.endMs)).map((f) => f.label),
      nextFault: nextFault(this.driver.faults, now),
      endMs: this.driver.endMs ?? null,
    };
    model.changed();
    this.changed();
  }

  /** Marks in the log every fault start and end passed since the last sync. */
  private syncFaults(now: number): void {
    const model = this.model as TuiModel;
    const from = this.lastFaultSyncMs;
    const marks: Array<{ atMs: number; text: string }> = [];
    for (const f of this.driver.faults) {
      if (f.startMs > from && f.startMs <= now) marks.push({ atMs: f.startMs, text: `▼ fault starts: ${f.label}` });
      if (f.endMs !== null && f.endMs > from && f.endMs <= now) marks.push({ atMs: f.endMs, text: `▲ fault ends: ${f.label}` });
    }
    marks.sort((a, b) => a.atMs - b.atMs);
    for (const m of marks) model.addLog(m.atMs, 'fault', m.text);
    this.lastFaultSyncMs = now;
  }
}

function nextFault(faults: readonly FaultWindow[], now: number): { label: string; startMs: number } | null {
  let best: FaultWindow | null = null;
  for (const f of faults) if (f.startMs > now && (best === null || f.startMs < best.startMs)) best = f;
  return best === null ? null : { label: best.label, startMs: best.startMs };
}

function memberInfo(m: Member): MemberInfo {
  const ip = m.addr.length === 4 ? [...m.addr].join('.') : Buffer.from(m.addr).toString('hex');
  return {
    name: m.name, addr: `${ip}:${m.port}`, status: ['none', 'alive', 'leaving', 'left', 'failed'][m.status] ?? 'none', tags: m.tags,
    protocolCur: m.protocolCur, delegateCur: m.delegateCur,
  };
}

function coordinateInfo(c: { vec: readonly number[]; error: number; adjustment: number; height: number } | undefined): CoordinateInfo | null {
  return c === undefined ? null : { vec: c.vec, error: c.error, adjustment: c.adjustment, height: c.height };
}
