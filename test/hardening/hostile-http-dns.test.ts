// Hostile input against a real agent's HTTP API and DNS server on 127.0.0.1 (in this process):
// every test sends bad input, checks it was refused with the right answer AND counted in the
// `drops` section of the `stats` RPC that `shoal info` prints, and the last test checks the agent
// still answers /v1/agent/self and a DNS query. Ports 25500–25520. Everything started is closed
// in `after`; every wait is bounded.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { Agent } from '../../src/agent/agent.js';
import { DEFAULT_DNS_ADDR, DEFAULT_HTTP_ADDR } from '../../src/agent/config.js';
import { DnsServer } from '../../src/agent/dns.js';
import { HttpApi, MAX_BODY_BYTES } from '../../src/agent/http-api.js';
import { RpcServer } from '../../src/agent/rpc-server.js';
import { AgentServices } from '../../src/agent/services.js';
import { RpcClient } from '../../src/cli/rpc-client.js';

const PORTS = { gossip: 25500, http: 25501, dns: 25502, rpc: 25503, httpWide: 25510, dnsWide: 25511 } as const;
const STEP_TIMEOUT_MS = 5_000;
const RCODE_FORMERR = 1;

interface RawAnswer {
  readonly status: number;
  readonly head: string;
  readonly body: string;
  /** Bytes of the request body the client managed to send before the answer came. */
  readonly sent: number;
}

/**
 * A raw HTTP/1.1 exchange: sends `head`, then up to `bodyBytes` of body in 64 KiB writes while
 * no answer has come, and reads the answer until the server closes or STEP_TIMEOUT_MS passes.
 */
function rawRequest(head: string, bodyBytes = 0, chunked = false): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(PORTS.http, '127.0.0.1');
    const received: Buffer[] = [];
    let sent = 0;
    let answered = false;
    const timer = setTimeout(() => finish(), STEP_TIMEOUT_MS);
    const finish = (): void => {
      clearTimeout(timer);
      socket.destroy();
      const text = Buffer.concat(received).toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m === null) return reject(new Error(`no HTTP answer (sent ${sent} body bytes): ${JSON.stringify(text.slice(0, 200))}`));
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(m[1]), head: text.slice(0, split), body: text.slice(split + 4), sent });
    };
    socket.on('data', (d: Buffer) => {
      answered = true;
      received.push(d);
    });
    socket.on('close', finish);
    // The server may reset the connection while we still send; the answer read so far counts.
    socket.on('error', () => undefined);
    socket.on('connect', async () => {
      socket.write(head);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      while (sent < bodyBytes && !answered && !socket.destroyed) {
        const frame = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk;
        if (!socket.write(frame)) await new Promise((r) => setTimeout(r, 5));
        sent += chunk.length;
      }
    });
  });
}

