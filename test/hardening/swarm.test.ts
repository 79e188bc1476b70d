// `shoal swarm` (src/cli/swarm.ts): many agents in one process on real UDP/TCP ports of
// 127.0.0.1. A small swarm forms one cluster and idles with no false failures; the summary's
// figures are filled in. Ports 25500–25599. `npm run bench:scale -- --mode swarm` finds its limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSwarm } from '../../src/cli/swarm.js';

test('a swarm of 24 agents in one process forms one cluster and idles with no false failure', { timeout: 60_000 }, async () => {
  const lines: string[] = [];
  const s = await runSwarm({ n: 24, basePort: 25_500, profile: 'lan', durationS: 12, rpcPort: 25_590, reportEveryS: 2, print: (l) => lines.push(l) });
  console.log(`# swarm: ${JSON.stringify(s)}`);
  assert.ok(s.formedMs !== null, `formed: ${s.formedMs}\n${lines.join('\n')}`);
  assert.equal(s.convergedAgents, 24);
  assert.equal(s.falseFailureEvents, 0);
  assert.ok(s.rssMiB > 0 && s.heapUsedMiB > 0 && s.elapsedS >= 12);
  assert.ok(lines.some((l) => /see all alive/.test(l)), 'progress lines were printed');
});
