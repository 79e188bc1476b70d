import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createDecipheriv, type CipherGCMTypes } from 'node:crypto';
import {
  ENCRYPTION_OVERHEAD_V0,
  ENCRYPTION_OVERHEAD_V1,
  Keyring,
  MAX_ENCRYPTED_STREAM_LENGTH,
  decryptPacket,
  decryptStreamFrame,
  encryptPacket,
  encryptStreamFrame,
  encryptedLength,
  type RandomBytes,
} from '../../src/wire/encryption.js';
import { TruncatedError, WireError } from '../../src/wire/errors.js';
import { fromHex, hex, loadIndex, readFixture, type FixtureFile } from '../helpers/fixtures.js';

const FIXTURE_KEY_BASE64 = '22340oqL86o596XonHmP4/7RgmZRt8wgPkmlK3vybmI=';
const FIXTURE_KEY_HEX = 'db6df8d28a8bf3aa39f7a5e89c798fe3fed1826651b7cc203e49a52b7bf26e62';

/** A deterministic stand-in for crypto.randomBytes (xorshift32). */
function seededRandom(seed: number): RandomBytes {
  let x = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      out[i] = x & 0xff;
    }
    return out;
  };
}

function key(fill: number, length = 32): Uint8Array {
  return new Uint8Array(length).fill(fill);
}

/**
 * Go's memberlist decryptPayload, written independently of src/: version byte, nonce = bytes
 * 1..13, tag = the last 16 bytes, gcm.Open with `aad` (none for UDP, the 5 header bytes for TCP),
 * then pkcs7decode for version 0. Returns undefined where Go returns an error.
 */
function goDecrypt(keyBytes: Uint8Array, msg: Uint8Array, aad?: Uint8Array): Uint8Array | undefined {
  const vsn = msg[0];
  if (vsn === undefined || vsn > 1) return undefined;
  if (msg.length < (vsn === 0 ? 45 : 29)) return undefined;
  const decipher = createDecipheriv(`aes-${keyBytes.length * 8}-gcm` as CipherGCMTypes, keyBytes, msg.subarray(1, 13));
  if (aad) decipher.setAAD(aad);
  decipher.setAuthTag(msg.subarray(msg.length - 16));
  const plain = decipher.update(msg.subarray(13, msg.length - 16));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return new Uint8Array(vsn === 0 ? plain.subarray(0, plain.length - plain[plain.length - 1]!) : plain);
}

function expectWireError(
  run: () => unknown,
  reason: RegExp,
  type: abstract new (...args: never[]) => WireError = WireError,
): WireError {
  let caught: unknown;
  assert.throws(run, (err: unknown) => {
    caught = err;
    return err instanceof type;
  });
  const err = caught as WireError;
  assert.equal(err.layer, 'encrypt');
  assert.match(err.reason, reason);
  return err;
}

/** The plaintext_hex and nonce that index.json gives for an encrypted fixture. */
function decodedEnvelope(fixture: FixtureFile): { plaintext: Uint8Array; nonce: Uint8Array } {
  const { plaintext_hex: plaintext, nonce } = fixture.decoded;
  assert.ok(typeof plaintext === 'string' && typeof nonce === 'string', `${fixture.file}: no plaintext_hex/nonce`);
  return { plaintext: fromHex(plaintext), nonce: fromHex(nonce) };
}

const encryptedUdp = (): FixtureFile[] => loadIndex().files.filter((f) => f.file.includes('_8_udp-encrypted'));
const encryptedTcp = (): FixtureFile[] =>
  loadIndex().files.filter((f) => f.transport === 'tcp' && readFixture(f.file)[0] === 0x0a);

// ---------------------------------------------------------------------------------------------
// Keyring
// ---------------------------------------------------------------------------------------------

test('Keyring.fromBase64 takes Serf keys; index.json names the same key', () => {
  const keyring = Keyring.fromBase64([FIXTURE_KEY_BASE64]);
  assert.equal(hex(keyring.primaryKey()), FIXTURE_KEY_HEX);
  assert.equal(loadIndex().encryption_key_base64, FIXTURE_KEY_BASE64);
  assert.equal(keyring.size, 1);
});

test('Keyring rejects keys that are not AES-128/192/256 and malformed base64', () => {
  assert.throws(() => new Keyring([key(1, 5)]), /key must be 16, 24 or 32 bytes \(AES-128\/192\/256\), got 5/);
  assert.throws(() => new Keyring([]), /at least one key/);
  assert.throws(() => Keyring.fromBase64(['not base64!']), /not valid base64/);
  assert.throws(() => Keyring.fromBase64(['AAAA']), /got 3/);
  for (const length of [16, 24, 32]) assert.equal(new Keyring([key(1, length)]).size, 1);
});

