// Codec benchmark (`npm run bench`): how fast shoal decodes and encodes the packets a Serf cluster
// exchanges, next to msgpackr's generic decoder on the same msgpack bytes, next to the real Go code
// (memberlist 0.2.2 / Serf 0.9.4 paths, bench/go/codecbench.go) on the same bytes, and against the
// targets of issue #2. It prints figures and never asserts timings (DESIGN.md, "Testing layers").
//
//   node dist/bench/codec.js [--seconds N] [--json] [--case TEXT] [--no-go]
//
// --seconds: measuring time of each figure (default 1; 54 figures, about 60 s in all);
// --json: machine-readable results on stdout; --case: only the case named TEXT, or else those whose name contains it;
// --no-go: leave out the Go reference (it needs `go` and Debian's Go sources, see bench/go-reference.ts).
//
// "decode" is what an agent decodes from the bytes every time they arrive: the memberlist layers
// (decodePacket / parseStream) plus the Serf message inside each user message, the Serf coordinate
// inside an ack and the Serf state inside a push/pull. "encode" builds the same bytes from objects.
// The msgpackr baseline does the same non-msgpack work with our code (decrypt, CRC check, LZW,
// compound split) and hands every msgpack body we parse to msgpackr's unpack, so the ratio compares
// msgpack decoding. msgpackr reads Go's str-encoded []byte fields as text, which is why the codec
// does not use it: it is a speed reference only.

import { cpus } from 'node:os';
import { concatBytes } from '../src/wire/bytes.js';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Packr } from 'msgpackr';
import { crc32 } from '../src/wire/crc32.js';
import { Keyring, decryptPacket } from '../src/wire/encryption.js';
import { DEFAULT_LIMITS, UDP_PACKET_BUDGET } from '../src/wire/limits.js';
import { MessageType, NodeState, type PushNodeState } from '../src/wire/memberlist-schemas.js';
import { encodeMessage, type MemberlistMessage } from '../src/wire/messages.js';
import { MsgpackWriter } from '../src/wire/msgpack-writer.js';
import {
  compoundParts, compressMessage, decodePacket, decompressMessage, encodePacket, fitToBudget, type PacketDecodeOptions,
  type PacketEncodeOptions,
} from '../src/wire/packet.js';
import { encodeStruct, readStructAt } from '../src/wire/schema.js';
import { PING_VERSION, coordinateSchema, type SerfBufferedEvents, type SerfPushPull } from '../src/wire/serf-schemas.js';
import { decodeSerfMessage, encodeSerfMessage, type SerfMessage } from '../src/wire/serf.js';
import { encodeStream, parseStream } from '../src/wire/stream.js';
import { encodeTags } from '../src/wire/tags.js';
import { loadIndex, readFixture } from '../test/helpers/fixtures.js';
import { buildGoReference, type GoCaseKind, type GoCaseResult, type GoReference } from './go-reference.js';
import { measure, type Measurement } from './harness.js';

// ---------------------------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------------------------

