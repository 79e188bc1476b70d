// A simulated host running one protocol engine (the membership core now; the Serf layer wraps
// it later). The host carries out the engine's effects on the simulated network and clock, and
// models process faults: crash (everything lost), pause (a stalled process: its inbound packets
// and due timers wait, as in a real socket buffer, until it resumes) and restart.
import { addressToString, type Address } from '../src/protocol/address.js';
import type { Effect, Timer } from '../src/protocol/effects.js';
import type { ProtocolEngine } from '../src/protocol/engine.js';
import type { StreamResult } from '../src/protocol/memberlist.js';
import { parseStream, type StreamOptions, type StreamParse } from '../src/wire/stream.js';
import type { World } from './world.js';

/**
 * Parsed plaintext streams by the very bytes object that carried them. A node reuses its encoded
 * push/pull state while it is unchanged (memberlist.ts localStateBytes), so the same object
 * reaches peer after peer; parsing is a pure function of the bytes, so each peer would get an
 * equal result. Sharing one is safe because engines never modify a received message (members
 * keep copies of its byte fields). Only streams parsed without a keyring or limits are kept,
 * and a WeakMap lets each go with its bytes. A parse is kept only from the second time its bytes
 * arrive: in a join storm every node's state changes between two push/pulls, and keeping every
 * parse of 2,000 members would cost hundreds of MB for nothing. Bytes on the wire are still
 * counted per stream.
 */
const parsedStreams = new WeakMap<Uint8Array, StreamParse>();
const parsedOnce = new WeakSet<Uint8Array>();

function parseStreamShared(bytes: Uint8Array, options: StreamOptions): StreamParse {
  if (options.keyring !== undefined || options.limits !== undefined) return parseStream(bytes, options);
  let parsed = parsedStreams.get(bytes);
  if (parsed !== undefined) return parsed;
  parsed = parseStream(bytes, options);
  if (parsedOnce.has(bytes)) parsedStreams.set(bytes, parsed);
  else parsedOnce.add(bytes);
  return parsed;
}

/** What a simulated process runs (the membership core or the Serf layer). */
export type SimEngine = ProtocolEngine;

export type HostStatus = 'running' | 'paused' | 'crashed';

/** Packets a stalled process can have waiting in its socket buffer before the kernel drops more. */
const PAUSED_QUEUE_LIMIT = 4096;

export class SimHost<E extends SimEngine = SimEngine> {
  status: HostStatus = 'running';
  /** Bumped by crash and restart so events addressed to an earlier process are dropped. */
  private generation = 0;
  private readonly paused: Array<() => void> = [];
  /** Last log lines, for debugging a failing story. */
  readonly logs: string[] = [];
  logLimit = 0;

  constructor(
    private readonly world: World,
    readonly id: number,
    readonly name: string,
    readonly address: Address,
    public engine: E,
  ) {}

  get running(): boolean {
    return this.status === 'running';
  }

  /** Datagrams waiting in the socket buffer of a paused process (the only input that can overflow). */
  private pausedDatagrams = 0;

  /**
   * Runs an input on the engine now (or when the process resumes), then carries out its effects.
   * While paused, only datagrams count against the socket buffer: timers and stream outcomes
   * always wait, or the process's one-shot timer loops would die with a dropped firing.
   */
  private input(gen: number, run: (engine: E) => void, datagram = false): void {
    if (gen !== this.generation || this.status === 'crashed') return;
    if (this.status === 'paused') {
      if (datagram) {
        if (this.pausedDatagrams >= PAUSED_QUEUE_LIMIT) return;
        this.pausedDatagrams++;
      }
      this.paused.push(() => this.input(gen, run));
      return;
    }
    run(this.engine);
    this.flush();
  }

  /** Call after driving the engine directly (join, leave, …) so its effects happen. */
  flush(): void {
    for (const effect of this.engine.takeEffects()) this.perform(effect);
  }

  deliverPacket(from: Address, bytes: Uint8Array): void {
    if (this.status === 'running') {
      // The common case without a closure: packets are most of a big run's events.
      this.world.onPacket?.(from, this, bytes);
      this.engine.receivePacket(this.world.scheduler.now, from, bytes);
      this.flush();
      return;
    }
    const gen = this.generation;
    this.input(gen, (engine) => {
      this.world.onPacket?.(from, this, bytes);
      engine.receivePacket(this.world.scheduler.now, from, bytes);
    }, true);
  }

  /** A timer armed by process `gen` comes due (a method, not a closure per firing: timers are frequent). */
  private timerDue(gen: number, timer: Timer): void {
    if (gen === this.generation && this.status === 'running') {
      this.engine.fireTimer(this.world.scheduler.now, timer);
      this.flush();
      return;
    }
    this.input(gen, (engine) => engine.fireTimer(this.world.scheduler.now, timer));
  }

