// TransmitLimitedQueue (reference §6.9), ported from memberlist's queue_test.go. memberlist inspects
// the btree directly (orderedView); shoal's queue has no such view, so order is observed through
// what getBroadcasts hands out and the order in which prune() finishes broadcasts.
import { describe, test } from 'node:test';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { TransmitLimitedQueue, type Broadcast } from '../../src/protocol/broadcast-queue.js';
import { PROFILES } from '../../src/protocol/config.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const texts = (messages: Uint8Array[]): string[] => messages.map((m) => decoder.decode(m));

/** A broadcast named like memberlist's alive/suspect/dead ones; `finished` appends its name to `log`. */
function named(name: string, text: string, log?: string[]): Broadcast {
  const message = encoder.encode(text);
  return log === undefined ? { name, message } : { name, message, finished: () => log.push(name) };
}

/** An unnamed (unique, like Serf's) broadcast; `finished` appends its text to `log`. */
function unnamed(text: string, log?: string[]): Broadcast {
  const message = encoder.encode(text);
  return log === undefined ? { message } : { message, finished: () => log.push(text) };
}

/** Everything in one go: with room for all, getBroadcasts returns the queue's full order. */
const ROOMY = 1 << 20;

describe('ordering (queue.go limitedBroadcast.Less, TestLimitedBroadcastLess)', () => {
  test('fewer transmits first, whatever the age', () => {
    const q = new TransmitLimitedQueue(10, () => 10);
    q.queueBroadcast(unnamed('tier-0....'), 0); // 10 bytes, older
    q.queueBroadcast(unnamed('tier-1....'), 1); // 10 bytes, newer
    assert.deepEqual(texts(q.getBroadcasts(0, ROOMY)), ['tier-0....', 'tier-1....']);
  });

  test('same transmits: larger first, whatever the age', () => {
    const q = new TransmitLimitedQueue(10, () => 10);
    q.queueBroadcast(unnamed('twelve-bytes')); // 12 bytes, older
    q.queueBroadcast(unnamed('ten-bytes!')); // 10 bytes, newer
    assert.deepEqual(texts(q.getBroadcasts(0, ROOMY)), ['twelve-bytes', 'ten-bytes!']);
  });

  test('same transmits and length: newer first', () => {
    const q = new TransmitLimitedQueue(10, () => 10);
    q.queueBroadcast(unnamed('older-12byte'));
    q.queueBroadcast(unnamed('newer-12byte'));
    assert.deepEqual(texts(q.getBroadcasts(0, ROOMY)), ['newer-12byte', 'older-12byte']);
  });

  test('all three keys together', () => {
    const q = new TransmitLimitedQueue(10, () => 10);
    q.queueBroadcast(unnamed('a1'), 1);
    q.queueBroadcast(unnamed('b0-long'), 0);
    q.queueBroadcast(unnamed('c0'), 0);
    q.queueBroadcast(unnamed('d1-long'), 1);
    q.queueBroadcast(unnamed('e0'), 0);
    // tier 0: b0-long (7), then e0 and c0 (2 bytes, newer first); tier 1: d1-long, a1.
    assert.deepEqual(texts(q.getBroadcasts(0, ROOMY)), ['b0-long', 'e0', 'c0', 'd1-long', 'a1']);
  });
});

