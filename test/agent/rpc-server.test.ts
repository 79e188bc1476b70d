// The agent's Serf RPC server, driven by the real `serf` CLI (serf 0.9.4 protocol) and by a raw
// client for the protocol's error paths. Every agent and process is stopped in after/finally;
// every wait is bounded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import net from 'node:net';
import { Agent, type AgentConfig } from '../../src/agent/agent.js';
import { RpcServer } from '../../src/agent/rpc-server.js';
import { decodeRpc, encodeRpcRequest, RpcStreamDecoder, type RpcFrame } from '../../src/wire/rpc.js';
import {
  logRecordSchema, memberEventRecordSchema, queryEventRecordSchema, responseHeaderSchema, userEventRecordSchema, type RpcCommandName, type RpcRequestBody,
} from '../../src/wire/rpc-schemas.js';
import type { Kind, Infer } from '../../src/wire/schema.js';
import { MsgpackWriter } from '../../src/wire/msgpack-writer.js';

const KEY = '22340oqL86o596XonHmP4/7RgmZRt8wgPkmlK3vybmI=';

function config(nodeName: string, bindPort: number, extra: Partial<AgentConfig> = {}): AgentConfig {
  return {
    nodeName, bindIp: '127.0.0.1', bindPort, tags: new Map([['role', 'web']]), profile: 'local', keys: [],
    rejoinAfterLeave: false, protocol: 5, logLevel: 'ERR', logOutput: () => {}, ...extra,
  };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Both streams: the CLI prints its errors on stdout. */
  output: string;
}

/** Runs the serf CLI against an RPC address; never throws, killed after timeoutMs. */
function serf(rpcAddr: string, args: string[], timeoutMs = 10_000): Promise<Run> {
  const [command, ...rest] = args;
  return new Promise((resolve) => {
    execFile('serf', [command as string, `-rpc-addr=${rpcAddr}`, ...rest], { timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
      resolve({ code, stdout, stderr, output: stdout + stderr });
    });
  });
}

