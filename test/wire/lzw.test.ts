import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lzwCompress, lzwDecompress } from '../../src/wire/lzw.js';
import { WireError } from '../../src/wire/errors.js';
import { fromHex, hex, loadIndex, walk } from '../helpers/fixtures.js';

const LIMIT = 1 << 20;

/** Deterministic bytes from a 32-bit xorshift generator, so failures replay. */
function pseudoRandom(length: number, seed: number, alphabet = 256): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x % alphabet;
  }
  return out;
}

/**
 * Packs codes LSB-first, widening exactly when Go's reader does (after each non-clear code hi++,
 * width grows when hi reaches 1<<width, up to 12 bits where hi stays at 4095), so tests can build
 * streams Go's writer would never emit.
 */
function packCodes(codes: readonly number[]): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let hi = 257;
  for (const code of codes) {
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out.push(bits & 0xff);
      bits >>>= 8;
      nBits -= 8;
    }
    if (code === 256) {
      width = 9;
      hi = 257;
    } else if (++hi >= 1 << width) {
      if (width === 12) hi--;
      else width++;
    }
  }
  if (nBits > 0) out.push(bits & 0xff);
  return Uint8Array.from(out);
}

/** Counts the clear codes in a stream, following the same widths as packCodes. */
function countClears(stream: Uint8Array): number {
  let clears = 0;
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let hi = 257;
  let pos = 0;
  for (;;) {
    while (nBits < width) {
      bits |= stream[pos++]! << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;
    if (code === 257) return clears;
    if (code === 256) {
      clears++;
      width = 9;
      hi = 257;
    } else if (++hi >= 1 << width) {
      if (width === 12) hi--;
      else width++;
    }
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function assertWireError(run: () => unknown, reason?: RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof WireError, `expected WireError, got ${String(err)}`);
    assert.equal(err.layer, 'lzw');
    if (reason) assert.match(err.reason, reason);
    return true;
  });
}

/** Every compressMsg (type 9) in the captured traffic, including those inside hasCrc/encryption. */
function capturedBuffers(): { file: string; buf: Uint8Array; plain: Uint8Array }[] {
  const found: { file: string; buf: Uint8Array; plain: Uint8Array }[] = [];
  for (const fixture of loadIndex().files) {
    walk(fixture.decoded, (node) => {
      if (node.type !== 9 || node.name !== 'compressMsg') return;
      const body = node.body as { Buf?: unknown } | undefined;
      if (typeof body?.Buf !== 'string' || typeof node.decompressed_hex !== 'string') return;
      found.push({ file: fixture.file, buf: fromHex(body.Buf), plain: fromHex(node.decompressed_hex) });
    });
  }
  return found;
}

test('every captured Go LZW buffer decompresses to its plaintext and recompresses byte for byte', () => {
  const buffers = capturedBuffers();
  // index.json holds 20 (README's 85 counts every Buf in the pcaps, not only the .bin files).
  assert.ok(buffers.length >= 20, `found only ${buffers.length} compressMsg buffers`);
  for (const { file, buf, plain } of buffers) {
    assert.equal(hex(lzwDecompress(buf, LIMIT)), hex(plain), `${file}: decompress`);
    assert.equal(hex(lzwCompress(plain)), hex(buf), `${file}: compress`);
  }
});

test('captured buffers start with a clear code: Go ≥ 1.17 writes one first', () => {
  for (const { file, buf } of capturedBuffers()) {
    assert.equal(buf[0], 0x00, file);
    assert.equal(buf[1]! & 1, 1, file); // bit 8 of code 256
  }
});

test('empty input is clear + EOF: 3 bytes, as Go 1.19 writes it', () => {
  // 256 | 257 << 9 = 0x20300, little end first: 00 03 02.
  assert.deepEqual(lzwCompress(new Uint8Array(0)), Uint8Array.of(0x00, 0x03, 0x02));
  assert.deepEqual(lzwDecompress(Uint8Array.of(0x00, 0x03, 0x02), 0), new Uint8Array(0));
  // A bare EOF (no clear) is just as valid for the reader.
  assert.deepEqual(lzwDecompress(packCodes([257]), 0), new Uint8Array(0));
});

test('KwKwK: codes equal to the next free code expand to last + its first byte', () => {
  const input = new TextEncoder().encode('aaaaaaa');
  // Codes: clear, 'a', 258 (="aa", defined by itself), 259 (="aaa"), 'a', EOF. Output of Go 1.19.
  const expected = Uint8Array.of(0x00, 0xc3, 0x08, 0x1c, 0x18, 0x26, 0x20);
  assert.deepEqual(lzwCompress(input), expected);
  assert.deepEqual(packCodes([256, 97, 258, 259, 97, 257]), expected);
  assert.deepEqual(lzwDecompress(expected, 7), input);
});

function longInputs(): Record<string, Uint8Array> {
  const line = new TextEncoder().encode('{"Node":"node-17","Addr":"7f000001","Port":18001,"Incarnation":3}\n');
  const repetitive = new Uint8Array(200_000);
  for (let i = 0; i < repetitive.length; i++) repetitive[i] = line[i % line.length]! ^ (i % 7919 === 0 ? 1 : 0);
  return {
    random: pseudoRandom(200_000, 1),
    smallAlphabet: pseudoRandom(200_000, 2, 4),
    repetitive,
    zeros: new Uint8Array(300_000),
  };
}

