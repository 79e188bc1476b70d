// A msgpack writer that produces what Go's go-msgpack 0.5.5 produces (reference §1.1, fixtures README).
//
// Two dialects:
//  - 'gossip' (memberlist/Serf, MsgpackHandle{}): strings AND []byte use the str family without
//    str8 (fixstr, str16, str32), so our bytes are identical to Go's.
//  - 'rpc' (Serf IPC, MsgpackHandle{RawToString, WriteExt}): strings use fixstr/str8/str16/str32
//    and []byte uses bin8/16/32.
// Integers always take the smallest form, unsigned family for non-negative values, as Go does.
// Integers beyond 2^32 are written as integers (never float64, which Go rejects for int fields).

export type Dialect = 'gossip' | 'rpc';

const textEncoder = new TextEncoder();

// finish() copies out of the writer's buffer into views of a shared slab: a fresh typed array
// over 64 bytes is allocated outside the JS heap and costs more than encoding a whole ping.
// A slab is never reused; it is freed when the last view into it is gone (as Node's Buffer pool).
const SLAB_BYTES = 64 * 1024;
const SLAB_MAX_OBJECT = 4 * 1024;
let slab = new Uint8Array(SLAB_BYTES);
let slabPos = 0;

/** A new byte array of `n` bytes, carved from the slab when small. */
export function allocate(n: number): Uint8Array {
  if (n > SLAB_MAX_OBJECT) return new Uint8Array(n);
  if (slabPos + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    slabPos = 0;
  }
  const out = slab.subarray(slabPos, slabPos + n);
  slabPos = (slabPos + n + 7) & ~7;
  return out;
}

export class MsgpackWriter {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(
    readonly dialect: Dialect = 'gossip',
    initialSize = 256,
  ) {
    this.buf = new Uint8Array(initialSize);
    this.view = new DataView(this.buf.buffer);
  }

