// What the core asks of the world. The core never performs I/O: each input method appends
// effects to an outbox that the runtime (real sockets and timers) or the simulator drains.
import type { Address } from './address.js';

/** A timer is data: the runtime arms it and hands it back through fireTimer at `atMs`. */
export interface Timer {
  readonly id: number;
  /** For people reading traces; the core dispatches on `id`. */
  readonly kind: string;
  readonly atMs: number;
}

export type Effect =
  /** Send one UDP datagram. */
  | { readonly kind: 'send'; readonly to: Address; readonly bytes: Uint8Array }
  /**
   * Open a TCP connection, write `bytes`, and (if `expectReply`) read one stream message back.
   * Report the outcome through streamResult(id, …) no later than `deadlineMs`.
   */
  | { readonly kind: 'stream'; readonly id: number; readonly to: Address; readonly bytes: Uint8Array; readonly expectReply: boolean; readonly deadlineMs: number }
  | { readonly kind: 'timer'; readonly timer: Timer }
  /** A log line, with memberlist's level names. */
  | { readonly kind: 'log'; readonly level: LogLevel; readonly message: string };

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERR';
