// Experiment `catalog` (issue #8): N shoal nodes (1,000; 100 with --quick) form a cluster, then
// every node registers 5 services with a check each at once. Figures: the virtual time until every
// node's catalog holds every node's current entry (a full catalog at every node), the bytes per
// node per second that cost (all traffic: membership gossip, catalog rumors, anti-entropy), the
// steady-state cost once nothing changes (membership + anti-entropy digests), and the time one
// check's change takes to reach every node.
//
// Entry point: `catalogExperiment` (an Experiment), or `node dist/sim/experiments/catalog.js
// [--quick | --nodes N] [--seed N] [--json] [--progress]` on its own (--progress: how far from a full catalog, every virtual second, on stderr).
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CatalogCluster, simCheck, simService } from '../catalog-cluster.js';
import { fixed, round, RssSampler, Stopwatch, table, type Experiment, type ExperimentOptions, type ExperimentReport } from './report.js';

const SERVICES_PER_NODE = 5;
const STEP_MS = 250;
const LIMIT_MS = 600_000;
const STEADY_MS = 30_000;

/** Every running node holds every running node's current entry (version equality is exact). */
function fullCatalogEverywhere(cluster: CatalogCluster): boolean {
  const live = cluster.running();
  if (live.some((h) => h.engine.gossip.publishing)) return false;
  for (const subject of live) {
    const version = subject.engine.local.version;
    for (const observer of live) if (observer.engine.catalog.version(subject.name) !== version) return false;
  }
  return true;
}

function networkBytes(cluster: CatalogCluster): number {
  const s = cluster.world.network.stats;
  return s.bytesSent + s.streamBytes;
}

/** Progress of the full-catalog phase, for `--progress` (stderr): how far from a full catalog everywhere. */
export interface CatalogProgress {
  readonly virtualSeconds: number;
  /** Running nodes that hold every running node's current entry. */
  readonly completeNodes: number;
  /** (observer, subject) pairs where the observer lacks the subject's current entry. */
  readonly missingPairs: number;
  /** The subjects most often missing, with how many observers lack them. */
  readonly mostMissing: ReadonlyArray<readonly [string, number]>;
  readonly catalogMessages: number;
  readonly catalogBytes: number;
  readonly alivePeersMin: number;
  /** The first few missing pairs: what the observer holds, what the subject has. */
  readonly examples: readonly string[];
}

function progressOf(cluster: CatalogCluster, sinceMs: number): CatalogProgress {
  const live = cluster.running();
  let completeNodes = 0;
  let missingPairs = 0;
  const missing = new Map<string, number>();
  const examples: string[] = [];
  for (const observer of live) {
    let complete = true;
    for (const subject of live) {
      if (observer.engine.catalog.version(subject.name) === subject.engine.local.version) continue;
      complete = false;
      missingPairs++;
      if (examples.length < 4) {
        const g = observer.engine.gossip;
        examples.push(`${observer.name} holds ${subject.name} at ${observer.engine.catalog.version(subject.name)}, its own is ${subject.engine.local.version} `
          + `(held by itself ${subject.engine.catalog.version(subject.name)}); observer: ae ${g.stats.antiEntropyRounds}, in ${g.stats.messagesIn}, applied ${g.stats.statesApplied}, `
          + `stale ${g.stats.statesStale}, peers ${observer.engine.peers().length}, subject a peer ${observer.engine.peers().includes(subject.name)}`);
      }
      missing.set(subject.name, (missing.get(subject.name) ?? 0) + 1);
    }
    if (complete) completeNodes++;
  }
  return {
    virtualSeconds: (cluster.now - sinceMs) / 1000,
    completeNodes,
    missingPairs,
    mostMissing: [...missing].sort((a, b) => b[1] - a[1]).slice(0, 3),
    catalogMessages: cluster.hosts.reduce((s, h) => s + h.engine.gossip.stats.messagesOut, 0),
    catalogBytes: cluster.hosts.reduce((s, h) => s + h.engine.gossip.stats.bytesOut, 0),
    alivePeersMin: live.reduce((m, h) => Math.min(m, h.engine.peers().length), Infinity),
    examples,
  };
}

