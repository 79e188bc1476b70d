// Serf messages inside memberlist user messages (reference §8.1): a Serf type byte and a msgpack
// body. A relay (9) wraps a header and a whole inner Serf message; query payloads of Serf's
// internal queries carry conflict (6), key request (7) and key response (8) messages.
import { WireError } from './errors.js';
import { MsgpackReader } from './msgpack-reader.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { decodeStruct, encodeStruct, type Fields, type KStruct } from './schema.js';
import {
  FilterType, SerfMessageType, conflictMemberSchema, filterTagSchema, joinSchema, keyRequestSchema, keyResponseSchema,
  leaveSchema, pushPullSchema, queryResponseSchema, querySchema, relayHeaderSchema, userEventSchema,
  type SerfConflictMember, type SerfFilterTag, type SerfJoin, type SerfKeyRequest, type SerfKeyResponse, type SerfLeave,
  type SerfPushPull, type SerfQuery, type SerfQueryResponse, type SerfRelayHeader, type SerfUserEvent,
} from './serf-schemas.js';

export type SerfMessage =
  | { readonly type: 'leave'; readonly body: SerfLeave }
  | { readonly type: 'join'; readonly body: SerfJoin }
  | { readonly type: 'pushPull'; readonly body: SerfPushPull }
  | { readonly type: 'userEvent'; readonly body: SerfUserEvent }
  | { readonly type: 'query'; readonly body: SerfQuery }
  | { readonly type: 'queryResponse'; readonly body: SerfQueryResponse }
  /** A `_serf_conflict` answer: the responder's view of the name, or nil when it does not know it. */
  | { readonly type: 'conflictResponse'; readonly body: SerfConflictMember | null }
  | { readonly type: 'keyRequest'; readonly body: SerfKeyRequest }
  | { readonly type: 'keyResponse'; readonly body: SerfKeyResponse }
  /** `inner` is kept as bytes too: a relaying node forwards exactly those bytes. */
  | { readonly type: 'relay'; readonly header: SerfRelayHeader; readonly inner: SerfMessage; readonly innerBytes: Uint8Array };

type BodySerfType = Exclude<SerfMessage['type'], 'relay'>;

const serfSchemas: { readonly [T in BodySerfType]: KStruct<Fields> } = {
  leave: leaveSchema,
  join: joinSchema,
  pushPull: pushPullSchema,
  userEvent: userEventSchema,
  query: querySchema,
  queryResponse: queryResponseSchema,
  conflictResponse: conflictMemberSchema,
  keyRequest: keyRequestSchema,
  keyResponse: keyResponseSchema,
};

const serfTypeById = new Map<number, SerfMessage['type']>(
  (Object.keys(SerfMessageType) as SerfMessage['type'][]).map((name) => [SerfMessageType[name], name]),
);

/** A relay inside a relay is legal but pointless; two levels is already more than Serf sends. */
const MAX_RELAY_NESTING = 2;

/** Decodes a Serf message from bytes[start, end). Bytes after the body are ignored, as in Go. */
export function decodeSerfMessage(bytes: Uint8Array, start = 0, end = bytes.length, relayDepth = 0): SerfMessage {
  if (end <= start) throw new WireError('serf', start, 'empty Serf message');
  const typeId = bytes[start] as number;
  const type = serfTypeById.get(typeId);
  if (type === undefined) throw new WireError('serf', start, `unknown Serf message type ${typeId}`);
  const r = new MsgpackReader(bytes, start + 1, end, 'serf');
  if (type === 'relay') {
    if (relayDepth >= MAX_RELAY_NESTING) throw new WireError('serf', start, 'relay nested too deeply');
    const header = decodeStruct(r, relayHeaderSchema);
    const innerBytes = bytes.subarray(r.pos, end);
    return { type, header, inner: decodeSerfMessage(bytes, r.pos, end, relayDepth + 1), innerBytes };
  }
  if (type === 'conflictResponse' && r.nil()) return { type, body: null };
  return { type, body: decodeStruct(r, serfSchemas[type]) } as SerfMessage;
}

/** Encodes a Serf message: its type byte, then the body as Go writes it. */
const serfWriter = new MsgpackWriter('gossip', 1024);

export function encodeSerfMessage(msg: SerfMessage): Uint8Array {
  const w = serfWriter;
  w.reset();
  writeSerfMessage(w, msg);
  return w.finish();
}

function writeSerfMessage(w: MsgpackWriter, msg: SerfMessage): void {
  w.byte(SerfMessageType[msg.type]);
  if (msg.type === 'relay') {
    encodeStruct(w, relayHeaderSchema, msg.header);
    writeSerfMessage(w, msg.inner);
  } else if (msg.body === null) {
    w.nil();
  } else {
    encodeStruct(w, serfSchemas[msg.type], msg.body);
  }
}

export type QueryFilter =
  | { readonly type: 'node'; readonly nodes: string[] }
  | { readonly type: 'tag'; readonly filter: SerfFilterTag };

/** Decodes one entry of a query's Filters: a filter type byte and msgpack (reference §8.7). */
export function decodeQueryFilter(bytes: Uint8Array): QueryFilter {
  if (bytes.length === 0) throw new WireError('serf', 0, 'empty query filter');
  const r = new MsgpackReader(bytes, 1, bytes.length, 'serf');
  switch (bytes[0]) {
    case FilterType.node: {
      const n = r.arrayLenOrNil();
      const nodes: string[] = [];
      for (let i = 0; i < n; i++) nodes.push(r.string());
      return { type: 'node', nodes };
    }
    case FilterType.tag:
      return { type: 'tag', filter: decodeStruct(r, filterTagSchema) };
    default:
      throw new WireError('serf', 0, `unknown query filter type ${bytes[0]}`);
  }
}

export function encodeQueryFilter(filter: QueryFilter): Uint8Array {
  const w = new MsgpackWriter('gossip', 64);
  if (filter.type === 'node') {
    w.byte(FilterType.node);
    w.arrayHeader(filter.nodes.length);
    for (const node of filter.nodes) w.string(node);
  } else {
    w.byte(FilterType.tag);
    encodeStruct(w, filterTagSchema, filter.filter);
  }
  return w.finish();
}
