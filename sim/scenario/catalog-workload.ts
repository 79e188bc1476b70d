// The catalog side of a scenario run (when the scenario has `catalog:` or catalog workload): the
// services each node is configured with, the timeline's register / deregister / check-flap
// entries, and the catalog checker — every live node's catalog matches the truth
// (catalog-truth.ts) — with the figures the report prints: when the catalog was full again after
// each change and after the heal, and what the catalog's own messages cost.
import type { ShoalNode } from '../../src/catalog/node.js';
import type { Check } from '../../src/catalog/types.js';
import type { CatalogCluster } from '../catalog-cluster.js';
import { catalogMismatches, type CatalogObserver, type CatalogSubject } from '../catalog-truth.js';
import { Phase, type ActionSpec, type CatalogSettings, type ServiceSpec, type TimelineEntry } from './types.js';

/** Catalog samples kept for the report (then every other one is dropped, as the view samples). */
const MAX_SAMPLES = 2_000;

export interface CatalogSample {
  readonly atMs: number;
  /** Live nodes whose catalog matches the truth for every other node. */
  readonly complete: number;
  readonly live: number;
}

export interface CatalogChange {
  readonly atMs: number;
  readonly label: string;
  readonly line: number;
  /** The first check at which every live catalog matched the truth again (null: not yet). */
  fullAtMs: number | null;
}

/** What the run lends the workload: the cluster, node names and process phases. */
export interface CatalogRunView {
  readonly cluster: CatalogCluster;
  readonly phase: Uint8Array;
  readonly now: number;
  nodeName(i: number): string;
}

type CatalogAction = Extract<ActionSpec, { kind: 'register' | 'deregister' | 'check-flap' }>;

export function isCatalogAction(action: ActionSpec): action is CatalogAction {
  return action.kind === 'register' || action.kind === 'deregister' || action.kind === 'check-flap';
}

/** Sums of the catalog's own counters (CatalogStats), over every process a run had. */
export interface CatalogTotals {
  messagesOut: number;
  bytesOut: number;
  publications: number;
  coalesced: number;
  antiEntropyRounds: number;
  statesApplied: number;
  statesStale: number;
  malformed: number;
}

function zeroTotals(): CatalogTotals {
  return { messagesOut: 0, bytesOut: 0, publications: 0, coalesced: 0, antiEntropyRounds: 0, statesApplied: 0, statesStale: 0, malformed: 0 };
}

function addStats(into: CatalogTotals, engine: ShoalNode): void {
  const s = engine.gossip.stats;
  for (const k of Object.keys(into) as Array<keyof CatalogTotals>) into[k] += s[k];
}

export class CatalogWorkload {
  /** Per node: the services it registers whenever its process starts (its "config directory"), by ID. */
  private readonly configured: Array<Map<string, ServiceSpec>>;
  /** Counters of processes that were replaced by a restart. */
  private readonly retired = zeroTotals();
  readonly samples: CatalogSample[] = [];
  readonly changes: CatalogChange[] = [];
  /** When every live catalog first matched the truth after the final heal. */
  convergedAtMs: number | null = null;
  /** The last evaluation: matches now, and the first differences if not. */
  lastOk = false;
  lastMismatches: string[] = [];
  lastComplete = 0;
  lastWrongPairs = 0;

  constructor(
    readonly settings: CatalogSettings,
    private readonly run: CatalogRunView,
    nodeCount: number,
  ) {
    this.configured = Array.from({ length: nodeCount }, () => new Map(settings.initial.map((s) => [s.id, s])));
  }

  /** A process started (formed, joined or restarted): it registers its configured services. */
  processStarted(i: number): void {
    const name = this.run.nodeName(i);
    const services = [...(this.configured[i] as Map<string, ServiceSpec>).values()];
    if (services.length === 0) return;
    this.run.cluster.act(name, (node, now) => {
      for (const spec of services) node.registerService(now, serviceOf(spec), spec.checks.map((c) => checkOf(c.id, c.status, spec)));
    });
  }

  /** Before a restart replaces the node's process: keep its counters. */
  processReplaced(i: number): void {
    addStats(this.retired, this.run.cluster.host(this.run.nodeName(i)).engine);
  }

  act(entry: TimelineEntry, action: CatalogAction): void {
    // A flapping check's change is its final state, set when its window ends.
    if (action.kind !== 'check-flap') this.changes.push({ atMs: this.run.now, label: entry.label, line: entry.line, fullAtMs: null });
    switch (action.kind) {
      case 'register':
        for (const i of action.nodes) {
          (this.configured[i] as Map<string, ServiceSpec>).set(action.service.id, action.service);
          const spec = action.service;
          this.onRunning(i, (node, now) => node.registerService(now, serviceOf(spec), spec.checks.map((c) => checkOf(c.id, c.status, spec))));
        }
        return;
      case 'deregister':
        for (const i of action.nodes) {
          (this.configured[i] as Map<string, ServiceSpec>).delete(action.serviceId);
          this.onRunning(i, (node, now) => node.deregisterService(now, action.serviceId));
        }
        return;
      case 'check-flap':
        return this.flap(entry, action);
    }
  }

