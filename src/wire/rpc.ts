// Serf's agent RPC (IPC) codec, reference §9. The connection is a plain TCP stream of consecutive
// msgpack objects with no framing: a request header, then a body only if the command takes one;
// a response header, then a body only if the command returns one. So the reader must find where
// each object ends before it can know the next one's type, and it must do so as bytes trickle in.
//
// Encoding uses the RPC handle (MsgpackHandle{RawToString, WriteExt}): strings of 32–255 bytes
// as str8 and []byte as bin (fixtures README item 18), so output is byte-identical to Go's except
// where Go itself is not deterministic (maps of more than one key).
import { WireError, result, type DecodeResult } from './errors.js';
import { DEFAULT_MAX_DEPTH, MsgpackReader, describe } from './msgpack-reader.js';
import { MsgpackWriter } from './msgpack-writer.js';
import { decodeValue, encodeValue, struct, t, type Infer, type Kind } from './schema.js';
import {
  RpcError, RpcMemberEvents, RpcQueryEvent, RpcUserEvent, requestHeaderSchema, responseHeaderSchema, rpcCommands,
  rpcRecordSchemas, type RpcCommandName, type RpcCommandSpec, type RpcRecord, type RpcRecordKind, type RpcRequestBody,
  type RpcRequestHeader, type RpcResponseBody, type RpcResponseHeader,
} from './rpc-schemas.js';

// ---------------------------------------------------------------------------------------------
// Typed objects

/** Decodes the one object that fills bytes[start, end) exactly (a frame from RpcStreamDecoder). Throws WireError('rpc'). */
export function decodeRpc<K extends Kind>(kind: K, bytes: Uint8Array, start = 0, end = bytes.length): Infer<K> {
  const r = new MsgpackReader(bytes, start, end, 'rpc');
  const value = decodeValue(r, kind) as Infer<K>;
  if (r.pos !== end) throw new WireError('rpc', r.pos, `${end - r.pos} byte(s) left after the object`);
  return value;
}

/** Encodes one object with the RPC handle. */
export function encodeRpc<K extends Kind>(kind: K, value: Infer<K>): Uint8Array {
  const w = new MsgpackWriter('rpc');
  encodeValue(w, kind, value);
  return w.finish();
}

type BodyArgs<B> = [B] extends [never] ? [] : [body: B];

/** A request: header, then the command's body when it takes one. */
export function encodeRpcRequest<C extends RpcCommandName>(command: C, seq: bigint, ...body: BodyArgs<RpcRequestBody<C>>): Uint8Array {
  const w = new MsgpackWriter('rpc');
  encodeValue(w, requestHeaderSchema, { Command: command, Seq: seq } satisfies RpcRequestHeader);
  const kind: Kind | null = rpcCommands[command].request;
  if (kind !== null) encodeValue(w, kind, body[0]);
  return w.finish();
}

/**
 * A response: header, then the command's body when it returns one. The agent sends that body even
 * with an Error set; for the errors that end a request early (see responseBodySchema) encode the
 * header alone with encodeRpc(responseHeaderSchema, header).
 */
export function encodeRpcResponse<C extends RpcCommandName>(command: C, header: RpcResponseHeader, ...body: BodyArgs<RpcResponseBody<C>>): Uint8Array {
  const w = new MsgpackWriter('rpc');
  encodeValue(w, responseHeaderSchema, header);
  const kind: Kind | null = rpcCommands[command].response;
  if (kind !== null) encodeValue(w, kind, body[0]);
  return w.finish();
}

