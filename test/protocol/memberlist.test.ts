// Conformance tests for one Memberlist core, driven by hand: packets, stream messages and timers
// go in, effects come out, and each expectation is what memberlist 0.2.2 does (reference §5–6;
// state.go, net.go, memberlist.go, suspicion.go, util.go). No simulator, no network.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Address } from '../../src/protocol/address.js';
import { NodeStateType, type NodeView } from '../../src/protocol/node-state.js';
import { Keyring } from '../../src/wire/encryption.js';
import type { Alive, PushNodeState } from '../../src/wire/memberlist-schemas.js';
import { encodeMessage, type MemberlistMessage } from '../../src/wire/messages.js';
import { addCrc, decodePacket, encodeCompound } from '../../src/wire/packet.js';
import { parseStream, type StreamMessage } from '../../src/wire/stream.js';
import { Driver, ipv4, type DriverOptions } from './harness.js';

// ------------------------------------------------------------------------------------ fixtures

const SELF: Address = { ip: ipv4(10, 0, 0, 1), port: 7946 };
/** Someone who pings us to see what we piggyback; not a member. */
const PROBER: Address = { ip: ipv4(10, 0, 0, 99), port: 9999 };
const EMPTY = new Uint8Array(0);
/** memberlist BuildVsnArray with no delegate protocol: [PMin 1, PMax 5, PCur 2, 0, 0, 0]. */
const VSN = Uint8Array.of(1, 5, 2, 0, 0, 0);
const FIXTURE_KEY = '22340oqL86o596XonHmP4/7RgmZRt8wgPkmlK3vybmI=';

/** Peer n<i> lives at 10.0.0.(10+i):7946. */
function peerAddr(i: number): Address {
  return { ip: ipv4(10, 0, 0, 10 + i), port: 7946 };
}

function vsn(pMax: number): Uint8Array {
  return Uint8Array.of(1, pMax, 2, 0, 0, 0);
}

function aliveMsg(i: number, incarnation = 1, extra: Partial<Alive> = {}): MemberlistMessage {
  const a = peerAddr(i);
  return { type: 'alive', body: { Incarnation: incarnation, Node: `n${i}`, Addr: a.ip, Port: a.port, Meta: EMPTY, Vsn: VSN, ...extra } };
}

function selfAlive(incarnation: number, meta: Uint8Array = EMPTY): MemberlistMessage {
  return { type: 'alive', body: { Incarnation: incarnation, Node: 'self', Addr: SELF.ip, Port: SELF.port, Meta: meta, Vsn: VSN } };
}

function pingMsg(seqNo: number, node: string, source?: Address): MemberlistMessage {
  return source === undefined
    ? { type: 'ping', body: { SeqNo: seqNo, Node: node } }
    : { type: 'ping', body: { SeqNo: seqNo, Node: node, SourceAddr: source.ip, SourcePort: source.port, SourceNode: 'n1' } };
}

function pushState(name: string, i: number, state: number, incarnation = 1): PushNodeState {
  const a = name === 'self' ? SELF : peerAddr(i);
  return { Name: name, Addr: a.ip, Port: a.port, Meta: EMPTY, Incarnation: incarnation, State: state, Vsn: VSN };
}

function pushPull(join: boolean, nodes: PushNodeState[], userState: Uint8Array = EMPTY): StreamMessage {
  return { type: 'pushPull', header: { Join: join, Nodes: nodes.length, UserStateLen: userState.length }, nodes, userState };
}

/** A started node with gossip and push/pull off, so only the traffic a test causes goes out. */
function quiet(extra: Partial<DriverOptions> = {}): Driver {
  const d = new Driver({ name: 'self', gossipNodes: 0, pushPullIntervalMs: 0, ...extra }).start();
  d.takeEvents(); // our own join (see the start test)
  return d;
}

/** A quiet node that knows n1..n<count> as alive (incarnation 1), with nothing left queued. */
function withPeers(count: number, extra: Partial<DriverOptions> = {}, pMax: (i: number) => number = () => 5): Driver {
  const d = quiet(extra);
  for (let i = 1; i <= count; i++) d.receive(PROBER, aliveMsg(i, 1, { Vsn: vsn(pMax(i)) }));
  drain(d);
  d.takeEvents();
  d.takeLogs();
  return d;
}

function only<T>(items: readonly T[], what: string): T {
  assert.equal(items.length, 1, `expected exactly one ${what}, got ${items.length}`);
  return items[0] as T;
}

type Msg<T extends MemberlistMessage['type']> = Extract<MemberlistMessage, { type: T }>;

function as<T extends MemberlistMessage['type']>(msg: MemberlistMessage | undefined, type: T): Msg<T> {
  assert.ok(msg !== undefined, `expected a ${type} message, got none`);
  assert.equal(msg.type, type);
  return msg as Msg<T>;
}

/**
 * What the core piggybacks right now: a ping from PROBER is answered by memberlist's sendMsg,
 * which fills the rest of the packet with queued broadcasts (one transmit each).
 */
function piggybacked(d: Driver): MemberlistMessage[] {
  d.takeSent();
  d.receive(PROBER, pingMsg(9999, ''));
  const s = only(d.takeSent(), 'ack packet');
  assert.deepEqual(s.to, PROBER);
  assert.equal(as(s.messages[0], 'ack').body.SeqNo, 9999);
  return s.messages.slice(1);
}

/** Empties the broadcast queue (each broadcast leaves after retransmitLimit sends). */
function drain(d: Driver): void {
  for (let i = 0; i < 200; i++) if (piggybacked(d).length === 0) return;
  assert.fail('the broadcast queue never drained');
}

function stateOf(d: Driver, name: string): NodeStateType | undefined {
  return d.ml.node(name)?.state;
}

function hasLog(d: Driver, level: string, text: string): boolean {
  return d.logs.some((l) => l.level === level && l.message.includes(text));
}

function eventKinds(d: Driver): string[] {
  return d.takeEvents().map((e) => `${e.kind}:${'node' in e ? e.node.name : e.existing.name}`);
}

/** A short description of a gossiped message, for comparing sets of them. */
function summary(m: MemberlistMessage): string {
  switch (m.type) {
    case 'alive': return `alive:${m.body.Node}`;
    case 'suspect': case 'dead': return `${m.type}:${m.body.Node} from ${m.body.From}`;
    default: return m.type;
  }
}

function parsed(bytes: Uint8Array, keyring?: Keyring): StreamMessage {
  const r = parseStream(bytes, keyring === undefined ? {} : { keyring });
  assert.equal(r.status, 'complete', r.status === 'error' ? r.error.message : 'incomplete stream');
  return (r as Extract<typeof r, { status: 'complete' }>).message;
}

// ------------------------------------------------------------------------------------ 0. start

describe('0. start (memberlist.go setAlive, state.go schedule)', () => {
  test('start adds us as alive (incarnation 1) with a join event, queues our alive, and arms the three loops with a random stagger', () => {
    const d = new Driver({ name: 'self' }).start();
    assert.deepEqual(eventKinds(d), ['join:self']);
    assert.deepEqual(d.ml.members().map((m) => [m.name, m.incarnation, m.state]), [['self', 1, NodeStateType.alive]]);
    const loops = new Map(d.timers.map((t) => [t.kind, t.atMs]));
    assert.deepEqual([...loops.keys()].sort(), ['gossip', 'probe', 'pushPull']);
    assert.ok(loops.get('probe')! < 1_000 && loops.get('gossip')! < 200 && loops.get('pushPull')! < 30_000);
    assert.deepEqual(piggybacked(d), [selfAlive(1)]);
  });
});

