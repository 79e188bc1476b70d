// A fault between "running" and SimHost.pause: the process's receive path stalls while its
// clock keeps running — the slow message processing Lifeguard's evaluation injects (Dadgar et
// al., "Lifeguard: SWIM-ing with situational awareness", §V: synthetic benchmarks that vary
// message processing delays). Its timers fire on time and it keeps sending, so its probes time
// out on acks that did arrive, and it accuses the peers it probes: the accuser that Lifeguard's
// local health is meant to silence. While a node's receive path is stalled:
//  - datagrams it receives wait (a socket buffer, at most RECEIVE_QUEUE_LIMIT of them) and are
//    handled, in arrival order, when the stall ends;
//  - the outcome of a stream it opened waits too; if the stream's deadline passes first, the
//    node sees an i/o timeout at the deadline (a Go read with a deadline fails on time even when
//    the reply sits unread in the kernel's buffer);
//  - streams others open to it get no answer (it accepts them but reads nothing in time).
//
// Combined with SimHost.pause (stall the receive path, pause, resume, then release) it also
// models a SIGSTOP after which the overdue timers run before the socket buffer is read, as Go's
// runtime tends to do on SIGCONT (timers are checked before the network poller).
//
// The stall wraps the engine's input methods on the instance; a restart (a new engine) ends it.
import type { Address } from '../src/protocol/address.js';
import type { Effect } from '../src/protocol/effects.js';
import type { StreamResult } from '../src/protocol/memberlist.js';
import type { ClusterEngine, SimClusterBase } from './cluster-base.js';
import type { SimHost } from './host.js';

export const RECEIVE_QUEUE_LIMIT = 4096;

type Held =
  | { readonly kind: 'packet'; readonly run: (nowMs: number) => void }
  | { readonly kind: 'stream'; readonly id: number; readonly result: StreamResult; expired: boolean };

interface Wrapped {
  stalled: boolean;
  readonly held: Held[];
  heldPackets: number;
  /** Deadlines of this engine's open streams, by stream id. */
  readonly deadlines: Map<number, number>;
  deliverStream(nowMs: number, id: number, result: StreamResult): void;
}

const TIMEOUT: StreamResult = { ok: false, reason: 'i/o timeout' };

export class ReceiveStalls<E extends ClusterEngine = ClusterEngine> {
  private readonly wrapped = new Map<E, Wrapped>();
  /** Datagrams dropped because a stalled node's queue was full. */
  dropped = 0;

  /** Works on any simulated cluster: the membership core's (SimCluster) or Serf's (SerfCluster). */
  constructor(private readonly cluster: SimClusterBase<E>) {}

  isStalled(name: string): boolean {
    return this.wrapped.get(this.cluster.host(name).engine)?.stalled ?? false;
  }

  /**
   * Installs the wrappers on a node before anything happens to it, so the deadlines of streams it
   * opens from now on are known. stall() installs them too, but then knows only later streams.
   */
  watch(name: string): void {
    this.wrap(this.cluster.host(name));
  }

  stall(name: string): void {
    const w = this.wrap(this.cluster.host(name));
    w.stalled = true;
  }

  /** Ends the stall: what waited is handled now, in arrival order. The process must be running. */
  release(name: string): void {
    const host = this.cluster.host(name);
    const w = this.wrapped.get(host.engine);
    if (w === undefined || !w.stalled) return;
    if (!host.running) throw new Error(`cannot release ${name}'s receive path while the process is ${host.status}`);
    w.stalled = false;
    w.heldPackets = 0;
    const now = this.cluster.now;
    for (const item of w.held.splice(0, w.held.length)) {
      if (item.kind === 'packet') item.run(now);
      else w.deliverStream(now, item.id, item.expired ? TIMEOUT : item.result);
    }
    host.flush();
  }

  private wrap(host: SimHost<E>): Wrapped {
    const engine = host.engine;
    const existing = this.wrapped.get(engine);
    if (existing !== undefined) return existing;
    const scheduler = this.cluster.world.scheduler;
    const takeEffects = engine.takeEffects.bind(engine);
    const receivePacket = engine.receivePacket.bind(engine);
    const streamResult = engine.streamResult.bind(engine);
    const handleStream = engine.handleStream.bind(engine);
    const w: Wrapped = {
      stalled: false,
      held: [],
      heldPackets: 0,
      deadlines: new Map(),
      deliverStream: (nowMs, id, result) => {
        w.deadlines.delete(id);
        streamResult(nowMs, id, result);
      },
    };
    engine.takeEffects = (): Effect[] => {
      const effects = takeEffects();
      for (const e of effects) if (e.kind === 'stream') w.deadlines.set(e.id, e.deadlineMs);
      return effects;
    };
    engine.receivePacket = (nowMs: number, from: Address, bytes: Uint8Array): void => {
      if (!w.stalled) return receivePacket(nowMs, from, bytes);
      if (w.heldPackets >= RECEIVE_QUEUE_LIMIT) {
        this.dropped++;
        return;
      }
      w.heldPackets++;
      w.held.push({ kind: 'packet', run: (at) => receivePacket(at, from, bytes) });
    };
    engine.streamResult = (nowMs, id, result) => {
      if (!w.stalled) return w.deliverStream(nowMs, id, result);
      const deadline = w.deadlines.get(id);
      // A result handed over after its deadline (the process was paused) is a read that timed out.
      const item: Held = { kind: 'stream', id, result, expired: deadline !== undefined && deadline < nowMs };
      w.held.push(item);
      if (deadline === undefined || item.expired) return;
      scheduler.at(deadline, () => {
        const index = w.held.indexOf(item);
        if (index < 0) return;
        if (!host.running || host.engine !== engine) {
          // Paused (or gone): the read fails when the process next runs; release() delivers it.
          item.expired = true;
          return;
        }
        w.held.splice(index, 1);
        w.deliverStream(scheduler.now, id, TIMEOUT);
        host.flush();
      });
    };
    engine.handleStream = (nowMs, from, message) => (w.stalled ? null : handleStream(nowMs, from, message));
    this.wrapped.set(engine, w);
    return w;
  }
}