/** One record of a stream, monitor or query: a header with the command's Seq and no error, then the record. */
export function encodeRpcRecord(seq: bigint, record: RpcRecord): Uint8Array {
  const w = new MsgpackWriter('rpc');
  encodeValue(w, responseHeaderSchema, { Seq: seq, Error: '' } satisfies RpcResponseHeader);
  encodeValue(w, rpcRecordSchemas[record.kind], record.value);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Dispatch: which body follows which header

const specs = new Map<string, RpcCommandSpec>(Object.entries(rpcCommands));

/** The spec of a command name received off the wire, or undefined for one Serf does not know. */
export function rpcCommandSpec(command: string): RpcCommandSpec | undefined {
  return specs.get(command);
}

/**
 * The schema of the body after a request header, or null when none follows. An unknown command
 * has none as far as the agent is concerned: it answers "Unsupported command" and hangs up.
 */
export function requestBodySchema(command: string): Kind | null {
  return specs.get(command)?.request ?? null;
}

/** The agent rejects these before it reads the request body, and sends the header alone (ipc.go handleRequest). */
const headerOnlyErrors: ReadonlySet<string> = new Set([RpcError.handshakeRequired, RpcError.authRequired, RpcError.unsupportedCommand]);

/** The schema of the body after the first response header to `command`, or null when none follows. */
export function responseBodySchema(command: string, error: string): Kind | null {
  if (headerOnlyErrors.has(error)) return null;
  return specs.get(command)?.response ?? null;
}

const eventHeadSchema = struct('eventRecordHead', { Event: t.string });
const memberEvents: ReadonlySet<string> = new Set(RpcMemberEvents);

/** Which record kind a `stream` record is, from its Event field. */
function eventRecordKind(event: string, at: number): RpcRecordKind {
  if (memberEvents.has(event)) return 'memberEvent';
  if (event === RpcUserEvent) return 'userEvent';
  if (event === RpcQueryEvent) return 'queryEvent';
  throw new WireError('rpc', at, `unknown stream event ${JSON.stringify(event)}`);
}

/** Decodes a record that follows a later response header of a streaming command. Throws WireError('rpc'). */
export function decodeRpcRecord(command: string, bytes: Uint8Array, start = 0, end = bytes.length): RpcRecord {
  const records = specs.get(command)?.records ?? [];
  let kind: RpcRecordKind;
  if (records.length === 0) throw new WireError('rpc', start, `command ${JSON.stringify(command)} sends no records`);
  else if (records.length === 1) kind = records[0] as RpcRecordKind;
  else kind = eventRecordKind(decodeRpc(eventHeadSchema, bytes, start, end).Event, start);
  return { kind, value: decodeRpc(rpcRecordSchemas[kind], bytes, start, end) } as RpcRecord;
}

// ---------------------------------------------------------------------------------------------
// Splitting the stream into objects

export const DEFAULT_RPC_MAX_OBJECT_BYTES = 16 * 1024 * 1024;

/** An idle decoder keeps a buffer up to this size for the next objects; a bigger one is dropped. */
const RETAINED_BUFFER_BYTES = 64 * 1024;

export interface RpcStreamOptions {
  /** The largest single object accepted; a bigger one is refused as soon as its headers show its size. */
  readonly maxObjectBytes?: number;
}

/** One complete msgpack object of the stream. */
export interface RpcFrame {
  /** Where it starts, counted from the first byte ever pushed. */
  readonly offset: number;
  /** Its bytes (a copy: the decoder reuses its buffer). */
  readonly bytes: Uint8Array;
}

/**
 * Cuts an RPC byte stream into whole msgpack objects, however the bytes arrive. Use:
 * `push(chunk)`, then call `next()` until it returns null (needs more bytes). Decode each frame
 * with the schema the conversation implies (decodeRpc). Malformed input or an object over the
 * limit throws a WireError('rpc') with the stream offset; the stream cannot be resynchronised
 * after that, so every later call throws it again.
 *
 * The scan resumes where it stopped instead of re-reading the object from its start on every
 * chunk, so an object that trickles in byte by byte still costs linear time. Depth is not limited
 * here (the scan keeps a count, not a stack); decoding the frame limits it.
 */
export class RpcStreamDecoder {
  readonly maxObjectBytes: number;
  private buf = new Uint8Array(0);
  /** Stream offset of buf[0]. */
  private base = 0;
  /** First byte of the current (unreturned) object. */
  private start = 0;
  /** End of the received bytes. */
  private end = 0;
  /** How far the current object has been scanned. */
  private scan = 0;
  /** Values of the current object still to scan: 1 at its start; a container adds its entries. */
  private values = 1;
  /** Bytes of a str/bin/ext payload still to pass over. */
  private payload = 0;
  private failure: WireError | null = null;

  constructor(options: RpcStreamOptions = {}) {
    const max = options.maxObjectBytes ?? DEFAULT_RPC_MAX_OBJECT_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`maxObjectBytes must be a positive integer, got ${max}`);
    this.maxObjectBytes = max;
  }

  /** Stream offset of the next object to be returned. */
  get offset(): number {
    return this.base + this.start;
  }

  /** Bytes received but not yet returned in a frame (non-zero at end of stream = a cut-off object). */
  get buffered(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array): void {
    if (this.failure !== null) throw this.failure;
    // Draining with next() after each push leaves at most one partial object, which next() keeps
    // under the limit; so more than that buffered means the caller stopped draining.
    if (this.buffered > this.maxObjectBytes) {
      this.fail(this.offset, `${this.buffered} bytes buffered, over the ${this.maxObjectBytes}-byte object limit: call next() after push()`);
    }
    if (this.end + chunk.length > this.buf.length) this.makeRoom(chunk.length);
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** The next complete object, or null until more bytes arrive. */
  next(): RpcFrame | null {
    if (this.failure !== null) throw this.failure;
    for (;;) {
      if (this.payload > 0) {
        const take = Math.min(this.payload, this.end - this.scan);
        this.scan += take;
        this.payload -= take;
        if (this.payload > 0) return null;
      }
      if (this.values === 0) return this.emit();
      if (this.scan >= this.end) return null;
      if (!this.scanHeader()) return null;
      const atLeast = this.scan - this.start + this.payload + this.values; // each value left takes a byte or more
      if (atLeast > this.maxObjectBytes) {
        this.fail(this.offset, `object of at least ${atLeast} bytes is over the ${this.maxObjectBytes}-byte limit`);
      }
    }
  }

  private emit(): RpcFrame {
    const frame = { offset: this.offset, bytes: this.buf.slice(this.start, this.scan) };
    this.start = this.scan;
    this.values = 1;
    if (this.start === this.end) {
      // Nothing pending: start over at the front, and let go of a buffer one big object grew.
      this.base += this.start;
      this.start = this.end = this.scan = 0;
      if (this.buf.length > RETAINED_BUFFER_BYTES) this.buf = new Uint8Array(0);
    }
    return frame;
  }

  private fail(offset: number, reason: string): never {
    this.failure = new WireError('rpc', offset, reason);
    throw this.failure;
  }

  /** Moves the unreturned bytes to the front, and grows the buffer if they and `more` still do not fit. */
  private makeRoom(more: number): void {
    const keep = this.end - this.start;
    const need = keep + more;
    if (need <= this.buf.length) {
      this.buf.copyWithin(0, this.start, this.end);
    } else {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2, 4096));
      grown.set(this.buf.subarray(this.start, this.end), 0);
      this.buf = grown;
    }
    this.base += this.start;
    this.scan -= this.start;
    this.end = keep;
    this.start = 0;
  }

  /** Consumes the header of the value at `scan` if all of it is here; false if it is not. */
  private scanHeader(): boolean {
    const buf = this.buf;
    const at = this.scan;
    const b = buf[at] as number;
    const avail = this.end - at;
    let header = 1; // fixints, nil, false and true are whole in their type byte
    let payload = 0;
    let entries = 0;
    if (b >= 0xa0 && b <= 0xbf) payload = b & 0x1f;
    else if (b >= 0x90 && b <= 0x9f) entries = b & 0x0f;
    else if (b >= 0x80 && b <= 0x8f) entries = (b & 0x0f) * 2;
    else if (b === 0xc1) this.fail(this.base + at, `invalid msgpack type byte ${describe(b)}`);
    else if (b >= 0xc4 && b <= 0xdf) {
      header = FIXED_HEADER[b - 0xc4] as number;
      if (avail < header) return false;
      switch (b) {
        case 0xc4: case 0xd9: payload = buf[at + 1] as number; break;
        case 0xc5: case 0xda: payload = u16(buf, at + 1); break;
        case 0xc6: case 0xdb: payload = u32(buf, at + 1); break;
        case 0xc7: payload = buf[at + 1] as number; break;
        case 0xc8: payload = u16(buf, at + 1); break;
        case 0xc9: payload = u32(buf, at + 1); break;
        case 0xd4: payload = 1; break;
        case 0xd5: payload = 2; break;
        case 0xd6: payload = 4; break;
        case 0xd7: payload = 8; break;
        case 0xd8: payload = 16; break;
        case 0xdc: entries = u16(buf, at + 1); break;
        case 0xdd: entries = u32(buf, at + 1); break;
        case 0xde: entries = u16(buf, at + 1) * 2; break;
        case 0xdf: entries = u32(buf, at + 1) * 2; break;
        default: break; // fixed-size numbers: the header is the whole value
      }
    }
    this.scan = at + header;
    this.payload = payload;
    this.values += entries - 1;
    return true;
  }
}

