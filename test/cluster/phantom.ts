// A port of Serf's coordinate/phantom.go: latency "truth" matrices, a simulation in which every
// client pings a random peer each cycle, and an evaluation of the estimates against the truth.
// Differences from Go: truth is in milliseconds, randomness comes from an injected Rng (Go uses
// its global math/rand seeded with 1, so the exact figures differ), and evaluate also gives the
// median relative error. generateClusters is ours (Serf 0.9.4's phantom.go has no such generator).
import { VivaldiClient } from '../../src/cluster/vivaldi.js';
import type { CoordinateConfig } from '../../src/cluster/coordinate.js';
import type { Rng } from '../../src/protocol/rng.js';

/** truth[i][j]: the true RTT between nodes i and j, in milliseconds (symmetric, zero diagonal). */
export type Truth = number[][];

function emptyTruth(nodes: number): Truth {
  return Array.from({ length: nodes }, () => new Array<number>(nodes).fill(0));
}

function fill(nodes: number, rtt: (i: number, j: number) => number): Truth {
  const truth = emptyTruth(nodes);
  for (let i = 0; i < nodes; i++) {
    for (let j = i + 1; j < nodes; j++) {
      const v = rtt(i, j);
      (truth[i] as number[])[j] = v;
      (truth[j] as number[])[i] = v;
    }
  }
  return truth;
}

export function generateClients(nodes: number, rng: Rng, config?: CoordinateConfig): VivaldiClient[] {
  return Array.from({ length: nodes }, () => new VivaldiClient(rng, config));
}

/** Nodes on a line, `spacingMs` apart. */
export function generateLine(nodes: number, spacingMs: number): Truth {
  return fill(nodes, (i, j) => (j - i) * spacingMs);
}

/** Nodes on a square grid (side ⌊√nodes⌋), `spacingMs` apart. */
export function generateGrid(nodes: number, spacingMs: number): Truth {
  const n = Math.floor(Math.sqrt(nodes));
  return fill(nodes, (i, j) => {
    const dx = (j % n) - (i % n);
    const dy = Math.floor(j / n) - Math.floor(i / n);
    // Math.sqrt, as Go's GenerateGrid (Math.hypot may round differently).
    return Math.sqrt(dx * dx + dy * dy) * spacingMs;
  });
}

/** Two sites: every pair is `lanMs` apart, plus `wanMs` across the split (Go's off-by-one split kept). */
export function generateSplit(nodes: number, lanMs: number, wanMs: number): Truth {
  const split = Math.floor(nodes / 2);
  return fill(nodes, (i, j) => lanMs + ((i <= split && j > split) || (i > split && j <= split) ? wanMs : 0));
}

/** Nodes evenly around a circle of `radiusMs`; node 0 is 2 × radius from all of them (it should grow a height). */
export function generateCircle(nodes: number, radiusMs: number): Truth {
  return fill(nodes, (i, j) => {
    if (i === 0) return 2 * radiusMs;
    const t1 = (2 * Math.PI * i) / nodes;
    const t2 = (2 * Math.PI * j) / nodes;
    return Math.hypot(Math.cos(t2) - Math.cos(t1), Math.sin(t2) - Math.sin(t1)) * radiusMs;
  });
}

/** Normally distributed RTTs (Box–Muller here; Go uses its ziggurat NormFloat64). */
export function generateRandom(nodes: number, meanMs: number, deviationMs: number, rng: Rng): Truth {
  return fill(nodes, () => {
    const u = 1 - rng.next();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
    return normal * deviationMs + meanMs;
  });
}

/**
 * Sites (data centres) on a plane, `sites` of them on a circle of radius `wanRadiusMs`; each site
 * has `perSite` nodes scattered within `lanSpreadMs` of its centre, and every node has an access
 * link of 0.05–0.3 ms. RTT = distance + both access links, the shape Vivaldi with height models.
 */
export function generateClusters(sites: number, perSite: number, wanRadiusMs: number, lanSpreadMs: number, rng: Rng): Truth {
  const nodes: { x: number; y: number; access: number }[] = [];
  for (let s = 0; s < sites; s++) {
    const angle = (2 * Math.PI * s) / sites;
    for (let k = 0; k < perSite; k++) {
      nodes.push({
        x: wanRadiusMs * Math.cos(angle) + (rng.next() - 0.5) * 2 * lanSpreadMs,
        y: wanRadiusMs * Math.sin(angle) + (rng.next() - 0.5) * 2 * lanSpreadMs,
        access: 0.05 + 0.25 * rng.next(),
      });
    }
  }
  return fill(nodes.length, (i, j) => {
    const a = nodes[i] as { x: number; y: number; access: number };
    const b = nodes[j] as { x: number; y: number; access: number };
    return Math.hypot(a.x - b.x, a.y - b.y) + a.access + b.access;
  });
}

/**
 * Serf's Simulate: each cycle, every client picks a random node (itself means skip) and observes
 * the true RTT to it. `observe` may distort the measurement (jitter, spikes).
 */
export function simulate(
  clients: VivaldiClient[],
  truth: Truth,
  cycles: number,
  rng: Rng,
  observe: (trueMs: number) => number = (ms) => ms,
): void {
  const nodes = clients.length;
  for (let cycle = 0; cycle < cycles; cycle++) {
    clients.forEach((client, i) => {
      const j = rng.int(nodes);
      if (j === i) return;
      const other = (clients[j] as VivaldiClient).getCoordinate();
      const r = client.update(`node_${j}`, other, observe((truth[i] as number[])[j] as number));
      if (!r.ok) throw r.error;
    });
  }
}

export interface Evaluation {
  errorAvg: number;
  errorMedian: number;
  errorMax: number;
}

/** Relative error |estimate − truth| / truth over every pair. */
export function evaluate(clients: VivaldiClient[], truth: Truth): Evaluation {
  const errors: number[] = [];
  for (let i = 0; i < clients.length; i++) {
    for (let j = i + 1; j < clients.length; j++) {
      const est = (clients[i] as VivaldiClient).distanceToMs((clients[j] as VivaldiClient).getCoordinate());
      const actual = (truth[i] as number[])[j] as number;
      errors.push(Math.abs(est - actual) / actual);
    }
  }
  // Summed in pair order, as Go's Evaluate, before sorting for the median.
  const errorAvg = errors.reduce((s, e) => s + e, 0) / errors.length;
  errors.sort((a, b) => a - b);
  return {
    errorAvg,
    errorMedian: errors[errors.length >> 1] as number,
    errorMax: errors[errors.length - 1] as number,
  };
}
