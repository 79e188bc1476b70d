// Seeded mutation engine for fuzzing the wire codec. Everything here is driven by Rng (never
// Math.random), so a failing input is reproduced from its seed and iteration alone.
//
// Two kinds of input makers:
//  - byte mutators (bit flips, boundary bytes, truncation, runs, lying length fields, splicing)
//    that damage a known-good input a little, so decoding gets deep before it fails;
//  - structure-aware generators that build legal-looking but hostile wrappers: compress and
//    compound nested past the limit, 255-part compounds, zero-length parts, a decompression bomb.
import type { RandomBytes } from '../../src/wire/encryption.js';
import { MsgpackWriter } from '../../src/wire/msgpack-writer.js';
import { compressMessage } from '../../src/wire/packet.js';
import { encodeStruct } from '../../src/wire/schema.js';
import { relayHeaderSchema } from '../../src/wire/serf-schemas.js';
import { concatBytes } from '../../src/wire/bytes.js';

/** mulberry32: tiny, fast, and good enough to steer a fuzzer. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return (z ^ (z >>> 14)) >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.below(max - min + 1);
  }

  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.below(items.length)] as T;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** One seed per (run seed, iteration), so any iteration replays on its own (splitmix32 finaliser). */
export function mixSeed(seed: number, iteration: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b9) ^ iteration) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** A nonce source for encryption in tests: deterministic, never for real traffic. */
export function seededRandomBytes(seed: number): RandomBytes {
  const rng = new Rng(seed);
  return (n) => rng.bytes(n);
}


// ---------------------------------------------------------------------------------------------
// Byte mutators. Each returns a new array; inputs (often fixture views) are never written.
// ---------------------------------------------------------------------------------------------

/** What a mutator may draw on besides its input: other inputs to splice with. */
export interface MutationPool {
  readonly inputs: readonly Uint8Array[];
}

export type Mutator = (input: Uint8Array, rng: Rng, pool: MutationPool) => Uint8Array;

/** Bytes that sit on msgpack family edges (fixint/fixmap, nil, str8/16/32, array16/32, map16/32). */
export const BOUNDARY_BYTES = [0x00, 0x7f, 0x80, 0xc0, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xff] as const;

function bitFlips(input: Uint8Array, rng: Rng): Uint8Array {
  const out = input.slice();
  if (out.length === 0) return out;
  for (let n = rng.range(1, 8); n > 0; n--) {
    const bit = rng.below(out.length * 8);
    out[bit >>> 3] = (out[bit >>> 3] as number) ^ (1 << (bit & 7));
  }
  return out;
}

function boundaryByte(input: Uint8Array, rng: Rng): Uint8Array {
  const out = input.slice();
  if (out.length === 0) return Uint8Array.of(rng.pick(BOUNDARY_BYTES));
  for (let n = rng.range(1, 3); n > 0; n--) out[rng.below(out.length)] = rng.pick(BOUNDARY_BYTES);
  return out;
}

function truncate(input: Uint8Array, rng: Rng): Uint8Array {
  return input.slice(0, rng.below(input.length));
}

function extend(input: Uint8Array, rng: Rng): Uint8Array {
  const n = rng.chance(0.9) ? rng.range(1, 64) : rng.range(65, 4096);
  return concatBytes(input, rng.bytes(n));
}

function insertRun(input: Uint8Array, rng: Rng): Uint8Array {
  const at = rng.below(input.length + 1);
  const n = rng.range(1, 32);
  const run = rng.chance(0.5) ? rng.bytes(n) : new Uint8Array(n).fill(rng.chance(0.5) ? rng.pick(BOUNDARY_BYTES) : rng.u32() & 0xff);
  return concatBytes(input.subarray(0, at), run, input.subarray(at));
}

function deleteRun(input: Uint8Array, rng: Rng): Uint8Array {
  if (input.length === 0) return input.slice();
  const at = rng.below(input.length);
  const n = rng.range(1, Math.min(32, input.length - at));
  return concatBytes(input.subarray(0, at), input.subarray(at + n));
}

