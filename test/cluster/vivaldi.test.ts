// The Vivaldi client: Serf 0.9.4's coordinate/client_test.go ported, traces computed by Serf's own
// Go code compared bit for bit, Serf's performance_test.go scenarios (via phantom.ts), and the
// convergence criterion of issue #4 (every estimated RTT within 25% of the true one).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_COORDINATE_CONFIG, magnitude, newCoordinate, type Coordinate, type CoordinateConfig } from '../../src/cluster/coordinate.js';
import { LatencyFilter, MAX_RTT_MS, VivaldiClient, VivaldiError } from '../../src/cluster/vivaldi.js';
import { SeededRng, type Rng } from '../../src/protocol/rng.js';
import {
  evaluate,
  generateCircle,
  generateClients,
  generateClusters,
  generateGrid,
  generateLine,
  generateRandom,
  generateSplit,
  simulate,
  type Truth,
} from './phantom.js';

function near(actual: number, expected: number, what = 'value'): void {
  assert.ok(Math.abs(actual - expected) <= 1.0e-6, `${what}: ${actual} != ${expected}`);
}

const noRandom: Rng = {
  next: () => assert.fail('unexpected random draw'),
  int: () => assert.fail('unexpected random draw'),
  bytes: () => assert.fail('unexpected random draw'),
};

const config3: CoordinateConfig = { ...DEFAULT_COORDINATE_CONFIG, dimensionality: 3 };

function withVec(config: CoordinateConfig, vec: number[]): Coordinate {
  return { ...newCoordinate(config), vec };
}

function mustUpdate(client: VivaldiClient, node: string, other: Coordinate, rttMs: number): Coordinate {
  const r = client.update(node, other, rttMs);
  if (!r.ok) throw r.error;
  return r.value;
}

/** A coordinate as Go's float bits, in the order the Go trace printed them: Error Adjustment Height Vec... */
function goBits(c: Coordinate): string {
  const view = new DataView(new ArrayBuffer(8));
  return [c.error, c.adjustment, c.height, ...c.vec]
    .map((x) => {
      view.setFloat64(0, x);
      return view.getBigUint64(0).toString(16).padStart(16, '0');
    })
    .join(' ');
}

