// The wire-codec fuzz loop, shared by the CI test (fuzz.test.ts) and the long-run CLI (fuzz-main.ts).
//
// Inputs start from the golden fixtures (and a few encoder-made messages covering every type),
// unwrapped layer by layer so mutations land inside encryption, CRC and compression; after a
// mutation the wrappers are usually put back (re-encrypted with the fixture key, CRC recomputed,
// recompressed), so the damage reaches the inner decoders instead of stopping at a failed tag.
//
// Every input goes through decodePacket, dissectPacket, parseStream and dissectStream (RPC inputs
// through the RPC stream splitter and decoders as well). The decoders promise never to throw and
// to report malformed input as a WireError; so an exception that escapes, or a result whose
// error is internal (a non-WireError caught inside the codec), is a bug. So are disagreements
// that cost a real peer: a dissector failing where its decoder did not, a stream prefix refused
// where the whole message parses, a decoded value that does not re-encode to a fixed point, and
// the RPC splitter finding other objects when fed in chunks. Any other WireError is fine.
import fc from 'fast-check';
import { dissectPacket, dissectStream, type Dissection } from '../../src/wire/dissect.js';
import { decryptPacket, decryptStreamFrame, encryptPacket, encryptStreamFrame, Keyring } from '../../src/wire/encryption.js';
import { WireError, isInternalError, type DecodeResult } from '../../src/wire/errors.js';
import { DEFAULT_LIMITS } from '../../src/wire/limits.js';
import { MessageType } from '../../src/wire/memberlist-schemas.js';
import { decodeMessage, encodeMessage, type MemberlistMessage } from '../../src/wire/messages.js';
import { addCrc, compoundParts, compressMessage, decodePacket, decompressMessage, type DecodedPacket } from '../../src/wire/packet.js';
import { RpcStreamDecoder, decodeRpc, decodeRpcGeneric, requestBodySchema, splitRpcStream, type RpcFrame } from '../../src/wire/rpc.js';
import { requestHeaderSchema, responseHeaderSchema } from '../../src/wire/rpc-schemas.js';
import { decodeSerfMessage, encodeSerfMessage, type SerfMessage } from '../../src/wire/serf.js';
import { encodeStream, parseStream, type StreamMessage, type StreamOptions, type StreamParse } from '../../src/wire/stream.js';
import { hex, loadIndex, readFixture } from '../helpers/fixtures.js';
import { packetMessage, streamMessage } from './arbitraries.js';
import { Rng, decompressionBomb, generate, mixSeed, mutate } from './mutate.js';

// ---------------------------------------------------------------------------------------------
// Seed corpus
// ---------------------------------------------------------------------------------------------

/** A wrapper to put back after mutating what was inside it, innermost first. */
export type Wrap = 'compress' | 'crc' | 'encrypt' | 'streamEncrypt';
export type InputKind = 'udp' | 'tcp' | 'rpc';

export interface CorpusEntry {
  readonly name: string;
  readonly kind: InputKind;
  readonly bytes: Uint8Array;
  readonly wrap: readonly Wrap[];
  /** The bytes are encrypted as they stand (a raw encrypted fixture): decode them with the keyring. */
  readonly sealed: boolean;
}

export interface Corpus {
  readonly entries: readonly CorpusEntry[];
  /** Every entry's bytes, for splicing. */
  readonly inputs: readonly Uint8Array[];
  /** Plain memberlist messages (compound parts and bare messages), for the structure-aware generators. */
  readonly messages: readonly Uint8Array[];
  readonly keyring: Keyring;
}

/** How many encoder-made messages join the fixtures, so every message type is in the corpus. */
const SYNTHETIC_SEEDS = 40;

/**
 * Every .bin fixture in index.json, plus what is inside it: the decrypted plaintext, the body
 * under the CRC, the expanded LZW buffer, each compound part. RPC fixtures (layer 'serf-rpc') are
 * kept apart: they go to the RPC decoders.
 */
