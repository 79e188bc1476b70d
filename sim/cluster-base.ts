// What every simulated cluster shares, whatever engine its hosts run: the world, hosts by name,
// the virtual clock, process faults (crash, pause, restart) and network faults (partitions, loss).
import { addressToString, type Address } from '../src/protocol/address.js';
import type { ProtocolEngine } from '../src/protocol/engine.js';
import { SimHost } from './host.js';
import type { LatencyModel } from './network.js';
import { World } from './world.js';

/** An engine a cluster can start and stop (Memberlist, Serf). */
export interface ClusterEngine extends ProtocolEngine {
  start(nowMs: number): void;
  shutdown(): void;
}

export abstract class SimClusterBase<E extends ClusterEngine> {
  readonly world: World;
  readonly hosts: SimHost<E>[] = [];
  protected readonly byName = new Map<string, SimHost<E>>();

  constructor(seed: number, latency: LatencyModel | undefined) {
    this.world = new World(seed);
    if (latency !== undefined) this.world.network.latency = latency;
  }

  /** A fresh engine for the named host at its address. */
  protected abstract makeEngine(name: string, address: Address): E;

  /** `name` joins through the named seeds. */
  abstract join(name: string, seeds: readonly string[]): void;

  get now(): number {
    return this.world.scheduler.now;
  }

  host(name: string): SimHost<E> {
    const host = this.byName.get(name);
    if (host === undefined) throw new Error(`no node named ${name}`);
    return host;
  }

  run(durationMs: number): void {
    this.world.scheduler.runFor(durationMs);
  }

  runUntil(done: () => boolean, limitMs: number): boolean {
    return this.world.scheduler.runUntilTrue(done, limitMs);
  }

  /** Hosts whose views count. */
  running(): SimHost<E>[] {
    return this.hosts.filter((h) => h.running);
  }

  /** Drives `name`'s engine and carries out what it asked for. */
  act<T>(name: string, run: (engine: E, nowMs: number) => T): T {
    const host = this.host(name);
    const out = run(host.engine, this.now);
    host.flush();
    return out;
  }

  /**
   * Adds a host at `address` running a fresh engine, started at the current virtual time. A name
   * already taken keeps answering `host(name)` with the first host (the name-conflict story).
   */
  protected addHost(name: string, address: Address, logLines: number | undefined): SimHost<E> {
    if (this.world.hostAt(address) !== undefined) throw new Error(`address ${addressToString(address)} is taken`);
    const host = new SimHost<E>(this.world, this.hosts.length, name, address, this.makeEngine(name, address));
    host.logLimit = logLines ?? 0;
    this.hosts.push(host);
    if (!this.byName.has(name)) this.byName.set(name, host);
    this.world.register(host);
    host.engine.start(this.now);
    host.flush();
    return host;
  }

  /** The process dies without a word. */
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
}