describe('client basics (client_test.go)', () => {
  test('TestClient_NewClient: dimensionality 0 is refused; a fresh client sits at the origin', () => {
    assert.throws(() => new VivaldiClient(noRandom, { ...DEFAULT_COORDINATE_CONFIG, dimensionality: 0 }), /dimensionality/);
    const config7 = { ...DEFAULT_COORDINATE_CONFIG, dimensionality: 7 };
    assert.deepEqual(new VivaldiClient(noRandom, config7).getCoordinate(), newCoordinate(config7));
    assert.deepEqual(new VivaldiClient(noRandom).getCoordinate(), newCoordinate(DEFAULT_COORDINATE_CONFIG));
  });

  test('a latency filter of size 0 is refused up front (Go would index an empty slice on the first update)', () => {
    assert.throws(() => new VivaldiClient(noRandom, { ...DEFAULT_COORDINATE_CONFIG, latencyFilterSize: 0 }), /latency filter size/);
  });

  test('TestClient_Update: a node right above, further away than expected, pushes us down', () => {
    const client = new VivaldiClient(noRandom, config3);
    assert.deepEqual(client.getCoordinate().vec, [0, 0, 0]);

    const other = withVec(config3, [0, 0, 0.001]);
    const rttMs = 2.0 * 0.001 * 1000;
    const c = mustUpdate(client, 'node', other, rttMs);
    assert.ok((c.vec[2] as number) < 0, `z ${c.vec[2]} should be < 0`);

    const set = client.setCoordinate({ ...c, vec: [c.vec[0] as number, c.vec[1] as number, 99.0] });
    assert.ok(set.ok);
    near(client.getCoordinate().vec[2] as number, 99.0);
  });

  test('getCoordinate returns a copy', () => {
    const client = new VivaldiClient(noRandom, config3);
    const vec = client.getCoordinate().vec as number[];
    vec[0] = 42;
    assert.equal(client.getCoordinate().vec[0], 0);
  });

  test('TestClient_InvalidInPingValues: out-of-range RTTs are refused and change nothing', () => {
    const client = new VivaldiClient(noRandom, config3);
    const other = withVec(config3, [0, 0, 0.001]);
    const dist = client.distanceToNs(other);
    // Serf's cases (an overflowed huge value, −35 s, 11 s) and the ones JS adds.
    for (const rttMs of [9.2e18, -35_000, 11_000, MAX_RTT_MS + 0.000001, Number.NaN, Number.POSITIVE_INFINITY, -0.001]) {
      const r = client.update('node', other, rttMs);
      assert.equal(r.ok, false, `rtt ${rttMs} ms`);
      if (!r.ok) {
        assert.ok(r.error instanceof VivaldiError);
        assert.equal(r.error.kind, 'rtt-out-of-range');
        assert.match(r.error.message, /^round trip time not in valid range, duration .* is not a positive value less than 10s$/);
      }
      assert.equal(client.distanceToNs(other), dist);
    }
    // 0 and exactly 10 s are inside Serf's range.
    assert.ok(client.update('zero', other, 0).ok);
    assert.ok(client.update('ten', other, MAX_RTT_MS).ok);
  });

  test('TestClient_DistanceTo: a coordinate 12.345 s straight up', () => {
    const client = new VivaldiClient(noRandom, { ...config3, heightMin: 0 });
    const other = withVec({ ...config3, heightMin: 0 }, [0, 0, 12.345]);
    assert.equal(client.distanceToNs(other), 12_345_000_000);
    assert.equal(client.distanceToMs(other), 12_345);
  });

  test('TestClient_latencyFilter: a moving median of 3 per node', () => {
    const filter = new LatencyFilter(3);
    near(filter.sample('alice', 0.201), 0.201);
    near(filter.sample('alice', 0.2), 0.201);
    near(filter.sample('alice', 0.207), 0.201);
    // This glitch is medianed out and never seen by Vivaldi.
    near(filter.sample('alice', 1.9), 0.207);
    near(filter.sample('alice', 0.203), 0.207);
    near(filter.sample('alice', 0.199), 0.203);
    near(filter.sample('alice', 0.211), 0.203);
    // Nodes are not coupled.
    near(filter.sample('bob', 0.31), 0.31);
    // Forgetting a node drops its samples.
    assert.equal(filter.nodeCount, 2);
    filter.forget('alice');
    assert.equal(filter.nodeCount, 1);
    near(filter.sample('alice', 0.888), 0.888);
  });

  test('an even number of samples gives the upper median, as sorted[len/2]', () => {
    const filter = new LatencyFilter(4);
    filter.sample('n', 1);
    assert.equal(filter.sample('n', 3), 3);
    filter.sample('n', 2);
    assert.equal(filter.sample('n', 4), 3);
  });

  test('TestClient_NaN_Defense: invalid and incompatible coordinates are refused; a diverged coordinate resets', () => {
    const client = new VivaldiClient(noRandom, config3);
    const nan = withVec(config3, [Number.NaN, 0, 0]);

    let r = client.update('node', nan, 250);
    assert.ok(!r.ok && r.error.kind === 'invalid' && r.error.message.includes('coordinate is invalid'));
    r = client.setCoordinate(nan);
    assert.ok(!r.ok && r.error.message.includes('coordinate is invalid'));

    const wide = withVec(config3, [0, 0, 0, 0, 0, 0]);
    r = client.update('node', wide, 250);
    assert.ok(!r.ok && r.error.kind === 'incompatible' && r.error.message.includes("dimensions aren't compatible"));
    r = client.setCoordinate(wide);
    assert.ok(!r.ok && r.error.message.includes("dimensions aren't compatible"));
    // Incompatibility is checked before validity, as in Serf.
    r = client.update('node', withVec(config3, [Number.NaN]), 250);
    assert.ok(!r.ok && r.error.kind === 'incompatible');
    assert.deepEqual(client.getCoordinate(), newCoordinate(config3));

    // Serf's test poisons the private coordinate with NaN; here a valid but huge one overflows
    // to infinity during the update instead, which takes the same reset path.
    assert.ok(client.setCoordinate(withVec(config3, [1e300, 0, 0])).ok);
    const c = mustUpdate(client, 'node', newCoordinate(config3), 250);
    assert.deepEqual(c, newCoordinate(config3));
    assert.deepEqual(client.stats(), { resets: 1 });
  });

  test('forgetNode drops the latency samples of that node only', () => {
    const client = new VivaldiClient(new SeededRng(1), config3);
    const other = withVec(config3, [0, 0, 0.01]);
    // With a window of 3, after 10 ms, 10 ms, the median stays 10 ms even when 500 ms arrives...
    mustUpdate(client, 'a', other, 10);
    mustUpdate(client, 'a', other, 10);
    const twin = new VivaldiClient(new SeededRng(1), config3);
    mustUpdate(twin, 'a', other, 10);
    mustUpdate(twin, 'a', other, 10);
    twin.forgetNode('a');
    twin.forgetNode('never-seen');
    // ...but after forgetNode the 500 ms sample is the only one, so it is used as is.
    const kept = mustUpdate(client, 'a', other, 500);
    const forgot = mustUpdate(twin, 'a', other, 500);
    assert.ok(magnitude(forgot.vec) > magnitude(kept.vec) * 5, `${magnitude(forgot.vec)} vs ${magnitude(kept.vec)}`);
  });

  test('an adjustment window of 0 disables the adjustment term', () => {
    const client = new VivaldiClient(new SeededRng(1), { ...config3, adjustmentWindowSize: 0 });
    const c = mustUpdate(client, 'a', withVec(config3, [0, 0, 0.01]), 50);
    assert.equal(c.adjustment, 0);
  });

  test('the first update from the origin against the origin moves in a random direction taken from the Rng', () => {
    const a = new VivaldiClient(new SeededRng(5));
    const b = new VivaldiClient(new SeededRng(5));
    const c = new VivaldiClient(new SeededRng(6));
    const origin = newCoordinate();
    const ca = mustUpdate(a, 'x', origin, 10);
    assert.deepEqual(mustUpdate(b, 'x', origin, 10), ca);
    assert.notDeepEqual(mustUpdate(c, 'x', origin, 10).vec, ca.vec);
    assert.ok(magnitude(ca.vec) > 0);
  });
});

