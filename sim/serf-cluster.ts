// A cluster of simulated Serf agents (the Serf layer over the membership core) for the Serf
// stories and, later, scenarios. Node i lives at 127.0.x.y:7946, as in SimCluster; every Serf
// event any node emits is recorded with its virtual time.
import type { Address } from '../src/protocol/address.js';
import type { ProfileName } from '../src/protocol/config.js';
import type { ConfigInput } from '../src/protocol/config.js';
import { Serf, type SerfEnv, type SerfEvent } from '../src/cluster/serf.js';
import type { SerfConfigInput } from '../src/cluster/config.js';
import { statusName, type MemberStatusName } from '../src/cluster/member.js';
import { SimHost } from './host.js';
import type { LatencyModel } from './network.js';
import { SimClusterBase, type ClusterEngine } from './cluster-base.js';
import { simAddress } from './cluster.js';
import type { MemberStateObserver } from '../src/protocol/memberlist.js';
import { replaySnapshot, Snapshotter, type SnapshotWrite } from '../src/cluster/snapshot.js';

export interface RecordedSerfEvent {
  readonly atMs: number;
  readonly observer: string;
  readonly event: SerfEvent;
}

export interface SerfClusterOptions {
  readonly seed: number;
  readonly profile?: ProfileName;
  readonly memberlist?: Partial<Omit<ConfigInput, 'name' | 'advertise' | 'profile'>>;
  readonly serf?: Partial<Omit<SerfConfigInput, 'nodeName' | 'memberlist'>>;
  /** Per-node Serf settings (tags, keyring through memberlist options …); the address stays the simulator's. */
  readonly perNode?: (name: string) => Partial<Omit<SerfConfigInput, 'nodeName' | 'memberlist'>> & {
    readonly memberlist?: Partial<Omit<ConfigInput, 'name' | 'advertise'>>;
  };
  readonly latency?: LatencyModel;
  readonly logLines?: number;
  /** Give every agent a snapshot file (kept in memory; lines not yet flushed are lost in a crash). */
  readonly snapshots?: boolean;
  /** Keep every event in `events` (default true; big scenario runs record through onEvent instead). */
  readonly recordEvents?: boolean;
  /** A watcher of the named agent's membership view (MemberlistEnv.onMemberState), per process. */
  readonly onMemberState?: (name: string) => MemberStateObserver;
}

/** A simulated snapshot file: what reached the disk, and lines still buffered in the process. */
interface SnapshotFile {
  text: string;
  buffered: string[];
}

/**
 * What the Serf clusters share, whatever engine a host runs: a bare Serf agent (SerfCluster) or a
 * shoal node, Serf plus the gossiped catalog (CatalogCluster in catalog-cluster.ts). `serfOf`
 * reaches the Serf layer inside the engine.
 */
export abstract class SerfClusterOf<E extends ClusterEngine> extends SimClusterBase<E> {
  readonly events: RecordedSerfEvent[] = [];
  /** Sees every event as it is recorded, while the emitting agent runs (a story answers queries here). */
  onEvent?: (recorded: RecordedSerfEvent) => void;

  constructor(readonly options: SerfClusterOptions) {
    super(options.seed, options.latency);
  }

  /**
   * Adds a Serf agent; `index` picks its address (default: the next free one). Naming an address
   * lets a second agent claim a name already taken (the name-conflict story); `host(name)` keeps
   * answering with the first.
   */
  /** The Serf layer of an engine. */
  abstract serfOf(engine: E): Serf;

  /** A fresh engine from the Serf settings and environment this cluster computed. */
  protected abstract buildEngine(input: SerfConfigInput, env: SerfEnv): E;

  addNode(name = `node-${this.hosts.length}`, index?: number): SimHost<E> {
    if (this.byName.has(name) && index === undefined) throw new Error(`a node named ${name} already exists`);
    return this.addHost(name, simAddress(index ?? this.hosts.length), this.options.logLines);
  }

  /** Snapshot files by node name (only with the `snapshots` option). */
  readonly snapshotFiles = new Map<string, SnapshotFile>();