function runUntil(cluster: CatalogCluster, done: () => boolean, what: string, rss: RssSampler, onStep?: () => void): number {
  const start = cluster.now;
  while (!done()) {
    if (cluster.now - start >= LIMIT_MS) throw new Error(`${what}: not within ${LIMIT_MS / 1000} virtual seconds`);
    cluster.run(STEP_MS);
    rss.sample();
    onStep?.();
  }
  return cluster.now - start;
}

export interface CatalogRow {
  readonly nodes: number;
  readonly formSeconds: number;
  readonly convergeSeconds: number;
  readonly convergeBytesPerNodePerSecond: number;
  readonly convergeCatalogBytesPerNode: number;
  readonly steadyBytesPerNodePerSecond: number;
  /** The catalog's own share of the steady state (anti-entropy summaries). */
  readonly steadyCatalogBytesPerNodePerSecond: number;
  /** Membership alone (before any service), for comparison. */
  readonly membershipBytesPerNodePerSecond: number;
  readonly changeSeconds: number;
  readonly malformed: number;
  readonly wallSeconds: number;
  readonly peakRssMiB: number;
}

export function runCatalog(nodes: number, seed: number, progress?: (p: CatalogProgress) => void): CatalogRow {
  const watch = new Stopwatch();
  const rss = new RssSampler();
  // Events are not kept (a million member-joins at 1,000 nodes); the catalog engines see them all the same.
  const cluster = new CatalogCluster({ seed, recordEvents: false });
  cluster.grow(nodes, 10);
  const formMs = runUntil(cluster, () => cluster.running().every((h) => h.engine.peers().length === nodes - 1), 'membership', rss) + nodes * 10;

  // Membership and empty-catalog cost before any service exists, once the join wave has settled.
  cluster.run(STEADY_MS / 3);
  const idle0 = networkBytes(cluster);
  cluster.run(STEADY_MS / 3);
  const membershipBytes = networkBytes(cluster) - idle0;

  // Everyone registers at once.
  const bytes0 = networkBytes(cluster);
  const catalogBytes0 = cluster.hosts.reduce((s, h) => s + h.engine.gossip.stats.bytesOut, 0);
  for (const h of cluster.hosts) {
    for (let i = 0; i < SERVICES_PER_NODE; i++) {
      const id = `svc-${i}-${h.name}`;
      cluster.register(h.name, simService(id, `svc-${i}`, 8000 + i), [simCheck(`check-${id}`, 'passing', id)]);
    }
  }
  const registeredMs = cluster.now;
  let steps = 0;
  const report = progress === undefined ? undefined : () => {
    if (++steps % 2 === 0) progress(progressOf(cluster, registeredMs));
  };
  const convergeMs = runUntil(cluster, () => fullCatalogEverywhere(cluster), 'full catalog', rss, report);
  const convergeBytes = networkBytes(cluster) - bytes0;
  const catalogBytes = cluster.hosts.reduce((s, h) => s + h.engine.gossip.stats.bytesOut, 0) - catalogBytes0;
  const full = cluster.node('node-0').catalog.instances('svc-0').length;
  if (full !== nodes) throw new Error(`node-0 lists ${full} svc-0 instances, want ${nodes}`);

  // Steady state: nothing changes; membership gossip and anti-entropy continue.
  const bytes1 = networkBytes(cluster);
  const catalogSteady0 = cluster.hosts.reduce((s, h) => s + h.engine.gossip.stats.bytesOut, 0);
  cluster.run(STEADY_MS);
  const steadyBytes = networkBytes(cluster) - bytes1;
  const catalogSteady = cluster.hosts.reduce((s, h) => s + h.engine.gossip.stats.bytesOut, 0) - catalogSteady0;

  // One check changes on one node.
  const subject = cluster.hosts[Math.floor(nodes / 2)]?.name ?? 'node-0';
  cluster.act(subject, (n, now) => n.updateCheck(now, `check-svc-0-${subject}`, 'critical', 'down'));
  const changeMs = runUntil(cluster, () => fullCatalogEverywhere(cluster), 'one change', rss);

  const malformed = cluster.hosts.reduce((s, h) => s + h.engine.gossip.stats.malformed, 0);
  return {
    nodes,
    formSeconds: formMs / 1000,
    convergeSeconds: convergeMs / 1000,
    convergeBytesPerNodePerSecond: convergeBytes / nodes / (convergeMs / 1000),
    convergeCatalogBytesPerNode: catalogBytes / nodes,
    steadyBytesPerNodePerSecond: steadyBytes / nodes / (STEADY_MS / 1000),
    steadyCatalogBytesPerNodePerSecond: catalogSteady / nodes / (STEADY_MS / 1000),
    membershipBytesPerNodePerSecond: membershipBytes / nodes / (STEADY_MS / 3000),
    changeSeconds: changeMs / 1000,
    malformed,
    wallSeconds: watch.cost().wallSeconds,
    peakRssMiB: rss.peakMiB,
  };
}