describe("bit-for-bit against Serf 0.9.4's Go code", () => {
  // Produced by a Go 1.19 (amd64) program linking Debian's golang-github-hashicorp-serf-dev
  // 0.9.4 coordinate package: 10 clients with the default config, set to the starting coordinates
  // below (distinct, off the origin, so Go's global math/rand is never consulted), then 300 cycles
  // in which client i updates from client j with the RTT below (whole nanoseconds, some zero), and
  // client 0 forgets n1 every 50 cycles. Values are the float64 bits, as "Error Adjustment Height Vec...".
  const n = 10;
  const startVec = (i: number): number[] => Array.from({ length: 8 }, (_, k) => ((((i + 1) * (k + 3)) % 11) - 5) * 1e-4 + (i + 1) * 1e-6);
  const peer = (i: number, cycle: number): number => (i + 1 + ((cycle * 7 + i * 3) % (n - 1))) % n;
  const rttNs = (i: number, j: number, cycle: number): number => {
    const dx = (i % 4) - (j % 4);
    const dy = Math.floor(i / 4) - Math.floor(j / 4);
    const base = Math.trunc(Math.sqrt(dx * dx + dy * dy) * 5e6);
    if ((cycle * 5 + i) % 97 === 0) return 0;
    return base + ((cycle * 31 + i * 7 + j * 13) % 5) * 100000 + 12345;
  };
  const GO_STEPS: [cycle: number, client: number, bits: string][] = [
    [0, 0, '3ff8000000000000 bef7f59e677f13ae 3ee4f8b588e368f1 bf250f6e46cb86d1 bf09231cb6dc697c 3f10fbbfd6baa426 3f03a4e2c78743cd 3f23afdfcaf63d65 3f313b43720554ec 3f389e96fe8f8b24 3f4000f5458ce0ae'],
    [0, 1, '3ff698758c8fcf77 3f17c77d20e2066a 3ef506f0a6b7f4b8 3f0a11e256b71b84 3f43b66ae232a085 3f43ad85d956a647 bf4066d70a11c5b6 bf406fbc12edbff6 3f0a590a9d96ed81 3f09caba0fd74986 3f43b1f85dc4a366'],
    [1, 0, '3ff695e98f24a4a2 3f248c58ef68ae23 3f011cbe5d556674 bf2f6118100df238 3f18003c2d94a2ef 3f44351a46ae9f86 bf412810a21cacb9 3eba043dbebcde00 3f35ca9f512adeb7 3f4c1a6269917a83 3f4ed767cb71e661'],
    [1, 1, '3ff531316a277bed 3f30f17ac2073d63 3f065553151283a5 3f3957566de1619e 3f513ba67e61042c 3f34b4f4d80c1ed5 bf2c875639f1f8bb bf4f3ea81f38771f bf32e60cb2ce3f29 3ef3a83dd2568ad0 3f4668e3b4640be1'],
  ];
  const GO_FINAL = [
    '3f9af97f9803828a 3f36051d8cd919f9 3f1c6e47df6c1ad1 beda8537354b8a9b 3f6b46966e19064e 3f50c8c8b63625ef bf50544e6588dad0 bf6b0c5945c260b7 3f01dff0fc52d70c bf47e21b7a100102 3f7119a5f89bc109',
    '3f999cfb528bed9c 3f33103e1245ad65 3ee4f8b588e368f1 bf3928cd0f70cf8d 3f40a62595abdf8c 3f590de258f055ff bf581acba43d9881 bf3d7ff0588cc942 3f3cf527e23bc572 3f510888925456d3 3f65f5ea8e51e612',
    '3f958061271c8e7e 3f32fd9c0ca48186 3ee5c1ae7270f8ec bf511b2039fc2631 bf63e30ba12058aa 3f5f7c4e27c2a171 bf5e053f7e71e8c7 3f649e92f5c8b500 3f52922ee34cdecd 3f65a52662edaf27 3f5266f7a0ed92fa',
    '3f90fbf004037a4a 3f3745fbe6ce90dd 3f0ab5706c353ac4 bf60ed8d5a5ed425 bf74d69e4c88921c 3f63b3cbcd340440 bf62a6a4b602983b 3f755d31d821481b 3f61fab47190401a 3f70bdc392a57c42 bf4a558f54accc81',
    '3f99455e1f9f841f 3f34bb042aff0705 3ee531deef9a15cd 3f4fc81f6d6eccb7 3f6b26227ebe75a3 bf4f190fbffcc171 3f50feb2e68bc38c bf6a6d0cfb77c43b bf4ce3c9605406ff bf64369669d16506 3f53590c76d2ae60',
    '3f98922849234e17 3f3079317d8a4bf0 3ee4f8b588e368f1 3f42fc78717f8667 3f43d2920eb0f6d4 bf373f95e4b63b13 3f3f747b6acb3101 bf3f703e974cf7cc bf3dc40b5cea16e3 bf41dad583f52267 bf4543398bebe62b',
    '3f9aec49d35b3001 3f31fb9663c785ba 3ee512f10ffb9944 bf21f6d391c2cc87 bf6171ef5fc0c8fe 3f1c2131eb395be2 3f0bc032f558eb53 3f62c1f9baeff78d 3f337bbca25ada8e 3f58ade70475b11e bf6383c7168bac7b',
    '3f9b3ed2d68059b0 3f36f384aa56a6ba 3f1a052c6b0bb2b4 bf55c477a3565c67 bf72af77e4888a57 3f42d3b02aa94d9a bf38d21ee9349819 3f737ccbfb4a6a9e 3f58f9c7fe5ddd1e 3f6b030ab21b9955 bf70f8e766d83777',
    '3f9373ad716a6609 3f37b1fc73334911 3f0a7879514ba992 3f600b207b482b9b 3f6a42106db59780 bf68173f82501b81 3f695044825bf47c bf69090b6da9be8c bf5da436f678a533 bf711942c0329598 bf5e212243f93af1',
    '3f95829ca7620083 3f34bb37cdbf7098 3ef2872a1fe8fa44 3f5b691422c34040 3f42fc4df8241ff2 bf60e93c9e551a12 3f62769b179f443a bf398da825f6ef1b bf584e57302eec00 bf62f4533d3c3916 bf6f5fb1b4093882',
  ];
  const GO_DIST_FROM_0_NS = [888906, 5461416, 10308558, 15127552, 5441591, 7290191, 11268660, 15631312, 10226443, 11163947];

  test('300 cycles of 10 clients: every step, final coordinate and distance match', () => {
    const clients = Array.from({ length: n }, (_, i) => {
      const client = new VivaldiClient(noRandom);
      assert.ok(client.setCoordinate(withVec(DEFAULT_COORDINATE_CONFIG, startVec(i))).ok);
      return client;
    });
    const steps: [number, number, string][] = [];
    for (let cycle = 0; cycle < 300; cycle++) {
      for (let i = 0; i < n; i++) {
        const j = peer(i, cycle);
        const other = (clients[j] as VivaldiClient).getCoordinate();
        const c = mustUpdate(clients[i] as VivaldiClient, `n${j}`, other, rttNs(i, j, cycle) / 1e6);
        if (cycle < 2 && i < 2) steps.push([cycle, i, goBits(c)]);
      }
      if (cycle % 50 === 49) (clients[0] as VivaldiClient).forgetNode('n1');
    }
    assert.deepEqual(steps, GO_STEPS);
    assert.deepEqual(clients.map((c) => goBits(c.getCoordinate())), GO_FINAL);
    assert.deepEqual(clients.map((c) => (clients[0] as VivaldiClient).distanceToNs(c.getCoordinate())), GO_DIST_FROM_0_NS);
    assert.ok(clients.every((c) => c.stats().resets === 0));
  });

  test('a diverging client resets, and keeps its adjustment samples across resets, as in Go', () => {
    const client = new VivaldiClient(noRandom);
    const other = withVec(DEFAULT_COORDINATE_CONFIG, [0, 0.01, 0, 0, 0, 0, 0, 0]);
    const fresh = goBits(newCoordinate());
    for (const [x, node, resets] of [[1e300, 'x', 1], [1e150, 'x', 2], [1e10, 'y', 3]] as const) {
      assert.ok(client.setCoordinate(withVec(DEFAULT_COORDINATE_CONFIG, [x, 0, 0, 0, 0, 0, 0, 0])).ok);
      assert.equal(goBits(mustUpdate(client, node, other, 10)), fresh, `start ${x}`);
      assert.equal(client.stats().resets, resets);
    }
    assert.equal(client.distanceToNs(other), 10020000);
  });

  test('a distance beyond int64 nanoseconds goes through MinInt64, exactly as Go on amd64', () => {
    const other = withVec(DEFAULT_COORDINATE_CONFIG, [0, 0.01, 0, 0, 0, 0, 0, 0]);
    const cases = [
      [1e10, -9223372036854775808n, '3ff8000000000000 c1b09e807d9d6d8e 3ee4f8b588e368f1 c32add6ca3e1f437 40786d8d2fae2ef9 0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000'],
      [1e9, 1000000000000019968n, '3ff8000000000000 c174dc937fff1b16 3ee4f8b588e368f1 c2bd6b5267f240ad c0471ad70a3ca762 0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000 0000000000000000'],
    ] as const;
    for (const [x, goDistNs, goCoord] of cases) {
      const client = new VivaldiClient(noRandom);
      assert.ok(client.setCoordinate(withVec(DEFAULT_COORDINATE_CONFIG, [x, 0, 0, 0, 0, 0, 0, 0])).ok);
      assert.equal(BigInt(client.distanceToNs(other)), goDistNs);
      assert.equal(goBits(mustUpdate(client, 'z', other, 10)), goCoord);
      assert.equal(client.stats().resets, 0);
    }
  });

  test("from a fresh start (random directions included): 25-node grid, 1000 cycles, same figures as Serf's code driven by the same generator", () => {
    // Go side: Serf's coordinate package with its one math/rand call (unitVectorAt) redirected to a
    // Go port of SeededRng (sfc32), seed 1, which also picks the peers as in Simulate.
    const rng = new SeededRng(1);
    const truth = generateGrid(25, 10);
    const clients = generateClients(25, rng);
    simulate(clients, truth, 1000, rng);
    const stats = evaluate(clients, truth);
    assert.equal(stats.errorAvg, 0.0021415687861072543);
    assert.equal(stats.errorMax, 0.03700240000000008);
    assert.equal(
      goBits((clients[0] as VivaldiClient).getCoordinate()),
      '3f655aee0d3fa3e4 bf172e997edb587d 3ee540e478d60b9c bf48703dc0bed7de bf8d73eacc393f29 bf8e806baba9bc05 bf8a806fc133df21 bf70a936a6c9557b bf8ef533710c857e bf6fd1a55837a2a1 3f782f484d64489d',
    );
  });
});