test('Keyring install, use and remove follow memberlist keyring.go', () => {
  const [k1, k2, k3] = [key(1), key(2, 16), key(3, 24)];
  const keyring = new Keyring([k1, k2]);
  assert.deepEqual(keyring.keys(), [k1, k2]);

  keyring.install(k3);
  keyring.install(Uint8Array.from(k2)); // already installed: no-op
  assert.deepEqual(keyring.keys(), [k1, k2, k3]);

  keyring.use(k3);
  assert.deepEqual(keyring.keys(), [k3, k1, k2]);
  assert.deepEqual(keyring.primaryKey(), k3);
  assert.throws(() => keyring.use(key(9)), /not installed/);

  assert.throws(() => keyring.remove(k3), /cannot remove the primary key/);
  keyring.remove(k1);
  keyring.remove(key(9)); // not installed: no-op
  assert.deepEqual(keyring.keys(), [k3, k2]);
});

test('Keyring copies keys in and out', () => {
  const k1 = key(1);
  const keyring = new Keyring([k1]);
  k1.fill(7);
  keyring.keys()[0]!.fill(8);
  keyring.primaryKey().fill(9);
  assert.deepEqual(keyring.primaryKey(), key(1));
});

// ---------------------------------------------------------------------------------------------
// Captured traffic from encrypted serf agents
// ---------------------------------------------------------------------------------------------

test('every captured encrypted UDP packet decrypts to its plaintext, and re-encrypts byte for byte', () => {
  const keyring = Keyring.fromBase64([FIXTURE_KEY_BASE64]);
  const fixtures = encryptedUdp();
  assert.equal(fixtures.length, 6);
  for (const fixture of fixtures) {
    const data = readFixture(fixture.file);
    const { plaintext, nonce } = decodedEnvelope(fixture);
    const opened = decryptPacket(keyring, data);
    assert.equal(hex(opened.plaintext), hex(plaintext), fixture.file);
    assert.equal(opened.keyIndex, 0);
    // Sealing the same plaintext under the captured nonce reproduces Go's packet exactly.
    assert.equal(hex(encryptPacket(keyring, plaintext, () => nonce)), hex(data), fixture.file);
  }
});

test('every captured encrypted TCP stream frame decrypts to its plaintext, and re-encrypts byte for byte', () => {
  const keyring = Keyring.fromBase64([FIXTURE_KEY_BASE64]);
  const fixtures = encryptedTcp();
  assert.equal(fixtures.length, 4);
  for (const fixture of fixtures) {
    const frame = readFixture(fixture.file);
    const { plaintext, nonce } = decodedEnvelope(fixture);
    const opened = decryptStreamFrame(keyring, frame);
    assert.equal(hex(opened.plaintext), hex(plaintext), fixture.file);
    assert.equal(opened.plaintext[0], 0x09, `${fixture.file}: TCP is always compressed`);
    assert.equal(opened.frameLength, frame.length);
    assert.equal(hex(frame.subarray(0, 5)), fixture.decoded.aad);
    assert.equal(hex(encryptStreamFrame(keyring, plaintext, () => nonce)), hex(frame), fixture.file);
  }
});

// ---------------------------------------------------------------------------------------------
// Round trips, and what Go would make of our output
// ---------------------------------------------------------------------------------------------

test('packets we encrypt round trip and decrypt by Go rules (versions 0 and 1, all key sizes)', () => {
  const random = seededRandom(42);
  for (const keyLength of [16, 24, 32]) {
    const k = key(keyLength, keyLength);
    const keyring = new Keyring([k]);
    for (const version of [0, 1] as const) {
      for (let n = 0; n <= 70; n++) {
        const plaintext = random(n);
        const packet = encryptPacket(keyring, plaintext, random, version);
        assert.equal(packet.length, encryptedLength(version, n));
        assert.equal(packet[0], version);
        assert.deepEqual(decryptPacket(keyring, packet).plaintext, plaintext);
        assert.deepEqual(goDecrypt(k, packet), plaintext, `v${version} n=${n}`);
        assert.equal(goDecrypt(k, packet, Uint8Array.of(0)), undefined, 'UDP uses no AAD');
      }
    }
  }
});