/** A length field: `width` bytes big-endian at `at` (width 0: the low bits of a fix-family byte). */
interface LengthField {
  readonly at: number;
  readonly width: 0 | 1 | 2 | 4;
  /** For width 0: how many low bits hold the length (fixstr 5, fixmap/fixarray 4). */
  readonly bits?: number;
}

/** Where length fields are, found by scanning: msgpack headers anywhere, framing headers at the start. */
export function findLengthFields(input: Uint8Array): LengthField[] {
  const fields: LengthField[] = [];
  // memberlist compound (7): count byte, then one u16 length per part (reference §4.1).
  if (input[0] === 7 && input.length >= 2) {
    fields.push({ at: 1, width: 1 });
    const count = input[1] as number;
    for (let i = 0; i < count && 2 + 2 * i + 2 <= input.length; i++) fields.push({ at: 2 + 2 * i, width: 2 });
  }
  // TCP encrypted frame (10): u32 BE envelope length (reference §4.4).
  if (input[0] === 10 && input.length >= 5) fields.push({ at: 1, width: 4 });
  for (let i = 0; i < input.length; i++) {
    const b = input[i] as number;
    const room = input.length - i - 1;
    if ((b === 0xd9 || b === 0xc4) && room >= 1) fields.push({ at: i + 1, width: 1 });
    else if ((b === 0xda || b === 0xdc || b === 0xde || b === 0xc5) && room >= 2) fields.push({ at: i + 1, width: 2 });
    else if ((b === 0xdb || b === 0xdd || b === 0xdf || b === 0xc6) && room >= 4) fields.push({ at: i + 1, width: 4 });
    else if (b >= 0xa0 && b <= 0xbf) fields.push({ at: i, width: 0, bits: 5 });
    else if (b >= 0x80 && b <= 0x9f) fields.push({ at: i, width: 0, bits: 4 });
  }
  return fields;
}

function readField(input: Uint8Array, f: LengthField): number {
  let v = 0;
  for (let i = 0; i < f.width; i++) v = v * 256 + (input[f.at + i] as number);
  return v;
}

/** A lie about a length: off by one, zero, the type's maximum, or just past a limit. */
function lyingValue(rng: Rng, old: number, max: number): number {
  const candidates = [0, 1, old - 1, old + 1, old * 2, max, max - 1, Math.floor(max / 2), Math.floor(max / 2) + 1, rng.below(max + 1)];
  if (max >= 0xffff_ffff) candidates.push(20 * 1024 * 1024, 20 * 1024 * 1024 + 1, 65_536, 1 << 20);
  const v = rng.pick(candidates);
  return Math.max(0, Math.min(max, v));
}