  private perform(effect: Effect): void {
    const world = this.world;
    switch (effect.kind) {
      case 'send': {
        const target = world.hostAt(effect.to);
        if (target === undefined) return;
        const from = this.address;
        world.network.sendDatagram(this.id, target.id, effect.bytes.length, () => target.deliverPacket(from, effect.bytes));
        return;
      }
      case 'timer': {
        const gen = this.generation;
        const timer = effect.timer;
        world.scheduler.at(timer.atMs, () => this.timerDue(gen, timer));
        return;
      }
      case 'stream':
        return this.openStream(effect);
      case 'log':
        if (this.logLimit > 0) {
          this.logs.push(`${(world.scheduler.now / 1000).toFixed(3)} [${effect.level}] ${this.name} ${effect.message}`);
          if (this.logs.length > this.logLimit) this.logs.shift();
        }
        world.onLog?.(this, effect.level, effect.message);
        return;
    }
  }

  /**
   * A TCP exchange: the request reaches the target after one delay, its answer comes back after
   * another. TCP hides packet loss, but not a cut link, a crashed peer or a stalled one; the
   * opener hears the outcome by its deadline at the latest.
   */
  private openStream(effect: Extract<Effect, { kind: 'stream' }>): void {
    const world = this.world;
    const net = world.network;
    const gen = this.generation;
    net.stats.streamsOpened++;
    net.stats.streamBytes += effect.bytes.length;
    net.countSent(this.id, effect.bytes.length, false);
    let settled = false;
    const settle = (result: StreamResult): void => {
      if (settled) return;
      settled = true;
      if (!result.ok) net.stats.streamsFailed++;
      this.input(gen, (engine) => engine.streamResult(world.scheduler.now, effect.id, result));
    };
    world.scheduler.at(effect.deadlineMs, () => settle({ ok: false, reason: 'i/o timeout' }));
    const target = world.hostAt(effect.to);
    if (target === undefined || target.status === 'crashed') {
      world.scheduler.after(2 * net.delay(this.id, this.id), () => settle({ ok: false, reason: `dial tcp ${addressToString(effect.to)}: connection refused` }));
      return;
    }
    if (net.isBlocked(this.id, target.id)) return; // the SYN never arrives: the deadline decides
    const from = this.address;
    world.scheduler.after(net.delay(this.id, target.id), () => {
      target.acceptStream(from, effect.bytes, (reply) => {
        if (!effect.expectReply) return settle({ ok: true, message: { type: 'err', body: { Error: '' } } });
        if (reply === null) return settle({ ok: false, reason: 'EOF' });
        if (net.isBlocked(target.id, this.id)) return;
        net.stats.streamBytes += reply.length;
        net.countSent(target.id, reply.length, false);
        world.scheduler.after(net.delay(target.id, this.id), () => {
          const parsed = parseStreamShared(reply, this.engine.streamOptions());
          if (parsed.status === 'complete') settle({ ok: true, message: parsed.message });
          else settle({ ok: false, reason: parsed.status === 'error' ? parsed.error.message : 'unexpected EOF' });
        });
      });
    });
  }

  /** The target side of a stream: parse what arrived, let the engine answer. */
  private acceptStream(from: Address, bytes: Uint8Array, reply: (bytes: Uint8Array | null) => void): void {
    const gen = this.generation;
    if (this.status === 'crashed') return reply(null);
    this.input(gen, (engine) => {
      const parsed = parseStreamShared(bytes, engine.streamOptions());
      if (parsed.status === 'complete') reply(engine.handleStream(this.world.scheduler.now, from, parsed.message));
      else reply(engine.streamErrorReply(parsed.status === 'error' ? parsed.error.reason : 'unexpected EOF'));
    });
  }

  /** The process dies: no goodbye, its state and pending work are gone. */
  crash(): void {
    this.status = 'crashed';
    this.generation++;
    this.paused.length = 0;
    this.pausedDatagrams = 0;
  }

  /** The process stalls (SIGSTOP): nothing runs until resume(). */
  pause(): void {
    if (this.status === 'running') this.status = 'paused';
  }

  /** The process continues (SIGCONT): what waited runs now, in arrival order. */
  resume(): void {
    if (this.status !== 'paused') return;
    this.status = 'running';
    this.pausedDatagrams = 0;
    const waiting = this.paused.splice(0, this.paused.length);
    for (const run of waiting) run();
  }

  /** A new process on the same host, name and address. */
  restart(engine: E): void {
    this.generation++;
    this.paused.length = 0;
    this.pausedDatagrams = 0;
    this.status = 'running';
    this.engine = engine;
  }
}
