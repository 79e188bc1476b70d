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
import { World } from './world.js';

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

export class SimCluster {
  readonly world: World;
  readonly hosts: SimHost<Memberlist>[] = [];
  private readonly byName = new Map<string, SimHost<Memberlist>>();
  readonly events: MemberEvent[] = [];

  constructor(readonly options: ClusterOptions) {
    this.world = new World(options.seed);
    if (options.latency !== undefined) this.world.network.latency = options.latency;
  }

  get now(): number {
    return this.world.scheduler.now;
  }

  /** Adds a host and starts its memberlist at the current virtual time. */
  addNode(name = `node-${this.hosts.length}`): SimHost<Memberlist> {
    if (this.byName.has(name)) throw new Error(`a node named ${name} already exists`);
    const index = this.hosts.length;
    const address = simAddress(index);
    const host = new SimHost<Memberlist>(this.world, index, name, address, this.makeEngine(name, address));
    host.logLimit = this.options.logLines ?? 0;
    this.hosts.push(host);
    this.byName.set(name, host);
    this.world.register(host);
    host.engine.start(this.now);
    host.flush();
    return host;
  }

  private makeEngine(name: string, address: Address): Memberlist {
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

  host(name: string): SimHost<Memberlist> {
    const host = this.byName.get(name);
    if (host === undefined) throw new Error(`no node named ${name}`);
    return host;
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

  run(durationMs: number): void {
    this.world.scheduler.runFor(durationMs);
  }

  runUntil(done: () => boolean, limitMs: number): boolean {
    return this.world.scheduler.runUntilTrue(done, limitMs);
  }

  /** What `observer` believes about `subject` (undefined if it does not know it). */
  stateOf(observer: string, subject: string): StateName | undefined {
    const view = this.node(observer).node(subject);
    return view === undefined ? undefined : nodeStateNames[view.state];
  }

  /** Running hosts, the ones whose views count. */
  running(): SimHost<Memberlist>[] {
    return this.hosts.filter((h) => h.running);
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

  crash(name: string): void {
    const host = this.host(name);
    host.crash();
    host.engine.shutdown();
  }

  pause(name: string): void {
    this.host(name).pause();
  }

  resume(name: string): void {
    this.host(name).resume();
  }

  /** A fresh process with the same name and address; it joins through `seeds` if given. */
  restart(name: string, seeds: readonly string[] = []): void {
    const host = this.host(name);
    host.restart(this.makeEngine(name, host.address));
    host.engine.start(this.now);
    host.flush();
    if (seeds.length > 0) this.join(name, seeds);
  }

  /** Cuts every link between the two groups (one way: only a → b). */
  partition(a: readonly string[], b: readonly string[], oneWay = false): void {
    for (const x of a) for (const y of b) this.world.network.block(this.host(x).id, this.host(y).id, oneWay);
  }

  heal(): void {
    this.world.network.healPartitions();
  }

  setLoss(rate: number): void {
    this.world.network.loss = rate;
  }

  /** Events `observer` saw about `subject`, oldest first. */
  eventsAbout(subject: string, observer?: string): MemberEvent[] {
    return this.events.filter((e) => e.node === subject && (observer === undefined || e.observer === observer));
  }
}
