import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { WireError, isInternalError } from '../../src/wire/errors.js';
import { valueToJson, type Json } from '../../src/wire/json.js';
import { MsgpackReader } from '../../src/wire/msgpack-reader.js';
import { MsgpackWriter } from '../../src/wire/msgpack-writer.js';
import {
  DEFAULT_RPC_MAX_OBJECT_BYTES, RpcStreamDecoder, decodeRpc, decodeRpcGeneric, decodeRpcRecord, encodeRpc, encodeRpcRecord,
  encodeRpcRequest, encodeRpcResponse, requestBodySchema, responseBodySchema, rpcCommandSpec, splitRpcStream,
  type RpcFrame, type RpcValue,
} from '../../src/wire/rpc.js';
import {
  RpcCommand, RpcError, authRequestSchema, coordinateRequestSchema, coordinateResponseSchema, eventRequestSchema,
  forceLeaveRequestSchema, handshakeRequestSchema, joinRequestSchema, joinResponseSchema, keyRequestSchema,
  keyResponseSchema, membersFilteredRequestSchema, membersResponseSchema, monitorRequestSchema, queryRequestSchema,
  requestHeaderSchema, respondRequestSchema, responseHeaderSchema, rpcCommands, rpcRecordSchemas, statsResponseSchema, stopRequestSchema,
  streamRequestSchema, tagsRequestSchema, type RpcCommandName, type RpcMember, type RpcRecord,
} from '../../src/wire/rpc-schemas.js';
import { struct, t, type Kind } from '../../src/wire/schema.js';
import { fromHex, hex, loadIndex, readFixture, type FixtureFile } from '../helpers/fixtures.js';

// ---------------------------------------------------------------------------------------------
// Helpers

/** mulberry32, so every random case replays from its seed. */
function rng(seed: number): (n: number) => number {
  let state = seed >>> 0;
  return (n) => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return Math.floor((((z ^ (z >>> 14)) >>> 0) / 0x1_0000_0000) * n);
  };
}

const enc = new TextEncoder();
const bytesOf = (text: string): Uint8Array => enc.encode(text);
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Feeds `bytes` in the given chunk sizes (cycled), draining after each push. */
function feed(bytes: Uint8Array, sizes: readonly number[], options = {}): RpcFrame[] {
  const decoder = new RpcStreamDecoder(options);
  const frames: RpcFrame[] = [];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const size = sizes[i % sizes.length] as number;
    decoder.push(bytes.subarray(at, at + size));
    at += size;
    for (let f = decoder.next(); f !== null; f = decoder.next()) frames.push(f);
  }
  assert.equal(decoder.buffered, 0, 'no bytes left over');
  return frames;
}

function splitAll(bytes: Uint8Array): RpcFrame[] {
  const split = splitRpcStream(bytes);
  assert.ok(split.ok, split.ok ? '' : split.error.message);
  assert.equal(split.value.incomplete, 0);
  return split.value.frames;
}

/** A schema-less value as index.json writes it: bytes as hex, maps as objects. */
function genericToJson(v: RpcValue): Json {
  if (v instanceof Uint8Array) return hex(v);
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return v.map(genericToJson);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), genericToJson(x)]));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, genericToJson(x)]));
  return v;
}

interface Decoded {
  readonly kind: Kind;
  readonly value: unknown;
}

/** Decodes a client→agent stream: header, then the body its command implies. Returns the Seq → command map too. */
function decodeRequests(frames: readonly RpcFrame[]): { decoded: Decoded[]; commands: Map<bigint, string> } {
  const decoded: Decoded[] = [];
  const commands = new Map<bigint, string>();
  for (let i = 0; i < frames.length; i++) {
    const header = decodeRpc(requestHeaderSchema, (frames[i] as RpcFrame).bytes);
    decoded.push({ kind: requestHeaderSchema, value: header });
    commands.set(header.Seq, header.Command);
    const body = requestBodySchema(header.Command);
    if (body !== null) decoded.push({ kind: body, value: decodeRpc(body, (frames[++i] as RpcFrame).bytes) });
  }
  return { decoded, commands };
}