export function loadSeedCorpus(): Corpus {
  const index = loadIndex();
  const keyring = Keyring.fromBase64([index.encryption_key_base64]);
  const entries: CorpusEntry[] = [];
  const messages: Uint8Array[] = [];
  const add: Add = (name, kind, bytes, wrap, sealed = false) => {
    entries.push({ name, kind, bytes, wrap, sealed });
  };

  for (const file of index.files) {
    const raw = readFixture(file.file);
    if (file.decoded.layer === 'serf-rpc') {
      add(file.file, 'rpc', raw, []);
      continue;
    }
    if (file.transport === 'udp') unwrapPacket(file.file, raw, keyring, add, messages);
    else unwrapStream(file.file, raw, keyring, add);
  }

  for (const [i, msg] of fc.sample(packetMessage, { seed: 7, numRuns: SYNTHETIC_SEEDS }).entries()) {
    const bytes = encodeMessage(msg);
    if (bytes.length > 2048) continue;
    messages.push(bytes);
    add(`synthetic-${msg.type}-${i}`, 'udp', bytes, []);
  }
  for (const [i, msg] of fc.sample(streamMessage, { seed: 7, numRuns: SYNTHETIC_SEEDS }).entries()) {
    const bytes = encodeStream(msg);
    if (bytes.length <= 4096) add(`synthetic-stream-${msg.type}-${i}`, 'tcp', bytes, []);
  }
  return { entries, inputs: entries.map((e) => e.bytes), messages, keyring };
}

type Add = (name: string, kind: InputKind, bytes: Uint8Array, wrap: readonly Wrap[], sealed?: boolean) => void;

function unwrapPacket(name: string, raw: Uint8Array, keyring: Keyring, add: Add, messages: Uint8Array[]): void {
  let buf = raw;
  let wrap: Wrap[] = [];
  if (buf[0] === 0 || buf[0] === 1) {
    // Encryption version 0 or 1, or a plain ping or indirect ping: only the key tells them apart.
    try {
      buf = decryptPacket(keyring, raw).plaintext;
      wrap = ['encrypt'];
    } catch {
      // A plain message.
    }
  }
  add(name, 'udp', raw, [], wrap.length > 0);
  if (wrap.length > 0) add(`${name}#plaintext`, 'udp', buf, wrap);
  if (buf[0] === MessageType.hasCrc) {
    buf = buf.subarray(5);
    wrap = ['crc', ...wrap];
    add(`${name}#crc-body`, 'udp', buf, wrap);
  }
  if (buf[0] === MessageType.compress) {
    buf = decompressMessage(buf, 0, buf.length, DEFAULT_LIMITS.maxDecompressedPacketBytes);
    wrap = ['compress', ...wrap];
    add(`${name}#expanded`, 'udp', buf, wrap);
  }
  if (buf[0] === MessageType.compound) {
    for (const [i, [start, end]] of compoundParts(buf, 0, buf.length).entries()) {
      const part = buf.subarray(start, end);
      messages.push(part);
      add(`${name}#part${i}`, 'udp', part, []);
    }
  } else {
    messages.push(buf);
  }
}

function unwrapStream(name: string, raw: Uint8Array, keyring: Keyring, add: Add): void {
  let buf = raw;
  let wrap: Wrap[] = [];
  add(name, 'tcp', raw, [], raw[0] === MessageType.encrypt);
  if (buf[0] === MessageType.encrypt) {
    buf = decryptStreamFrame(keyring, raw).plaintext;
    wrap = ['streamEncrypt'];
    add(`${name}#plaintext`, 'tcp', buf, wrap);
  }
  if (buf[0] === MessageType.compress) {
    buf = decompressMessage(buf, 0, buf.length, DEFAULT_LIMITS.maxStreamBytes);
    add(`${name}#expanded`, 'tcp', buf, ['compress', ...wrap]);
  }
}