// ------------------------------------------------------------------------------------ 1. ping

describe('1. a ping is acked (net.go handlePing)', () => {
  test('a ping for us → ack with its SeqNo to SourceAddr:SourcePort (not the UDP source), with the ack payload', () => {
    const d = quiet({ delegates: { ackPayload: () => Uint8Array.of(1, 2, 3) } });
    d.receive({ ip: ipv4(192, 168, 1, 1), port: 40000 }, pingMsg(42, 'self', peerAddr(1)));
    const s = only(d.takeSent(), 'packet');
    assert.deepEqual(s.to, peerAddr(1));
    assert.deepEqual(s.messages[0], { type: 'ack', body: { SeqNo: 42, Payload: Uint8Array.of(1, 2, 3) } });
    // setAlive queued our own alive at start; sendMsg piggybacks it on the ack.
    assert.deepEqual(s.messages.slice(1), [selfAlive(1)]);
  });

  test('without Source fields (or with SourcePort 0) the ack goes to the UDP source; without a ping delegate Payload is nil', () => {
    const d = quiet();
    drain(d);
    const udp = { ip: ipv4(192, 168, 1, 1), port: 40000 };
    d.receive(udp, pingMsg(7, 'self'));
    const a = only(d.takeSent(), 'packet');
    assert.deepEqual(a.to, udp);
    assert.deepEqual(a.messages, [{ type: 'ack', body: { SeqNo: 7, Payload: null } }]);

    d.receive(udp, { type: 'ping', body: { SeqNo: 8, Node: 'self', SourceAddr: peerAddr(1).ip, SourcePort: 0, SourceNode: 'n1' } });
    assert.deepEqual(only(d.takeSent(), 'packet').to, udp);
  });

  test('a ping with an empty Node is for whoever gets it', () => {
    const d = quiet();
    d.receive(PROBER, pingMsg(5, ''));
    assert.deepEqual(only(d.takeSent(), 'packet').messages[0], { type: 'ack', body: { SeqNo: 5, Payload: null } });
  });

  test('a ping for another node name → no ack, a WARN log', () => {
    const d = quiet();
    d.receive(PROBER, pingMsg(5, 'someone-else', peerAddr(1)));
    assert.deepEqual(d.takeSent(), []);
    assert.ok(hasLog(d, 'WARN', "got ping for unexpected node 'someone-else'"));
  });
});

// ------------------------------------------------------------------------------------ 2. piggybacking

describe('2. piggybacking (net.go sendMsg)', () => {
  test('queued broadcasts ride on the ack as a compound [ack, alive…]', () => {
    const d = quiet();
    d.receive(PROBER, aliveMsg(1));
    d.takeSent();
    d.receive(PROBER, pingMsg(3, 'self'));
    const s = only(d.takeSent(), 'packet');
    assert.ok(s.layers.includes('compound'));
    assert.ok(s.bytes.length <= 1400);
    assert.deepEqual(s.messages[0], { type: 'ack', body: { SeqNo: 3, Payload: null } });
    const rest = s.messages.slice(1).map((m) => as(m, 'alive').body.Node).sort();
    assert.deepEqual(rest, ['n1', 'self']);
    assert.deepEqual(s.messages.find((m) => m.type === 'alive' && m.body.Node === 'n1'), aliveMsg(1));
  });

  test('piggybacking fills the packet up to UDPBufferSize (1400) and no further', () => {
    const d = quiet({ enableCompression: false });
    drain(d);
    const meta = new Uint8Array(200).fill(0x61);
    for (let i = 10; i < 40; i++) d.receive(PROBER, aliveMsg(i, 1, { Meta: meta }));
    d.takeSent();
    const ack = encodeMessage({ type: 'ack', body: { SeqNo: 1, Payload: null } });
    const alive = encodeMessage(aliveMsg(10, 1, { Meta: meta }));
    // bytesAvail = 1400 − len(ack) − compoundHeaderOverhead; each extra costs compoundOverhead + len.
    const fits = Math.floor((1400 - ack.length - 2) / (2 + alive.length));
    const seen = new Set<string>();
    for (let round = 0; round < 6; round++) {
      d.receive(PROBER, pingMsg(1, 'self'));
      const s = only(d.takeSent(), 'packet');
      assert.ok(s.bytes.length <= 1400, `packet of ${s.bytes.length} bytes`);
      if (round === 0) {
        assert.equal(s.messages.length - 1, fits);
        assert.equal(s.bytes.length, 2 + (2 + ack.length) + fits * (2 + alive.length));
      }
      for (const m of s.messages.slice(1)) seen.add(as(m, 'alive').body.Node);
    }
    assert.equal(seen.size, 30, 'successive packets carry the rest of the queue');
  });
});

// ------------------------------------------------------------------------------------ 3. alive

