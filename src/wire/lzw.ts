// LZW as Go's compress/lzw does it with order LSB and litWidth 8 (memberlist's compressMsg Buf,
// reference §4.3). memberlist compresses with a single Write followed by Close, so lzwCompress
// reproduces exactly that byte stream; lzwDecompress follows Go's Reader (reader.go) and rejects
// what it rejects.
//
// Codes: 0–255 literals, 256 clear, 257 EOF, 258–4095 table entries. Codes start 9 bits wide,
// grow to 12, and are packed least-significant bit first.

import { WireError } from './errors.js';

const CLEAR = 256;
const EOF = 257;
const MAX_CODE = 4095; // Go: maxCode = 1<<12 - 1
const MAX_WIDTH = 12;

// ---------------------------------------------------------------------------------------------
// Compression (Go compress/lzw writer.go, Go ≥ 1.17)
// ---------------------------------------------------------------------------------------------

// Go's open-addressed table: each slot holds key<<12 | code where key = prefixCode<<8 | byte;
// 0 means empty (no entry can be 0 because codes start at 258). Kept at module level so a call
// costs no 64 KiB allocation; `usedSlots` lists the filled slots so a reset is O(entries). Each
// call resets it first, so a call that died half-way cannot leak entries into the next.
const TABLE_SIZE = 1 << 14; // Go: tableSize = 4 * 1<<12
const TABLE_MASK = TABLE_SIZE - 1;
const table = new Uint32Array(TABLE_SIZE);
const usedSlots = new Uint16Array(MAX_CODE + 1);
let usedCount = 0;

function resetTable(): void {
  for (let i = 0; i < usedCount; i++) table[usedSlots[i]!] = 0;
  usedCount = 0;
}

/** Output scratch space, grown on demand; each call copies its result out of it. */
let scratch = new Uint8Array(4096);

/** Compresses `input` to the exact bytes Go's lzw.NewWriter(w, lzw.LSB, 8) gives for Write+Close. */
export function lzwCompress(input: Uint8Array): Uint8Array {
  // Upper bound on output: every input byte emits at most one code, plus the leading clear,
  // the final code, EOF, one clear per 3838 codes (table full) and one more from the final incHi;
  // no code is wider than 12 bits.
  const maxCodes = input.length + 5 + Math.ceil(input.length / (MAX_CODE - EOF));
  const bound = Math.ceil((maxCodes * MAX_WIDTH) / 8) + 1;
  if (scratch.length < bound) scratch = new Uint8Array(Math.max(bound, 2 * scratch.length));
  const out = scratch;
  resetTable();

  // Go's Writer state, in locals (hot loop): the LSB bit packer, then hi and overflow.
  let bits = 0; // pending bits, never more than 7 + 12
  let nBits = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 512;
  let o = 0;

  // Go ≥ 1.17 sends a clear code first ("Encoders should output a Clear code as the first code",
  // GIF89a appendix F); on empty input Close sends it instead of a pending code.
  // Go writeLSB, inlined at each use: add the code's bits, flush whole bytes.
  bits |= CLEAR << nBits;
  nBits += width;
  while (nBits >= 8) {
    out[o++] = bits & 0xff;
    bits >>>= 8;
    nBits -= 8;
  }
  const n = input.length;
  if (n > 0) {
    let code = input[0]!;
    for (let i = 1; i < n; i++) {
      const literal = input[i]!;
      const key = (code << 8) | literal;
      let hash = ((key >>> 12) ^ key) & TABLE_MASK;
      let hit = false;
      for (let t = table[hash]!; t !== 0; t = table[hash]!) {
        if (t >>> 12 === key) {
          code = t & MAX_CODE;
          hit = true;
          break;
        }
        hash = (hash + 1) & TABLE_MASK;
      }
      if (hit) continue;
      bits |= code << nBits;
      nBits += width;
      while (nBits >= 8) {
        out[o++] = bits & 0xff;
        bits >>>= 8;
        nBits -= 8;
      }
      code = literal;
      // Go incHi: when the codes run out, send a clear and start over without adding an entry.
      hi++;
      if (hi === overflow) {
        width++;
        overflow <<= 1;
      }
      if (hi === MAX_CODE) {
        bits |= CLEAR << nBits;
        nBits += width;
        while (nBits >= 8) {
          out[o++] = bits & 0xff;
          bits >>>= 8;
          nBits -= 8;
        }
        width = 9;
        hi = EOF;
        overflow = 512;
        resetTable();
        continue;
      }
      // `hash` already points at the first empty slot of this key's probe sequence.
      table[hash] = ((key << 12) | hi) >>> 0;
      usedSlots[usedCount++] = hash;
    }
    // Close: send the pending code and bump hi (running out of codes here is not an error, but
    // the clear it sends and the width it resets still apply to the EOF that follows).
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out[o++] = bits & 0xff;
      bits >>>= 8;
      nBits -= 8;
    }
    // Only the width matters after this: the EOF below is the last code.
    hi++;
    if (hi === overflow) width++;
    if (hi === MAX_CODE) {
      bits |= CLEAR << nBits;
      nBits += width;
      while (nBits >= 8) {
        out[o++] = bits & 0xff;
        bits >>>= 8;
        nBits -= 8;
      }
      width = 9;
      resetTable();
    }
  }
  bits |= EOF << nBits;
  nBits += width;
  while (nBits >= 8) {
    out[o++] = bits & 0xff;
    bits >>>= 8;
    nBits -= 8;
  }
  if (nBits > 0) out[o++] = bits & 0xff;
  return out.slice(0, o);
}

