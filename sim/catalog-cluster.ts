// A cluster of simulated shoal nodes (Serf + the gossiped catalog) for catalog stories and the
// catalog experiment, with a checker: every running node's catalog matches the truth (each
// running node's own registrations; services of failed nodes critical, of left nodes gone).
import type { Address } from '../src/protocol/address.js';
import type { ProfileName, ConfigInput } from '../src/protocol/config.js';
import type { SerfConfigInput } from '../src/cluster/config.js';
import { ShoalNode } from '../src/catalog/node.js';
import type { GossipConfig } from '../src/catalog/gossip.js';
import type { Check, NodeCatalog, Service } from '../src/catalog/types.js';
import { SimHost } from './host.js';
import type { LatencyModel } from './network.js';
import { SimClusterBase } from './cluster-base.js';
import { simAddress } from './cluster.js';

export interface CatalogClusterOptions {
  readonly seed: number;
  readonly profile?: ProfileName;
  readonly memberlist?: Partial<Omit<ConfigInput, 'name' | 'advertise' | 'profile'>>;
  readonly serf?: Partial<Omit<SerfConfigInput, 'nodeName' | 'memberlist'>>;
  readonly gossip?: Partial<GossipConfig>;
  readonly latency?: LatencyModel;
  readonly logLines?: number;
}

export class CatalogCluster extends SimClusterBase<ShoalNode> {
  /**
   * One copy of each (node, version) entry for the whole simulated cluster: every node decodes
   * its own copy, which at 1,000 nodes × 1,000 entries would be gigabytes. Entries are immutable.
   */
  private readonly interned = new Map<string, NodeCatalog>();

  constructor(readonly options: CatalogClusterOptions) {
    super(options.seed, options.latency);
  }

  addNode(name = `node-${this.hosts.length}`): SimHost<ShoalNode> {
    if (this.byName.has(name)) throw new Error(`a node named ${name} already exists`);
    return this.addHost(name, simAddress(this.hosts.length), this.options.logLines);
  }

  protected makeEngine(name: string, address: Address): ShoalNode {
    const o = this.options;
    return new ShoalNode(
      { ...o.serf, nodeName: name, memberlist: { profile: o.profile ?? 'lan', ...o.memberlist, advertise: address } },
      { rng: this.world.rng.fork() },
      // Virtual microseconds: a restarted node starts above its previous run, as with the wall clock.
      { versionBase: Math.floor(this.now * 1000), intern: (s) => this.intern(s), ...(o.gossip === undefined ? {} : { gossip: o.gossip }) },
    );
  }

  private intern(state: NodeCatalog): NodeCatalog {
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

  private readonly latest = new Map<string, string>();

  node(name: string): ShoalNode {
    return this.host(name).engine;
  }

  join(name: string, seeds: readonly string[]): void {
    this.act(name, (n, now) => n.serf.join(now, seeds.map((s) => this.host(s).address), false));
  }

  /** Adds `n` nodes, each joining through the first, `staggerMs` apart. */
  grow(n: number, staggerMs = 10): void {
    const first = this.hosts[0] ?? this.addNode();
    while (this.hosts.length < n) {
      const host = this.addNode();
      this.join(host.name, [first.name]);
      this.run(staggerMs);
    }
  }

  register(name: string, service: Service, checks: readonly Check[] = []): void {
    this.act(name, (n, now) => n.registerService(now, service, checks));
  }

  override running(): SimHost<ShoalNode>[] {
    return this.hosts.filter((h) => h.running && h.engine.serf.currentState !== 'shutdown');
  }

  /**
   * Nodes whose catalog differs from the truth, with the first difference: every running node
   * must list every running node's services, with its checks as the owner holds them.
   */
  catalogMismatches(limit = 10): string[] {
    const live = this.running();
    const out: string[] = [];
    for (const observer of live) {
      const cat = observer.engine.catalog;
      for (const subject of live) {
        const truth = subject.engine.local;
        const seen = cat.servicesOf(subject.name);
        const want = truth.allServices();
        if (seen.length !== want.length || !want.every((s) => seen.some((x) => x.ID === s.ID && x.Port === s.Port))) {
          out.push(`${observer.name} sees ${seen.length} services of ${subject.name}, want ${want.length}`);
        } else {
          const checks = cat.checksOf(subject.name).filter((c) => c.CheckID !== 'serfHealth');
          const bad = truth.allChecks().find((c) => !checks.some((x) => x.CheckID === c.CheckID && x.Status === c.Status));
          if (bad !== undefined) out.push(`${observer.name} has check ${bad.CheckID} of ${subject.name} not ${bad.Status}`);
        }
        if (out.length >= limit) return out;
      }
    }
    return out;
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
