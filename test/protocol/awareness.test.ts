// Lifeguard local health (reference §6.4), ported from memberlist's awareness_test.go TestAwareness.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Awareness } from '../../src/protocol/awareness.js';
import { PROFILES } from '../../src/protocol/config.js';

test("memberlist's TestAwareness table (max 8: score in [0, 7], timeout × (score + 1))", () => {
  // Each row applies delta to the running score, then checks the score and ScaleTimeout(1 s).
  const cases: [delta: number, score: number, timeoutMs: number][] = [
    [0, 0, 1000],
    [-1, 0, 1000], // never below 0
    [-10, 0, 1000],
    [1, 1, 2000],
    [-1, 0, 1000],
    [10, 7, 8000], // never above max − 1
    [-1, 6, 7000],
    [-1, 5, 6000],
    [-1, 4, 5000],
    [-1, 3, 4000],
    [-1, 2, 3000],
    [-1, 1, 2000],
    [-1, 0, 1000],
    [-1, 0, 1000],
  ];
  const a = new Awareness(8);
  cases.forEach(([delta, score, timeoutMs], i) => {
    a.applyDelta(delta);
    assert.equal(a.getHealthScore(), score, `case ${i}: score`);
    assert.equal(a.scaleTimeout(1000), timeoutMs, `case ${i}: scaled timeout`);
  });
});

test('starts healthy', () => {
  const a = new Awareness(PROFILES.lan.awarenessMaxMultiplier);
  assert.equal(a.getHealthScore(), 0);
  assert.equal(a.scaleTimeout(PROFILES.lan.probeIntervalMs), 1000);
});

test('a saturated score stays at max − 1 and needs that many successes to recover', () => {
  const a = new Awareness(8);
  for (let i = 0; i < 20; i++) a.applyDelta(1);
  assert.equal(a.getHealthScore(), 7);
  // LAN probe interval stretches to 8 s at most (config.go: "Probe interval backs off to 8 seconds").
  assert.equal(a.scaleTimeout(PROFILES.lan.probeIntervalMs), 8000);
  for (let i = 7; i > 0; i--) {
    assert.equal(a.getHealthScore(), i);
    a.applyDelta(-1);
  }
  assert.equal(a.getHealthScore(), 0);
});

test('a multi-nack delta is applied in one step and clamped (probe failed, expectedNacks − nacks)', () => {
  const a = new Awareness(8);
  a.applyDelta(3);
  assert.equal(a.getHealthScore(), 3);
  a.applyDelta(3);
  assert.equal(a.getHealthScore(), 6);
  a.applyDelta(3);
  assert.equal(a.getHealthScore(), 7);
});

test('max 1 pins the score at 0, so timeouts are never scaled', () => {
  const a = new Awareness(1);
  a.applyDelta(5);
  assert.equal(a.getHealthScore(), 0);
  assert.equal(a.scaleTimeout(500), 500);
});

test('scaleTimeout multiplies any duration by score + 1', () => {
  const a = new Awareness(8);
  a.applyDelta(2);
  assert.equal(a.scaleTimeout(0), 0);
  assert.equal(a.scaleTimeout(200), 600);
  assert.equal(a.scaleTimeout(5000), 15_000);
});