describe('3. alive messages (state.go aliveNode)', () => {
  test('an unknown node is added, joins, and the alive is re-broadcast as received', () => {
    const d = quiet();
    drain(d);
    d.receive(PROBER, aliveMsg(1, 3, { Meta: Uint8Array.of(7) }));
    const n = d.ml.node('n1');
    assert.ok(n !== undefined);
    assert.deepEqual(
      { state: n.state, incarnation: n.incarnation, addr: n.addr, port: n.port, meta: n.meta, vsn: n.vsn },
      { state: NodeStateType.alive, incarnation: 3, addr: peerAddr(1).ip, port: 7946, meta: Uint8Array.of(7), vsn: [1, 5, 2, 0, 0, 0] },
    );
    assert.deepEqual(eventKinds(d), ['join:n1']);
    assert.deepEqual(piggybacked(d), [aliveMsg(1, 3, { Meta: Uint8Array.of(7) })]);
  });

  test('the same incarnation is ignored; a higher one updates and is re-broadcast; a Meta change notifies an update', () => {
    const d = withPeers(1);
    d.receive(PROBER, aliveMsg(1, 1, { Meta: Uint8Array.of(9) }));
    assert.equal(d.ml.node('n1')?.meta.length, 0, 'same incarnation: not applied');
    assert.deepEqual(eventKinds(d), []);
    assert.deepEqual(piggybacked(d), []);

    d.receive(PROBER, aliveMsg(1, 2));
    assert.equal(d.ml.node('n1')?.incarnation, 2);
    assert.deepEqual(eventKinds(d), [], 'same meta: no update event');
    assert.deepEqual(piggybacked(d), [aliveMsg(1, 2)]);
    drain(d);

    d.receive(PROBER, aliveMsg(1, 3, { Meta: Uint8Array.of(9) }));
    const events = d.takeEvents();
    assert.equal(events.length, 1);
    assert.equal(events[0]?.kind, 'update');
    assert.deepEqual((events[0] as { node: NodeView }).node.meta, Uint8Array.of(9));
    assert.deepEqual(piggybacked(d), [aliveMsg(1, 3, { Meta: Uint8Array.of(9) })]);
  });

  test('a Vsn with PMin 0, PMax 0 or PMin > PMax is ignored with a WARN; an empty Vsn is accepted', () => {
    const d = quiet();
    drain(d);
    d.receive(PROBER, aliveMsg(1, 1, { Vsn: Uint8Array.of(0, 5, 2, 0, 0, 0) }));
    d.receive(PROBER, aliveMsg(2, 1, { Vsn: Uint8Array.of(1, 0, 2, 0, 0, 0) }));
    d.receive(PROBER, aliveMsg(3, 1, { Vsn: Uint8Array.of(4, 3, 3, 0, 0, 0) }));
    for (const name of ['n1', 'n2', 'n3']) assert.equal(d.ml.node(name), undefined, `${name} not added`);
    assert.equal(d.logs.filter((l) => l.level === 'WARN' && l.message.includes('protocol version')).length, 3);
    assert.deepEqual(piggybacked(d), []);
    assert.deepEqual(eventKinds(d), []);

    d.receive(PROBER, aliveMsg(4, 1, { Vsn: EMPTY }));
    assert.equal(stateOf(d, 'n4'), NodeStateType.alive);
  });

  test('an alive for a known name from another address → notifyConflict, not applied (even with a higher incarnation)', () => {
    const d = withPeers(1);
    const moved = { ip: ipv4(10, 0, 0, 200), port: 7946 };
    d.receive(PROBER, aliveMsg(1, 5, { Addr: moved.ip }));
    d.receive(PROBER, aliveMsg(1, 6, { Port: 8000 }));
    const n = d.ml.node('n1');
    assert.deepEqual([n?.addr, n?.port, n?.incarnation], [peerAddr(1).ip, 7946, 1]);
    const events = d.takeEvents();
    assert.deepEqual(events.map((e) => e.kind), ['conflict', 'conflict']);
    const first = events[0] as Extract<(typeof events)[number], { kind: 'conflict' }>;
    assert.deepEqual([first.existing.name, first.existing.addr, first.other.name, first.other.addr], ['n1', peerAddr(1).ip, 'n1', moved.ip]);
    assert.equal(d.ml.stats.conflicts, 2);
    assert.ok(hasLog(d, 'ERR', 'conflicting address for n1'));
    assert.deepEqual(piggybacked(d), []);
  });

  test('after the node has left, an alive from a new address takes the name over (whatever its incarnation)', () => {
    const d = withPeers(1);
    d.receive(PROBER, { type: 'dead', body: { Incarnation: 4, Node: 'n1', From: 'n1' } });
    assert.equal(stateOf(d, 'n1'), NodeStateType.left);
    d.takeEvents();
    drain(d);
    const moved = { ip: ipv4(10, 0, 0, 200), port: 7000 };
    d.receive(PROBER, aliveMsg(1, 1, { Addr: moved.ip, Port: moved.port }));
    const n = d.ml.node('n1');
    assert.deepEqual([n?.state, n?.addr, n?.port, n?.incarnation], [NodeStateType.alive, moved.ip, 7000, 1]);
    assert.deepEqual(eventKinds(d), ['join:n1']);
    assert.deepEqual(piggybacked(d), [aliveMsg(1, 1, { Addr: moved.ip, Port: moved.port })]);
  });

  test('with deadNodeReclaimTimeMs, a dead node is reclaimed from a new address only once that time has passed', () => {
    const d = withPeers(2, { deadNodeReclaimTimeMs: 10_000 });
    d.now = 1_000;
    d.receive(PROBER, { type: 'dead', body: { Incarnation: 1, Node: 'n1', From: 'n2' } });
    assert.equal(stateOf(d, 'n1'), NodeStateType.dead);
    d.takeEvents();
    const moved = ipv4(10, 0, 0, 200);
    d.now = 11_000; // time.Since(StateChange) > DeadNodeReclaimTime is strict
    d.receive(PROBER, aliveMsg(1, 2, { Addr: moved }));
    assert.equal(stateOf(d, 'n1'), NodeStateType.dead);
    assert.deepEqual(eventKinds(d), ['conflict:n1']);
    d.now = 11_001;
    d.receive(PROBER, aliveMsg(1, 1, { Addr: moved }));
    assert.deepEqual([stateOf(d, 'n1'), d.ml.node('n1')?.addr], [NodeStateType.alive, moved]);
    assert.deepEqual(eventKinds(d), ['join:n1']);
  });

  test('with deadNodeReclaimTimeMs 0 (Serf default) a dead node is never reclaimed from another address', () => {
    const d = withPeers(2);
    d.receive(PROBER, { type: 'dead', body: { Incarnation: 1, Node: 'n1', From: 'n2' } });
    d.takeEvents();
    d.now = 10_000_000;
    d.receive(PROBER, aliveMsg(1, 9, { Addr: ipv4(10, 0, 0, 200) }));
    assert.equal(stateOf(d, 'n1'), NodeStateType.dead);
    assert.deepEqual(eventKinds(d), ['conflict:n1']);
    // From its own address it comes back as usual.
    d.receive(PROBER, aliveMsg(1, 2));
    assert.equal(stateOf(d, 'n1'), NodeStateType.alive);
    assert.deepEqual(eventKinds(d), ['join:n1']);
  });

  test('an alive with Port 0 takes our BindPort (net.go handleAlive: "ProtocolVersion() < 2 || live.Port == 0")', () => {
    const d = quiet({ bindPort: 7946 });
    d.receive(PROBER, aliveMsg(1, 1, { Port: 0 }));
    assert.equal(d.ml.node('n1')?.port, 7946);
  });
});

// ------------------------------------------------------------------------------------ 4. suspect / dead

