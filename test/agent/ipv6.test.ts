// The runtime speaks IPv6 too: two agents on [::1] join and see each other alive.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent } from '../../src/agent/agent.js';

test('two agents on ::1 join and list each other alive', async () => {
  const start = (nodeName: string, bindPort: number): Promise<Agent> =>
    Agent.start({ nodeName, bindIp: '::1', bindPort, tags: new Map(), profile: 'lan', keys: [], rejoinAfterLeave: false, protocol: 5, logLevel: 'ERR' });
  const a = await start('v6-a', 19811);
  const b = await start('v6-b', 19812);
  try {
    assert.deepEqual(await b.join(['[::1]:19811'], false), { num: 1, errors: [] });
    const end = Date.now() + 10_000;
    const alive = (agent: Agent): boolean => agent.serf.members().filter((m) => m.status === 1).length === 2;
    while (Date.now() < end && !(alive(a) && alive(b))) await new Promise((r) => setTimeout(r, 100));
    assert.ok(alive(a) && alive(b));
    assert.equal(a.serf.member('v6-b')?.addr.length, 16, 'the address travels as 16 bytes');
  } finally {
    await a.shutdown();
    await b.shutdown();
  }
});