/**
 * Header size by type byte, from 0xc4 to 0xdf: type byte plus length or count field (plus the
 * ext type byte for ext), or the whole value for fixed-size numbers.
 */
const FIXED_HEADER: readonly number[] = [
  2, 3, 5, // c4 c5 c6 bin 8/16/32
  3, 4, 6, // c7 c8 c9 ext 8/16/32
  5, 9, // ca float32, cb float64
  2, 3, 5, 9, // cc cd ce cf uint 8..64
  2, 3, 5, 9, // d0 d1 d2 d3 int 8..64
  2, 2, 2, 2, 2, // d4..d8 fixext 1/2/4/8/16
  2, 3, 5, // d9 da db str 8/16/32
  3, 5, // dc dd array 16/32
  3, 5, // de df map 16/32
];

function u16(buf: Uint8Array, at: number): number {
  return ((buf[at] as number) << 8) | (buf[at + 1] as number);
}

function u32(buf: Uint8Array, at: number): number {
  return ((buf[at] as number) * 0x1000000) + (((buf[at + 1] as number) << 16) | ((buf[at + 2] as number) << 8) | (buf[at + 3] as number));
}

/** Splits a whole captured stream (a tool's input): its frames, and how many bytes at the end form no whole object. */
export function splitRpcStream(bytes: Uint8Array, options: RpcStreamOptions = {}): DecodeResult<{ frames: RpcFrame[]; incomplete: number }> {
  return result('rpc', () => {
    const decoder = new RpcStreamDecoder(options);
    decoder.push(bytes);
    const frames: RpcFrame[] = [];
    for (let frame = decoder.next(); frame !== null; frame = decoder.next()) frames.push(frame);
    return { frames, incomplete: decoder.buffered };
  });
}

