// Per-message schemas: what each msgpack field is, so the reader knows whether a str-family value
// is text or bytes, and which integers are uint64 (BigInt). A schema also drives the encoder, which
// writes struct fields in Go's order (keys sorted by byte value) so our output equals Go's.
import { EMPTY, MsgpackReader } from './msgpack-reader.js';
import type { MsgpackWriter } from './msgpack-writer.js';

interface KString { readonly k: 'string' }
interface KBytes { readonly k: 'bytes' }
interface KBytesOrNil { readonly k: 'bytesOrNil' }
interface KBool { readonly k: 'bool' }
interface KNumber { readonly k: 'number'; readonly min: number; readonly max: number; readonly signed: boolean }
interface KBigint { readonly k: 'bigint'; readonly min: bigint; readonly max: bigint; readonly signed: boolean }
interface KFloat { readonly k: 'float' }
interface KArray<E extends Kind> { readonly k: 'array'; readonly e: E }
interface KArrayOrNil<E extends Kind> { readonly k: 'arrayOrNil'; readonly e: E }
interface KMap<V extends Kind> { readonly k: 'map'; readonly v: V }
interface KMapOrNil<V extends Kind> { readonly k: 'mapOrNil'; readonly v: V }
export interface KStruct<F extends Fields> { readonly k: 'struct'; readonly name: string; readonly fields: F; readonly entries: readonly FieldEntry[] }
interface KStructOrNil<F extends Fields> { readonly k: 'structOrNil'; readonly s: KStruct<F> }

/* eslint-disable @typescript-eslint/no-explicit-any -- recursive kinds need an open element type */
export type Kind =
  | KString | KBytes | KBytesOrNil | KBool | KNumber | KBigint | KFloat
  | KArray<any> | KArrayOrNil<any> | KMap<any> | KMapOrNil<any> | KStruct<any> | KStructOrNil<any>;
/* eslint-enable @typescript-eslint/no-explicit-any */

/** A field; `omit` marks Go's `omitempty` (left out when zero, optional in the TS type). */
export type Field = Kind & { readonly omit?: true };
export type Fields = Readonly<Record<string, Field>>;

interface FieldEntry {
  readonly name: string;
  readonly key: Uint8Array;
  /** The key as Go writes it: its str header, then its bytes. */
  readonly encodedKey: Uint8Array;
  readonly kind: Field;
}

type Simplify<T> = { [P in keyof T]: T[P] } & {};

export type Infer<K> =
  K extends KString ? string
  : K extends KBytes ? Uint8Array
  : K extends KBytesOrNil ? Uint8Array | null
  : K extends KBool ? boolean
  : K extends KNumber ? number
  : K extends KBigint ? bigint
  : K extends KFloat ? number
  : K extends KArray<infer E> ? Infer<E>[]
  : K extends KArrayOrNil<infer E> ? Infer<E>[] | null
  : K extends KMap<infer V> ? Map<string, Infer<V>>
  : K extends KMapOrNil<infer V> ? Map<string, Infer<V>> | null
  : K extends KStruct<infer F> ? InferFields<F>
  : K extends KStructOrNil<infer F> ? InferFields<F> | null
  : never;

export type InferFields<F extends Fields> = Simplify<
  { -readonly [P in keyof F as F[P] extends { omit: true } ? never : P]: Infer<F[P]> } & {
    -readonly [P in keyof F as F[P] extends { omit: true } ? P : never]?: Infer<F[P]>;
  }
>;

const U64_MAX = 0xffffffffffffffffn;
const I64_MIN = -0x8000000000000000n;
const I64_MAX = 0x7fffffffffffffffn;

