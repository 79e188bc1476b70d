// Catalog messages: round trips, and malformed input that is refused with a reason, never thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOG_MESSAGE_TYPE, decodeCatalogMessage, encodeCatalogMessage, type CatalogMessage } from '../../src/catalog/codec.js';
import { SeededRng } from '../../src/protocol/rng.js';

const state = {
  node: 'n1',
  version: 1_700_000_000_000_000 + 5,
  services: [{ ID: 'web-1', Service: 'web', Tags: ['v1', 'ünï'], Address: '10.0.0.1', Port: 8080, Meta: { team: 'core' } }],
  checks: [{ CheckID: 'c1', Name: 'HTTP', Status: 'warning' as const, Notes: '', Output: 'HTTP GET …: 429', ServiceID: 'web-1', ServiceName: 'web', Type: 'http' }],
};

test('every message kind round-trips', () => {
  const msgs: CatalogMessage[] = [
    { kind: 'states', from: 'a', forward: true, states: [state] },
    { kind: 'states', from: 'a', forward: false, states: [] },
    { kind: 'digest', from: 'b', versions: new Map([['n1', 7], ['n2', 2 ** 52]]), buckets: [] },
    { kind: 'digest', from: 'b', versions: new Map([['n1', 7]]), buckets: [3, 63] },
    { kind: 'summary', from: 'd', hashes: Array.from({ length: 64 }, (_, i) => (i * 0x9e3779b1) >>> 0) },
    { kind: 'request', from: 'c', nodes: ['n1', 'n2'] },
    { kind: 'announce', from: 'e', versions: new Map([['n1', 7], ['n3', 1_700_000_000_000_123]]) },
    { kind: 'announce', from: 'e', versions: new Map() },
  ];
  for (const m of msgs) {
    const bytes = encodeCatalogMessage(m);
    assert.equal(bytes[0], CATALOG_MESSAGE_TYPE);
    const back = decodeCatalogMessage(bytes);
    assert.ok(back.ok, back.ok ? '' : back.reason);
    assert.deepEqual(back.message, m);
  }
});

test('malformed input is refused with a reason: truncation, junk, bad values, trailing bytes', () => {
  const good = encodeCatalogMessage({ kind: 'states', from: 'a', forward: true, states: [state] });
  for (let cut = 0; cut < good.length; cut++) assert.equal(decodeCatalogMessage(good.subarray(0, cut)).ok, false, `cut at ${cut}`);
  assert.equal(decodeCatalogMessage(Uint8Array.of(CATALOG_MESSAGE_TYPE, 99, 0x80)).ok, false);
  assert.equal(decodeCatalogMessage(encodeCatalogMessage({ kind: 'summary', from: 'd', hashes: [1, 2] })).ok, false);
  assert.equal(decodeCatalogMessage(encodeCatalogMessage({ kind: 'digest', from: 'd', versions: new Map(), buckets: [64] })).ok, false);
  assert.equal(decodeCatalogMessage(Uint8Array.of(3, 1, 0x80)).ok, false);
  assert.equal(decodeCatalogMessage(Uint8Array.from([...good, 0])).ok, false);
  const badStatus = encodeCatalogMessage({ kind: 'states', from: 'a', forward: true, states: [{ ...state, checks: [{ ...state.checks[0]!, Status: 'sunny' as never }] }] });
  const r = decodeCatalogMessage(badStatus);
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.reason, /status "sunny"/);
  const badPort = encodeCatalogMessage({ kind: 'states', from: 'a', forward: true, states: [{ ...state, services: [{ ...state.services[0]!, Port: 70000 }] }] });
  assert.equal(decodeCatalogMessage(badPort).ok, false);
});

test('random mutations never throw', () => {
  const rng = new SeededRng(42);
  const good = encodeCatalogMessage({ kind: 'states', from: 'a', forward: true, states: [state, { ...state, node: 'n2' }] });
  let refused = 0;
  for (let i = 0; i < 5_000; i++) {
    const b = Uint8Array.from(good);
    const flips = 1 + rng.int(4);
    for (let k = 0; k < flips; k++) b[2 + rng.int(b.length - 2)] = rng.int(256);
    const r = decodeCatalogMessage(b);
    if (!r.ok) refused++;
  }
  assert.ok(refused > 0);
});
