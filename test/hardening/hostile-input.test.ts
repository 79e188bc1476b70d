// Hostile input against real agents on 127.0.0.1 (the runtime transport and the RPC server, in
// this process): every test sends bad input, checks it was refused AND counted (in the engine's
// and transport's counters and in the `drops` section of the `stats` RPC that `shoal info`
// prints), and that the agent stayed healthy. Ports 25001–25199. Every agent is shut down in
// `after`; every wait is bounded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { Agent, type AgentConfig } from '../../src/agent/agent.js';
import { DEFAULT_RPC_ADDR } from '../../src/agent/config.js';
import { RpcServer } from '../../src/agent/rpc-server.js';
import { RpcClient } from '../../src/cli/rpc-client.js';
import { MemberStatus } from '../../src/cluster/member.js';
import { DEFAULT_RELAY_LIMITS } from '../../src/protocol/rate-limit.js';
import { encryptPacket, Keyring } from '../../src/wire/encryption.js';
import { lzwCompress } from '../../src/wire/lzw.js';
import { compressSchema, MessageType } from '../../src/wire/memberlist-schemas.js';
import { encodeMessage, type MemberlistMessage } from '../../src/wire/messages.js';
import { MsgpackWriter } from '../../src/wire/msgpack-writer.js';
import { encodeCompound, encodePacket } from '../../src/wire/packet.js';
import { decodeRpc, encodeRpc, encodeRpcRequest, RpcStreamDecoder, type RpcFrame } from '../../src/wire/rpc.js';
import { requestHeaderSchema, responseHeaderSchema } from '../../src/wire/rpc-schemas.js';
import { encodeStruct } from '../../src/wire/schema.js';
import { encodeStream, type StreamMessage } from '../../src/wire/stream.js';

const KEY = '22340oqL86o596XonHmP4/7RgmZRt8wgPkmlK3vybmI=';
const WRONG_KEY = 'T9jncgl9mbLus+baTTa7q7nPSUrXwbDi2dhbtqir37s=';
const RPC_AUTH = 'let-me-in';
const LOCALHOST = Uint8Array.of(127, 0, 0, 1);
const PORTS = { a: 25001, b: 25002, c: 25003, victim: 25050, rpcA: 25101, rpcC: 25103, rpcWide: 25110, rpcNarrow: 25111 } as const;

function config(nodeName: string, bindPort: number, extra: Partial<AgentConfig> = {}): AgentConfig {
  return {
    nodeName, bindIp: '127.0.0.1', bindPort, tags: new Map(), profile: 'local', keys: [],
    rejoinAfterLeave: false, protocol: 5, logLevel: 'ERR', logOutput: () => {}, ...extra,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** An outsider's UDP socket: sends datagrams, records what comes back. */
class Outsider {
  readonly received: Buffer[] = [];
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (m) => this.received.push(m));
  }

  static async open(port = 0): Promise<Outsider> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => s.bind(port, '127.0.0.1', () => resolve()));
    return new Outsider(s);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(port: number, bytes: Uint8Array): Promise<void> {
    return new Promise((resolve) => this.socket.send(bytes, port, '127.0.0.1', () => resolve()));
  }

  close(): void {
    this.socket.close();
  }
}

function plain(...messages: MemberlistMessage[]): Uint8Array {
  return encodePacket(messages.map(encodeMessage), { compress: false, crc: false });
}

function withKey(key: string, ...messages: MemberlistMessage[]): Uint8Array {
  return encryptPacket(Keyring.fromBase64([key]), plain(...messages), (n) => new Uint8Array(n).fill(7));
}

const PING: MemberlistMessage = { type: 'ping', body: { SeqNo: 4242, Node: '' } };

/** The `drops` section of an agent's stats, through its RPC as `shoal info` reads it. */
async function drops(rpcPort: number, authKey?: string): Promise<Map<string, number>> {
  const client = await RpcClient.connect(`127.0.0.1:${rpcPort}`, authKey === undefined ? {} : { authKey });
  try {
    const stats = await client.call('stats');
    const section = stats?.get('drops');
    assert.ok(section !== undefined && section !== null, 'stats has a drops section');
    return new Map([...(section ?? new Map<string, string>())].map(([k, v]) => [k, Number(v)]));
  } finally {
    client.close();
  }
}