describe("memberlist's queue_test.go", () => {
  test('TestTransmitLimited_Queue: named broadcasts, a new one for the same name replaces the old', () => {
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(1, () => 1);
    q.queueBroadcast(named('test', 'msg-test', finished));
    q.queueBroadcast(named('foo', 'msg-foo!', finished));
    q.queueBroadcast(named('bar', 'msg-bar!', finished));
    assert.equal(q.size, 3);

    // Should invalidate the previous message: finished() once, and only for the old one.
    q.queueBroadcast(named('test', 'msg-TEST', finished));
    assert.equal(q.size, 3);
    assert.deepEqual(finished, ['test']);

    // memberlist's reverse view was foo, bar, test (oldest first): the new test is the newest.
    assert.deepEqual(texts(q.getBroadcasts(0, ROOMY)), ['msg-TEST', 'msg-bar!', 'msg-foo!']);
  });

  test('TestTransmitLimited_Queue: before replacement the order is newest first', () => {
    const q = new TransmitLimitedQueue(1, () => 1);
    q.queueBroadcast(named('test', 'msg-test'));
    q.queueBroadcast(named('foo', 'msg-foo!'));
    q.queueBroadcast(named('bar', 'msg-bar!'));
    assert.deepEqual(texts(q.getBroadcasts(0, ROOMY)), ['msg-bar!', 'msg-foo!', 'msg-test']);
  });

  test('TestTransmitLimited_GetBroadcasts: overhead + length must fit the limit', () => {
    // RetransmitMult 3, 10 nodes → limit 3 × ceil(log10 11) = 6, so nothing expires here.
    const q = new TransmitLimitedQueue(3, () => 10);
    q.queueBroadcast(named('test', '1. this is a test.')); // 18 bytes each
    q.queueBroadcast(named('foo', '2. this is a test.'));
    q.queueBroadcast(named('bar', '3. this is a test.'));
    q.queueBroadcast(named('baz', '4. this is a test.'));

    // 2-byte overhead: 4 × 20 = 80 ≤ 80, all four.
    assert.equal(q.getBroadcasts(2, 80).length, 4);
    // 3-byte overhead: 4 × 21 = 84 > 80, only three.
    assert.equal(q.getBroadcasts(3, 80).length, 3);
  });

  test('TestTransmitLimited_GetBroadcasts_Limit: messages expire after the retransmit limit', () => {
    // RetransmitMult 1, 10 nodes → limit 1 × ceil(log10 11) = 2 sends each.
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(1, () => 10);
    q.queueBroadcast(named('test', '1. this is a test.', finished));
    q.queueBroadcast(named('foo', '2. this is a test.', finished));
    q.queueBroadcast(named('bar', '3. this is a test.', finished));
    q.queueBroadcast(named('baz', '4. this is a test.', finished));

    // 3 + 18 = 21 bytes each, 80 fits three. Tier 0, newest first: 4, 3, 2 move to tier 1.
    assert.deepEqual(texts(q.getBroadcasts(3, 80)), ['4. this is a test.', '3. this is a test.', '2. this is a test.']);
    assert.equal(q.size, 4);
    assert.deepEqual(finished, []);

    // Tier 0 still holds 1; then tier 1, newest first: 4 and 3, each on its second send.
    assert.deepEqual(texts(q.getBroadcasts(3, 80)), ['1. this is a test.', '4. this is a test.', '3. this is a test.']);
    assert.equal(q.size, 2);
    assert.deepEqual(finished, ['baz', 'bar']);

    // Only two not expired.
    assert.deepEqual(texts(q.getBroadcasts(3, 80)), ['2. this is a test.', '1. this is a test.']);
    assert.equal(q.size, 0);
    assert.deepEqual(finished, ['baz', 'bar', 'foo', 'test']);

    // Should get nothing.
    assert.deepEqual(q.getBroadcasts(3, 80), []);
  });

  test('TestTransmitLimited_Prune: keeps the newest, finishing the others', () => {
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(1, () => 10);
    q.queueBroadcast(named('test', '1. this is a test.', finished));
    q.queueBroadcast(named('foo', '2. this is a test.', finished));
    q.queueBroadcast(named('bar', '3. this is a test.', finished));
    q.queueBroadcast(named('baz', '4. this is a test.', finished));

    q.prune(2);
    assert.equal(q.size, 2);
    assert.deepEqual(finished, ['test', 'foo']);
    assert.deepEqual(texts(q.getBroadcasts(0, ROOMY)), ['4. this is a test.', '3. this is a test.']);
  });

  test('TestTransmitLimited_ordering: prune drops the most-transmitted first', () => {
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(1, () => 10);
    const insert = (name: string, transmits: number): void => q.queueBroadcast(named(name, name, finished), transmits);
    insert('node0', 0);
    insert('node1', 10);
    insert('node2', 3);
    insert('node3', 4);
    insert('node4', 7);
    // memberlist's reverse view: transmits 10, 7, 4, 3, 0. Pruning one at a time follows it.
    for (let keep = 4; keep >= 0; keep--) q.prune(keep);
    assert.deepEqual(finished, ['node1', 'node4', 'node3', 'node2', 'node0']);
    assert.equal(q.size, 0);
  });

  // The next two come from upstream memberlist after 0.2.2. In 0.2.2 deleteItem resets the id
  // generator whenever the btree becomes empty, so a later broadcast can reuse a queued item's id;
  // with equal (transmits, length, id) the btree's ReplaceOrInsert then silently drops one of the
  // two. shoal keeps items by identity and never reuses ids, which is the fixed behaviour.
  test('TestTransmitLimitedQueue_NamedReplaceThenRelaysKeepsAll (post-0.2.2 fix)', () => {
    const q = new TransmitLimitedQueue(4, () => 3);
    q.queueBroadcast(named('node-3', 'a'.repeat(115)));
    q.queueBroadcast(named('node-3', 'b'.repeat(115)));
    q.queueBroadcast(named('node-1', 'c'.repeat(115)));
    q.queueBroadcast(named('node-2', 'd'.repeat(115)));
    assert.equal(q.size, 3);
    const firstBytes = q.getBroadcasts(2, 1398).map((m) => String.fromCharCode(m[0] ?? 0));
    assert.deepEqual(firstBytes.sort(), ['b', 'c', 'd']);
  });

  test('TestTransmitLimitedQueue_ReinsertAfterIdleKeepsAll (post-0.2.2 fix)', () => {
    const q = new TransmitLimitedQueue(4, () => 3); // limit 4 × ceil(log10 4) = 4 sends
    const overhead = 2;
    const limit = 2 + 115; // exactly one 115-byte message per call

    q.queueBroadcast(named('node-a', 'a'.repeat(115)));
    const got = q.getBroadcasts(overhead, limit);
    assert.equal(got.length, 1);
    assert.equal(got[0]?.[0], 'a'.charCodeAt(0));
    assert.equal(q.size, 1);

    q.queueBroadcast(named('node-b', 'b'.repeat(115)));
    q.queueBroadcast(named('node-c', 'c'.repeat(115)));
    assert.equal(q.size, 3);

    // c then b go out first (tier 0) and join a in tier 1, which then drains newest first: c, b,
    // a. Nobody is lost, and with at most 2 of 4 sends used each, all three stay queued.
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      for (const m of q.getBroadcasts(overhead, limit)) seen.add(String.fromCharCode(m[0] ?? 0));
      assert.equal(q.size, 3, `call ${i}`);
    }
    assert.deepEqual([...seen].sort(), ['a', 'b', 'c']);
  });
});