test('stream frames we encrypt round trip and decrypt by Go rules (AAD = 5 header bytes)', () => {
  const k = key(5);
  const keyring = new Keyring([k]);
  const random = seededRandom(7);
  for (const n of [0, 1, 15, 16, 17, 1000, 70_000]) {
    const plaintext = random(n);
    const frame = encryptStreamFrame(keyring, plaintext, random);
    const length = new DataView(frame.buffer).getUint32(1);
    assert.equal(frame[0], 0x0a);
    assert.equal(length, n + ENCRYPTION_OVERHEAD_V1);
    assert.equal(frame.length, 5 + length);
    const opened = decryptStreamFrame(keyring, frame);
    assert.deepEqual(opened.plaintext, plaintext);
    assert.equal(opened.frameLength, frame.length);
    assert.deepEqual(goDecrypt(k, frame.subarray(5), frame.subarray(0, 5)), plaintext);
    assert.equal(goDecrypt(k, frame.subarray(5)), undefined, 'TCP authenticates its header');
  }
  const v0 = encryptStreamFrame(keyring, random(20), random, 0);
  assert.equal(new DataView(v0.buffer).getUint32(1), 1 + 12 + 32 + 16);
  assert.equal(decryptStreamFrame(keyring, v0).plaintext.length, 20);
});

test('a stream frame reports its own length and ignores the bytes after it', () => {
  const keyring = new Keyring([key(5)]);
  const frame = encryptStreamFrame(keyring, Uint8Array.of(1, 2, 3), seededRandom(1));
  const stream = new Uint8Array(frame.length + 10);
  stream.set(frame);
  const opened = decryptStreamFrame(keyring, stream);
  assert.equal(opened.frameLength, frame.length);
  assert.deepEqual(opened.plaintext, Uint8Array.of(1, 2, 3));
});

test('overhead constants match the envelopes', () => {
  assert.equal(ENCRYPTION_OVERHEAD_V1, 29);
  assert.equal(ENCRYPTION_OVERHEAD_V0, 45);
  assert.equal(MAX_ENCRYPTED_STREAM_LENGTH, 20 * 1024 * 1024);
  assert.equal(encryptedLength(0, 0), 45);
  assert.equal(encryptedLength(0, 15), 45);
  assert.equal(encryptedLength(0, 16), 61);
  assert.equal(encryptedLength(1, 100), 129);
});

test('the nonce comes from the injected source, so output is reproducible', () => {
  const keyring = new Keyring([key(1)]);
  const a = encryptPacket(keyring, Uint8Array.of(1, 2, 3), seededRandom(99));
  const b = encryptPacket(keyring, Uint8Array.of(1, 2, 3), seededRandom(99));
  assert.deepEqual(a, b);
  assert.deepEqual(a.subarray(1, 13), seededRandom(99)(12));
  assert.throws(() => encryptPacket(keyring, Uint8Array.of(1), () => new Uint8Array(8)), /returned 8 bytes/);
});

// ---------------------------------------------------------------------------------------------
// Rotation and failures
// ---------------------------------------------------------------------------------------------

test('key rotation: every installed key is tried, primary first', () => {
  const [k1, k2] = [key(1), key(2)];
  const random = seededRandom(3);
  const sealedWithK1 = encryptPacket(new Keyring([k1]), Uint8Array.of(4, 5, 6), random);
  const rotated = new Keyring([k2, k1]);
  assert.deepEqual(decryptPacket(rotated, sealedWithK1), { plaintext: Uint8Array.of(4, 5, 6), keyIndex: 1 });
  const frameWithK1 = encryptStreamFrame(new Keyring([k1]), Uint8Array.of(7), random);
  assert.equal(decryptStreamFrame(rotated, frameWithK1).keyIndex, 1);
  // The new primary encrypts.
  assert.equal(decryptPacket(rotated, encryptPacket(rotated, Uint8Array.of(1), random)).keyIndex, 0);
  assert.throws(() => decryptPacket(new Keyring([k1]), encryptPacket(rotated, Uint8Array.of(1), random)));
});

test('a wrong key is a WireError', () => {
  const packet = readFixture(encryptedUdp()[0]!.file);
  const err = expectWireError(() => decryptPacket(new Keyring([key(1)]), packet), /no installed key decrypts/);
  assert.equal(err.offset, 0);
  const frame = readFixture(encryptedTcp()[0]!.file);
  expectWireError(() => decryptStreamFrame(new Keyring([key(1)]), frame), /no installed key decrypts/);
});

