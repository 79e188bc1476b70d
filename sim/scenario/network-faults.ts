// The network side of a scenario's faults: the partitions, one-way cuts, isolations and flaps
// active right now become one cut function on the simulated network; loss, duplication,
// reordering and latency become either the network's uniform settings or a per-link function.
// Both are rebuilt whenever a fault starts or ends (or a flap flips), and look hosts up by id in
// arrays, so a 50/50 split of 2,000 nodes costs no pair table.
import type { LatencyModel, LinkFaults, Network } from '../network.js';
import type { FaultSpec, LinkRule, NodeSet } from './types.js';

/** A fault currently in force (a flap counts only while its link is down). */
export interface ActiveNetworkFault {
  readonly spec: FaultSpec;
  /** For a flap: is the cut in force right now? */
  down: boolean;
}

type CutRule = (a: number, b: number) => boolean;

interface LinkPiece {
  readonly matches: (a: number, b: number) => boolean;
  readonly faults: LinkFaults;
}

export class NetworkFaults {
  /** Scenario node index of each host id (-1: not a scenario node). */
  private readonly nodeOfHost: number[] = [];
  private readonly masks = new WeakMap<NodeSet, Uint8Array>();

  constructor(
    private readonly network: Network,
    private readonly nodeCount: number,
    private readonly base: { readonly latency: LatencyModel; readonly links: ReadonlyArray<{ readonly rule: LinkRule; readonly latency: LatencyModel }> },
  ) {
    network.latency = base.latency;
  }

  registerHost(hostId: number, node: number): void {
    this.nodeOfHost[hostId] = node;
  }

  mask(set: NodeSet): Uint8Array {
    let m = this.masks.get(set);
    if (m === undefined) {
      m = new Uint8Array(this.nodeCount);
      for (const i of set) m[i] = 1;
      this.masks.set(set, m);
    }
    return m;
  }

  private groupsOf(groups: readonly NodeSet[]): Int16Array {
    const g = new Int16Array(this.nodeCount).fill(-1);
    groups.forEach((set, k) => {
      for (const i of set) g[i] = k;
    });
    return g;
  }

  private linkMatcher(rule: LinkRule): (a: number, b: number) => boolean {
    const from = this.mask(rule.from);
    const to = this.mask(rule.to);
    return rule.bothWays
      ? (a, b) => (from[a] === 1 && to[b] === 1) || (from[b] === 1 && to[a] === 1)
      : (a, b) => from[a] === 1 && to[b] === 1;
  }

  /** Makes the network carry out exactly the given active faults. */
  apply(active: readonly ActiveNetworkFault[]): void {
    const cuts: CutRule[] = [];
    const pieces: LinkPiece[] = this.base.links.map((l) => ({ matches: this.linkMatcher(l.rule), faults: { latency: l.latency } }));
    let keepLoss = 1;
    let keepDuplicate = 1;
    let keepReorder = 1;
    let reorderDelayMs = 0;
    let latency = this.base.latency;
    for (const f of active) {
      const spec = f.spec;
      switch (spec.kind) {
        case 'partition':
        case 'flap': {
          if (spec.kind === 'flap' && !f.down) break;
          const g = this.groupsOf(spec.groups);
          cuts.push((a, b) => {
            const ga = g[a] as number;
            const gb = g[b] as number;
            return ga >= 0 && gb >= 0 && ga !== gb;
          });
          break;
        }
        case 'one-way': {
          const from = this.mask(spec.from);
          const to = this.mask(spec.to);
          cuts.push((a, b) => from[a] === 1 && to[b] === 1);
          break;
        }
        case 'isolate': {
          const iso = this.mask(spec.nodes);
          cuts.push((a, b) => a !== b && (iso[a] === 1 || iso[b] === 1));
          break;
        }
        case 'loss':
        case 'duplicate':
        case 'reorder':
        case 'latency': {
          if (spec.link !== null) {
            const faults: LinkFaults = spec.kind === 'loss' ? { loss: spec.rate }
              : spec.kind === 'duplicate' ? { duplicate: spec.rate }
                : spec.kind === 'reorder' ? { reorder: spec.rate } : { latency: spec.latency };
            pieces.push({ matches: this.linkMatcher(spec.link), faults });
            if (spec.kind === 'reorder') reorderDelayMs = Math.max(reorderDelayMs, spec.delayMs);
          } else if (spec.kind === 'loss') keepLoss *= 1 - spec.rate;
          else if (spec.kind === 'duplicate') keepDuplicate *= 1 - spec.rate;
          else if (spec.kind === 'reorder') {
            keepReorder *= 1 - spec.rate;
            reorderDelayMs = Math.max(reorderDelayMs, spec.delayMs);
          } else latency = spec.latency;
          break;
        }
        case 'pause':
        case 'slow':
          break;
      }
    }
    const net = this.network;
    // Independent faults combine: a datagram survives two 10% losses with probability 0.9².
    net.loss = 1 - keepLoss;
    net.duplicate = 1 - keepDuplicate;
    net.reorder = 1 - keepReorder;
    net.reorderDelayMs = reorderDelayMs > 0 ? reorderDelayMs : 50;
    net.latency = latency;
    const nodeOf = this.nodeOfHost;
    net.cut = cuts.length === 0 ? null : (from, to) => {
      const a = nodeOf[from] ?? -1;
      const b = nodeOf[to] ?? -1;
      if (a < 0 || b < 0) return false;
      for (const cut of cuts) if (cut(a, b)) return true;
      return false;
    };
    net.linkFaults = pieces.length === 0 ? null : this.linkFunction(pieces, { loss: net.loss, duplicate: net.duplicate, reorder: net.reorder, latency });
  }

  /** Per-link faults: the matching pieces merged over the uniform settings, cached by which pieces match. */
  private linkFunction(pieces: readonly LinkPiece[], uniform: Required<LinkFaults>): (from: number, to: number) => LinkFaults | undefined {
    const cache = new Map<number, LinkFaults>();
    const nodeOf = this.nodeOfHost;
    return (from, to) => {
      const a = nodeOf[from] ?? -1;
      const b = nodeOf[to] ?? -1;
      if (a < 0 || b < 0) return undefined;
      let key = 0;
      for (let i = 0; i < pieces.length && i < 30; i++) if ((pieces[i] as LinkPiece).matches(a, b)) key |= 1 << i;
      if (key === 0) return undefined;
      let merged = cache.get(key);
      if (merged === undefined) {
        let keepLoss = 1 - uniform.loss;
        let keepDuplicate = 1 - uniform.duplicate;
        let keepReorder = 1 - uniform.reorder;
        let latency = uniform.latency;
        for (let i = 0; i < pieces.length && i < 30; i++) {
          if ((key & (1 << i)) === 0) continue;
          const f = (pieces[i] as LinkPiece).faults;
          if (f.loss !== undefined) keepLoss *= 1 - f.loss;
          if (f.duplicate !== undefined) keepDuplicate *= 1 - f.duplicate;
          if (f.reorder !== undefined) keepReorder *= 1 - f.reorder;
          if (f.latency !== undefined) latency = f.latency;
        }
        merged = { loss: 1 - keepLoss, duplicate: 1 - keepDuplicate, reorder: 1 - keepReorder, latency };
        cache.set(key, merged);
      }
      return merged;
    };
  }
}