describe('retransmit limit (reference §6.9: transmits + 1 ≥ limit ⇒ finished)', () => {
  /** Sends the single queued broadcast until it leaves the queue; returns how many sends it got. */
  function sendsUntilFinished(q: TransmitLimitedQueue, finished: string[]): number {
    let sends = 0;
    while (q.size > 0) {
      assert.equal(q.getBroadcasts(2, 1400).length, 1);
      sends++;
      assert.ok(sends <= 100, 'the broadcast never expired');
    }
    assert.deepEqual(finished, ['x'], 'finished() is called once, when it leaves');
    return sends;
  }

  const cases: [nodes: number, sends: number][] = [
    [1, 4], // LAN RetransmitMult 4 × ceil(log10 2) = 4
    [9, 4], // 4 × ceil(log10 10) = 4 × 1
    [10, 8], // 4 × ceil(log10 11) = 4 × 2
    [99, 8],
    [100, 12],
  ];
  for (const [nodes, sends] of cases) {
    test(`LAN, ${nodes} node(s): sent ${sends} times, then finished`, () => {
      const finished: string[] = [];
      const q = new TransmitLimitedQueue(PROFILES.lan.retransmitMult, () => nodes);
      q.queueBroadcast(named('x', 'payload', finished));
      assert.equal(sendsUntilFinished(q, finished), sends);
      assert.deepEqual(q.getBroadcasts(2, 1400), []);
    });
  }

  test('0 nodes gives a limit of 0: the first send is also the last', () => {
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(4, () => 0);
    q.queueBroadcast(named('x', 'payload', finished));
    assert.equal(sendsUntilFinished(q, finished), 1);
  });

  test('the node count is read on every call', () => {
    // 9 nodes → limit 4; after two sends the cluster grows to 10 → limit 8: six more sends.
    let nodes = 9;
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(4, () => nodes);
    q.queueBroadcast(named('x', 'payload', finished));
    q.getBroadcasts(2, 1400);
    q.getBroadcasts(2, 1400);
    nodes = 10;
    assert.equal(sendsUntilFinished(q, finished), 6);
  });

  test('a broadcast queued at or past the limit goes out once more and is finished', () => {
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(1, () => 10); // limit 2
    q.queueBroadcast(named('x', 'payload', finished), 10);
    assert.deepEqual(texts(q.getBroadcasts(2, 1400)), ['payload']);
    assert.deepEqual(finished, ['x']);
    assert.equal(q.size, 0);
  });

  test('each broadcast is sent at most once per call even when it moves down a tier', () => {
    const q = new TransmitLimitedQueue(4, () => 10);
    q.queueBroadcast(unnamed('only'));
    assert.deepEqual(texts(q.getBroadcasts(0, ROOMY)), ['only']);
    assert.deepEqual(texts(q.getBroadcasts(0, ROOMY)), ['only']);
  });
});

