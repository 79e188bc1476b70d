import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseFlags } from '../../src/cli/flags.js';

describe('normaliseFlags', () => {
  test("turns Serf's single-dash long flags into double-dash ones", () => {
    assert.deepEqual(normaliseFlags(['members', '-format', 'json']), ['members', '--format', 'json']);
    assert.deepEqual(normaliseFlags(['agent', '-node=a', '-bind=127.0.0.1:7946']), ['agent', '--node=a', '--bind=127.0.0.1:7946']);
    assert.deepEqual(normaliseFlags(['decode', '-tcp', '-hex=0b81']), ['decode', '--tcp', '--hex=0b81']);
  });

  test('keeps the value after = exactly, even when it holds dashes or =', () => {
    assert.deepEqual(normaliseFlags(['-tag=role=web-1']), ['--tag=role=web-1']);
    assert.deepEqual(normaliseFlags(['-key=ab+/cd==']), ['--key=ab+/cd==']);
    assert.deepEqual(normaliseFlags(['-log-level=debug']), ['--log-level=debug']);
  });

  test('leaves double-dash flags, single-letter flags and plain arguments alone', () => {
    const args = ['decode', '--hex', '0b81', '-h', '-v', '-x=1', 'plain', '-', 'a-b'];
    assert.deepEqual(normaliseFlags(args), args);
  });

  test('leaves negative numbers alone', () => {
    const args = ['-5', '-1.5', '-0', '-1e3', '-.5'];
    assert.deepEqual(normaliseFlags(args), args);
  });

  test('stops at --: everything after it is an argument', () => {
    assert.deepEqual(normaliseFlags(['-node=a', '--', '-payload', '--', '-x']), ['--node=a', '--', '-payload', '--', '-x']);
    assert.deepEqual(normaliseFlags(['--']), ['--']);
  });

  test('does not touch flag-like text that is not a flag name', () => {
    const args = ['-=x', '-@name', '-_x', '-a.b', '---x'];
    assert.deepEqual(normaliseFlags(args), args);
  });

  test('returns a new array and leaves its input unchanged', () => {
    const args = ['-node=a'];
    const out = normaliseFlags(args);
    assert.notEqual(out, args);
    assert.deepEqual(args, ['-node=a']);
    assert.deepEqual(normaliseFlags([]), []);
  });
});
