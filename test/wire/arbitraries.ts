// fast-check generators for every memberlist, Serf and TCP stream message the codec knows.
// Values lean on the edges the wire format has: strings and byte fields of exactly 0, 31, 32,
// 255, 256 and 65,536 bytes (fixstr → str16 → str32; the gossip dialect never writes str8,
// reference §1.1), multi-byte UTF-8, 4- and 16-byte addresses, integers at each field's limits
// (u8/u16/u32, Go int within ±2^53−1, u64/i64 as BigInt up to 2^64−1), nil versus empty.
import fc from 'fast-check';
import type { Ack, Alive, Dead, ErrResp, IndirectPing, Nack, Ping, PushNodeState, Suspect } from '../../src/wire/memberlist-schemas.js';
import type { MemberlistMessage } from '../../src/wire/messages.js';
import { encodeQueryFilter, encodeSerfMessage, type QueryFilter, type SerfMessage } from '../../src/wire/serf.js';
import type {
  SerfBufferedEvents, SerfConflictMember, SerfJoin, SerfKeyRequest, SerfKeyResponse, SerfLeave, SerfPushPull, SerfQuery,
  SerfQueryResponse, SerfRelayHeader, SerfUserEvent,
} from '../../src/wire/serf-schemas.js';
import type { StreamMessage } from '../../src/wire/stream.js';
import { encodeTags } from '../../src/wire/tags.js';

/** fc.record with an ordinary prototype, as the decoder builds its objects (deepStrictEqual checks it). */
function record<T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> {
  return fc.record(model, { noNullPrototype: true });
}

// ---------------------------------------------------------------------------------------------
// Scalars
// ---------------------------------------------------------------------------------------------

/** Byte lengths where the msgpack str header changes form (fixstr <32, str16 ≤65535, str32 beyond). */
export const BOUNDARY_LENGTHS = [0, 31, 32, 255, 256, 65_536] as const;

/** A string of exactly `n` UTF-8 bytes made of `unit` (1–4 bytes) and ASCII padding. */
function stringOfBytes(n: number, unit: string): string {
  const unitBytes = new TextEncoder().encode(unit).length;
  return unit.repeat(Math.floor(n / unitBytes)) + 'x'.repeat(n % unitBytes);
}

/** Every boundary length in ASCII, 2-byte (é), 3-byte (€) and 4-byte (🐟) UTF-8. */
export const boundaryStrings: readonly string[] = BOUNDARY_LENGTHS.flatMap((n) => ['a', 'é', '€', '🐟'].map((u) => stringOfBytes(n, u)));

function textOf(boundaries: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...boundaries), weight: 1 },
    { arbitrary: fc.string({ maxLength: 40 }), weight: 2 },
    // Any code point except lone surrogates, which UTF-8 cannot carry.
    { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 2 },
    { arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }), weight: 1 },
  );
}

/** A Go string field. */
export const text = textOf(boundaryStrings);
/** Strings that keep a message small enough for a compound part (at most 256 bytes). */
export const shortText = textOf(boundaryStrings.filter((s) => new TextEncoder().encode(s).length <= 256));
const nonEmpty = <T extends { length: number }>(arb: fc.Arbitrary<T>): fc.Arbitrary<T> => arb.filter((v) => v.length > 0);

function bytesOf(maxBoundary: number): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    { arbitrary: fc.constantFrom(...BOUNDARY_LENGTHS.filter((n) => n <= maxBoundary).map((n) => new Uint8Array(n).fill(0xa5))), weight: 1 },
    { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 4 },
  );
}

/** A []byte field where nil and empty both decode to empty. */
export const bytes = bytesOf(65_536);
export const shortBytes = bytesOf(256);
/** A []byte field where nil (null) and empty are different values. */
export const bytesOrNil = fc.oneof(fc.constant(null), fc.constant(new Uint8Array(0)), bytes);
const shortBytesOrNil = fc.oneof(fc.constant(null), fc.constant(new Uint8Array(0)), shortBytes);

export const ipv4 = fc.oneof(fc.constant(Uint8Array.of(127, 0, 0, 1)), fc.uint8Array({ minLength: 4, maxLength: 4 }));
export const ipv6 = fc.oneof(
  fc.constant(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)),
  fc.constant(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1)),
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
);
export const address = fc.oneof(ipv4, ipv6);

/** Where a msgpack integer changes form: fixint, uint8, uint16, uint32 (and the signed edges). */
const UNSIGNED_EDGES = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x1_0000, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff];