/** Decodes an agent→client stream, knowing which command each Seq was. */
function decodeResponses(frames: readonly RpcFrame[], commands: ReadonlyMap<bigint, string>): Decoded[] {
  const decoded: Decoded[] = [];
  const answered = new Set<bigint>();
  for (let i = 0; i < frames.length; i++) {
    const header = decodeRpc(responseHeaderSchema, (frames[i] as RpcFrame).bytes);
    decoded.push({ kind: responseHeaderSchema, value: header });
    const command = commands.get(header.Seq);
    assert.ok(command !== undefined, `response to unknown Seq ${header.Seq}`);
    if (answered.has(header.Seq)) {
      const record = decodeRpcRecord(command, (frames[++i] as RpcFrame).bytes);
      decoded.push({ kind: rpcRecordSchemas[record.kind], value: record.value });
      continue;
    }
    answered.add(header.Seq);
    const body = responseBodySchema(command, header.Error);
    if (body !== null) decoded.push({ kind: body, value: decodeRpc(body, (frames[++i] as RpcFrame).bytes) });
  }
  return decoded;
}

interface RpcObjectEntry {
  readonly offset: number;
  readonly len: number;
  readonly value: Json;
  readonly hex: string;
}

interface RpcFixture {
  readonly file: FixtureFile;
  readonly connection: string;
  readonly fromServer: boolean;
  readonly objects: readonly RpcObjectEntry[];
}

function rpcFixtures(): RpcFixture[] {
  return loadIndex().files
    .filter((f) => f.decoded.layer === 'serf-rpc')
    .map((f) => {
      const extra = f as unknown as { tcp_connection: string; from: { role: string } };
      return { file: f, connection: extra.tcp_connection, fromServer: extra.from.role === 'server', objects: f.decoded.objects as RpcObjectEntry[] };
    });
}

// ---------------------------------------------------------------------------------------------
// Captured streams

describe('RPC fixtures', () => {
  const fixtures = rpcFixtures();

  test('covers the six captured RPC streams', () => {
    assert.deepEqual(fixtures.map((f) => f.file.file.slice(0, 2)), ['69', '70', '73', '74', '75', '76']);
  });

  for (const fx of fixtures) {
    test(`${fx.file.file}: objects, values and bytes match Go's`, () => {
      const bytes = readFixture(fx.file.file);
      assert.equal(bytes.length, fx.file.length);
      const frames = splitAll(bytes);
      assert.deepEqual(frames.map((f) => [f.offset, f.bytes.length]), fx.objects.map((o) => [o.offset, o.len]));
      assert.deepEqual(frames.map((f) => hex(f.bytes)), fx.objects.map((o) => o.hex));

      // One byte at a time, and in uneven chunks, gives the same objects.
      assert.deepEqual(feed(bytes, [1]), frames);
      assert.deepEqual(feed(bytes, [3, 7, 1, 50]), frames);

      let decoded: Decoded[];
      if (fx.fromServer) {
        const request = fixtures.find((other) => other.connection === fx.connection && !other.fromServer);
        assert.ok(request, `no request stream for ${fx.connection}`);
        decoded = decodeResponses(frames, decodeRequests(splitAll(readFixture(request.file.file))).commands);
      } else {
        decoded = decodeRequests(frames).decoded;
      }
      assert.equal(decoded.length, frames.length);
      decoded.forEach((d, i) => {
        const entry = fx.objects[i] as RpcObjectEntry;
        assert.deepEqual(valueToJson(d.kind, d.value), entry.value, `object ${i}`);
        // No map here has two keys or more, so Go's output is deterministic and ours must equal it.
        assert.equal(hex(encodeRpc(d.kind, d.value as never)), entry.hex, `re-encoded object ${i}`);
        assert.deepEqual(genericToJson(decodeRpcGeneric((frames[i] as RpcFrame).bytes)), entry.value, `generic object ${i}`);
      });
    });
  }

  test('the typed encoders rebuild the captured event request and members response', () => {
    const event = readFixture('69_10_rpc-event-str8-bin8-request.bin');
    const rebuilt = concat(
      encodeRpcRequest('handshake', 1n, { Version: 1 }),
      encodeRpcRequest('event', 2n, {
        Name: 'event-name-that-is-longer-than-32-chars',
        Payload: bytesOf('payload-of-exactly-forty-bytes-length!!!'),
        Coalesce: false,
      }),
    );
    assert.equal(hex(rebuilt), hex(event));

    const members = readFixture('74_rpc_rpc-members-response.bin');
    const member = (name: string, port: number): RpcMember => ({
      Name: name, Addr: fromHex('7f000001'), Port: port, Tags: new Map(), Status: 'alive',
      ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 5,
    });
    const response = concat(
      encodeRpc(responseHeaderSchema, { Seq: 1n, Error: '' }),
      encodeRpcResponse('members-filtered', { Seq: 2n, Error: '' }, { Members: [member('node-a', 18001), member('node-b', 18002)] }),
    );
    assert.equal(hex(response), hex(members));
  });
});

