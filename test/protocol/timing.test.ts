// memberlist's scaling formulas (reference §6.5, §6.9, §6.10, §6.12) checked against the values in
// memberlist's own tests (util_test.go, suspicion_test.go) and against values worked out by hand
// from memberlist's formulas (util.go suspicionTimeout / retransmitLimit / pushPullScale,
// suspicion.go remainingSuspicionTime, state.go suspectNode for k).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PUSH_PULL_SCALE_THRESHOLD,
  pushPullScaleMs,
  remainingSuspicionMs,
  retransmitLimit,
  suspicionBounds,
  suspicionTimeoutMs,
} from '../../src/protocol/timing.js';
import { PROFILES } from '../../src/protocol/config.js';

describe('PROFILES (reference §6.12, memberlist config.go DefaultLAN/WAN/LocalConfig)', () => {
  // Written out from the reference table, not copied from src, so a typo in either shows up.
  const expected = {
    lan: {
      tcpTimeoutMs: 10_000, indirectChecks: 3, retransmitMult: 4, suspicionMult: 4, suspicionMaxTimeoutMult: 6,
      pushPullIntervalMs: 30_000, probeTimeoutMs: 500, probeIntervalMs: 1_000, disableTcpPings: false,
      awarenessMaxMultiplier: 8, gossipNodes: 3, gossipIntervalMs: 200, gossipToTheDeadTimeMs: 30_000,
    },
    wan: {
      tcpTimeoutMs: 30_000, indirectChecks: 3, retransmitMult: 4, suspicionMult: 6, suspicionMaxTimeoutMult: 6,
      pushPullIntervalMs: 60_000, probeTimeoutMs: 3_000, probeIntervalMs: 5_000, disableTcpPings: false,
      awarenessMaxMultiplier: 8, gossipNodes: 4, gossipIntervalMs: 500, gossipToTheDeadTimeMs: 60_000,
    },
    local: {
      tcpTimeoutMs: 1_000, indirectChecks: 1, retransmitMult: 2, suspicionMult: 3, suspicionMaxTimeoutMult: 6,
      pushPullIntervalMs: 15_000, probeTimeoutMs: 200, probeIntervalMs: 1_000, disableTcpPings: false,
      awarenessMaxMultiplier: 8, gossipNodes: 3, gossipIntervalMs: 100, gossipToTheDeadTimeMs: 15_000,
    },
  };

  for (const name of ['lan', 'wan', 'local'] as const) {
    test(`${name} equals the §6.12 column`, () => {
      assert.deepEqual({ ...PROFILES[name] }, expected[name]);
    });
  }

  test('there are exactly the three memberlist profiles', () => {
    assert.deepEqual(Object.keys(PROFILES).sort(), ['lan', 'local', 'wan']);
  });
});

describe('suspicionTimeoutMs (util.go suspicionTimeout)', () => {
  test("memberlist's TestSuspicionTimeout vectors", () => {
    // util_test.go: suspicionTimeout(3, n, time.Second) / 3 == expected. We check the undivided
    // value: 3 × expected.
    const vectors: [n: number, perMult: number][] = [
      [5, 1000],
      [10, 1000],
      [50, 1698],
      [100, 2000],
      [500, 2698],
      [1000, 3000],
    ];
    for (const [n, perMult] of vectors) {
      assert.equal(suspicionTimeoutMs(3, n, 1000), 3 * perMult, `n=${n}`);
    }
  });

  test('the node scale is floor(1000 × log10 n), at least 1000, and n ≤ 1 counts as 1', () => {
    // nodeScale = max(1, log10(max(1, n))); Duration(nodeScale*1000) truncates.
    //   n=0 → max(1,0)=1 → log10 1 = 0 → scale 1 → 1000
    //   n=9 → log10 9 = 0.954 → scale 1 → 1000 (below 10 nodes the floor of 1 applies)
    //   n=11 → 1.04139 → 1041;  n=20 → 1.30103 → 1301;  n=999 → 2.999565 → 2999
    //   n=10000 → 4 → 4000
    const vectors: [n: number, scale: number][] = [
      [0, 1000], [1, 1000], [2, 1000], [9, 1000], [10, 1000], [11, 1041], [20, 1301], [999, 2999], [10_000, 4000],
    ];
    for (const [n, scale] of vectors) {
      assert.equal(suspicionTimeoutMs(1, n, 1000), scale, `n=${n}`);
    }
  });

  test('uses log10(n), not log10(n + 1) (reference §6.5)', () => {
    // n=99: log10 99 = 1.99563 → 1995 (log10 100 would give 2000).
    assert.equal(suspicionTimeoutMs(4, 99, 1000), 4 * 1995);
  });

  test('scales linearly with the probe interval, keeping the truncation of the node scale', () => {
    // 6 × 1698 × 5000 ms / 1000 = 50 940 ms (WAN multiplier and interval, n=50).
    assert.equal(suspicionTimeoutMs(6, 50, 5000), 50_940);
    // 4 × 1041 × 200 ms / 1000 = 832.8 ms: memberlist keeps nanoseconds, so no rounding to whole ms.
    assert.equal(suspicionTimeoutMs(4, 11, 200), 832.8);
  });
});