function unsigned(max: number): fc.Arbitrary<number> {
  return fc.oneof(fc.constantFrom(...UNSIGNED_EDGES.filter((n) => n <= max), max), fc.integer({ min: 0, max }));
}

export const u8 = unsigned(0xff);
export const u16 = unsigned(0xffff);
/** SeqNo, Incarnation, query ID and flags. */
export const u32 = unsigned(0xffff_ffff);
/** Go `int` as shoal keeps it: any safe integer (±2^53−1), including 2^31 and 2^32. */
export const goInt = fc.oneof(
  fc.constantFrom(
    0, -1, -32, -33, -128, -129, -32_768, -32_769, -0x8000_0000, -0x8000_0001, 0x7fff_ffff, 2 ** 31, 2 ** 32 - 1, 2 ** 32,
    Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER,
  ),
  fc.integer(),
  fc.maxSafeInteger(),
);
const U64_MAX = 2n ** 64n - 1n;
/** uint64 Lamport times: 2^31, 2^32, 2^53 and 2^53+1 (past a double's exact range) and 2^64−1. */
export const u64 = fc.oneof(
  fc.constantFrom(0n, 1n, 127n, 128n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, U64_MAX),
  fc.bigInt({ min: 0n, max: U64_MAX }),
);
/** int64 durations (query Timeout, nanoseconds). */
export const i64 = fc.oneof(
  fc.constantFrom(0n, -1n, 15_000_000_000n, -(2n ** 31n), 2n ** 53n + 1n, -(2n ** 53n) - 1n, -(2n ** 63n), 2n ** 63n - 1n),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);

/** Serf tags as Meta bytes (0xff + map), or legacy/arbitrary Meta. */
export const meta = fc.oneof(
  fc.uniqueArray(fc.tuple(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 20 })), { selector: ([k]) => k, maxLength: 6 })
    .map((entries) => encodeTags(new Map(entries))),
  shortBytes,
);
/** memberlist's Vsn: [PMin, PMax, PCur, DMin, DMax, DCur], or anything. */
const vsn = fc.oneof(fc.constant(Uint8Array.of(1, 5, 2, 2, 5, 4)), fc.uint8Array({ maxLength: 8 }));

function mapOf<V>(key: fc.Arbitrary<string>, value: fc.Arbitrary<V>, maxLength: number): fc.Arbitrary<Map<string, V>> {
  return fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, maxLength }).map((entries) => new Map(entries));
}

// ---------------------------------------------------------------------------------------------
// memberlist messages (reference §2.1)
// ---------------------------------------------------------------------------------------------

/** Scalars a message is built from; `short` keeps messages under a compound part's 65,535 bytes. */
interface Parts {
  readonly text: fc.Arbitrary<string>;
  readonly bytes: fc.Arbitrary<Uint8Array>;
  readonly bytesOrNil: fc.Arbitrary<Uint8Array | null>;
}
const full: Parts = { text, bytes, bytesOrNil };
const short: Parts = { text: shortText, bytes: shortBytes, bytesOrNil: shortBytesOrNil };

// omitempty fields are either left out or non-empty: an empty one is left out on the wire, so it
// could not come back.
function ping(p: Parts): fc.Arbitrary<Ping> {
  return fc.record(
    { SeqNo: u32, Node: p.text, SourceAddr: address, SourcePort: u16.filter((n) => n !== 0), SourceNode: nonEmpty(p.text) },
    { requiredKeys: ['SeqNo', 'Node'], noNullPrototype: true },
  );
}

function indirectPing(p: Parts): fc.Arbitrary<IndirectPing> {
  return fc.record(
    {
      SeqNo: u32, Target: address, Port: u16, Node: p.text, Nack: fc.boolean(),
      SourceAddr: address, SourcePort: u16.filter((n) => n !== 0), SourceNode: nonEmpty(p.text),
    },
    { requiredKeys: ['SeqNo', 'Target', 'Port', 'Node', 'Nack'], noNullPrototype: true },
  );
}