// ---------------------------------------------------------------------------------------------
// Every command body

const s32 = 'x'.repeat(32);
const s256 = 'y'.repeat(256);
const b256 = Uint8Array.from({ length: 256 }, (_, i) => i);
const big = 2n ** 53n + 1n;
const u64max = 2n ** 64n - 1n;

const sampleMember: RpcMember = {
  Name: s32, Addr: fromHex('20010db8000000000000000000000001'), Port: 65535,
  Tags: new Map([['role', s256]]), Status: 'leaving',
  ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 255,
};

/** Representative bodies for every schema, with str8/str16 strings, bin16 payloads and u64 beyond 2^53. */
const bodies: ReadonlyArray<readonly [string, Kind, unknown]> = [
  ['requestHeader', requestHeaderSchema, { Command: 'members-filtered', Seq: u64max }],
  ['responseHeader', responseHeaderSchema, { Seq: big, Error: s256 }],
  ['handshake', handshakeRequestSchema, { Version: -2147483648 }],
  ['auth', authRequestSchema, { AuthKey: s32 }],
  ['event', eventRequestSchema, { Name: s256, Payload: b256, Coalesce: true }],
  ['event nil payload', eventRequestSchema, { Name: '', Payload: null, Coalesce: false }],
  ['force-leave', forceLeaveRequestSchema, { Node: s32, Prune: true }],
  ['join', joinRequestSchema, { Existing: ['127.0.0.1:7946', s256], Replay: true }],
  ['join nil', joinRequestSchema, { Existing: null, Replay: false }],
  ['join response', joinResponseSchema, { Num: 2147483647 }],
  ['members-filtered', membersFilteredRequestSchema, { Tags: new Map([['role', 'web.*']]), Status: 'alive|failed', Name: s32 }],
  ['members response', membersResponseSchema, { Members: [sampleMember] }],
  ['stream', streamRequestSchema, { Type: 'member-join,user:deploy,query:q' }],
  ['stop', stopRequestSchema, { Stop: big }],
  ['monitor', monitorRequestSchema, { LogLevel: 'DEBUG' }],
  ['key request', keyRequestSchema, { Key: '22340oqL86o596XonHmP4/7RgmZRt8wgPkmlK3vybmI=' }],
  ['key response', keyResponseSchema, {
    Messages: new Map([[s32, s256]]), Keys: new Map([['22340oqL86o596XonHmP4/7RgmZRt8wgPkmlK3vybmI=', 3]]),
    NumNodes: 3, NumErr: 1, NumResp: 2,
  }],
  ['key response nil maps', keyResponseSchema, { Messages: null, Keys: null, NumNodes: 0, NumErr: 0, NumResp: 0 }],
  ['tags', tagsRequestSchema, { Tags: new Map([['a', s32]]), DeleteTags: ['old', s256] }],
  ['query', queryRequestSchema, {
    FilterNodes: [s32], FilterTags: new Map([['dc', 'east']]), RequestAck: true, RelayFactor: 255,
    Timeout: 15_000_000_000n, Name: s256, Payload: b256,
  }],
  ['respond', respondRequestSchema, { ID: u64max, Payload: bytesOf('reply') }],
  ['stats', statsResponseSchema, new Map([['agent', new Map([['name', s32]])], ['tags', new Map()]])],
  ['get-coordinate', coordinateRequestSchema, { Node: s256 }],
  ['coordinate response', coordinateResponseSchema, {
    Coord: { Adjustment: -0.25, Error: 1.5, Height: 1e-5, Vec: [0.1, -2, 3e-9, 0, 0, 0, 0, 1] }, Ok: true,
  }],
  ['coordinate response unknown node', coordinateResponseSchema, { Coord: { Adjustment: 0, Error: 0, Height: 0, Vec: null }, Ok: false }],
];

