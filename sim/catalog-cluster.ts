// A cluster of simulated shoal nodes (Serf + the gossiped catalog) for catalog stories and the
// catalog experiment, with a checker: every running node's catalog matches the truth (each
// running node's own registrations; services of failed nodes critical, of left nodes gone).
import { ShoalNode } from '../src/catalog/node.js';
import type { GossipConfig } from '../src/catalog/gossip.js';
import type { Check, NodeCatalog, Service } from '../src/catalog/types.js';
import type { Serf, SerfEnv } from '../src/cluster/serf.js';
import type { SerfConfigInput } from '../src/cluster/config.js';
import { SerfClusterOf, type SerfClusterOptions } from './serf-cluster.js';
import { catalogMismatches } from './catalog-truth.js';

export interface CatalogClusterOptions extends SerfClusterOptions {
  readonly gossip?: Partial<GossipConfig>;
}

/**
 * One copy of each (node, version) entry for a whole simulated cluster: every node decodes its
 * own copy, which at 1,000 nodes × 1,000 entries would be gigabytes. Entries are immutable.
 */
export class EntryInterner {
  private readonly interned = new Map<string, NodeCatalog>();
  private readonly latest = new Map<string, string>();

  intern(state: NodeCatalog): NodeCatalog {
    const key = `${state.node}\u0000${state.version}`;
    const held = this.interned.get(key);
    if (held !== undefined) return held;
    // Older versions of the node are no longer needed by anyone newer; keep the map bounded by
    // dropping the node's previous entry (a straggler holding it keeps its own reference).
    const last = this.latest.get(state.node);
    if (last !== undefined) {
      const lastVersion = this.interned.get(last)?.version ?? -1;
      if (lastVersion > state.version) return state;
      this.interned.delete(last);
    }
    this.latest.set(state.node, key);
    this.interned.set(key, state);
    return state;
  }
}

export class CatalogCluster extends SerfClusterOf<ShoalNode> {
  private readonly interner = new EntryInterner();
  private readonly gossipConfig: Partial<GossipConfig> | undefined;

  constructor(options: CatalogClusterOptions) {
    super(options);
    this.gossipConfig = options.gossip;
  }

  serfOf(engine: ShoalNode): Serf {
    return engine.serf;
  }

  protected buildEngine(input: SerfConfigInput, env: SerfEnv): ShoalNode {
    const gossip = this.gossipConfig;
    // Virtual microseconds: a restarted node starts above its previous run, as with the wall clock.
    return new ShoalNode(input, env, { versionBase: Math.floor(this.now * 1000), intern: (s) => this.interner.intern(s), ...(gossip === undefined ? {} : { gossip }) });
  }

  node(name: string): ShoalNode {
    return this.host(name).engine;
  }

  register(name: string, service: Service, checks: readonly Check[] = []): void {
    this.act(name, (n, now) => n.registerService(now, service, checks));
  }

  /**
   * Nodes whose catalog differs from the truth, with the first differences: every running node
   * must list every running node's services, with its checks as the owner holds them
   * (catalog-truth.ts; crashed and departed nodes are the scenario checker's business).
   */
  catalogMismatches(limit = 10): string[] {
    const live = this.running().map((h) => ({ name: h.name, engine: h.engine }));
    return catalogMismatches(live, live.map((o) => ({ ...o, state: 'live' as const })), limit).mismatches;
  }

  catalogConverged(): boolean {
    return this.catalogMismatches(1).length === 0;
  }
}

/** A plain service for stories and experiments. */
export function simService(id: string, name: string, port: number, tags: readonly string[] = []): Service {
  return { ID: id, Service: name, Tags: tags, Address: '', Port: port, Meta: {} };
}

export function simCheck(id: string, status: Check['Status'] = 'passing', serviceId = ''): Check {
  return { CheckID: id, Name: id, Status: status, Notes: '', Output: '', ServiceID: serviceId, ServiceName: '', Type: 'ttl' };
}