test('any tampered byte is a WireError', () => {
  const keyring = Keyring.fromBase64([FIXTURE_KEY_BASE64]);
  const packet = readFixture(encryptedUdp()[0]!.file);
  for (let i = 0; i < packet.length; i++) {
    const tampered = Uint8Array.from(packet);
    tampered[i]! ^= 0x01;
    // Byte 0 becomes version 0, whose padding rules differ; it still fails authentication.
    expectWireError(() => decryptPacket(keyring, tampered), /no installed key|PKCS7/);
  }
  const frame = readFixture(encryptedTcp()[0]!.file);
  for (let i = 0; i < frame.length; i++) {
    const tampered = Uint8Array.from(frame);
    tampered[i]! ^= 0x01;
    assert.throws(() => decryptStreamFrame(keyring, tampered), WireError, `byte ${i}`);
  }
});

test('short and malformed UDP envelopes are WireErrors with distinct reasons', () => {
  const keyring = new Keyring([key(1)]);
  const packet = encryptPacket(keyring, Uint8Array.of(1, 2, 3), seededRandom(5));
  expectWireError(() => decryptPacket(keyring, new Uint8Array(0)), /too short/);
  for (let n = 1; n < ENCRYPTION_OVERHEAD_V1; n++) {
    expectWireError(() => decryptPacket(keyring, packet.subarray(0, n)), /too short/);
  }
  for (let n = ENCRYPTION_OVERHEAD_V1; n < packet.length; n++) {
    expectWireError(() => decryptPacket(keyring, packet.subarray(0, n)), /no installed key/);
  }
  const v0 = Uint8Array.from(packet);
  v0[0] = 0;
  expectWireError(() => decryptPacket(keyring, v0), /too short: 32 bytes, a version 0 envelope has at least 45/);
  const v2 = Uint8Array.from(packet);
  v2[0] = 2;
  expectWireError(() => decryptPacket(keyring, v2), /unknown encryption version 2/);
});

test('version 0 with bad PKCS7 padding is rejected (Go would slice blindly or panic)', () => {
  const k = key(1);
  const nonce = new Uint8Array(12);
  for (const badPlain of [new Uint8Array(16), new Uint8Array(16).fill(17), Uint8Array.of(...new Uint8Array(14), 1, 2)]) {
    const cipher = createCipheriv('aes-256-gcm', k, nonce);
    const body = cipher.update(badPlain);
    cipher.final();
    const envelope = Uint8Array.of(0, ...nonce, ...body, ...cipher.getAuthTag());
    expectWireError(() => decryptPacket(new Keyring([k]), envelope), /invalid PKCS7 padding/);
  }
});

test('truncated stream frames ask for the missing bytes', () => {
  const keyring = new Keyring([key(1)]);
  const frame = encryptStreamFrame(keyring, new Uint8Array(100), seededRandom(2));
  for (let n = 0; n < frame.length; n++) {
    const err = expectWireError(() => decryptStreamFrame(keyring, frame.subarray(0, n)), /truncated/, TruncatedError);
    assert.equal((err as TruncatedError).needed, n < 5 ? 5 - n : frame.length - n);
  }
});

test('stream frames: wrong type byte, oversized length, and an envelope too short for its version', () => {
  const keyring = new Keyring([key(1)]);
  expectWireError(() => decryptStreamFrame(keyring, Uint8Array.of(0x09, 0, 0)), /not an encrypted stream frame/);
  expectWireError(() => decryptStreamFrame(keyring, Uint8Array.of(0x09, 0, 0, 0, 40)), /not an encrypted stream frame/);
  const tooLong = Uint8Array.of(0x0a, 0x01, 0x40, 0x00, 0x01); // 20 MiB + 1
  const err = expectWireError(() => decryptStreamFrame(keyring, tooLong), /exceeds the limit of 20971520/);
  assert.ok(!(err instanceof TruncatedError));
  const atLimit = Uint8Array.of(0x0a, 0x01, 0x40, 0x00, 0x00);
  expectWireError(() => decryptStreamFrame(keyring, atLimit), /truncated/, TruncatedError);
  expectWireError(() => decryptStreamFrame(keyring, Uint8Array.of(0x0a, 0, 0, 0, 3, 1, 0, 0)), /too short/);
  expectWireError(() => decryptStreamFrame(keyring, Uint8Array.of(0x0a, 0, 0, 0, 0)), /too short: empty/);
});
