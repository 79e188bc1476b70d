// -join takes host names too (looked up as memberlist does); "localhost" resolves from /etc/hosts,
// so no query leaves the machine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent } from '../../src/agent/agent.js';

test('an agent joins through "localhost:port" and reports a bad address by name', async () => {
  const start = (nodeName: string, bindPort: number): Promise<Agent> =>
    Agent.start({ nodeName, bindIp: '127.0.0.1', bindPort, tags: new Map(), profile: 'lan', keys: [], rejoinAfterLeave: false, protocol: 5, logLevel: 'ERR' });
  const a = await start('name-a', 19841);
  const b = await start('name-b', 19842);
  try {
    const joined = await b.join(['localhost:19841'], false);
    assert.equal(joined.num, 1);
    const bad = await b.join(['127.0.0.1:99999'], false);
    assert.equal(bad.num, 0);
    assert.match(bad.errors.join('\n'), /127\.0\.0\.1:99999/);
  } finally {
    await a.shutdown();
    await b.shutdown();
  }
});
