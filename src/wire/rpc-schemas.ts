// Serf's agent RPC (IPC) protocol, reference §9: command names, headers and every body, with the
// Go field names and types of serf 0.9.4 cmd/serf/command/agent/ipc.go (the client's copies live
// in client/const.go). Go slices, maps and []byte are nil-able, so they use the *OrNil kinds:
// a nil FilterNodes, DeleteTags, Tags or Payload goes out as 0xc0 and comes back as null.
import { coordinateSchema } from './serf-schemas.js';
import { struct, t, type Infer, type InferFields, type Kind } from './schema.js';

/** The only IPC version serf 0.9.4 speaks (MinIPCVersion = MaxIPCVersion = 1). */
export const RPC_VERSION = 1;

/** Command names, as sent in requestHeader.Command. */
export const RpcCommand = {
  handshake: 'handshake',
  auth: 'auth',
  event: 'event',
  forceLeave: 'force-leave',
  join: 'join',
  members: 'members',
  membersFiltered: 'members-filtered',
  stream: 'stream',
  stop: 'stop',
  monitor: 'monitor',
  leave: 'leave',
  installKey: 'install-key',
  useKey: 'use-key',
  removeKey: 'remove-key',
  listKeys: 'list-keys',
  tags: 'tags',
  query: 'query',
  respond: 'respond',
  stats: 'stats',
  getCoordinate: 'get-coordinate',
} as const;
export type RpcCommandName = (typeof RpcCommand)[keyof typeof RpcCommand];

/** The agent's error strings (responseHeader.Error); "" means success. */
export const RpcError = {
  unsupportedCommand: 'Unsupported command',
  unsupportedIpcVersion: 'Unsupported IPC version',
  duplicateHandshake: 'Handshake already performed',
  handshakeRequired: 'Handshake required',
  monitorExists: 'Monitor already exists',
  invalidFilter: 'Invalid event filter',
  streamExists: 'Stream with given sequence exists',
  invalidQueryId: 'No pending queries matching ID',
  authRequired: 'Authentication required',
  invalidAuthToken: 'Invalid authentication token',
} as const;

/** queryRecord.Type values, in the order a query stream sends them. */
export const QueryRecordType = { ack: 'ack', response: 'response', done: 'done' } as const;

/** Member.Status strings (serf MemberStatus.String()). */
export const RpcMemberStatuses = ['none', 'alive', 'leaving', 'left', 'failed'] as const;

/** Event-record Event strings (serf EventType.String()); member events name their kind. */
export const RpcMemberEvents = ['member-join', 'member-leave', 'member-failed', 'member-update', 'member-reap'] as const;
export const RpcUserEvent = 'user';
export const RpcQueryEvent = 'query';

export const requestHeaderSchema = struct('requestHeader', { Command: t.string, Seq: t.u64 });
export type RpcRequestHeader = InferFields<typeof requestHeaderSchema.fields>;

export const responseHeaderSchema = struct('responseHeader', { Seq: t.u64, Error: t.string });
export type RpcResponseHeader = InferFields<typeof responseHeaderSchema.fields>;

export const handshakeRequestSchema = struct('handshakeRequest', { Version: t.i32 });
export type HandshakeRequest = InferFields<typeof handshakeRequestSchema.fields>;

export const authRequestSchema = struct('authRequest', { AuthKey: t.string });
export type AuthRequest = InferFields<typeof authRequestSchema.fields>;

export const eventRequestSchema = struct('eventRequest', { Name: t.string, Payload: t.bytesOrNil, Coalesce: t.bool });
export type EventRequest = InferFields<typeof eventRequestSchema.fields>;

export const forceLeaveRequestSchema = struct('forceLeaveRequest', { Node: t.string, Prune: t.bool });
export type ForceLeaveRequest = InferFields<typeof forceLeaveRequestSchema.fields>;

export const joinRequestSchema = struct('joinRequest', { Existing: t.arrayOrNil(t.string), Replay: t.bool });
export type JoinRequest = InferFields<typeof joinRequestSchema.fields>;

export const joinResponseSchema = struct('joinResponse', { Num: t.i32 });
export type JoinResponse = InferFields<typeof joinResponseSchema.fields>;

/** Tags, Status and Name are regular expressions the agent anchors with ^…$; "" matches all. */
export const membersFilteredRequestSchema = struct('membersFilteredRequest', {
  Tags: t.mapOrNil(t.string),
  Status: t.string,
  Name: t.string,
});
export type MembersFilteredRequest = InferFields<typeof membersFilteredRequestSchema.fields>;