describe('RPC bodies', () => {
  for (const [name, kind, value] of bodies) {
    test(`${name} round-trips`, () => {
      const bytes = encodeRpc(kind, value as never);
      assert.deepEqual(decodeRpc(kind, bytes), value);
      assert.equal(hex(encodeRpc(kind, decodeRpc(kind, bytes) as never)), hex(bytes));
      assert.deepEqual(splitAll(bytes).map((f) => f.bytes), [bytes]);
    });
  }

  test('strings use fixstr, str8, str16; []byte uses bin; u64 beyond 2^32 uses uint64', () => {
    const w = (kind: Kind, value: unknown): string => hex(encodeRpc(kind, value as never));
    assert.equal(w(authRequestSchema, { AuthKey: 'x'.repeat(31) }), `81a7417574684b6579bf${'78'.repeat(31)}`);
    assert.equal(w(authRequestSchema, { AuthKey: s32 }), `81a7417574684b6579d920${'78'.repeat(32)}`);
    assert.equal(w(authRequestSchema, { AuthKey: 'z'.repeat(255) }).slice(18, 22), 'd9ff');
    assert.equal(w(authRequestSchema, { AuthKey: s256 }).slice(18, 24), 'da0100');
    assert.equal(w(respondRequestSchema, { ID: 1n, Payload: b256 }), `82a2494401a75061796c6f6164c50100${hex(b256)}`);
    assert.equal(w(eventRequestSchema, { Name: '', Payload: new Uint8Array(0), Coalesce: false }), '83a8436f616c65736365c2a44e616d65a0a75061796c6f6164c400');
    assert.equal(w(respondRequestSchema, { ID: big, Payload: null }), '82a24944cf0020000000000001a75061796c6f6164c0');
    assert.equal(w(stopRequestSchema, { Stop: u64max }), '81a453746f70cfffffffffffffffff');
    // Timeout 15 s in ns: a non-negative int64 goes out in the unsigned forms, as go-msgpack does.
    const query = w(queryRequestSchema, { FilterNodes: null, FilterTags: null, RequestAck: false, RelayFactor: 0, Timeout: 15_000_000_000n, Name: 'q', Payload: null });
    assert.ok(query.includes(`a754696d656f7574cf000000037e11d600`), query);
    assert.ok(query.startsWith('87ab46696c7465724e6f646573c0aa46696c74657254616773c0'), 'nil slice and map are 0xc0');
  });

  test('request and response encoders write the header, then the body only when the command has one', () => {
    const members = encodeRpcRequest('members', 7n);
    assert.equal(hex(members), '82a7436f6d6d616e64a76d656d62657273a353657107');
    const leave = splitAll(encodeRpcResponse('leave', { Seq: 9n, Error: '' }));
    assert.equal(leave.length, 1);
    const join = splitAll(encodeRpcResponse('join', { Seq: 3n, Error: 'no route' }, { Num: 0 }));
    assert.deepEqual(decodeRpc(responseHeaderSchema, (join[0] as RpcFrame).bytes), { Seq: 3n, Error: 'no route' });
    assert.deepEqual(decodeRpc(joinResponseSchema, (join[1] as RpcFrame).bytes), { Num: 0 });
    const query = splitAll(encodeRpcRequest('query', big, bodies.find(([n]) => n === 'query')?.[2] as never));
    assert.deepEqual(decodeRpc(requestHeaderSchema, (query[0] as RpcFrame).bytes), { Command: 'query', Seq: big });
  });

  test('the command table covers all twenty commands and says which stream', () => {
    assert.deepEqual(Object.keys(rpcCommands).sort(), Object.values(RpcCommand).sort());
    const streaming = (Object.keys(rpcCommands) as RpcCommandName[]).filter((c) => rpcCommands[c].streaming);
    assert.deepEqual(streaming.sort(), ['monitor', 'query', 'stream']);
    assert.equal(rpcCommandSpec('members')?.request, null);
    assert.equal(rpcCommandSpec('toString'), undefined);
    assert.equal(requestBodySchema('no-such-command'), null);
    assert.equal(requestBodySchema('__proto__'), null);
    assert.equal(responseBodySchema('members', ''), membersResponseSchema);
    assert.equal(responseBodySchema('install-key', 'key is invalid'), keyResponseSchema, 'a key response is sent with its error');
    assert.equal(responseBodySchema('members', RpcError.handshakeRequired), null);
    assert.equal(responseBodySchema('list-keys', RpcError.authRequired), null);
    assert.equal(responseBodySchema('nonsense', RpcError.unsupportedCommand), null);
    assert.equal(responseBodySchema('stream', RpcError.invalidFilter), null);
  });
});

// ---------------------------------------------------------------------------------------------
// Stream records