/** Field kinds, named after the Go types they stand for. */
export const t = {
  string: { k: 'string' } as KString,
  bytes: { k: 'bytes' } as KBytes,
  bytesOrNil: { k: 'bytesOrNil' } as KBytesOrNil,
  bool: { k: 'bool' } as KBool,
  u8: { k: 'number', min: 0, max: 0xff, signed: false } as KNumber,
  u16: { k: 'number', min: 0, max: 0xffff, signed: false } as KNumber,
  u32: { k: 'number', min: 0, max: 0xffffffff, signed: false } as KNumber,
  i32: { k: 'number', min: -0x80000000, max: 0x7fffffff, signed: true } as KNumber,
  /** Go `int`: 64-bit in Go, but every value shoal meets (counts, lengths, states) fits in 2^53. */
  int: { k: 'number', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, signed: true } as KNumber,
  /** uint64 kept exact (Lamport times). */
  u64: { k: 'bigint', min: 0n, max: U64_MAX, signed: false } as KBigint,
  /** int64 kept exact (nanosecond durations). */
  i64: { k: 'bigint', min: I64_MIN, max: I64_MAX, signed: true } as KBigint,
  f64: { k: 'float' } as KFloat,
  array: <E extends Kind>(e: E): KArray<E> => ({ k: 'array', e }),
  arrayOrNil: <E extends Kind>(e: E): KArrayOrNil<E> => ({ k: 'arrayOrNil', e }),
  map: <V extends Kind>(v: V): KMap<V> => ({ k: 'map', v }),
  mapOrNil: <V extends Kind>(v: V): KMapOrNil<V> => ({ k: 'mapOrNil', v }),
  structOrNil: <F extends Fields>(s: KStruct<F>): KStructOrNil<F> => ({ k: 'structOrNil', s }),
  omitEmpty: <K extends Kind>(kind: K): K & { readonly omit: true } => ({ ...kind, omit: true }),
} as const;

const asciiEncoder = new TextEncoder();

/** Declares a Go struct. Its fields are kept in Go's wire order: keys sorted by byte value. */
export function struct<F extends Fields>(name: string, fields: F): KStruct<F> {
  const entries = Object.keys(fields)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((fieldName) => {
      const key = asciiEncoder.encode(fieldName);
      if (key.length >= 32) throw new RangeError(`field name ${fieldName} is too long for a fixstr key`);
      return { name: fieldName, key, encodedKey: Uint8Array.of(0xa0 | key.length, ...key), kind: fields[fieldName] as Field };
    });
  return { k: 'struct', name, fields, entries };
}

function zero(kind: Kind): unknown {
  switch (kind.k) {
    case 'string': return '';
    case 'bytes': return EMPTY;
    case 'bool': return false;
    case 'number': case 'float': return 0;
    case 'bigint': return 0n;
    case 'array': return [];
    case 'map': return new Map();
    case 'struct': return zeroStruct(kind);
    default: return null;
  }
}

function zeroStruct(s: KStruct<Fields>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of s.entries) if (!f.kind.omit) out[f.name] = zero(f.kind);
  return out;
}

export function decodeValue(r: MsgpackReader, kind: Kind): unknown {
  switch (kind.k) {
    case 'string': return r.string();
    case 'bytes': return r.bytes();
    case 'bytesOrNil': return r.bytesOrNil();
    case 'bool': return r.bool();
    case 'number': return r.int(kind.min, kind.max);
    case 'bigint': return r.bigint(kind.min, kind.max);
    case 'float': return r.float();
    case 'array': case 'arrayOrNil': {
      const n = r.arrayLenOrNil();
      if (n < 0) return kind.k === 'array' ? [] : null;
      r.enter();
      const out: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = decodeValue(r, kind.e);
      r.leave();
      return out;
    }
    case 'map': case 'mapOrNil': {
      const n = r.mapLenOrNil();
      if (n < 0) return kind.k === 'map' ? new Map() : null;
      r.enter();
      const out = new Map<string, unknown>();
      for (let i = 0; i < n; i++) {
        const key = r.string();
        out.set(key, decodeValue(r, kind.v));
      }
      r.leave();
      return out;
    }
    case 'struct': return decodeStruct(r, kind);
    case 'structOrNil': return r.nil() ? null : decodeStruct(r, kind.s);
  }
}

