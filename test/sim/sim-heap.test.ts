// `shoal sim` restarts itself with a heap fit for simulation unless the user chose (sim-heap.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simHeapFlags } from '../../src/cli/sim-heap.js';

const GIB = 1 << 30;

test('adds a 64 MB semi-space and a 7,600 MB old space when neither is given', () => {
  assert.deepEqual(simHeapFlags([], '', 32 * GIB), ['--max-semi-space-size=64', '--max-old-space-size=7600']);
});

test('keeps the old space within 3/4 of a small machine', () => {
  assert.deepEqual(simHeapFlags([], '', 4 * GIB), ['--max-semi-space-size=64', '--max-old-space-size=3072']);
});

test("keeps the user's own choice, from NODE_OPTIONS or node's command line, in either spelling", () => {
  assert.deepEqual(simHeapFlags([], '--max-old-space-size=2000', 32 * GIB), ['--max-semi-space-size=64']);
  assert.deepEqual(simHeapFlags(['--max_semi_space_size=8'], '', 32 * GIB), ['--max-old-space-size=7600']);
  assert.deepEqual(simHeapFlags(['--max-semi-space-size=8'], '--enable-source-maps --max-old-space-size=9000', 32 * GIB), []);
});