describe('RPC records', () => {
  const records: ReadonlyArray<readonly [RpcCommandName, RpcRecord]> = [
    ['stream', { kind: 'memberEvent', value: { Event: 'member-join', Members: [sampleMember] } }],
    ['stream', { kind: 'memberEvent', value: { Event: 'member-reap', Members: [] } }],
    ['stream', { kind: 'userEvent', value: { Event: 'user', LTime: big, Name: s32, Payload: b256, Coalesce: true } }],
    ['stream', { kind: 'queryEvent', value: { Event: 'query', ID: u64max, LTime: 5n, Name: s256, Payload: null } }],
    ['monitor', { kind: 'log', value: { Log: `2020/08/01 12:00:00 [INFO] ${s256}` } }],
    ['query', { kind: 'query', value: { Type: 'ack', From: 'node-a', Payload: null } }],
    ['query', { kind: 'query', value: { Type: 'response', From: s32, Payload: bytesOf('reply-from-tsnode') } }],
    ['query', { kind: 'query', value: { Type: 'done', From: '', Payload: null } }],
  ];

  for (const [command, record] of records) {
    test(`${command} ${record.kind} ${'Event' in record.value ? record.value.Event : ''} round-trips`, () => {
      const frames = splitAll(encodeRpcRecord(42n, record));
      assert.equal(frames.length, 2);
      assert.deepEqual(decodeRpc(responseHeaderSchema, (frames[0] as RpcFrame).bytes), { Seq: 42n, Error: '' });
      assert.deepEqual(decodeRpcRecord(command, (frames[1] as RpcFrame).bytes), record);
    });
  }

  test('an unknown event, or a record for a command that sends none, is a WireError', () => {
    const odd = encodeRpc(struct('oddRecord', { Event: t.string }), { Event: 'member-explode' });
    assert.throws(() => decodeRpcRecord('stream', odd), (e) => e instanceof WireError && /member-explode/.test(e.reason));
    assert.throws(() => decodeRpcRecord('members', odd), (e) => e instanceof WireError && e.layer === 'rpc');
    assert.throws(() => decodeRpcRecord('bogus', odd), WireError);
  });
});

// ---------------------------------------------------------------------------------------------
// The incremental decoder

