// memberlist 0.2.2 message bodies (reference §2.1). Field names are Go's wire names; the schema
// helper writes them in Go's sorted order.
import { struct, t, type InferFields } from './schema.js';

/** memberlist messageType (iota order). */
export const MessageType = {
  ping: 0,
  indirectPing: 1,
  ack: 2,
  suspect: 3,
  alive: 4,
  dead: 5,
  pushPull: 6,
  compound: 7,
  user: 8,
  compress: 9,
  encrypt: 10,
  nack: 11,
  hasCrc: 12,
  err: 13,
} as const;
export type MessageTypeName = keyof typeof MessageType;
export const MessageTypeNames: readonly MessageTypeName[] = Object.keys(MessageType) as MessageTypeName[];

/** memberlist NodeStateType. */
export const NodeState = { alive: 0, suspect: 1, dead: 2, left: 3 } as const;

export const pingSchema = struct('ping', {
  SeqNo: t.u32,
  Node: t.string,
  SourceAddr: t.omitEmpty(t.bytes),
  SourcePort: t.omitEmpty(t.u16),
  SourceNode: t.omitEmpty(t.string),
});
export type Ping = InferFields<typeof pingSchema.fields>;

export const indirectPingSchema = struct('indirectPingReq', {
  SeqNo: t.u32,
  Target: t.bytes,
  Port: t.u16,
  Node: t.string,
  Nack: t.bool,
  SourceAddr: t.omitEmpty(t.bytes),
  SourcePort: t.omitEmpty(t.u16),
  SourceNode: t.omitEmpty(t.string),
});
export type IndirectPing = InferFields<typeof indirectPingSchema.fields>;

export const ackSchema = struct('ackResp', {
  SeqNo: t.u32,
  Payload: t.bytesOrNil,
});
export type Ack = InferFields<typeof ackSchema.fields>;

export const nackSchema = struct('nackResp', { SeqNo: t.u32 });
export type Nack = InferFields<typeof nackSchema.fields>;

export const errSchema = struct('errResp', { Error: t.string });
export type ErrResp = InferFields<typeof errSchema.fields>;

export const suspectSchema = struct('suspect', {
  Incarnation: t.u32,
  Node: t.string,
  From: t.string,
});
export type Suspect = InferFields<typeof suspectSchema.fields>;

export const aliveSchema = struct('alive', {
  Incarnation: t.u32,
  Node: t.string,
  Addr: t.bytes,
  Port: t.u16,
  Meta: t.bytes,
  Vsn: t.bytes,
});
export type Alive = InferFields<typeof aliveSchema.fields>;

export const deadSchema = struct('dead', {
  Incarnation: t.u32,
  Node: t.string,
  From: t.string,
});
export type Dead = InferFields<typeof deadSchema.fields>;

export const pushPullHeaderSchema = struct('pushPullHeader', {
  Nodes: t.int,
  UserStateLen: t.int,
  Join: t.bool,
});
export type PushPullHeader = InferFields<typeof pushPullHeaderSchema.fields>;

export const pushNodeStateSchema = struct('pushNodeState', {
  Name: t.string,
  Addr: t.bytes,
  Port: t.u16,
  Meta: t.bytes,
  Incarnation: t.u32,
  State: t.int,
  Vsn: t.bytes,
});
export type PushNodeState = InferFields<typeof pushNodeStateSchema.fields>;

export const userMsgHeaderSchema = struct('userMsgHeader', { UserMsgLen: t.int });
export type UserMsgHeader = InferFields<typeof userMsgHeaderSchema.fields>;

export const compressSchema = struct('compress', {
  Algo: t.u8,
  Buf: t.bytes,
});
export type Compress = InferFields<typeof compressSchema.fields>;

/** The only compression algorithm memberlist knows. */
export const LZW_ALGO = 0;
