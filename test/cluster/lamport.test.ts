// Serf's Lamport clock (lamport.go, lamport_test.go).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LamportClock } from '../../src/cluster/lamport.js';

test('a new clock reads 0 and increments by one', () => {
  const c = new LamportClock();
  assert.equal(c.time(), 0n);
  assert.equal(c.increment(), 1n);
  assert.equal(c.time(), 1n);
});

test('witness moves past a newer or equal time and ignores an older one', () => {
  const c = new LamportClock();
  c.witness(41n);
  assert.equal(c.time(), 42n);
  c.witness(30n);
  assert.equal(c.time(), 42n);
  c.witness(42n);
  assert.equal(c.time(), 43n, 'an equal time still advances the clock, as Serf does');
});

test('times beyond 2^53 stay exact', () => {
  const c = new LamportClock();
  c.witness(2n ** 63n);
  assert.equal(c.time(), 2n ** 63n + 1n);
});