// ---------------------------------------------------------------------------------------------
// Schema-less decoding, for tools and bodies of unknown commands

/** A msgpack value as the RPC handle writes it: str → string, bin → bytes, ints beyond 2^53 → bigint. */
export type RpcValue = null | boolean | number | bigint | string | Uint8Array | RpcValue[] | RpcObject | Map<RpcValue, RpcValue>;
export interface RpcObject {
  [key: string]: RpcValue;
}

export interface RpcGenericOptions {
  /** 'object' (default): maps become plain objects and need string keys. 'map': maps become Map, any keys. */
  readonly maps?: 'object' | 'map';
  /** How deep arrays and maps may nest (default 32). */
  readonly maxDepth?: number;
}

const I64_MIN = -0x8000000000000000n;
const U64_MAX = 0xffffffffffffffffn;
const SAFE_MIN = BigInt(Number.MIN_SAFE_INTEGER);
const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** Decodes the one object that fills bytes[start, end) without a schema. Throws WireError('rpc'). Bytes are views of the input. */
export function decodeRpcGeneric(bytes: Uint8Array, start = 0, end = bytes.length, options: RpcGenericOptions = {}): RpcValue {
  const r = new MsgpackReader(bytes, start, end, 'rpc', options.maxDepth ?? DEFAULT_MAX_DEPTH);
  const value = readAny(r, options.maps === 'map');
  if (r.pos !== end) throw new WireError('rpc', r.pos, `${end - r.pos} byte(s) left after the object`);
  return value;
}

function readAny(r: MsgpackReader, asMap: boolean): RpcValue {
  const at = r.pos;
  const b = r.peek();
  if (b === 0xc0) {
    r.nil();
    return null;
  }
  if (b === 0xc2 || b === 0xc3) return r.bool();
  if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) {
    const v = r.bigint(I64_MIN, U64_MAX);
    return v >= SAFE_MIN && v <= SAFE_MAX ? Number(v) : v;
  }
  if (b === 0xca || b === 0xcb) return r.float();
  if ((b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb) return r.string();
  if (b === 0xc4 || b === 0xc5 || b === 0xc6) return r.bytes();
  if ((b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd) {
    const n = r.arrayLenOrNil();
    r.enter();
    const out: RpcValue[] = new Array<RpcValue>(n);
    for (let i = 0; i < n; i++) out[i] = readAny(r, asMap);
    r.leave();
    return out;
  }
  if ((b >= 0x80 && b <= 0x8f) || b === 0xde || b === 0xdf) {
    const n = r.mapLenOrNil();
    r.enter();
    const out = asMap ? readMap(r, n) : readObject(r, n);
    r.leave();
    return out;
  }
  return r.fail(`${describe(b)} is an ext or invalid type, which Serf's RPC never sends`, at);
}

function readMap(r: MsgpackReader, n: number): Map<RpcValue, RpcValue> {
  const out = new Map<RpcValue, RpcValue>();
  for (let i = 0; i < n; i++) {
    const key = readAny(r, true);
    out.set(key, readAny(r, true));
  }
  return out;
}

function readObject(r: MsgpackReader, n: number): RpcObject {
  const out: RpcObject = {};
  for (let i = 0; i < n; i++) {
    const at = r.pos;
    const key = readAny(r, false);
    if (typeof key !== 'string') r.fail('map key is not a string (decode with maps: "map")', at);
    // defineProperty, not assignment: a "__proto__" key must stay a plain key.
    Object.defineProperty(out, key, { value: readAny(r, false), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
