// What a node's protocol engine offers the world that runs it — the real runtime (sockets, clock)
// or the simulator (virtual network, virtual clock). Memberlist implements it; so does Serf.
import type { Address } from './address.js';
import type { Effect, Timer } from './effects.js';
import type { StreamResult } from './memberlist.js';
import type { StreamMessage, StreamOptions } from '../wire/stream.js';

export interface ProtocolEngine {
  /** Everything the engine asked for since the last call. */
  takeEffects(): Effect[];
  fireTimer(nowMs: number, timer: Timer): void;
  receivePacket(nowMs: number, from: Address, bytes: Uint8Array): void;
  /** A peer's stream message; returns the answer to write back, or null to close silently. */
  handleStream(nowMs: number, from: Address, message: StreamMessage): Uint8Array | null;
  /** The answer to a stream that could not be read (memberlist's errResp). */
  streamErrorReply(reason: string): Uint8Array;
  /** The outcome of a stream the engine opened. */
  streamResult(nowMs: number, id: number, result: StreamResult): void;
  /** How to parse streams to and from this engine (keyring, limits). */
  streamOptions(): StreamOptions;
}
