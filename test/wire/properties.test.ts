// Property tests of the wire codec: every message type round-trips (decode(encode(x)) equals x)
// and encoding is canonical (decode then re-encode gives the same bytes), alone, in packets with
// every wrapper combination, and in TCP streams; LZW round-trips; and no decoder throws or reports
// an internal error on arbitrary bytes. Seeds are fixed so CI sees the same cases every run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Keyring } from '../../src/wire/encryption.js';
import { WireError, isInternalError, type DecodeResult } from '../../src/wire/errors.js';
import { lzwCompress, lzwDecompress } from '../../src/wire/lzw.js';
import { decodeMessage, encodeMessage, type MemberlistMessage } from '../../src/wire/messages.js';
import { compressMessage, decodePacket, encodeCompound, encodePacket, type PacketEncodeOptions, type PacketLayer } from '../../src/wire/packet.js';
import { decodeQueryFilter, decodeSerfMessage, encodeQueryFilter, encodeSerfMessage, type SerfMessage } from '../../src/wire/serf.js';
import { encodeStream, parseStream, type StreamEncodeOptions, type StreamLayer } from '../../src/wire/stream.js';
import { dissectPacket, dissectStream, type Dissection } from '../../src/wire/dissect.js';
import { decodeTags } from '../../src/wire/tags.js';
import { loadIndex } from '../helpers/fixtures.js';
import {
  BOUNDARY_LENGTHS, aesKey, boundaryStrings, memberlistMessage, packetMessage, queryFilter, serfMessage, streamMessage,
} from './arbitraries.js';
import { Rng, seededRandomBytes } from './mutate.js';
import { concatBytes } from '../../src/wire/bytes.js';

const SEED = 42;
const runs = (numRuns: number): fc.Parameters<unknown> => ({ seed: SEED, numRuns });

const fixtureKeyring = (): Keyring => Keyring.fromBase64([loadIndex().encryption_key_base64]);

/** A keyring whose primary key may be any of several (decryption must try them all). */
const keyring = fc.uniqueArray(aesKey, { minLength: 1, maxLength: 3, selector: (k) => Buffer.from(k).toString('hex') })
  .map((keys) => new Keyring([...keys, ...fixtureKeyring().keys()]));

/** Round trip and canonical form: decode(encode(x)) equals x, and re-encodes to the same bytes. */
function assertRoundTrip<T>(value: T, encode: (v: T) => Uint8Array, decode: (b: Uint8Array) => T): void {
  const bytes = encode(value);
  const decoded = decode(bytes);
  assert.deepStrictEqual(decoded, value);
  assert.deepStrictEqual(encode(decoded), bytes);
}

/**
 * The dissector also reads user payloads as Serf and Meta as tags; the generators put arbitrary
 * bytes there too, so a 'serf' or 'meta' error is expected. Nothing else is.
 */
function assertDissected(r: DecodeResult<Dissection>, messages: number): void {
  if (r.ok) assert.equal(r.value.messages.length, messages);
  else assert.ok(r.error.layer === 'serf' || r.error.layer === 'meta', r.error.message);
}