/** The RPC's Member: Status is a string here, unlike the integer in Serf's gossip (serf-schemas conflictMember). */
export const rpcMemberSchema = struct('Member', {
  Name: t.string,
  Addr: t.bytes,
  Port: t.u16,
  Tags: t.mapOrNil(t.string),
  Status: t.string,
  ProtocolMin: t.u8,
  ProtocolMax: t.u8,
  ProtocolCur: t.u8,
  DelegateMin: t.u8,
  DelegateMax: t.u8,
  DelegateCur: t.u8,
});
export type RpcMember = InferFields<typeof rpcMemberSchema.fields>;

export const membersResponseSchema = struct('membersResponse', { Members: t.arrayOrNil(rpcMemberSchema) });
export type MembersResponse = InferFields<typeof membersResponseSchema.fields>;

/** Key is the base64 text of the key, not its bytes. */
export const keyRequestSchema = struct('keyRequest', { Key: t.string });
export type KeyRequest = InferFields<typeof keyRequestSchema.fields>;

/** Keys (base64 key → nodes holding it) is filled by list-keys only; the other key commands leave it nil. */
export const keyResponseSchema = struct('keyResponse', {
  Messages: t.mapOrNil(t.string),
  Keys: t.mapOrNil(t.int),
  NumNodes: t.int,
  NumErr: t.int,
  NumResp: t.int,
});
export type KeyResponse = InferFields<typeof keyResponseSchema.fields>;

export const monitorRequestSchema = struct('monitorRequest', { LogLevel: t.string });
export type MonitorRequest = InferFields<typeof monitorRequestSchema.fields>;

/** Type is an event filter such as "*" or "member-join,user:deploy,query:q". */
export const streamRequestSchema = struct('streamRequest', { Type: t.string });
export type StreamRequest = InferFields<typeof streamRequestSchema.fields>;

/** Stop is the Seq of the stream or monitor command to end. */
export const stopRequestSchema = struct('stopRequest', { Stop: t.u64 });
export type StopRequest = InferFields<typeof stopRequestSchema.fields>;

export const tagsRequestSchema = struct('tagsRequest', { Tags: t.mapOrNil(t.string), DeleteTags: t.arrayOrNil(t.string) });
export type TagsRequest = InferFields<typeof tagsRequestSchema.fields>;

/** Timeout is a Go time.Duration in nanoseconds (0 = the agent's default); 15 s already needs uint64 on the wire. */
export const queryRequestSchema = struct('queryRequest', {
  FilterNodes: t.arrayOrNil(t.string),
  FilterTags: t.mapOrNil(t.string),
  RequestAck: t.bool,
  RelayFactor: t.u8,
  Timeout: t.i64,
  Name: t.string,
  Payload: t.bytesOrNil,
});
export type QueryRequest = InferFields<typeof queryRequestSchema.fields>;

/** ID is the one the agent gave in a query event record on this connection. */
export const respondRequestSchema = struct('respondRequest', { ID: t.u64, Payload: t.bytesOrNil });
export type RespondRequest = InferFields<typeof respondRequestSchema.fields>;

/** A query's stream record: Type "ack" (Payload nil), "response", or "done" (From "" too). */
export const queryRecordSchema = struct('queryRecord', { Type: t.string, From: t.string, Payload: t.bytesOrNil });
export type QueryRecord = InferFields<typeof queryRecordSchema.fields>;

export const logRecordSchema = struct('logRecord', { Log: t.string });
export type LogRecord = InferFields<typeof logRecordSchema.fields>;

export const userEventRecordSchema = struct('userEventRecord', {
  Event: t.string,
  LTime: t.u64,
  Name: t.string,
  Payload: t.bytesOrNil,
  Coalesce: t.bool,
});
export type UserEventRecord = InferFields<typeof userEventRecordSchema.fields>;

/** ID is opaque to the client and per connection: it is what `respond` must quote. */
export const queryEventRecordSchema = struct('queryEventRecord', {
  Event: t.string,
  ID: t.u64,
  LTime: t.u64,
  Name: t.string,
  Payload: t.bytesOrNil,
});
export type QueryEventRecord = InferFields<typeof queryEventRecordSchema.fields>;