describe('getBroadcasts packing (overhead and limit)', () => {
  test('largest that fits first, then smaller ones fill the rest, tier by tier', () => {
    const q = new TransmitLimitedQueue(4, () => 10);
    q.queueBroadcast(unnamed('A'.repeat(60)));
    q.queueBroadcast(unnamed('B'.repeat(50)));
    q.queueBroadcast(unnamed('C'.repeat(30)));
    // limit 100, overhead 2: A (62 used, 36 free after overhead) → B does not fit → C (94 used,
    // 4 free) → nothing else.
    assert.deepEqual(q.getBroadcasts(2, 100).map((m) => m.length), [60, 30]);
    // Next: tier 0 holds B (52 used, 46 free); tier 1 holds A (too big) and C (84 used, 14 free).
    assert.deepEqual(q.getBroadcasts(2, 100).map((m) => m.length), [50, 30]);
    // Next: tier 1 holds A and B (A first, 62 used, 36 free: B no longer fits); tier 2 holds C.
    assert.deepEqual(q.getBroadcasts(2, 100).map((m) => m.length), [60, 30]);
  });

  test('a message of exactly limit − overhead fits; one byte more does not', () => {
    const q = new TransmitLimitedQueue(4, () => 10);
    q.queueBroadcast(unnamed('x'.repeat(98)));
    assert.equal(q.getBroadcasts(2, 100).length, 1);
    const big = new TransmitLimitedQueue(4, () => 10);
    big.queueBroadcast(unnamed('x'.repeat(99)));
    assert.deepEqual(big.getBroadcasts(2, 100), []);
    assert.equal(big.size, 1, 'a message that does not fit stays queued, untouched');
    assert.equal(big.getBroadcasts(2, 101).length, 1);
  });

  test('no room after the overhead returns nothing and changes nothing', () => {
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(1, () => 1); // limit 1: any send finishes it
    q.queueBroadcast(unnamed('', finished));
    assert.deepEqual(q.getBroadcasts(5, 5), []);
    assert.deepEqual(q.getBroadcasts(5, 3), []);
    assert.equal(q.size, 1);
    assert.deepEqual(finished, []);
    // An empty message fits as soon as there is one free byte.
    assert.equal(q.getBroadcasts(5, 6).length, 1);
    assert.deepEqual(finished, ['']);
  });

  test('an empty queue returns an empty list', () => {
    const q = new TransmitLimitedQueue(4, () => 10);
    assert.deepEqual(q.getBroadcasts(2, 1400), []);
    assert.equal(q.size, 0);
  });
});