describe('suspicionBounds (state.go suspectNode: min, max = SuspicionMaxTimeoutMult × min, k)', () => {
  // k = SuspicionMult − 2, forced to 0 when n − 2 < k (not enough other nodes to confirm).
  // min = SuspicionMult × scale(n) × ProbeInterval / 1000 with scale(n) as above:
  //   scale(1) = scale(2) = scale(10) = 1000, scale(100) = 2000, scale(1000) = 3000.
  type Row = [n: number, minMs: number, maxMs: number, k: number];
  const tables: Record<'lan' | 'wan' | 'local', Row[]> = {
    // LAN: SuspicionMult 4, ×6, ProbeInterval 1 s → min 4 s × scale, k = 2 once n ≥ 4.
    lan: [
      [1, 4_000, 24_000, 0], // n−2 = −1 < 2
      [2, 4_000, 24_000, 0], // the reference's live check: two nodes, dead after exactly 4 s
      [3, 4_000, 24_000, 0], // n−2 = 1 < 2
      [4, 4_000, 24_000, 2], // n−2 = 2, not < 2
      [10, 4_000, 24_000, 2],
      [50, 6_792, 40_752, 2], // 4 × 1698
      [100, 8_000, 48_000, 2],
      [1000, 12_000, 72_000, 2],
    ],
    // WAN: SuspicionMult 6, ×6, ProbeInterval 5 s → min 30 s × scale/1000, k = 4 once n ≥ 6.
    wan: [
      [1, 30_000, 180_000, 0],
      [2, 30_000, 180_000, 0],
      [5, 30_000, 180_000, 0], // n−2 = 3 < 4
      [6, 30_000, 180_000, 4],
      [10, 30_000, 180_000, 4],
      [100, 60_000, 360_000, 4],
      [1000, 90_000, 540_000, 4],
    ],
    // Local: SuspicionMult 3, ×6, ProbeInterval 1 s → min 3 s × scale/1000, k = 1 once n ≥ 3.
    local: [
      [1, 3_000, 18_000, 0],
      [2, 3_000, 18_000, 0], // n−2 = 0 < 1
      [3, 3_000, 18_000, 1],
      [10, 3_000, 18_000, 1],
      [100, 6_000, 36_000, 1],
      [1000, 9_000, 54_000, 1],
    ],
  };

  for (const [name, rows] of Object.entries(tables) as [keyof typeof tables, Row[]][]) {
    test(`${name} profile`, () => {
      const p = PROFILES[name];
      for (const [n, minMs, maxMs, k] of rows) {
        assert.deepEqual(suspicionBounds(p.suspicionMult, p.suspicionMaxTimeoutMult, n, p.probeIntervalMs), { minMs, maxMs, k }, `${name} n=${n}`);
      }
    });
  }
});

