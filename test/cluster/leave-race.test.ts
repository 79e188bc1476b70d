// A graceful leave is seen as left, never failed, even when a push/pull carrying the leave's
// time reaches an observer before the leave intent does (see handleNodeLeaveIntent).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerfCluster } from '../../sim/serf-cluster.js';

test('sequential leaves in 20-node clusters: no observer ever reports one as failed', () => {
  let leaves = 0;
  for (const seed of [2, 7, 10]) {
    const c = new SerfCluster({ seed });
    c.grow(20);
    assert.ok(c.runUntil(() => c.converged(), 30_000));
    c.run(5_000);
    for (let k = 0; k < 6; k++) {
      const name = `node-${19 - k}`;
      let done = false;
      c.act(name, (serf, now) => serf.leave(now, () => (done = true)));
      assert.ok(c.runUntil(() => done, 20_000));
      c.crash(name);
      assert.ok(c.runUntil(() => c.running().every((h) => c.statusOf(h.name, name) === 'left'), 10_000), `${name} left everywhere (seed ${seed})`);
      const failed = c.events.filter((e) => e.event.type === 'member-failed' && e.event.members.some((m) => m.name === name));
      assert.deepEqual(failed.map((e) => e.observer), [], `nobody saw ${name} fail (seed ${seed})`);
      leaves++;
    }
  }
  assert.equal(leaves, 18);
});