function memberStatus(agent: Agent, name: string): MemberStatus | undefined {
  return agent.serf.members().find((m) => m.name === name)?.status;
}

describe('hostile input against running agents', () => {
  let a: Agent; // encrypted, RPC with an auth key
  let b: Agent; // encrypted
  let c: Agent; // plaintext, RPC without auth
  let rpcA: RpcServer;
  let rpcC: RpcServer;
  let outsider: Outsider;
  const started: { close(): unknown }[] = [];

  before(async () => {
    a = await Agent.start(config('a', PORTS.a, { keys: [KEY] }));
    b = await Agent.start(config('b', PORTS.b, { keys: [KEY] }));
    c = await Agent.start(config('c', PORTS.c));
    rpcA = await RpcServer.listen(a, { addr: `127.0.0.1:${PORTS.rpcA}`, authKey: RPC_AUTH });
    rpcC = await RpcServer.listen(c, { addr: `127.0.0.1:${PORTS.rpcC}` });
    outsider = await Outsider.open();
    const joined = await b.join([`127.0.0.1:${PORTS.a}`], false);
    assert.equal(joined.num, 1, `b joins a: ${joined.errors.join('; ')}`);
    await eventually('a and b see each other alive', () => memberStatus(a, 'b') === MemberStatus.alive && memberStatus(b, 'a') === MemberStatus.alive);
  });

  after(async () => {
    outsider?.close();
    for (const s of started) await s.close();
    await rpcA?.close();
    await rpcC?.close();
    await Promise.all([a?.shutdown(), b?.shutdown(), c?.shutdown()]);
  });

  test('encrypted cluster: plaintext and wrongly keyed packets are dropped and counted, never answered', async () => {
    const before = a.serf.memberlist.stats.packetsUndecryptable;
    await outsider.send(PORTS.a, plain(PING));
    await outsider.send(PORTS.a, withKey(WRONG_KEY, PING));
    await eventually('two undecryptable packets counted', () => a.serf.memberlist.stats.packetsUndecryptable === before + 2, 3_000);
    await sleep(300);
    assert.equal(outsider.received.length, 0, 'no ack went back to the outsider');
    // The same ping with the right key is answered: the agent is healthy and the test can fail.
    await outsider.send(PORTS.a, withKey(KEY, PING));
    await eventually('an ack to the keyed ping', () => outsider.received.length === 1, 3_000);
    outsider.received.length = 0;
    const d = await drops(PORTS.rpcA, RPC_AUTH);
    assert.ok((d.get('udp_undecryptable') ?? 0) >= 2, `drops.udp_undecryptable = ${d.get('udp_undecryptable')}`);
  });

  test('encrypted cluster: forged suspect and dead messages about a member, without the key, have no effect', async () => {
    const incarnation = a.serf.memberlist.node('b')?.incarnation ?? -1;
    const refutationsBefore = b.serf.memberlist.stats.refutations;
    const droppedBefore = a.serf.memberlist.stats.packetsUndecryptable + b.serf.memberlist.stats.packetsUndecryptable;
    const forged: MemberlistMessage[] = [
      { type: 'suspect', body: { Incarnation: incarnation + 5, Node: 'b', From: 'a' } },
      { type: 'dead', body: { Incarnation: incarnation + 5, Node: 'b', From: 'a' } },
      // A graceful-leave lookalike (From == Node) and a fake new member.
      { type: 'dead', body: { Incarnation: incarnation + 6, Node: 'b', From: 'b' } },
      { type: 'alive', body: { Incarnation: 1, Node: 'intruder', Addr: LOCALHOST, Port: 25099, Meta: new Uint8Array(0), Vsn: Uint8Array.of(1, 5, 2, 2, 5, 4) } },
    ];
    for (const msg of forged) {
      for (const port of [PORTS.a, PORTS.b]) {
        await outsider.send(port, plain(msg));
        await outsider.send(port, withKey(WRONG_KEY, msg));
      }
    }
    await eventually('all 16 forged packets counted as undecryptable', () => a.serf.memberlist.stats.packetsUndecryptable + b.serf.memberlist.stats.packetsUndecryptable === droppedBefore + 16, 3_000);
    await sleep(1_500); // several probe and gossip rounds of the local profile
    assert.equal(memberStatus(a, 'b'), MemberStatus.alive);
    assert.equal(a.serf.memberlist.node('b')?.incarnation, incarnation, 'no forged incarnation was taken');
    assert.equal(b.serf.memberlist.stats.refutations, refutationsBefore, 'b never had to refute');
    assert.equal(memberStatus(a, 'intruder'), undefined);
    assert.equal(memberStatus(b, 'intruder'), undefined);
    assert.equal(outsider.received.length, 0);
  });

  test('encrypted cluster: a plaintext or wrongly keyed push/pull (a forged join) is refused, counted, not merged', async () => {
    const intruder = { Name: 'intruder', Addr: LOCALHOST, Port: 25098, Meta: new Uint8Array(0), Incarnation: 1, State: 0, Vsn: Uint8Array.of(1, 5, 2, 2, 5, 4) };
    const pushPull = { type: 'pushPull', header: { Join: true, Nodes: 1, UserStateLen: 0 }, nodes: [intruder], userState: new Uint8Array(0) } satisfies StreamMessage;
    const before = a.transport.counters.tcpMalformed;
    for (const bytes of [
      encodeStream(pushPull, { compress: true }),
      encodeStream(pushPull, { compress: true, encryption: { keyring: Keyring.fromBase64([WRONG_KEY]), randomBytes: (n) => new Uint8Array(n) } }),
    ]) {
      const reply = await tcpExchange(PORTS.a, bytes);
      assert.ok(reply.length < 200, 'answered with a short error, not our state');
    }
    assert.equal(a.transport.counters.tcpMalformed, before + 2);
    assert.equal(memberStatus(a, 'intruder'), undefined);
    const d = await drops(PORTS.rpcA, RPC_AUTH);
    assert.ok((d.get('tcp_malformed') ?? 0) >= 2);
  });

  test('UDP: an alive message with malformed tags (Meta) is taken without tags and logged; the agent keeps running', async () => {
    const before = c.transport.counters.engineErrors;
    // 0xff is the tags magic byte; 0x90 (an empty array) is not the map Serf expects.
    await outsider.send(PORTS.c, plain({ type: 'alive', body: { Incarnation: 1, Node: 'bad-meta', Addr: LOCALHOST, Port: 25097, Meta: Uint8Array.of(0xff, 0x90), Vsn: Uint8Array.of(1, 5, 2, 2, 5, 4) } }));
    await eventually('c takes bad-meta in', () => c.serf.members().some((m) => m.name === 'bad-meta'), 3_000);
    assert.equal(c.serf.members().find((m) => m.name === 'bad-meta')?.tags.size, 0);
    assert.equal(c.transport.counters.engineErrors, before, 'the engine did not throw');
    await outsider.send(PORTS.c, plain(PING));
    await eventually('c still answers an honest ping', () => outsider.received.length === 1, 3_000);
    outsider.received.length = 0;
  });

  test('UDP: a decompression bomb and over-deep nesting are refused before they cost memory, and counted', async () => {
    const s = c.serf.memberlist.stats;
    const before = { oversized: s.packetsOversized, deep: s.packetsTooDeep, malformed: s.malformedPackets };
    // 8 MiB of zeros compress to a few kB; the agent stops expanding at 1 MiB.
    const bomb = new MsgpackWriter('gossip', 64 * 1024);
    bomb.byte(MessageType.compress);
    encodeStruct(bomb, compressSchema, { Algo: 0, Buf: lzwCompress(new Uint8Array(8 << 20)) });
    const bombBytes = bomb.finish();
    assert.ok(bombBytes.length < 60_000, `bomb is ${bombBytes.length} bytes`);
    await outsider.send(PORTS.c, bombBytes);
    // Compounds nested 8 deep around a ping (the limit is 4).
    let nested = encodeMessage(PING);
    for (let i = 0; i < 8; i++) nested = encodeCompound([nested, encodeMessage(PING)]);
    await outsider.send(PORTS.c, nested);
    // A ping whose body carries a value nested 200 deep (msgpack depth limit 32).
    // (An extra field Go would skip: {SeqNo: 1, Node: "", Junk: [[[…nil…]]]}.)
    const deep = Uint8Array.of(
      MessageType.ping, 0x83, 0xa5, ...Buffer.from('SeqNo'), 0x01, 0xa4, ...Buffer.from('Node'), 0xa0,
      0xa4, ...Buffer.from('Junk'), ...new Uint8Array(200).fill(0x91), 0xc0,
    );
    await outsider.send(PORTS.c, deep);
    // The largest datagram UDP can carry, all junk.
    await outsider.send(PORTS.c, new Uint8Array(65_507).fill(0xc1));
    await eventually('four malformed packets counted', () => s.malformedPackets === before.malformed + 4, 3_000);
    assert.equal(s.packetsOversized, before.oversized + 1, 'the bomb counted as oversized');
    assert.equal(s.packetsTooDeep, before.deep + 2, 'both nestings counted as too deep');
    await sleep(200);
    assert.equal(outsider.received.length, 0, 'none of the pings inside was answered');
    await outsider.send(PORTS.c, plain(PING));
    await eventually('c still answers an honest ping', () => outsider.received.length === 1, 3_000);
    outsider.received.length = 0;
    const d = await drops(PORTS.rpcC);
    assert.ok((d.get('udp_oversized') ?? 0) >= 1 && (d.get('udp_too_deep') ?? 0) >= 2);
  });

  test('TCP: an oversized stream is cut at the limit, a push/pull announcing a billion nodes is refused; both counted', async () => {
    const before = { oversized: c.transport.counters.tcpOversized, malformed: c.transport.counters.tcpMalformed };
    // A push/pull header that announces 10^9 nodes: refused from the header alone.
    const w = new MsgpackWriter('gossip', 64);
    w.byte(MessageType.pushPull);
    w.mapHeader(3);
    w.string('Join'); w.bool(false);
    w.string('Nodes'); w.uint(1_000_000_000);
    w.string('UserStateLen'); w.uint(0);
    const reply = await tcpExchange(PORTS.c, w.finish());
    assert.ok(reply.length > 0 && reply.length < 200, 'an error reply');
    assert.equal(c.transport.counters.tcpMalformed, before.malformed + 1);
    // A push/pull whose first node's name is a str32 of 1 GiB, then up to 64 MiB streaming in: cut past
    // 20 MiB + framing.
    const rssBefore = process.memoryUsage().rss;
    const sent = await tcpFlood(PORTS.c, 64 << 20);
    assert.equal(c.transport.counters.tcpOversized, before.oversized + 1);
    assert.ok(sent < 64 << 20, `the agent hung up before taking all 64 MiB (took ${sent})`);
    const grewMiB = (process.memoryUsage().rss - rssBefore) / (1 << 20);
    console.log(`# TCP flood: agent hung up after ${(sent / (1 << 20)).toFixed(1)} MiB; RSS grew ${grewMiB.toFixed(1)} MiB`);
    const d = await drops(PORTS.rpcC);
    assert.ok((d.get('tcp_oversized') ?? 0) >= 1);
    await outsider.send(PORTS.c, plain(PING));
    await eventually('c still answers an honest ping', () => outsider.received.length === 1, 3_000);
    outsider.received.length = 0;
  });

  test('indirect pings: a flood of relay requests toward an arbitrary address yields at most the relay budget', async () => {
    const victim = await Outsider.open(PORTS.victim);
    started.push(victim);
    const refusedBefore = c.serf.memberlist.stats.indirectPingsRefused;
    const receivedBefore = c.serf.memberlist.stats.packetsReceived;
    const requests = 500;
    for (let i = 0; i < requests; i++) {
      await outsider.send(PORTS.c, plain({ type: 'indirectPing', body: { SeqNo: i, Target: LOCALHOST, Port: PORTS.victim, Node: 'victim', Nack: false } }));
    }
    await sleep(500);
    const { burst, perSecond } = DEFAULT_RELAY_LIMITS.perSource;
    const elapsedS = 3; // generous: sending 500 datagrams takes well under that
    assert.ok(victim.received.length >= 1, 'the limiter lets the first requests through (the test can tell)');
    assert.ok(victim.received.length <= burst + perSecond * elapsedS, `the victim got ${victim.received.length} pings for ${requests} requests`);
    const refused = c.serf.memberlist.stats.indirectPingsRefused - refusedBefore;
    // Loopback may drop some of a burst; every request that reached the agent was either relayed or refused.
    const arrived = c.serf.memberlist.stats.packetsReceived - receivedBefore;
    assert.ok(arrived >= 100, `${arrived} requests arrived`);
    assert.equal(refused + victim.received.length, arrived);
    const d = await drops(PORTS.rpcC);
    assert.ok((d.get('indirect_ping_refused') ?? 0) >= refused);
    console.log(`# relay flood: ${requests} requests sent, ${arrived} arrived → ${victim.received.length} pings to the victim, ${refused} refused`);
  });

  test('RPC: every command before the handshake is refused, the connection closed, and counted', async () => {
    const before = rpcC.refusals.beforeHandshake;
    for (const command of ['members', 'stats', 'join', 'event', 'leave', 'force-leave', 'stop', 'install-key', 'monitor'] as const) {
      const raw = await RawRpc.connect(PORTS.rpcC);
      raw.write(encodeRpc(requestHeaderSchema, { Command: command, Seq: 1n }));
      const header = await raw.nextHeader();
      assert.equal(header.Error, 'Handshake required', command);
      await raw.closed();
    }
    assert.equal(rpcC.refusals.beforeHandshake, before + 9);
  });

  test('RPC with an auth key: commands before auth and a wrong key are refused and counted; nothing runs', async () => {
    const before = { ...rpcA.refusals };
    const raw = await RawRpc.connect(PORTS.rpcA);
    raw.write(encodeRpcRequest('handshake', 1n, { Version: 1 }));
    assert.equal((await raw.nextHeader()).Error, '');
    raw.write(encodeRpcRequest('leave', 2n));
    assert.equal((await raw.nextHeader()).Error, 'Authentication required');
    raw.write(encodeRpcRequest('auth', 3n, { AuthKey: 'wrong' }));
    assert.equal((await raw.nextHeader()).Error, 'Invalid authentication token');
    raw.write(encodeRpcRequest('members', 4n));
    assert.equal((await raw.nextHeader()).Error, 'Authentication required');
    raw.destroy();
    assert.equal(rpcA.refusals.beforeAuth, before.beforeAuth + 2);
    assert.equal(rpcA.refusals.badAuth, before.badAuth + 1);
    assert.equal(a.serf.memberlist.hasLeft, false, 'the leave did not run');
    assert.equal(memberStatus(b, 'a'), MemberStatus.alive);
  });

  test('RPC: an oversized object and an over-deep one are refused before they are buffered whole, and counted', async () => {
    const before = { ...rpcC.refusals };
    // A header map whose Command is a str32 of 1 GiB: cut once the declared size passes the limit.
    const big = await RawRpc.connect(PORTS.rpcC);
    big.write(Uint8Array.of(0x82, 0xa7, ...Buffer.from('Command'), 0xdb, 0x40, 0, 0, 0));
    big.write(new Uint8Array(64 * 1024));
    await big.closed();
    assert.equal(rpcC.refusals.oversized, before.oversized + 1);
    // A header with an extra field nested 100 arrays deep.
    const deep = await RawRpc.connect(PORTS.rpcC);
    deep.write(Uint8Array.of(0x83, 0xa7, ...Buffer.from('Command'), 0xa5, ...Buffer.from('stats'), 0xa3, ...Buffer.from('Seq'), 0x01, 0xa4, ...Buffer.from('Junk'), ...new Uint8Array(100).fill(0x91), 0x01));
    await deep.closed();
    assert.equal(rpcC.refusals.tooDeep, before.tooDeep + 1);
    // Not msgpack at all.
    const junk = await RawRpc.connect(PORTS.rpcC);
    junk.write(new Uint8Array(16).fill(0xc1));
    await junk.closed();
    assert.equal(rpcC.refusals.malformed, before.malformed + 1);
    const d = await drops(PORTS.rpcC);
    assert.ok((d.get('rpc_oversized') ?? 0) >= 1 && (d.get('rpc_too_deep') ?? 0) >= 1 && (d.get('rpc_malformed') ?? 0) >= 1 && (d.get('rpc_before_handshake') ?? 0) >= 9);
  });

  test('RPC binds to loopback by default; anywhere else it warns', async () => {
    assert.match(DEFAULT_RPC_ADDR, /^127\.0\.0\.1:/);
    const logs: string[] = [];
    const onLog = (l: { level: string; message: string }): void => void logs.push(`${l.level} ${l.message}`);
    c.on('log', onLog);
    try {
      const narrow = await RpcServer.listen(c, { addr: `127.0.0.1:${PORTS.rpcNarrow}` });
      started.push(narrow);
      assert.equal(logs.filter((l) => /not a loopback/.test(l)).length, 0);
      const wide = await RpcServer.listen(c, { addr: `0.0.0.0:${PORTS.rpcWide}` });
      started.push(wide);
      assert.ok(logs.some((l) => /^WARN .*0\.0\.0\.0:25110, which is not a loopback address.*no RPC auth key/.test(l)), logs.join('\n'));
    } finally {
      c.off('log', onLog);
    }
  });

  test('after all of it every agent is healthy: members alive, honest clients served', async () => {
    const client = await RpcClient.connect(`127.0.0.1:${PORTS.rpcA}`, { authKey: RPC_AUTH });
    try {
      const members = await client.call('members');
      const statuses = new Map((members?.Members ?? []).map((m) => [m.Name, m.Status]));
      assert.deepEqual(Object.fromEntries(statuses), { a: 'alive', b: 'alive' });
    } finally {
      client.close();
    }
    assert.equal(a.serf.memberlist.healthScore(), 0);
    assert.equal(b.serf.memberlist.healthScore(), 0);
    // (c's health score may be above 0: it rightly probes 'bad-meta', which never answers.)
    assert.equal(c.transport.counters.engineErrors + a.transport.counters.engineErrors + b.transport.counters.engineErrors, 0, 'no input made an engine throw');
  });
});

