// UDP packets (reference §0, §4): build → compress → CRC → encrypt on the way out;
// decrypt → CRC → compress/compound recursion on the way in, exactly as memberlist does.
import { WireError, result, type DecodeResult } from './errors.js';
import { crc32 } from './crc32.js';
import { decryptPacket, encryptPacket, type Keyring, type RandomBytes } from './encryption.js';
import {
  COMPOUND_HEADER_OVERHEAD, COMPOUND_PART_OVERHEAD, MAX_COMPOUND_PARTS, UDP_PACKET_BUDGET, withLimits, type WireLimits,
} from './limits.js';
import { lzwCompress, lzwDecompress } from './lzw.js';
import { MessageType, LZW_ALGO, compressSchema } from './memberlist-schemas.js';
import { decodeMessage, type MemberlistMessage } from './messages.js';
import { MsgpackReader } from './msgpack-reader.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { decodeStruct, encodeStruct } from './schema.js';

/** A wrapper removed while decoding, outermost first. */
export type PacketLayer = 'encrypt' | 'crc' | 'compress' | 'compound';

export interface DecodedPacket {
  readonly layers: PacketLayer[];
  readonly messages: MemberlistMessage[];
}

export interface PacketDecodeOptions {
  /** With a keyring every packet must decrypt with one of its keys (memberlist GossipVerifyIncoming). */
  readonly keyring?: Keyring;
  /** false: a packet no key decrypts is read as plaintext (for rolling encryption out). Default true. */
  readonly verifyIncoming?: boolean;
  readonly limits?: Partial<WireLimits>;
}

export function decodePacket(data: Uint8Array, options: PacketDecodeOptions = {}): DecodeResult<DecodedPacket> {
  return result('memberlist', () => decodePacketOrThrow(data, options));
}