  /** The bytes written so far (a copy, so the writer can be reused). */
  finish(): Uint8Array {
    const out = allocate(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    return out;
  }

  reset(): void {
    this.pos = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.pos++] = b;
  }

  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.ensure(n);
    if (n <= 32) {
      // A loop beats TypedArray.set for the short keys and headers most calls carry.
      const buf = this.buf;
      const at = this.pos;
      for (let i = 0; i < n; i++) buf[at + i] = bytes[i] as number;
    } else {
      this.buf.set(bytes, this.pos);
    }
    this.pos += n;
  }

  nil(): void {
    this.byte(0xc0);
  }

  bool(v: boolean): void {
    this.byte(v ? 0xc3 : 0xc2);
  }

  /** A non-negative integer (number up to 2^53, or BigInt up to 2^64-1). */
  uint(v: number | bigint): void {
    if (typeof v === 'bigint') {
      if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`uint out of range: ${v}`);
      if (v <= 0xffffffffn) return this.uint(Number(v));
      this.ensure(9);
      this.buf[this.pos] = 0xcf;
      this.view.setBigUint64(this.pos + 1, v);
      this.pos += 9;
      return;
    }
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`uint out of range: ${v}`);
    if (v <= 0x7f) return this.byte(v);
    if (v <= 0xff) {
      this.ensure(2);
      this.buf[this.pos] = 0xcc;
      this.buf[this.pos + 1] = v;
      this.pos += 2;
    } else if (v <= 0xffff) {
      this.ensure(3);
      this.buf[this.pos] = 0xcd;
      this.view.setUint16(this.pos + 1, v);
      this.pos += 3;
    } else if (v <= 0xffffffff) {
      this.ensure(5);
      this.buf[this.pos] = 0xce;
      this.view.setUint32(this.pos + 1, v);
      this.pos += 5;
    } else {
      this.ensure(9);
      this.buf[this.pos] = 0xcf;
      this.view.setBigUint64(this.pos + 1, BigInt(v));
      this.pos += 9;
    }
  }

  /** A signed integer: non-negative values use the unsigned forms, as go-msgpack does. */
  int(v: number | bigint): void {
    if (v >= 0) return this.uint(v);
    const n = typeof v === 'bigint' ? v : BigInt(v);
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`int out of range: ${v}`);
    if (n < -0x8000000000000000n) throw new RangeError(`int out of range: ${v}`);
    if (n >= -32n) return this.byte(Number(n) & 0xff);
    if (n >= -128n) {
      this.byte(0xd0);
      return this.byte(Number(n) & 0xff);
    }
    if (n >= -32768n) {
      this.ensure(3);
      this.buf[this.pos] = 0xd1;
      this.view.setInt16(this.pos + 1, Number(n));
      this.pos += 3;
    } else if (n >= -2147483648n) {
      this.ensure(5);
      this.buf[this.pos] = 0xd2;
      this.view.setInt32(this.pos + 1, Number(n));
      this.pos += 5;
    } else {
      this.ensure(9);
      this.buf[this.pos] = 0xd3;
      this.view.setBigInt64(this.pos + 1, n);
      this.pos += 9;
    }
  }

  float64(v: number): void {
    this.ensure(9);
    this.buf[this.pos] = 0xcb;
    this.view.setFloat64(this.pos + 1, v);
    this.pos += 9;
  }

  private strHeader(len: number): void {
    if (len < 32) return this.byte(0xa0 | len);
    if (len <= 0xff && this.dialect === 'rpc') {
      this.byte(0xd9);
      return this.byte(len);
    }
    if (len <= 0xffff) {
      this.ensure(3);
      this.buf[this.pos] = 0xda;
      this.view.setUint16(this.pos + 1, len);
      this.pos += 3;
    } else {
      this.ensure(5);
      this.buf[this.pos] = 0xdb;
      this.view.setUint32(this.pos + 1, len);
      this.pos += 5;
    }
  }

  private binHeader(len: number): void {
    if (len <= 0xff) {
      this.byte(0xc4);
      this.byte(len);
    } else if (len <= 0xffff) {
      this.ensure(3);
      this.buf[this.pos] = 0xc5;
      this.view.setUint16(this.pos + 1, len);
      this.pos += 3;
    } else {
      this.ensure(5);
      this.buf[this.pos] = 0xc6;
      this.view.setUint32(this.pos + 1, len);
      this.pos += 5;
    }
  }

  string(s: string): void {
    // Fast path: ASCII strings (names, keys) are written char by char.
    const n = s.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      this.strHeader(n);
      this.ensure(n);
      for (let i = 0; i < n; i++) this.buf[this.pos + i] = s.charCodeAt(i);
      this.pos += n;
      return;
    }
    const bytes = textEncoder.encode(s);
    this.strHeader(bytes.length);
    this.raw(bytes);
  }

  /** A []byte value: nil for null, else str family (gossip) or bin family (rpc). */
  bytes(b: Uint8Array | null): void {
    if (b === null) return this.nil();
    if (this.dialect === 'rpc') this.binHeader(b.length);
    else this.strHeader(b.length);
    this.raw(b);
  }

  mapHeader(n: number): void {
    if (n < 16) return this.byte(0x80 | n);
    if (n <= 0xffff) {
      this.ensure(3);
      this.buf[this.pos] = 0xde;
      this.view.setUint16(this.pos + 1, n);
      this.pos += 3;
    } else {
      this.ensure(5);
      this.buf[this.pos] = 0xdf;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
  }

  arrayHeader(n: number): void {
    if (n < 16) return this.byte(0x90 | n);
    if (n <= 0xffff) {
      this.ensure(3);
      this.buf[this.pos] = 0xdc;
      this.view.setUint16(this.pos + 1, n);
      this.pos += 3;
    } else {
      this.ensure(5);
      this.buf[this.pos] = 0xdd;
      this.view.setUint32(this.pos + 1, n);
      this.pos += 5;
    }
  }
}
