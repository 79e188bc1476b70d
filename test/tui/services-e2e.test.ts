// The services view in a real terminal (tmux), on `shoal demo`'s agents with their HTTP APIs and
// example services: v shows web on three agents and db on two, all passing; a service registered
// with `shoal services register` appears; x (kill -9) of demo-2 turns its instances critical
// through serfHealth; q stops the demo and leaves a usable shell. Then `shoal tui` against an
// address with no HTTP API says so in the view. Ports 23520–23569. The tmux server (whose hang-up
// ends the demo and its agents) and every agent are ended in after hooks; every wait is bounded.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { rowOf, Tmux, waitFor, waitForScreen } from '../helpers/tmux.js';

const shoal = fileURLToPath(new URL('../../src/cli/shoal.js', import.meta.url));

const serviceRow = (screen: readonly string[], name: string): string => screen.find((l) => new RegExp(`^. ${name}\\s+\\d`).test(l)) ?? '';

/** The pids the demo lists in its first log line, to end them if the demo itself could not. */
function demoPids(screen: readonly string[]): number[] {
  const line = screen.find((l) => l.includes('demo: 3 agents, pids')) ?? '';
  return [...line.matchAll(/demo-\d=(\d+)/g)].map((m) => Number(m[1]));
}

test('services view on shoal demo: services and instances, a registered one appears, a killed member turns critical, q', { timeout: 60_000 }, async (t) => {
  const tmux = new Tmux();
  let pids: number[] = [];
  t.after(() => {
    tmux.kill();
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  tmux.start();
  tmux.type(`${process.execPath} ${shoal} demo -nodes=3 -base-port=23520 -rpc-port=23530 -http-port=23540 -dns-port=23550`);
  tmux.key('Enter');
  let screen = await waitForScreen(tmux, 'three demo members alive', 20_000, (s) => ['demo-0', 'demo-1', 'demo-2'].every((n) => /alive/.test(rowOf(s, n))));
  pids = demoPids(screen);
  assert.equal(pids.length, 3, screen.join('\n'));

  tmux.type('v');
  screen = await waitForScreen(tmux, 'web on three agents and db on two, passing', 15_000, (s) =>
    /^● web\s+3\s+3\s+0\s+0\s+v1,v2$/.test(serviceRow(s, 'web')) && /^● db\s+2\s+2\s+0\s+0\s+primary,replica$/.test(serviceRow(s, 'db')));
  assert.ok(screen.some((l) => /catalog of 127\.0\.0\.1:23540\]$/.test(l)), screen.join('\n'));
  // db (first by name) is selected: its instances, node and address:port, below.
  assert.ok(screen.some((l) => /^── instances of db \(2\)/.test(l)));
  assert.ok(screen.some((l) => /^● demo-2\s+127\.0\.0\.1:23532\s+replica\s+passing\s+serfHealth passing · service:db passing$/.test(l)), screen.join('\n'));

  execFileSync(process.execPath, [shoal, 'services', 'register', '-http-addr=127.0.0.1:23541', '-name=cache', '-port=6379', '-tag=lru'], { encoding: 'utf8', timeout: 10_000 });
  await waitForScreen(tmux, 'the registered service (on demo-1, read through demo-0)', 10_000, (s) => /^● cache\s+1\s+1\s+0\s+0\s+lru$/.test(serviceRow(s, 'cache')));
  tmux.type('k');
  screen = await waitForScreen(tmux, 'cache selected', 5_000, (s) => s.some((l) => /^── instances of cache \(1\)/.test(l)));
  assert.ok(screen.some((l) => /^● demo-1\s+127\.0\.0\.1:6379\s+lru\s+passing\s+serfHealth passing$/.test(l)), screen.join('\n'));

  // Back to the members, select demo-2 (the third by name) and kill it with the demo's x.
  tmux.type('v');
  await waitForScreen(tmux, 'the members table', 5_000, (s) => rowOf(s, 'demo-2') !== '');
  tmux.type('G');
  tmux.type('x');
  await waitForScreen(tmux, 'demo-2 killed', 5_000, (s) => s.some((l) => /demo: kill -9 demo-2/.test(l)));
  tmux.type('v');
  const killedAt = Date.now();
  await waitForScreen(tmux, 'demo-2\'s instances critical', 35_000, (s) =>
    /^✖ web\s+3\s+2\s+0\s+1\s/.test(serviceRow(s, 'web')) && /^✖ db\s+2\s+1\s+0\s+1\s/.test(serviceRow(s, 'db')));
  t.diagnostic(`kill -9 of demo-2 shown as critical services after ${Date.now() - killedAt} ms`);
  tmux.type('g');
  tmux.type('j');
  screen = await waitForScreen(tmux, 'db\'s instances, the critical first', 5_000, (s) => s.some((l) => /^── instances of db \(2\)/.test(l)));
  const instances = screen.slice(screen.findIndex((l) => /^── instances of db/.test(l)) + 2);
  assert.match(instances[0] as string, /^✖ demo-2\s+127\.0\.0\.1:23532\s+replica\s+critical\s+serfHealth critical \(Agent not live or unreachable\)/);
  assert.match(instances[1] as string, /^● demo-0\s+127\.0\.0\.1:23530\s+primary\s+passing/);

  tmux.type('q');
  await waitForScreen(tmux, 'the shell prompt after q (the agents leave)', 20_000, (s) => s.some((l) => /^tui-test\$ ?$/.test(l)));
  tmux.type('echo ok-$((40+2))');
  tmux.key('Enter');
  await waitForScreen(tmux, 'the shell to run a command after the TUI', 5_000, (s) => s.includes('ok-42'));
  await waitFor('every demo agent gone', 5_000, () => pids.every((pid) => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }));
});