describe("Serf's performance scenarios (performance_test.go)", () => {
  // Serf's bounds were fitted to Go's math/rand stream seeded with 1; ours is sfc32 seeded with 1,
  // so each bound is Serf's times 2 (the worst we measured over seeds 1–5 of line/grid/height/random
  // was 1.7× Serf's; split converged slower on one seed).
  const run = (nodes: number, truth: Truth, cycles: number, config?: CoordinateConfig) => {
    const rng = new SeededRng(1);
    const clients = generateClients(nodes, rng, config);
    simulate(clients, truth, cycles, rng);
    return { clients, stats: evaluate(clients, truth) };
  };
  const within = (stats: { errorAvg: number; errorMax: number }, avg: number, max: number): void => {
    assert.ok(stats.errorAvg <= 2 * avg && stats.errorMax <= 2 * max, `avg ${stats.errorAvg} (Serf ${avg}), max ${stats.errorMax} (Serf ${max})`);
  };

  test('line: 10 nodes 10 ms apart', () => {
    within(run(10, generateLine(10, 10), 1000).stats, 0.0018, 0.0092);
  });

  test('grid: 25 nodes 10 ms apart', () => {
    within(run(25, generateGrid(25, 10), 1000).stats, 0.0015, 0.022);
  });

  test('split: 1 ms LAN, 10 ms WAN', () => {
    within(run(25, generateSplit(25, 1, 10), 1000).stats, 0.00006, 0.00048);
  });

  test('height: a node equidistant from a circle rises above it', () => {
    const radiusMs = 100;
    const { clients, stats } = run(25, generateCircle(25, radiusMs), 1000, { ...DEFAULT_COORDINATE_CONFIG, dimensionality: 2 });
    clients.forEach((client, i) => {
      const h = client.getCoordinate().height;
      if (i === 0) assert.ok(h >= 0.97 * (radiusMs / 1000), `centre height ${h}`);
      else assert.ok(h <= 2 * 0.03 * (radiusMs / 1000), `height of ${i}: ${h}`);
    });
    within(stats, 0.0025, 0.064);
  });

  test('drift: gravity pulls a square of nodes back towards the origin', () => {
    const distS = 0.5;
    const config2 = { ...DEFAULT_COORDINATE_CONFIG, dimensionality: 2 };
    const rng = new SeededRng(1);
    const clients = generateClients(4, rng, config2);
    // Serf's test sets the private coordinates; setCoordinate does the same through the API.
    const corners = [[0, 0], [0, distS], [distS, distS], [distS, distS]];
    clients.forEach((client, i) => assert.ok(client.setCoordinate(withVec(config2, corners[i] as number[])).ok));
    const truth: Truth = Array.from({ length: 4 }, (_, i) =>
      Array.from({ length: 4 }, (_, j) => (i === j ? 0 : i % 2 === 0 && j % 2 === 0 ? Math.SQRT2 * distS * 1000 : distS * 1000)),
    );
    const centreError = (): number => {
      const vecs = clients.map((c) => c.getCoordinate().vec);
      const mid = [0, 1].map((k) => {
        const values = vecs.map((v) => v[k] as number);
        const min = Math.min(...values);
        return min + (Math.max(...values) - min) / 2;
      });
      return magnitude(mid);
    };
    simulate(clients, truth, 1000, rng);
    const baseline = centreError();
    simulate(clients, truth, 10000, rng);
    assert.ok(centreError() <= 0.8 * baseline, `${baseline} -> ${centreError()}`);
  });

  test('random: normally distributed RTTs, mean 100 ms, deviation 10 ms', () => {
    within(run(25, generateRandom(25, 100, 10, new SeededRng(99)), 1000).stats, 0.075, 0.33);
  });
});

