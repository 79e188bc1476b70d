// Vivaldi coordinate math, ported from Serf 0.9.4's coordinate/coordinate_test.go (same inputs,
// same expected values, same 1e-6 tolerance as its verifyEqualFloats), plus the Go time.Duration
// conversions Serf's DistanceTo goes through.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_COORDINATE_CONFIG,
  DimensionalityConflictError,
  add,
  applyForce,
  distanceMs,
  distanceNs,
  durationSeconds,
  isCompatibleWith,
  isValid,
  magnitude,
  newCoordinate,
  rawDistance,
  scale,
  secondsToDurationNs,
  sub,
  unitVectorAt,
  type Coordinate,
  type CoordinateConfig,
} from '../../src/cluster/coordinate.js';
import { SeededRng, type Rng } from '../../src/protocol/rng.js';

/** Serf's verifyEqualFloats. */
function near(actual: number, expected: number, what = 'value'): void {
  assert.ok(Math.abs(actual - expected) <= 1.0e-6, `${what}: ${actual} != ${expected}`);
}

function nearVec(actual: readonly number[], expected: readonly number[]): void {
  assert.equal(actual.length, expected.length, 'vector length');
  actual.forEach((v, i) => near(v, expected[i] as number, `component ${i}`));
}

/** A generator that always returns the same value, to steer unitVectorAt's random branch. */
function constantRng(value: number): Rng {
  return { next: () => value, int: () => 0, bytes: (out) => out };
}

const noRandom: Rng = {
  next: () => assert.fail('unexpected random draw'),
  int: () => assert.fail('unexpected random draw'),
  bytes: () => assert.fail('unexpected random draw'),
};

const config3: CoordinateConfig = { ...DEFAULT_COORDINATE_CONFIG, dimensionality: 3, heightMin: 0 };

function at(config: CoordinateConfig, vec: number[], rest: Partial<Coordinate> = {}): Coordinate {
  return { ...newCoordinate(config), ...rest, vec };
}

const seconds = (c1: Coordinate, c2: Coordinate): number => durationSeconds(distanceNs(c1, c2));

describe('config and construction', () => {
  test("defaults are Serf's DefaultConfig (reference §8.9)", () => {
    assert.deepEqual({ ...DEFAULT_COORDINATE_CONFIG }, {
      dimensionality: 8,
      vivaldiErrorMax: 1.5,
      vivaldiCE: 0.25,
      vivaldiCC: 0.25,
      adjustmentWindowSize: 20,
      heightMin: 1e-5,
      latencyFilterSize: 3,
      gravityRho: 150,
    });
    assert.ok(Object.isFrozen(DEFAULT_COORDINATE_CONFIG));
  });

  test('TestCoordinate_NewCoordinate: origin, error max, height min', () => {
    const c = newCoordinate(DEFAULT_COORDINATE_CONFIG);
    assert.equal(c.vec.length, 8);
    assert.deepEqual(c, { vec: [0, 0, 0, 0, 0, 0, 0, 0], error: 1.5, adjustment: 0, height: 1e-5 });
    assert.equal(newCoordinate({ ...DEFAULT_COORDINATE_CONFIG, dimensionality: 3 }).vec.length, 3);
  });
});

describe('validity and compatibility', () => {
  test('TestCoordinate_IsValid: NaN or Inf in any field is invalid', () => {
    const base = newCoordinate(DEFAULT_COORDINATE_CONFIG);
    assert.ok(isValid(base));
    const fields = 8 + 3;
    for (let i = 0; i < fields; i++) {
      for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
        const vec = [...base.vec];
        let c: Coordinate;
        if (i < 8) {
          vec[i] = bad;
          c = { ...base, vec };
        } else {
          const field = (['error', 'adjustment', 'height'] as const)[i - 8] as 'error' | 'adjustment' | 'height';
          c = { ...base, [field]: bad };
        }
        assert.equal(isValid(c), false, `field ${i} = ${bad}`);
      }
      assert.ok(isValid(base), `field ${i} back to valid`);
    }
  });

  test('TestCoordinate_IsCompatibleWith: only the dimensionality matters', () => {
    const c1 = newCoordinate({ ...DEFAULT_COORDINATE_CONFIG, dimensionality: 3 });
    const c2 = newCoordinate({ ...DEFAULT_COORDINATE_CONFIG, dimensionality: 3 });
    const alien = newCoordinate({ ...DEFAULT_COORDINATE_CONFIG, dimensionality: 2 });
    assert.ok(isCompatibleWith(c1, c1) && isCompatibleWith(c2, c2) && isCompatibleWith(alien, alien));
    assert.ok(isCompatibleWith(c1, c2) && isCompatibleWith(c2, c1));
    assert.ok(!isCompatibleWith(c1, alien) && !isCompatibleWith(alien, c1) && !isCompatibleWith(c2, alien));
  });
});

