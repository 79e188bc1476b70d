// The hooks a layer above (Serf) plugs into the membership core, as memberlist's Delegate,
// EventDelegate, PingDelegate, ConflictDelegate, MergeDelegate and AliveDelegate. All are
// called synchronously, with the current time, from inside the core's input methods.
import type { NodeView } from './node-state.js';

export interface Delegates {
  /** Meta for our alive messages, at most `limit` bytes (Serf: tags). */
  nodeMeta?(limit: number): Uint8Array;
  /** A user message (type 8) arrived, by UDP or TCP. */
  notifyMsg?(nowMs: number, payload: Uint8Array): void;
  /** Messages to piggyback; each costs `overhead` bytes more than its length, all within `limit`. */
  getBroadcasts?(overhead: number, limit: number): Uint8Array[];
  /** Whether getBroadcasts would return anything; lets an idle gossip tick skip its work. */
  hasBroadcasts?(): boolean;
  /** Our state for a push/pull (Serf: 0x02 + messagePushPull). */
  localState?(join: boolean): Uint8Array;
  mergeRemoteState?(nowMs: number, state: Uint8Array, join: boolean): void;

  notifyJoin?(nowMs: number, node: NodeView): void;
  notifyLeave?(nowMs: number, node: NodeView): void;
  notifyUpdate?(nowMs: number, node: NodeView): void;

  /** Payload for the acks we send (Serf: 0x01 + Vivaldi coordinate); null sends nil. */
  ackPayload?(): Uint8Array | null;
  notifyPingComplete?(nowMs: number, node: NodeView, rttMs: number, payload: Uint8Array | null): void;

  /** An alive for a known name came from another address that may not take it over. */
  notifyConflict?(nowMs: number, existing: NodeView, other: NodeView): void;
  /** Return an error string to refuse merging a joining cluster's state. */
  notifyMerge?(nodes: NodeView[]): string | null;
  /** Return an error string to ignore an alive message. */
  notifyAlive?(node: NodeView): string | null;
}