describe('4. suspect and dead about another node (state.go suspectNode, deadNode; suspicion.go)', () => {
  const suspicionOnly = ['suspicion'];

  test('LAN, n = 5: the suspicion timer starts at max = 24 s (k = 2 ≥ 1); confirmations move it towards min = 4 s; expiry kills', () => {
    const d = withPeers(4);
    d.now = 10_000;
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: 'n4', From: 'n1' } });
    assert.equal(stateOf(d, 'n4'), NodeStateType.suspect);
    assert.equal(d.ml.stats.suspicionsStarted, 1);
    // min = SuspicionMult 4 × max(1, log10 5) × 1 s = 4 s; max = SuspicionMaxTimeoutMult 6 × min.
    assert.equal(d.lastTimer('suspicion')?.atMs, 10_000 + 24_000);
    assert.deepEqual(piggybacked(d), [{ type: 'suspect', body: { Incarnation: 1, Node: 'n4', From: 'n1' } }]);
    drain(d);

    // One independent confirmation of k = 2: max − log(2)/log(3) × (max − min), floored to ms.
    d.now = 11_000;
    const timersBefore = d.timers.length;
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: 'n4', From: 'n2' } });
    assert.equal(d.lastTimer('suspicion')?.atMs, 10_000 + Math.floor(1000 * (24 - (Math.log(2) / Math.log(3)) * 20)));
    assert.equal(d.lastTimer('suspicion')?.atMs, 21_381);
    assert.deepEqual(piggybacked(d), [{ type: 'suspect', body: { Incarnation: 1, Node: 'n4', From: 'n2' } }], 'a new confirmation is re-gossiped');
    drain(d);

    // The same confirmer again, or the accuser, changes nothing.
    const timersAfterFirst = d.timers.length;
    assert.equal(timersAfterFirst, timersBefore + 1);
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: 'n4', From: 'n2' } });
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: 'n4', From: 'n1' } });
    assert.equal(d.timers.length, timersAfterFirst);
    assert.deepEqual(piggybacked(d), []);

    // The k-th confirmation brings it down to min from the start.
    d.now = 12_000;
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: 'n4', From: 'n3' } });
    assert.equal(d.lastTimer('suspicion')?.atMs, 14_000);
    const timersAtK = d.timers.length;
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: 'n4', From: 'n9' } });
    assert.equal(d.timers.length, timersAtK, 'no more than k confirmations count');
    drain(d);
    d.takeEvents();

    d.advanceTo(13_999, suspicionOnly);
    assert.equal(stateOf(d, 'n4'), NodeStateType.suspect);
    d.advanceTo(14_000, suspicionOnly);
    assert.equal(stateOf(d, 'n4'), NodeStateType.dead);
    const events = d.takeEvents();
    assert.deepEqual(events.map((e) => e.kind), ['leave']);
    assert.equal((events[0] as { node: NodeView }).node.state, NodeStateType.dead);
    assert.ok(hasLog(d, 'INFO', 'marking n4 as failed, suspect timeout reached (2 peer confirmations)'));
    assert.equal(d.ml.stats.declaredDead, 1);
    assert.deepEqual(piggybacked(d), [{ type: 'dead', body: { Incarnation: 1, Node: 'n4', From: 'self' } }]);

    // The replaced timers are stale: nothing more happens.
    d.advanceTo(60_000, suspicionOnly);
    assert.deepEqual(d.takeEvents(), []);
  });

  test('LAN, n = 3: k = 0 (n − 2 < SuspicionMult − 2), so the timer starts at min = 4 s', () => {
    const d = withPeers(2);
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: 'n2', From: 'n1' } });
    assert.equal(d.lastTimer('suspicion')?.atMs, d.now + 4_000);
    d.advanceBy(4_000, suspicionOnly);
    assert.equal(stateOf(d, 'n2'), NodeStateType.dead);
    assert.ok(hasLog(d, 'INFO', 'marking n2 as failed, suspect timeout reached (0 peer confirmations)'));
  });

  test('LAN, n = 20: min = 4 × floor(1000 × log10 20) ms = 5204 ms, max = 31224 ms', () => {
    const d = withPeers(19);
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: 'n7', From: 'n1' } });
    assert.equal(d.lastTimer('suspicion')?.atMs, d.now + 31_224);
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: 'n7', From: 'n2' } });
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: 'n7', From: 'n3' } });
    assert.equal(d.lastTimer('suspicion')?.atMs, d.now + 5_204);
  });

  test('an alive with a higher incarnation clears the suspicion', () => {
    const d = withPeers(2);
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: 'n2', From: 'n1' } });
    d.receive(PROBER, aliveMsg(2, 2));
    assert.equal(stateOf(d, 'n2'), NodeStateType.alive);
    d.advanceBy(60_000, suspicionOnly);
    assert.equal(stateOf(d, 'n2'), NodeStateType.alive);
    assert.deepEqual(eventKinds(d), []);
  });

  test('dead with From == Node → left; dead from another node → dead; both notify leave and are re-broadcast', () => {
    const d = withPeers(3);
    d.receive(PROBER, { type: 'dead', body: { Incarnation: 1, Node: 'n1', From: 'n1' } });
    d.receive(PROBER, { type: 'dead', body: { Incarnation: 2, Node: 'n2', From: 'n3' } });
    assert.equal(stateOf(d, 'n1'), NodeStateType.left);
    assert.equal(stateOf(d, 'n2'), NodeStateType.dead);
    assert.equal(d.ml.node('n2')?.incarnation, 2);
    const events = d.takeEvents();
    assert.deepEqual(events.map((e) => [e.kind, (e as { node: NodeView }).node.name, (e as { node: NodeView }).node.state]), [
      ['leave', 'n1', NodeStateType.left],
      ['leave', 'n2', NodeStateType.dead],
    ]);
    const gossip = piggybacked(d).map((m) => as(m, 'dead').body).sort((a, b) => a.Node.localeCompare(b.Node));
    assert.deepEqual(gossip, [{ Incarnation: 1, Node: 'n1', From: 'n1' }, { Incarnation: 2, Node: 'n2', From: 'n3' }]);
    assert.deepEqual(d.ml.members().map((m) => m.name).sort(), ['n3', 'self']);

    // Already dead or left: ignored, no second event or broadcast.
    drain(d);
    d.receive(PROBER, { type: 'dead', body: { Incarnation: 3, Node: 'n2', From: 'n3' } });
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 3, Node: 'n2', From: 'n3' } });
    assert.deepEqual(d.takeEvents(), []);
    assert.deepEqual(piggybacked(d), []);
  });

  test('suspect or dead with a lower incarnation than known, or about an unknown node, is ignored', () => {
    const d = withPeers(2);
    d.receive(PROBER, aliveMsg(1, 5));
    drain(d);
    const timers = d.timers.length;
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 4, Node: 'n1', From: 'n2' } });
    d.receive(PROBER, { type: 'dead', body: { Incarnation: 4, Node: 'n1', From: 'n2' } });
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 9, Node: 'ghost', From: 'n2' } });
    d.receive(PROBER, { type: 'dead', body: { Incarnation: 9, Node: 'ghost', From: 'n2' } });
    assert.equal(stateOf(d, 'n1'), NodeStateType.alive);
    assert.equal(d.ml.node('ghost'), undefined);
    assert.equal(d.timers.length, timers, 'no suspicion timer');
    assert.deepEqual(d.takeEvents(), []);
    assert.deepEqual(piggybacked(d), []);
  });
});

// ------------------------------------------------------------------------------------ 5. refutation

describe('5. refutation (state.go refute)', () => {
  test('a suspect about us → alive with incarnation accused + 1 (never below ours + 1), health +1', () => {
    const d = withPeers(1);
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: 'self', From: 'n1' } });
    assert.equal(stateOf(d, 'self'), NodeStateType.alive);
    assert.equal(d.ml.localNode().incarnation, 2);
    assert.equal(d.ml.healthScore(), 1);
    assert.equal(d.ml.stats.refutations, 1);
    assert.ok(hasLog(d, 'WARN', 'refuting a suspect message (from: n1)'));
    assert.deepEqual(piggybacked(d), [selfAlive(2)]);
    drain(d);

    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 10, Node: 'self', From: 'n1' } });
    assert.deepEqual(piggybacked(d), [selfAlive(11)]);
    assert.equal(d.ml.healthScore(), 2);
    drain(d);

    // Ours is 11 now: an accusation at 11 is beaten by 12; one at 3 is old news.
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 3, Node: 'self', From: 'n1' } });
    assert.deepEqual(piggybacked(d), []);
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 11, Node: 'self', From: 'n1' } });
    assert.deepEqual(piggybacked(d), [selfAlive(12)]);
    assert.equal(d.ml.healthScore(), 3);
    assert.deepEqual(d.takeEvents(), []);
  });

  test('a dead about us → refuted the same way; we stay alive', () => {
    const d = withPeers(1);
    d.receive(PROBER, { type: 'dead', body: { Incarnation: 6, Node: 'self', From: 'n1' } });
    assert.equal(stateOf(d, 'self'), NodeStateType.alive);
    assert.ok(hasLog(d, 'WARN', 'refuting a dead message (from: n1)'));
    assert.deepEqual(piggybacked(d), [selfAlive(7)]);
    assert.equal(d.ml.healthScore(), 1);
    assert.deepEqual(d.takeEvents(), []);
  });

  test('an alive about us: equal incarnation and identical Meta/Vsn → nothing; different data or a higher incarnation → refute', () => {
    const d = withPeers(1);
    d.receive(PROBER, selfAlive(1));
    assert.deepEqual(piggybacked(d), []);
    assert.equal(d.ml.healthScore(), 0);

    d.receive(PROBER, selfAlive(0, Uint8Array.of(1)));
    assert.deepEqual(piggybacked(d), [], 'a lower incarnation about us is ignored');

    d.receive(PROBER, selfAlive(1, Uint8Array.of(1)));
    assert.deepEqual(piggybacked(d), [selfAlive(2)], 'other meta at our incarnation is refuted with our own data');
    assert.equal(d.ml.healthScore(), 1);
    drain(d);

    d.receive(PROBER, selfAlive(5));
    assert.deepEqual(piggybacked(d), [selfAlive(6)]);
    assert.equal(d.ml.healthScore(), 2);
  });

  test('health is capped at AwarenessMaxMultiplier − 1 = 7', () => {
    const d = withPeers(1);
    for (let i = 1; i <= 12; i++) d.receive(PROBER, { type: 'suspect', body: { Incarnation: d.ml.localNode().incarnation, Node: 'self', From: 'n1' } });
    assert.equal(d.ml.healthScore(), 7);
    assert.equal(d.ml.localNode().incarnation, 13);
  });

  test('the refute broadcast is named by our IP string (me.Addr.String()), so it replaces a queued alive of a node of that name', () => {
    // Named after our IP, our own start-up alive and the refute share memberlist's broadcast
    // name "10.0.0.1": the refute invalidates the stale incarnation-1 alive.
    const d = new Driver({ name: '10.0.0.1', gossipNodes: 0, pushPullIntervalMs: 0 }).start();
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: '10.0.0.1', From: 'n1' } });
    const incarnations = piggybacked(d).map((m) => as(m, 'alive').body.Incarnation);
    assert.deepEqual(incarnations, [2]);
  });
});