describe('RpcStreamDecoder', () => {
  const stream = concat(...rpcFixtures().map((f) => readFixture(f.file.file)), ...bodies.map(([, kind, value]) => encodeRpc(kind, value as never)));

  test('random chunkings of all fixtures and bodies give the same frames as one push', () => {
    const whole = splitAll(stream);
    const next = rng(1);
    for (let round = 0; round < 20; round++) {
      const sizes = Array.from({ length: 17 }, () => 1 + next(round % 2 === 0 ? 8 : 600));
      assert.deepEqual(feed(stream, sizes), whole, `round ${round}`);
    }
  });

  test('agrees with MsgpackReader.skip on random values of every family, fed in tiny and large chunks', () => {
    const next = rng(7);
    const objects: Uint8Array[] = [];
    for (let i = 0; i < 300; i++) objects.push(randomValue(next));
    const bytes = concat(...objects);
    const extents: number[] = [];
    const r = new MsgpackReader(bytes, 0, bytes.length, 'rpc');
    while (r.pos < bytes.length) {
      r.skip();
      extents.push(r.pos);
    }
    const frames = feed(bytes, [1, 2, 1, 3, 5000]);
    assert.deepEqual(frames.map((f) => f.offset + f.bytes.length), extents);
    assert.deepEqual(frames.map((f) => hex(f.bytes)), objects.map(hex));
  });

  test('on random bytes it finds the same extents as skip, or fails where skip fails', () => {
    const next = rng(11);
    for (let round = 0; round < 400; round++) {
      const junk = Uint8Array.from({ length: 1 + next(64) }, () => next(256));
      let skipEnds: number[] = [];
      let skipOutcome = 'incomplete';
      const r = new MsgpackReader(junk, 0, junk.length, 'rpc', 1000);
      try {
        while (r.pos < junk.length) {
          r.skip();
          skipEnds.push(r.pos);
        }
        skipOutcome = 'complete';
      } catch (err) {
        assert.ok(err instanceof WireError);
        if (err.reason.startsWith('invalid')) skipOutcome = 'invalid';
      }
      const decoder = new RpcStreamDecoder();
      const ends: number[] = [];
      let outcome = 'incomplete';
      try {
        decoder.push(junk);
        for (let f = decoder.next(); f !== null; f = decoder.next()) ends.push(f.offset + f.bytes.length);
        if (decoder.buffered === 0) outcome = 'complete';
      } catch (err) {
        assert.ok(err instanceof WireError && err.layer === 'rpc', String(err));
        outcome = 'invalid';
      }
      if (skipOutcome !== 'complete') skipEnds = skipEnds.slice(0, ends.length);
      // skip() gives up on a container whose count exceeds the bytes left before looking inside;
      // the decoder looks inside (more may come) and may meet an invalid byte first.
      const agrees = outcome === skipOutcome || (skipOutcome === 'incomplete' && outcome === 'invalid');
      assert.ok(agrees, `round ${round}: ${outcome} vs skip ${skipOutcome}: ${hex(junk)}`);
      assert.deepEqual(ends, skipEnds, `round ${round}: ${hex(junk)}`);
    }
  });

  test('refuses an object over the limit as soon as its header says so', () => {
    const decoder = new RpcStreamDecoder();
    assert.equal(decoder.maxObjectBytes, DEFAULT_RPC_MAX_OBJECT_BYTES);
    decoder.push(fromHex('82a7436f6d6d616e64')); // a request header, cut short
    assert.equal(decoder.next(), null);
    decoder.push(fromHex('c6ffffffff')); // … whose Command claims a 4 GiB bin
    assert.throws(() => decoder.next(), (e) => e instanceof WireError && e.layer === 'rpc' && e.offset === 0 && /over the 16777216-byte limit/.test(e.reason));
    // The stream cannot be resynchronised, so the decoder stays failed.
    assert.throws(() => decoder.next(), WireError);
    assert.throws(() => decoder.push(new Uint8Array(1)), WireError);

    const maps = new RpcStreamDecoder({ maxObjectBytes: 1000 });
    maps.push(fromHex('dd00001000')); // an array of 4096 entries needs at least 4096 more bytes
    assert.throws(() => maps.next(), (e) => e instanceof WireError && /at least 4101 bytes/.test(e.reason));
  });

  test('an object of exactly the limit passes; one byte more does not', () => {
    const body = encodeRpc(eventRequestSchema, { Name: 'n', Payload: new Uint8Array(300), Coalesce: false });
    assert.equal(feed(body, [1], { maxObjectBytes: body.length }).length, 1);
    assert.throws(() => feed(body, [1], { maxObjectBytes: body.length - 1 }), (e) => e instanceof WireError && e.layer === 'rpc');
    // Small objects after a big one keep their stream offsets after the buffer is compacted.
    const two = concat(body, fromHex('01'), body);
    assert.deepEqual(feed(two, [5], { maxObjectBytes: body.length }).map((f) => f.offset), [0, body.length, body.length + 1]);
  });

  test('keeps stream offsets across a big object, and after it lets its buffer go', () => {
    const big = encodeRpc(respondRequestSchema, { ID: 1n, Payload: new Uint8Array(200_000) });
    const header = encodeRpcRequest('respond', 5n, { ID: 1n, Payload: null });
    const stream = concat(header, big, header, big.subarray(0, 100));
    const decoder = new RpcStreamDecoder();
    const frames: RpcFrame[] = [];
    for (let at = 0; at < stream.length; at += 4096) {
      decoder.push(stream.subarray(at, at + 4096));
      for (let f = decoder.next(); f !== null; f = decoder.next()) frames.push(f);
    }
    const headerLen = splitAll(header)[0]?.bytes.length ?? 0;
    assert.deepEqual(frames.map((f) => [f.offset, f.bytes.length]), [
      [0, headerLen], [headerLen, header.length - headerLen], [header.length, big.length],
      [header.length + big.length, headerLen], [header.length + big.length + headerLen, header.length - headerLen],
    ]);
    assert.equal(decoder.offset, 2 * header.length + big.length);
    assert.equal(decoder.buffered, 100, 'the start of the second big object waits for the rest');
  });

  test('a caller that stops draining is stopped once the buffer passes the limit', () => {
    const decoder = new RpcStreamDecoder({ maxObjectBytes: 16 });
    decoder.push(new Uint8Array(10)); // ten complete fixints, not drained
    decoder.push(new Uint8Array(10));
    assert.throws(() => decoder.push(new Uint8Array(1)), (e) => e instanceof WireError && /call next\(\)/.test(e.reason));
    assert.throws(() => new RpcStreamDecoder({ maxObjectBytes: 0 }), RangeError);
  });

  test('an invalid type byte fails at its stream offset', () => {
    const decoder = new RpcStreamDecoder();
    decoder.push(fromHex('8201c1'));
    assert.throws(() => decoder.next(), (e) => e instanceof WireError && e.offset === 2 && /0xc1/.test(e.reason));
    const split = splitRpcStream(fromHex('0102c1'));
    assert.ok(!split.ok && split.error.offset === 2 && !isInternalError(split.error));
    const cut = splitRpcStream(fromHex('01a3616263a361'));
    assert.ok(cut.ok);
    assert.deepEqual([cut.value.frames.length, cut.value.incomplete], [2, 2]);
  });
});