describe('vector helpers', () => {
  test('TestCoordinate_add', () => {
    nearVec(add([1.0, -3.0, 3.0], [-4.0, 5.0, 6.0]), [-3.0, 2.0, 9.0]);
    nearVec(add([1.0, -3.0, 3.0], [0, 0, 0]), [1.0, -3.0, 3.0]);
  });

  test('TestCoordinate_diff', () => {
    nearVec(sub([1.0, -3.0, 3.0], [-4.0, 5.0, 6.0]), [5.0, -8.0, -3.0]);
    nearVec(sub([1.0, -3.0, 3.0], [0, 0, 0]), [1.0, -3.0, 3.0]);
  });

  test('scale (Serf mul)', () => {
    assert.deepEqual(scale([1, -2, 0.5], 2), [2, -4, 1]);
  });

  test('TestCoordinate_magnitude', () => {
    near(magnitude([0, 0, 0]), 0.0);
    near(magnitude([1.0, -2.0, 3.0]), 3.7416573867739413);
  });

  test('TestCoordinate_unitVectorAt: normalised difference and its length', () => {
    const vec1 = [1.0, 2.0, 3.0];
    const vec2 = [0.5, 0.6, 0.7];
    const { unit, magnitude: mag } = unitVectorAt(vec1, vec2, noRandom);
    nearVec(unit, [0.18257418583505536, 0.511207720338155, 0.8398412548412546]);
    near(magnitude(unit), 1.0);
    near(mag, magnitude(sub(vec1, vec2)));
  });

  test('unitVectorAt: identical points give a random unit vector from the injected Rng, and distance 0', () => {
    const vec = [1.0, 2.0, 3.0];
    const a = unitVectorAt(vec, vec, new SeededRng(7));
    near(magnitude(a.unit), 1.0);
    assert.equal(a.magnitude, 0);
    // The direction is the Rng's: the same seed gives the same vector, another seed another one.
    assert.deepEqual(unitVectorAt(vec, vec, new SeededRng(7)).unit, a.unit);
    assert.notDeepEqual(unitVectorAt(vec, vec, new SeededRng(8)).unit, a.unit);
    // Components are next() − 0.5, normalised: a constant 0.75 points along (1, 1, 1).
    nearVec(unitVectorAt(vec, vec, constantRng(0.75)).unit, [1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3)]);
  });

  test('unitVectorAt: when the random vector is zero too, it falls back to the first axis (Serf could not reach this in its tests)', () => {
    const { unit, magnitude: mag } = unitVectorAt([4, 4], [4, 4], constantRng(0.5));
    assert.deepEqual(unit, [1, 0]);
    assert.equal(mag, 0);
  });

  test('points closer than 1e-6 count as the same place', () => {
    const r = unitVectorAt([0, 0, 5e-7], [0, 0, 0], constantRng(0.75));
    assert.equal(r.magnitude, 0);
    nearVec(r.unit, [1 / Math.sqrt(3), 1 / Math.sqrt(3), 1 / Math.sqrt(3)]);
  });
});

describe('applyForce', () => {
  test('TestCoordinate_ApplyForce', () => {
    const origin = newCoordinate(config3);

    // Normalises, gets the direction right and applies the force multiplier.
    const above = at(config3, [0.0, 0.0, 2.9]);
    let c = applyForce(config3, origin, 5.3, above, noRandom);
    nearVec(c.vec, [0.0, 0.0, -5.3]);

    // A point not at the origin.
    const right = at(config3, [3.4, 0.0, -5.3]);
    c = applyForce(config3, c, 2.0, right, noRandom);
    nearVec(c.vec, [-2.0, 0.0, -5.3]);

    // On top of each other: a random direction, one unit away.
    c = applyForce(config3, origin, 1.0, origin, new SeededRng(1));
    near(seconds(origin, c), 1.0);

    // A minimum height is factored in.
    const withMin: CoordinateConfig = { ...config3, heightMin: 10.0e-6 };
    const origin2 = newCoordinate(withMin);
    c = applyForce(withMin, origin2, 5.3, above, noRandom);
    nearVec(c.vec, [0.0, 0.0, -5.3]);
    near(c.height, withMin.heightMin + (5.3 * withMin.heightMin) / 2.9);

    // ...and enforced.
    c = applyForce(withMin, origin2, -5.3, above, noRandom);
    nearVec(c.vec, [0.0, 0.0, 5.3]);
    near(c.height, withMin.heightMin);

    // Mismatched dimensions are a programming error (Serf panics).
    const bad = at(config3, [0, 0, 0, 0]);
    assert.throws(() => applyForce(withMin, c, 1.0, bad, noRandom), DimensionalityConflictError);
  });

  test('does not touch its arguments and keeps error and adjustment', () => {
    const c = at(config3, [1, 2, 3], { error: 0.7, adjustment: 0.01, height: 0.2 });
    const other = at(config3, [0, 0, 0]);
    const before = structuredClone(c);
    const moved = applyForce(config3, c, 0.5, other, noRandom);
    assert.deepEqual(c, before);
    assert.equal(moved.error, 0.7);
    assert.equal(moved.adjustment, 0.01);
    assert.notEqual(moved.vec, c.vec);
  });

  test('identical points leave the height alone (distance 0 is not above the threshold)', () => {
    const c = at(config3, [1, 1, 1], { height: 0.3 });
    assert.equal(applyForce(config3, c, 2, c, new SeededRng(3)).height, 0.3);
  });
});