// ---------------------------------------------------------------------------------------------
// Decompression (Go compress/lzw reader.go)
// ---------------------------------------------------------------------------------------------

// Instead of Go's prefix/suffix chains, each table entry records where its string already sits in
// the output (entry hi = string(last) + first byte of the next string, which is exactly the output
// starting at last's start) and its length, so expanding a code is a copy within the output.
// Every entry a valid stream can reference was written earlier in the same call, so these
// module-level scratch arrays never need clearing.
const entryStart = new Uint32Array(MAX_CODE + 1);
const entryLength = new Uint16Array(MAX_CODE + 1);

/**
 * Decompresses a Go LZW (LSB, litWidth 8) stream. Throws WireError('lzw', …) on an invalid code,
 * on a stream that ends before its EOF code, and before the output would exceed `maxOutputBytes`
 * (the decompression-bomb guard: the output buffer never grows past that limit). Bytes after the
 * EOF code are ignored, as Go does.
 */
export function lzwDecompress(input: Uint8Array, maxOutputBytes: number): Uint8Array {
  if (!Number.isSafeInteger(maxOutputBytes) || maxOutputBytes < 0) {
    throw new RangeError(`maxOutputBytes must be a non-negative integer, got ${maxOutputBytes}`);
  }
  let out: Uint8Array = new Uint8Array(Math.min(maxOutputBytes, Math.max(256, input.length * 4)));
  let o = 0;
  let pos = 0;
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 512;
  let last = -1; // Go: decoderInvalidCode
  let lastStart = 0; // where string(last) sits in the output, and its length
  let lastLength = 0;

  for (;;) {
    // Offset of the byte holding the code's first bit: 1–7 buffered bits come from byte pos-1.
    const codeOffset = nBits === 0 ? pos : pos - 1;
    while (nBits < width) {
      if (pos >= input.length) {
        throw new WireError('lzw', input.length, 'stream ends without an EOF code (Go: unexpected EOF)');
      }
      bits |= input[pos++]! << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;

    const start = o;
    if (code < CLEAR) {
      if (o === out.length) out = grow(out, o, 1, maxOutputBytes, codeOffset);
      out[o++] = code;
    } else if (code === CLEAR) {
      width = 9;
      hi = EOF;
      overflow = 512;
      last = -1;
      continue;
    } else if (code === EOF) {
      break;
    } else if (code === hi && last !== -1) {
      // KwKwK: the entry being defined right now is string(last) + its own first byte.
      if (o + lastLength + 1 > out.length) out = grow(out, o, lastLength + 1, maxOutputBytes, codeOffset);
      copyWithinOutput(out, lastStart, o, lastLength);
      out[o + lastLength] = out[lastStart]!;
      o += lastLength + 1;
    } else if (code <= hi) {
      // code == hi with no last code happens only once the table is full (Go then keeps hi at
      // 4095); entry 4095 was defined just before that.
      const length = entryLength[code]!;
      if (o + length > out.length) out = grow(out, o, length, maxOutputBytes, codeOffset);
      copyWithinOutput(out, entryStart[code]!, o, length);
      o += length;
    } else {
      throw new WireError('lzw', codeOffset, `invalid code ${code} (next free code is ${hi})`);
    }

    if (last !== -1) {
      // Go saves prefix[hi] = last, suffix[hi] = first byte of this string: in the output that
      // is string(last) extended by one byte.
      entryStart[hi] = lastStart;
      entryLength[hi] = lastLength + 1;
    }
    last = code;
    lastStart = start;
    lastLength = o - start;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        // Table full: stop adding entries and undo the increment, as Go does.
        last = -1;
        hi--;
      } else {
        width++;
        overflow <<= 1;
      }
    }
  }
  return o === out.length ? out : out.slice(0, o);
}

/**
 * Returns a larger copy of out[0, used) with room for `n` more bytes, or rejects the stream when
 * that would pass `limit`. The buffer never grows beyond `limit`, so a bomb cannot allocate more.
 */
function grow(out: Uint8Array, used: number, n: number, limit: number, codeOffset: number): Uint8Array {
  const needed = used + n;
  if (needed > limit) {
    throw new WireError('lzw', codeOffset, `decompressed size exceeds the limit of ${limit} bytes`);
  }
  const grown = new Uint8Array(Math.min(limit, Math.max(needed, out.length * 2)));
  grown.set(out.subarray(0, used));
  return grown;
}

/** Copies out[from, from+n) to out[to, …). The source always ends at or before `to`. */
function copyWithinOutput(out: Uint8Array, from: number, to: number, n: number): void {
  // copyWithin's call overhead only pays off for longer strings.
  if (n > 32) {
    out.copyWithin(to, from, from + n);
  } else {
    for (let i = 0; i < n; i++) out[to + i] = out[from + i]!;
  }
}
