// Anti-entropy summaries: two nodes of one bucket whose versions moved alike must not cancel out
// in the bucket's XOR, or an observer missing both updates looks in sync and is never repaired
// (what kept 9 of 1,000 simulated nodes without 2 entries each for good).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketOf, differingBuckets, pairHash, summarize } from '../../src/catalog/summary.js';

test('an observer missing the same version bump of two nodes in one bucket sees that bucket differ', () => {
  // The pair from the 1,000-node run: both in one bucket, both bumped by one.
  assert.equal(bucketOf('node-174'), bucketOf('node-512'));
  const behind = new Map([['node-174', 1_730_001], ['node-512', 5_110_001]]);
  const current = new Map([['node-174', 1_730_002], ['node-512', 5_110_002]]);
  assert.deepEqual(differingBuckets(summarize(behind), summarize(current)), [bucketOf('node-174')]);
});

test('no two nodes of a bucket share the hash change of a version bump (1,000 nodes, bumps of 1 and 2, wall-clock versions)', () => {
  for (const [base, bump] of [[10_000, 1], [10_000, 2], [1_700_000_000_000_000, 1]] as const) {
    const seen = new Map<string, string>();
    for (let i = 0; i < 1_000; i++) {
      const node = `node-${i}`;
      const v = base + i * 10_007;
      const change = (pairHash(node, v) ^ pairHash(node, v + bump)) >>> 0;
      assert.notEqual(change, 0);
      const key = `${bucketOf(node)}:${change}`;
      assert.equal(seen.get(key), undefined, `${node} and ${seen.get(key) ?? ''} cancel out (base ${base}, bump ${bump})`);
      seen.set(key, node);
    }
  }
});

test('summaries are order-free and equal for equal catalogs', () => {
  const a = new Map([['x', 5], ['y', 7], ['z', 2 ** 52 + 3]]);
  const b = new Map([['z', 2 ** 52 + 3], ['x', 5], ['y', 7]]);
  assert.deepEqual(summarize(a), summarize(b));
  assert.deepEqual(differingBuckets(summarize(a), summarize(new Map([...a, ['z', 2 ** 52 + 4]]))), [bucketOf('z')]);
});