describe('names, uniqueness, prune and reset', () => {
  test('unnamed broadcasts never replace each other, even with equal bytes (Serf broadcasts are unique)', () => {
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(4, () => 10);
    q.queueBroadcast(unnamed('same', finished));
    q.queueBroadcast(unnamed('same', finished));
    assert.equal(q.size, 2);
    assert.deepEqual(finished, []);
    assert.deepEqual(texts(q.getBroadcasts(0, ROOMY)), ['same', 'same']);
  });

  test('a replacement starts over at the initial tier, even when the old one had been sent', () => {
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(4, () => 10);
    q.queueBroadcast(named('node-x', 'suspect-x', finished));
    q.queueBroadcast(unnamed('other-broadcast'));
    q.getBroadcasts(0, ROOMY); // both now at 1 transmit
    q.getBroadcasts(0, ROOMY); // both at 2
    q.queueBroadcast(named('node-x', 'dead-x', finished));
    assert.deepEqual(finished, ['node-x'], 'the old one is finished once');
    assert.equal(q.size, 2);
    // dead-x is at tier 0, ahead of the larger but more-sent 'other'.
    assert.deepEqual(texts(q.getBroadcasts(0, ROOMY)), ['dead-x', 'other-broadcast']);
  });

  test('a name is free again once its broadcast expired', () => {
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(1, () => 1); // limit 1
    q.queueBroadcast(named('n', 'first', finished));
    q.getBroadcasts(0, ROOMY);
    assert.deepEqual(finished, ['n']);
    q.queueBroadcast(named('n', 'second', finished));
    assert.deepEqual(finished, ['n'], 'nothing left to replace');
    assert.equal(q.size, 1);
  });

  test('prune keeps the least-transmitted, then the larger, then the newer', () => {
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(10, () => 10);
    q.queueBroadcast(unnamed('t2-old', finished), 2);
    q.queueBroadcast(unnamed('t0-old', finished), 0);
    q.queueBroadcast(unnamed('t0-larger', finished), 0);
    q.queueBroadcast(unnamed('t2-new', finished), 2);
    q.queueBroadcast(unnamed('t0-new', finished), 0);
    q.prune(3);
    assert.deepEqual(finished, ['t2-old', 't2-new']);
    q.prune(1);
    assert.deepEqual(finished, ['t2-old', 't2-new', 't0-old', 't0-new']);
    assert.deepEqual(texts(q.getBroadcasts(0, ROOMY)), ['t0-larger']);
  });

  test('prune with room to spare does nothing', () => {
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(4, () => 10);
    q.queueBroadcast(unnamed('a', finished));
    q.prune(1);
    q.prune(5);
    assert.equal(q.size, 1);
    assert.deepEqual(finished, []);
  });

  test('reset finishes everything and empties the queue, names included', () => {
    const finished: string[] = [];
    const q = new TransmitLimitedQueue(4, () => 10);
    q.queueBroadcast(named('a', 'alpha', finished));
    q.queueBroadcast(named('b', 'beta', finished), 3);
    q.queueBroadcast(unnamed('gamma', finished));
    q.reset();
    assert.equal(q.size, 0);
    assert.deepEqual(finished.sort(), ['a', 'b', 'gamma']);
    assert.deepEqual(q.getBroadcasts(0, ROOMY), []);
    // A name queued before the reset no longer exists: queueing it again replaces nothing.
    q.queueBroadcast(named('a', 'alpha2', finished));
    assert.equal(finished.length, 3);
    assert.equal(q.size, 1);
  });

  test('finished() is optional', () => {
    const q = new TransmitLimitedQueue(1, () => 1);
    q.queueBroadcast({ message: encoder.encode('x'), name: 'n' });
    q.queueBroadcast({ message: encoder.encode('y'), name: 'n' });
    q.getBroadcasts(0, ROOMY);
    q.queueBroadcast({ message: encoder.encode('z') });
    q.prune(0);
    q.queueBroadcast({ message: encoder.encode('w') });
    q.reset();
    assert.equal(q.size, 0);
  });
});

// The queue keeps its order in tier and length buckets with tombstones (for speed with thousands
// of broadcasts); this model is the plain definition it must match: one list, memberlist's
// order (fewer transmits, then longer, then newer) found by a scan each time.
class ModelQueue {
  private items: Array<{ transmits: number; id: number; b: Broadcast }> = [];
  private idGen = 0;

