// CI fuzz run: 200,000 seeded mutations of the fixture corpus through every decoder. Zero
// escaped exceptions and zero internal errors allowed. Long runs: `npm run fuzz -- --seconds 600`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacket } from '../../src/wire/packet.js';
import { loadIndex } from '../helpers/fixtures.js';
import { loadSeedCorpus, runFuzz, summarize } from './fuzz.js';
import { BOMB_EXPANDED_BYTES, decompressionBomb, generators, nestCompress, rawCompound, Rng } from './mutate.js';

const ITERATIONS = 200_000;

test('the seed corpus holds every non-RPC fixture and the RPC ones apart', () => {
  const corpus = loadSeedCorpus();
  const files = loadIndex().files;
  for (const f of files) assert.ok(corpus.entries.some((e) => e.name === f.file), f.file);
  assert.equal(corpus.entries.filter((e) => e.kind === 'rpc').length, files.filter((f) => f.decoded.layer === 'serf-rpc').length);
  assert.ok(corpus.entries.some((e) => e.wrap.includes('encrypt')) && corpus.entries.some((e) => e.wrap.includes('streamEncrypt')));
  assert.ok(corpus.entries.filter((e) => e.sealed).length === 10);
  assert.ok(corpus.messages.length > 50);
});

test('the hostile generators are refused for the reason they were built for', () => {
  const corpus = loadSeedCorpus();
  const ping = corpus.messages.find((m) => m[0] === 0) as Uint8Array;

  const bomb = decodePacket(decompressionBomb());
  assert.ok(!bomb.ok && bomb.error.layer === 'lzw' && /exceeds the limit/.test(bomb.error.reason), bomb.ok ? 'decoded' : bomb.error.message);
  assert.ok(decompressionBomb().length < 65_536 && BOMB_EXPANDED_BYTES > 1 << 20);

  assert.ok(decodePacket(nestCompress(ping, 4)).ok);
  const deep = decodePacket(nestCompress(ping, 5));
  assert.ok(!deep.ok && /nested deeper/.test(deep.error.reason));
  let compound = ping;
  for (let i = 0; i < 5; i++) compound = rawCompound([compound]);
  const deepCompound = decodePacket(compound);
  assert.ok(!deepCompound.ok && /nested deeper/.test(deepCompound.error.reason));

  // 255 parts of zero bytes: each part is an empty message.
  const empty = decodePacket(rawCompound(Array.from({ length: 255 }, () => new Uint8Array(0))));
  assert.ok(!empty.ok && /empty message/.test(empty.error.reason));
  const many = decodePacket(rawCompound(Array.from({ length: 255 }, () => ping)));
  assert.ok(many.ok && many.value.messages.length === 255);

  const rng = new Rng(3);
  for (const make of Object.values(generators)) {
    for (let i = 0; i < 50; i++) decodePacket(make(rng, corpus));
  }
});

test(`fuzz: ${ITERATIONS} mutations, no escaped exception, no internal error`, { timeout: 120_000 }, (t) => {
  const stats = runFuzz({ seed: 1, iterations: ITERATIONS });
  t.diagnostic(summarize(stats));
  assert.equal(stats.iterations, ITERATIONS);
  const shown = stats.internalErrors.slice(0, 5).map((b) => `${b.kind} in ${b.fn} at iteration ${b.iteration} (${b.how}): ${b.message}\n  input ${b.inputHex.slice(0, 400)}`);
  assert.equal(stats.bugCount, 0, shown.join('\n'));
  // A hang guard beyond the timeout: no single call may take seconds (the 10 MiB bomb through a stream takes ~50 ms).
  assert.ok(stats.slowest.ms < 5000, `slowest call ${stats.slowest.ms} ms`);
});
