// The client commands against real serf 0.9.4 agents: each shoal command's output is compared
// with `serf <command>` run against the same agent. Serf prints members, tags and per-node lists
// in Go's random map order, so those comparisons sort lines; everything else is byte for byte.
// Serf writes its errors to stdout, shoal to stderr: the words are compared.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { columnize, goHostPort, goJson, parseGoDuration, sortedObject } from '../../src/cli/commands/common.js';

const SHOAL = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'cli', 'shoal.js');
const KEY = '22340oqL86o596XonHmP4/7RgmZRt8wgPkmlK3vybmI=';
const NEW_KEY = 'HvY8ubRZMgafUOWvrOadwOckVa1wN3QWAo46FVKbVN8=';
const NODES = [
  { name: 'a1', bind: 19310, rpc: 19360 },
  { name: 'a2', bind: 19311, rpc: 19361 },
  { name: 'a3', bind: 19312, rpc: 19362 },
] as const;
const RPC = (i: number): string => `-rpc-addr=127.0.0.1:${NODES[i]?.rpc ?? 0}`;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, env: { ...process.env, SERF_RPC_ADDR: '', SERF_RPC_AUTH: '' } }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

const serf = (args: readonly string[]): Promise<Run> => run('serf', args);
const shoal = (args: readonly string[]): Promise<Run> => run(process.execPath, [SHOAL, ...args]);

/** Runs the same command line through both, side by side (queries take their timeout). */
async function both(args: readonly string[]): Promise<[Run, Run]> {
  return Promise.all([serf(args), shoal(args)]);
}

async function sameOutput(args: readonly string[]): Promise<string> {
  const [s, t] = await both(args);
  assert.equal(t.stdout, s.stdout, `shoal ${args.join(' ')}`);
  assert.equal(t.code, s.code);
  return t.stdout;
}

/**
 * Like sameOutput, for query output with acks: an ack and a response race each other to the
 * client, so serf itself prints them in either order; compare the lines, not their order.
 */
async function sameQueryLines(args: readonly string[]): Promise<void> {
  const [s, t] = await both(args);
  assert.deepEqual(lineSet(t.stdout), lineSet(s.stdout), `shoal ${args.join(' ')}`);
  assert.equal(t.code, s.code);
}