test('shoal tui with no HTTP API at -http-addr: the services view says so, the members view works', { timeout: 30_000 }, async (t) => {
  const agent = spawn(process.execPath, [shoal, 'agent', '-node=lone', '-bind=127.0.0.1:23560', '-rpc-addr=127.0.0.1:23561', '-http-addr=127.0.0.1:23562', '-dns-addr=127.0.0.1:23563', '-log-level=warn'], { stdio: 'ignore' });
  const tmux = new Tmux();
  t.after(() => {
    tmux.kill();
    agent.kill('SIGKILL');
  });
  await waitFor('the agent\'s RPC port', 10_000, () => new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port: 23561 }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  }));
  tmux.start();
  // 23569: nothing listens there (as for a serf agent, which has no HTTP API).
  tmux.type(`${process.execPath} ${shoal} tui -rpc-addr=127.0.0.1:23561 -http-addr=127.0.0.1:23569`);
  tmux.key('Enter');
  await waitForScreen(tmux, 'the member', 15_000, (s) => /alive/.test(rowOf(s, 'lone')));
  tmux.type('v');
  const screen = await waitForScreen(tmux, 'the reason in the services view', 10_000, (s) => s.some((l) => l.includes('no service catalog: nothing listens on 127.0.0.1:23569 (connection refused)')));
  assert.ok(screen.some((l) => /a serf agent has none/.test(l)));
  tmux.type('v');
  await waitForScreen(tmux, 'the members again', 5_000, (s) => /alive/.test(rowOf(s, 'lone')));
  tmux.type('q');
  await waitForScreen(tmux, 'the shell prompt after q', 5_000, (s) => s.some((l) => /^tui-test\$ ?$/.test(l)));
});

test('shoal demo names overlapping port ranges and a taken HTTP port before starting any agent', async (t) => {
  const run = (...args: string[]): { status: number; stderr: string } => {
    try {
      execFileSync(process.execPath, [shoal, 'demo', ...args], { encoding: 'utf8', stdio: 'pipe', timeout: 15_000 });
      return { status: 0, stderr: '' };
    } catch (err) {
      return { status: (err as { status: number }).status, stderr: String((err as { stderr: string }).stderr) };
    }
  };
  const overlap = run('-nodes=3', '-base-port=23520', '-rpc-port=23530', '-http-port=23540', '-dns-port=23542');
  assert.equal(overlap.status, 1);
  assert.match(overlap.stderr, /-http-port=23540 and -dns-port=23542 overlap: each gives 3 consecutive ports/);
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(23566, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const taken = run('-nodes=3', '-base-port=23520', '-rpc-port=23530', '-http-port=23564', '-dns-port=23550');
  assert.equal(taken.status, 1);
  assert.match(taken.stderr, /-http-port: 127\.0\.0\.1:23566 is in use \(agent demo-2 would listen there\); give -http-port=another port/);
});
