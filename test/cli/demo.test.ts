// `shoal demo` starts a local cluster, shows it converged, and leaves no process behind.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const shoal = fileURLToPath(new URL('../../src/cli/shoal.js', import.meta.url));

test('shoal demo runs two agents that see each other alive, and Ctrl-C stops them all', { timeout: 60_000 }, async () => {
  const demo = spawn(process.execPath, [shoal, 'demo', '-nodes=2', '-base-port=19561', '-rpc-port=19571'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  demo.stdout.on('data', (c: Buffer) => (out += c.toString()));
  demo.stderr.on('data', (c: Buffer) => (out += c.toString()));
  try {
    const end = Date.now() + 30_000;
    while (Date.now() < end && !(/demo-0\s+127\.0\.0\.1:19561\s+alive/.test(out) && /demo-1\s+127\.0\.0\.1:19562\s+alive/.test(out))) {
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(out, /demo-1\s+127\.0\.0\.1:19562\s+alive/, out);
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
    demo.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 25_000))]);
    assert.notEqual(code, 'timeout', 'the demo stops');
    assert.match(out, /stopping, every agent leaves/);
  } finally {
    if (demo.exitCode === null) demo.kill('SIGKILL');
  }
  const left = (() => {
    try {
      return execFileSync('pgrep', ['-f', 'agent -node=demo-.*-bind=127.0.0.1:1956'], { encoding: 'utf8' });
    } catch {
      return '';
    }
  })();
  assert.equal(left.trim(), '', 'no agent outlives the demo');
});

test('shoal demo refuses a bad node count with a readable error', () => {
  let status = 0;
  let stderr = '';
  try {
    execFileSync(process.execPath, [shoal, 'demo', '-nodes=0'], { encoding: 'utf8', stdio: 'pipe' });
  } catch (err) {
    status = (err as { status: number }).status;
    stderr = String((err as { stderr: string }).stderr);
  }
  assert.equal(status, 1);
  assert.match(stderr, /-nodes: expected a whole number from 1 to 20, got "0"/);
});