// ---------------------------------------------------------------------------------------------
// Making one input
// ---------------------------------------------------------------------------------------------

export interface FuzzInput {
  readonly bytes: Uint8Array;
  readonly kind: InputKind;
  /** Decode with the fixture keyring (and this verifyIncoming), or without one. */
  readonly keyring: 'none' | 'verify' | 'lenient';
  /** What made it, for reports. */
  readonly how: string;
}

/** Odds of the 10 MiB decompression bomb: rare, because a stream may legally expand it (20 MiB limit) and that costs ~40 ms. */
const BOMB_ODDS = 1 / 25_000;
const GENERATOR_ODDS = 0.08;
const REWRAP_ODDS = 0.8;

/** The input of iteration `iteration` of a run seeded `seed`: a pure function of the two. */
export function fuzzInput(corpus: Corpus, seed: number, iteration: number): FuzzInput {
  const rng = new Rng(mixSeed(seed, iteration));
  if (rng.chance(BOMB_ODDS)) {
    const bomb = decompressionBomb();
    return rng.chance(0.5)
      ? { bytes: bomb, kind: 'udp', keyring: 'none', how: 'bomb' }
      : { bytes: mutate(bomb, rng, corpus, 1).bytes, kind: 'udp', keyring: 'none', how: 'bomb+mutated' };
  }
  if (rng.chance(GENERATOR_ODDS)) {
    const { bytes, how } = generate(rng, corpus);
    return { bytes, kind: 'udp', keyring: 'none', how };
  }
  const entry = rng.pick(corpus.entries);
  const mutated = mutate(entry.bytes, rng, corpus);
  let bytes = mutated.bytes;
  let how = `${entry.name}: ${mutated.how.join('+')}`;
  if (entry.wrap.length > 0 && rng.chance(REWRAP_ODDS)) {
    bytes = rewrap(bytes, entry.wrap, rng, corpus.keyring);
    how += ` then ${entry.wrap.join('+')}`;
  } else if (bytes[0] === MessageType.hasCrc && bytes.length >= 5 && rng.chance(0.5)) {
    bytes = addCrc(bytes.subarray(5));
    how += ' then crc fixed';
  }
  const encrypted = entry.sealed || entry.wrap.includes('encrypt') || entry.wrap.includes('streamEncrypt');
  // Mostly with the key when encrypted, mostly without it otherwise; both ways sometimes.
  const keyring = rng.chance(encrypted ? 0.9 : 0.1) ? (rng.chance(0.8) ? 'verify' : 'lenient') : 'none';
  return { bytes, kind: entry.kind, keyring, how };
}

