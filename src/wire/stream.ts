// TCP stream messages (reference §5): push/pull, stream ping and ack, user, err; optionally
// compressed (9) and, with a keyring, inside an encrypted frame (10). A Go peer sends no length
// and may keep the connection open, so the parser is incremental: it says how many more bytes it
// needs until the whole message is there.
import { TruncatedError, WireError } from './errors.js';
import { decryptStreamFrame, encryptStreamFrame, type Keyring, type RandomBytes } from './encryption.js';
import { withLimits, type WireLimits } from './limits.js';
import { lzwCompress, lzwDecompress } from './lzw.js';
import {
  LZW_ALGO, MessageType, ackSchema, compressSchema, errSchema, pingSchema, pushNodeStateSchema, pushPullHeaderSchema,
  userMsgHeaderSchema, type Ack, type ErrResp, type Ping, type PushNodeState, type PushPullHeader, type UserMsgHeader,
} from './memberlist-schemas.js';
import { MsgpackReader } from './msgpack-reader.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { decodeStruct, encodeStruct } from './schema.js';

export type StreamMessage =
  | { readonly type: 'pushPull'; readonly header: PushPullHeader; readonly nodes: PushNodeState[]; readonly userState: Uint8Array }
  | { readonly type: 'ping'; readonly body: Ping }
  | { readonly type: 'ack'; readonly body: Ack }
  | { readonly type: 'user'; readonly header: UserMsgHeader; readonly payload: Uint8Array }
  | { readonly type: 'err'; readonly body: ErrResp };

export type StreamLayer = 'encrypt' | 'compress';

export type StreamParse =
  | { readonly status: 'complete'; readonly message: StreamMessage; readonly layers: StreamLayer[]; readonly consumed: number }
  /** `needed` is the least number of further bytes that could complete the message. */
  | { readonly status: 'incomplete'; readonly needed: number }
  | { readonly status: 'error'; readonly error: WireError };

export interface StreamOptions {
  readonly keyring?: Keyring;
  /** With a keyring, refuse plaintext streams (memberlist GossipVerifyIncoming). Default true. */
  readonly verifyIncoming?: boolean;
  readonly limits?: Partial<WireLimits>;
}

/**
 * Parses the stream message at the start of `buf` (everything received so far). Call again with
 * more bytes while it answers 'incomplete'. Never throws.
 */
export function parseStream(buf: Uint8Array, options: StreamOptions = {}): StreamParse {
  try {
    return parseOrThrow(buf, options);
  } catch (err) {
    if (err instanceof TruncatedError) return { status: 'incomplete', needed: err.needed };
    if (err instanceof WireError) return { status: 'error', error: err };
    const message = err instanceof Error ? err.message : String(err);
    return { status: 'error', error: new WireError('stream', 0, `internal: ${message}`) };
  }
}

function parseOrThrow(buf: Uint8Array, options: StreamOptions): StreamParse {
  const limits = withLimits(options.limits);
  if (buf.length === 0) throw new TruncatedError('stream', 0, 1);
  const encrypted = options.keyring !== undefined && options.keyring.keys().length > 0;
  const layers: StreamLayer[] = [];
  if (buf[0] === MessageType.encrypt) {
    if (!encrypted) throw new WireError('encrypt', 0, 'Remote state is encrypted and encryption is not configured');
    const { plaintext, frameLength } = decryptStreamFrame(options.keyring as Keyring, buf);
    layers.push('encrypt');
    // The frame is whole, so running short inside it is malformed input, not a wait for more.
    const message = completeInside(() => parseMessage(plaintext, 0, limits, layers));
    return { status: 'complete', message: message.message, layers, consumed: frameLength };
  }
  if (encrypted && options.verifyIncoming !== false) {
    throw new WireError('encrypt', 0, 'Encryption is configured but remote state is not encrypted');
  }
  const { message, consumed } = parseMessage(buf, 0, limits, layers);
  return { status: 'complete', message, layers, consumed };
}

function completeInside<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof TruncatedError) throw new WireError(err.layer, err.offset, 'message ends before its declared length');
    throw err;
  }
}

/** memberlist readStream: one optional compress layer, then the message. */
function parseMessage(buf: Uint8Array, start: number, limits: WireLimits, layers: StreamLayer[]): { message: StreamMessage; consumed: number } {
  if (buf[start] === MessageType.compress) {
    const r = new MsgpackReader(buf, start + 1, buf.length, 'compress');
    const c = decodeStruct(r, compressSchema);
    if (c.Algo !== LZW_ALGO) throw new WireError('compress', start + 1, `unknown compression algorithm ${c.Algo}`);
    const inner = completeInside(() => lzwDecompress(c.Buf, limits.maxStreamBytes));
    layers.push('compress');
    const message = completeInside(() => parseBody(inner, 0, limits).message);
    return { message, consumed: r.pos - start };
  }
  return parseBody(buf, start, limits);
}