const ack = (p: Parts): fc.Arbitrary<Ack> => record({ SeqNo: u32, Payload: p.bytesOrNil });
const nack: fc.Arbitrary<Nack> = record({ SeqNo: u32 });
const errResp = (p: Parts): fc.Arbitrary<ErrResp> => record({ Error: p.text });
const suspect = (p: Parts): fc.Arbitrary<Suspect> => record({ Incarnation: u32, Node: p.text, From: p.text });
const dead = (p: Parts): fc.Arbitrary<Dead> => record({ Incarnation: u32, Node: p.text, From: p.text });
const alive = (p: Parts): fc.Arbitrary<Alive> =>
  record({ Incarnation: u32, Node: p.text, Addr: address, Port: u16, Meta: meta, Vsn: vsn });

function memberlistMessageOf(p: Parts, serf: fc.Arbitrary<SerfMessage>): fc.Arbitrary<MemberlistMessage> {
  return fc.oneof(
    ping(p).map((body) => ({ type: 'ping', body }) as const),
    indirectPing(p).map((body) => ({ type: 'indirectPing', body }) as const),
    ack(p).map((body) => ({ type: 'ack', body }) as const),
    nack.map((body) => ({ type: 'nack', body }) as const),
    errResp(p).map((body) => ({ type: 'err', body }) as const),
    suspect(p).map((body) => ({ type: 'suspect', body }) as const),
    alive(p).map((body) => ({ type: 'alive', body }) as const),
    dead(p).map((body) => ({ type: 'dead', body }) as const),
    fc.oneof(p.bytes, serf.map(encodeSerfMessage)).map((payload) => ({ type: 'user', payload }) as const),
  );
}

// ---------------------------------------------------------------------------------------------
// Serf messages (reference §8.1–8.2, §8.7)
// ---------------------------------------------------------------------------------------------

export const queryFilter: fc.Arbitrary<QueryFilter> = fc.oneof(
  fc.array(shortText, { maxLength: 5 }).map((nodes) => ({ type: 'node', nodes }) as const),
  record({ Tag: shortText, Expr: shortText }).map((filter) => ({ type: 'tag', filter }) as const),
);

/** Serf's event buffer: 512 slots (one per Lamport time modulo 512), nearly all nil. */
const EVENT_SLOTS = 512;

function serfArbitraries(p: Parts) {
  const leave: fc.Arbitrary<SerfLeave> = record({ LTime: u64, Node: p.text, Prune: fc.boolean() });
  const join: fc.Arbitrary<SerfJoin> = record({ LTime: u64, Node: p.text });
  const userEvent: fc.Arbitrary<SerfUserEvent> = record({ LTime: u64, Name: p.text, Payload: p.bytesOrNil, CC: fc.boolean() });
  const bufferedEvents: fc.Arbitrary<SerfBufferedEvents> = record({
    LTime: u64,
    Events: fc.option(fc.array(record({ Name: shortText, Payload: shortBytesOrNil }), { maxLength: 3 }), { nil: null }),
  });
  const eventSlots = fc.oneof(
    fc.constant(null),
    fc.array(fc.option(bufferedEvents, { nil: null }), { maxLength: 4 }),
    fc.array(fc.tuple(fc.integer({ min: 0, max: EVENT_SLOTS - 1 }), bufferedEvents), { maxLength: 6 }).map((used) => {
      const slots: (SerfBufferedEvents | null)[] = new Array<SerfBufferedEvents | null>(EVENT_SLOTS).fill(null);
      for (const [slot, events] of used) slots[slot] = events;
      return slots;
    }),
  );
  const pushPull: fc.Arbitrary<SerfPushPull> = record({
    LTime: u64,
    StatusLTimes: fc.option(mapOf(shortText, u64, 8), { nil: null }),
    LeftMembers: fc.option(fc.array(shortText, { maxLength: 4 }), { nil: null }),
    EventLTime: u64,
    Events: eventSlots,
    QueryLTime: u64,
  });
  const query: fc.Arbitrary<SerfQuery> = record({
    LTime: u64, ID: u32, Addr: address, Port: u16, SourceNode: p.text,
    Filters: fc.option(fc.array(queryFilter.map(encodeQueryFilter), { maxLength: 3 }), { nil: null }),
    Flags: u32, RelayFactor: u8, Timeout: i64, Name: p.text, Payload: p.bytesOrNil,
  });
  const queryResponse: fc.Arbitrary<SerfQueryResponse> = record({ LTime: u64, ID: u32, From: p.text, Flags: u32, Payload: p.bytesOrNil });
  const conflictMember: fc.Arbitrary<SerfConflictMember> = record({
    Name: p.text, Addr: address, Port: u16, Tags: fc.option(mapOf(shortText, shortText, 5), { nil: null }), Status: goInt,
    ProtocolMin: u8, ProtocolMax: u8, ProtocolCur: u8, DelegateMin: u8, DelegateMax: u8, DelegateCur: u8,
  });
  const keyRequest: fc.Arbitrary<SerfKeyRequest> = record({
    Key: fc.oneof(fc.constant(null), fc.constant(new Uint8Array(0)), fc.constantFrom(16, 24, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }))),
  });
  const keyResponse: fc.Arbitrary<SerfKeyResponse> = record({
    Result: fc.boolean(), Message: p.text, Keys: fc.option(fc.array(shortText, { maxLength: 4 }), { nil: null }), PrimaryKey: p.text,
  });
  const relayHeader: fc.Arbitrary<SerfRelayHeader> = record({
    DestAddr: record({ IP: address, Port: goInt, Zone: shortText }),
    DestName: p.text,
  });
  const plain: fc.Arbitrary<SerfMessage> = fc.oneof(
    leave.map((body) => ({ type: 'leave', body }) as const),
    join.map((body) => ({ type: 'join', body }) as const),
    pushPull.map((body) => ({ type: 'pushPull', body }) as const),
    userEvent.map((body) => ({ type: 'userEvent', body }) as const),
    query.map((body) => ({ type: 'query', body }) as const),
    queryResponse.map((body) => ({ type: 'queryResponse', body }) as const),
    fc.option(conflictMember, { nil: null, freq: 3 }).map((body) => ({ type: 'conflictResponse', body }) as const),
    keyRequest.map((body) => ({ type: 'keyRequest', body }) as const),
    keyResponse.map((body) => ({ type: 'keyResponse', body }) as const),
  );
  // serf.ts decodes a relay inside a relay but no deeper (MAX_RELAY_NESTING = 2).
  const relayOf = (inner: fc.Arbitrary<SerfMessage>): fc.Arbitrary<SerfMessage> =>
    fc.tuple(relayHeader, inner).map(([header, msg]) => ({ type: 'relay', header, inner: msg, innerBytes: encodeSerfMessage(msg) }) as const);
  const relay = fc.oneof({ arbitrary: relayOf(plain), weight: 3 }, { arbitrary: relayOf(relayOf(plain)), weight: 1 });
  return { pushPull, message: fc.oneof({ arbitrary: plain, weight: 9 }, { arbitrary: relay, weight: 2 }) };
}

