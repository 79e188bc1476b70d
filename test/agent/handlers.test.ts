import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CoalescedFeed, describeScript, filterMatches, invokeEventScript, isValidFilter, MAX_SCRIPT_OUTPUT, parseEventScript,
  scriptEnv, scriptStdin, ScriptEventHandler,
} from '../../src/agent/handlers.js';
import type { Member } from '../../src/cluster/member.js';
import type { IncomingQuery, SerfEvent } from '../../src/cluster/serf.js';
import type { LogLevel } from '../../src/protocol/effects.js';

function member(name: string, tags: Record<string, string> = {}, ip = [127, 0, 0, 1]): Member {
  return {
    name, addr: new Uint8Array(ip), port: 7946, tags: new Map(Object.entries(tags)), status: 1,
    protocolMin: 1, protocolMax: 5, protocolCur: 2, delegateMin: 2, delegateMax: 5, delegateCur: 4,
  };
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const self = member('self-node', { role: 'web', 'dc-name': 'eu.1' });

function userEvent(name: string, payload: string, lTime = 7n, coalesce = false): SerfEvent {
  return { type: 'user', lTime, name, payload: enc(payload), coalesce };
}

function query(name: string, payload: string, answers: Uint8Array[]): SerfEvent {
  const q: IncomingQuery = {
    lTime: 11n, id: 1, name, payload: enc(payload), sourceNode: 'x', deadlineMs: 0,
    respond: (_now, p) => {
      answers.push(p);
      return null;
    },
  };
  return { type: 'query', query: q };
}

function logs(): { lines: Array<[LogLevel, string]>; log: (l: LogLevel, m: string) => void } {
  const lines: Array<[LogLevel, string]> = [];
  return { lines, log: (l, m) => lines.push([l, m]) };
}

function withDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-handlers-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

const respondVia = (_q: IncomingQuery, _p: Uint8Array): string | null => null;

describe('handler specs (event_handler.go)', () => {
  test('ParseEventScript forms', () => {
    assert.deepEqual(parseEventScript('handler.sh'), [{ event: '*', name: '', script: 'handler.sh' }]);
    assert.deepEqual(parseEventScript('member-join=join.sh'), [{ event: 'member-join', name: '', script: 'join.sh' }]);
    assert.deepEqual(parseEventScript('user:deploy=d.sh a=b'), [{ event: 'user', name: 'deploy', script: 'd.sh a=b' }]);
    assert.deepEqual(parseEventScript('member-join,query:uptime,user=x'), [
      { event: 'member-join', name: '', script: 'x' },
      { event: 'query', name: 'uptime', script: 'x' },
      { event: 'user', name: '', script: 'x' },
    ]);
    assert.equal(parseEventScript('member-reap,member-update,member-failed,member-leave,query=x').every(isValidFilter), true);
    assert.equal(isValidFilter({ event: 'members-join', name: '' }), false);
    assert.equal(describeScript({ event: 'user', name: 'deploy', script: 'd.sh' }), "Event 'user:deploy' invoking 'd.sh'");
  });

  test('filters match the event type and, for user/query, the name', () => {
    const join: SerfEvent = { type: 'member-join', members: [member('a')] };
    const [star] = parseEventScript('x');
    const [mj] = parseEventScript('member-join=x');
    const [deploy] = parseEventScript('user:deploy=x');
    const [anyUser] = parseEventScript('user=x');
    const [uptime] = parseEventScript('query:uptime=x');
    assert.ok(star && mj && deploy && anyUser && uptime);
    assert.equal(filterMatches(star, join), true);
    assert.equal(filterMatches(mj, join), true);
    assert.equal(filterMatches(mj, { type: 'member-leave', members: [] }), false);
    assert.equal(filterMatches(deploy, userEvent('deploy', '')), true);
    assert.equal(filterMatches(deploy, userEvent('other', '')), false);
    assert.equal(filterMatches(anyUser, userEvent('other', '')), true);
    assert.equal(filterMatches(uptime, query('uptime', '', [])), true);
    assert.equal(filterMatches(uptime, query('load', '', [])), false);
    assert.equal(filterMatches(deploy, query('deploy', '', [])), false);
  });
});

describe('environment and stdin (invoke.go)', () => {
  test('SERF_* variables, tags sanitised to upper case', () => {
    assert.deepEqual(scriptEnv(self, userEvent('deploy', 'x', 42n)), {
      SERF_EVENT: 'user', SERF_SELF_NAME: 'self-node', SERF_SELF_ROLE: 'web', SERF_TAG_ROLE: 'web', SERF_TAG_DC_NAME: 'eu.1',
      SERF_USER_EVENT: 'deploy', SERF_USER_LTIME: '42',
    });
    const q = scriptEnv(member('n'), query('uptime', '', []));
    assert.equal(q['SERF_QUERY_NAME'], 'uptime');
    assert.equal(q['SERF_QUERY_LTIME'], '11');
    assert.equal(q['SERF_SELF_ROLE'], '');
    assert.equal(scriptEnv(self, { type: 'member-failed', members: [] })['SERF_EVENT'], 'member-failed');
  });

  test('member events: name, address, role, tags per line, tabs and newlines escaped', () => {
    const text = new TextDecoder().decode(scriptStdin({
      type: 'member-join',
      members: [member('a', { role: 'web', dc: 'x' }), member('b\tc', { note: 'two\nlines' }, [10, 0, 0, 2])],
    }));
    assert.equal(text, 'a\t127.0.0.1\tweb\trole=web,dc=x\nb\\tc\t10.0.0.2\t\tnote=two\\nlines\n');
  });

  test('payloads get a final newline when they lack one; empty stays empty', () => {
    assert.equal(new TextDecoder().decode(scriptStdin(userEvent('e', 'abc'))), 'abc\n');
    assert.equal(new TextDecoder().decode(scriptStdin(userEvent('e', 'abc\n'))), 'abc\n');
    assert.equal(scriptStdin(userEvent('e', '')).length, 0);
    assert.equal(new TextDecoder().decode(scriptStdin(query('q', 'p', []))), 'p\n');
  });
});

describe('running scripts', () => {
  test('a script sees the environment and stdin', withDir(async (dir) => {
    const out = join(dir, 'out');
    const { log } = logs();
    const result = await invokeEventScript(log, `{ env | grep '^SERF_' | sort; cat; } > ${out}`, self, userEvent('deploy', 'v1.2', 5n), respondVia);
    assert.equal(result.error, null);
    assert.equal(readFileSync(out, 'utf8'), [
      'SERF_EVENT=user', 'SERF_SELF_NAME=self-node', 'SERF_SELF_ROLE=web', 'SERF_TAG_DC_NAME=eu.1', 'SERF_TAG_ROLE=web',
      'SERF_USER_EVENT=deploy', 'SERF_USER_LTIME=5', 'v1.2', '',
    ].join('\n'));
  }));

  test("a query script's output is the response, only when it exits 0", async () => {
    const answers: Uint8Array[] = [];
    const { log } = logs();
    await invokeEventScript(log, 'echo "up $(cat)"', self, query('uptime', 'please', answers), (q, p) => q.respond(0, p));
    assert.deepEqual(answers.map((a) => new TextDecoder().decode(a)), ['up please\n']);
    const failed = await invokeEventScript(log, 'echo partial; exit 3', self, query('uptime', '', answers), (q, p) => q.respond(0, p));
    assert.equal(failed.error, 'exit status 3');
    const silent = await invokeEventScript(log, 'true', self, query('uptime', '', answers), (q, p) => q.respond(0, p));
    assert.equal(silent.error, null);
    assert.equal(answers.length, 1);
  });

  test('a refused response is logged; output beyond 8 KiB keeps the tail and warns', async () => {
    const { lines, log } = logs();
    await invokeEventScript(log, 'echo too-big', self, query('q', '', []), () => 'response exceeds limit of 1024 bytes');
    assert.ok(lines.some(([l, m]) => l === 'WARN' && m === "agent: Failed to respond to query 'q': response exceeds limit of 1024 bytes"));
    const big = await invokeEventScript(log, `head -c ${MAX_SCRIPT_OUTPUT + 100} /dev/zero | tr '\\0' a; printf END`, self, userEvent('e', ''), respondVia);
    assert.equal(big.totalWritten, MAX_SCRIPT_OUTPUT + 103);
    assert.equal(big.output.length, MAX_SCRIPT_OUTPUT);
    assert.equal(big.output.subarray(-3).toString(), 'END');
    assert.ok(lines.some(([l, m]) => l === 'WARN' && m.includes(`generated ${MAX_SCRIPT_OUTPUT + 103} bytes of output, truncated to ${MAX_SCRIPT_OUTPUT}`)));
  });

  test('events run one at a time in order through every matching script; failures are logged, not thrown', withDir(async (dir) => {
    const out = join(dir, 'order');
    const { lines, log } = logs();
    const handler = new ScriptEventHandler({
      scripts: [
        ...parseEventScript(`user=sleep 0.1; echo "slow $SERF_USER_EVENT" >> ${out}`),
        ...parseEventScript('member-join=exit 2'),
        ...parseEventScript(`member-join,user:second=echo "fast $SERF_EVENT" >> ${out}`),
      ],
      self: () => self,
      log,
      respond: respondVia,
    });
    void handler.handleEvent(userEvent('first', ''));
    void handler.handleEvent({ type: 'member-join', members: [member('a')] });
    void handler.handleEvent(userEvent('second', ''));
    await handler.idle();
    assert.equal(readFileSync(out, 'utf8'), 'slow first\nfast member-join\nslow second\nfast user\n');
    assert.ok(lines.some(([l, m]) => l === 'ERR' && m === "agent: Error invoking script 'exit 2': exit status 2"));
  }));

  test('new scripts apply from the next event (SIGHUP)', withDir(async (dir) => {
    const out = join(dir, 'which');
    const { log } = logs();
    const handler = new ScriptEventHandler({ scripts: parseEventScript(`echo old >> ${out}`), self: () => self, log, respond: respondVia });
    await handler.handleEvent(userEvent('a', ''));
    handler.updateScripts(parseEventScript(`echo new >> ${out}`));
    await handler.handleEvent(userEvent('b', ''));
    assert.equal(readFileSync(out, 'utf8'), 'old\nnew\n');
  }));
});

describe('coalescing in front of the handlers', () => {
  test('member events within the window arrive as one; queries and plain user events pass at once', async () => {
    const delivered: SerfEvent[] = [];
    const start = Date.now();
    const feed = new CoalescedFeed((e) => delivered.push(e), () => Date.now() - start, {
      member: { coalescePeriodMs: 200, quiescentPeriodMs: 60 },
      user: { coalescePeriodMs: 200, quiescentPeriodMs: 60 },
    });
    feed.push({ type: 'member-join', members: [member('a')] });
    feed.push({ type: 'member-join', members: [member('b')] });
    feed.push(userEvent('plain', 'x'));
    feed.push(userEvent('cc', '1', 3n, true));
    feed.push(userEvent('cc', '2', 4n, true));
    feed.push(query('q', '', []));
    assert.deepEqual(delivered.map((e) => e.type), ['user', 'query']);
    for (let i = 0; i < 100 && delivered.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(delivered.length, 4);
    const joins = delivered.find((e) => e.type === 'member-join');
    assert.deepEqual(joins && 'members' in joins ? joins.members.map((m) => m.name) : null, ['a', 'b']);
    const cc = delivered.filter((e) => e.type === 'user' && e.name === 'cc');
    assert.deepEqual(cc.map((e) => (e.type === 'user' ? e.lTime : null)), [4n]);
    feed.flush();
  });
});
