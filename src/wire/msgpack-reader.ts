// A small msgpack reader that knows what Go sends (reference §1.1–1.2).
//
// Why not msgpackr: go-msgpack with a zero MsgpackHandle writes every []byte field (addresses,
// Vsn, Meta, payloads, LZW buffers) as a msgpack *str*; a generic decoder turns those into JS
// strings and corrupts them. Here the caller (a schema) says what it expects at each position, so
// str-family values come back as bytes or as text as the field needs, uint64 comes back as BigInt
// without loss, and every failure is a WireError with the exact offset. Reads are zero-copy:
// byte fields are subarray views of the input.
import { TruncatedError, WireError, type WireLayer } from './errors.js';

const textDecoder = new TextDecoder('utf-8', { fatal: false });
const TWO_POW_32 = 2 ** 32;
// One scratch view for the rare 64-bit and float reads: a DataView per reader costs ~100 ns,
// more than decoding a whole ping.
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

export const DEFAULT_MAX_DEPTH = 32;

export class MsgpackReader {
  pos: number;
  private depth = 0;

  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    readonly end = buf.length,
    readonly layer: WireLayer = 'msgpack',
    private readonly maxDepth = DEFAULT_MAX_DEPTH,
  ) {
    this.pos = pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  fail(reason: string, at = this.pos): never {
    throw new WireError(this.layer, at, reason);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new TruncatedError(this.layer, this.pos, this.pos + n - this.end);
  }

  peek(): number {
    this.need(1);
    return this.buf[this.pos] as number;
  }

  private byte(): number {
    this.need(1);
    return this.buf[this.pos++] as number;
  }

  private u16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return ((b[p] as number) << 8) | (b[p + 1] as number);
  }

  private u32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return ((b[p] as number) * 0x1000000 + (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number)));
  }

  /** Copies n (≤ 8) bytes into the scratch view, for the reads a DataView does best. */
  private toScratch(n: number): DataView {
    this.need(n);
    for (let i = 0; i < n; i++) scratchBytes[i] = this.buf[this.pos + i] as number;
    this.pos += n;
    return scratch;
  }

  /** Consumes a nil if one is next. */
  nil(): boolean {
    if (this.peek() === 0xc0) {
      this.pos++;
      return true;
    }
    return false;
  }

  /**
   * Reads the header of a str- or bin-family value and returns its length; the caller then
   * takes that many bytes at `pos`. Go's decoder accepts both families for []byte fields.
   */
  private rawHeader(what: string): number {
    const at = this.pos;
    const b = this.byte();
    if (b >= 0xa0 && b <= 0xbf) return b & 0x1f;
    switch (b) {
      case 0xd9:
      case 0xc4:
        return this.byte();
      case 0xda:
      case 0xc5:
        return this.u16();
      case 0xdb:
      case 0xc6:
        return this.u32();
      default:
        return this.fail(`expected ${what} (str or bin), found ${describe(b)}`, at);
    }
  }

  private take(len: number): Uint8Array {
    this.need(len);
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  /** A []byte field: str/bin family, or nil (returned as null). */
  bytesOrNil(): Uint8Array | null {
    if (this.nil()) return null;
    return this.take(this.rawHeader('bytes'));
  }

  /** A []byte field where nil and empty mean the same to us. */
  bytes(): Uint8Array {
    return this.bytesOrNil() ?? EMPTY;
  }

  /** A Go string: str family (or bin, leniently); nil decodes to "" as in Go. */
  string(): string {
    if (this.nil()) return '';
    const len = this.rawHeader('string');
    this.need(len);
    const s = utf8(this.buf, this.pos, len);
    this.pos += len;
    return s;
  }

  /** Where the last key read by key() starts in `buf`. */
  keyStart = 0;

  /** Reads a map key and returns its length (its bytes start at keyStart). Keys must be str in Go; we read bin too. */
  key(): number {
    const len = this.rawHeader('map key');
    this.need(len);
    this.keyStart = this.pos;
    this.pos += len;
    return len;
  }

  bool(): boolean {
    const at = this.pos;
    const b = this.byte();
    if (b === 0xc3) return true;
    if (b === 0xc2) return false;
    // Go's decoder also takes the integers 0 and 1 for a bool.
    if (b === 0x00) return false;
    if (b === 0x01) return true;
    return this.fail(`expected bool, found ${describe(b)}`, at);
  }

  /** Any integer form, as a number; fails outside [min, max] (both within the safe range). */
  int(min: number, max: number): number {
    const at = this.pos;
    const b = this.byte();
    let v: number;
    if (b <= 0x7f) v = b;
    else if (b >= 0xe0) v = b - 0x100;
    else {
      switch (b) {
        case 0xcc:
          v = this.byte();
          break;
        case 0xcd:
          v = this.u16();
          break;
        case 0xce:
          v = this.u32();
          break;
        case 0xcf: {
          const hi = this.u32();
          const lo = this.u32();
          if (hi >= 0x200000) return this.fail(`integer ${(BigInt(hi) << 32n) | BigInt(lo)} is too large`, at);
          v = hi * TWO_POW_32 + lo;
          break;
        }
        case 0xd0:
          v = this.toScratch(1).getInt8(0);
          break;
        case 0xd1:
          v = this.toScratch(2).getInt16(0);
          break;
        case 0xd2:
          v = this.toScratch(4).getInt32(0);
          break;
        case 0xd3: {
          const big = this.toScratch(8).getBigInt64(0);
          if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
            return this.fail(`integer ${big} is out of range`, at);
          }
          v = Number(big);
          break;
        }
        default:
          return this.fail(`expected integer, found ${describe(b)}`, at);
      }
    }
    if (v < min || v > max) return this.fail(`integer ${v} is out of range [${min}, ${max}]`, at);
    return v;
  }

  /** Any integer form as a BigInt, within [min, max]. For uint64 Lamport times and int64 durations. */
  bigint(min: bigint, max: bigint): bigint {
    const at = this.pos;
    const b = this.peek();
    let v: bigint;
    if (b === 0xcf) {
      this.pos++;
      v = this.toScratch(8).getBigUint64(0);
    } else if (b === 0xd3) {
      this.pos++;
      v = this.toScratch(8).getBigInt64(0);
    } else {
      v = BigInt(this.int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
    }
    if (v < min || v > max) return this.fail(`integer ${v} is out of range [${min}, ${max}]`, at);
    return v;
  }

  /** A float64 field: Go accepts float32, float64 or any integer. */
  float(): number {
    const b = this.peek();
    if (b === 0xcb) {
      this.pos++;
      return this.toScratch(8).getFloat64(0);
    }
    if (b === 0xca) {
      this.pos++;
      return this.toScratch(4).getFloat32(0);
    }
    return this.int(Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  }

  /** A map header, or -1 for nil. The count is checked against the bytes left (each entry needs 2). */
  mapLenOrNil(): number {
    const at = this.pos;
    const b = this.byte();
    let n: number;
    if (b >= 0x80 && b <= 0x8f) n = b & 0x0f;
    else if (b === 0xde) n = this.u16();
    else if (b === 0xdf) n = this.u32();
    else if (b === 0xc0) return -1;
    else return this.fail(`expected map, found ${describe(b)}`, at);
    if (n * 2 > this.remaining) throw new TruncatedError(this.layer, this.pos, n * 2 - this.remaining);
    return n;
  }

  /** An array header, or -1 for nil. The count is checked against the bytes left (each element needs 1). */
  arrayLenOrNil(): number {
    const at = this.pos;
    const b = this.byte();
    let n: number;
    if (b >= 0x90 && b <= 0x9f) n = b & 0x0f;
    else if (b === 0xdc) n = this.u16();
    else if (b === 0xdd) n = this.u32();
    else if (b === 0xc0) return -1;
    else return this.fail(`expected array, found ${describe(b)}`, at);
    if (n > this.remaining) throw new TruncatedError(this.layer, this.pos, n - this.remaining);
    return n;
  }

  enter(): void {
    if (++this.depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth}`);
  }

  leave(): void {
    this.depth--;
  }

  /** Skips one value of any type (unknown struct fields, as Go does). */
  skip(): void {
    const at = this.pos;
    const b = this.byte();
    if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return;
    if (b >= 0xa0 && b <= 0xbf) return void this.take(b & 0x1f);
    if (b >= 0x80 && b <= 0x8f) return this.skipEntries((b & 0x0f) * 2);
    if (b >= 0x90 && b <= 0x9f) return this.skipEntries(b & 0x0f);
    switch (b) {
      case 0xcc: case 0xd0: return void this.take(1);
      case 0xcd: case 0xd1: return void this.take(2);
      case 0xce: case 0xd2: case 0xca: return void this.take(4);
      case 0xcf: case 0xd3: case 0xcb: return void this.take(8);
      case 0xd9: case 0xc4: return void this.take(this.byte());
      case 0xda: case 0xc5: return void this.take(this.u16());
      case 0xdb: case 0xc6: return void this.take(this.u32());
      case 0xd4: return void this.take(2);
      case 0xd5: return void this.take(3);
      case 0xd6: return void this.take(5);
      case 0xd7: return void this.take(9);
      case 0xd8: return void this.take(17);
      case 0xc7: return void this.take(this.byte() + 1);
      case 0xc8: return void this.take(this.u16() + 1);
      case 0xc9: return void this.take(this.u32() + 1);
      case 0xdc: return this.skipEntries(this.u16());
      case 0xdd: return this.skipEntries(this.u32());
      case 0xde: return this.skipEntries(this.u16() * 2);
      case 0xdf: return this.skipEntries(this.u32() * 2);
      default: return this.fail(`invalid msgpack type byte ${describe(b)}`, at);
    }
  }

  private skipEntries(n: number): void {
    if (n > this.remaining) throw new TruncatedError(this.layer, this.pos, n - this.remaining);
    this.enter();
    for (let i = 0; i < n; i++) this.skip();
    this.leave();
  }

  /** True if the key at [start, start+len) of this buffer equals `expected` (ASCII bytes). */
  keyEquals(start: number, len: number, expected: Uint8Array): boolean {
    if (len !== expected.length) return false;
    const buf = this.buf;
    for (let i = 0; i < len; i++) if (buf[start + i] !== expected[i]) return false;
    return true;
  }
}

export const EMPTY = new Uint8Array(0);

// Short ASCII strings (node names, keys, tag values) repeat endlessly in gossip. A small
// direct-mapped cache hands back the same string object for the same bytes, which spares the
// allocation and lets Map lookups by node name compare by identity with a cached hash.
const INTERN_SLOTS = 4096;
const internStrings: Array<string | undefined> = new Array<string | undefined>(INTERN_SLOTS);

/** UTF-8 decode with a fast path for the short ASCII strings that dominate gossip. */
export function utf8(buf: Uint8Array, start: number, len: number): string {
  if (len <= 64) {
    let hash = 0x811c9dc5;
    let ascii = true;
    for (let i = start; i < start + len; i++) {
      const c = buf[i] as number;
      if (c >= 0x80) {
        ascii = false;
        break;
      }
      hash = Math.imul(hash ^ c, 0x01000193);
    }
    if (ascii) {
      const slot = (hash >>> 0) & (INTERN_SLOTS - 1);
      const cached = internStrings[slot];
      if (cached !== undefined && cached.length === len && sameAscii(cached, buf, start)) return cached;
      // One fromCharCode call builds a flat string; appending char by char builds a rope.
      const s = String.fromCharCode.apply(null, buf.subarray(start, start + len) as unknown as number[]);
      internStrings[slot] = s;
      return s;
    }
  }
  return textDecoder.decode(buf.subarray(start, start + len));
}

function sameAscii(s: string, buf: Uint8Array, start: number): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) !== buf[start + i]) return false;
  return true;
}

export function describe(b: number): string {
  return `0x${b.toString(16).padStart(2, '0')}`;
}