// ------------------------------------------------------------------------------------ 6. probing

describe('6. probing (state.go probe, probeNode)', () => {
  /** Fires the first probe tick and returns the ping it sent. */
  function firstProbe(d: Driver): { tickMs: number; target: string; index: number } {
    d.takeSent();
    const tick = d.lastTimer('probe');
    assert.ok(tick !== undefined);
    d.advanceTo(tick.atMs);
    const s = only(d.takeSent(), 'ping packet');
    const ping = as(s.messages[0], 'ping');
    const index = Number(ping.body.Node.slice(1));
    assert.deepEqual(s.to, peerAddr(index));
    assert.deepEqual(ping.body, { SeqNo: 1, Node: ping.body.Node, SourceAddr: SELF.ip, SourcePort: SELF.port, SourceNode: 'self' });
    return { tickMs: tick.atMs, target: ping.body.Node, index };
  }

  test('an ack in the direct phase → notifyPingComplete with the RTT and payload; no indirect probe, no suspicion', () => {
    const d = withPeers(1);
    const { tickMs, target } = firstProbe(d);
    assert.equal(target, 'n1');
    assert.equal(d.lastTimer('probeTimeout')?.atMs, tickMs + 500);
    d.advanceTo(tickMs + 120);
    d.receive(peerAddr(1), { type: 'ack', body: { SeqNo: 1, Payload: Uint8Array.of(4, 2) } });
    const events = d.takeEvents();
    assert.equal(events.length, 1);
    const e = events[0] as Extract<(typeof events)[number], { kind: 'pingComplete' }>;
    assert.deepEqual([e.kind, e.node.name, e.rttMs, e.payload], ['pingComplete', 'n1', 120, Uint8Array.of(4, 2)]);
    d.advanceTo(tickMs + 999);
    assert.deepEqual(d.takeSent(), []);
    assert.deepEqual(d.takeStreams(), []);
    assert.equal(stateOf(d, 'n1'), NodeStateType.alive);
    assert.equal(d.ml.healthScore(), 0);
  });

  test('no ack within ProbeTimeout → indirect pings (Nack for PMax ≥ 4) to up to IndirectChecks peers and a TCP fallback ping; then suspect, health +(expected − nacks)', () => {
    const d = withPeers(4);
    const { tickMs, target, index } = firstProbe(d);
    d.advanceTo(tickMs + 499);
    assert.deepEqual(d.takeSent(), []);
    d.advanceTo(tickMs + 500);
    assert.ok(hasLog(d, 'DEBUG', `failed ping: ${target} (timeout reached)`));

    // kRandomNodes(IndirectChecks = 3, …) makes 3n random picks, so it may find fewer than 3 of
    // the three candidates: up to 3 distinct alive peers, never us or the target.
    const indirect = d.takeSent();
    const others = [1, 2, 3, 4].filter((i) => i !== index);
    const asked = indirect.map((s) => (s.to.ip[3] as number) - 10);
    assert.ok(asked.length >= 1 && asked.length <= 3, `${asked.length} indirect pings`);
    assert.equal(new Set(asked).size, asked.length, 'distinct peers');
    assert.ok(asked.every((i) => others.includes(i)), `asked ${asked.join(', ')}, candidates ${others.join(', ')}`);
    for (const s of indirect) {
      assert.deepEqual(as(s.messages[0], 'indirectPing').body, {
        SeqNo: 1, Target: peerAddr(index).ip, Port: 7946, Node: target, Nack: true,
        SourceAddr: SELF.ip, SourcePort: SELF.port, SourceNode: 'self',
      });
    }
    const fallback = only(d.takeStreams(), 'TCP fallback');
    assert.deepEqual([fallback.to, fallback.expectReply, fallback.deadlineMs], [peerAddr(index), true, tickMs + 1_000]);
    assert.deepEqual(parsed(fallback.bytes), {
      type: 'ping', body: { SeqNo: 1, Node: target, SourceAddr: SELF.ip, SourcePort: SELF.port, SourceNode: 'self' },
    });

    // One of the expected nacks comes back.
    d.receive(peerAddr(asked[0]!), { type: 'nack', body: { SeqNo: 1 } });
    d.advanceTo(tickMs + 1_000);
    assert.equal(stateOf(d, target), NodeStateType.alive, 'the fallback is still out: memberlist waits for it');
    d.takeSent();
    d.streamResult(fallback.id, { ok: false, reason: 'i/o timeout' });
    assert.equal(stateOf(d, target), NodeStateType.suspect);
    assert.ok(hasLog(d, 'INFO', `suspect ${target} has failed, no acks received`));
    assert.equal(d.ml.healthScore(), asked.length - 1);
    assert.equal(d.ml.stats.failedProbes, 1);
    assert.equal(d.lastTimer('suspicion')?.atMs, tickMs + 1_000 + 24_000);

    // The tick that came while the probe ran starts the next probe at once, its interval
    // scaled by the health score (ProbeTimeout is not scaled).
    const next = as(only(d.takeSent(), 'next ping').messages[0], 'ping');
    assert.equal(next.body.SeqNo, 2);
    assert.equal(d.lastTimer('probeTimeout')?.atMs, d.now + 500);
    assert.equal(d.lastTimer('probeEnd')?.atMs, d.now + (asked.length - 1 + 1) * 1_000);
  });

  test('a failed probe whose indirect peers all nacked leaves health unchanged', () => {
    const d = withPeers(4);
    const { tickMs, index } = firstProbe(d);
    d.advanceTo(tickMs + 500);
    const asked = d.takeSent().map((s) => s.to);
    assert.ok(asked.length > 0 && !asked.some((a) => a.ip[3] === peerAddr(index).ip[3]));
    const fallback = only(d.takeStreams(), 'TCP fallback');
    for (const a of asked) d.receive(a, { type: 'nack', body: { SeqNo: 1 } });
    d.streamResult(fallback.id, { ok: false, reason: 'connection refused' });
    d.advanceTo(tickMs + 1_000);
    assert.equal(stateOf(d, `n${index}`), NodeStateType.suspect);
    assert.equal(d.ml.healthScore(), 0);
  });

  test('peers with PMax < 4 get Nack = false; with no nack expected a failed probe costs +1', () => {
    const d = withPeers(2, {}, () => 3);
    const { tickMs, index } = firstProbe(d);
    d.advanceTo(tickMs + 500);
    const ind = only(d.takeSent(), 'indirect ping');
    assert.deepEqual(ind.to, peerAddr(3 - index));
    assert.equal(as(ind.messages[0], 'indirectPing').body.Nack, false);
    const fallback = only(d.takeStreams(), 'TCP fallback (PMax 3)');
    d.streamResult(fallback.id, { ok: false, reason: 'connection refused' });
    d.advanceTo(tickMs + 1_000);
    assert.equal(stateOf(d, `n${index}`), NodeStateType.suspect);
    assert.equal(d.ml.healthScore(), 1);
  });

  test('no TCP fallback to a node with PMax < 3 or with DisableTcpPings', () => {
    for (const [pMax, disable] of [[2, false], [5, true]] as const) {
      const d = withPeers(1, { disableTcpPings: disable }, () => pMax);
      const { tickMs } = firstProbe(d);
      d.advanceTo(tickMs + 500);
      assert.deepEqual(d.takeStreams(), []);
      d.advanceTo(tickMs + 1_000);
      assert.equal(stateOf(d, 'n1'), NodeStateType.suspect, `PMax ${pMax}, disableTcpPings ${disable}`);
      assert.equal(d.ml.healthScore(), 1, 'no indirect peers: +1');
    }
  });

  test('a successful TCP fallback keeps the node alive with a WARN ("network may be misconfigured")', () => {
    const d = withPeers(1);
    const { tickMs } = firstProbe(d);
    d.advanceTo(tickMs + 500);
    const fallback = only(d.takeStreams(), 'TCP fallback');
    d.advanceTo(tickMs + 700);
    d.streamResult(fallback.id, { ok: true, message: { type: 'ack', body: { SeqNo: 1, Payload: null } } });
    d.advanceTo(tickMs + 1_000);
    assert.equal(stateOf(d, 'n1'), NodeStateType.alive);
    assert.ok(hasLog(d, 'WARN', 'was able to connect to n1 but other probes failed'));
    assert.equal(d.ml.healthScore(), 0);
    assert.deepEqual(d.takeEvents(), [], 'no RTT for a fallback');
  });

  test('an ack relayed in the indirect phase ends the probe: no suspicion, no RTT notification', () => {
    const d = withPeers(3);
    const { tickMs, target, index } = firstProbe(d);
    d.advanceTo(tickMs + 500);
    d.takeSent();
    const fallback = only(d.takeStreams(), 'TCP fallback');
    const relay = [1, 2, 3].find((i) => i !== index)!;
    d.advanceTo(tickMs + 600);
    d.receive(peerAddr(relay), { type: 'ack', body: { SeqNo: 1, Payload: null } });
    d.streamResult(fallback.id, { ok: false, reason: 'late' });
    d.advanceTo(tickMs + 999);
    assert.equal(stateOf(d, target), NodeStateType.alive);
    assert.deepEqual(d.takeEvents(), []);
    assert.equal(d.ml.healthScore(), 0);
  });
});

