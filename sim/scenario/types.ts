// A scenario as the runner takes it, after load.ts has parsed and checked the YAML file. Every
// time is in virtual milliseconds from the start of the run; node sets are already resolved to
// node indexes (node-i is index i). sim/scenarios/scenario.schema.json describes the file form.
import type { Timings, ProfileName } from '../../src/protocol/config.js';
import type { LatencyModel } from '../network.js';

export type StateName = 'alive' | 'suspect' | 'failed' | 'left';

/** A node set: indexes into the scenario's nodes, sorted, no duplicates. */
export type NodeSet = readonly number[];

export interface LinkRule {
  readonly from: NodeSet;
  readonly to: NodeSet;
  /** Both directions unless the file said `oneWay: true`. */
  readonly bothWays: boolean;
}

export type FaultSpec =
  | { readonly kind: 'partition'; readonly groups: readonly NodeSet[] }
  | { readonly kind: 'one-way'; readonly from: NodeSet; readonly to: NodeSet }
  | { readonly kind: 'isolate'; readonly nodes: NodeSet }
  | { readonly kind: 'flap'; readonly groups: readonly NodeSet[]; readonly upMs: number; readonly downMs: number }
  | { readonly kind: 'loss'; readonly rate: number; readonly link: LinkRule | null }
  | { readonly kind: 'duplicate'; readonly rate: number; readonly link: LinkRule | null }
  | { readonly kind: 'reorder'; readonly rate: number; readonly delayMs: number; readonly link: LinkRule | null }
  | { readonly kind: 'latency'; readonly latency: LatencyModel; readonly link: LinkRule | null }
  | { readonly kind: 'pause'; readonly nodes: NodeSet }
  | { readonly kind: 'slow'; readonly nodes: NodeSet; readonly stallMs: number; readonly everyMs: number };

export type ActionSpec =
  | { readonly kind: 'crash'; readonly nodes: NodeSet }
  | { readonly kind: 'restart'; readonly nodes: NodeSet; readonly snapshot: boolean; readonly everyMs: number }
  | { readonly kind: 'join'; readonly nodes: NodeSet; readonly overMs: number; readonly via: NodeSet }
  | { readonly kind: 'leave'; readonly nodes: NodeSet }
  | { readonly kind: 'tags'; readonly nodes: NodeSet; readonly tags: ReadonlyMap<string, string> }
  | { readonly kind: 'event'; readonly from: NodeSet; readonly name: string; readonly count: number; readonly everyMs: number }
  | { readonly kind: 'query'; readonly from: NodeSet; readonly name: string }
  // The catalog workload (the scenario then runs shoal nodes: Serf plus the gossiped catalog).
  | { readonly kind: 'register'; readonly nodes: NodeSet; readonly service: ServiceSpec }
  | { readonly kind: 'deregister'; readonly nodes: NodeSet; readonly serviceId: string }
  | { readonly kind: 'check-flap'; readonly nodes: NodeSet; readonly checkId: string; readonly everyMs: number; readonly forMs: number };

/** A service a `register` entry (or `catalog.services`) puts on a node, with its TTL checks. */
export interface ServiceSpec {
  readonly id: string;
  readonly name: string;
  readonly port: number;
  readonly tags: readonly string[];
  readonly checks: ReadonlyArray<{ readonly id: string; readonly status: 'passing' | 'warning' | 'critical' }>;
}

/** Present when the scenario runs shoal nodes (a `catalog:` key or any catalog workload). */
export interface CatalogSettings {
  /** Every live node's catalog must match the truth this soon after the final heal. */
  readonly withinMs: number;
  /** Services every node of `start` registers before the timeline begins. */
  readonly initial: readonly ServiceSpec[];
}

export interface TimelineEntry {
  readonly line: number;
  readonly atMs: number;
  readonly label: string;
  /** A fault lasts until `endMs` (the final heal when the file gave no `for`). */
  readonly fault?: FaultSpec;
  readonly endMs?: number;
  readonly action?: ActionSpec;
}

export type Predicate =
  | { readonly kind: 'converged' }
  | { readonly kind: 'false-positive' }
  | { readonly kind: 'seen'; readonly nodes: NodeSet; readonly as: StateName; readonly by: NodeSet | 'all' }
  | { readonly kind: 'delivered'; readonly event: string }
  | { readonly kind: 'catalog-converged' };

export const METRIC_NAMES = [
  'detectionLatencyP99', 'firstDetectionP99', 'falsePositives', 'bytesPerNodePerSecond', 'messagesPerNodePerSecond',
  'convergenceAfterHealSeconds', 'eventDeliveryRatio', 'catalogConvergenceAfterHealSeconds', 'catalogFullSecondsP99',
  'catalogBytesPerNodePerSecond',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export type Assertion =
  | { readonly kind: 'always' | 'never'; readonly line: number; readonly text: string; readonly predicate: Predicate; readonly fromMs: number; readonly toMs: number | null }
  | { readonly kind: 'eventually'; readonly line: number; readonly text: string; readonly predicate: Predicate; readonly afterMs: number | 'heal'; readonly withinMs: number }
  | { readonly kind: 'metric'; readonly line: number; readonly text: string; readonly metric: MetricName; readonly min: number | null; readonly max: number | null };

export type StartMode = 'formed' | 'joined';

export interface Scenario {
  readonly file: string;
  readonly name: string;
  readonly description: string;
  readonly seed: number;
  readonly nodeCount: number;
  readonly nodeNames: readonly string[];
  /** Nodes running at time 0; the others start with a `join` in the timeline. */
  readonly start: NodeSet;
  readonly startMode: StartMode;
  readonly profile: ProfileName;
  readonly timing: Partial<Timings>;
  readonly latency: LatencyModel;
  readonly links: ReadonlyArray<{ readonly rule: LinkRule; readonly latency: LatencyModel }>;
  /** The final heal: every fault ends here. */
  readonly healAtMs: number;
  /** The live nodes' views must agree within this long after the heal. */
  readonly healWithinMs: number;
  readonly checkEveryMs: number;
  readonly falsePositivesMax: number;
  readonly timeline: readonly TimelineEntry[];
  readonly assertions: readonly Assertion[];
  /** null: plain Serf agents, no catalog. */
  readonly catalog: CatalogSettings | null;
}

/** Node process phases, for the timeline and for deciding what "healthy" means. */
export const Phase = { notStarted: 0, running: 1, paused: 2, down: 3, left: 4 } as const;
