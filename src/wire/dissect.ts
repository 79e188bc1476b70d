// The dissector behind `shoal decode`: any packet or stream, every layer removed, every message
// as JSON (reference names, bytes as hex). Serf messages inside user messages are decoded too,
// and so are the opaque fields people want to read: tags in Meta, query filters, coordinates.
import { WireError, result, type DecodeResult } from './errors.js';
import type { Json } from './json.js';
import { structToJson } from './json.js';
import { MessageType, pushNodeStateSchema, pushPullHeaderSchema } from './memberlist-schemas.js';
import { bodySchemas, type MemberlistMessage } from './messages.js';
import { MsgpackReader } from './msgpack-reader.js';
import { decodePacketOrThrow, type PacketDecodeOptions } from './packet.js';
import { decodeStruct } from './schema.js';
import { decodeQueryFilter, decodeSerfMessage, type SerfMessage } from './serf.js';
import {
  PING_VERSION, SerfMessageType, conflictMemberSchema, coordinateSchema, filterTagSchema, joinSchema, keyRequestSchema,
  keyResponseSchema, leaveSchema, pushPullSchema, queryResponseSchema, querySchema, relayHeaderSchema, userEventSchema,
} from './serf-schemas.js';
import { parseStream, type StreamMessage, type StreamOptions } from './stream.js';
import { decodeTags } from './tags.js';
import { ackSchema, errSchema, pingSchema, userMsgHeaderSchema } from './memberlist-schemas.js';

export interface Dissection {
  readonly layers: string[];
  readonly messages: Json[];
}

export function dissectPacket(bytes: Uint8Array, options: PacketDecodeOptions = {}): DecodeResult<Dissection> {
  return result('memberlist', () => {
    const packet = decodePacketOrThrow(bytes, options);
    return { layers: [...packet.layers], messages: packet.messages.map(memberlistToJson) };
  });
}

export function dissectStream(bytes: Uint8Array, options: StreamOptions = {}): DecodeResult<Dissection> {
  return result('stream', () => {
    const parsed = parseStream(bytes, options);
    if (parsed.status === 'error') throw parsed.error;
    if (parsed.status === 'incomplete') {
      throw new WireError('stream', bytes.length, `stream ends before its message is complete (needs at least ${parsed.needed} more byte(s))`);
    }
    return { layers: [...parsed.layers], messages: [streamToJson(parsed.message)] };
  });
}

function tagsJson(meta: Uint8Array): Json {
  return Object.fromEntries(decodeTags(meta));
}

export function memberlistToJson(msg: MemberlistMessage): Json {
  const typeId = MessageType[msg.type];
  if (msg.type === 'user') return { typeId, type: 'user', serf: serfToJson(decodeSerfMessage(msg.payload)) };
  const out: { [key: string]: Json } = { typeId, type: msg.type, body: structToJson(bodySchemas[msg.type], msg.body) };
  if (msg.type === 'alive') out.tags = tagsJson(msg.body.Meta);
  if (msg.type === 'ack' && msg.body.Payload !== null) {
    const coordinate = coordinateFromAckPayload(msg.body.Payload);
    if (coordinate !== null) out.coordinate = coordinate;
  }
  return out;
}

/** Serf's ping delegate puts 0x01 + a Vivaldi coordinate in acks; anything else is left opaque. */
function coordinateFromAckPayload(payload: Uint8Array): Json {
  if (payload.length < 2 || payload[0] !== PING_VERSION) return null;
  try {
    return structToJson(coordinateSchema, decodeStruct(new MsgpackReader(payload, 1), coordinateSchema));
  } catch {
    return null;
  }
}

const serfBodySchemas = {
  leave: leaveSchema,
  join: joinSchema,
  pushPull: pushPullSchema,
  userEvent: userEventSchema,
  query: querySchema,
  queryResponse: queryResponseSchema,
  conflictResponse: conflictMemberSchema,
  keyRequest: keyRequestSchema,
  keyResponse: keyResponseSchema,
} as const;

export function serfToJson(msg: SerfMessage): Json {
  const typeId = SerfMessageType[msg.type];
  if (msg.type === 'relay') {
    return { typeId, type: 'relay', header: structToJson(relayHeaderSchema, msg.header), inner: serfToJson(msg.inner) };
  }
  const body = msg.body === null ? null : structToJson(serfBodySchemas[msg.type], msg.body);
  const out: { [key: string]: Json } = { typeId, type: msg.type, body };
  if (msg.type === 'query' && msg.body.Filters !== null) {
    out.filters = msg.body.Filters.map((bytes) => {
      const filter = decodeQueryFilter(bytes);
      return filter.type === 'node'
        ? { type: 'node', nodes: filter.nodes }
        : { type: 'tag', ...structToJson(filterTagSchema, filter.filter) };
    });
  }
  if (msg.type === 'conflictResponse' && msg.body !== null) out.tags = Object.fromEntries(msg.body.Tags ?? new Map());
  // Serf's internal queries carry Serf messages in their payloads (§8.7, §8.10): a key request in
  // `_serf_*` key queries, a conflict (6) or key (8) response in the answers. Answers do not name
  // their query, so a response payload is shown decoded only when it parses as one of those.
  if (msg.type === 'query' && msg.body.Name.startsWith('_serf_') && msg.body.Payload?.[0] === SerfMessageType.keyRequest) {
    const inner = tryDecodeSerf(msg.body.Payload);
    if (inner !== null) out.payloadSerf = inner;
  }
  if (msg.type === 'queryResponse' && msg.body.Payload !== null) {
    const first = msg.body.Payload[0];
    if (first === SerfMessageType.conflictResponse || first === SerfMessageType.keyResponse) {
      const inner = tryDecodeSerf(msg.body.Payload);
      if (inner !== null) out.payloadSerf = inner;
    }
  }
  return out;
}

function tryDecodeSerf(payload: Uint8Array): Json {
  try {
    return serfToJson(decodeSerfMessage(payload));
  } catch {
    return null;
  }
}

export function streamToJson(msg: StreamMessage): Json {
  const typeId = MessageType[msg.type];
  switch (msg.type) {
    case 'pushPull': {
      const out: { [key: string]: Json } = {
        typeId,
        type: 'pushPull',
        header: structToJson(pushPullHeaderSchema, msg.header),
        nodes: msg.nodes.map((node) => ({ ...structToJson(pushNodeStateSchema, node), tags: tagsJson(node.Meta) })),
      };
      if (msg.userState.length > 0) out.serf = serfToJson(decodeSerfMessage(msg.userState));
      return out;
    }
    case 'ping': return { typeId, type: 'ping', body: structToJson(pingSchema, msg.body) };
    case 'ack': return { typeId, type: 'ack', body: structToJson(ackSchema, msg.body) };
    case 'err': return { typeId, type: 'err', body: structToJson(errSchema, msg.body) };
    case 'user':
      return { typeId, type: 'user', header: structToJson(userMsgHeaderSchema, msg.header), serf: serfToJson(decodeSerfMessage(msg.payload)) };
  }
}