/** Lines without the trailing spaces columnize leaves on all but the last, sorted. */
function lineSet(text: string): string[] {
  return text.split('\n').map((l) => l.trimEnd()).sort();
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; Date.now() < deadline && i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out waiting for ${what}`);
}

const agents: ChildProcess[] = [];

describe('client commands against real serf agents', { timeout: 90_000 }, () => {
  before(async () => {
    for (const [i, node] of NODES.entries()) {
      const args = [
        'agent', `-node=${node.name}`, `-bind=127.0.0.1:${node.bind}`, `-rpc-addr=127.0.0.1:${node.rpc}`, `-encrypt=${KEY}`,
        '-log-level=warn',
      ];
      if (i === 0) args.push('-tag', 'role=web', '-event-handler', 'query:uptime=echo up');
      else args.push(`-join=127.0.0.1:${NODES[0].bind}`);
      agents.push(spawn('serf', args, { stdio: 'ignore' }));
      await waitFor(`${node.name} to answer RPC`, async () => (await serf(['members', RPC(i)])).code === 0);
    }
    await waitFor('three alive members', async () => {
      const m = await serf(['members', '-status=alive', RPC(0)]);
      return m.stdout.trim().split('\n').length === 3;
    });
  });

  after(() => {
    for (const agent of agents) agent.kill('SIGKILL');
  });

  test('members (text): the same lines; one member byte for byte, -detailed too', async () => {
    const [s, t] = await both(['members', RPC(0)]);
    assert.deepEqual(lineSet(t.stdout), lineSet(s.stdout));
    await sameOutput(['members', '-name=a1', RPC(0)]);
    await sameOutput(['members', '-name=a1', '-detailed', RPC(0)]);
    await sameOutput(['members', '-status=left', RPC(0)]);
    await sameOutput(['members', '-tag', 'role=w.*', RPC(1)]);
  });

  test('members (json): the same members; one member and none byte for byte', async () => {
    const [s, t] = await both(['members', '-format=json', RPC(0)]);
    const sorted = (text: string): unknown => {
      const v = JSON.parse(text) as { members: { name: string }[] };
      return v.members.sort((a, b) => a.name.localeCompare(b.name));
    };
    assert.deepEqual(sorted(t.stdout), sorted(s.stdout));
    await sameOutput(['members', '-name=a1', '-format=json', RPC(0)]);
    await sameOutput(['members', '-status=failed', '-format', 'json', RPC(0)]);
  });

  test('members: bad flags fail as serf does', async () => {
    const [s, t] = await both(['members', '-tag', 'role', RPC(0)]);
    assert.equal(t.stderr, s.stdout);
    assert.deepEqual([t.code, s.code], [1, 1]);
    const [s2, t2] = await both(['members', '-format=xml', RPC(0)]);
    assert.equal(t2.stderr, s2.stdout);
    assert.deepEqual([t2.code, s2.code], [1, 1]);
  });

  test('info (text and json): byte for byte but the goroutine count', async () => {
    const scrub = (text: string): string => text.replace(/(goroutines"?(?: = |": ")?)\d+/g, '$1N');
    for (const format of ['text', 'json']) {
      const [s, t] = await both(['info', `-format=${format}`, RPC(1)]);
      assert.equal(t.code, 0);
      assert.equal(scrub(t.stdout), scrub(s.stdout));
    }
  });

  test('tags: set and delete, byte for byte, and members shows them', async () => {
    assert.equal(await sameOutput(['tags', '-set', 'zone=z1', '-set', 'tmp=1', RPC(1)]), 'Successfully updated agent tags\n');
    await sameOutput(['tags', '-delete', 'tmp', RPC(1)]);
    await waitFor('a2 tag zone=z1 seen by a1', async () => (await shoal(['members', '-name=a2', RPC(0)])).stdout.includes('zone=z1'));
    await sameOutput(['members', '-tag', 'zone=z1', RPC(0)]);
    const [s, t] = await both(['tags', '-set', 'novalue', RPC(1)]);
    assert.equal(t.stderr, s.stdout);
  });

  test('event: byte for byte, with and without payload and coalescing', async () => {
    assert.equal(await sameOutput(['event', RPC(0), 'deploy', 'v1']), "Event 'deploy' dispatched! Coalescing enabled: true\n");
    assert.equal(await sameOutput(['event', '-coalesce=false', RPC(0), 'restart']), "Event 'restart' dispatched! Coalescing enabled: false\n");
    const [s, t] = await both(['event', RPC(0), 'a', 'b', 'c']);
    assert.equal(t.stderr.split('\n')[0], s.stdout.split('\n')[0]);
    assert.deepEqual([t.code, s.code], [1, 1]);
  });

  test('query: a handler response, with and without acks, text and json, byte for byte', async () => {
    const text = await sameOutput(['query', '-no-ack', '-node=a1', '-timeout=1s', RPC(1), 'uptime']);
    assert.equal(text, "Query 'uptime' dispatched\nResponse from 'a1': up\nTotal Responses: 1\n");
    await sameQueryLines(['query', '-node=a1', '-timeout=1s', RPC(2), 'uptime', 'payload']);
    await sameOutput(['query', '-node=a1', '-timeout=1s', '-format=json', RPC(1), 'uptime']);
    await sameOutput(['query', '-tag', 'role=nothing', '-timeout=500ms', '-format=json', RPC(1), 'uptime']);
    const [s, t] = await both(['query', '-relay-factor=300', RPC(1), 'uptime']);
    assert.equal(t.stderr, s.stdout);
  });

  test('keys: list and install, as serf prints them', async () => {
    assert.equal(await sameOutput(['keys', '-list', RPC(0)]),
      `==> Asking all members for installed keys...\n==> Keys gathered, listing cluster keys...\n\n${KEY}  [3/3]\n`);
    assert.equal(await sameOutput(['keys', `-install=${NEW_KEY}`, RPC(0)]),
      '==> Installing key on all members...\n==> Successfully installed key!\n');
    const [s, t] = await both(['keys', '-list', RPC(1)]);
    assert.deepEqual(lineSet(t.stdout), lineSet(s.stdout));
    assert.ok(t.stdout.includes(`${NEW_KEY}  [3/3]`));
    const [s2, t2] = await both(['keys', `-remove=${KEY}`, RPC(0)]); // the primary key: every node refuses
    assert.deepEqual([t2.code, s2.code], [1, 1]);
    assert.deepEqual(lineSet(t2.stdout + t2.stderr), lineSet(s2.stdout));
  });

  test('reachability: byte for byte', async () => {
    assert.equal(await sameOutput(['reachability', RPC(2)]),
      'Total members: 3, live members: 3\nStarting reachability test...\nSuccessfully contacted all live nodes\n');
  });

  test('rtt: the estimate in serf\'s format, and serf\'s error for an unknown node', async () => {
    await waitFor('coordinates', async () => (await serf(['rtt', RPC(0), 'a1', 'a2'])).code === 0);
    const t = await shoal(['rtt', RPC(0), 'a1', 'a2']);
    assert.match(t.stdout, /^Estimated a1 <-> a2 rtt: \d+\.\d{3} ms\n$/);
    const one = await shoal(['rtt', RPC(0), 'a2']);
    assert.match(one.stdout, /^Estimated a2 <-> a1 rtt: \d+\.\d{3} ms\n$/);
    const [s2, t2] = await both(['rtt', RPC(0), 'nosuch']);
    assert.equal(t2.stderr, s2.stdout);
    assert.deepEqual([t2.code, s2.code], [1, 1]);
  });

  test('join: byte for byte, success and failure', async () => {
    await sameOutput(['join', RPC(2), `127.0.0.1:${NODES[1].bind}`]);
    const [s, t] = await both(['join', RPC(2), '127.0.0.1:19399']);
    assert.equal(t.stderr, s.stdout);
    assert.deepEqual([t.code, s.code], [1, 1]);
  });

  test('cannot connect: serf\'s message, exit 1', async () => {
    const [s, t] = await both(['members', '-rpc-addr=127.0.0.1:19398']);
    assert.equal(t.stderr, 'Error connecting to Serf agent: dial tcp 127.0.0.1:19398: connect: connection refused\n');
    assert.equal(t.stderr, s.stdout);
    assert.deepEqual([t.code, s.code], [1, 1]);
  });

  test('leave, then force-leave -prune removes the member', async () => {
    assert.equal(await sameOutput(['force-leave', RPC(0), 'nosuch']), '');
    const left = await shoal(['leave', RPC(2)]);
    assert.deepEqual([left.code, left.stdout], [0, 'Graceful leave complete\n']);
    await waitFor('a3 left', async () => (await shoal(['members', '-status=left', RPC(0)])).stdout.startsWith('a3 '));
    const pruned = await shoal(['force-leave', '-prune', RPC(0), 'a3']);
    assert.deepEqual([pruned.code, pruned.stdout, pruned.stderr], [0, '', '']);
    await waitFor('a3 gone', async () => !(await shoal(['members', RPC(0)])).stdout.includes('a3'));
  });
});

describe('commands that need no agent', () => {
  test('keygen: 32 random bytes in base64, as serf keygen', async () => {
    const t = await shoal(['keygen']);
    assert.equal(t.code, 0);
    assert.equal(Buffer.from(t.stdout.trim(), 'base64').length, 32);
    assert.match(t.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
  });

  test('version: the protocol line as serf prints it', async () => {
    const t = await shoal(['version']);
    assert.match(t.stdout, /^shoal v\d+\.\d+\.\d+\nAgent Protocol: 5 \(Understands back to: 2\)\n$/);
  });

  test('every command has --help with an example', async () => {
    const commands = ['members', 'join', 'leave', 'force-leave', 'event', 'query', 'tags', 'monitor', 'info', 'keys', 'keygen',
      'reachability', 'rtt', 'version'];
    const helps = await Promise.all(commands.map((c) => shoal([c, '--help'])));
    helps.forEach((h, i) => {
      assert.equal(h.code, 0, commands[i]);
      assert.match(h.stdout, /Example/, commands[i]);
    });
  });

  test('Go bool flags: -coalesce=false, and a bad value is refused', async () => {
    const t = await shoal(['event', '-coalesce=maybe', 'x']);
    assert.equal(t.code, 1);
    assert.match(t.stderr, /invalid boolean value "maybe" for -coalesce/);
  });
});

describe('output helpers', () => {
  test('columnize pads every column but a line\'s last, as ryanuber/columnize', () => {
    assert.equal(columnize(['a|bb|c', 'ddd|e|', 'x']), 'a    bb  c\nddd  e   \nx');
  });

  test('goJson escapes as encoding/json', () => {
    assert.equal(goJson({ a: '<&>\u2028\b\f\\b' }), '{\n  "a": "\\u003c\\u0026\\u003e\\u2028\\u0008\\u000c\\\\b"\n}');
    assert.equal(goJson(sortedObject(new Map([['b', 1], ['a', 2]]))), '{\n  "a": 2,\n  "b": 1\n}');
    assert.equal(goJson({ m: sortedObject(new Map()) }), '{\n  "m": {}\n}');
  });

  test('addresses print as net.TCPAddr', () => {
    assert.equal(goHostPort(new Uint8Array([127, 0, 0, 1]), 7946), '127.0.0.1:7946');
    assert.equal(goHostPort(new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 10, 0, 0, 1]), 1), '10.0.0.1:1');
    assert.equal(goHostPort(new Uint8Array([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 2), '[fe80::1]:2');
  });

  test('durations parse as time.ParseDuration', () => {
    assert.equal(parseGoDuration('15s', 'timeout'), 15_000_000_000n);
    assert.equal(parseGoDuration('1m30s', 'timeout'), 90_000_000_000n);
    assert.equal(parseGoDuration('500ms', 'timeout'), 500_000_000n);
    assert.equal(parseGoDuration('0', 'timeout'), 0n);
    assert.throws(() => parseGoDuration('15', 'timeout'), /invalid value "15" for flag -timeout/);
  });
});
