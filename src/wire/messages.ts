// memberlist messages: one type byte followed by one msgpack body (reference §2). The wrappers
// (compound, compress, hasCrc, encrypt) live in packet.ts; the TCP-only push/pull in stream.ts.
import { WireError } from './errors.js';
import { MsgpackReader } from './msgpack-reader.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { decodeStruct, encodeStruct, type KStruct, type Fields } from './schema.js';
import {
  MessageType, ackSchema, aliveSchema, deadSchema, errSchema, indirectPingSchema, nackSchema, pingSchema, suspectSchema,
  type Ack, type Alive, type Dead, type ErrResp, type IndirectPing, type Nack, type Ping, type Suspect,
} from './memberlist-schemas.js';

export type MemberlistMessage =
  | { readonly type: 'ping'; readonly body: Ping }
  | { readonly type: 'indirectPing'; readonly body: IndirectPing }
  | { readonly type: 'ack'; readonly body: Ack }
  | { readonly type: 'suspect'; readonly body: Suspect }
  | { readonly type: 'alive'; readonly body: Alive }
  | { readonly type: 'dead'; readonly body: Dead }
  | { readonly type: 'nack'; readonly body: Nack }
  | { readonly type: 'err'; readonly body: ErrResp }
  /** A user (delegate) message: for Serf, one Serf type byte and its msgpack body. */
  | { readonly type: 'user'; readonly payload: Uint8Array };

export type BodyMessageType = Exclude<MemberlistMessage['type'], 'user'>;

/** The schema of each message that has a msgpack body, by type name. */
export const bodySchemas: { readonly [T in BodyMessageType]: KStruct<Fields> } = {
  ping: pingSchema,
  indirectPing: indirectPingSchema,
  ack: ackSchema,
  suspect: suspectSchema,
  alive: aliveSchema,
  dead: deadSchema,
  nack: nackSchema,
  err: errSchema,
};

const bodyTypeById = new Map<number, BodyMessageType>(
  (Object.keys(bodySchemas) as BodyMessageType[]).map((name) => [MessageType[name], name]),
);

/**
 * Decodes one plain memberlist message from bytes[start, end). Wrapper types are the caller's
 * business; meeting one here is an error. Like Go, bytes after the msgpack body are ignored.
 */
export function decodeMessage(bytes: Uint8Array, start = 0, end = bytes.length): MemberlistMessage {
  if (end <= start) throw new WireError('memberlist', start, 'empty message');
  const typeId = bytes[start] as number;
  if (typeId === MessageType.user) return { type: 'user', payload: bytes.subarray(start + 1, end) };
  const type = bodyTypeById.get(typeId);
  if (type === undefined) throw new WireError('memberlist', start, `message type ${typeId} is not a plain message here`);
  const r = new MsgpackReader(bytes, start + 1, end, 'memberlist');
  return { type, body: decodeStruct(r, bodySchemas[type]) } as MemberlistMessage;
}

const sharedWriter = new MsgpackWriter('gossip', 2048);

/** Encodes one memberlist message: its type byte, then the body exactly as Go would write it. */
export function encodeMessage(msg: MemberlistMessage): Uint8Array {
  if (msg.type === 'user') {
    const out = new Uint8Array(msg.payload.length + 1);
    out[0] = MessageType.user;
    out.set(msg.payload, 1);
    return out;
  }
  const w = sharedWriter;
  w.reset();
  w.byte(MessageType[msg.type]);
  encodeStruct(w, bodySchemas[msg.type], msg.body);
  return w.finish();
}
