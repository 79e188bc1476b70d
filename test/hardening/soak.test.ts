// A short soak in CI (bench/hardening/soak.ts): five real shoal agent processes under churn —
// crashes, graceful leaves, restarts from snapshots, user events, tag changes, service churn over
// the HTTP API — for about half a minute, every invariant checked after every action: membership
// converges to what happened, no running agent is accused, every event reaches every agent,
// every running agent's catalog holds exactly the running agents' services and check states, no
// agent exits on its own. Ports: gossip 25200.., RPC 25700.., HTTP 25800.., DNS 25900..
// (portBase + 500/600/700). `npm run soak` runs long ones.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { runSoak } from '../../bench/hardening/soak.js';
import { killAllAgents } from '../../bench/hardening/agents.js';

after(killAllAgents);

test('a short soak: churn with every invariant holding', { timeout: 90_000 }, async () => {
  const lines: string[] = [];
  const report = await runSoak({
    minutes: 0.5, agents: 5, anchors: 2, portBase: 25_200, seed: 3, profile: 'local',
    // Crash detection takes up to ~18 s in the local profile (suspicion timeout at its Lifeguard
    // maximum with few confirmations); under a loaded CI machine more.
    convergeTimeoutMs: 30_000, memorySampleEveryMs: 5_000, restartGraceMs: 10_000, log: (l) => lines.push(l),
  });
  console.log(`# soak: ${report.durationS} s, actions ${JSON.stringify(report.actions)}, convergence median ${report.convergeMs.p50} ms, max ${report.convergeMs.max} ms, peak RSS ${report.peakRssMiB.toFixed(1)} MiB`);
  assert.deepEqual(report.violations, [], lines.join('\n'));
  const total = Object.values(report.actions).reduce((a, b) => a + b, 0);
  // On a loaded machine a crash's detection and slow gossip take most of the run: seed 3 starts
  // with services, tags, event, crash, so four actions cover service churn and a crash.
  assert.ok(total >= 4, `only ${total} actions ran`);
  assert.ok((report.actions['crash'] ?? 0) + (report.actions['leave'] ?? 0) >= 1, 'some agent went down');
  assert.ok((report.actions['services'] ?? 0) >= 1, 'some service churn ran');
  assert.ok(report.convergeMs.count >= total, 'every action was followed by convergence');
  assert.ok(report.anchors.every((a) => a.samples.length >= 2), 'memory was sampled along the way');
});