  /**
   * A TTL check toggling: critical at once, then passing, critical … every `every`, until the
   * window ends; then it is left as configured (its initial status). Nodes without the check
   * (not running, or never registered it) are skipped at each toggle.
   */
  private flap(entry: TimelineEntry, action: Extract<CatalogAction, { kind: 'check-flap' }>): void {
    const scheduler = this.run.cluster.world.scheduler;
    const endMs = this.run.now + action.forMs;
    const toggle = (k: number): void => {
      const last = this.run.now + action.everyMs >= endMs;
      for (const i of action.nodes) {
        this.onRunning(i, (node, now) => {
          const check = node.local.check(action.checkId);
          if (check === undefined) return;
          const status = k % 2 === 0 ? 'critical' : 'passing';
          node.updateCheck(now, action.checkId, status, `check-flap: ${status} (toggle ${k + 1})`);
        });
      }
      if (!last) scheduler.after(action.everyMs, () => toggle(k + 1));
      else scheduler.at(endMs, () => this.restoreChecks(entry, action));
    };
    toggle(0);
  }

  private restoreChecks(entry: TimelineEntry, action: Extract<CatalogAction, { kind: 'check-flap' }>): void {
    this.changes.push({ atMs: this.run.now, label: `${entry.label} (window over)`, line: entry.line, fullAtMs: null });
    for (const i of action.nodes) {
      const spec = [...(this.configured[i] as Map<string, ServiceSpec>).values()].flatMap((s) => s.checks).find((c) => c.id === action.checkId);
      this.onRunning(i, (node, now) => {
        if (spec !== undefined && node.local.check(action.checkId) !== undefined) node.updateCheck(now, action.checkId, spec.status, 'check-flap: window over');
      });
    }
  }

  private onRunning(i: number, fn: (node: ShoalNode, nowMs: number) => void): void {
    if (this.run.phase[i] !== Phase.running) return;
    this.run.cluster.act(this.run.nodeName(i), fn);
  }

  /** Whether this check should evaluate the (n² per check) comparison. */
  needed(healed: boolean, assertionWants: boolean): boolean {
    return assertionWants || this.changes.some((c) => c.fullAtMs === null) || (healed && this.convergedAtMs === null);
  }

  /** Compares every live catalog with the truth now; records samples and change times. */
  evaluate(healed: boolean): boolean {
    const run = this.run;
    const observers: CatalogObserver[] = [];
    const subjects: CatalogSubject[] = [];
    for (let i = 0; i < run.phase.length; i++) {
      const phase = run.phase[i];
      if (phase === Phase.notStarted) continue;
      const name = run.nodeName(i);
      const engine = run.cluster.host(name).engine;
      if (phase === Phase.running) observers.push({ name, engine });
      if (phase === Phase.running || phase === Phase.paused) subjects.push({ name, state: 'live', engine });
      else subjects.push({ name, state: phase === Phase.left ? 'left' : 'failed' });
    }
    const r = catalogMismatches(observers, subjects, 5);
    const ok = r.mismatches.length === 0;
    this.lastOk = ok;
    this.lastMismatches = r.mismatches;
    this.lastComplete = r.completeObservers;
    this.lastWrongPairs = r.wrongPairs;
    const now = run.now;
    this.samples.push({ atMs: now, complete: r.completeObservers, live: observers.length });
    if (this.samples.length > MAX_SAMPLES) {
      const kept = this.samples.filter((_, k) => k % 2 === 0);
      this.samples.length = 0;
      this.samples.push(...kept);
    }
    if (ok) for (const c of this.changes) if (c.fullAtMs === null) c.fullAtMs = now;
    if (ok && healed && this.convergedAtMs === null) this.convergedAtMs = now;
    return ok;
  }

  /** Counters over every process the run had (current ones and those a restart replaced). */
  totals(): CatalogTotals {
    const out = { ...this.retired };
    for (const h of this.run.cluster.hosts) addStats(out, h.engine);
    return out;
  }
}

function serviceOf(spec: ServiceSpec): { ID: string; Service: string; Tags: readonly string[]; Address: string; Port: number; Meta: Record<string, string> } {
  return { ID: spec.id, Service: spec.name, Tags: spec.tags, Address: '', Port: spec.port, Meta: {} };
}

function checkOf(id: string, status: Check['Status'], spec: ServiceSpec): Check {
  return { CheckID: id, Name: `${spec.name} TTL`, Status: status, Notes: '', Output: '', ServiceID: spec.id, ServiceName: spec.name, Type: 'ttl' };
}
