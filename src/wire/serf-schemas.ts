// Serf 0.9.4 message bodies (reference §8.1–8.2), carried inside memberlist user messages (type 8)
// as one Serf type byte followed by msgpack.
import { struct, t, type InferFields } from './schema.js';

/** Serf messageType (iota order). */
export const SerfMessageType = {
  leave: 0,
  join: 1,
  pushPull: 2,
  userEvent: 3,
  query: 4,
  queryResponse: 5,
  conflictResponse: 6,
  keyRequest: 7,
  keyResponse: 8,
  relay: 9,
} as const;
export type SerfMessageTypeName = keyof typeof SerfMessageType;
export const SerfMessageTypeNames: readonly SerfMessageTypeName[] = Object.keys(SerfMessageType) as SerfMessageTypeName[];

export const joinSchema = struct('messageJoin', { LTime: t.u64, Node: t.string });
export type SerfJoin = InferFields<typeof joinSchema.fields>;

export const leaveSchema = struct('messageLeave', { LTime: t.u64, Node: t.string, Prune: t.bool });
export type SerfLeave = InferFields<typeof leaveSchema.fields>;

export const userEventSchema = struct('messageUserEvent', {
  LTime: t.u64,
  Name: t.string,
  Payload: t.bytesOrNil,
  CC: t.bool,
});
export type SerfUserEvent = InferFields<typeof userEventSchema.fields>;

/** One event inside the push/pull event buffer. */
export const bufferedEventSchema = struct('userEvent', { Name: t.string, Payload: t.bytesOrNil });
export const bufferedEventsSchema = struct('userEvents', {
  LTime: t.u64,
  Events: t.arrayOrNil(bufferedEventSchema),
});
export type SerfBufferedEvents = InferFields<typeof bufferedEventsSchema.fields>;

export const pushPullSchema = struct('messagePushPull', {
  LTime: t.u64,
  StatusLTimes: t.mapOrNil(t.u64),
  LeftMembers: t.arrayOrNil(t.string),
  EventLTime: t.u64,
  Events: t.arrayOrNil(t.structOrNil(bufferedEventsSchema)),
  QueryLTime: t.u64,
});
export type SerfPushPull = InferFields<typeof pushPullSchema.fields>;

export const querySchema = struct('messageQuery', {
  LTime: t.u64,
  ID: t.u32,
  Addr: t.bytes,
  Port: t.u16,
  SourceNode: t.string,
  Filters: t.arrayOrNil(t.bytes),
  Flags: t.u32,
  RelayFactor: t.u8,
  Timeout: t.i64,
  Name: t.string,
  Payload: t.bytesOrNil,
});
export type SerfQuery = InferFields<typeof querySchema.fields>;

/** Query flags (serf/messages.go). */
export const QueryFlag = { ack: 1, noBroadcast: 2 } as const;

export const queryResponseSchema = struct('messageQueryResponse', {
  LTime: t.u64,
  ID: t.u32,
  From: t.string,
  Flags: t.u32,
  Payload: t.bytesOrNil,
});
export type SerfQueryResponse = InferFields<typeof queryResponseSchema.fields>;

/** Serf's Member as sent in a `_serf_conflict` response (Status: 0 none, 1 alive, 2 leaving, 3 left, 4 failed). */
export const conflictMemberSchema = struct('Member', {
  Name: t.string,
  Addr: t.bytes,
  Port: t.u16,
  Tags: t.mapOrNil(t.string),
  Status: t.int,
  ProtocolMin: t.u8,
  ProtocolMax: t.u8,
  ProtocolCur: t.u8,
  DelegateMin: t.u8,
  DelegateMax: t.u8,
  DelegateCur: t.u8,
});
export type SerfConflictMember = InferFields<typeof conflictMemberSchema.fields>;

export const keyRequestSchema = struct('keyRequest', { Key: t.bytesOrNil });
export type SerfKeyRequest = InferFields<typeof keyRequestSchema.fields>;

export const keyResponseSchema = struct('nodeKeyResponse', {
  Result: t.bool,
  Message: t.string,
  Keys: t.arrayOrNil(t.string),
  PrimaryKey: t.string,
});
export type SerfKeyResponse = InferFields<typeof keyResponseSchema.fields>;

export const relayAddrSchema = struct('UDPAddr', { IP: t.bytes, Port: t.int, Zone: t.string });
export const relayHeaderSchema = struct('relayHeader', { DestAddr: relayAddrSchema, DestName: t.string });
export type SerfRelayHeader = InferFields<typeof relayHeaderSchema.fields>;

/** Query filter types (the first byte of each Filters entry). */
export const FilterType = { node: 0, tag: 1 } as const;
export const filterTagSchema = struct('filterTag', { Tag: t.string, Expr: t.string });
export type SerfFilterTag = InferFields<typeof filterTagSchema.fields>;

/** Serf's ping delegate prefixes its ack payload with this version byte (§8.9). */
export const PING_VERSION = 1;
export const coordinateSchema = struct('Coordinate', {
  Vec: t.arrayOrNil(t.f64),
  Error: t.f64,
  Adjustment: t.f64,
  Height: t.f64,
});
export type Coordinate = InferFields<typeof coordinateSchema.fields>;
