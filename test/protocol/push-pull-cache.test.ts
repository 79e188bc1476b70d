// The encode-once push/pull state (push-pull-cache.ts): reused bytes must be exactly what a
// fresh encoding gives, and any change to what the encoding reads must give new bytes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PushPullCache } from '../../src/protocol/push-pull-cache.js';
import { NodeStateType, type NodeState } from '../../src/protocol/node-state.js';
import { encodeStream, parseStream, type StreamMessage } from '../../src/wire/stream.js';
import { Keyring } from '../../src/wire/encryption.js';
import { Driver, ipv4 } from './harness.js';

const VSN = Uint8Array.of(1, 5, 2, 2, 5, 4);

function member(name: string, incarnation = 1): NodeState {
  return {
    name, addr: ipv4(10, 0, 0, 9), port: 7946, meta: Uint8Array.of(1, 2, 3), incarnation, state: NodeStateType.alive, stateChangeMs: 0,
    pMin: 1, pMax: 5, pCur: 2, dMin: 2, dMax: 5, dCur: 4,
  };
}

describe('PushPullCache', () => {
  const encoded = Uint8Array.of(9, 9, 9);

  test('gives the stored bytes back while nothing the encoding reads has changed', () => {
    const nodes = [member('a'), member('b')];
    const cache = new PushPullCache();
    assert.equal(cache.lookup(nodes, false, Uint8Array.of(7)), null);
    cache.store(nodes, false, Uint8Array.of(7), encoded);
    // A user state with equal bytes (Serf encodes it anew each time) still hits.
    assert.equal(cache.lookup(nodes, false, Uint8Array.of(7)), encoded);
    // stateChangeMs is not on the wire.
    (nodes[0] as NodeState).stateChangeMs = 5;
    assert.equal(cache.lookup(nodes, false, Uint8Array.of(7)), encoded);
  });

  const changes: Array<[string, (nodes: NodeState[]) => void]> = [
    ['incarnation', (n) => { (n[0] as NodeState).incarnation = 2; }],
    ['state', (n) => { (n[1] as NodeState).state = NodeStateType.suspect; }],
    ['port', (n) => { (n[0] as NodeState).port = 7947; }],
    ['address', (n) => { (n[0] as NodeState).addr = ipv4(10, 0, 0, 8); }],
    ['meta', (n) => { (n[1] as NodeState).meta = Uint8Array.of(1, 2, 4); }],
    ['a version byte', (n) => { (n[1] as NodeState).dCur = 3; }],
    ['order (memberlist sends its shuffled list)', (n) => n.reverse()],
    ['a new member', (n) => n.push(member('c'))],
  ];
  for (const [what, change] of changes) {
    test(`misses after a change of ${what}`, () => {
      const nodes = [member('a'), member('b')];
      const cache = new PushPullCache();
      cache.store(nodes, false, Uint8Array.of(7), encoded);
      change(nodes);
      assert.equal(cache.lookup(nodes, false, Uint8Array.of(7)), null);
    });
  }

  test('misses for the other Join flag and for other user state', () => {
    const nodes = [member('a')];
    const cache = new PushPullCache();
    cache.store(nodes, false, Uint8Array.of(7), encoded);
    assert.equal(cache.lookup(nodes, true, Uint8Array.of(7)), null);
    assert.equal(cache.lookup(nodes, false, Uint8Array.of(8)), null);
    assert.equal(cache.lookup(nodes, false, Uint8Array.of(7, 0)), null);
  });
});

describe('Memberlist push/pull replies with the cache', () => {
  const peer = { ip: ipv4(10, 0, 0, 2), port: 7946 };
  const request = (join: boolean): StreamMessage => ({ type: 'pushPull', header: { Join: join, Nodes: 0, UserStateLen: 0 }, nodes: [], userState: new Uint8Array(0) });
  const parsed = (bytes: Uint8Array, keyring?: Keyring): StreamMessage => {
    const r = parseStream(bytes, keyring === undefined ? {} : { keyring });
    assert.equal(r.status, 'complete');
    return (r as Extract<typeof r, { status: 'complete' }>).message;
  };

  test('a repeated reply is the same bytes a fresh encoding of our state gives; a change shows in the next one', () => {
    let userState = Uint8Array.of(0xee);
    const d = new Driver({ name: 'self', gossipNodes: 0, pushPullIntervalMs: 0, delegates: { localState: () => userState } }).start();
    const first = d.ml.handleStream(d.now, peer, request(false));
    const second = d.ml.handleStream(d.now, peer, request(false));
    assert.ok(first !== null && second !== null);
    assert.equal(second, first, 'the same bytes object, not a new encoding');
    const fresh = encodeStream(parsed(first), { compress: true });
    assert.deepEqual(first, fresh);

    // A peer's alive adds a member: the next reply carries it.
    d.receive(peer, { type: 'alive', body: { Incarnation: 1, Node: 'n1', Addr: peer.ip, Port: peer.port, Meta: new Uint8Array(0), Vsn: VSN } });
    const third = d.ml.handleStream(d.now, peer, request(false));
    assert.ok(third !== null);
    assert.deepEqual((parsed(third) as Extract<StreamMessage, { type: 'pushPull' }>).nodes.map((n) => n.Name).sort(), ['n1', 'self']);

    // New user state and the Join flag each give a new reply, equal to a fresh encoding.
    userState = Uint8Array.of(0xef);
    const fourth = d.ml.handleStream(d.now, peer, request(true));
    assert.ok(fourth !== null);
    const message = parsed(fourth) as Extract<StreamMessage, { type: 'pushPull' }>;
    assert.deepEqual([message.header.Join, [...message.userState]], [true, [0xef]]);
    assert.deepEqual(fourth, encodeStream(message, { compress: true }));
  });

  test('with a keyring each reply is sealed anew (fresh nonce) around the same plaintext', () => {
    const keyring = new Keyring([new Uint8Array(16).fill(1)]);
    const d = new Driver({ name: 'self', gossipNodes: 0, pushPullIntervalMs: 0, keyring }).start();
    const first = d.ml.handleStream(d.now, peer, { type: 'pushPull', header: { Join: false, Nodes: 0, UserStateLen: 0 }, nodes: [], userState: new Uint8Array(0) });
    const second = d.ml.handleStream(d.now, peer, { type: 'pushPull', header: { Join: false, Nodes: 0, UserStateLen: 0 }, nodes: [], userState: new Uint8Array(0) });
    assert.ok(first !== null && second !== null);
    assert.notDeepEqual(first, second);
    assert.deepEqual(parsed(first, keyring), parsed(second, keyring));
  });
});