/** Writes bytes over TCP and reads until the peer closes (bounded). */
function tcpExchange(port: number, bytes: Uint8Array, timeoutMs = 5_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => s.end(bytes));
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error('no answer in time'));
    }, timeoutMs);
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

/** Streams up to `total` bytes of a never-ending user message; resolves with how many were written when the peer hung up. */
function tcpFlood(port: number, total: number, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve) => {
    let written = 0;
    const header = new MsgpackWriter('gossip', 64);
    header.byte(MessageType.pushPull);
    header.mapHeader(3);
    header.string('Join'); header.bool(false);
    header.string('Nodes'); header.uint(1);
    header.string('UserStateLen'); header.uint(0);
    header.mapHeader(7);
    header.string('Name');
    header.raw(Uint8Array.of(0xdb, 0x40, 0, 0, 0));
    const chunk = new Uint8Array(256 * 1024);
    const s = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => s.destroy(), timeoutMs);
    const pump = (): void => {
      while (written < total) {
        written += chunk.length;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
    };
    s.on('connect', () => {
      s.write(header.finish());
      pump();
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(written);
    });
  });
}

/** A bare RPC connection for the protocol's refusal paths. */
class RawRpc {
  private readonly decoder = new RpcStreamDecoder();
  private readonly frames: RpcFrame[] = [];
  private isClosed = false;
  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d) => {
      this.decoder.push(d);
      for (let f = this.decoder.next(); f !== null; f = this.decoder.next()) this.frames.push(f);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.isClosed = true;
    });
  }

  static connect(port: number): Promise<RawRpc> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawRpc(s)));
      s.once('error', reject);
    });
  }

  write(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  async nextHeader(): Promise<{ Seq: bigint; Error: string }> {
    await eventually('an RPC response', () => this.frames.length > 0, 3_000);
    return decodeRpc(responseHeaderSchema, (this.frames.shift() as RpcFrame).bytes);
  }

  async closed(): Promise<void> {
    await eventually('the agent to close the connection', () => this.isClosed, 3_000);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