const { values: args } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '1' },
    /** Runs only the case of this name, or else the cases whose name contains it (for profiling). */
    case: { type: 'string' },
    'no-go': { type: 'boolean', default: false },
  },
});
const secondsPerFigure = Number(args.seconds);
if (!(secondsPerFigure > 0 && secondsPerFigure <= 600)) {
  console.error(`--seconds wants a number of seconds per figure between 0 and 600, got ${JSON.stringify(args.seconds)}`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------
// The msgpackr baseline
// ---------------------------------------------------------------------------------------------

const packr = new Packr({ useRecords: false, mapsAsObjects: true });
const HAS_CRC_HEADER_BYTES = 5;

/** The plain messages of a UDP packet, unwrapped as memberlist does, with our non-msgpack code. */
function unwrapPacket(data: Uint8Array, keyring: Keyring | undefined): Uint8Array[] {
  let buf = keyring === undefined ? data : decryptPacket(keyring, data).plaintext;
  if (buf[0] === MessageType.hasCrc) {
    const expected = ((buf[1]! << 24) | (buf[2]! << 16) | (buf[3]! << 8) | buf[4]!) >>> 0;
    buf = buf.subarray(HAS_CRC_HEADER_BYTES);
    if (crc32(buf) !== expected) throw new Error('baseline: CRC mismatch');
  }
  const out: Uint8Array[] = [];
  splitMessages(buf, out);
  return out;
}

function splitMessages(buf: Uint8Array, out: Uint8Array[]): void {
  if (buf[0] === MessageType.compound) {
    for (const [start, end] of compoundParts(buf, 0, buf.length)) splitMessages(buf.subarray(start, end), out);
  } else if (buf[0] === MessageType.compress) {
    splitMessages(decompressMessage(buf, 0, buf.length, DEFAULT_LIMITS.maxDecompressedPacketBytes), out);
  } else {
    out.push(buf);
  }
}

/** Bytes before a message's msgpack body: the memberlist type, plus the Serf type in a user message. */
function prefixOf(message: Uint8Array): Uint8Array {
  return message.subarray(0, message[0] === MessageType.user ? 2 : 1);
}

function unpackBody(message: Uint8Array): unknown {
  return packr.unpack(message.subarray(prefixOf(message).length));
}


/** What msgpackr needs to rebuild a packet: each message's type prefix and its body as a JS object. */
interface BaselinePart {
  readonly prefix: Uint8Array;
  readonly body: unknown;
}

function baselinePlan(data: Uint8Array, keyring: Keyring | undefined): BaselinePart[] {
  return unwrapPacket(data, keyring).map((m) => ({ prefix: prefixOf(m).slice(), body: unpackBody(m) }));
}

function baselineDecodePacket(data: Uint8Array, keyring: Keyring | undefined): number {
  const messages = unwrapPacket(data, keyring);
  for (const m of messages) unpackBody(m);
  return messages.length;
}

function baselineEncodePacket(plan: readonly BaselinePart[], options: PacketEncodeOptions): Uint8Array {
  return encodePacket(plan.map((p) => concatBytes(p.prefix, packr.pack(p.body))), options);
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

interface Target {
  readonly label: string;
  readonly decodesPerSec: number;
}

interface BenchCase {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Messages in the packet, or node states in a push/pull. */
  readonly messages: number;
  /** Returns how many messages it decoded. */
  readonly decode: () => number;
  readonly encode: () => Uint8Array;
  readonly baselineDecode: () => number;
  readonly baselineEncode: () => Uint8Array;
  /** False when encode cannot reproduce `bytes` (fresh nonces). */
  readonly deterministic: boolean;
  readonly target?: Target;
  /** How the Go reference reads `bytes`, and the key of an encrypted packet. */
  readonly go: { readonly kind: GoCaseKind; readonly keyBase64?: string };
}

const GO_PACKET = { kind: 'packet' } as const;

const PING_TARGET: Target = { label: '≥ 500,000 ping decodes/s', decodesPerSec: 500_000 };
const GOSSIP_TARGET: Target = { label: '≥ 20,000 full gossip packets/s', decodesPerSec: 20_000 };

function decodeOrThrow(data: Uint8Array, options: PacketDecodeOptions = {}): MemberlistMessage[] {
  const decoded = decodePacket(data, options);
  if (!decoded.ok) throw decoded.error;
  return decoded.value.messages;
}

/** decodePacket plus the Serf message in every user message (Serf decodes each one it receives). */
function decodeGossip(data: Uint8Array, options: PacketDecodeOptions = {}): number {
  const messages = decodeOrThrow(data, options);
  for (const m of messages) if (m.type === 'user') decodeSerfMessage(m.payload);
  return messages.length;
}

function fixtureMessageCase(name: string, bytes: Uint8Array, target?: Target): BenchCase {
  const [message] = decodeOrThrow(bytes);
  if (message === undefined) throw new Error(`${name}: no message decoded`);
  const plan = baselinePlan(bytes, undefined);
  return {
    name, bytes, messages: 1, deterministic: true, go: GO_PACKET, ...(target === undefined ? {} : { target }),
    decode: () => decodeOrThrow(bytes).length,
    encode: () => encodeMessage(message),
    baselineDecode: () => baselineDecodePacket(bytes, undefined),
    baselineEncode: () => baselineEncodePacket(plan, {}),
  };
}

/** Serf's ack payload: PING_VERSION, then the sender's network coordinate (reference §8.9). */
function ackCase(): BenchCase {
  const bytes = readFixture('10_2_udp-ack.bin');
  const [ack] = decodeOrThrow(bytes);
  if (ack?.type !== 'ack' || ack.body.Payload === null) throw new Error('10_2_udp-ack.bin: expected an ack with a payload');
  const payload = ack.body.Payload;
  const seqNo = ack.body.SeqNo;
  const coordinate = readStructAt(coordinateSchema, payload, 1).value;
  // Where the coordinate's msgpack sits in the packet, for the baseline.
  const coordinateStart = payload.byteOffset - bytes.byteOffset + 1;
  const coordinateEnd = coordinateStart - 1 + payload.length;
  const [plan] = baselinePlan(bytes, undefined);
  const coordinateObject: unknown = packr.unpack(bytes.subarray(coordinateStart, coordinateEnd));
  return {
    name: 'ack + coordinate', bytes, messages: 1, deterministic: true, go: GO_PACKET,
    decode: () => {
      const [m] = decodeOrThrow(bytes);
      if (m?.type !== 'ack' || m.body.Payload === null) return 0;
      readStructAt(coordinateSchema, m.body.Payload, 1);
      return 1;
    },
    encode: () => {
      const w = new MsgpackWriter('gossip', 256); // a coordinate takes 131 bytes: no regrowth
      w.byte(PING_VERSION);
      encodeStruct(w, coordinateSchema, coordinate);
      return encodeMessage({ type: 'ack', body: { SeqNo: seqNo, Payload: w.finish() } });
    },
    baselineDecode: () => {
      const n = baselineDecodePacket(bytes, undefined);
      packr.unpack(bytes.subarray(coordinateStart, coordinateEnd));
      return n;
    },
    baselineEncode: () => {
      const coordinateBytes = concatBytes(Uint8Array.of(PING_VERSION), packr.pack(coordinateObject));
      const body = { ...(plan?.body as Record<string, unknown>), Payload: coordinateBytes };
      return concatBytes(Uint8Array.of(MessageType.ack), packr.pack(body));
    },
  };
}

function aliveCases(): BenchCase[] {
  const packet = readFixture('48_7_udp-gossip-crc-alive-tags.bin');
  const bare = packet.subarray(HAS_CRC_HEADER_BYTES);
  const [alive] = decodeOrThrow(packet);
  if (alive?.type !== 'alive') throw new Error('48_7_udp-gossip-crc-alive-tags.bin: expected an alive');
  const plan = baselinePlan(packet, undefined);
  return [
    fixtureMessageCase('alive (bare)', bare),
    {
      name: 'alive + CRC', bytes: packet, messages: 1, deterministic: true, go: GO_PACKET,
      decode: () => decodeOrThrow(packet).length,
      encode: () => encodePacket([encodeMessage(alive)], { crc: true }),
      baselineDecode: () => baselineDecodePacket(packet, undefined),
      baselineEncode: () => baselineEncodePacket(plan, { crc: true }),
    },
  ];
}

// A synthetic cluster: realistic names, addresses and Serf tags.
const VSN = Uint8Array.of(1, 5, 2, 2, 5, 4); // protocol min/max/cur, delegate min/max/cur, as Serf 0.9.4 sends
const ROLES = ['web', 'db', 'cache', 'queue', 'api'] as const;
const SERF_PORT = 7946;
const text = new TextEncoder();

const nodeName = (i: number): string => `node-${i}.dc1.example`;
const nodeAddr = (i: number): Uint8Array => Uint8Array.of(10, 0, (i >>> 8) & 0xff, i & 0xff);
const nodeMeta = (i: number): Uint8Array =>
  encodeTags(new Map([['role', ROLES[i % ROLES.length]!], ['dc', 'dc1'], ['rack', `r${i % 16}`], ['version', '0.9.4']]));
const eventPayload = (i: number): Uint8Array => text.encode(`{"service":"web","rev":"${(0x5eed0000 + i * 7919).toString(16)}"}`);

type GossipItem = { readonly layer: 'memberlist'; readonly message: MemberlistMessage } | { readonly layer: 'serf'; readonly message: SerfMessage };

/** Half alives, then suspects, deads and Serf user events, as during a rolling restart with deploy events. */
function gossipItem(i: number): GossipItem {
  const node = 100 + i;
  switch (i % 6) {
    case 3:
      return { layer: 'memberlist', message: { type: 'suspect', body: { Incarnation: 1 + (i % 7), Node: nodeName(node), From: nodeName(node + 1) } } };
    case 4:
      return { layer: 'serf', message: { type: 'userEvent', body: { LTime: BigInt(1000 + i), Name: 'deploy', Payload: eventPayload(i), CC: false } } };
    case 5:
      return { layer: 'memberlist', message: { type: 'dead', body: { Incarnation: 2 + (i % 5), Node: nodeName(node), From: nodeName(node + 2) } } };
    default:
      return {
        layer: 'memberlist',
        message: { type: 'alive', body: { Incarnation: 1 + (i % 9), Node: nodeName(node), Addr: nodeAddr(node), Port: SERF_PORT, Meta: nodeMeta(node), Vsn: VSN } },
      };
  }
}

function encodeItem(item: GossipItem): Uint8Array {
  return item.layer === 'memberlist' ? encodeMessage(item.message) : encodeMessage({ type: 'user', payload: encodeSerfMessage(item.message) });
}

function gossipCases(): BenchCase[] {
  // Like memberlist's broadcast queue, skip a message that does not fit and try the next ones, so
  // the packet ends up close to the budget. The budget is for the whole datagram, CRC header included.
  const budget = UDP_PACKET_BUDGET - HAS_CRC_HEADER_BYTES;
  const items: GossipItem[] = [];
  const encoded: Uint8Array[] = [];
  for (let i = 0; i < 200; i++) {
    const item = gossipItem(i);
    const candidate = [...encoded, encodeItem(item)];
    if (fitToBudget(candidate, budget) < candidate.length) continue;
    items.push(item);
    encoded.push(candidate[candidate.length - 1]!);
  }
  const count = items.length;
  const keyBase64 = loadIndex().encryption_key_base64;
  const keyring = Keyring.fromBase64([keyBase64]);
  const variants: Array<{ name: string; options: PacketEncodeOptions; keyring?: Keyring }> = [
    { name: 'gossip 1400 B, CRC', options: { crc: true } },
    { name: 'gossip 1400 B, LZW + CRC', options: { compress: true, crc: true } },
    { name: 'gossip 1400 B, CRC + AES-GCM', options: { crc: true, encryption: { keyring, randomBytes } }, keyring },
  ];
  return variants.map(({ name, options, keyring: key }) => {
    const bytes = encodePacket(items.map(encodeItem), options);
    const decodeOptions: PacketDecodeOptions = key === undefined ? {} : { keyring: key };
    const plan = baselinePlan(bytes, key);
    return {
      name, bytes, messages: count, deterministic: options.encryption === undefined, target: GOSSIP_TARGET,
      go: key === undefined ? GO_PACKET : { kind: 'packet', keyBase64 },
      decode: () => decodeGossip(bytes, decodeOptions),
      encode: () => encodePacket(items.map(encodeItem), options),
      baselineDecode: () => baselineDecodePacket(bytes, key),
      baselineEncode: () => baselineEncodePacket(plan, options),
    };
  });
}

const PUSH_PULL_NODES = 100;
/** Serf's event buffer (EventBuffer, 512 slots); a push/pull sends every slot, nil where empty. */
const EVENT_BUFFER_SLOTS = 512;
const FILLED_EVENT_SLOTS = 128;

function pushPullState(): { nodes: PushNodeState[]; serf: SerfMessage } {
  const nodes: PushNodeState[] = Array.from({ length: PUSH_PULL_NODES }, (_, i) => ({
    Name: nodeName(i),
    Addr: nodeAddr(i),
    Port: SERF_PORT,
    Meta: nodeMeta(i),
    Incarnation: 1 + (i % 9),
    State: i % 25 === 7 ? NodeState.suspect : i % 25 === 13 ? NodeState.dead : NodeState.alive,
    Vsn: VSN,
  }));
  const eventLTime = 5000;
  const events: Array<SerfBufferedEvents | null> = new Array<SerfBufferedEvents | null>(EVENT_BUFFER_SLOTS).fill(null);
  for (let t = eventLTime - FILLED_EVENT_SLOTS + 1; t <= eventLTime; t++) {
    events[t % EVENT_BUFFER_SLOTS] = { LTime: BigInt(t), Events: [{ Name: 'deploy', Payload: eventPayload(t) }] };
  }
  const body: SerfPushPull = {
    LTime: 7200n,
    StatusLTimes: new Map(nodes.map((n, i) => [n.Name, BigInt(6000 + i * 11)])),
    LeftMembers: [nodeName(900), nodeName(901), nodeName(902)],
    EventLTime: BigInt(eventLTime),
    Events: events,
    QueryLTime: 310n,
  };
  return { nodes, serf: { type: 'pushPull', body } };
}

function pushPullCases(): BenchCase[] {
  const { nodes, serf } = pushPullState();
  const build = (compress: boolean): Uint8Array => {
    const userState = encodeSerfMessage(serf);
    return encodeStream(
      { type: 'pushPull', header: { Join: false, Nodes: nodes.length, UserStateLen: userState.length }, nodes, userState },
      { compress },
    );
  };
  return [true, false].map((compress) => {
    const bytes = build(compress);
    const userStateLength = encodeSerfMessage(serf).length;
    // The baseline unpacks the header and node states as a sequence, then the Serf state after its type byte.
    const plain = (): Uint8Array =>
      bytes[0] === MessageType.compress ? decompressMessage(bytes, 0, bytes.length, DEFAULT_LIMITS.maxStreamBytes) : bytes;
    const inner = plain();
    const memberlistObjects = packr.unpackMultiple(inner.subarray(1, inner.length - userStateLength)) as unknown[];
    const serfObject: unknown = packr.unpack(inner.subarray(inner.length - userStateLength + 1));
    return {
      name: `push/pull ${PUSH_PULL_NODES} nodes${compress ? ', LZW' : ''}`, bytes, messages: nodes.length, deterministic: true,
      go: { kind: 'stream' },
      decode: () => {
        const parsed = parseStream(bytes);
        if (parsed.status !== 'complete') throw new Error(`push/pull did not parse: ${parsed.status}`);
        if (parsed.message.type !== 'pushPull') return 0;
        decodeSerfMessage(parsed.message.userState);
        return parsed.message.nodes.length;
      },
      encode: () => build(compress),
      baselineDecode: () => {
        const buf = plain();
        const values = packr.unpackMultiple(buf.subarray(1, buf.length - userStateLength)) as unknown[];
        packr.unpack(buf.subarray(buf.length - userStateLength + 1));
        return values.length - 1;
      },
      baselineEncode: () => {
        const parts = [Uint8Array.of(MessageType.pushPull), ...memberlistObjects.map((o) => packr.pack(o))];
        parts.push(Uint8Array.of(2), packr.pack(serfObject)); // 2: Serf's pushPull message type
        const body = concatBytes(...parts);
        return compress ? compressMessage(body) : body;
      },
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Running and reporting
// ---------------------------------------------------------------------------------------------

interface CaseResult {
  readonly name: string;
  readonly bytes: number;
  readonly messages: number;
  /** Whether our encoder reproduced the bytes exactly (null: fresh nonces make that impossible). */
  readonly reencodesIdentically: boolean | null;
  readonly decode: Measurement;
  readonly baselineDecode: Measurement;
  /** Our decode rate over msgpackr's: above 1 means we are faster. */
  readonly decodeRatio: number;
  readonly encode: Measurement;
  readonly baselineEncode: Measurement;
  readonly encodeRatio: number;
  /** The Go reference on the same bytes; the ratios are ours over Go's (above 1: we are faster). */
  readonly go?: GoCaseResult & { readonly decodeRatio: number; readonly encodeRatio: number };
  readonly target?: Target & { readonly met: boolean };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Measures `fn` and checks that every timed call returned what the first call did. */
function timed(label: string, fn: () => number): Measurement {
  const expected = fn();
  const m = measure(fn, secondsPerFigure);
  if (m.checksum !== expected * m.ops) throw new Error(`${label}: calls did not all do the same work (checksum ${m.checksum}, expected ${expected * m.ops})`);
  return m;
}

function runCase(c: BenchCase): CaseResult {
  if (!args.json) process.stderr.write(`measuring ${c.name} …\n`);
  if (c.decode() !== c.messages) throw new Error(`${c.name}: decode returned ${c.decode()} messages, expected ${c.messages}`);
  const decode = timed(`${c.name} decode`, c.decode);
  const baselineDecode = timed(`${c.name} msgpackr decode`, c.baselineDecode);
  const encode = timed(`${c.name} encode`, () => c.encode().length);
  const baselineEncode = timed(`${c.name} msgpackr encode`, () => c.baselineEncode().length);
  // Right after ours, so both see about the same machine load.
  const go = goReference?.run({ name: c.name, bytes: c.bytes, messages: c.messages, ...c.go }, secondsPerFigure);
  return {
    name: c.name,
    bytes: c.bytes.length,
    messages: c.messages,
    reencodesIdentically: c.deterministic ? sameBytes(c.encode(), c.bytes) : null,
    decode,
    baselineDecode,
    decodeRatio: decode.opsPerSec / baselineDecode.opsPerSec,
    encode,
    baselineEncode,
    encodeRatio: encode.opsPerSec / baselineEncode.opsPerSec,
    ...(go === undefined ? {} : {
      go: { ...go, decodeRatio: decode.opsPerSec / go.decode.opsPerSec, encodeRatio: encode.opsPerSec / go.encode.opsPerSec },
    }),
    ...(c.target === undefined ? {} : { target: { ...c.target, met: decode.opsPerSec >= c.target.decodesPerSec } }),
  };
}

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

/** A table column: its header and each row's cell; the first and last columns are left-aligned. */
interface Column {
  readonly header: string;
  readonly cell: (r: CaseResult) => string;
}

const ratio = (n: number | undefined): string => (n === undefined ? '' : `${n.toFixed(2)}x`);

function printTable(results: readonly CaseResult[], goVersion: string | undefined): void {
  const withGo = results.some((r) => r.go !== undefined);
  const goColumns = (columns: Column[]): Column[] => (withGo ? columns : []);
  const columns: Column[] = [
    { header: 'case', cell: (r) => r.name + (r.reencodesIdentically === false ? ' *' : '') },
    { header: 'bytes', cell: (r) => String(r.bytes) },
    { header: 'msgs', cell: (r) => String(r.messages) },
    { header: 'decode/s', cell: (r) => int(r.decode.opsPerSec) },
    { header: 'ns/op', cell: (r) => int(r.decode.nsPerOp) },
    { header: 'msgpackr dec/s', cell: (r) => int(r.baselineDecode.opsPerSec) },
    { header: 'vs msgpackr', cell: (r) => ratio(r.decodeRatio) },
    ...goColumns([
      { header: 'Go dec/s', cell: (r) => (r.go === undefined ? '' : int(r.go.decode.opsPerSec)) },
      { header: 'vs Go', cell: (r) => ratio(r.go?.decodeRatio) },
    ]),
    { header: 'encode/s', cell: (r) => int(r.encode.opsPerSec) },
    { header: 'msgpackr enc/s', cell: (r) => int(r.baselineEncode.opsPerSec) },
    ...goColumns([
      { header: 'Go enc/s', cell: (r) => (r.go === undefined ? '' : int(r.go.encode.opsPerSec)) },
      { header: 'vs Go', cell: (r) => ratio(r.go?.encodeRatio) },
    ]),
    { header: 'target (decode, one core)', cell: (r) => (r.target === undefined ? '' : `${r.target.label}: ${r.target.met ? 'met' : 'NOT MET'}`) },
  ];
  const rows = results.map((r) => columns.map((c) => c.cell(r)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, i) => (i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  console.log(line(columns.map((c) => c.header)));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
  console.log();
  console.log('decode: memberlist layers + the Serf message in each user message / the ack coordinate / the push/pull Serf state.');
  console.log('msgpackr: same decrypt, CRC, LZW and compound split (our code), then msgpackr unpack of every msgpack body we parse;');
  console.log('          encode: msgpackr pack of the equivalent objects, then the same wrapping. vs msgpackr = ours / msgpackr decode.');
  if (withGo) {
    console.log(`Go: memberlist 0.2.2 + Serf 0.9.4 code (bench/go/codecbench.go, go-msgpack 0.5.5, ${goVersion ?? 'go'}, GOMAXPROCS=1) on the same bytes,`);
    console.log('    checked to decode the same layers and messages as shoal. decode: ingestPacket/handleCommand (decrypt, CRC, compound,');
    console.log('    LZW) and the struct decode of every message, Serf\'s messageUserEvent and ack Coordinate decode; push/pull: readStream,');
    console.log('    readRemoteState and Serf\'s messagePushPull decode. No handoff queue, no state changes. encode: the same structs');
    console.log('    through memberlist\'s encode / Serf\'s encodeMessage, compound, compress, CRC and encrypt (push/pull: LocalState,');
    console.log('    sendLocalState, rawSendMsgStream). vs Go = ours / Go (above 1: shoal is faster).');
    const differ = results.filter((r) => r.go !== undefined && !r.go.reencodesIdentically).map((r) => r.name);
    if (differ.length > 0) console.log(`    Go's encode differs from the case bytes (fresh nonce or Go's random map order) in: ${differ.join('; ')}.`);
  }
  console.log('ops/s and ns/op: median of the 2 ms batches that kept the CPU throughout; --json also gives the mean of all batches.');
  console.log('gossip: alive/suspect/dead + Serf user events packed with fitToBudget to 1400 bytes; the LZW and AES-GCM rows hold the same messages.');
  if (results.some((r) => r.reencodesIdentically === false)) console.log('* our encoder did not reproduce these bytes exactly');
  const all = results.flatMap((r) => [r.decode, r.baselineDecode, r.encode, r.baselineEncode, ...(r.go === undefined ? [] : [r.go.decode, r.go.encode])]);
  const share = all.reduce((sum, m) => sum + m.cpuShare * m.seconds, 0) / all.reduce((sum, m) => sum + m.seconds, 0);
  if (share < 0.9) {
    const undisturbed = all.reduce((sum, m) => sum + m.undisturbedBatches, 0) / all.reduce((sum, m) => sum + m.batches, 0);
    console.log(`note: the machine was busy: the measuring process had the CPU ${Math.round(share * 100)}% of the time and ${Math.round(undisturbed * 100)}% of the batches`);
    console.log('      were undisturbed; figures are less certain than on an idle machine.');
  }
}

const allCases: BenchCase[] = [
  fixtureMessageCase('ping', readFixture('09_2_udp-ping.bin'), PING_TARGET),
  ackCase(),
  ...aliveCases(),
  ...gossipCases(),
  ...pushPullCases(),
];
const selected = args.case === undefined ? allCases
  : allCases.some((c) => c.name === args.case) ? allCases.filter((c) => c.name === args.case)
  : allCases.filter((c) => c.name.includes(args.case as string));
if (selected.length === 0) {
  console.error(`no case matches ${JSON.stringify(args.case)}; cases: ${allCases.map((c) => c.name).join(', ')}`);
  process.exit(2);
}
// Built before any measuring, once per run; without Go the table simply has no Go columns.
let goReference: GoReference | undefined;
let goUnavailable: string | undefined;
if (!args['no-go']) {
  const built = buildGoReference();
  if ('unavailable' in built) {
    goUnavailable = built.unavailable;
    console.error(`Go reference column skipped: ${goUnavailable}`);
  } else {
    goReference = built;
  }
}
const environment = {
  node: process.version, cpu: cpus()[0]?.model ?? 'unknown', secondsPerFigure,
  go: goReference !== undefined ? goReference.version : args['no-go'] ? 'skipped (--no-go)' : `unavailable: ${goUnavailable}`,
};
if (!args.json) {
  console.log(`shoal codec benchmark — Node ${environment.node}, ${environment.cpu}, single-threaded, ${secondsPerFigure} s per figure`);
}
const results = selected.map(runCase);
if (args.json) {
  console.log(JSON.stringify({ ...environment, results }, null, 2));
} else {
  console.log();
  printTable(results, goReference?.version);
}