describe('memberlist messages', () => {
  test('every message type round-trips and encodes canonically', () => {
    fc.assert(fc.property(memberlistMessage, (msg) => assertRoundTrip(msg, encodeMessage, (b) => decodeMessage(b))), runs(400));
  });

  test('each message type is generated', () => {
    const seen = new Set(fc.sample(memberlistMessage, { seed: SEED, numRuns: 300 }).map((m) => m.type));
    assert.deepStrictEqual([...seen].sort(), ['ack', 'alive', 'dead', 'err', 'indirectPing', 'nack', 'ping', 'suspect', 'user']);
  });

  test('every boundary string length survives in a Node field, with the header form Go uses', () => {
    for (const s of boundaryStrings) {
      const msg: MemberlistMessage = { type: 'suspect', body: { Incarnation: 0, Node: s, From: '' } };
      const bytes = encodeMessage(msg);
      assert.deepStrictEqual(decodeMessage(bytes), msg);
      const n = new TextEncoder().encode(s).length;
      // suspect keys sort as From, Incarnation, Node: the Node value header sits after its key.
      const at = bytes.indexOf(0x4e /* N */, 1) + 4;
      const header = bytes[at] as number;
      if (n < 32) assert.equal(header, 0xa0 | n);
      else if (n <= 0xffff) assert.equal(header, 0xda, `str16 for ${n} bytes, never str8`);
      else assert.equal(header, 0xdb);
    }
    assert.deepStrictEqual([...new Set(boundaryStrings.map((s) => new TextEncoder().encode(s).length))], [...BOUNDARY_LENGTHS]);
  });

  test('an omitempty field that is empty encodes exactly as one left out', () => {
    const base = { SeqNo: 2 ** 31, Node: 'n' };
    const withEmpty = encodeMessage({ type: 'ping', body: { ...base, SourceAddr: new Uint8Array(0), SourcePort: 0, SourceNode: '' } });
    assert.deepStrictEqual(withEmpty, encodeMessage({ type: 'ping', body: base }));
  });

  test('values outside a field type are refused when encoding, not truncated', () => {
    for (const body of [{ SeqNo: 2 ** 32, Node: '' }, { SeqNo: -1, Node: '' }, { SeqNo: 1.5, Node: '' }]) {
      assert.throws(() => encodeMessage({ type: 'ping', body }), RangeError);
    }
    assert.throws(() => encodeMessage({ type: 'ping', body: { SeqNo: 0, Node: '', SourcePort: 0x1_0000 } }), RangeError);
    assert.throws(
      () => encodeStream({ type: 'pushPull', header: { Nodes: 1, UserStateLen: 0, Join: false }, nodes: [{ Name: '', Addr: new Uint8Array(4), Port: 0, Meta: new Uint8Array(0), Incarnation: 0, State: 2 ** 53, Vsn: new Uint8Array(0) }], userState: new Uint8Array(0) }),
      RangeError,
    );
    assert.throws(() => encodeSerfMessage({ type: 'join', body: { LTime: 2n ** 64n, Node: '' } }), RangeError);
  });
});

describe('Serf messages', () => {
  test('every Serf message type round-trips and encodes canonically', () => {
    fc.assert(fc.property(serfMessage, (msg) => assertRoundTrip(msg, encodeSerfMessage, (b) => decodeSerfMessage(b))), runs(400));
  });

  test('each Serf message type is generated, relays and nil conflict responses included', () => {
    const sample = fc.sample(serfMessage, { seed: SEED, numRuns: 400 });
    const seen = new Set(sample.map((m) => m.type));
    assert.equal(seen.size, 10, [...seen].join());
    assert.ok(sample.some((m) => m.type === 'conflictResponse' && m.body === null));
    assert.ok(sample.some((m) => m.type === 'relay' && m.inner.type === 'relay'));
    assert.ok(sample.some((m) => m.type === 'pushPull' && m.body.Events?.length === 512));
  });

  test('a Serf message inside a memberlist user message round-trips', () => {
    fc.assert(
      fc.property(serfMessage, (msg) => {
        const decoded = decodeMessage(encodeMessage({ type: 'user', payload: encodeSerfMessage(msg) }));
        assert.equal(decoded.type, 'user');
        assert.deepStrictEqual(decodeSerfMessage(decoded.type === 'user' ? decoded.payload : new Uint8Array(0)), msg);
      }),
      runs(100),
    );
  });

  test('query filters round-trip', () => {
    fc.assert(fc.property(queryFilter, (f) => assertRoundTrip(f, encodeQueryFilter, decodeQueryFilter)), runs(200));
  });

  test('uint64 Lamport times keep every bit at 2^53+1 and 2^64-1', () => {
    for (const LTime of [2n ** 31n, 2n ** 32n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 64n - 1n]) {
      const msg: SerfMessage = { type: 'join', body: { LTime, Node: 'x' } };
      assertRoundTrip(msg, encodeSerfMessage, (b) => decodeSerfMessage(b));
    }
  });
});