function lyingLength(input: Uint8Array, rng: Rng): Uint8Array {
  const out = input.slice();
  const fields = findLengthFields(out);
  // The framing fields and the declared lengths are few among many msgpack headers: favour them.
  const framing = fields.filter((f) => f.at <= 1 && f.width !== 0);
  const roll = rng.below(10);
  if (roll < 2 || fields.length === 0) return lieAboutDeclaredLength(out, rng);
  const f = framing.length > 0 && roll < 5 ? rng.pick(framing) : rng.pick(fields);
  if (f.width === 0) {
    const bits = f.bits as number;
    const mask = (1 << bits) - 1;
    const old = (out[f.at] as number) & mask;
    out[f.at] = ((out[f.at] as number) & ~mask) | lyingValue(rng, old, mask);
    return out;
  }
  const max = 2 ** (8 * f.width) - 1;
  let v = lyingValue(rng, readField(out, f), max);
  for (let i = f.width - 1; i >= 0; i--) {
    out[f.at + i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

const encoder = new TextEncoder();
/** Integer fields that announce how many bytes or items follow in a stream (reference §5.1, §5.3). */
const DECLARED_LENGTH_KEYS = ['Nodes', 'UserStateLen', 'UserMsgLen'].map((k) => concatBytes(Uint8Array.of(0xa0 | k.length), encoder.encode(k)));

/** Rewrites the integer after a Nodes/UserStateLen/UserMsgLen key to another encoding and value. */
function lieAboutDeclaredLength(input: Uint8Array, rng: Rng): Uint8Array {
  const hits: number[] = [];
  for (const key of DECLARED_LENGTH_KEYS) {
    for (let i = indexOf(input, key, 0); i >= 0; i = indexOf(input, key, i + 1)) hits.push(i + key.length);
  }
  if (hits.length === 0) return bitFlips(input, rng);
  const at = rng.pick(hits);
  const old = intLength(input[at] ?? 0);
  const replacement = rng.pick([
    Uint8Array.of(0x00), Uint8Array.of(0x7f), Uint8Array.of(0xff), Uint8Array.of(0xe0), Uint8Array.of(0xcc, 0xff),
    Uint8Array.of(0xcd, 0xff, 0xff), Uint8Array.of(0xce, 0xff, 0xff, 0xff, 0xff), Uint8Array.of(0xce, 0x01, 0x40, 0x00, 0x01),
    Uint8Array.of(0xcf, 0, 0x20, 0, 0, 0, 0, 0, 0), Uint8Array.of(0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
    Uint8Array.of(0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0), Uint8Array.of(0xd2, 0xff, 0xff, 0xff, 0xff), Uint8Array.of(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0),
  ]);
  return concatBytes(input.subarray(0, at), replacement, input.subarray(Math.min(input.length, at + old)));
}

/** Size of the msgpack integer starting with `b` (1 when it is not one: replace just that byte). */
function intLength(b: number): number {
  switch (b) {
    case 0xcc: case 0xd0: return 2;
    case 0xcd: case 0xd1: return 3;
    case 0xce: case 0xd2: case 0xca: return 5;
    case 0xcf: case 0xd3: case 0xcb: return 9;
    default: return 1;
  }
}

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function splice(input: Uint8Array, rng: Rng, pool: MutationPool): Uint8Array {
  const other = rng.pick(pool.inputs);
  return concatBytes(input.subarray(0, rng.below(input.length + 1)), other.subarray(rng.below(other.length + 1)));
}

export const mutators = { bitFlips, boundaryByte, truncate, extend, insertRun, deleteRun, lyingLength, splice } as const satisfies Record<string, Mutator>;
export type MutatorName = keyof typeof mutators;
const mutatorNames = Object.keys(mutators) as MutatorName[];

/** Applies 1–`maxSteps` random mutators in a row; returns the input and the names applied. */
export function mutate(input: Uint8Array, rng: Rng, pool: MutationPool, maxSteps = 3): { bytes: Uint8Array; how: MutatorName[] } {
  const how: MutatorName[] = [];
  let bytes = input;
  for (let n = rng.range(1, maxSteps); n > 0; n--) {
    const name = rng.pick(mutatorNames);
    bytes = mutators[name](bytes, rng, pool);
    how.push(name);
  }
  return { bytes, how };
}

// ---------------------------------------------------------------------------------------------
// Structure-aware generators (reference §4.1 compound, §4.3 compress, limits.ts maxNesting).
// ---------------------------------------------------------------------------------------------

/** Builds a compound (7) by hand: unlike encodeCompound it lets the count and the parts disagree. */
export function rawCompound(parts: readonly Uint8Array[], count = parts.length): Uint8Array {
  const table = new Uint8Array(2 + 2 * Math.min(count, parts.length));
  table[0] = 7;
  table[1] = count & 0xff;
  parts.slice(0, count).forEach((p, i) => {
    table[2 + 2 * i] = (p.length >>> 8) & 0xff;
    table[3 + 2 * i] = p.length & 0xff;
  });
  return concatBytes(table, ...parts.slice(0, count));
}

export function nestCompress(inner: Uint8Array, times: number): Uint8Array {
  let out = inner;
  for (let i = 0; i < times; i++) out = compressMessage(out);
  return out;
}

/** What generators build from: plain memberlist messages (one type byte + body each). */
export interface GeneratorPool {
  readonly messages: readonly Uint8Array[];
}

type Generator = (rng: Rng, pool: GeneratorPool) => Uint8Array;

function pickMessages(rng: Rng, pool: GeneratorPool, n: number): Uint8Array[] {
  return Array.from({ length: n }, () => rng.pick(pool.messages));
}

const nestedCompression: Generator = (rng, pool) => nestCompress(rng.pick(pool.messages), rng.range(1, 6));

const nestedCompound: Generator = (rng, pool) => {
  let out = rawCompound(pickMessages(rng, pool, rng.range(1, 4)));
  for (let depth = rng.range(1, 6); depth > 0; depth--) out = rawCompound([out, ...pickMessages(rng, pool, rng.range(0, 2))]);
  return out;
};

const zeroLengthParts: Generator = (rng, pool) => {
  const parts: Uint8Array[] = Array.from({ length: rng.range(1, 255) }, () => new Uint8Array(0));
  if (rng.chance(0.5)) parts[rng.below(parts.length)] = rng.pick(pool.messages);
  return rawCompound(parts);
};

/** A count byte of 255: twice memberlist's 127-part send limit, read as -1 by a signed reader. */
const fullCount: Generator = (rng, pool) => {
  const parts = Array.from({ length: 255 }, () => (rng.chance(0.1) ? rng.pick(pool.messages) : new Uint8Array(rng.below(3))));
  const out = rawCompound(parts);
  return rng.chance(0.5) ? out : out.subarray(0, rng.range(2, out.length));
};

const compoundInCompressInCompound: Generator = (rng, pool) => {
  const inner = rawCompound(pickMessages(rng, pool, rng.range(1, 3)));
  return rawCompound([compressMessage(inner), ...pickMessages(rng, pool, rng.range(0, 2))]);
};

/** Relays of relays (serf.ts stops at two): a user message, relay headers, and an inner Serf message. */
const nestedRelay: Generator = (rng, pool) => {
  const users = pool.messages.filter((m) => m[0] === 8 && m.length > 1);
  let serf = users.length > 0 ? rng.pick(users).subarray(1) : Uint8Array.of(0, 0x80);
  for (let depth = rng.range(1, 4); depth > 0; depth--) {
    const w = new MsgpackWriter('gossip');
    w.byte(9);
    encodeStruct(w, relayHeaderSchema, { DestAddr: { IP: rng.bytes(rng.chance(0.5) ? 4 : 16), Port: rng.below(0x10000), Zone: '' }, DestName: 'n' });
    serf = concatBytes(w.finish(), serf);
  }
  return concatBytes(Uint8Array.of(8), serf);
};

/** A user message carrying a compound: a wrapper where only a plain message may be. */
const wrapperInsideMessage: Generator = (rng, pool) => rawCompound([concatBytes(Uint8Array.of(8), rawCompound(pickMessages(rng, pool, 2)))]);

export const generators = {
  nestedCompression, nestedCompound, zeroLengthParts, fullCount, compoundInCompressInCompound, wrapperInsideMessage, nestedRelay,
} as const satisfies Record<string, Generator>;
export type GeneratorName = keyof typeof generators;
const generatorNames = Object.keys(generators) as GeneratorName[];

export function generate(rng: Rng, pool: GeneratorPool): { bytes: Uint8Array; how: GeneratorName } {
  const how = rng.pick(generatorNames);
  return { bytes: generators[how](rng, pool), how };
}

export const BOMB_EXPANDED_BYTES = 10 * 1024 * 1024;
let bomb: Uint8Array | undefined;

/**
 * LZW of 10 MiB of zeros in a compress (9) message: about 9 KB on the wire, ten times the UDP
 * expansion limit. Built once (it takes a few hundred ms) and shared.
 */
export function decompressionBomb(): Uint8Array {
  bomb ??= compressMessage(new Uint8Array(BOMB_EXPANDED_BYTES));
  return bomb;
}