// ------------------------------------------------------------------------------------ 7. relay

describe('7. indirect ping as relay (net.go handleIndirectPing)', () => {
  const UDP_SOURCE: Address = { ip: ipv4(172, 16, 0, 5), port: 40000 };

  function indirect(extra: Partial<Msg<'indirectPing'>['body']> = {}): MemberlistMessage {
    return {
      type: 'indirectPing',
      body: {
        SeqNo: 77, Target: peerAddr(2).ip, Port: 8000, Node: 'n2', Nack: true,
        SourceAddr: peerAddr(1).ip, SourcePort: 7946, SourceNode: 'n1', ...extra,
      },
    };
  }

  test('→ a ping with a fresh SeqNo to Target:Port; the target’s ack → an ack with the requester’s SeqNo to the requester; no nack', () => {
    const d = quiet();
    drain(d);
    d.receive(UDP_SOURCE, indirect());
    const out = only(d.takeSent(), 'ping');
    assert.deepEqual(out.to, { ip: peerAddr(2).ip, port: 8000 });
    assert.deepEqual(out.messages, [{ type: 'ping', body: { SeqNo: 1, Node: 'n2', SourceAddr: SELF.ip, SourcePort: SELF.port, SourceNode: 'self' } }]);

    d.advanceBy(100);
    d.receive({ ip: peerAddr(2).ip, port: 8000 }, { type: 'ack', body: { SeqNo: 1, Payload: Uint8Array.of(3) } });
    const relayed = only(d.takeSent(), 'relayed ack');
    assert.deepEqual(relayed.to, peerAddr(1));
    assert.deepEqual(relayed.messages, [{ type: 'ack', body: { SeqNo: 77, Payload: null } }]);

    d.advanceBy(1_000, ['nack', 'ackTimeout']);
    assert.deepEqual(d.takeSent(), []);
  });

  test('no ack within ProbeTimeout and Nack = true → a nack with the requester’s SeqNo; a late ack is not relayed', () => {
    const d = quiet();
    drain(d);
    d.receive(UDP_SOURCE, indirect());
    d.takeSent();
    d.advanceBy(499, ['nack', 'ackTimeout']);
    assert.deepEqual(d.takeSent(), []);
    d.advanceBy(1, ['nack', 'ackTimeout']);
    const nack = only(d.takeSent(), 'nack');
    assert.deepEqual(nack.to, peerAddr(1));
    assert.deepEqual(nack.messages, [{ type: 'nack', body: { SeqNo: 77 } }]);
    d.receive({ ip: peerAddr(2).ip, port: 8000 }, { type: 'ack', body: { SeqNo: 1, Payload: null } });
    assert.deepEqual(d.takeSent(), []);
  });

  test('Nack = false → silence when the target does not answer', () => {
    const d = quiet();
    drain(d);
    d.receive(UDP_SOURCE, indirect({ Nack: false }));
    d.takeSent();
    d.advanceBy(2_000, ['nack', 'ackTimeout']);
    assert.deepEqual(d.takeSent(), []);
  });

  test('without SourceAddr the requester is the UDP source; Port 0 means our BindPort', () => {
    const d = quiet();
    drain(d);
    d.receive(UDP_SOURCE, { type: 'indirectPing', body: { SeqNo: 5, Target: peerAddr(2).ip, Port: 0, Node: 'n2', Nack: true } });
    assert.deepEqual(only(d.takeSent(), 'ping').to, { ip: peerAddr(2).ip, port: 7946 });
    d.advanceBy(500, ['nack', 'ackTimeout']);
    assert.deepEqual(only(d.takeSent(), 'nack').to, UDP_SOURCE);
  });

  test('SourceAddr with SourcePort 0 also means the UDP source ("len(ind.SourceAddr) > 0 && ind.SourcePort > 0")', () => {
    const d = quiet();
    drain(d);
    d.receive(UDP_SOURCE, indirect({ SourcePort: 0 }));
    d.takeSent();
    d.advanceBy(500, ['nack', 'ackTimeout']);
    assert.deepEqual(only(d.takeSent(), 'nack').to, UDP_SOURCE);
  });
});

// ------------------------------------------------------------------------------------ 8. buddy

describe('8. buddy system (probeNode for a non-alive node)', () => {
  for (const pMax of [5, 4]) {
    test(`probing a suspect node with PMax ${pMax} sends exactly a compound [ping, suspect]${pMax >= 5 ? ' with a CRC' : ', no CRC'}, nothing piggybacked`, () => {
      const d = withPeers(1, {}, () => pMax);
      d.receive(PROBER, { type: 'suspect', body: { Incarnation: 1, Node: 'n1', From: 'n9' } });
      assert.equal(stateOf(d, 'n1'), NodeStateType.suspect);
      d.takeSent();
      const tick = d.lastTimer('probe')!;
      d.advanceTo(tick.atMs);
      const s = only(d.takeSent(), 'buddy packet');
      assert.deepEqual(s.to, peerAddr(1));
      assert.deepEqual(s.layers.filter((l) => l !== 'compress'), pMax >= 5 ? ['crc', 'compound'] : ['compound']);
      assert.deepEqual(s.messages, [
        { type: 'ping', body: { SeqNo: 1, Node: 'n1', SourceAddr: SELF.ip, SourcePort: SELF.port, SourceNode: 'self' } },
        { type: 'suspect', body: { Incarnation: 1, Node: 'n1', From: 'self' } },
      ]);
    });
  }
});