function rewrap(bytes: Uint8Array, wrap: readonly Wrap[], rng: Rng, keyring: Keyring): Uint8Array {
  let out = bytes;
  const nonces = (n: number): Uint8Array => rng.bytes(n);
  for (const w of wrap) {
    switch (w) {
      case 'compress': out = compressMessage(out); break;
      case 'crc': out = addCrc(out); break;
      case 'encrypt': out = encryptPacket(keyring, out, nonces, rng.chance(0.8) ? 1 : 0); break;
      case 'streamEncrypt': out = encryptStreamFrame(keyring, out, nonces); break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Checking one input
// ---------------------------------------------------------------------------------------------

export type Outcome = { readonly ok: true } | { readonly ok: false; readonly error: WireError } | { readonly incomplete: true };

export interface Problem {
  /** escaped: an exception left a decoder; internal: a result carried an internal error; mismatch: two decoders disagree. */
  readonly kind: 'escaped' | 'internal' | 'mismatch';
  readonly fn: string;
  readonly message: string;
}

export interface CallObserver {
  /** Calls slower than this are timed a second time (and the faster time kept), so a GC pause is not reported as a slow input. */
  readonly slowMs: number;
  outcome(fn: string, outcome: Outcome, ms: number): void;
  problem(problem: Problem): void;
}

function fromResult(r: DecodeResult<unknown>): Outcome {
  return r.ok ? { ok: true } : { ok: false, error: r.error };
}

/** Runs one decoder: times it, catches what escapes, and reports internal errors. */
function call(fn: string, observer: CallObserver, run: () => Outcome): void {
  const start = performance.now();
  let outcome: Outcome;
  try {
    outcome = run();
  } catch (err) {
    observer.problem({ kind: 'escaped', fn, message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
    return;
  }
  let ms = performance.now() - start;
  if (ms > observer.slowMs) {
    const again = performance.now();
    try {
      run();
    } catch {
      // Already reported above if it throws; this run is only for timing.
    }
    ms = Math.min(ms, performance.now() - again);
  }
  observer.outcome(fn, outcome, ms);
  if ('error' in outcome && isInternalError(outcome.error)) observer.problem({ kind: 'internal', fn, message: outcome.error.message });
}

/** A decoder that throws WireError by design (the RPC object decoders): anything else escaping is a bug. */
function throwing(run: () => void): Outcome {
  try {
    run();
    return { ok: true };
  } catch (err) {
    if (err instanceof WireError) return { ok: false, error: err };
    throw err;
  }
}

/** Feeds every decoder the input; reports outcomes and problems to `observer`. */
export function checkInput(input: FuzzInput, corpus: Corpus, observer: CallObserver): void {
  const { bytes } = input;
  const options = input.keyring === 'none' ? {} : { keyring: corpus.keyring, verifyIncoming: input.keyring === 'verify' };
  let packet: DecodeResult<DecodedPacket> | undefined;
  call('decodePacket', observer, () => fromResult((packet = decodePacket(bytes, options))));
  let packetDissection: DecodeResult<Dissection> | undefined;
  call('dissectPacket', observer, () => fromResult((packetDissection = dissectPacket(bytes, options))));
  if (packet !== undefined && packetDissection !== undefined) checkAgree('dissectPacket', packet, packetDissection, observer);
  if (packet?.ok === true) checkReencoding(packet.value.messages, observer);

  let stream: StreamParse | undefined;
  call('parseStream', observer, () => {
    stream = parseStream(bytes, options);
    if (stream.status === 'complete') return { ok: true };
    if (stream.status === 'incomplete') return { incomplete: true };
    return { ok: false, error: stream.error };
  });
  let streamDissection: DecodeResult<Dissection> | undefined;
  call('dissectStream', observer, () => fromResult((streamDissection = dissectStream(bytes, options))));
  if (stream?.status === 'complete') {
    checkStreamPrefixes(bytes, stream.consumed, options, observer);
    checkStreamReencoding(stream.message, observer);
  }
  if (stream !== undefined && stream.status !== 'incomplete' && streamDissection !== undefined) {
    checkAgree('dissectStream', stream.status === 'complete' ? { ok: true, value: stream.message } : { ok: false, error: stream.error }, streamDissection, observer);
  }
  if (input.kind === 'rpc') checkRpc(bytes, observer);
}

/**
 * The dissector decodes exactly what the decoder does, then Serf payloads and tags on top. So it
 * fails with the decoder's own error when the decoder fails, and otherwise only in those extras.
 */
function checkAgree(fn: string, decoded: DecodeResult<unknown>, dissected: DecodeResult<Dissection>, observer: CallObserver): void {
  let problem: string | undefined;
  if (!decoded.ok && (dissected.ok || dissected.error.message !== decoded.error.message)) {
    problem = `decoder failed (${decoded.error.message}) but the dissector ${dissected.ok ? 'succeeded' : `failed differently (${dissected.error.message})`}`;
  } else if (decoded.ok && !dissected.ok && !DISSECTOR_EXTRA_LAYERS.has(dissected.error.layer)) {
    problem = `decoder succeeded but the dissector failed outside Serf and tags: ${dissected.error.message}`;
  }
  if (problem !== undefined) observer.problem({ kind: 'mismatch', fn, message: problem });
}

const DISSECTOR_EXTRA_LAYERS: ReadonlySet<string> = new Set(['serf', 'meta']);

/**
 * Whatever decodes must re-encode, and the encoding must be a fixed point: encode(decode(x)) may
 * differ from x (trailing bytes, key order, int widths) but decoding and encoding it again gives
 * the same bytes. Serf payloads of user messages get the same check.
 */
function checkReencoding(messages: readonly MemberlistMessage[], observer: CallObserver): void {
  for (const msg of messages) {
    fixpoint('encodeMessage', observer, () => encodeMessage(msg), (b) => encodeMessage(decodeMessage(b)));
    if (msg.type !== 'user') continue;
    let serf: SerfMessage;
    try {
      serf = decodeSerfMessage(msg.payload);
    } catch {
      continue; // not a Serf message: dissectPacket already reported that as a 'serf' error
    }
    fixpoint('encodeSerfMessage', observer, () => encodeSerfMessage(serf), (b) => encodeSerfMessage(decodeSerfMessage(b)));
  }
}

function checkStreamReencoding(message: StreamMessage, observer: CallObserver): void {
  fixpoint('encodeStream', observer, () => encodeStream(message), (b) => {
    const again = parseStream(b);
    if (again.status !== 'complete') throw new Error(`re-encoded stream message does not parse: ${again.status === 'error' ? again.error.message : 'incomplete'}`);
    return encodeStream(again.message);
  });
}

function fixpoint(fn: string, observer: CallObserver, encode: () => Uint8Array, reencode: (bytes: Uint8Array) => Uint8Array): void {
  let problem: string | undefined;
  try {
    const once = encode();
    const twice = reencode(once);
    if (hex(once) !== hex(twice)) problem = `not a fixed point: ${hex(once).slice(0, 200)} re-encodes as ${hex(twice).slice(0, 200)}`;
  } catch (err) {
    problem = `decoded value does not round-trip: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
  }
  if (problem !== undefined) observer.problem({ kind: 'mismatch', fn, message: problem });
}

/**
 * A TCP reader calls parseStream with whatever has arrived. So when the bytes hold a complete
 * message, every shorter prefix must ask for more (an error there would drop a connection that
 * was merely slow), and never for more bytes than the message has left.
 */
function checkStreamPrefixes(bytes: Uint8Array, consumed: number, options: StreamOptions, observer: CallObserver): void {
  const rng = new Rng(consumed ^ bytes.length);
  for (const cut of [rng.below(consumed), consumed - 1]) {
    let problem: string | undefined;
    call('parseStream(prefix)', observer, () => {
      const parsed = parseStream(bytes.subarray(0, cut), options);
      if (parsed.status === 'incomplete') {
        if (cut + parsed.needed > consumed) problem = `prefix of ${cut}/${consumed} bytes asks for ${parsed.needed} more`;
        return { incomplete: true };
      }
      problem = `prefix of ${cut}/${consumed} bytes of a complete message gives ${parsed.status === 'error' ? `error: ${parsed.error.message}` : 'a complete message'}`;
      return parsed.status === 'error' ? { ok: false, error: parsed.error } : { ok: true };
    });
    if (problem !== undefined) observer.problem({ kind: 'mismatch', fn: 'parseStream(prefix)', message: problem });
  }
}

/** RPC: split the stream, decode every object generically and the requests by schema, and split again in chunks. */
function checkRpc(bytes: Uint8Array, observer: CallObserver): void {
  let frames: RpcFrame[] = [];
  let whole: DecodeResult<{ frames: RpcFrame[]; incomplete: number }> | undefined;
  call('splitRpcStream', observer, () => {
    whole = splitRpcStream(bytes);
    if (whole.ok) frames = whole.value.frames;
    return fromResult(whole);
  });
  for (const frame of frames) {
    call('decodeRpcGeneric', observer, () => throwing(() => decodeRpcGeneric(frame.bytes)));
    call('decodeRpcGeneric(map)', observer, () => throwing(() => decodeRpcGeneric(frame.bytes, 0, frame.bytes.length, { maps: 'map' })));
    call('decodeRpc(responseHeader)', observer, () => throwing(() => decodeRpc(responseHeaderSchema, frame.bytes)));
  }
  // A request stream: header, then the body its command takes.
  call('decodeRpc(requests)', observer, () => throwing(() => {
    for (let i = 0; i < frames.length; i++) {
      const header = decodeRpc(requestHeaderSchema, (frames[i] as RpcFrame).bytes);
      const body = requestBodySchema(header.Command);
      if (body !== null && i + 1 < frames.length) decodeRpc(body, (frames[++i] as RpcFrame).bytes);
    }
  }));
  if (whole !== undefined) checkRpcChunked(bytes, whole, observer);
}

/** The incremental decoder fed in small chunks must find the same objects as one whole push. */
function checkRpcChunked(bytes: Uint8Array, whole: DecodeResult<{ frames: RpcFrame[]; incomplete: number }>, observer: CallObserver): void {
  let frames: RpcFrame[] = [];
  let buffered = 0;
  let failure: WireError | undefined;
  call('RpcStreamDecoder(chunks)', observer, () => {
    const rng = new Rng(bytes.length);
    const decoder = new RpcStreamDecoder();
    frames = [];
    failure = undefined;
    try {
      for (let at = 0; at < bytes.length;) {
        const n = 1 + rng.below(16);
        decoder.push(bytes.subarray(at, at + n));
        at += n;
        for (let f = decoder.next(); f !== null; f = decoder.next()) frames.push(f);
      }
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      failure = err;
    }
    buffered = decoder.buffered;
    return failure === undefined ? { ok: true } : { ok: false, error: failure };
  });
  const mismatch = (message: string): void => observer.problem({ kind: 'mismatch', fn: 'RpcStreamDecoder(chunks)', message });
  if (whole.ok !== (failure === undefined)) {
    mismatch(`whole push ${whole.ok ? 'succeeded' : `failed (${whole.error.message})`}, chunked ${failure === undefined ? 'succeeded' : `failed (${failure.message})`}`);
  } else if (whole.ok) {
    const a = whole.value.frames.map((f) => `${f.offset}:${hex(f.bytes)}`).join();
    const b = frames.map((f) => `${f.offset}:${hex(f.bytes)}`).join();
    if (a !== b || whole.value.incomplete !== buffered) mismatch('whole and chunked pushes found different objects');
  }
}

// ---------------------------------------------------------------------------------------------
// The loop
// ---------------------------------------------------------------------------------------------

export interface FuzzBug extends Problem {
  readonly seed: number;
  readonly iteration: number;
  readonly how: string;
  readonly inputHex: string;
}

export interface FuzzStats {
  readonly seed: number;
  iterations: number;
  /** Decoder calls made, and how many returned a decoded value. */
  calls: number;
  ok: number;
  /** parseStream answers that asked for more bytes. */
  incomplete: number;
  /** Malformed input reported properly, by WireError layer. */
  readonly wireErrors: Record<string, number>;
  /** Escaped exceptions, internal errors and mismatches (the first MAX_BUGS_KEPT kept in full). */
  readonly internalErrors: FuzzBug[];
  bugCount: number;
  slowest: { ms: number; fn: string; iteration: number; bytes: number; how: string };
  elapsedMs: number;
}

export interface FuzzOptions {
  readonly seed: number;
  /** Stop after this many inputs… */
  readonly iterations?: number;
  /** …or after this many seconds, whichever comes first (one of them is needed). */
  readonly seconds?: number;
  readonly corpus?: Corpus;
  readonly onProgress?: (stats: FuzzStats) => void;
  readonly progressEveryMs?: number;
  /** Called for each bug as it is found (the CLI saves the input). */
  readonly onBug?: (bug: FuzzBug, bytes: Uint8Array) => void;
}

export const MAX_BUGS_KEPT = 100;

export function runFuzz(options: FuzzOptions): FuzzStats {
  const { seed } = options;
  const maxIterations = options.iterations ?? Number.POSITIVE_INFINITY;
  const deadline = options.seconds === undefined ? Number.POSITIVE_INFINITY : performance.now() + options.seconds * 1000;
  if (maxIterations === Number.POSITIVE_INFINITY && deadline === Number.POSITIVE_INFINITY) throw new RangeError('runFuzz needs iterations or seconds');
  const corpus = options.corpus ?? loadSeedCorpus();
  const progressEvery = options.progressEveryMs ?? 10_000;
  const started = performance.now();
  let nextProgress = started + progressEvery;

  const stats: FuzzStats = {
    seed, iterations: 0, calls: 0, ok: 0, incomplete: 0, wireErrors: {}, internalErrors: [], bugCount: 0,
    slowest: { ms: 0, fn: '', iteration: -1, bytes: 0, how: '' }, elapsedMs: 0,
  };
  let current: FuzzInput | undefined;
  let iteration = 0;
  const observer: CallObserver = {
    get slowMs() {
      return Math.max(1, stats.slowest.ms);
    },
    outcome(fn, outcome, ms) {
      stats.calls++;
      if ('incomplete' in outcome) stats.incomplete++;
      else if (outcome.ok) stats.ok++;
      else stats.wireErrors[outcome.error.layer] = (stats.wireErrors[outcome.error.layer] ?? 0) + 1;
      if (ms > stats.slowest.ms) stats.slowest = { ms, fn, iteration, bytes: current?.bytes.length ?? 0, how: current?.how ?? '' };
    },
    problem(problem) {
      stats.bugCount++;
      const input = current as FuzzInput;
      const bug: FuzzBug = { ...problem, seed, iteration, how: input.how, inputHex: hex(input.bytes) };
      if (stats.internalErrors.length < MAX_BUGS_KEPT) stats.internalErrors.push(bug);
      options.onBug?.(bug, input.bytes);
    },
  };

  // Most inputs end in a WireError, and capturing its stack trace is most of what that costs; bug
  // reports carry the input and message, not the stack, so do without them while fuzzing.
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    for (; iteration < maxIterations; iteration++) {
      // Reading the clock every input would cost more than some inputs; every 64 is plenty.
      if ((iteration & 63) === 0) {
        const now = performance.now();
        if (now >= deadline) break;
        if (now >= nextProgress) {
          stats.elapsedMs = now - started;
          options.onProgress?.(stats);
          nextProgress = now + progressEvery;
        }
      }
      current = fuzzInput(corpus, seed, iteration);
      checkInput(current, corpus, observer);
      stats.iterations++;
    }
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
  stats.elapsedMs = performance.now() - started;
  return stats;
}

/** One line: iterations, throughput, outcomes, error layers, the slowest call. */
export function summarize(stats: FuzzStats): string {
  const seconds = stats.elapsedMs / 1000;
  const layers = Object.entries(stats.wireErrors).sort(([, a], [, b]) => b - a).map(([layer, n]) => `${layer} ${n}`).join(', ');
  return [
    `seed ${stats.seed}: ${stats.iterations} inputs in ${seconds.toFixed(1)} s (${Math.round(stats.iterations / seconds)}/s)`,
    `${stats.calls} decoder calls: ${stats.ok} ok, ${stats.incomplete} incomplete, errors by layer {${layers}}`,
    `bugs ${stats.bugCount}`,
    `slowest ${stats.slowest.ms.toFixed(1)} ms (${stats.slowest.fn}, ${stats.slowest.bytes} bytes, iteration ${stats.slowest.iteration}: ${stats.slowest.how})`,
  ].join('; ');
}