test('long inputs cross the 4095-code reset and match Go 1.19 byte for byte', () => {
  // Length and sha256 of Go 1.19's lzw.NewWriter(w, lzw.LSB, 8) Write+Close output for each input.
  const go: Record<string, [number, string]> = {
    random: [273_871, '969c25ff597c74adf697d11a8703c2b37c143391de8b635d8ddc620151259649'],
    smallAlphabet: [59_563, 'd634849a1b404a21d1e729ae43824ec566c727eed3a7457da679ce50ff691968'],
    repetitive: [10_076, '54d6aaedff0475d2d2fe0c860a03f494cec842edfa74a059877e8b1a72e25ebd'],
    zeros: [941, '63e2abf5d820181360ae3e4b9954fe287e7004565bcdd9567a2940791ef788bb'],
  };
  for (const [name, input] of Object.entries(longInputs())) {
    const compressed = lzwCompress(input);
    assert.deepEqual([compressed.length, sha256(compressed)], go[name], `${name}: differs from Go`);
    assert.deepEqual(lzwDecompress(compressed, input.length), input, `${name}: round trip`);
    // zeros never fill the table: its strings just grow longer.
    if (name !== 'zeros') assert.ok(countClears(compressed) > 1, `${name}: expected mid-stream clears`);
  }
});

test('a 12-bit table that fills without a clear stops growing, as Go reader.go does', () => {
  // 3839 literals: entry 258+k = lit[k] lit[k+1]; the last literal defines entry 4095 and fills
  // the table. Afterwards hi stays 4095, so code 4095 is an ordinary entry, and nothing new is added.
  const literals = Array.from({ length: 3839 }, (_, i) => (i * 7 + (i >> 8)) & 0xff);
  const stream = packCodes([...literals, 4095, 300, 65, 4095, 257]);
  const expected = [...literals, literals[3837]!, literals[3838]!, literals[42]!, literals[43]!, 65];
  expected.push(literals[3837]!, literals[3838]!);
  assert.deepEqual(lzwDecompress(stream, LIMIT), Uint8Array.from(expected));
});

test('bytes after the EOF code are ignored', () => {
  const compressed = lzwCompress(new TextEncoder().encode('hello hello hello'));
  const padded = new Uint8Array(compressed.length + 3);
  padded.set(compressed);
  padded.set([0xff, 0xff, 0xff], compressed.length);
  assert.deepEqual(lzwDecompress(padded, LIMIT), new TextEncoder().encode('hello hello hello'));
});

test('every truncation of every captured buffer is a WireError (Go: unexpected EOF)', () => {
  for (const { buf } of capturedBuffers()) {
    for (let n = 0; n < buf.length; n++) {
      assertWireError(() => lzwDecompress(buf.subarray(0, n), LIMIT), /EOF/);
    }
  }
});

test('codes beyond the next free code are invalid', () => {
  assertWireError(() => lzwDecompress(packCodes([258, 257]), LIMIT), /invalid code 258/);
  assertWireError(() => lzwDecompress(packCodes([256, 97, 300, 257]), LIMIT), /invalid code 300/);
  // After a clear, the table is empty again: 258 was valid before it, not after.
  assertWireError(() => lzwDecompress(packCodes([97, 98, 258, 256, 99, 259, 257]), LIMIT), /invalid code 259/);
  // Right after a clear there is no previous code, so the KwKwK code (hi) would be EOF itself.
  assertWireError(() => lzwDecompress(packCodes([256, 258, 257]), LIMIT), /invalid code/);
});

test('garbage and bit-flipped streams fail only with WireError', () => {
  const seeds = capturedBuffers().map((c) => c.buf);
  let failures = 0;
  for (let round = 0; round < 20_000; round++) {
    let input: Uint8Array;
    if (round % 2 === 0) {
      input = pseudoRandom(1 + (round % 300), round + 1);
    } else {
      input = Uint8Array.from(seeds[round % seeds.length]!);
      const flips = pseudoRandom(3, round + 7);
      input[(flips[0]! * 256 + flips[1]!) % input.length]! ^= 1 << (flips[2]! & 7);
    }
    try {
      lzwDecompress(input, 64 * 1024);
    } catch (err) {
      assert.ok(err instanceof WireError, `round ${round}: ${String(err)}`);
      assert.equal(err.layer, 'lzw');
      failures++;
    }
  }
  assert.ok(failures > 10_000, `only ${failures} of 20000 garbage inputs were rejected`);
});

test('decompression bomb: output past the limit is a WireError naming the limit', () => {
  const zeros = new Uint8Array(1_000_000);
  const bomb = lzwCompress(zeros);
  assert.ok(bomb.length < 4_000, `bomb is ${bomb.length} bytes`);
  assertWireError(() => lzwDecompress(bomb, 65_536), /limit of 65536 bytes/);
  assertWireError(() => lzwDecompress(bomb, zeros.length - 1), /limit/);
  assert.equal(lzwDecompress(bomb, zeros.length).length, zeros.length);
  assertWireError(() => lzwDecompress(lzwCompress(Uint8Array.of(1)), 0), /limit of 0 bytes/);
});

test('maxOutputBytes must be a non-negative integer', () => {
  assert.throws(() => lzwDecompress(Uint8Array.of(0, 3, 2), -1), RangeError);
  assert.throws(() => lzwDecompress(Uint8Array.of(0, 3, 2), Number.NaN), RangeError);
});