// ------------------------------------------------------------------------------------ 9. streams

describe('9. streams: push/pull and stream ping (net.go handleConn, mergeRemoteState; memberlist.go Join)', () => {
  const selfState = (incarnation = 1): PushNodeState => pushState('self', 0, NodeStateType.alive, incarnation);

  test('a push/pull with Join = true is answered with our state (taken before merging) and Join echoed; the remote alive joins', () => {
    const merged: Array<[Uint8Array, boolean]> = [];
    const d = quiet({
      delegates: { localState: (join) => Uint8Array.of(join ? 1 : 0, 0xee), mergeRemoteState: (_now, state, join) => merged.push([state, join]) },
    });
    const reply = d.ml.handleStream(d.now, peerAddr(1), pushPull(true, [pushState('n1', 1, NodeStateType.alive)], Uint8Array.of(0xab)));
    assert.ok(reply !== null);
    assert.deepEqual(parsed(reply), pushPull(true, [selfState()], Uint8Array.of(1, 0xee)));
    d.collect();
    assert.equal(stateOf(d, 'n1'), NodeStateType.alive);
    assert.deepEqual(eventKinds(d), ['join:n1']);
    assert.deepEqual(merged, [[Uint8Array.of(0xab), true]]);
  });

  test('remote states merge as memberlist does: alive → alive, left → left, dead and suspect → only suspected (From = us)', () => {
    const d = withPeers(4);
    const reply = d.ml.handleStream(d.now, peerAddr(1), pushPull(false, [
      pushState('n1', 1, NodeStateType.alive),
      pushState('n2', 2, NodeStateType.left),
      pushState('n3', 3, NodeStateType.dead),
      pushState('n4', 4, NodeStateType.suspect),
      pushState('n5', 5, NodeStateType.dead),
      pushState('n6', 6, NodeStateType.alive),
    ]));
    assert.ok(reply !== null);
    const answer = parsed(reply);
    assert.equal(answer.type === 'pushPull' && answer.header.Join, false);
    d.collect();
    assert.deepEqual(['n1', 'n2', 'n3', 'n4', 'n5', 'n6'].map((n) => stateOf(d, n)), [
      NodeStateType.alive, NodeStateType.left, NodeStateType.suspect, NodeStateType.suspect, undefined, NodeStateType.alive,
    ]);
    const gossip = piggybacked(d).map(summary).sort();
    assert.deepEqual(gossip, ['alive:n6', 'dead:n2 from n2', 'suspect:n3 from self', 'suspect:n4 from self']);
  });

  test('a push/pull that lists us as dead makes us refute', () => {
    const d = withPeers(1);
    d.ml.handleStream(d.now, peerAddr(1), pushPull(false, [pushState('self', 0, NodeStateType.dead, 3)]));
    d.collect();
    assert.equal(d.ml.localNode().incarnation, 4);
    assert.deepEqual(piggybacked(d), [selfAlive(4)]);
  });

  test('a remote node with Port 0 takes our BindPort (net.go readRemoteState)', () => {
    const d = quiet({ bindPort: 7946 });
    d.ml.handleStream(d.now, peerAddr(1), pushPull(false, [{ ...pushState('n1', 1, NodeStateType.alive), Port: 0 }]));
    assert.equal(d.ml.node('n1')?.port, 7946);
  });

  test('a stream ping for us → ack with Payload nil (even with a ping delegate); for another name → no answer', () => {
    const d = quiet({ delegates: { ackPayload: () => Uint8Array.of(1) } });
    const reply = d.ml.handleStream(d.now, peerAddr(1), { type: 'ping', body: { SeqNo: 31, Node: 'self' } });
    assert.ok(reply !== null);
    assert.deepEqual(parsed(reply), { type: 'ack', body: { SeqNo: 31, Payload: null } });
    assert.equal(d.ml.handleStream(d.now, peerAddr(1), { type: 'ping', body: { SeqNo: 32, Node: 'other' } }), null);
    d.collect();
    assert.ok(hasLog(d, 'WARN', 'got ping for unexpected node other'));
  });

  test('join() opens a push/pull stream with Join = true; the reply is merged and the callback gets (1, [])', () => {
    const d = quiet();
    const results: Array<[number, string[]]> = [];
    d.ml.join(d.now, [peerAddr(1)], (n, errors) => results.push([n, errors]));
    d.collect();
    const s = only(d.takeStreams(), 'join stream');
    assert.deepEqual([s.to, s.expectReply, s.deadlineMs], [peerAddr(1), true, d.now + 10_000]);
    assert.deepEqual(parsed(s.bytes), pushPull(true, [selfState()]));
    assert.deepEqual(results, []);
    d.streamResult(s.id, { ok: true, message: pushPull(true, [pushState('n1', 1, NodeStateType.alive), selfState()]) });
    assert.deepEqual(results, [[1, []]]);
    assert.equal(stateOf(d, 'n1'), NodeStateType.alive);
    assert.deepEqual(eventKinds(d), ['join:n1']);
  });

  test('join(): an errMsg reply or a failed stream is an error for that address', () => {
    const d = quiet();
    const results: Array<[number, string[]]> = [];
    d.ml.join(d.now, [peerAddr(1), peerAddr(2), peerAddr(3)], (n, errors) => results.push([n, errors]));
    d.collect();
    const [a, b, c] = d.takeStreams();
    d.streamResult(a!.id, { ok: true, message: { type: 'err', body: { Error: 'boom' } } });
    d.streamResult(b!.id, { ok: false, reason: 'connection refused' });
    assert.equal(results.length, 0);
    d.streamResult(c!.id, { ok: true, message: pushPull(true, [pushState('n3', 3, NodeStateType.alive)]) });
    assert.equal(results.length, 1);
    const [n, errors] = results[0]!;
    assert.equal(n, 1);
    assert.equal(errors.length, 2);
    assert.match(errors[0]!, /10\.0\.0\.11:7946.*remote error: boom/);
    assert.match(errors[1]!, /10\.0\.0\.12:7946.*connection refused/);
  });

  test('the periodic push/pull goes to an alive peer with Join = false, every PushPullInterval', () => {
    const d = new Driver({ name: 'self', gossipNodes: 0 }).start();
    d.receive(PROBER, aliveMsg(1));
    const tick = d.lastTimer('pushPull')!;
    assert.ok(tick.atMs < 30_000, 'first push/pull within one interval (random stagger)');
    d.advanceTo(tick.atMs, ['pushPull']);
    const s = only(d.takeStreams(), 'push/pull');
    assert.deepEqual(s.to, peerAddr(1));
    const m = parsed(s.bytes);
    assert.equal(m.type === 'pushPull' && m.header.Join, false);
    assert.equal(d.lastTimer('pushPull')?.atMs, tick.atMs + 30_000);
  });
});

// ------------------------------------------------------------------------------------ 10. leave