describe('remainingSuspicionMs (suspicion.go remainingSuspicionTime)', () => {
  test("memberlist's TestSuspicion_remainingSuspicionTime table", () => {
    // k=3, min 2 s, max 30 s. timeout = max(min, floor_ms(max − ln(n+1)/ln(k+1) × (max − min))):
    //   n=0: frac 0              → 30 s;          − 0 s elapsed  =  30 s
    //   n=1: frac ln2/ln4 = 0.5  → 30 − 14 = 16 s; − 2 s          =  14 s
    //   n=2: frac ln3/ln4 = 0.79248 → 30 − 22.1895 = 7.8105 → 7810 ms; − 3 s = 4810 ms
    //   n=3: frac 1              → 2 s;           − 4 s          =  −2 s
    //   n=4: frac 1.161 → −2.5 s, below min → 2 s; − 5 s         =  −3 s
    //   n=5: frac 1.292 → below min → 2 s;        − 10 s         =  −8 s
    const cases: [n: number, k: number, elapsedMs: number, minMs: number, maxMs: number, expectedMs: number][] = [
      [0, 3, 0, 2000, 30_000, 30_000],
      [1, 3, 2000, 2000, 30_000, 14_000],
      [2, 3, 3000, 2000, 30_000, 4810],
      [3, 3, 4000, 2000, 30_000, -2000],
      [4, 3, 5000, 2000, 30_000, -3000],
      [5, 3, 10_000, 2000, 30_000, -8000],
    ];
    for (const [n, k, elapsedMs, minMs, maxMs, expectedMs] of cases) {
      assert.equal(remainingSuspicionMs(n, k, elapsedMs, minMs, maxMs), expectedMs, `n=${n}`);
    }
  });

  test('the TestSuspicion_Timer timeouts (k=3, min 500 ms, max 2 s), no time elapsed', () => {
    //   n=1: 2000 − 0.5 × 1500 = 1250 ms
    //   n=2: 2000 − 0.792481 × 1500 = 811.28 → 811 ms (memberlist's wall-clock test allows 810 ± 25)
    //   n=3: 500 ms (min)
    assert.equal(remainingSuspicionMs(0, 3, 0, 500, 2000), 2000);
    assert.equal(remainingSuspicionMs(1, 3, 0, 500, 2000), 1250);
    assert.equal(remainingSuspicionMs(2, 3, 0, 500, 2000), 811);
    assert.equal(remainingSuspicionMs(3, 3, 0, 500, 2000), 500);
  });

  test('LAN suspicion with k=2 (n=10): 24 s, then 11.381 s, then 4 s', () => {
    // min 4 s, max 24 s. c=1: frac ln2/ln3 = 0.630930 → 24 − 0.630930 × 20 = 11.38140 s → 11381 ms.
    // c=2: frac 1 → 4 s.
    assert.equal(remainingSuspicionMs(1, 2, 0, 4000, 24_000), 11_381);
    assert.equal(remainingSuspicionMs(2, 2, 0, 4000, 24_000), 4000);
    // Elapsed time comes straight off: confirmed 5 s in, 6381 ms remain.
    assert.equal(remainingSuspicionMs(1, 2, 5000, 4000, 24_000), 6381);
  });

  test('whole-millisecond results round exactly as memberlist does (Go Duration.Seconds)', () => {
    // memberlist converts min and max with Duration.Seconds() = float64(whole seconds) +
    // float64(ns)/1e9 and then floors 1000 × raw. When the exact answer is a whole millisecond the
    // float error decides between it and the millisecond below, so shoal must compute the way Go
    // does to land on the same side. Expected values below are the output of memberlist's
    // remainingSuspicionTime (go1.19, linux/amd64); the exact arithmetic is in the comment.
    // Only k+1 a power of c+1 (e.g. SuspicionMult 5 or 9) gives such rational fractions; the
    // lan/wan/local profiles (k = 2, 4, 1) never do.
    const cases: [c: number, k: number, minMs: number, maxMs: number, memberlistMs: number][] = [
      [1, 3, 8476, 16_952, 12_713], // 16.952 − ½ × 8.476 = 12.714 exactly; Go floors to 12713
      [1, 7, 1368, 10_944, 7751], //   10.944 − ⅓ × 9.576 = 7.752 exactly; Go floors to 7751
      [1, 3, 582, 5238, 2909], //      5.238 − ½ × 4.656 = 2.910 exactly; Go floors to 2909
      [1, 3, 1386, 11_088, 6237], //   11.088 − ½ × 9.702 = 6.237 exactly; Go keeps 6237
      [1, 7, 231, 1386, 1001], //      1.386 − ⅓ × 1.155 = 1.001 exactly; Go keeps 1001
    ];
    for (const [c, k, minMs, maxMs, memberlistMs] of cases) {
      assert.equal(remainingSuspicionMs(c, k, 0, minMs, maxMs), memberlistMs, `c=${c} k=${k} min=${minMs} max=${maxMs}`);
    }
  });
});