describe('UDP packets', () => {
  const packetCase = fc.record({
    messages: fc.oneof(
      { arbitrary: fc.array(packetMessage, { minLength: 1, maxLength: 1 }), weight: 2 },
      { arbitrary: fc.array(packetMessage, { minLength: 2, maxLength: 127 }), weight: 3 },
      // The most parts memberlist packs (MAX_COMPOUND_PARTS).
      { arbitrary: fc.array(packetMessage, { minLength: 127, maxLength: 127 }), weight: 1 },
    ),
    compress: fc.boolean(),
    crc: fc.boolean(),
    encryption: fc.option(fc.record({ keyring, nonceSeed: fc.integer(), version: fc.constantFrom(0 as const, 1 as const) }), { nil: null }),
  });
  // Part sizes are bounded (short strings) but 127 of them can pass 64 KiB; the limits are not
  // what this property is about.
  const limits = { maxPacketBytes: 1 << 24, maxDecompressedPacketBytes: 1 << 24 };

  test('messages survive compound (2..127 parts) × compress × CRC × encryption, in order', () => {
    fc.assert(
      fc.property(packetCase, ({ messages, compress, crc, encryption }) => {
        const encoded = messages.map(encodeMessage);
        // A fresh nonce source each time, so encoding twice gives the same bytes.
        const options = (): PacketEncodeOptions => ({
          compress,
          crc,
          ...(encryption === null ? {} : { encryption: { keyring: encryption.keyring, randomBytes: seededRandomBytes(encryption.nonceSeed), version: encryption.version } }),
        });
        const packet = encodePacket(encoded, options());
        const decoded = decodePacket(packet, { limits, ...(encryption === null ? {} : { keyring: encryption.keyring }) });
        assert.ok(decoded.ok, decoded.ok ? '' : decoded.error.message);
        assert.deepStrictEqual(decoded.value.messages, messages);

        const plain = encoded.length === 1 ? (encoded[0] as Uint8Array) : encodeCompound(encoded);
        const expected: PacketLayer[] = [];
        if (encryption !== null) expected.push('encrypt');
        if (crc) expected.push('crc');
        if (compress && compressMessage(plain).length < plain.length) expected.push('compress');
        if (encoded.length > 1) expected.push('compound');
        assert.deepStrictEqual(decoded.value.layers, expected);

        // Canonical: the decoded messages build the identical packet (same nonces).
        const again = encodePacket(decoded.value.messages.map(encodeMessage), options());
        assert.deepStrictEqual(again, packet);

        const dissected = dissectPacket(packet, { limits, ...(encryption === null ? {} : { keyring: encryption.keyring }) });
        assertDissected(dissected, messages.length);
      }),
      runs(200),
    );
  });

  test('an encrypted packet is refused without the key, and a plain one with a keyring only when verifying', () => {
    const ring = fixtureKeyring();
    fc.assert(
      fc.property(packetMessage, fc.integer(), (msg, nonceSeed) => {
        const plain = encodePacket([encodeMessage(msg)]);
        const sealed = encodePacket([encodeMessage(msg)], { encryption: { keyring: ring, randomBytes: seededRandomBytes(nonceSeed) } });
        const other = new Keyring([new Rng(nonceSeed).bytes(32)]);
        for (const [bytes, options] of [[sealed, { keyring: other }], [plain, { keyring: ring }]] as const) {
          const r = decodePacket(bytes, options);
          assert.ok(!r.ok && r.error.layer === 'encrypt', r.ok ? 'decoded' : r.error.message);
        }
        const lenient = decodePacket(plain, { keyring: ring, verifyIncoming: false });
        assert.ok(lenient.ok && lenient.value.layers.length === 0);
      }),
      runs(50),
    );
  });
});

describe('TCP streams', () => {
  const streamCase = fc.record({
    message: streamMessage,
    compress: fc.boolean(),
    encryption: fc.option(fc.record({ keyring, nonceSeed: fc.integer() }), { nil: null }),
    trailer: fc.uint8Array({ maxLength: 8 }),
  });

  test('every stream message round-trips with and without compress and encryption, and parses incrementally', () => {
    fc.assert(
      fc.property(streamCase, ({ message, compress, encryption, trailer }) => {
        const options = (): StreamEncodeOptions => ({
          compress,
          ...(encryption === null ? {} : { encryption: { keyring: encryption.keyring, randomBytes: seededRandomBytes(encryption.nonceSeed) } }),
        });
        const bytes = encodeStream(message, options());
        const parseOptions = encryption === null ? {} : { keyring: encryption.keyring };
        const parsed = parseStream(bytes, parseOptions);
        assert.equal(parsed.status, 'complete', parsed.status === 'error' ? parsed.error.message : parsed.status);
        if (parsed.status !== 'complete') return;
        assert.deepStrictEqual(parsed.message, message);
        assert.equal(parsed.consumed, bytes.length);
        const layers: StreamLayer[] = [];
        if (encryption !== null) layers.push('encrypt');
        if (compress) layers.push('compress');
        assert.deepStrictEqual(parsed.layers, layers);

        // A Go peer may keep writing after the message: what follows is left alone.
        const followed = parseStream(concatBytes(bytes, trailer), parseOptions);
        assert.ok(followed.status === 'complete' && followed.consumed === bytes.length);

        // Canonical: re-encoding what was parsed gives the same bytes (same nonces).
        const again = encodeStream(parsed.message, options());
        assert.deepStrictEqual(again, bytes);

        // Every strict prefix asks for more, and never for more than the message still holds.
        const rng = new Rng(bytes.length);
        for (const cut of [0, 1, bytes.length - 1, rng.below(bytes.length), rng.below(bytes.length)]) {
          if (cut < 0 || cut >= bytes.length) continue;
          const partial = parseStream(bytes.subarray(0, cut), parseOptions);
          assert.equal(partial.status, 'incomplete', `cut at ${cut}/${bytes.length}: ${partial.status === 'error' ? partial.error.message : partial.status}`);
          if (partial.status === 'incomplete') assert.ok(partial.needed >= 1 && cut + partial.needed <= bytes.length, `needed ${partial.needed} at ${cut}/${bytes.length}`);
        }

        assertDissected(dissectStream(bytes, parseOptions), 1);
      }),
      runs(200),
    );
  });
});

