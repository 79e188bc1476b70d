// Serf story of issue #4, key rotation: 20 encrypted nodes, each with its own keyring, install a
// new key, make it primary, remove the old one (serf keymanager.go through the internal key
// queries). At every step every node answers, stays whole, drops no packet as malformed, and
// gets each user event fired in between exactly once.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SerfCluster } from '../../sim/serf-cluster.js';
import { keyOperation, type KeyOperation, type KeyResponse } from '../../src/cluster/keyring.js';
import { Keyring } from '../../src/wire/encryption.js';

const OLD = Buffer.alloc(32, 1).toString('base64');
const NEW = Buffer.alloc(32, 2).toString('base64');
const NODES = 20;

function run(c: SerfCluster, op: KeyOperation, key: string | null): KeyResponse {
  let response: KeyResponse | undefined;
  c.act('node-0', (serf, now) => keyOperation(serf, now, op, key, (r) => {
    response = r;
  }));
  assert.ok(c.runUntil(() => response !== undefined, 30_000), `${op} never finished`);
  return response as KeyResponse;
}

function malformed(c: SerfCluster): number {
  return c.hosts.reduce((sum, h) => sum + h.engine.memberlist.stats.malformedPackets, 0);
}

describe('key rotation', () => {
  test('install, use, remove across 20 encrypted nodes: no message lost, no node cut off', () => {
    const c = new SerfCluster({ seed: 31, perNode: () => ({ memberlist: { keyring: Keyring.fromBase64([OLD]) } }) });
    c.grow(NODES);
    assert.ok(c.runUntil(() => c.converged(), 60_000));
    let fired = 0;
    const fireAndCheck = (step: string): void => {
      fired++;
      const name = `after-${step}`;
      c.act(`node-${(fired * 7) % NODES}`, (serf, now) => serf.userEvent(now, name, null, false));
      c.run(5_000);
      for (const h of c.hosts) {
        const got = c.eventsAt(h.name, 'user').map((e) => (e.type === 'user' ? e.name : ''));
        assert.equal(got.length, fired, `${h.name} after ${step}: ${got.join(' ')}`);
        assert.equal(got.filter((n) => n === name).length, 1, `${h.name} got ${name} ${got.filter((n) => n === name).length} times`);
      }
      assert.ok(c.converged(), `not converged after ${step}`);
      assert.equal(malformed(c), 0, `malformed packets after ${step}`);
    };
    const keysEverywhere = (expected: Record<string, number>): void => {
      const list = run(c, 'list-keys', null);
      assert.deepEqual([list.numNodes, list.numResp, list.numErr, list.error], [NODES, NODES, 0, null]);
      assert.deepEqual(Object.fromEntries(list.keys), expected);
    };

    keysEverywhere({ [OLD]: NODES });
    fireAndCheck('start');
    for (const [op, key] of [['install-key', NEW], ['use-key', NEW], ['remove-key', OLD]] as const) {
      const r = run(c, op, key);
      assert.deepEqual([r.numNodes, r.numResp, r.numErr, r.error, r.messages.size], [NODES, NODES, 0, null, 0], op);
      fireAndCheck(op);
      if (op === 'install-key') keysEverywhere({ [OLD]: NODES, [NEW]: NODES });
    }
    keysEverywhere({ [NEW]: NODES });
    for (const h of c.hosts) {
      const ring = h.engine.memberlist.config.keyring;
      assert.ok(ring !== undefined);
      assert.equal(Buffer.from(ring.primaryKey()).toString('base64'), NEW, h.name);
    }
    // Removing the primary key is refused by every node, and nothing changes.
    const refused = run(c, 'remove-key', NEW);
    assert.deepEqual([refused.numResp, refused.numErr, refused.error], [NODES, NODES, `${NODES}/${NODES} nodes reported failure`]);
    assert.equal(new Set(refused.messages.values()).size, 1);
    fireAndCheck('refused-remove');
  });
});