/** A random msgpack value of every family (ext included: the splitter must size it too). */
function randomValue(next: (n: number) => number, depth = 0): Uint8Array {
  const w = new MsgpackWriter('rpc');
  const write = (d: number): void => {
    const pick = next(d > 3 ? 9 : 12);
    switch (pick) {
      case 0: return w.nil();
      case 1: return w.bool(next(2) === 1);
      case 2: return w.int(next(2) === 1 ? -next(2 ** 31) : next(2 ** 31));
      case 3: return w.uint(BigInt(next(2 ** 31)) * 2n ** 33n + BigInt(next(2 ** 31)));
      case 4: return w.float64(next(1000) / 7);
      case 5: return w.string('s'.repeat([0, 5, 31, 32, 255, 256, 65_536][next(7)] as number));
      case 6: return w.bytes(new Uint8Array([0, 3, 255, 256, 70_000][next(5)] as number));
      case 7: {
        const [type, len] = [[0xd4, 1], [0xd5, 2], [0xd6, 4], [0xd7, 8], [0xd8, 16], [0xc7, 3], [0xc8, 300], [0xc9, 5]][next(8)] as [number, number];
        w.byte(type);
        if (type === 0xc7) w.byte(len);
        if (type === 0xc8) w.raw(new Uint8Array([len >> 8, len & 0xff]));
        if (type === 0xc9) w.raw(new Uint8Array([0, 0, 0, len]));
        w.byte(1); // ext type
        return w.raw(new Uint8Array(len));
      }
      case 8: return w.byte(0xca), w.raw(new Uint8Array(4));
      case 9: case 10: {
        const n = [0, 2, 15, 16, 17][next(5)] as number;
        w.arrayHeader(n);
        for (let i = 0; i < n; i++) write(d + 1);
        return;
      }
      default: {
        const n = [0, 1, 15, 16][next(4)] as number;
        w.mapHeader(n);
        for (let i = 0; i < n; i++) {
          w.string(`k${i}`);
          write(d + 1);
        }
      }
    }
  };
  write(depth);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Schema-less decoding

describe('decodeRpcGeneric', () => {
  test('str is text, bin is bytes, integers beyond 2^53 are bigint, floats are numbers', () => {
    const w = new MsgpackWriter('rpc');
    w.mapHeader(6);
    w.string('s'); w.string(s32);
    w.string('b'); w.bytes(fromHex('7f000001'));
    w.string('big'); w.uint(u64max);
    w.string('neg'); w.int(-(2n ** 63n));
    w.string('f'); w.float64(0.5);
    w.string('list'); w.arrayHeader(3); w.nil(); w.bool(true); w.int(-1);
    assert.deepEqual(decodeRpcGeneric(w.finish()), {
      s: s32, b: fromHex('7f000001'), big: u64max, neg: -(2n ** 63n), f: 0.5, list: [null, true, -1],
    });
    assert.equal(decodeRpcGeneric(fromHex('ca3fc00000')), 1.5);
    assert.equal(decodeRpcGeneric(fromHex('cf001fffffffffffff')), Number.MAX_SAFE_INTEGER);
  });

  test('maps become objects (string keys only, __proto__ stays a key) or Map', () => {
    const proto = fromHex('81a95f5f70726f746f5f5f01'); // {"__proto__": 1}
    const obj = decodeRpcGeneric(proto) as Record<string, RpcValue>;
    assert.equal(Object.getPrototypeOf(obj), Object.prototype);
    assert.deepEqual(Object.keys(obj), ['__proto__']);
    const intKeys = fromHex('82010203c40104'); // {1: 2, 3: bin(04)}
    assert.throws(() => decodeRpcGeneric(intKeys), (e) => e instanceof WireError && e.offset === 1 && /not a string/.test(e.reason));
    assert.deepEqual(decodeRpcGeneric(intKeys, 0, intKeys.length, { maps: 'map' }), new Map<RpcValue, RpcValue>([[1, 2], [3, fromHex('04')]]));
    // A stats body: a map of maps, as the agent sends it.
    const stats = encodeRpc(statsResponseSchema, new Map([['agent', new Map([['name', 'node-a']])]]));
    assert.deepEqual(decodeRpcGeneric(stats), { agent: { name: 'node-a' } });
  });

  test('depth, ext, truncation and trailing bytes are WireErrors', () => {
    const deep = new Uint8Array(40).fill(0x91);
    deep[39] = 0x01;
    assert.throws(() => decodeRpcGeneric(deep), (e) => e instanceof WireError && /nesting/.test(e.reason));
    assert.deepEqual(decodeRpcGeneric(deep, 30), [[[[[[[[[1]]]]]]]]]);
    assert.ok(Array.isArray(decodeRpcGeneric(deep, 0, deep.length, { maxDepth: 39 })));
    assert.throws(() => decodeRpcGeneric(deep, 30, deep.length, { maxDepth: 8 }), WireError);
    assert.throws(() => decodeRpcGeneric(fromHex('d40100')), (e) => e instanceof WireError && /ext/.test(e.reason));
    assert.throws(() => decodeRpcGeneric(fromHex('a3616263'), 0, 3), WireError);
    assert.throws(() => decodeRpcGeneric(fromHex('0101')), (e) => e instanceof WireError && /1 byte\(s\) left/.test(e.reason));
    assert.throws(() => decodeRpcGeneric(new Uint8Array(0)), WireError);
  });
});

// ---------------------------------------------------------------------------------------------
// Malformed input

describe('malformed RPC input', () => {
  test('typed decoding rejects wrong types, ranges and trailing bytes with WireError', () => {
    const cases: ReadonlyArray<readonly [Kind, string, RegExp]> = [
      [requestHeaderSchema, '82a7436f6d6d616e6401a353657101', /expected string/],
      [requestHeaderSchema, '82a7436f6d6d616e64a0a3536571ff', /out of range/],
      [handshakeRequestSchema, '81a756657273696f6ecf0000000100000000', /out of range/],
      [membersResponseSchema, '81a74d656d6265727301', /expected array/],
      [joinResponseSchema, '81a34e756dcb3ff0000000000000', /expected integer/],
      [responseHeaderSchema, '80c0', /left after the object/],
      [eventRequestSchema, '05', /expected map/],
      [statsResponseSchema, '81a16101', /expected map/],
    ];
    for (const [kind, bytes, reason] of cases) {
      assert.throws(() => decodeRpc(kind, fromHex(bytes)), (e) => e instanceof WireError && e.layer === 'rpc' && reason.test(e.reason), bytes);
    }
  });

  test('mutated objects only ever fail with WireError', () => {
    const next = rng(23);
    const kinds: Kind[] = [requestHeaderSchema, responseHeaderSchema, ...bodies.map(([, kind]) => kind)];
    const samples = [
      ...bodies.map(([, kind, value]) => encodeRpc(kind, value as never)),
      ...rpcFixtures().flatMap((fx) => fx.objects.map((o) => fromHex(o.hex))),
    ];
    const expectWireError = (run: () => unknown): number => {
      try {
        run();
        return 0;
      } catch (err) {
        assert.ok(err instanceof WireError, `not a WireError: ${String(err)}`);
        assert.ok(!isInternalError(err));
        return 1;
      }
    };
    let failures = 0;
    for (let round = 0; round < 3000; round++) {
      const bytes = (samples[next(samples.length)] as Uint8Array).slice();
      const cut = bytes.subarray(0, bytes.length - next(3));
      for (let flips = 1 + next(3); flips > 0; flips--) cut[next(cut.length)] = next(4) === 0 ? [0xc1, 0xdf, 0xdb, 0xff][next(4)] as number : next(256);
      failures += expectWireError(() => decodeRpc(kinds[next(kinds.length)] as Kind, cut));
      failures += expectWireError(() => decodeRpcGeneric(cut, 0, cut.length, { maps: next(2) === 0 ? 'map' : 'object' }));
      failures += expectWireError(() => decodeRpcRecord(['stream', 'monitor', 'query'][next(3)] as string, cut));
      const split = splitRpcStream(cut, { maxObjectBytes: 1 + next(400) });
      if (!split.ok) assert.ok(!isInternalError(split.error), split.error.message);
    }
    assert.ok(failures > 1000, `mutations should mostly fail (${failures})`);
  });
});