const serfFull = serfArbitraries(full);
const serfShort = serfArbitraries(short);

/** Any Serf message, relays included (with their inner bytes, as the decoder reports them). */
export const serfMessage = serfFull.message;
export const memberlistMessage = memberlistMessageOf(full, serfShort.message);
/** A message that fits a compound part, for whole-packet properties. */
export const packetMessage = memberlistMessageOf(short, serfShort.message);

// ---------------------------------------------------------------------------------------------
// TCP stream messages (reference §5)
// ---------------------------------------------------------------------------------------------

const pushNodeState: fc.Arbitrary<PushNodeState> = record({
  Name: text, Addr: address, Port: u16, Meta: meta, Incarnation: u32, State: goInt, Vsn: vsn,
});

/** Serf's push/pull user state is a whole Serf pushPull message (type byte 2 + body), or nothing. */
const userState = fc.oneof(fc.constant(new Uint8Array(0)), serfShort.pushPull.map((body) => encodeSerfMessage({ type: 'pushPull', body })));

// The encoder writes Nodes and UserStateLen from the node list and user state, so the
// generator makes them agree (they are what the decoder reports back).
export const streamMessage: fc.Arbitrary<StreamMessage> = fc.oneof(
  fc.tuple(fc.array(pushNodeState, { maxLength: 5 }), userState, fc.boolean()).map(([nodes, state, join]) => ({
    type: 'pushPull', header: { Nodes: nodes.length, UserStateLen: state.length, Join: join }, nodes, userState: state,
  }) as const),
  ping(full).map((body) => ({ type: 'ping', body }) as const),
  ack(full).map((body) => ({ type: 'ack', body }) as const),
  errResp(full).map((body) => ({ type: 'err', body }) as const),
  fc.oneof(bytes, serfShort.message.map(encodeSerfMessage)).map((payload) => ({ type: 'user', header: { UserMsgLen: payload.length }, payload }) as const),
);

/** AES keys: 16, 24 or 32 bytes. */
export const aesKey = fc.constantFrom(16, 24, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
