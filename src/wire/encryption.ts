// memberlist's keyring and AES-GCM envelopes (memberlist keyring.go and security.go; reference §4.4).
//
// Envelope: version byte, 12-byte nonce, GCM ciphertext with its 16-byte tag appended (Go's
// gcm.Seal). Version 0 (memberlist protocol 1) PKCS7-pads the plaintext to 16 bytes first;
// version 1 (protocol ≥ 2, what Serf uses) does not. A UDP packet is one envelope with no AAD; a
// TCP stream frame is 0x0a, u32 BE length, envelope, authenticated with those 5 header bytes as AAD.
//
// Nonces come from the caller (sans-IO): the runtime passes crypto.randomBytes, tests a seeded fake.

import { createCipheriv, createDecipheriv } from 'node:crypto';
import { TruncatedError, WireError } from './errors.js';

export type EncryptionVersion = 0 | 1;
/** Returns n random bytes; must be cryptographically random outside tests (nonces never repeat). */
export type RandomBytes = (n: number) => Uint8Array;

const VERSION_SIZE = 1;
const NONCE_SIZE = 12;
const TAG_SIZE = 16;
const BLOCK_SIZE = 16;

/** Bytes a version-1 envelope adds: version 1 + nonce 12 + tag 16. */
export const ENCRYPTION_OVERHEAD_V1 = VERSION_SIZE + NONCE_SIZE + TAG_SIZE;
/** Most bytes a version-0 envelope adds: version 1 + nonce 12 + padding up to 16 + tag 16. */
export const ENCRYPTION_OVERHEAD_V0 = ENCRYPTION_OVERHEAD_V1 + BLOCK_SIZE;
/** The 0x0a type byte of an encrypted TCP stream frame (memberlist encryptMsg). */
export const ENCRYPT_MSG_TYPE = 10;
/** Size of a stream frame's header: type byte + u32 BE envelope length. */
export const STREAM_FRAME_HEADER_SIZE = 5;
/** Largest envelope length memberlist accepts in a stream frame (maxPushStateBytes, 20 MiB). */
export const MAX_ENCRYPTED_STREAM_LENGTH = 20 * 1024 * 1024;

/** Length of the envelope for `plaintextLength` bytes (Go: encryptedLength). */
export function encryptedLength(version: EncryptionVersion, plaintextLength: number): number {
  const padding = version === 0 ? BLOCK_SIZE - (plaintextLength % BLOCK_SIZE) : 0;
  return ENCRYPTION_OVERHEAD_V1 + plaintextLength + padding;
}

