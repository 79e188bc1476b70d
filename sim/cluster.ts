// A small cluster of simulated memberlist nodes for protocol stories, experiments and, later,
// scenarios. Node i lives at 127.0.x.y:7946; every member event any node reports is recorded
// with its virtual time, so a story can ask who saw what, and when.
import type { Address } from '../src/protocol/address.js';
import { makeConfig, type ConfigInput, type MemberlistConfig, type ProfileName } from '../src/protocol/config.js';
import type { Delegates } from '../src/protocol/delegates.js';
import { Memberlist } from '../src/protocol/memberlist.js';
import { nodeStateNames, type NodeView } from '../src/protocol/node-state.js';
import { SimHost } from './host.js';
import type { LatencyModel } from './network.js';
import { SimClusterBase } from './cluster-base.js';

export type MemberEventKind = 'join' | 'leave' | 'update';
export type StateName = (typeof nodeStateNames)[number];

export interface MemberEvent {
  readonly atMs: number;
  readonly observer: string;
  readonly kind: MemberEventKind;
  readonly node: string;
  /** The state the observer holds after the event (leave: dead or left). */
  readonly state: StateName;
  readonly incarnation: number;
}

export interface ClusterOptions {
  readonly seed: number;
  readonly profile?: ProfileName;
  /** Overrides for every node's memberlist config. */
  readonly config?: Partial<Omit<ConfigInput, 'name' | 'advertise' | 'profile'>>;
  readonly latency?: LatencyModel;
  /** Extra delegates per node (the Serf layer, probes of a story). */
  readonly delegates?: (name: string) => Delegates;
  /** Keep this many log lines per host (0: none). */
  readonly logLines?: number;
}

export const SIM_PORT = 7946;

export function simAddress(index: number): Address {
  return { ip: Uint8Array.of(127, 0, (index >> 8) & 0xff, (index & 0xff) + 1), port: SIM_PORT };
}

export class SimCluster extends SimClusterBase<Memberlist> {
  readonly events: MemberEvent[] = [];

  constructor(readonly options: ClusterOptions) {
    super(options.seed, options.latency);
  }

  /** Adds a host and starts its memberlist at the current virtual time. */
  addNode(name = `node-${this.hosts.length}`): SimHost<Memberlist> {
    if (this.byName.has(name)) throw new Error(`a node named ${name} already exists`);
    return this.addHost(name, simAddress(this.hosts.length), this.options.logLines);
  }

  protected makeEngine(name: string, address: Address): Memberlist {
    const config: MemberlistConfig = makeConfig({ ...this.options.config, name, advertise: address, profile: this.options.profile ?? 'lan' });
    const extra = this.options.delegates?.(name) ?? {};
    const record = (kind: MemberEventKind) => (nowMs: number, node: NodeView): void => {
      this.events.push({ atMs: nowMs, observer: name, kind, node: node.name, state: nodeStateNames[node.state], incarnation: node.incarnation });
    };
    const delegates: Delegates = {
      ...extra,
      notifyJoin: (now, node) => {
        record('join')(now, node);
        extra.notifyJoin?.(now, node);
      },
      notifyLeave: (now, node) => {
        record('leave')(now, node);
        extra.notifyLeave?.(now, node);
      },
      notifyUpdate: (now, node) => {
        record('update')(now, node);
        extra.notifyUpdate?.(now, node);
      },
    };
    return new Memberlist(config, delegates, { rng: this.world.rng.fork() });
  }

  node(name: string): Memberlist {
    return this.host(name).engine;
  }

  /** `name` joins through the named seeds (a push/pull with each). */
  join(name: string, seeds: readonly string[], done?: (numSuccess: number, errors: string[]) => void): void {
    const host = this.host(name);
    host.engine.join(this.now, seeds.map((s) => this.host(s).address), done);
    host.flush();
  }

  /** Adds `n` nodes; each after the first joins through the first, `staggerMs` apart. */
  grow(n: number, staggerMs = 10): SimHost<Memberlist>[] {
    const added: SimHost<Memberlist>[] = [];
    const first = this.hosts.length === 0 ? this.addNode() : (this.hosts[0] as SimHost<Memberlist>);
    if (this.hosts.length === 1 && added.length === 0) added.push(first);
    while (added.length < n) {
      const host = this.addNode();
      added.push(host);
      this.join(host.name, [first.name]);
      this.run(staggerMs);
    }
    return added;
  }

  /**
   * Adds `n` nodes that start as a formed cluster: each already knows every other as alive
   * (Memberlist.preloadMembers), so a run can study a large cluster without replaying the
   * broadcast storm of its formation.
   */
  formConverged(n: number): SimHost<Memberlist>[] {
    const added: SimHost<Memberlist>[] = [];
    for (let i = 0; i < n; i++) added.push(this.addNode());
    const states = this.hosts.map((h) => {
      const self = h.engine.localNode();
      return { Name: self.name, Addr: self.addr, Port: self.port, Meta: self.meta, Incarnation: self.incarnation, State: 0, Vsn: Uint8Array.from(self.vsn) };
    });
    for (const h of this.hosts) {
      h.engine.preloadMembers(this.now, states);
      h.flush();
    }
    return added;
  }

  /** What `observer` believes about `subject` (undefined if it does not know it). */
  stateOf(observer: string, subject: string): StateName | undefined {
    const view = this.node(observer).node(subject);
    return view === undefined ? undefined : nodeStateNames[view.state];
  }

  /** True if every running host (or every one in `among`) holds `subject` in `state`. */
  allSee(subject: string, state: StateName, among: readonly string[] = this.running().map((h) => h.name)): boolean {
    return among.every((observer) => observer === subject || this.stateOf(observer, subject) === state);
  }

  /** True if every running host sees every running host alive. */
  converged(): boolean {
    const names = this.running().map((h) => h.name);
    return names.every((observer) => names.every((subject) => this.stateOf(observer, subject) === 'alive'));
  }

  /** Events `observer` saw about `subject`, oldest first. */
  eventsAbout(subject: string, observer?: string): MemberEvent[] {
    return this.events.filter((e) => e.node === subject && (observer === undefined || e.observer === observer));
  }
}