async function eventually(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 8_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A bare RPC client: sends requests, reads back headers and bodies in order. */
class RawClient {
  private readonly decoder = new RpcStreamDecoder();
  private readonly frames: RpcFrame[] = [];
  closed = false;
  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.decoder.push(chunk);
      for (let f = this.decoder.next(); f !== null; f = this.decoder.next()) this.frames.push(f);
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  send<C extends RpcCommandName>(command: C, seq: number, ...body: [RpcRequestBody<C>] extends [never] ? [] : [RpcRequestBody<C>]): void {
    this.socket.write(encodeRpcRequest(command, BigInt(seq), ...body));
  }

  raw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  async next<K extends Kind>(kind: K): Promise<Infer<K>> {
    await eventually('an RPC frame', () => this.frames.length > 0 || this.closed, 5_000);
    const f = this.frames.shift();
    if (f === undefined) assert.fail('connection closed before the expected frame');
    return decodeRpc(kind, f.bytes);
  }

  header(): Promise<Infer<typeof responseHeaderSchema>> {
    return this.next(responseHeaderSchema);
  }

  async handshake(): Promise<void> {
    this.send('handshake', 0, { Version: 1 });
    assert.equal((await this.header()).Error, '');
  }

  async waitClosed(): Promise<void> {
    await eventually('the agent to close the connection', () => this.closed, 5_000);
  }

  pending(): number {
    return this.frames.length;
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('RPC server with the serf CLI', () => {
  const agents: Agent[] = [];
  const servers: RpcServer[] = [];
  let a: Agent;
  let b: Agent;
  const A = '127.0.0.1:19101';

  async function start(name: string, port: number, rpcPort: number | null, extra: Partial<AgentConfig> = {}, authKey?: string): Promise<Agent> {
    const agent = await Agent.start(config(name, port, extra));
    agents.push(agent);
    if (rpcPort !== null) {
      servers.push(await RpcServer.listen(agent, { addr: `127.0.0.1:${rpcPort}`, ...(authKey === undefined ? {} : { authKey }) }));
    }
    return agent;
  }

  before(async () => {
    a = await start('a', 19100, 19101);
    b = await start('b', 19102, null);
  });

  after(async () => {
    for (const s of servers) await s.close();
    for (const agent of agents) if (agent.serf.currentState !== 'shutdown') await agent.shutdown();
  });

  test('members, in text and JSON, filtered by status and by anchored tag expressions', async () => {
    const text = await serf(A, ['members']);
    assert.equal(text.code, 0, text.output);
    assert.match(text.stdout, /^a\s+127\.0\.0\.1:19100\s+alive\s+role=web\s*$/);
    const json = await serf(A, ['members', '-format=json']);
    const parsed = JSON.parse(json.stdout) as { members: Array<{ name: string; port: number; status: string; tags: Record<string, string>; protocol: Record<string, number> }> };
    assert.deepEqual(parsed.members.map((m) => [m.name, m.port, m.status, m.tags]), [['a', 19100, 'alive', { role: 'web' }]]);
    assert.deepEqual(parsed.members[0]?.protocol, { min: 2, max: 5, version: 5 });
    assert.match((await serf(A, ['members', '-status=alive'])).stdout, /^a /);
    assert.equal((await serf(A, ['members', '-status=failed'])).stdout.trim(), '');
    assert.match((await serf(A, ['members', '-tag', 'role=w.*'])).stdout, /^a /);
    // Anchored: "w" alone does not match "web".
    assert.equal((await serf(A, ['members', '-tag', 'role=w'])).stdout.trim(), '');
    assert.match((await serf(A, ['members', '-name', 'a|z'])).stdout, /^a /);
  });

  test('event reaches the agent as a user event', async () => {
    const seen: string[] = [];
    const listener = (e: { type: string; name?: string; payload?: Uint8Array | null }): void => {
      if (e.type === 'user') seen.push(`${e.name}:${Buffer.from(e.payload ?? []).toString()}`);
    };
    a.on('serf', listener);
    try {
      const r = await serf(A, ['event', 'deploy', 'v1']);
      assert.equal(r.code, 0, r.output);
      assert.match(r.stdout, /Event 'deploy' dispatched! Coalescing enabled: true/);
      await eventually('the user event', () => seen.includes('deploy:v1'));
      const tooBig = await serf(A, ['event', 'big', 'x'.repeat(600)]);
      assert.notEqual(tooBig.code, 0);
      assert.match(tooBig.output, /exceeds configured limit of 512 bytes/);
    } finally {
      a.off('serf', listener);
    }
  });

  test('query: the ack, then the end at the deadline', async () => {
    const started = Date.now();
    const r = await serf(A, ['query', '-timeout=600ms', 'ping-all', 'hi']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Query 'ping-all' dispatched/);
    assert.match(r.stdout, /Ack from 'a'/);
    assert.match(r.stdout, /Total Acks: 1\s+Total Responses: 0/);
    assert.ok(Date.now() - started >= 500, 'the CLI ends only at the query deadline');
    const internal = await serf(A, ['query', '_serf_x']);
    assert.notEqual(internal.code, 0);
    assert.match(internal.output, /Queries cannot contain the '_serf_' prefix/);
  });

  test('a stream client answers queries with respond; serf query prints the response', async () => {
    const c = await RawClient.connect(19101);
    try {
      await c.handshake();
      c.send('stream', 7, { Type: 'query:lookup' });
      assert.deepEqual(await c.header(), { Seq: 7n, Error: '' });
      const cli = serf(A, ['query', '-timeout=1500ms', 'lookup', 'who']);
      const h = await c.header();
      assert.equal(h.Seq, 7n);
      const rec = await c.next(queryEventRecordSchema);
      assert.equal(rec.Event, 'query');
      assert.equal(rec.Name, 'lookup');
      assert.equal(Buffer.from(rec.Payload ?? []).toString(), 'who');
      c.send('respond', 8, { ID: rec.ID, Payload: Buffer.from('it is a') });
      assert.deepEqual(await c.header(), { Seq: 8n, Error: '' });
      // A second answer to the same query is refused by Serf; an unknown ID by the agent.
      c.send('respond', 9, { ID: rec.ID, Payload: Buffer.from('again') });
      assert.match((await c.header()).Error, /response already sent/);
      c.send('respond', 10, { ID: 999n, Payload: null });
      assert.deepEqual(await c.header(), { Seq: 10n, Error: 'No pending queries matching ID' });
      const out = await cli;
      assert.equal(out.code, 0, out.output);
      assert.match(out.stdout, /Response from 'a': it is a/);
      assert.match(out.stdout, /Total Responses: 1/);
      c.send('stop', 11, { Stop: 7n });
      assert.deepEqual(await c.header(), { Seq: 11n, Error: '' });
    } finally {
      c.close();
    }
  });

  test('tags -set and -delete', async () => {
    const set = await serf(A, ['tags', '-set', 'dc=east', '-set', 'rack=r1']);
    assert.equal(set.code, 0, set.output);
    assert.match(set.stdout, /Successfully updated agent tags/);
    assert.deepEqual(Object.fromEntries(a.serf.localTags), { role: 'web', dc: 'east', rack: 'r1' });
    const del = await serf(A, ['tags', '-delete', 'rack']);
    assert.equal(del.code, 0, del.output);
    assert.match((await serf(A, ['members'])).stdout, /role=web,dc=east|dc=east,role=web/);
    assert.equal(a.serf.localTags.has('rack'), false);
  });

  test('info prints the stats sections', async () => {
    const r = await serf(A, ['info']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /^agent:\n\tname = a\n/);
    for (const key of ['members', 'failed', 'left', 'health_score', 'member_time', 'event_time', 'query_time', 'intent_queue', 'event_queue', 'query_queue', 'encrypted']) {
      assert.match(r.stdout, new RegExp(`\\t${key} = \\S+`), key);
    }
    assert.match(r.stdout, /serf:\n(\t.*\n)*\tencrypted = false/);
    assert.match(r.stdout, /tags:\n(\t.*\n)*\trole = web/);
    const json = JSON.parse((await serf(A, ['info', '-format=json'])).stdout) as Record<string, Record<string, string>>;
    assert.deepEqual(Object.keys(json).sort(), ['agent', 'drops', 'event_handlers', 'runtime', 'serf', 'tags']);
  });

  test('rtt from the cached coordinates', async () => {
    const r = await serf(A, ['rtt', 'a']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Estimated a <-> a rtt: [\d.]+ ms/);
    const unknown = await serf(A, ['rtt', 'nobody']);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.output, /Could not find a coordinate for node "nobody"/);
  });

  test('monitor streams the agent log, the recent lines first', async () => {
    a.log('INFO', 'test: a line before the monitor');
    const child = spawn('serf', ['monitor', `-rpc-addr=${A}`, '-log-level=info'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await eventually('the backlog line', () => out.includes('[INFO] test: a line before the monitor'));
      a.log('WARN', 'test: a live line');
      a.log('DEBUG', 'test: filtered out');
      await eventually('the live line', () => out.includes('[WARN] test: a live line'));
      assert.match(out, /\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[INFO\] agent\.ipc: Accepted client: 127\.0\.0\.1:\d+/);
      assert.equal(out.includes('filtered out'), false);
    } finally {
      child.kill('SIGKILL');
    }
  });

  test('join a second agent, then force-leave', async () => {
    const r = await serf(A, ['join', '127.0.0.1:19102']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Successfully joined cluster by contacting 1 nodes/);
    await eventually('both members alive', async () => /^b\s+127\.0\.0\.1:19102\s+alive/m.test((await serf(A, ['members'])).stdout));
    const bad = await serf(A, ['join', 'not-an-address']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.output, /Error joining the cluster/);
    const fl = await serf(A, ['force-leave', 'nobody']);
    assert.equal(fl.code, 0, fl.output);
    const prune = await serf(A, ['force-leave', '-prune', 'nobody']);
    assert.equal(prune.code, 0, prune.output);
    assert.equal(b.serf.currentState, 'alive');
  });

  test('keys -list on an agent with a keyring', async () => {
    await start('k', 19104, 19105, { keys: [KEY] });
    const r = await serf('127.0.0.1:19105', ['keys', '-list']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Keys gathered, listing cluster keys/);
    assert.match(r.stdout, new RegExp(`${KEY.replace(/[+/=]/g, '\\$&')}\\s+\\[1/1\\]`));
    const install = await serf('127.0.0.1:19105', ['keys', '-install', 'not base64!']);
    assert.notEqual(install.code, 0);
  });

  test('-rpc-auth: required, checked, then accepted', async () => {
    await start('auth', 19106, 19107, {}, 'sesame');
    const none = await serf('127.0.0.1:19107', ['members']);
    assert.notEqual(none.code, 0);
    assert.match(none.output, /Authentication required/);
    const wrong = await serf('127.0.0.1:19107', ['members', '-rpc-auth=nope']);
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.output, /Invalid authentication token/);
    const right = await serf('127.0.0.1:19107', ['members', '-rpc-auth=sesame']);
    assert.equal(right.code, 0, right.output);
    assert.match(right.stdout, /^auth\s+127\.0\.0\.1:19106\s+alive/);
  });

  test('leave: the agent leaves, answers, and shuts down', async () => {
    const l = await start('leaver', 19108, 19109);
    let shutDown = false;
    l.once('shutdown', () => (shutDown = true));
    const r = await serf('127.0.0.1:19109', ['leave']);
    assert.equal(r.code, 0, r.output);
    assert.match(r.stdout, /Graceful leave complete/);
    await eventually('the shutdown', () => shutDown);
    assert.equal(l.serf.currentState, 'shutdown');
    const after = await serf('127.0.0.1:19109', ['members']);
    assert.notEqual(after.code, 0);
    assert.match(after.output, /Error connecting to Serf agent/);
  });
});

describe('RPC server protocol errors', () => {
  let agent: Agent;
  let server: RpcServer;
  const PORT = 19121;

  before(async () => {
    agent = await Agent.start(config('p', 19120));
    server = await RpcServer.listen(agent, { addr: `127.0.0.1:${PORT}` });
  });

  after(async () => {
    await server.close();
    await agent.shutdown();
  });

  test('a command before the handshake is refused and the connection closed', async () => {
    const c = await RawClient.connect(PORT);
    try {
      c.send('members', 3);
      assert.deepEqual(await c.header(), { Seq: 3n, Error: 'Handshake required' });
      await c.waitClosed();
    } finally {
      c.close();
    }
  });

  test('a second handshake, a bad version, bad filters and levels are answered; the connection stays', async () => {
    const c = await RawClient.connect(PORT);
    try {
      c.send('handshake', 1, { Version: 2 });
      assert.deepEqual(await c.header(), { Seq: 1n, Error: 'Unsupported IPC version' });
      await c.handshake();
      c.send('handshake', 2, { Version: 1 });
      assert.deepEqual(await c.header(), { Seq: 2n, Error: 'Handshake already performed' });
      c.send('stream', 3, { Type: 'member-join,bogus' });
      assert.deepEqual(await c.header(), { Seq: 3n, Error: 'Invalid event filter' });
      c.send('monitor', 4, { LogLevel: 'loud' });
      assert.deepEqual(await c.header(), { Seq: 4n, Error: 'Unknown log level: LOUD' });
      c.send('monitor', 5, { LogLevel: 'debug' });
      assert.deepEqual(await c.header(), { Seq: 5n, Error: '' });
      c.send('monitor', 6, { LogLevel: 'info' });
      // Records of monitor 5 (header, then a log record) may come before the answer.
      let h = await c.header();
      while (h.Seq === 5n) {
        await c.next(logRecordSchema);
        h = await c.header();
      }
      assert.deepEqual(h, { Seq: 6n, Error: 'Monitor already exists' });
      assert.equal(c.closed, false);
    } finally {
      c.close();
    }
  });

  test('an unknown command is refused and the connection closed', async () => {
    const c = await RawClient.connect(PORT);
    try {
      await c.handshake();
      const w = new MsgpackWriter('rpc');
      w.mapHeader(2);
      w.string('Command');
      w.string('explode');
      w.string('Seq');
      w.uint(4);
      c.raw(w.finish());
      assert.deepEqual(await c.header(), { Seq: 4n, Error: 'Unsupported command' });
      await c.waitClosed();
    } finally {
      c.close();
    }
  });

  test('stream: member events carry RPC members (Addr bytes, Status by name); user events pass the filter', async () => {
    const c = await RawClient.connect(PORT);
    const q = await Agent.start(config('q', 19122));
    try {
      await c.handshake();
      c.send('stream', 20, { Type: 'member-join,user:wanted' });
      assert.deepEqual(await c.header(), { Seq: 20n, Error: '' });
      assert.equal((await q.join(['127.0.0.1:19120'], false)).num, 1);
      assert.equal((await c.header()).Seq, 20n);
      const rec = await c.next(memberEventRecordSchema);
      assert.equal(rec.Event, 'member-join');
      const m = rec.Members?.find((x) => x.Name === 'q');
      assert.ok(m !== undefined, JSON.stringify(rec.Members?.map((x) => x.Name)));
      assert.deepEqual([...m.Addr], [127, 0, 0, 1]);
      assert.equal(m.Port, 19122);
      assert.equal(m.Status, 'alive');
      assert.deepEqual(Object.fromEntries(m.Tags ?? []), { role: 'web' });
      agent.act((serf, now) => serf.userEvent(now, 'unwanted', null, false));
      agent.act((serf, now) => serf.userEvent(now, 'wanted', Buffer.from('yes'), false));
      assert.equal((await c.header()).Seq, 20n);
      const user = await c.next(userEventRecordSchema);
      assert.deepEqual([user.Event, user.Name, Buffer.from(user.Payload ?? []).toString(), user.Coalesce], ['user', 'wanted', 'yes', false]);
    } finally {
      c.close();
      await q.shutdown();
    }
  });

  test('garbage and malformed bodies close the connection without hurting the agent', async () => {
    const garbage = await RawClient.connect(PORT);
    garbage.raw(Uint8Array.from([0xc1, 0xc1, 0xc1]));
    await garbage.waitClosed();
    garbage.close();
    const badBody = await RawClient.connect(PORT);
    await badBody.handshake();
    badBody.send('event', 5, { Name: 'x', Payload: null, Coalesce: false });
    // A header whose body is a string, not the event struct.
    const w = new MsgpackWriter('rpc');
    w.mapHeader(2);
    w.string('Command');
    w.string('event');
    w.string('Seq');
    w.uint(6);
    w.string('not a struct');
    badBody.raw(w.finish());
    assert.deepEqual(await badBody.header(), { Seq: 5n, Error: '' });
    await badBody.waitClosed();
    badBody.close();
    // A bad members-filtered expression also closes the connection, as in Serf.
    const badRe = await RawClient.connect(PORT);
    await badRe.handshake();
    badRe.send('members-filtered', 7, { Tags: null, Status: '(', Name: '' });
    await badRe.waitClosed();
    badRe.close();
    assert.equal(agent.serf.currentState, 'alive');
    assert.equal((await serf(`127.0.0.1:${PORT}`, ['members'])).code, 0);
  });
});