function validateKey(key: Uint8Array): void {
  const n = key.length;
  if (n !== 16 && n !== 24 && n !== 32) {
    throw new Error(`key must be 16, 24 or 32 bytes (AES-128/192/256), got ${n}`);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The installed AES keys, primary first. The primary key encrypts; every key is tried to decrypt
 * (memberlist Keyring). Keys are copied in and out, so callers cannot change them behind its back.
 */
export class Keyring {
  #keys: Uint8Array[] = [];

  /** `keys[0]` becomes the primary key; duplicates are dropped. */
  constructor(keys: readonly Uint8Array[]) {
    if (keys.length === 0) throw new Error('a keyring needs at least one key (the primary key)');
    for (const key of keys) this.install(key);
  }

  /** Keys as Serf takes them (-encrypt, keyring file): base64, 16/24/32 bytes decoded. */
  static fromBase64(keys: readonly string[]): Keyring {
    return new Keyring(
      keys.map((text) => {
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) {
          throw new Error(`key is not valid base64: ${JSON.stringify(text)}`);
        }
        return new Uint8Array(Buffer.from(text, 'base64'));
      }),
    );
  }

  /** Adds a key after the others; a no-op when it is already installed (as Go's AddKey). */
  install(key: Uint8Array): void {
    validateKey(key);
    if (this.#indexOf(key) === -1) this.#keys.push(Uint8Array.from(key));
  }

  /** Makes an installed key the primary one. */
  use(key: Uint8Array): void {
    const index = this.#indexOf(key);
    if (index === -1) throw new Error('cannot use a key that is not installed; install it first');
    const [chosen] = this.#keys.splice(index, 1);
    this.#keys.unshift(chosen!);
  }

  /** Removes a key; a no-op when it is not installed (as Go's RemoveKey). The primary key stays. */
  remove(key: Uint8Array): void {
    const index = this.#indexOf(key);
    if (index === 0) throw new Error('cannot remove the primary key; make another key primary first');
    if (index > 0) this.#keys.splice(index, 1);
  }

  /** All keys, primary first. */
  keys(): Uint8Array[] {
    return this.#keys.map((key) => Uint8Array.from(key));
  }

  /** How many keys are installed (always at least one: the primary key cannot be removed). */
  get size(): number {
    return this.#keys.length;
  }

  primaryKey(): Uint8Array {
    return Uint8Array.from(this.#keys[0]!);
  }

  #indexOf(key: Uint8Array): number {
    return this.#keys.findIndex((installed) => sameBytes(installed, key));
  }
}

function gcmAlgorithm(key: Uint8Array): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  return key.length === 16 ? 'aes-128-gcm' : key.length === 24 ? 'aes-192-gcm' : 'aes-256-gcm';
}

/** Go encryptPayload: seals `plaintext` with the primary key into a new envelope. */
function seal(
  keyring: Keyring,
  plaintext: Uint8Array,
  randomBytes: RandomBytes,
  version: EncryptionVersion,
  aad: Uint8Array | undefined,
): Uint8Array {
  const nonce = randomBytes(NONCE_SIZE);
  if (nonce.length !== NONCE_SIZE) {
    throw new Error(`randomBytes(${NONCE_SIZE}) returned ${nonce.length} bytes`);
  }
  let source = plaintext;
  if (version === 0) {
    // PKCS7: always 1–16 bytes, each holding the padding length.
    const pad = BLOCK_SIZE - (plaintext.length % BLOCK_SIZE);
    source = new Uint8Array(plaintext.length + pad);
    source.set(plaintext);
    source.fill(pad, plaintext.length);
  }
  const key = keyring.primaryKey();
  const cipher = createCipheriv(gcmAlgorithm(key), key, nonce, { authTagLength: TAG_SIZE });
  if (aad !== undefined) cipher.setAAD(aad);
  const ciphertext = cipher.update(source);
  cipher.final(); // GCM is a stream mode: final() yields no bytes, it just computes the tag.
  const envelope = new Uint8Array(VERSION_SIZE + NONCE_SIZE + ciphertext.length + TAG_SIZE);
  envelope[0] = version;
  envelope.set(nonce, VERSION_SIZE);
  envelope.set(ciphertext, VERSION_SIZE + NONCE_SIZE);
  envelope.set(cipher.getAuthTag(), VERSION_SIZE + NONCE_SIZE + ciphertext.length);
  return envelope;
}

/**
 * Go decryptPayload: checks the version and length, then tries every key (primary first).
 * `offset` is where the envelope starts in the caller's buffer, for error messages.
 */
function open(
  keyring: Keyring,
  envelope: Uint8Array,
  aad: Uint8Array | undefined,
  offset: number,
): { plaintext: Uint8Array; keyIndex: number } {
  if (envelope.length === 0) throw new WireError('encrypt', offset, 'too short: empty envelope');
  const version = envelope[0]!;
  if (version !== 0 && version !== 1) {
    throw new WireError('encrypt', offset, `unknown encryption version ${version} (expected 0 or 1)`);
  }
  const minimum = encryptedLength(version, 0);
  if (envelope.length < minimum) {
    throw new WireError(
      'encrypt',
      offset,
      `too short: ${envelope.length} bytes, a version ${version} envelope has at least ${minimum}`,
    );
  }
  const nonce = envelope.subarray(VERSION_SIZE, VERSION_SIZE + NONCE_SIZE);
  const ciphertext = envelope.subarray(VERSION_SIZE + NONCE_SIZE, envelope.length - TAG_SIZE);
  const tag = envelope.subarray(envelope.length - TAG_SIZE);
  const keys = keyring.keys();
  for (let keyIndex = 0; keyIndex < keys.length; keyIndex++) {
    const key = keys[keyIndex]!;
    const decipher = createDecipheriv(gcmAlgorithm(key), key, nonce, { authTagLength: TAG_SIZE });
    if (aad !== undefined) decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const opened = decipher.update(ciphertext);
    try {
      decipher.final(); // throws when the tag does not authenticate under this key
    } catch {
      continue;
    }
    const plaintext = new Uint8Array(opened.buffer, opened.byteOffset, opened.length);
    return { plaintext: version === 0 ? stripPkcs7(plaintext, offset) : plaintext, keyIndex };
  }
  throw new WireError('encrypt', offset, 'no installed key decrypts this packet');
}

/**
 * Removes version-0 padding. Go's pkcs7decode trusts the last byte blindly (and panics when it is
 * larger than the buffer); any honest sender pads correctly, so anything else is rejected here.
 */
function stripPkcs7(padded: Uint8Array, offset: number): Uint8Array {
  const pad = padded[padded.length - 1] ?? 0;
  let valid = pad >= 1 && pad <= BLOCK_SIZE && pad <= padded.length;
  for (let i = padded.length - pad; valid && i < padded.length; i++) valid = padded[i] === pad;
  if (!valid) throw new WireError('encrypt', offset, 'invalid PKCS7 padding in a version 0 envelope');
  return padded.subarray(0, padded.length - pad);
}

/** Encrypts a UDP packet: the whole datagram is the envelope, no AAD (memberlist net.go). */
export function encryptPacket(
  keyring: Keyring,
  plaintext: Uint8Array,
  randomBytes: RandomBytes,
  version: EncryptionVersion = 1,
): Uint8Array {
  return seal(keyring, plaintext, randomBytes, version, undefined);
}

/** Decrypts a UDP packet with whichever installed key opens it; `keyIndex` is that key's position. */
export function decryptPacket(keyring: Keyring, data: Uint8Array): { plaintext: Uint8Array; keyIndex: number } {
  return open(keyring, data, undefined, 0);
}

/** Builds an encrypted TCP stream frame: 0x0a, u32 BE L, envelope(L) with AAD = the 5 header bytes. */
export function encryptStreamFrame(
  keyring: Keyring,
  plaintext: Uint8Array,
  randomBytes: RandomBytes,
  version: EncryptionVersion = 1,
): Uint8Array {
  const length = encryptedLength(version, plaintext.length);
  const header = new Uint8Array(STREAM_FRAME_HEADER_SIZE);
  header[0] = ENCRYPT_MSG_TYPE;
  new DataView(header.buffer).setUint32(1, length);
  const envelope = seal(keyring, plaintext, randomBytes, version, header);
  const frame = new Uint8Array(STREAM_FRAME_HEADER_SIZE + envelope.length);
  frame.set(header);
  frame.set(envelope, STREAM_FRAME_HEADER_SIZE);
  return frame;
}

/**
 * Decrypts the encrypted stream frame at the start of `frame` (memberlist decryptRemoteState).
 * Throws TruncatedError (with `needed`) when more bytes must arrive first. `frameLength` is how
 * many bytes of `frame` the frame used; any bytes after it are not touched.
 */
export function decryptStreamFrame(
  keyring: Keyring,
  frame: Uint8Array,
): { plaintext: Uint8Array; keyIndex: number; frameLength: number } {
  if (frame.length < STREAM_FRAME_HEADER_SIZE) {
    if (frame.length > 0 && frame[0] !== ENCRYPT_MSG_TYPE) throw notAFrame(frame[0]!);
    throw new TruncatedError('encrypt', frame.length, STREAM_FRAME_HEADER_SIZE - frame.length);
  }
  if (frame[0] !== ENCRYPT_MSG_TYPE) throw notAFrame(frame[0]!);
  const length = new DataView(frame.buffer, frame.byteOffset, frame.length).getUint32(1);
  if (length > MAX_ENCRYPTED_STREAM_LENGTH) {
    throw new WireError(
      'encrypt',
      1,
      `encrypted stream length ${length} exceeds the limit of ${MAX_ENCRYPTED_STREAM_LENGTH} bytes`,
    );
  }
  const frameLength = STREAM_FRAME_HEADER_SIZE + length;
  if (frame.length < frameLength) {
    throw new TruncatedError('encrypt', frame.length, frameLength - frame.length);
  }
  const header = frame.subarray(0, STREAM_FRAME_HEADER_SIZE);
  const envelope = frame.subarray(STREAM_FRAME_HEADER_SIZE, frameLength);
  return { ...open(keyring, envelope, header, STREAM_FRAME_HEADER_SIZE), frameLength };
}

function notAFrame(type: number): WireError {
  return new WireError('encrypt', 0, `not an encrypted stream frame: type byte ${type}, expected ${ENCRYPT_MSG_TYPE}`);
}