export const memberEventRecordSchema = struct('memberEventRecord', { Event: t.string, Members: t.arrayOrNil(rpcMemberSchema) });
export type MemberEventRecord = InferFields<typeof memberEventRecordSchema.fields>;

/** Sections agent, runtime, serf, tags, event_handlers, each a map of text values. Not a struct in Go either. */
export const statsResponseSchema = t.mapOrNil(t.mapOrNil(t.string));
export type StatsResponse = Infer<typeof statsResponseSchema>;

export const coordinateRequestSchema = struct('coordinateRequest', { Node: t.string });
export type CoordinateRequest = InferFields<typeof coordinateRequestSchema.fields>;

/** Coord is a struct value in Go, so an unknown node still sends a zero coordinate (Vec nil) with Ok false. */
export const coordinateResponseSchema = struct('coordinateResponse', { Coord: coordinateSchema, Ok: t.bool });
export type CoordinateResponse = InferFields<typeof coordinateResponseSchema.fields>;

/** The kinds of record a streaming command sends after its first response header, each behind a header of its own. */
export const rpcRecordSchemas = {
  memberEvent: memberEventRecordSchema,
  userEvent: userEventRecordSchema,
  queryEvent: queryEventRecordSchema,
  log: logRecordSchema,
  query: queryRecordSchema,
} as const;
export type RpcRecordKind = keyof typeof rpcRecordSchemas;

export interface RpcCommandSpec {
  /** The body that follows the request header, or null when the header comes alone. */
  readonly request: Kind | null;
  /** The body that follows a response header (even one carrying an Error), or null when none does. */
  readonly response: Kind | null;
  /** True when more header + record pairs follow the first response, with the request's Seq. */
  readonly streaming: boolean;
  /** The record kinds a streaming command may send; `stream` picks one per record by its Event field. */
  readonly records: readonly RpcRecordKind[];
}

function spec<Req extends Kind | null, Resp extends Kind | null, Rec extends readonly RpcRecordKind[] = readonly []>(
  request: Req,
  response: Resp,
  records: Rec = [] as unknown as Rec,
): { readonly request: Req; readonly response: Resp; readonly streaming: boolean; readonly records: Rec } {
  return { request, response, streaming: records.length > 0, records };
}

/** Every command: what it sends and what it gets back (ipc.go handle* functions), for generic dispatch. */
export const rpcCommands = {
  'handshake': spec(handshakeRequestSchema, null),
  'auth': spec(authRequestSchema, null),
  'event': spec(eventRequestSchema, null),
  'force-leave': spec(forceLeaveRequestSchema, null),
  'join': spec(joinRequestSchema, joinResponseSchema),
  'members': spec(null, membersResponseSchema),
  'members-filtered': spec(membersFilteredRequestSchema, membersResponseSchema),
  'stream': spec(streamRequestSchema, null, ['memberEvent', 'userEvent', 'queryEvent'] as const),
  'stop': spec(stopRequestSchema, null),
  'monitor': spec(monitorRequestSchema, null, ['log'] as const),
  'leave': spec(null, null),
  'install-key': spec(keyRequestSchema, keyResponseSchema),
  'use-key': spec(keyRequestSchema, keyResponseSchema),
  'remove-key': spec(keyRequestSchema, keyResponseSchema),
  'list-keys': spec(null, keyResponseSchema),
  'tags': spec(tagsRequestSchema, null),
  'query': spec(queryRequestSchema, null, ['query'] as const),
  'respond': spec(respondRequestSchema, null),
  'stats': spec(null, statsResponseSchema),
  'get-coordinate': spec(coordinateRequestSchema, coordinateResponseSchema),
} as const satisfies { readonly [C in RpcCommandName]: RpcCommandSpec };

type Specs = typeof rpcCommands;
type BodyOf<K> = K extends Kind ? Infer<K> : never;

/** The request body type of a command (never when it takes none). */
export type RpcRequestBody<C extends RpcCommandName> = BodyOf<Specs[C]['request']>;
/** The response body type of a command (never when it returns none). */
export type RpcResponseBody<C extends RpcCommandName> = BodyOf<Specs[C]['response']>;

export type RpcRecord =
  | { readonly kind: 'memberEvent'; readonly value: MemberEventRecord }
  | { readonly kind: 'userEvent'; readonly value: UserEventRecord }
  | { readonly kind: 'queryEvent'; readonly value: QueryEventRecord }
  | { readonly kind: 'log'; readonly value: LogRecord }
  | { readonly kind: 'query'; readonly value: QueryRecord };

