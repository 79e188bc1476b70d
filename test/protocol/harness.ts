// A tiny driver for unit tests of one Memberlist core: a fake clock, the effects it produced
// (sent packets decoded, streams opened, log lines), its armed timers fired in order on demand,
// and delegates that record every event. No network: the test plays every peer by hand.
import type { Address } from '../../src/protocol/address.js';
import { makeConfig, type ConfigInput } from '../../src/protocol/config.js';
import type { Delegates } from '../../src/protocol/delegates.js';
import type { LogLevel, Timer } from '../../src/protocol/effects.js';
import { Memberlist, type StreamResult } from '../../src/protocol/memberlist.js';
import type { NodeView } from '../../src/protocol/node-state.js';
import { SeededRng } from '../../src/protocol/rng.js';
import type { Keyring } from '../../src/wire/encryption.js';
import { encodeMessage, type MemberlistMessage } from '../../src/wire/messages.js';
import { decodePacket, encodePacket, type PacketLayer } from '../../src/wire/packet.js';

export interface Sent {
  readonly atMs: number;
  readonly to: Address;
  readonly bytes: Uint8Array;
  readonly layers: PacketLayer[];
  readonly messages: MemberlistMessage[];
}

export interface Opened {
  readonly atMs: number;
  readonly id: number;
  readonly to: Address;
  readonly bytes: Uint8Array;
  readonly expectReply: boolean;
  readonly deadlineMs: number;
}

export interface LogLine {
  readonly atMs: number;
  readonly level: LogLevel;
  readonly message: string;
}

/** What the recording delegates saw, in order. */
export type DelegateEvent =
  | { readonly kind: 'join' | 'leave' | 'update'; readonly atMs: number; readonly node: NodeView }
  | { readonly kind: 'conflict'; readonly atMs: number; readonly existing: NodeView; readonly other: NodeView }
  | { readonly kind: 'pingComplete'; readonly atMs: number; readonly node: NodeView; readonly rttMs: number; readonly payload: Uint8Array | null };

export interface DriverOptions extends Omit<ConfigInput, 'advertise'> {
  readonly advertise?: Address;
  readonly seed?: number;
  /** Extra delegate callbacks; they replace the recording ones of the same name. */
  readonly delegates?: Delegates;
}

export function ipv4(a: number, b: number, c: number, d: number): Uint8Array {
  return Uint8Array.of(a, b, c, d);
}

export class Driver {
  readonly ml: Memberlist;
  readonly keyring: Keyring | undefined;
  now = 0;
  readonly sent: Sent[] = [];
  readonly streams: Opened[] = [];
  readonly logs: LogLine[] = [];
  readonly events: DelegateEvent[] = [];
  /** Every timer armed and not yet fired (cancelled ones included: the core ignores those). */
  private armed: Timer[] = [];
  /** Every timer ever armed, for checking deadlines. */
  readonly timers: Timer[] = [];

  constructor(options: DriverOptions) {
    const { seed = 1, delegates = {}, advertise = { ip: ipv4(10, 0, 0, 1), port: 7946 }, ...rest } = options;
    const config = makeConfig({ ...rest, advertise });
    this.keyring = config.keyring;
    const record: Delegates = {
      notifyJoin: (atMs, node) => this.events.push({ kind: 'join', atMs, node }),
      notifyLeave: (atMs, node) => this.events.push({ kind: 'leave', atMs, node }),
      notifyUpdate: (atMs, node) => this.events.push({ kind: 'update', atMs, node }),
      notifyConflict: (atMs, existing, other) => this.events.push({ kind: 'conflict', atMs, existing, other }),
      notifyPingComplete: (atMs, node, rttMs, payload) => this.events.push({ kind: 'pingComplete', atMs, node, rttMs, payload }),
    };
    this.ml = new Memberlist(config, { ...record, ...delegates }, { rng: new SeededRng(seed) });
  }

  /** Moves the effects the core produced into sent/streams/logs/timers; returns how many there were. */
  collect(): number {
    const effects = this.ml.takeEffects();
    for (const e of effects) {
      switch (e.kind) {
        case 'send': {
          const decoded = decodePacket(e.bytes, this.keyring === undefined ? {} : { keyring: this.keyring });
          if (!decoded.ok) throw new Error(`the core sent a packet that does not decode: ${decoded.error.message}`);
          this.sent.push({ atMs: this.now, to: e.to, bytes: e.bytes, layers: decoded.value.layers, messages: decoded.value.messages });
          break;
        }
        case 'stream':
          this.streams.push({ atMs: this.now, id: e.id, to: e.to, bytes: e.bytes, expectReply: e.expectReply, deadlineMs: e.deadlineMs });
          break;
        case 'timer':
          this.armed.push(e.timer);
          this.timers.push(e.timer);
          break;
        case 'log':
          this.logs.push({ atMs: this.now, level: e.level, message: e.message });
          break;
      }
    }
    return effects.length;
  }

  start(atMs = 0): this {
    this.now = atMs;
    this.ml.start(atMs);
    this.collect();
    return this;
  }

  /** Fires the earliest armed timer (of one of `kinds`, if given) that is due by `untilMs`. */
  step(untilMs = Infinity, kinds?: readonly string[]): Timer | undefined {
    let best: Timer | undefined;
    for (const t of this.armed) {
      if (t.atMs > untilMs || (kinds !== undefined && !kinds.includes(t.kind))) continue;
      if (best === undefined || t.atMs < best.atMs || (t.atMs === best.atMs && t.id < best.id)) best = t;
    }
    if (best === undefined) return undefined;
    this.armed = this.armed.filter((t) => t !== best);
    this.now = Math.max(this.now, best.atMs);
    this.ml.fireTimer(this.now, best);
    this.collect();
    return best;
  }

  /** Fires every due timer in time order (only those of `kinds`, if given), then sets the clock to `atMs`. */
  advanceTo(atMs: number, kinds?: readonly string[]): void {
    while (this.step(atMs, kinds) !== undefined);
    this.now = Math.max(this.now, atMs);
  }

  advanceBy(ms: number, kinds?: readonly string[]): void {
    this.advanceTo(this.now + ms, kinds);
  }

  /** The most recently armed timer of a kind. */
  lastTimer(kind: string): Timer | undefined {
    for (let i = this.timers.length - 1; i >= 0; i--) if (this.timers[i]!.kind === kind) return this.timers[i];
    return undefined;
  }

  /** Feeds raw bytes as one UDP datagram from `from`. */
  receiveBytes(from: Address, bytes: Uint8Array): void {
    this.ml.receivePacket(this.now, from, bytes);
    this.collect();
  }

  /** Feeds messages as one datagram (bare, or a compound of several), encrypted if we have a keyring. */
  receive(from: Address, ...messages: MemberlistMessage[]): void {
    const bytes = encodePacket(
      messages.map((m) => encodeMessage(m)),
      this.keyring === undefined ? {} : { encryption: { keyring: this.keyring, randomBytes: (n) => new Uint8Array(n).fill(7) } },
    );
    this.receiveBytes(from, bytes);
  }

  streamResult(id: number, result: StreamResult): void {
    this.ml.streamResult(this.now, id, result);
    this.collect();
  }

  /** Hands over the packets sent since the last call. */
  takeSent(): Sent[] {
    return this.sent.splice(0, this.sent.length);
  }

  takeStreams(): Opened[] {
    return this.streams.splice(0, this.streams.length);
  }

  takeEvents(): DelegateEvent[] {
    return this.events.splice(0, this.events.length);
  }

  takeLogs(): LogLine[] {
    return this.logs.splice(0, this.logs.length);
  }
}
