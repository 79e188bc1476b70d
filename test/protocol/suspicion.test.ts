// The Suspicion timer (Lifeguard §IV-B, reference §6.5), ported from memberlist's suspicion_test.go
// TestSuspicion_Timer / _ZeroK / _Immediate. memberlist sleeps on a real clock; shoal's Suspicion
// is sans-IO, so we give it times and read the deadline: the timer "fires" at deadlineMs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Suspicion } from '../../src/protocol/suspicion.js';

describe('Suspicion, as memberlist TestSuspicion_Timer (k=3, min 500 ms, max 2 s)', () => {
  const k = 3;
  const minMs = 500;
  const maxMs = 2000;
  const start = 10_000; // any clock origin; the deadline is relative to it
  const step = 25; // memberlist spaces confirmations 25 ms apart

  // Expected timeouts from the start, by hand from max − ln(c+1)/ln(k+1) × (max − min), floored:
  //   c=0: 2000 ms; c=1: 2000 − 0.5 × 1500 = 1250 ms; c=2: 2000 − 0.792481 × 1500 = 811.28 → 811 ms
  //   (memberlist's wall-clock test says 810 within its 25 ms slack); c=3 = k: 500 ms (min).
  const cases: { confirmations: number; from: string; pairs: [from: string, newInfo: boolean][]; expectedMs: number }[] = [
    { confirmations: 0, from: 'me', pairs: [], expectedMs: maxMs },
    { confirmations: 1, from: 'me', pairs: [['me', false], ['foo', true]], expectedMs: 1250 },
    { confirmations: 1, from: 'me', pairs: [['me', false], ['foo', true], ['foo', false], ['foo', false]], expectedMs: 1250 },
    { confirmations: 2, from: 'me', pairs: [['me', false], ['foo', true], ['bar', true]], expectedMs: 811 },
    { confirmations: 3, from: 'me', pairs: [['me', false], ['foo', true], ['bar', true], ['baz', true]], expectedMs: minMs },
    { confirmations: 3, from: 'me', pairs: [['me', false], ['foo', true], ['bar', true], ['baz', true], ['zoo', false]], expectedMs: minMs },
  ];

  cases.forEach((c, i) => {
    test(`case ${i}: ${c.pairs.map(([from]) => from).join(', ') || 'no confirmations'}`, () => {
      const s = new Suspicion(c.from, k, minMs, maxMs, start);
      let now = start;
      for (const [from, newInfo] of c.pairs) {
        now += step;
        assert.equal(s.confirm(from, now), newInfo, `confirm(${from})`);
      }
      assert.equal(s.confirmationCount, c.confirmations);
      // The overall timeout counts from the start, not from the last confirmation: elapsed time
      // is subtracted each time the deadline is recomputed.
      assert.equal(s.deadlineMs, start + c.expectedMs);

      // A late confirmation, after the timer has fired, does not count when k is reached already;
      // before that it counts but leaves the deadline in the past (the caller fires at once).
      const late = start + c.expectedMs + 1;
      const accepted = s.confirm('late', late);
      assert.equal(accepted, c.confirmations < k);
      assert.ok(s.deadlineMs <= late, 'a late confirmation never pushes the deadline past now');
    });
  });
});

describe('Suspicion: construction and confirmation rules', () => {
  test('starts at max when confirmations are expected (k ≥ 1)', () => {
    const s = new Suspicion('accuser', 2, 4000, 24_000, 0);
    assert.equal(s.deadlineMs, 24_000);
    assert.equal(s.confirmationCount, 0);
  });

  test('k=0 uses min from the start and accepts no confirmation (TestSuspicion_Timer_ZeroK)', () => {
    const s = new Suspicion('me', 0, 25, 30_000, 1000);
    assert.equal(s.deadlineMs, 1000 + 25);
    assert.equal(s.confirm('foo', 1001), false, 'should not provide new information');
    assert.equal(s.confirmationCount, 0);
    assert.equal(s.deadlineMs, 1025);
  });

  test('a confirmation after the shortened timeout has passed puts the deadline in the past (TestSuspicion_Timer_Immediate)', () => {
    // k=1, min 100 ms, max 30 s. Confirmed 200 ms in: c=1=k → timeout = min = 100 ms, remaining
    // 100 − 200 = −100 ms: memberlist fires at once; the deadline is before now.
    const s = new Suspicion('me', 1, 100, 30_000, 0);
    assert.equal(s.confirm('foo', 200), true);
    assert.equal(s.deadlineMs, 100);
    assert.ok(s.deadlineMs <= 200);
  });

  test('the accuser cannot confirm its own suspicion', () => {
    const s = new Suspicion('alice', 2, 4000, 24_000, 0);
    assert.equal(s.confirm('alice', 100), false);
    assert.equal(s.confirmationCount, 0);
    assert.equal(s.deadlineMs, 24_000);
  });

  test('duplicates are ignored and leave the deadline alone', () => {
    const s = new Suspicion('alice', 2, 4000, 24_000, 0);
    assert.equal(s.confirm('bob', 1000), true);
    const deadline = s.deadlineMs;
    assert.equal(s.confirm('bob', 2000), false);
    assert.equal(s.confirmationCount, 1);
    assert.equal(s.deadlineMs, deadline);
  });

  test('at most k confirmations are counted; later ones from new nodes are refused', () => {
    const s = new Suspicion('a', 2, 4000, 24_000, 0);
    assert.equal(s.confirm('b', 10), true);
    assert.equal(s.confirm('c', 20), true);
    assert.equal(s.confirmationCount, 2);
    assert.equal(s.deadlineMs, 4000);
    assert.equal(s.confirm('d', 30), false);
    assert.equal(s.confirmationCount, 2);
    assert.equal(s.deadlineMs, 4000);
  });

  test('the deadline moves as the formula says, LAN n=10 (k=2, min 4 s, max 24 s)', () => {
    // Suspected at t=100 s. c=1 at t=103 s: timeout 24 − ln2/ln3 × 20 = 11.38140 s → 11381 ms from
    // the start → deadline 111.381 s. c=2 at t=105 s: timeout = min 4 s → deadline 104 s, already
    // past: the caller declares the node dead at once.
    const start = 100_000;
    const s = new Suspicion('alpha', 2, 4000, 24_000, start);
    assert.equal(s.deadlineMs, 124_000);
    assert.equal(s.confirm('beta', 103_000), true);
    assert.equal(s.deadlineMs, 111_381);
    assert.equal(s.confirm('gamma', 105_000), true);
    assert.equal(s.deadlineMs, 104_000);
  });

  test('the deadline never moves later as confirmations arrive', () => {
    // WAN n=100: k=4, min 60 s, max 360 s. Timeouts by c: c=1: log5(2) = 0.430677 →
    // 360 − 129.2030 = 230.7970 s; c=2: log5(3) = 0.682606 → 360 − 204.7819 = 155.2181 s;
    // c=3: log5(4) = 0.861353 → 360 − 258.4059 = 101.5941 s; c=4: 60 s (min). Floored to ms.
    const s = new Suspicion('x', 4, 60_000, 360_000, 0);
    const expected = [230_797, 155_218, 101_594, 60_000];
    const deadlines = ['a', 'b', 'c', 'd'].map((from, i) => {
      assert.equal(s.confirm(from, (i + 1) * 1000), true);
      return s.deadlineMs;
    });
    assert.deepEqual(deadlines, expected);
  });
});
