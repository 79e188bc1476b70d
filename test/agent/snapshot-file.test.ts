// The agent's snapshot file: a torn last line (a crash mid-write) is tolerated with a warning and
// cut off, so what is appended next starts on its own line; clocks are restored from the file.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Agent, type LogLine } from '../../src/agent/agent.js';

test('a torn last line is reported, cut off, and the clocks before it are restored', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-snap-'));
  const path = join(dir, 'snapshot');
  writeFileSync(path, 'alive: peer 127.0.0.1:19799\nclock: 7\nevent-clock: 40\nquery-clock: 3\nalive: half-writ');
  const agent = await Agent.start({
    nodeName: 'snap', bindIp: '127.0.0.1', bindPort: 19701, tags: new Map(), profile: 'lan', keys: [],
    rejoinAfterLeave: false, protocol: 5, logLevel: 'ERR', snapshotPath: path,
  });
  const logs: LogLine[] = [];
  agent.on('log', (l: LogLine) => logs.push(l));
  try {
    assert.ok(agent.serf.eventClock.time() > 40n, 'the event clock moved past the restored one');
    assert.ok(agent.serf.clock.time() > 7n);
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.includes('half-writ'), 'the torn tail is gone');
    assert.ok(text.startsWith('alive: peer 127.0.0.1:19799\nclock: 7\n'));
    // Whatever is appended from now on starts on its own line.
    await new Promise((r) => setTimeout(r, 700));
    agent.act((serf, now) => serf.userEvent(now, 'e', null, false));
    await new Promise((r) => setTimeout(r, 700));
    agent.act((serf, now) => serf.userEvent(now, 'f', null, false));
    const after = readFileSync(path, 'utf8');
    assert.ok(after.split('\n').every((line) => line === '' || /^(alive|not-alive|clock|event-clock|query-clock|leave)\b/.test(line)), after);
  } finally {
    await agent.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});