export function decodePacketOrThrow(data: Uint8Array, options: PacketDecodeOptions = {}): DecodedPacket {
  const limits = withLimits(options.limits);
  if (data.length > limits.maxPacketBytes) {
    throw new WireError('input', limits.maxPacketBytes, `packet of ${data.length} bytes is over the ${limits.maxPacketBytes}-byte limit`);
  }
  const layers: PacketLayer[] = [];
  let buf = data;
  if (options.keyring !== undefined && options.keyring.keys().length > 0) {
    try {
      buf = decryptPacket(options.keyring, data).plaintext;
      layers.push('encrypt');
    } catch (err) {
      if (options.verifyIncoming !== false) throw err;
    }
  }
  if (buf.length === 0) throw new WireError('memberlist', 0, 'empty packet');
  if (buf[0] === MessageType.hasCrc) {
    if (buf.length < 5) throw new WireError('crc', 0, `hasCrc packet of ${buf.length} bytes is shorter than its 5-byte header`);
    const expected = ((buf[1] as number) << 24 | (buf[2] as number) << 16 | (buf[3] as number) << 8 | (buf[4] as number)) >>> 0;
    buf = buf.subarray(5);
    const actual = crc32(buf);
    if (actual !== expected) {
      throw new WireError('crc', 1, `CRC mismatch: packet says ${hex32(expected)}, contents give ${hex32(actual)}`);
    }
    layers.push('crc');
  }
  const messages: MemberlistMessage[] = [];
  collect(buf, 0, buf.length, 0, limits, layers, messages);
  return { layers, messages };
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** memberlist handleCommand: a compound or compress wrapper recurses, anything else is a message. */
function collect(buf: Uint8Array, start: number, end: number, depth: number, limits: WireLimits, layers: PacketLayer[], out: MemberlistMessage[]): void {
  if (end <= start) throw new WireError('memberlist', start, 'empty message');
  const typeId = buf[start] as number;
  if (typeId === MessageType.compound || typeId === MessageType.compress) {
    if (depth >= limits.maxNesting) throw new WireError(typeId === MessageType.compound ? 'compound' : 'compress', start, `wrappers nested deeper than ${limits.maxNesting}`);
    if (typeId === MessageType.compound) {
      layers.push('compound');
      for (const [partStart, partEnd] of compoundParts(buf, start, end)) collect(buf, partStart, partEnd, depth + 1, limits, layers, out);
    } else {
      layers.push('compress');
      const inner = decompressMessage(buf, start, end, limits.maxDecompressedPacketBytes);
      collect(inner, 0, inner.length, depth + 1, limits, layers, out);
    }
    return;
  }
  if (typeId === MessageType.hasCrc) throw new WireError('crc', start, 'hasCrc is only valid as the outermost layer');
  out.push(decodeMessage(buf, start, end));
}

/**
 * Splits a compound message (type byte at `start`) into [start, end) pairs of its parts.
 * Stricter than Go, which keeps the parts before a truncated one: a peer never sends a
 * truncated compound, so one is malformed input and the whole packet is refused.
 */
export function compoundParts(buf: Uint8Array, start: number, end: number): Array<[number, number]> {
  if (end - start < 2) throw new WireError('compound', start, 'missing compound length byte');
  const count = buf[start + 1] as number;
  let lengthsAt = start + 2;
  let partAt = lengthsAt + count * 2;
  if (partAt > end) throw new WireError('compound', start + 2, `truncated length table: ${count} parts need ${count * 2} bytes`);
  const parts: Array<[number, number]> = [];
  for (let i = 0; i < count; i++) {
    const len = ((buf[lengthsAt] as number) << 8) | (buf[lengthsAt + 1] as number);
    if (partAt + len > end) throw new WireError('compound', partAt, `part ${i + 1} of ${count} is truncated: needs ${len} bytes, ${end - partAt} left`);
    parts.push([partAt, partAt + len]);
    partAt += len;
    lengthsAt += 2;
  }
  return parts;
}

/** Expands a compress (9) message at `start` and returns the inner message bytes. */
export function decompressMessage(buf: Uint8Array, start: number, end: number, maxBytes: number): Uint8Array {
  const r = new MsgpackReader(buf, start + 1, end, 'compress');
  const c = decodeStruct(r, compressSchema);
  if (c.Algo !== LZW_ALGO) throw new WireError('compress', start + 1, `unknown compression algorithm ${c.Algo}`);
  return lzwDecompress(c.Buf, maxBytes);
}

/** Wraps a message in compress (9) + {Algo: 0, Buf: LZW}. */
const compressWriter = new MsgpackWriter('gossip', 2048);

export function compressMessage(msg: Uint8Array): Uint8Array {
  const w = compressWriter;
  w.reset();
  w.byte(MessageType.compress);
  encodeStruct(w, compressSchema, { Algo: LZW_ALGO, Buf: lzwCompress(msg) });
  return w.finish();
}

/** A compound (7) of two or more messages. */
export function encodeCompound(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length > MAX_COMPOUND_PARTS) throw new RangeError(`a compound holds at most ${MAX_COMPOUND_PARTS} parts, got ${parts.length}`);
  let size = COMPOUND_HEADER_OVERHEAD;
  for (const p of parts) {
    if (p.length > 0xffff) throw new RangeError(`a compound part holds at most 65535 bytes, got ${p.length}`);
    size += COMPOUND_PART_OVERHEAD + p.length;
  }
  const out = new Uint8Array(size);
  out[0] = MessageType.compound;
  out[1] = parts.length;
  let lengthAt = 2;
  let at = 2 + parts.length * 2;
  for (const p of parts) {
    out[lengthAt] = p.length >>> 8;
    out[lengthAt + 1] = p.length & 0xff;
    lengthAt += 2;
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The size of the packet `messages` make: one message bare, several as a compound. */
export function packedSize(messages: readonly Uint8Array[]): number {
  if (messages.length === 1) return (messages[0] as Uint8Array).length;
  let size = COMPOUND_HEADER_OVERHEAD;
  for (const m of messages) size += COMPOUND_PART_OVERHEAD + m.length;
  return size;
}

/**
 * Takes messages in order while the packet stays within `budget` bytes and 127 parts; returns
 * how many fit. The first message is always taken, so a caller can never stall on one that is
 * too big (memberlist sends an oversized message alone and lets the network refuse it).
 */
export function fitToBudget(messages: readonly Uint8Array[], budget = UDP_PACKET_BUDGET): number {
  if (messages.length === 0) return 0;
  let size = COMPOUND_HEADER_OVERHEAD + COMPOUND_PART_OVERHEAD + (messages[0] as Uint8Array).length;
  let n = 1;
  while (n < messages.length && n < MAX_COMPOUND_PARTS) {
    const next = size + COMPOUND_PART_OVERHEAD + (messages[n] as Uint8Array).length;
    if (next > budget) break;
    size = next;
    n++;
  }
  return n;
}

export function addCrc(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(msg.length + 5);
  const crc = crc32(msg);
  out[0] = MessageType.hasCrc;
  out[1] = crc >>> 24;
  out[2] = (crc >>> 16) & 0xff;
  out[3] = (crc >>> 8) & 0xff;
  out[4] = crc & 0xff;
  out.set(msg, 5);
  return out;
}

export interface PacketEncodeOptions {
  /** Compress when that makes the packet smaller (memberlist EnableCompression). */
  readonly compress?: boolean;
  /** Add the CRC wrapper; memberlist does when it knows the target and the target's PMax >= 5. */
  readonly crc?: boolean;
  readonly encryption?: { readonly keyring: Keyring; readonly randomBytes: RandomBytes; readonly version?: 0 | 1 };
}

/** Builds one UDP packet from encoded messages (bare if one, compound if several). */
export function encodePacket(messages: readonly Uint8Array[], options: PacketEncodeOptions = {}): Uint8Array {
  if (messages.length === 0) throw new RangeError('a packet needs at least one message');
  let buf = messages.length === 1 ? (messages[0] as Uint8Array) : encodeCompound(messages);
  if (options.compress === true) {
    const compressed = compressMessage(buf);
    if (compressed.length < buf.length) buf = compressed;
  }
  if (options.crc === true) buf = addCrc(buf);
  if (options.encryption !== undefined) {
    const { keyring, randomBytes, version } = options.encryption;
    buf = encryptPacket(keyring, buf, randomBytes, version ?? 1);
  }
  return buf;
}
