// Forming the clusters the experiments measure, and waiting for them to settle. Checks run
// between steps of virtual time, never after every event: a full convergence check is O(n²).
import { SeededRng } from '../../src/protocol/rng.js';
import { SimCluster, type ClusterOptions } from '../cluster.js';

export interface FormOptions extends ClusterOptions {
  readonly nodes: number;
  /** Virtual time between two joins (SimCluster.grow). */
  readonly staggerMs?: number;
  /** Give up if the cluster has not converged this long after the last join. */
  readonly convergeLimitMs?: number;
  /** Checked between steps of virtual time (cheap: sample RSS, …). */
  readonly onStep?: () => void;
}

const STEP_MS = 1_000;

/** n nodes that joined one after the other through node-0 and all see each other alive. */
export function formCluster(options: FormOptions): SimCluster {
  const cluster = new SimCluster(options);
  cluster.grow(options.nodes, options.staggerMs ?? 10);
  options.onStep?.();
  const limitMs = options.convergeLimitMs ?? 600_000;
  const start = cluster.now;
  while (!converged(cluster)) {
    if (cluster.now - start >= limitMs) {
      throw new Error(`${options.nodes} nodes (seed ${options.seed}) did not converge within ${limitMs / 1000} virtual seconds of the last join`);
    }
    cluster.run(STEP_MS);
    options.onStep?.();
  }
  return cluster;
}

/** SimCluster.converged, with an allocation-free pre-check that rules out most non-converged states. */
export function converged(cluster: SimCluster): boolean {
  const running = cluster.running();
  if (!running.every((h) => h.engine.numMembers() >= running.length)) return false;
  return cluster.converged();
}

/** Runs until no node has a broadcast queued: the cluster is quiet, a new broadcast has the network to itself. */
export function waitQuiet(cluster: SimCluster, limitMs = 600_000, onStep?: () => void): void {
  const start = cluster.now;
  while (cluster.running().some((h) => h.engine.broadcasts.size > 0)) {
    if (cluster.now - start >= limitMs) throw new Error(`broadcast queues still busy after ${limitMs / 1000} virtual seconds`);
    cluster.run(STEP_MS);
    onStep?.();
  }
}

/**
 * True when no running node has a raised Lifeguard health score. A failed probe raises the
 * prober's score even when the target is really dead: with LAN timings the relays' nacks (sent
 * one probe timeout after the indirect request, which itself left one probe timeout after the
 * ping) arrive just after the probe's deadline, as in memberlist, so each detection leaves its
 * detector at +3 for a few seconds. Faults injected only at rest meet the detector as theory does.
 */
export function atRest(cluster: SimCluster): boolean {
  return cluster.running().every((h) => h.engine.healthScore() === 0);
}

/** A generator for the experiment's own choices, apart from the cluster's (so choices do not shift the cluster's streams). */
export function experimentRng(seed: number, salt: number): SeededRng {
  return new SeededRng(seed, salt);
}

/** A uniformly random running node that every other running node sees alive (`exclude` aside), or null if there is none now. */
export function pickAliveEverywhere(cluster: SimCluster, rng: SeededRng, exclude: ReadonlySet<string> = new Set()): string | null {
  const candidates = cluster.running().filter((h) => !exclude.has(h.name));
  // Rejection sampling first (usually every candidate qualifies), then a scan: uniform either way.
  for (let attempt = 0; attempt < 20 && candidates.length > 0; attempt++) {
    const pick = candidates[rng.int(candidates.length)]?.name as string;
    if (cluster.allSee(pick, 'alive')) return pick;
  }
  const ok = candidates.filter((h) => cluster.allSee(h.name, 'alive'));
  return ok.length === 0 ? null : (ok[rng.int(ok.length)]?.name as string);
}

/** Runs in steps until some node is seen alive everywhere, and returns it. */
export function waitForAliveEverywhere(cluster: SimCluster, rng: SeededRng, limitMs = 120_000): string {
  const start = cluster.now;
  for (;;) {
    const pick = pickAliveEverywhere(cluster, rng);
    if (pick !== null) return pick;
    if (cluster.now - start >= limitMs) throw new Error(`no node was seen alive by every other node for ${limitMs / 1000} virtual seconds`);
    cluster.run(STEP_MS);
  }
}

/** A random running node other than `not`, to rejoin through. */
export function pickOther(cluster: SimCluster, rng: SeededRng, not: string): string {
  const others = cluster.running().filter((h) => h.name !== not);
  if (others.length === 0) throw new Error('no other running node to join through');
  return others[rng.int(others.length)]?.name as string;
}

/**
 * Restarts `name` (same address, fresh process) and joins it through a random running node,
 * trying another one if that one did not answer (it may have crashed meanwhile).
 */
export function restartAndRejoin(cluster: SimCluster, rng: SeededRng, name: string): void {
  cluster.restart(name);
  const attempt = (): void => {
    if (!cluster.host(name).running) return;
    cluster.join(name, [pickOther(cluster, rng, name)], (numSuccess) => {
      if (numSuccess === 0) cluster.world.scheduler.after(0, attempt);
    });
  };
  attempt();
}