/** Decodes a Go struct from a msgpack map: unknown keys are skipped and missing keys keep their zero value, as in Go. */
export function decodeStruct<F extends Fields>(r: MsgpackReader, s: KStruct<F>): InferFields<F> {
  const entries = s.entries;
  const out = zeroStruct(s);
  const n = r.mapLenOrNil();
  if (n < 0) return out as InferFields<F>;
  r.enter();
  let hint = 0; // Go sends keys in our order, so the next key is almost always entries[hint].
  for (let i = 0; i < n; i++) {
    const len = r.key();
    const start = r.keyStart;
    let found: FieldEntry | undefined;
    const guess = entries[hint];
    if (guess !== undefined && r.keyEquals(start, len, guess.key)) {
      found = guess;
      hint++;
    } else {
      for (let j = 0; j < entries.length; j++) {
        const e = entries[j] as FieldEntry;
        if (r.keyEquals(start, len, e.key)) {
          found = e;
          hint = j + 1;
          break;
        }
      }
    }
    if (found === undefined) r.skip();
    else out[found.name] = decodeValue(r, found.kind);
  }
  r.leave();
  return out as InferFields<F>;
}

function isEmpty(kind: Kind, v: unknown): boolean {
  if (v === undefined || v === null) return true;
  switch (kind.k) {
    case 'string': return v === '';
    case 'bytes': case 'bytesOrNil': return (v as Uint8Array).length === 0;
    case 'bool': return v === false;
    case 'number': case 'float': return v === 0;
    case 'bigint': return v === 0n;
    case 'array': case 'arrayOrNil': return (v as unknown[]).length === 0;
    case 'map': case 'mapOrNil': return (v as Map<string, unknown>).size === 0;
    default: return false;
  }
}

export function encodeValue(w: MsgpackWriter, kind: Kind, v: unknown): void {
  switch (kind.k) {
    case 'string': return w.string(v as string);
    case 'bytes': return w.bytes(v as Uint8Array);
    case 'bytesOrNil': return w.bytes(v as Uint8Array | null);
    case 'bool': return w.bool(v as boolean);
    case 'number': {
      const n = v as number;
      if (!Number.isInteger(n) || n < kind.min || n > kind.max) throw new RangeError(`integer ${n} is out of range [${kind.min}, ${kind.max}]`);
      return kind.signed ? w.int(n) : w.uint(n);
    }
    case 'bigint': {
      const n = typeof v === 'number' ? BigInt(v) : (v as bigint);
      if (n < kind.min || n > kind.max) throw new RangeError(`integer ${n} is out of range [${kind.min}, ${kind.max}]`);
      return kind.signed ? w.int(n) : w.uint(n);
    }
    case 'float': return w.float64(v as number);
    case 'array': case 'arrayOrNil': {
      if (v === null) return w.nil();
      const arr = v as unknown[];
      w.arrayHeader(arr.length);
      for (const item of arr) encodeValue(w, kind.e, item);
      return;
    }
    case 'map': case 'mapOrNil': {
      if (v === null) return w.nil();
      const m = v as Map<string, unknown>;
      w.mapHeader(m.size);
      for (const [key, item] of m) {
        w.string(key);
        encodeValue(w, kind.v, item);
      }
      return;
    }
    case 'struct': return encodeStruct(w, kind, v as Record<string, unknown>);
    case 'structOrNil': return v === null ? w.nil() : encodeStruct(w, kind.s, v as Record<string, unknown>);
  }
}

export function encodeStruct<F extends Fields>(w: MsgpackWriter, s: KStruct<F>, value: InferFields<F> | Record<string, unknown>): void {
  const obj = value as Record<string, unknown>;
  let count = 0;
  for (const f of s.entries) if (!(f.kind.omit && isEmpty(f.kind, obj[f.name]))) count++;
  w.mapHeader(count);
  for (const f of s.entries) {
    const v = obj[f.name];
    if (f.kind.omit && isEmpty(f.kind, v)) continue;
    w.raw(f.encodedKey);
    encodeValue(w, f.kind, v === undefined ? zero(f.kind) : v);
  }
}

/** Reads one struct from `bytes` at `offset`; returns it and the offset just past it. */
export function readStructAt<F extends Fields>(s: KStruct<F>, bytes: Uint8Array, offset: number, layer: MsgpackReader['layer'] = 'msgpack'): { value: InferFields<F>; end: number } {
  const r = new MsgpackReader(bytes, offset, bytes.length, layer);
  const value = decodeStruct(r, s);
  return { value, end: r.pos };
}
