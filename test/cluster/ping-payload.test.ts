// Serf's ack payload (reference §8.9): 0x01 + msgpack Coordinate. Every ack a real serf 0.9.4
// agent sent in the captured fixtures decodes to the coordinate index.json gives and re-encodes
// to the same bytes; malformed payloads give typed errors, never exceptions.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newCoordinate, type Coordinate } from '../../src/cluster/coordinate.js';
import { PingVersionError, coordinateFromWire, coordinateToWire, decodeAckPayload, encodeAckPayload } from '../../src/cluster/ping-payload.js';
import { VivaldiClient } from '../../src/cluster/vivaldi.js';
import { Keyring } from '../../src/wire/encryption.js';
import { WireError, isInternalError } from '../../src/wire/errors.js';
import { decodePacket } from '../../src/wire/packet.js';
import { SeededRng } from '../../src/protocol/rng.js';
import { fromHex, hex, loadIndex, readFixture, walk, type FixtureNode } from '../helpers/fixtures.js';

interface CapturedAck {
  readonly file: string;
  readonly payload: Uint8Array;
  readonly expected: Coordinate;
}

/** Ack payloads taken from the captured packets themselves (decrypted and decompressed by src/wire). */
function capturedAcks(): CapturedAck[] {
  const index = loadIndex();
  const keyring = Keyring.fromBase64([index.encryption_key_base64]);
  const out: CapturedAck[] = [];
  for (const file of index.files) {
    if (file.transport !== 'udp') continue;
    // index.json's decoding of each ack in this file, in order.
    const expected: Coordinate[] = [];
    walk(file.decoded, (node: FixtureNode) => {
      const decoded = node.payload_decoded as { ping_version?: number; coordinate?: Record<string, unknown> } | undefined;
      if (decoded?.coordinate === undefined) return;
      assert.equal(decoded.ping_version, 1);
      const c = decoded.coordinate as { Vec: number[]; Error: number; Adjustment: number; Height: number };
      expected.push({ vec: c.Vec, error: c.Error, adjustment: c.Adjustment, height: c.Height });
    });
    if (expected.length === 0) continue;
    const packet = decodePacket(readFixture(file.file), file.decoded.layer === 'encryption' ? { keyring } : {});
    if (!packet.ok) assert.fail(`${file.file}: ${packet.error.message}`);
    const payloads = packet.value.messages.flatMap((m) => (m.type === 'ack' && m.body.Payload !== null ? [m.body.Payload] : []));
    assert.equal(payloads.length, expected.length, `${file.file}: acks with a payload`);
    payloads.forEach((payload, i) => out.push({ file: file.file, payload, expected: expected[i] as Coordinate }));
  }
  return out;
}

describe('captured serf 0.9.4 acks', () => {
  const acks = capturedAcks();

  test('the fixtures hold the acks named in the brief, and more', () => {
    const files = acks.map((a) => a.file);
    for (const name of ['07_1_udp-ack-lzw-compressed.bin', '08_1_udp-ack-coordinate.bin', '10_2_udp-ack.bin', '52_8_udp-encrypted-ack.bin']) {
      assert.ok(files.includes(name), name);
    }
    assert.equal(acks.length, 8);
  });

  for (const { file, payload, expected } of acks) {
    test(`${file}: decodes to index.json's coordinate and re-encodes to the same bytes`, () => {
      assert.equal(payload.length, 130); // 1 version byte + fixmap(4) with four float64s and 8 in Vec
      const decoded = decodeAckPayload(payload);
      if (!decoded.ok) assert.fail(decoded.error.message);
      assert.deepEqual(decoded.value, expected);
      assert.equal(hex(encodeAckPayload(decoded.value as Coordinate)), hex(payload));
    });
  }

  test("a fresh client's coordinate encodes to exactly the first ack a fresh serf agent sent (07)", () => {
    const first = acks.find((a) => a.file.startsWith('07_'));
    assert.ok(first);
    assert.equal(hex(encodeAckPayload(new VivaldiClient(new SeededRng(1)).getCoordinate())), hex(first.payload));
  });

  test('a captured coordinate is accepted by the Vivaldi client', () => {
    const client = new VivaldiClient(new SeededRng(1));
    for (const { payload } of acks) {
      const decoded = decodeAckPayload(payload);
      assert.ok(decoded.ok && decoded.value !== null);
      assert.ok(client.update('node-b', decoded.value, 0.25).ok);
    }
  });
});

