// `shoal agent` as a real process: two agents join on 127.0.0.1, SIGHUP reloads tags, SIGINT
// leaves gracefully, SIGTERM stops without leaving, and bad flags or config files exit 1 with
// one line naming the file, the field and what is expected.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/test/cli → dist/src/cli/shoal.js */
const SHOAL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'shoal.js');
const dir = mkdtempSync(join(tmpdir(), 'shoal-agent-cli-'));
const children = new Set<ChildProcess>();

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  readonly child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited(timeoutMs?: number): Promise<number | null>;
}

function run(args: string[]): Run {
  const child = spawn(process.execPath, [SHOAL, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => text,
    waitFor: async (pattern, timeoutMs = 10_000) => {
      const until = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (Date.now() > until) assert.fail(`timed out waiting for ${pattern} in:\n${text}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    exited: (timeoutMs = 10_000) =>
      Promise.race([exit, new Promise<number | null>((_r, reject) => setTimeout(() => reject(new Error(`no exit within ${timeoutMs} ms:\n${text}`)), timeoutMs).unref())]),
  };
}

describe('shoal agent', () => {
  test('two agents join; SIGHUP reloads tags; SIGINT leaves gracefully and the other sees it', async () => {
    const events = join(dir, 'events');
    const config = join(dir, 'b.json');
    writeFileSync(config, JSON.stringify({ node_name: 'b', bind: '127.0.0.1:19202', rpc_addr: '127.0.0.1:19212', tags: { role: 'one' } }));
    const a = run([
      'agent', '-node=a', '-bind=127.0.0.1:19201', '-rpc-addr=127.0.0.1:19211', '-profile=local',
      '-event-handler', `member-join,member-leave,member-update=echo "$SERF_EVENT $SERF_SELF_NAME $(cat | tr '\\t\\n' '| ')" >> ${events}`,
    ]);
    await a.waitFor(/Log data will now stream in/);
    const handled = async (pattern: RegExp): Promise<void> => {
      for (let i = 0; i < 200 && !(existsSync(events) && pattern.test(readFileSync(events, 'utf8'))); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(existsSync(events) ? readFileSync(events, 'utf8') : '', pattern);
    };
    const b = run(['agent', `-config-file=${config}`, '-profile=local', '-join=127.0.0.1:19201']);
    await b.waitFor(/Join completed\. Synced with 1 initial agents/);
    await a.waitFor(/\[INFO\] serf: EventMemberJoin: b 127\.0\.0\.1:19202/);
    await b.waitFor(/\[INFO\] serf: EventMemberJoin: a 127\.0\.0\.1:19201/);
    assert.match(a.output(), /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[INFO\] serf: EventMemberJoin: a 127\.0\.0\.1:19201$/m);

    // a's handler runs after the agent's coalescing (a 3 s window, 1 s quiescent): each step waits
    // for it, or the member coalescer would rightly fold join, update and leave into the last one.
    await handled(/^member-join a .*b\|127\.0\.0\.1\|one\|role=one $/m);

    writeFileSync(config, JSON.stringify({ node_name: 'b', bind: '127.0.0.1:19202', rpc_addr: '127.0.0.1:19212', tags: { role: 'two' } }));
    b.child.kill('SIGHUP');
    await b.waitFor(/==> Caught signal: hangup\n==> Reloading configuration\.\.\./);
    await a.waitFor(/\[INFO\] serf: EventMemberUpdate: b/);
    await handled(/^member-update a b\|127\.0\.0\.1\|two\|role=two $/m);

    b.child.kill('SIGINT');
    await b.waitFor(/==> Gracefully shutting down agent\.\.\./);
    assert.equal(await b.exited(), 0);
    await a.waitFor(/\[INFO\] serf: EventMemberLeave: b 127\.0\.0\.1:19202/);
    await handled(/^member-leave a b\|127\.0\.0\.1\|two\|role=two $/m);
    assert.match(readFileSync(events, 'utf8'), /^member-join a a\|127\.0\.0\.1\|\|/, "the agent's own join reaches the handler first");

    a.child.kill('SIGTERM');
    assert.equal(await a.exited(), 1, 'SIGTERM without leave_on_terminate exits 1 without leaving, as Serf');
    assert.doesNotMatch(a.output(), /requesting graceful leave/);
  });

  test('JSON log lines with -log-json', async () => {
    const a = run(['agent', '-node=j', '-bind=127.0.0.1:19203', '-rpc-addr=127.0.0.1:19213', '-log-json']);
    await a.waitFor(/"@message":"serf: EventMemberJoin: j 127\.0\.0\.1:19203"/);
    const line = a.output().split('\n').find((l) => l.includes('EventMemberJoin')) as string;
    const record = JSON.parse(line) as Record<string, string>;
    assert.equal(record['@level'], 'info');
    assert.ok(!Number.isNaN(Date.parse(record['@timestamp'] as string)));
    a.child.kill('SIGINT');
    assert.equal(await a.exited(), 0);
  });

  test('a bad flag exits 1 naming the flag and what is expected', async () => {
    const r = run(['agent', '-node=x', '-bind=127.0.0.1:notaport']);
    assert.equal(await r.exited(), 1);
    assert.equal(r.output(), 'shoal agent: flag -bind: expected "ip[:port]", got "127.0.0.1:notaport"\n');
    const unknown = run(['agent', '-bogus=1']);
    assert.equal(await unknown.exited(), 1);
    assert.match(unknown.output(), /unknown option '--bogus=1'/);
  });

  test('a bad config file exits 1 naming the file, the field and what is expected', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ node_name: 'x', bind: 12 }));
    const r = run(['agent', `-config-file=${file}`]);
    assert.equal(await r.exited(), 1);
    assert.equal(r.output(), `shoal agent: ${file}: field "bind": expected a string, got 12\n`);
    writeFileSync(file, JSON.stringify({ event_handlers: ['memberjoin=x.sh'] }));
    const h = run(['agent', `-config-dir=${dir}`]);
    assert.equal(await h.exited(), 1);
    assert.match(h.output(), new RegExp(`^shoal agent: ${file.replaceAll('/', '\\/').replaceAll('.', '\\.')}: field "event_handlers": expected .*, got "memberjoin=x\\.sh"\\n$`));
  });

  test('a failed -join exits 1', async () => {
    const r = run(['agent', '-node=lonely', '-bind=127.0.0.1:19204', '-rpc-addr=127.0.0.1:19214', '-profile=local', '-join=127.0.0.1:19299']);
    assert.equal(await r.exited(15_000), 1);
    assert.match(r.output(), /shoal agent: join failed: /);
  });
});