export const catalogExperiment: Experiment = {
  name: 'catalog',
  summary: `N nodes × ${SERVICES_PER_NODE} services: time to a full catalog at every node, bytes per node per second`,
  run(options: ExperimentOptions & { readonly nodes?: number; readonly progress?: (p: CatalogProgress) => void }): ExperimentReport {
    const nodes = options.nodes ?? (options.quick ? 100 : 1_000);
    const r = runCatalog(nodes, options.seed, options.progress);
    const text = [
      `catalog: ${nodes} nodes × ${SERVICES_PER_NODE} services (each with a check) registered at once (seed ${options.seed})`,
      table(
        ['figure', 'value'],
        [
          ['membership formed (virtual s)', fixed(r.formSeconds, 1)],
          ['full catalog at every node (virtual s)', fixed(r.convergeSeconds, 2)],
          ['bytes per node per second while converging (all traffic)', fixed(r.convergeBytesPerNodePerSecond, 0)],
          ['catalog bytes sent per node to converge', fixed(r.convergeCatalogBytesPerNode, 0)],
          ['membership alone, no services: bytes per node per second', fixed(r.membershipBytesPerNodePerSecond, 0)],
          ['steady state bytes per node per second (all traffic)', fixed(r.steadyBytesPerNodePerSecond, 0)],
          ['  of which catalog anti-entropy', fixed(r.steadyCatalogBytesPerNodePerSecond, 0)],
          ['one check change at every node (virtual s)', fixed(r.changeSeconds, 2)],
          ['malformed catalog messages', String(r.malformed)],
          ['wall seconds / peak RSS MiB', `${fixed(r.wallSeconds, 1)} / ${fixed(r.peakRssMiB, 0)}`],
        ],
      ),
    ].join('\n');
    return {
      json: { experiment: 'catalog', seed: options.seed, ...Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v])) },
      text,
    };
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false }, seed: { type: 'string', default: '1' }, json: { type: 'boolean', default: false }, nodes: { type: 'string' },
      progress: { type: 'boolean', default: false },
    },
  });
  const report = catalogExperiment.run({
    seed: Number(values.seed), quick: values.quick === true, ...(values.nodes === undefined ? {} : { nodes: Number(values.nodes) }),
    // Every virtual second while the catalog fills: complete nodes, missing pairs, catalog messages (stderr).
    ...(values.progress === true ? { progress: (p: CatalogProgress) => console.error(JSON.stringify(p)) } : {}),
  });
  console.log(values.json === true ? JSON.stringify(report.json) : report.text);
}