describe('10. leave (memberlist.go Leave)', () => {
  const isOurDead = (m: MemberlistMessage): boolean => m.type === 'dead' && m.body.Node === 'self' && m.body.From === 'self';

  test('broadcasts dead{Node = From = self}; done fires when it has gone out retransmitLimit (4 for n = 2) times', () => {
    const d = new Driver({ name: 'self', pushPullIntervalMs: 0 }).start();
    d.receive(PROBER, aliveMsg(1));
    drain(d);
    d.takeEvents();
    const done: boolean[] = [];
    d.ml.leave(d.now, 0, (timedOut) => done.push(timedOut));
    d.collect();
    assert.equal(stateOf(d, 'self'), NodeStateType.left);
    assert.deepEqual(eventKinds(d), ['leave:self']);
    assert.equal(d.ml.hasLeft, true);
    assert.deepEqual(done, []);

    let sends = 0;
    for (let i = 0; i < 50 && done.length === 0; i++) {
      d.step(Infinity, ['gossip']);
      for (const s of d.takeSent()) {
        const dead = s.messages.filter(isOurDead);
        if (dead.length === 0) continue;
        assert.deepEqual(dead, [{ type: 'dead', body: { Incarnation: 1, Node: 'self', From: 'self' } }]);
        assert.deepEqual(s.to, peerAddr(1));
        sends++;
      }
      if (sends < 4) assert.deepEqual(done, [], `not done after ${sends} sends`);
    }
    assert.equal(sends, 4);
    assert.deepEqual(done, [false]);
    for (let i = 0; i < 5; i++) d.step(Infinity, ['gossip']);
    assert.ok(d.takeSent().every((s) => !s.messages.some(isOurDead)), 'the broadcast is used up');
  });

  test('done fires at once when no other node is alive', () => {
    const d = quiet();
    const done: boolean[] = [];
    d.ml.leave(d.now, 5_000, (timedOut) => done.push(timedOut));
    assert.deepEqual(done, [false]);
  });

  test('done reports a timeout when the broadcast has not gone out in time', () => {
    const d = withPeers(1);
    const done: boolean[] = [];
    d.ml.leave(d.now, 2_000, (timedOut) => done.push(timedOut));
    d.collect();
    d.advanceBy(1_999, ['leaveTimeout']);
    assert.deepEqual(done, []);
    d.advanceBy(1, ['leaveTimeout']);
    assert.deepEqual(done, [true]);
  });

  test('after leave, messages about ourselves are ignored: no refute, we stay left', () => {
    const d = withPeers(1);
    d.ml.leave(d.now, 0);
    d.collect();
    drain(d);
    d.receive(PROBER, selfAlive(9));
    d.receive(PROBER, { type: 'suspect', body: { Incarnation: 9, Node: 'self', From: 'n1' } });
    d.receive(PROBER, { type: 'dead', body: { Incarnation: 9, Node: 'self', From: 'n1' } });
    assert.equal(stateOf(d, 'self'), NodeStateType.left);
    assert.equal(d.ml.localNode().incarnation, 1);
    assert.equal(d.ml.stats.refutations, 0);
    assert.deepEqual(piggybacked(d), []);
  });
});

// ------------------------------------------------------------------------------------ 11. malformed

describe('11. malformed packets', () => {
  test('garbage, bad CRC, truncated compounds and bad bodies are counted and logged, never thrown', () => {
    const d = quiet();
    drain(d);
    const ping = encodeMessage(pingMsg(1, 'self'));
    const badCrc = addCrc(ping);
    badCrc[badCrc.length - 1]! ^= 0xff;
    const compound = encodeCompound([ping, ping]);
    const bad: Array<[string, Uint8Array]> = [
      ['empty', EMPTY],
      ['unknown type', Uint8Array.of(0xff, 0x00, 0x01)],
      ['bad CRC', badCrc],
      ['truncated compound part', compound.subarray(0, compound.length - 3)],
      ['truncated compound length table', Uint8Array.of(7, 3, 0)],
      ['invalid msgpack body', Uint8Array.of(0x00, 0xc1)],
      ['garbage compress', Uint8Array.of(9, 0x81, 0xa4, 0x41, 0x6c, 0x67, 0x6f)],
      ['random bytes', Uint8Array.from({ length: 64 }, (_, i) => (i * 151 + 7) & 0xff)],
    ];
    for (const [what, bytes] of bad) {
      const before = d.ml.stats.malformedPackets;
      d.logs.length = 0;
      assert.doesNotThrow(() => d.receiveBytes(PROBER, bytes), what);
      assert.equal(d.ml.stats.malformedPackets, before + 1, `${what} is counted`);
      assert.ok(d.logs.some((l) => l.level === 'WARN' && l.message.includes('malformed')), `${what} is logged`);
      assert.deepEqual(d.takeSent(), [], `${what} is not answered`);
    }
    d.receiveBytes(PROBER, ping);
    assert.equal(only(d.takeSent(), 'ack').messages[0]?.type, 'ack', 'a good packet afterwards is handled');
  });
});

// ------------------------------------------------------------------------------------ 12. encryption

describe('12. encryption (keyring)', () => {
  test('sent packets and streams are encrypted with the primary key; plaintext packets are dropped as malformed', () => {
    const keyring = Keyring.fromBase64([FIXTURE_KEY]);
    const d = quiet({ keyring });
    drain(d);
    d.receive(PROBER, pingMsg(4, 'self')); // the harness encrypts with our keyring
    const s = only(d.takeSent(), 'ack');
    assert.equal(s.layers[0], 'encrypt');
    assert.equal(s.bytes[0], 1, 'encryption version 1 (protocol version ≥ 2)');
    assert.deepEqual(s.messages, [{ type: 'ack', body: { SeqNo: 4, Payload: null } }]);
    const clear = decodePacket(s.bytes);
    assert.ok(!clear.ok || !clear.value.messages.some((m) => m.type === 'ack'), 'not readable without the key');

    d.receiveBytes(PROBER, encodeMessage(pingMsg(5, 'self')));
    assert.deepEqual(d.takeSent(), []);
    assert.equal(d.ml.stats.malformedPackets, 1);

    const reply = d.ml.handleStream(d.now, peerAddr(1), { type: 'ping', body: { SeqNo: 6, Node: 'self' } });
    assert.ok(reply !== null);
    assert.equal(reply[0], 10, 'encryptMsg frame');
    assert.deepEqual(parsed(reply, keyring), { type: 'ack', body: { SeqNo: 6, Payload: null } });
    assert.equal(parseStream(reply).status, 'error');
  });

  test('with ProtocolVersion 1 packets and streams use encryption version 0 (net.go encryptionVersion)', () => {
    const keyring = Keyring.fromBase64([FIXTURE_KEY]);
    const d = quiet({ keyring, protocolVersion: 1 });
    d.receive(PROBER, pingMsg(4, 'self'));
    const s = only(d.takeSent(), 'ack');
    assert.equal(s.bytes[0], 0, 'version byte 0: AES-GCM with PKCS7 padding');
    const reply = d.ml.handleStream(d.now, peerAddr(1), { type: 'ping', body: { SeqNo: 6, Node: 'self' } });
    assert.ok(reply !== null);
    assert.equal(reply[5], 0, 'the stream frame’s envelope is version 0 too');
  });

  test('with gossipVerifyIncoming = false plaintext packets are accepted', () => {
    const keyring = Keyring.fromBase64([FIXTURE_KEY]);
    const d = quiet({ keyring, gossipVerifyIncoming: false });
    d.receiveBytes(PROBER, encodeMessage(pingMsg(5, 'self')));
    assert.equal(only(d.takeSent(), 'ack').layers[0], 'encrypt');
    assert.equal(d.ml.stats.malformedPackets, 0);
  });
});