  constructor(private readonly mult: number, private readonly n: () => number) {}

  get size(): number {
    return this.items.length;
  }

  queueBroadcast(b: Broadcast, initialTransmits = 0): void {
    const old = b.name === undefined ? -1 : this.items.findIndex((i) => i.b.name === b.name);
    if (old >= 0) this.items.splice(old, 1)[0]?.b.finished?.();
    this.items.push({ transmits: initialTransmits, id: ++this.idGen, b });
  }

  getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    if (this.items.length === 0) return [];
    const transmitLimit = this.mult * Math.ceil(Math.log10(this.n() + 1));
    const tiers = this.items.map((i) => i.transmits);
    const maxTier = Math.max(...tiers);
    let used = 0;
    const out: Uint8Array[] = [];
    const moved = new Set<object>();
    for (let tier = Math.min(...tiers); tier <= maxTier; ) {
      const free = limit - used - overhead;
      if (free <= 0) break;
      let best: (typeof this.items)[number] | undefined;
      for (const i of this.items) {
        if (i.transmits !== tier || moved.has(i) || i.b.message.length > free) continue;
        if (best === undefined || i.b.message.length > best.b.message.length || (i.b.message.length === best.b.message.length && i.id > best.id)) best = i;
      }
      if (best === undefined) {
        tier++;
        continue;
      }
      used += overhead + best.b.message.length;
      out.push(best.b.message);
      if (best.transmits + 1 >= transmitLimit) {
        this.items.splice(this.items.indexOf(best), 1);
        best.b.finished?.();
      } else {
        moved.add(best);
      }
    }
    for (const i of this.items) if (moved.has(i)) i.transmits++;
    return out;
  }

  prune(maxRetain: number): void {
    while (this.items.length > maxRetain) {
      let worst = this.items[0] as (typeof this.items)[number];
      for (const i of this.items) {
        const l = i.b.message.length;
        const wl = worst.b.message.length;
        if (i.transmits > worst.transmits || (i.transmits === worst.transmits && (l < wl || (l === wl && i.id < worst.id)))) worst = i;
      }
      this.items.splice(this.items.indexOf(worst), 1);
      worst.b.finished?.();
    }
  }
}

describe('the bucketed queue against a plain model', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('queue' as const), len: fc.integer({ min: 1, max: 40 }), name: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }), initial: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ kind: fc.constant('get' as const), limit: fc.integer({ min: 0, max: 120 }) }),
    fc.record({ kind: fc.constant('prune' as const), keep: fc.integer({ min: 0, max: 12 }) }),
    fc.record({ kind: fc.constant('nodes' as const), n: fc.integer({ min: 1, max: 2000 }) }),
  );

  test('hands out the same messages in the same order, and finishes the same broadcasts, on random operations', () => {
    fc.assert(fc.property(fc.array(op, { minLength: 20, maxLength: 300, size: 'max' }), (ops) => {
      let n = 5;
      const real = new TransmitLimitedQueue(2, () => n);
      const model = new ModelQueue(2, () => n);
      const realLog: string[] = [];
      const modelLog: string[] = [];
      let id = 0;
      for (const o of ops) {
        if (o.kind === 'queue') {
          const text = `${id++}:`.padEnd(o.len, 'x');
          const make = (log: string[]): Broadcast => {
            const message = encoder.encode(text);
            const finished = (): void => {
              log.push(`done ${text}`);
            };
            return o.name === undefined ? { message, finished } : { message, name: `n${o.name}`, finished };
          };
          real.queueBroadcast(make(realLog), o.initial);
          model.queueBroadcast(make(modelLog), o.initial);
        } else if (o.kind === 'get') {
          realLog.push(texts(real.getBroadcasts(2, o.limit)).join(','));
          modelLog.push(texts(model.getBroadcasts(2, o.limit)).join(','));
        } else if (o.kind === 'prune') {
          real.prune(o.keep);
          model.prune(o.keep);
        } else {
          n = o.n;
        }
        assert.equal(real.size, model.size);
      }
      assert.deepEqual(realLog, modelLog);
    }), { numRuns: 300 });
  });
});