describe('distances', () => {
  test('TestCoordinate_DistanceTo', () => {
    let c1 = at(config3, [-0.5, 1.3, 2.4]);
    let c2 = at(config3, [1.2, -2.3, 3.4]);
    near(seconds(c1, c1), 0.0);
    near(seconds(c1, c2), seconds(c2, c1));
    near(seconds(c1, c2), 4.104875150354758);

    // Negative adjustment factors are ignored.
    c1 = { ...c1, adjustment: -1.0e6 };
    near(seconds(c1, c2), 4.104875150354758);

    // Positive adjustment factors count.
    c1 = { ...c1, adjustment: 0.1 };
    c2 = { ...c2, adjustment: 0.2 };
    near(seconds(c1, c2), 4.104875150354758 + 0.3);

    // So do the heights.
    c1 = { ...c1, height: 0.7 };
    c2 = { ...c2, height: 0.1 };
    near(seconds(c1, c2), 4.104875150354758 + 0.3 + 0.8);

    assert.throws(() => distanceNs(c1, at(config3, [0, 0, 0, 0])), DimensionalityConflictError);
  });

  test("TestCoordinate_dist_Example: the documentation's self-contained formula agrees", () => {
    const c1 = at(DEFAULT_COORDINATE_CONFIG, [-0.5, 1.3, 2.4], { adjustment: 0.1, height: 0.7 });
    const c2 = at(DEFAULT_COORDINATE_CONFIG, [1.2, -2.3, 3.4], { adjustment: 0.2, height: 0.1 });
    let rtt = Math.sqrt(c1.vec.reduce((s, v, i) => s + (v - (c2.vec[i] as number)) ** 2, 0)) + c1.height + c2.height;
    const adjusted = rtt + c1.adjustment + c2.adjustment;
    if (adjusted > 0) rtt = adjusted;
    near(seconds(c1, c2), rtt);
  });

  test('TestCoordinate_rawDistanceTo: no adjustments, heights included', () => {
    let c1 = at(config3, [-0.5, 1.3, 2.4]);
    let c2 = at(config3, [1.2, -2.3, 3.4]);
    near(rawDistance(c1, c1), 0.0);
    near(rawDistance(c1, c2), rawDistance(c2, c1));
    near(rawDistance(c1, c2), 4.104875150354758);
    c1 = { ...c1, adjustment: 1.0e6 };
    near(rawDistance(c1, c2), 4.104875150354758);
    c1 = { ...c1, height: 0.7 };
    c2 = { ...c2, height: 0.1 };
    near(rawDistance(c1, c2), 4.104875150354758 + 0.8);
  });

  test('distanceNs is a whole number of nanoseconds, truncated as Go converts to time.Duration', () => {
    const c1 = at(config3, [0, 0, 0]);
    const c2 = at(config3, [0, 0, 12.345]);
    assert.equal(distanceNs(c1, c2), 12_345_000_000); // Go: time.Duration(12.345 * 1e9)
    assert.equal(distanceNs(c1, at(config3, [0, 0, 1.9999999999e-9])), 1);
    assert.equal(distanceMs(c1, c2), 12345);
  });
});

describe('Go time.Duration conversions', () => {
  test('secondsToDurationNs truncates towards zero and has no negative zero', () => {
    assert.equal(secondsToDurationNs(1.5e-9), 1);
    assert.equal(secondsToDurationNs(-1.5e-9), -1);
    assert.ok(Object.is(secondsToDurationNs(-0.1e-9), 0));
  });

  test('out of int64 range or NaN gives math.MinInt64, as Go on amd64 (values checked with Go 1.19)', () => {
    for (const s of [1e10, -1e10, -9.3e9, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.equal(BigInt(secondsToDurationNs(s)), -9223372036854775808n, String(s));
    }
    assert.equal(BigInt(secondsToDurationNs(1e9)), 1000000000000000000n);
  });

  test('durationSeconds is Duration.Seconds(): whole seconds + nanoseconds / 1e9 (bits checked with Go 1.19)', () => {
    const bits = (x: number): string => {
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, x);
      return view.getBigUint64(0).toString(16).padStart(16, '0');
    };
    const cases: [ns: number, goBits: string][] = [
      [1500000000, '3ff8000000000000'],
      [999999999, '3fefffffff768fa1'],
      [-1500000001, 'bff800000044b830'],
      [2 ** 62 + 2 ** 20, '41f12e0be826dae0'],
      [-(2 ** 62) - 2 ** 30, 'c1f12e0be83804a1'],
      [9007199254740992, '41612e0be826d695'],
      [123456789123456, '40fe240ca03feac0'],
    ];
    for (const [ns, goBits] of cases) assert.equal(bits(durationSeconds(ns)), goBits, String(ns));
    // Where Go's order of operations rounds differently from ns / 1e9:
    assert.equal(durationSeconds(2806125446), 2.8061254460000002);
    assert.notEqual(2806125446 / 1e9, 2.8061254460000002);
    assert.equal(durationSeconds(115844986188), 115.84498618800001);
  });
});