describe('LZW', () => {
  const LIMIT = 1 << 24;

  test('arbitrary bytes round-trip', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000, size: 'max' }), (input) => assert.deepStrictEqual(lzwDecompress(lzwCompress(input), LIMIT), input)),
      runs(300),
    );
  });

  test('long inputs that use more than 4096 codes (the table clears and restarts) round-trip', () => {
    // Random bytes emit about one code per byte, so 5,000+ bytes pass the 4,096-code table at
    // least once; a small alphabet makes long matches and long codes instead.
    const long = fc.record({ seed: fc.integer(), length: fc.integer({ min: 5_000, max: 200_000 }), alphabet: fc.constantFrom(1, 2, 4, 16, 256) })
      .map(({ seed, length, alphabet }) => {
        const rng = new Rng(seed);
        const out = new Uint8Array(length);
        for (let i = 0; i < length; i++) out[i] = rng.below(alphabet);
        return out;
      });
    fc.assert(fc.property(long, (input) => assert.deepStrictEqual(lzwDecompress(lzwCompress(input), LIMIT), input)), runs(30));
  });
});

describe('decoders on arbitrary bytes', () => {
  const ring = fixtureKeyring();
  // Arbitrary bytes, often starting with a real message type so decoding gets past the first byte.
  const garbage = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.tuple(fc.integer({ min: 0, max: 13 }), fc.uint8Array({ maxLength: 300 })).map(([type, rest]) => concatBytes(Uint8Array.of(type), rest)),
    fc.tuple(fc.integer({ min: 0, max: 9 }), fc.uint8Array({ maxLength: 300 })).map(([type, rest]) => concatBytes(Uint8Array.of(8, type), rest)),
  );

  function assertNoInternalError(r: { ok: true } | { ok: false; error: WireError }): void {
    if (!r.ok) {
      assert.ok(r.error instanceof WireError);
      assert.ok(!isInternalError(r.error), r.error.message);
    }
  }

  test('decodePacket and dissectPacket return a result, never an internal error', () => {
    fc.assert(
      fc.property(garbage, fc.boolean(), (bytes, withKey) => {
        const options = withKey ? { keyring: ring, verifyIncoming: false } : {};
        assertNoInternalError(decodePacket(bytes, options));
        assertNoInternalError(dissectPacket(bytes, options));
      }),
      runs(2000),
    );
  });

  test('parseStream and dissectStream return a result, never an internal error', () => {
    fc.assert(
      fc.property(garbage, fc.boolean(), (bytes, withKey) => {
        const options = withKey ? { keyring: ring } : {};
        const parsed = parseStream(bytes, options);
        if (parsed.status === 'error') assertNoInternalError({ ok: false, error: parsed.error });
        assertNoInternalError(dissectStream(bytes, options));
      }),
      runs(2000),
    );
  });

  test('the throwing decoders throw only WireError', () => {
    const onlyWireErrors = (run: () => unknown): void => {
      try {
        run();
      } catch (err) {
        assert.ok(err instanceof WireError, String(err));
      }
    };
    fc.assert(
      fc.property(garbage, (bytes) => {
        onlyWireErrors(() => decodeMessage(bytes));
        onlyWireErrors(() => decodeSerfMessage(bytes));
        onlyWireErrors(() => decodeQueryFilter(bytes));
        onlyWireErrors(() => decodeTags(bytes));
        onlyWireErrors(() => lzwDecompress(bytes, 1 << 16));
      }),
      runs(2000),
    );
  });
});