function parseBody(buf: Uint8Array, start: number, limits: WireLimits): { message: StreamMessage; consumed: number } {
  if (start >= buf.length) throw new TruncatedError('stream', start, 1);
  const typeId = buf[start] as number;
  const r = new MsgpackReader(buf, start + 1, buf.length, 'stream');
  let message: StreamMessage;
  switch (typeId) {
    case MessageType.pushPull: {
      const header = decodeStruct(r, pushPullHeaderSchema);
      if (header.Nodes < 0 || header.Nodes > limits.maxPushPullNodes) {
        throw new WireError('stream', start + 1, `push/pull announces ${header.Nodes} nodes; the limit is ${limits.maxPushPullNodes}`);
      }
      if (header.UserStateLen < 0 || header.UserStateLen > limits.maxStreamBytes) {
        throw new WireError('stream', start + 1, `push/pull user state of ${header.UserStateLen} bytes is over the ${limits.maxStreamBytes}-byte limit`);
      }
      const nodes: PushNodeState[] = [];
      for (let i = 0; i < header.Nodes; i++) nodes.push(decodeStruct(r, pushNodeStateSchema));
      const userState = takeRaw(r, header.UserStateLen);
      message = { type: 'pushPull', header, nodes, userState };
      break;
    }
    case MessageType.ping:
      message = { type: 'ping', body: decodeStruct(r, pingSchema) };
      break;
    case MessageType.ack:
      message = { type: 'ack', body: decodeStruct(r, ackSchema) };
      break;
    case MessageType.err:
      message = { type: 'err', body: decodeStruct(r, errSchema) };
      break;
    case MessageType.user: {
      const header = decodeStruct(r, userMsgHeaderSchema);
      if (header.UserMsgLen < 0 || header.UserMsgLen > limits.maxStreamBytes) {
        throw new WireError('stream', start + 1, `user message of ${header.UserMsgLen} bytes is over the ${limits.maxStreamBytes}-byte limit`);
      }
      message = { type: 'user', header, payload: takeRaw(r, header.UserMsgLen) };
      break;
    }
    default:
      throw new WireError('stream', start, `message type ${typeId} is not a stream message`);
  }
  return { message, consumed: r.pos - start };
}

function takeRaw(r: MsgpackReader, len: number): Uint8Array {
  if (r.remaining < len) throw new TruncatedError('stream', r.pos, len - r.remaining);
  const out = r.buf.subarray(r.pos, r.pos + len);
  r.pos += len;
  return out;
}

export interface StreamEncodeOptions {
  /** memberlist compresses every stream message when compression is on, even when that makes it bigger. */
  readonly compress?: boolean;
  readonly encryption?: { readonly keyring: Keyring; readonly randomBytes: RandomBytes; readonly version?: 0 | 1 };
}

/** Encodes a stream message with its optional compress and encrypt layers. */
export function encodeStream(message: StreamMessage, options: StreamEncodeOptions = {}): Uint8Array {
  return sealStream(encodeStreamPlain(message, options.compress === true), options);
}

/**
 * The message with its optional compress layer but not yet encrypted: the part of encodeStream
 * that is a pure function of the message, so a sender may keep it and seal it again later (the
 * encrypted frame takes a fresh nonce every time).
 */
export function encodeStreamPlain(message: StreamMessage, compress: boolean): Uint8Array {
  const buf = encodeStreamBody(message);
  if (!compress) return buf;
  const w = new MsgpackWriter('gossip', buf.length + 32);
  w.byte(MessageType.compress);
  encodeStruct(w, compressSchema, { Algo: LZW_ALGO, Buf: lzwCompress(buf) });
  return w.finish();
}

/** The encrypt layer of encodeStream (a no-op without `options.encryption`). */
export function sealStream(plain: Uint8Array, options: StreamEncodeOptions): Uint8Array {
  if (options.encryption === undefined) return plain;
  const { keyring, randomBytes, version } = options.encryption;
  return encryptStreamFrame(keyring, plain, randomBytes, version ?? 1);
}

export function encodeStreamBody(message: StreamMessage): Uint8Array {
  const w = new MsgpackWriter('gossip', 1024);
  w.byte(MessageType[message.type]);
  switch (message.type) {
    case 'pushPull':
      encodeStruct(w, pushPullHeaderSchema, { ...message.header, Nodes: message.nodes.length, UserStateLen: message.userState.length });
      for (const node of message.nodes) encodeStruct(w, pushNodeStateSchema, node);
      w.raw(message.userState);
      break;
    case 'ping':
      encodeStruct(w, pingSchema, message.body);
      break;
    case 'ack':
      encodeStruct(w, ackSchema, message.body);
      break;
    case 'err':
      encodeStruct(w, errSchema, message.body);
      break;
    case 'user':
      encodeStruct(w, userMsgHeaderSchema, { UserMsgLen: message.payload.length });
      w.raw(message.payload);
      break;
  }
  return w.finish();
}
