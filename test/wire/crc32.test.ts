import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32, crc32Table } from '../../src/wire/crc32.js';
import { fromHex, loadIndex, readFixture, walk } from '../helpers/fixtures.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

test('known CRC-32 (IEEE) vectors, native and table implementations', () => {
  const vectors: [Uint8Array, number][] = [
    [new Uint8Array(0), 0],
    [text('123456789'), 0xcbf43926], // the standard check value
    [text('The quick brown fox jumps over the lazy dog'), 0x414fa339],
    [Uint8Array.of(0), 0xd202ef8d],
    [new Uint8Array(32).fill(0xff), 0xff6cab0b],
  ];
  for (const [data, expected] of vectors) {
    assert.equal(crc32(data), expected);
    assert.equal(crc32Table(data), expected);
  }
});

test('native and table implementations agree and return unsigned 32-bit numbers', () => {
  let seed = 7;
  for (let n = 0; n < 2000; n += 7) {
    const data = new Uint8Array(n);
    for (let i = 0; i < n; i++) data[i] = seed = (seed * 1103515245 + 12345) & 0xff;
    const value = crc32(data);
    assert.equal(value, crc32Table(data));
    assert.ok(Number.isInteger(value) && value >= 0 && value <= 0xffffffff);
  }
  // Works on a view into a larger buffer, not just whole buffers.
  const whole = text('xx123456789yy');
  assert.equal(crc32(whole.subarray(2, 11)), 0xcbf43926);
  assert.equal(crc32Table(whole.subarray(2, 11)), 0xcbf43926);
});

/**
 * The bytes of every captured hasCrc (12) layer: plain UDP files are the hasCrc message itself,
 * encrypted ones carry it as the decrypted plaintext_hex.
 */
function capturedCrcLayers(): { file: string; crc: number; message: Uint8Array }[] {
  const found: { file: string; crc: number; message: Uint8Array }[] = [];
  for (const fixture of loadIndex().files) {
    if (fixture.transport !== 'udp') continue;
    const crcNodes: { crc32: string }[] = [];
    let plaintext: Uint8Array | undefined;
    walk(fixture.decoded, (node) => {
      if (node.type === 12 && typeof node.crc32 === 'string') crcNodes.push({ crc32: node.crc32 });
      if (typeof node.plaintext_hex === 'string') plaintext = fromHex(node.plaintext_hex);
    });
    if (crcNodes.length === 0) continue;
    // hasCrc is the outermost layer inside encryption and never nested (reference §4.2).
    assert.equal(crcNodes.length, 1, `${fixture.file}: more than one hasCrc layer`);
    const message = plaintext ?? readFixture(fixture.file);
    assert.equal(message[0], 12, `${fixture.file}: hasCrc message must start with type 12`);
    found.push({ file: fixture.file, crc: parseInt(crcNodes[0]!.crc32, 16), message });
  }
  return found;
}

test('every captured hasCrc checksum verifies', () => {
  const layers = capturedCrcLayers();
  assert.ok(layers.length >= 24, `found only ${layers.length} hasCrc layers`);
  assert.ok(layers.some((l) => l.file.includes('_8_udp-encrypted')), 'includes encrypted packets');
  for (const { file, crc, message } of layers) {
    const onWire = new DataView(message.buffer, message.byteOffset).getUint32(1);
    assert.equal(onWire, crc, `${file}: index.json crc32 field vs bytes`);
    assert.equal(crc32(message.subarray(5)), crc, `${file}: native`);
    assert.equal(crc32Table(message.subarray(5)), crc, `${file}: table`);
  }
});