async function http(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${PORTS.http}${path}`, { method, ...(body === undefined ? {} : { body }), signal: AbortSignal.timeout(STEP_TIMEOUT_MS) });
  return { status: res.status, text: await res.text() };
}

/** The `drops` section of the agent's stats, through its RPC as `shoal info` reads it. */
async function drops(): Promise<Map<string, number>> {
  const client = await RpcClient.connect(`127.0.0.1:${PORTS.rpc}`, { timeoutMs: STEP_TIMEOUT_MS });
  try {
    const section = (await client.call('stats'))?.get('drops');
    assert.ok(section !== undefined && section !== null, 'stats has a drops section');
    return new Map([...(section ?? new Map<string, string>())].map(([k, v]) => [k, Number(v)]));
  } finally {
    client.close();
  }
}

/** Sends one UDP datagram to the DNS port; the reply, or null when none came in `waitMs`. */
function udpExchange(bytes: Uint8Array, waitMs = 300): Promise<Buffer | null> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const done = (reply: Buffer | null): void => {
      clearTimeout(timer);
      s.close();
      resolve(reply);
    };
    const timer = setTimeout(() => done(null), waitMs);
    s.on('message', (m) => done(m));
    s.send(bytes, PORTS.dns, '127.0.0.1');
  });
}

function query(name: string, id = 7): Buffer {
  return dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name, class: 'IN' }] });
}

describe('hostile input: HTTP API and DNS', () => {
  const logs: string[] = [];
  let agent: Agent;
  let services: AgentServices;
  const apis: HttpApi[] = [];
  const dnsServers: DnsServer[] = [];
  let rpc: RpcServer;

  before(async () => {
    agent = await Agent.start({
      nodeName: 'hostile-http', bindIp: '127.0.0.1', bindPort: PORTS.gossip, tags: new Map(), profile: 'local', keys: [],
      rejoinAfterLeave: false, protocol: 5, logLevel: 'WARN', logOutput: (l) => void logs.push(`${l.level} ${l.message}`),
    });
    services = new AgentServices(agent);
    const api = new HttpApi(agent, services);
    apis.push(api);
    await api.listen(`127.0.0.1:${PORTS.http}`);
    const dns = new DnsServer(() => agent.node.catalog, agent);
    dnsServers.push(dns);
    await dns.listen(`127.0.0.1:${PORTS.dns}`);
    rpc = await RpcServer.listen(agent, { addr: `127.0.0.1:${PORTS.rpc}` });
    services.registerService({ service: { ID: 'web-1', Service: 'web', Tags: [], Address: '127.0.0.9', Port: 80, Meta: {} }, checks: [] });
  });

  after(async () => {
    services?.stop();
    await Promise.all([...apis.map((a) => a.close()), ...dnsServers.map((d) => d.close()), rpc?.close()]);
    await agent?.shutdown();
  });

  test('HTTP: a body declared over 1 MiB is refused with 413 before any of it is read, and counted', async () => {
    const answer = await rawRequest(`PUT /v1/agent/service/register HTTP/1.1\r\nHost: x\r\nContent-Length: ${10 * MAX_BODY_BYTES}\r\n\r\n`);
    assert.equal(answer.status, 413);
    assert.match(answer.body, /Request body too large: the limit is 1048576 bytes/);
    assert.match(answer.head, /\r\nConnection: close/i);
    assert.equal((await drops()).get('http_too_large'), 1);
  });

  test('HTTP: a chunked body that grows past 1 MiB is refused with 413 at the limit, not buffered to its end', async () => {
    const answer = await rawRequest('PUT /v1/agent/service/register HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n', 64 * MAX_BODY_BYTES, true);
    assert.equal(answer.status, 413);
    // The answer came while the client was still sending: far less than the 64 MiB it had.
    assert.ok(answer.sent < 16 * MAX_BODY_BYTES, `sent ${answer.sent} bytes before the answer`);
    assert.equal((await drops()).get('http_too_large'), 2);
  });

  test('HTTP: malformed JSON gets 400 with a message naming the problem, and is counted', async () => {
    const bad = await http('PUT', '/v1/agent/service/register', '{"Name": "web", "Port": 80');
    assert.equal(bad.status, 400);
    assert.match(bad.text, /^Request decode failed: .*JSON/);
    const wrongType = await http('PUT', '/v1/agent/service/register', '{"Name": "web", "Port": "eighty"}');
    assert.equal(wrongType.status, 400);
    assert.match(wrongType.text, /Port/);
    const update = await http('PUT', '/v1/agent/check/update/nope', '{"Status": "fine"}');
    assert.equal(update.status, 400);
    assert.match(update.text, /Invalid check status: "fine"/);
    assert.equal((await drops()).get('http_bad_request'), 3);
  });

  test('HTTP: deeply nested JSON is refused with 400 before it is parsed, and counted', async () => {
    const deep = `{"Name":"x","Meta":${'['.repeat(200_000)}${']'.repeat(200_000)}}`;
    const answer = await http('PUT', '/v1/agent/service/register', deep);
    assert.equal(answer.status, 400);
    assert.match(answer.text, /nested more than 64 levels deep/);
    // Brackets inside strings are text, not nesting.
    const inString = await http('PUT', '/v1/agent/service/register', JSON.stringify({ ID: 'brackets', Name: 'brackets', Tags: ['['.repeat(100)] }));
    assert.equal(inString.status, 200, inString.text);
    assert.equal((await drops()).get('http_too_deep'), 1);
  });

  test('HTTP: a script check is refused (Consul without enable_script_checks); nothing runs', async () => {
    const check = await http('PUT', '/v1/agent/check/register', JSON.stringify({ Name: 'sh', Args: ['/bin/sh', '-c', 'exit 0'], Interval: '1s' }));
    assert.equal(check.status, 400);
    assert.match(check.text, /Scripts are disabled on this agent/);
    const svc = await http('PUT', '/v1/agent/service/register', JSON.stringify({ Name: 'evil', Port: 1, Check: { Args: ['/bin/true'], Interval: '1s' } }));
    assert.equal(svc.status, 400);
    assert.equal(agent.node.local.service('evil'), undefined);
    assert.equal(agent.node.local.allChecks().length, 0);
  });

  test('HTTP: a TTL past the timer range (2,000,000 h) does not expire at once (setTimeout would fire it after 1 ms)', async () => {
    const reg = await http('PUT', '/v1/agent/check/register', JSON.stringify({ ID: 'long-ttl', Name: 'long', TTL: '2000000h', Status: 'passing' }));
    assert.equal(reg.status, 200, reg.text);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(agent.node.local.allChecks().find((c) => c.CheckID === 'long-ttl')?.Status, 'passing');
    assert.equal((await http('PUT', '/v1/agent/check/deregister/long-ttl')).status, 200);
  });

  test('DNS: malformed and lying packets are dropped (or answered FORMERR), counted, never answered with data', async () => {
    const before = await drops();
    const lying = Buffer.alloc(12);
    lying.writeUInt16BE(99, 0);
    lying.writeUInt16BE(0xffff, 4); // 65,535 questions in a 12-byte packet
    lying.writeUInt16BE(0xffff, 10);
    const formerr = await udpExchange(lying);
    assert.ok(formerr !== null, 'a FORMERR answer to a packet whose ID is readable');
    const decoded = dnsPacket.decode(formerr);
    assert.equal(decoded.id, 99);
    assert.equal((decoded.flags ?? 0) & 0xf, RCODE_FORMERR);
    assert.equal(decoded.answers?.length ?? 0, 0);
    assert.equal(await udpExchange(Uint8Array.of(1)), null, 'a one-byte packet gets nothing back');
    const truncatedName = Buffer.concat([query('web.service.consul').subarray(0, 20)]);
    assert.equal((dnsPacket.decode((await udpExchange(truncatedName)) ?? Buffer.alloc(12)).flags ?? 0) & 0xf, RCODE_FORMERR);
    // A response sent to the server (a reflection attempt) is dropped silently.
    const response = dnsPacket.encode({ type: 'response', id: 5, flags: 0, questions: [{ type: 'A', name: 'web.service.consul', class: 'IN' }] });
    assert.equal(await udpExchange(response), null);
    // Over TCP, a message that announces 65,535 bytes and keeps coming past them closes the connection.
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect(PORTS.dns, '127.0.0.1', () => {
        s.write(Buffer.concat([Uint8Array.of(0xff, 0xff), Buffer.alloc(70_000)]));
      });
      const timer = setTimeout(() => (s.destroy(), resolve(false)), STEP_TIMEOUT_MS);
      s.on('error', () => undefined);
      s.on('close', () => (clearTimeout(timer), resolve(true)));
    });
    assert.ok(closed, 'the oversized TCP stream was cut');
    const d = await drops();
    assert.equal((d.get('dns_malformed') ?? 0) - (before.get('dns_malformed') ?? 0), 3);
    assert.equal((d.get('dns_not_query') ?? 0) - (before.get('dns_not_query') ?? 0), 1);
    assert.equal(d.get('dns_tcp_oversized'), 1);
    assert.equal(d.get('dns_internal_errors'), 0);
  });

  test('HTTP API and DNS bind to loopback by default; anywhere else they warn', async () => {
    assert.match(DEFAULT_HTTP_ADDR, /^127\.0\.0\.1:/);
    assert.match(DEFAULT_DNS_ADDR, /^127\.0\.0\.1:/);
    assert.equal(logs.filter((l) => /not a loopback/.test(l)).length, 0, logs.join('\n'));
    const wideApi = new HttpApi(agent, services);
    apis.push(wideApi);
    await wideApi.listen(`0.0.0.0:${PORTS.httpWide}`);
    const wideDns = new DnsServer(() => agent.node.catalog, agent);
    dnsServers.push(wideDns);
    await wideDns.listen(`0.0.0.0:${PORTS.dnsWide}`);
    assert.ok(logs.some((l) => /^WARN agent\.http: HTTP API listening on 0\.0\.0\.0:25510, which is not a loopback address/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /^WARN agent\.dns: DNS listening on 0\.0\.0\.0:25511, which is not a loopback address/.test(l)), logs.join('\n'));
  });

  test('after all of it the agent is healthy: /v1/agent/self and a DNS query are answered', async () => {
    const self = await http('GET', '/v1/agent/self');
    assert.equal(self.status, 200);
    assert.equal((JSON.parse(self.text) as { Config: { NodeName: string } }).Config.NodeName, 'hostile-http');
    const reply = await udpExchange(query('web.service.consul', 1234), 2_000);
    assert.ok(reply !== null, 'a DNS answer');
    const decoded = dnsPacket.decode(reply);
    assert.equal(decoded.id, 1234);
    assert.deepEqual(decoded.answers?.map((a) => (a.type === 'A' ? a.data : null)), ['127.0.0.9']);
    const d = await drops();
    assert.equal(d.get('dns_internal_errors'), 0);
  });
});