describe('convergence (issue #4: every estimate within 25% of the true RTT)', () => {
  test('36-node grid, 10 ms spacing: within 25% after 500 cycles', (t) => {
    const rng = new SeededRng(1);
    const truth = generateGrid(36, 10);
    const clients = generateClients(36, rng);
    simulate(clients, truth, 500, rng);
    const stats = evaluate(clients, truth);
    t.diagnostic(`grid 36: median ${stats.errorMedian.toFixed(5)} avg ${stats.errorAvg.toFixed(5)} max ${stats.errorMax.toFixed(5)}`);
    assert.ok(stats.errorMax <= 0.25, `max relative error ${stats.errorMax}`);
    assert.ok(stats.errorMedian <= 0.01, `median relative error ${stats.errorMedian}`);
  });

  test('3 sites × 12 nodes (60 ms apart, 2 ms LAN spread, access links): within 25% after 2000 cycles', (t) => {
    const rng = new SeededRng(1);
    const truth = generateClusters(3, 12, 30, 2, rng);
    const clients = generateClients(36, rng);
    simulate(clients, truth, 2000, rng);
    const stats = evaluate(clients, truth);
    t.diagnostic(`clusters 36: median ${stats.errorMedian.toFixed(5)} avg ${stats.errorAvg.toFixed(5)} max ${stats.errorMax.toFixed(5)}`);
    assert.ok(stats.errorMax <= 0.25, `max relative error ${stats.errorMax}`);
    assert.ok(stats.errorMedian <= 0.01, `median relative error ${stats.errorMedian}`);
  });

  test('the latency filter keeps occasional 4× spikes (5% of probes) from dragging the estimates', () => {
    const medianWith = (latencyFilterSize: number): number => {
      const rng = new SeededRng(1);
      const truth = generateGrid(36, 10);
      const clients = generateClients(36, rng, { ...DEFAULT_COORDINATE_CONFIG, latencyFilterSize });
      simulate(clients, truth, 1000, rng, (ms) => (rng.next() < 0.05 ? ms * 4 : ms));
      return evaluate(clients, truth).errorMedian;
    };
    const unfiltered = medianWith(1);
    const filtered = medianWith(3);
    assert.ok(filtered * 3 < unfiltered, `median error ${filtered} with the filter vs ${unfiltered} without`);
  });
});