describe('retransmitLimit (util.go retransmitLimit)', () => {
  test("memberlist's TestRetransmitLimit values", () => {
    // 3 × ceil(log10(n+1)): n=0 → ceil(0) = 0; n=1 → ceil(0.301) = 1 → 3; n=99 → ceil(2) = 2 → 6.
    assert.equal(retransmitLimit(3, 0), 0);
    assert.equal(retransmitLimit(3, 1), 3);
    assert.equal(retransmitLimit(3, 99), 6);
  });

  test('LAN (RetransmitMult 4): 4 up to 9 nodes, 8 up to 99, 12 up to 999, then 16', () => {
    // ceil(log10(n+1)) steps up exactly when n+1 passes a power of ten: n=9 → log10 10 = 1.
    for (let n = 1; n <= 9; n++) assert.equal(retransmitLimit(4, n), 4, `n=${n}`);
    for (let n = 10; n <= 99; n++) assert.equal(retransmitLimit(4, n), 8, `n=${n}`);
    for (let n = 100; n <= 999; n++) assert.equal(retransmitLimit(4, n), 12, `n=${n}`);
    for (const n of [1000, 5000, 9999]) assert.equal(retransmitLimit(4, n), 16, `n=${n}`);
    assert.equal(retransmitLimit(4, 10_000), 20);
  });

  test('local (RetransmitMult 2)', () => {
    assert.equal(retransmitLimit(2, 3), 2);
    assert.equal(retransmitLimit(2, 10), 4);
  });
});

describe('pushPullScaleMs (util.go pushPullScale)', () => {
  test('the threshold is 32 nodes', () => {
    assert.equal(PUSH_PULL_SCALE_THRESHOLD, 32);
  });

  test("memberlist's TestPushPullScale ranges: ≤32 → 1×, 33–64 → 2×, 65–128 → 3×", () => {
    for (let n = 0; n <= 32; n++) assert.equal(pushPullScaleMs(1000, n), 1000, `n=${n}`);
    for (let n = 33; n <= 64; n++) assert.equal(pushPullScaleMs(1000, n), 2000, `n=${n}`);
    for (let n = 65; n <= 128; n++) assert.equal(pushPullScaleMs(1000, n), 3000, `n=${n}`);
  });

  test('further doublings add one interval each (ceil(log2 n − 5) + 1)', () => {
    // n=129 → log2 = 7.01 → ceil(2.01) + 1 = 4; n=256 → 8 − 5 = 3 → 4; n=257 → 5; n=1024 → 6;
    // n=1025 → 7.
    const vectors: [n: number, multiple: number][] = [[129, 4], [256, 4], [257, 5], [512, 5], [513, 6], [1024, 6], [1025, 7]];
    for (const [n, multiple] of vectors) assert.equal(pushPullScaleMs(1000, n), multiple * 1000, `n=${n}`);
  });

  test('LAN push/pull every 30 s becomes 60 s at 33 nodes', () => {
    assert.equal(pushPullScaleMs(PROFILES.lan.pushPullIntervalMs, 32), 30_000);
    assert.equal(pushPullScaleMs(PROFILES.lan.pushPullIntervalMs, 33), 60_000);
  });
});