describe('decodeAckPayload', () => {
  const good = encodeAckPayload({ vec: [0.001, -0.002, 0, 0, 0, 0, 0, 1e-5], error: 0.5, adjustment: -1e-4, height: 2e-5 });

  test('a missing or empty payload is not an error: null, which Serf ignores', () => {
    assert.deepEqual(decodeAckPayload(null), { ok: true, value: null });
    assert.deepEqual(decodeAckPayload(new Uint8Array(0)), { ok: true, value: null });
  });

  test('another ping version is a PingVersionError carrying the version', () => {
    const payload = good.slice();
    payload[0] = 2;
    const r = decodeAckPayload(payload);
    assert.ok(!r.ok);
    assert.ok(r.error instanceof PingVersionError);
    assert.ok(r.error instanceof WireError);
    assert.equal((r.error as PingVersionError).version, 2);
    assert.match(r.error.message, /unsupported ping version 2/);
  });

  test('the version byte alone, or a non-map, is a WireError in the serf layer', () => {
    for (const payload of [Uint8Array.of(1), Uint8Array.of(1, 0x93, 1, 2, 3), Uint8Array.of(1, 0xa3, 0x61, 0x62, 0x63)]) {
      const r = decodeAckPayload(payload);
      assert.ok(!r.ok, hex(payload));
      assert.equal(r.error.layer, 'serf');
      assert.ok(!isInternalError(r.error), r.error.message);
    }
  });

  test('every truncation of a good payload returns an error, never throws', () => {
    for (let n = 1; n < good.length; n++) {
      const r = decodeAckPayload(good.subarray(0, n));
      assert.ok(!r.ok, `length ${n}`);
      assert.ok(!isInternalError(r.error), `length ${n}: ${r.error.message}`);
    }
  });

  test('random bytes after the version byte never throw and never hit an internal error', () => {
    const rng = new SeededRng(4);
    for (let i = 0; i < 2000; i++) {
      const payload = rng.bytes(new Uint8Array(1 + rng.int(160)));
      payload[0] = 1;
      // Mostly start with a map header so the decoder gets past the first byte.
      if (i % 2 === 0 && payload.length > 1) payload[1] = 0x84;
      const r = decodeAckPayload(payload);
      if (!r.ok) assert.ok(!isInternalError(r.error), `${hex(payload)}: ${r.error.message}`);
    }
  });

  test("like Go's decoder: bytes after the coordinate are ignored, unknown fields skipped, integers read as floats", () => {
    const trailing = new Uint8Array([...good, 0xff, 0x00]);
    const a = decodeAckPayload(trailing);
    const b = decodeAckPayload(good);
    assert.ok(a.ok && b.ok);
    assert.deepEqual(a.value, b.value);

    // {"Extra": "x", "Error": 1, "Height": 0.5 (float32), "Vec": [2, -1], "Adjustment": 0}
    const loose = fromHex('01' + '85' + 'a54578747261' + 'a178' + 'a54572726f72' + '01' + 'a6486569676874' + 'ca3f000000' + 'a3566563' + '9202ff' + 'aa41646a7573746d656e74' + '00');
    const r = decodeAckPayload(loose);
    if (!r.ok) assert.fail(r.error.message);
    assert.deepEqual(r.value, { vec: [2, -1], error: 1, adjustment: 0, height: 0.5 });
  });

  test('nil (or a map without Vec) decodes to an empty vector, which the client refuses as incompatible, as Serf does', () => {
    for (const payload of [Uint8Array.of(1, 0xc0), Uint8Array.of(1, 0x80)]) {
      const r = decodeAckPayload(payload);
      if (!r.ok) assert.fail(r.error.message);
      assert.deepEqual(r.value, { vec: [], error: 0, adjustment: 0, height: 0 });
      const update = new VivaldiClient(new SeededRng(1)).update('n', r.value as Coordinate, 1);
      assert.ok(!update.ok && update.error.kind === 'incompatible');
    }
  });
});

describe('encodeAckPayload', () => {
  test('version byte, then keys in Go order (Adjustment, Error, Height, Vec), every number a float64', () => {
    const bytes = encodeAckPayload({ ...newCoordinate(), vec: [1, 2, 3, 4, 5, 6, 7, 8] });
    assert.equal(bytes[0], 0x01);
    assert.equal(bytes[1], 0x84);
    assert.equal(hex(bytes.subarray(2, 13)), 'aa41646a7573746d656e74'); // "Adjustment"
    assert.equal(bytes[13], 0xcb);
    // 1 + 1 + (11 + 9) + (6 + 9) + (7 + 9) + (4 + 1 + 8 × 9)
    assert.equal(bytes.length, 130);
  });

  test('round trip, including negative zero and extreme values', () => {
    const c: Coordinate = { vec: [-0, 5e-324, -1.7976931348623157e308, 1e-300, 0.1, -0.2, 3, 4], error: 1.5, adjustment: -0, height: 1e-5 };
    const r = decodeAckPayload(encodeAckPayload(c));
    if (!r.ok) assert.fail(r.error.message);
    assert.deepEqual(r.value, c);
    assert.ok(Object.is((r.value as Coordinate).vec[0], -0));
  });

  test('each call returns its own bytes', () => {
    const a = encodeAckPayload(newCoordinate());
    const b = encodeAckPayload({ ...newCoordinate(), error: 0.1 });
    assert.notEqual(hex(a), hex(b));
    assert.equal(hex(a), hex(encodeAckPayload(newCoordinate())));
  });

  test('wire form conversions are inverse', () => {
    const c: Coordinate = { vec: [1, 2], error: 0.3, adjustment: 0.01, height: 0.02 };
    assert.deepEqual(coordinateFromWire(coordinateToWire(c)), c);
    assert.deepEqual(coordinateToWire(c), { Vec: [1, 2], Error: 0.3, Adjustment: 0.01, Height: 0.02 });
  });
});