  private snapshotFor(name: string): Pick<ConstructorParameters<typeof Serf>[1], 'snapshot' | 'restored'> {
    if (this.options.snapshots !== true) return {};
    let file = this.snapshotFiles.get(name);
    if (file === undefined) {
      file = { text: '', buffered: [] };
      this.snapshotFiles.set(name, file);
    }
    file.buffered = [];
    const restored = file.text === '' ? undefined : replaySnapshot(file.text, false);
    const snapshotter = new Snapshotter({ rejoinAfterLeave: false }, restored);
    const f = file;
    const write = (w: SnapshotWrite): void => {
      if (w.compact !== undefined) {
        f.text = w.compact;
        f.buffered = [];
      }
      f.buffered.push(...w.append);
      if (w.flush || w.sync) {
        f.text += f.buffered.join('');
        f.buffered = [];
      }
    };
    return restored === undefined ? { snapshot: { snapshotter, write } } : { snapshot: { snapshotter, write }, restored };
  }

  protected makeEngine(name: string, address: Address): E {
    const o = this.options;
    const perNode = o.perNode?.(name) ?? {};
    const { memberlist: perNodeMemberlist, ...perNodeSerf } = perNode;
    return this.buildEngine(
      {
        ...o.serf,
        ...perNodeSerf,
        nodeName: name,
        memberlist: { profile: o.profile ?? 'lan', ...o.memberlist, ...perNodeMemberlist, advertise: address },
      },
      {
        rng: this.world.rng.fork(),
        ...this.snapshotFor(name),
        ...(o.onMemberState === undefined ? {} : { onMemberState: o.onMemberState(name) }),
        onEvent: (event) => {
          const recorded = { atMs: this.now, observer: name, event };
          if (o.recordEvents !== false) this.events.push(recorded);
          this.onEvent?.(recorded);
        },
      },
    );
  }

  serf(name: string): Serf {
    return this.serfOf(this.host(name).engine);
  }

  /** Drives `name`'s Serf layer and carries out what it asked for. */
  actSerf<T>(name: string, run: (serf: Serf, nowMs: number) => T): T {
    return this.act(name, (engine, now) => run(this.serfOf(engine), now));
  }

  join(name: string, seeds: readonly string[], ignoreOld = false, done?: (numSuccess: number, errors: string[]) => void): void {
    this.actSerf(name, (serf, now) => serf.join(now, seeds.map((s) => this.host(s).address), ignoreOld, done));
  }

  /** Adds `n` agents, each joining through the first, `staggerMs` apart. */
  grow(n: number, staggerMs = 10): void {
    const first = this.hosts[0] ?? this.addNode();
    while (this.hosts.length < n) {
      const host = this.addNode();
      this.join(host.name, [first.name]);
      this.run(staggerMs);
    }
  }

  /**
   * Adds agents that start as a formed cluster: each already knows every other as alive
   * (Memberlist.preloadMembers, as SimCluster.formConverged), so a run can begin from a big
   * formed cluster without replaying the broadcast storm of its formation.
   */
  formConverged(names: readonly string[]): SimHost<E>[] {
    const added = names.map((name) => this.addNode(name));
    const states = added.map((h) => {
      const self = this.serfOf(h.engine).memberlist.localNode();
      return { Name: self.name, Addr: self.addr, Port: self.port, Meta: self.meta, Incarnation: self.incarnation, State: 0, Vsn: Uint8Array.from(self.vsn) };
    });
    for (const h of added) {
      this.serfOf(h.engine).memberlist.preloadMembers(this.now, states);
      h.flush();
    }
    return added;
  }

  override running(): SimHost<E>[] {
    return this.hosts.filter((h) => h.running && this.serfOf(h.engine).currentState !== 'shutdown');
  }

  /** `observer`'s view of `subject`'s status (undefined: not a member there). */
  statusOf(observer: string, subject: string): MemberStatusName | undefined {
    const m = this.serf(observer).member(subject);
    return m === undefined ? undefined : statusName(m.status);
  }

  allSee(subject: string, status: MemberStatusName, among: readonly string[] = this.running().map((h) => h.name)): boolean {
    return among.every((o) => o === subject || this.statusOf(o, subject) === status);
  }

  /** Every running agent lists every running agent alive. */
  converged(): boolean {
    const names = this.running().map((h) => h.name);
    return names.every((o) => names.every((s) => this.statusOf(o, s) === 'alive'));
  }

  /** Events `observer` saw, oldest first, optionally of one type. */
  eventsAt(observer: string, type?: SerfEvent['type']): SerfEvent[] {
    return this.events.filter((e) => e.observer === observer && (type === undefined || e.event.type === type)).map((e) => e.event);
  }
}

/** A cluster of bare Serf agents. */
export class SerfCluster extends SerfClusterOf<Serf> {
  serfOf(engine: Serf): Serf {
    return engine;
  }

  protected buildEngine(input: SerfConfigInput, env: SerfEnv): Serf {
    return new Serf(input, env);
  }
}
