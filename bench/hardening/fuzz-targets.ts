// What `npm run fuzz:all` fuzzes: one entry per decoder or input surface. Each target makes its
// own inputs from a seed corpus (plus files the user keeps in the corpus directory), runs one,
// and throws FuzzCrash when the input found a bug. Anything else a target does with bad input —
// refusing it, counting it, logging it — is the expected outcome.
//
// Adding a target is one entry in TARGETS.
import net from 'node:net';
import fc from 'fast-check';
import { Agent } from '../../src/agent/agent.js';
import { ConfigError, decodeConfig, mergeSettings, resolveSettings, type HostInfo } from '../../src/agent/config.js';
import { RpcServer } from '../../src/agent/rpc-server.js';
import { RpcClient } from '../../src/cli/rpc-client.js';
import { Serf } from '../../src/cluster/serf.js';
import type { Timer } from '../../src/protocol/effects.js';
import { SeededRng } from '../../src/protocol/rng.js';
import { encodeRpcRequest } from '../../src/wire/rpc.js';
import { parseStream } from '../../src/wire/stream.js';
import { fuzzInput, loadSeedCorpus, type Corpus, type FuzzInput } from '../../test/wire/fuzz.js';
import { Rng, mixSeed, mutate } from '../../test/wire/mutate.js';
import { runFuzz } from '../../test/wire/fuzz.js';
import dnsPacket from 'dns-packet';
import { HttpApi } from '../../src/agent/http-api.js';
import { DnsServer } from '../../src/agent/dns.js';
import { AgentServices } from '../../src/agent/services.js';
import type { CheckDefinition } from '../../src/agent/service-definition.js';

/** An input that found a bug: what went wrong and the bytes to replay it. */
export class FuzzCrash extends Error {
  constructor(message: string, readonly input: Uint8Array) {
    super(message);
  }
}

export interface TargetContext {
  readonly seed: number;
  /** Extra seed inputs from the corpus directory (files under <corpus>/<target>/). */
  readonly extraSeeds: readonly Uint8Array[];
  /** A free TCP/UDP port range for targets that listen (at least 10 ports). */
  readonly portBase: number;
  readonly log: (line: string) => void;
}

export interface Target {
  /** Set up once; returns a runner for one slice of `ms` milliseconds, which reports executions. */
  readonly open: (ctx: TargetContext) => Promise<TargetRunner>;
}

export interface TargetRunner {
  /** Runs inputs for about `ms` milliseconds starting at `iteration`; returns how many ran. */
  run(ms: number, iteration: number, onCrash: (crash: FuzzCrash, iteration: number) => void): Promise<number>;
  close(): Promise<void>;
}

let sharedCorpus: Corpus | undefined;
function corpus(): Corpus {
  sharedCorpus ??= loadSeedCorpus();
  return sharedCorpus;
}

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

// ---------------------------------------------------------------------------------------------
// The codec fuzzer of #2 (test/wire/fuzz.ts): every decoder and dissector, with its consistency checks.

const codec: Target = {
  open: async (ctx) => ({
    async run(ms, iteration, onCrash) {
      const stats = runFuzz({
        seed: mixSeed(ctx.seed, iteration), seconds: ms / 1000, corpus: corpus(),
        onBug: (bug, bytes) => onCrash(new FuzzCrash(`${bug.kind} in ${bug.fn}: ${bug.message}`, bytes), iteration + bug.iteration),
      });
      return stats.iterations;
    },
    async close() {},
  }),
};

// ---------------------------------------------------------------------------------------------
// The protocol engine itself (Serf over memberlist) fed what came off the wire: decoded packets
// and stream messages reach the state machines, whose assertions and bookkeeping must hold.

class EngineHarness {
  readonly serf: Serf;
  private readonly timers: Timer[] = [];
  nowMs = 1_000;
  executions = 0;

  constructor(seed: number, encrypted: boolean) {
    const keyring = encrypted ? corpus().keyring : undefined;
    this.serf = new Serf(
      { nodeName: 'fuzz-target', memberlist: { profile: 'lan', advertise: { ip: Uint8Array.of(127, 0, 0, 1), port: 7946 }, ...(keyring === undefined ? {} : { keyring }) } },
      { rng: new SeededRng(seed), onEvent: () => {} },
    );
    this.serf.start(this.nowMs);
    this.drain();
  }

  private drain(): void {
    for (const e of this.serf.takeEffects()) if (e.kind === 'timer') this.timers.push(e.timer);
    // A hostile peer can make the engine arm timers; the harness keeps only the soonest ones.
    if (this.timers.length > 20_000) {
      this.timers.sort((a, b) => a.atMs - b.atMs);
      this.timers.length = 10_000;
    }
  }

  /** Time passes: 5 ms per input; due timers fire every 64 inputs. */
  tick(): void {
    this.nowMs += 5;
    if ((++this.executions & 63) !== 0) return;
    const due = this.timers.filter((t) => t.atMs <= this.nowMs);
    if (due.length === 0) return;
    const later = this.timers.filter((t) => t.atMs > this.nowMs);
    this.timers.length = 0;
    this.timers.push(...later);
    for (const t of due.sort((a, b) => a.atMs - b.atMs)) {
      this.serf.fireTimer(this.nowMs, t);
      this.drain();
    }
  }

  packet(bytes: Uint8Array): void {
    this.serf.receivePacket(this.nowMs, { ip: Uint8Array.of(127, 0, 0, 2), port: 7946 }, bytes);
    this.drain();
  }

  stream(bytes: Uint8Array): void {
    const parsed = parseStream(bytes, this.serf.streamOptions());
    if (parsed.status !== 'complete') return;
    this.serf.handleStream(this.nowMs, { ip: Uint8Array.of(127, 0, 0, 2), port: 40_000 }, parsed.message);
    this.drain();
  }
}

function engineTarget(kind: 'udp' | 'tcp'): Target {
  return {
    open: async (ctx) => {
      const make = (encrypted: boolean, n: number): EngineHarness => new EngineHarness(mixSeed(ctx.seed, n), encrypted);
      let plain = make(false, 1);
      let keyed = make(true, 2);
      let generation = 2;
      return {
        async run(ms, iteration, onCrash) {
          const deadline = performance.now() + ms;
          let n = 0;
          const limit = Error.stackTraceLimit;
          Error.stackTraceLimit = 10;
          try {
            for (; (n & 63) !== 0 || performance.now() < deadline; n++) {
              const it = iteration + n;
              let input: FuzzInput = fuzzInput(corpus(), ctx.seed, it);
              if (ctx.extraSeeds.length > 0 && it % 10 === 0) {
                const rng = new Rng(mixSeed(ctx.seed, it));
                input = { bytes: mutate(rng.pick(ctx.extraSeeds), rng, corpus()).bytes, kind, keyring: rng.chance(0.5) ? 'verify' : 'none', how: 'corpus file' };
              }
              const h = input.keyring === 'none' ? plain : keyed;
              try {
                if (kind === 'udp') h.packet(input.bytes);
                else h.stream(input.bytes);
                h.tick();
              } catch (err) {
                onCrash(new FuzzCrash(`engine (${kind}, ${input.keyring === 'none' ? 'plain' : 'encrypted'}) threw on ${input.how}: ${describeError(err)}\n${err instanceof Error ? err.stack ?? '' : ''}`, input.bytes), it);
                // A throwing engine may be in any state: start over.
                plain = make(false, ++generation);
                keyed = make(true, ++generation);
              }
              // Fresh engines now and then, so state a hostile peer grew does not slow every input.
              if (h.executions >= 20_000) {
                if (h === plain) plain = make(false, ++generation);
                else keyed = make(true, ++generation);
              }
            }
          } finally {
            Error.stackTraceLimit = limit;
          }
          return n;
        },
        async close() {},
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The RPC server of a running agent, over real TCP on 127.0.0.1. Fuzzed requests can be valid
// commands (join, event, leave …): run it only inside a network namespace of its own (fuzz-all
// re-executes itself under `unshare -n`) so nothing leaves the machine.

const RPC_SEEDS: Uint8Array[] = [
  encodeRpcRequest('handshake', 1n, { Version: 1 }),
  encodeRpcRequest('members', 2n),
  encodeRpcRequest('members-filtered', 3n, { Tags: new Map([['role', 'w.*']]), Status: 'alive', Name: '.*' }),
  encodeRpcRequest('event', 4n, { Name: 'deploy', Payload: Uint8Array.of(1, 2, 3), Coalesce: true }),
  encodeRpcRequest('tags', 5n, { Tags: new Map([['a', 'b']]), DeleteTags: ['c'] }),
  encodeRpcRequest('stats', 6n),
  encodeRpcRequest('get-coordinate', 7n, { Node: 'x' }),
  encodeRpcRequest('force-leave', 8n, { Node: 'ghost', Prune: false }),
  encodeRpcRequest('auth', 9n, { AuthKey: 'k' }),
  encodeRpcRequest('stream', 10n, { Type: 'member-join,user:deploy' }),
  encodeRpcRequest('monitor', 11n, { LogLevel: 'DEBUG' }),
  encodeRpcRequest('stop', 12n, { Stop: 10n }),
  encodeRpcRequest('query', 13n, { FilterNodes: [], FilterTags: new Map(), RequestAck: true, RelayFactor: 0, Timeout: 1_000_000n, Name: 'q', Payload: Uint8Array.of(9) }),
  encodeRpcRequest('respond', 14n, { ID: 1n, Payload: Uint8Array.of(1) }),
  encodeRpcRequest('list-keys', 15n),
  encodeRpcRequest('install-key', 16n, { Key: 'T9jncgl9mbLus+baTTa7q7nPSUrXwbDi2dhbtqir37s=' }),
];

const rpcTarget: Target = {
  open: async (ctx) => {
    const gossipPort = ctx.portBase;
    const rpcPort = ctx.portBase + 1;
    const internal: string[] = [];
    let agent: Agent;
    let server: RpcServer;
    let restarts = 0;
    const start = async (): Promise<void> => {
      agent = await Agent.start({
        nodeName: 'fuzz-rpc', bindIp: '127.0.0.1', bindPort: gossipPort, tags: new Map(), profile: 'local', keys: [],
        rejoinAfterLeave: false, protocol: 5, logLevel: 'ERR',
        logOutput: (l) => {
          if (/internal error/.test(l.message)) internal.push(l.message);
        },
      });
      server = await RpcServer.listen(agent, { addr: `127.0.0.1:${rpcPort}`, maxConnections: 64 });
    };
    await start();
    const seeds = [...RPC_SEEDS, ...corpus().entries.filter((e) => e.kind === 'rpc').map((e) => e.bytes), ...ctx.extraSeeds];
    const one = (bytes: Uint8Array): Promise<void> =>
      new Promise((resolve) => {
        const s = net.connect(rpcPort, '127.0.0.1', () => s.write(bytes));
        const done = (): void => {
          clearTimeout(timer);
          s.destroy();
          resolve();
        };
        const timer = setTimeout(done, 25);
        s.on('error', done);
        s.on('close', done);
        s.on('data', () => {});
      });
    const healthy = async (): Promise<boolean> => {
      try {
        const c = await RpcClient.connect(`127.0.0.1:${rpcPort}`, { timeoutMs: 3_000 });
        try {
          await c.call('stats');
          return true;
        } finally {
          c.close();
        }
      } catch {
        return false;
      }
    };
    return {
      async run(ms, iteration, onCrash) {
        const deadline = performance.now() + ms;
        let n = 0;
        while (performance.now() < deadline) {
          const batch: Promise<void>[] = [];
          const inputs: Uint8Array[] = [];
          for (let k = 0; k < 16; k++, n++) {
            const rng = new Rng(mixSeed(ctx.seed, iteration + n));
            const parts: Uint8Array[] = [];
            if (rng.chance(0.8)) parts.push(RPC_SEEDS[0] as Uint8Array);
            const count = 1 + rng.below(3);
            for (let p = 0; p < count; p++) parts.push(rng.chance(0.3) ? rng.pick(seeds) : mutate(rng.pick(seeds), rng, corpus()).bytes);
            const bytes = Buffer.concat(parts);
            inputs.push(bytes);
            batch.push(one(bytes));
          }
          await Promise.all(batch);
          if (internal.length > 0) {
            onCrash(new FuzzCrash(`RPC server internal error: ${internal.join(' | ')}`, Buffer.concat(inputs)), iteration + n);
            internal.length = 0;
          }
          if ((n & 255) < 16) {
            const left = agent.serf.memberlist.isStopped;
            if (left) {
              // A fuzzed `leave` is a valid command: the agent did what it was told. Start over.
              restarts++;
              await server.close();
              await agent.shutdown();
              await start();
            } else if (!(await healthy())) {
              onCrash(new FuzzCrash('RPC server stopped answering an honest client', Buffer.concat(inputs)), iteration + n);
            }
          }
        }
        if (restarts > 0) ctx.log(`rpc: the agent was told to leave ${restarts} time(s) and restarted`);
        restarts = 0;
        return n;
      },
      async close() {
        await server.close();
        await agent.shutdown();
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Agent config files: JSON that decodes or is refused with a ConfigError naming the file and field.

const CONFIG_SEEDS = [
  '{}',
  '{"node_name":"a","bind":"127.0.0.1:7946","rpc_addr":"127.0.0.1:7373","tags":{"role":"web"},"profile":"lan"}',
  '{"encrypt_key":"22340oqL86o596XonHmP4/7RgmZRt8wgPkmlK3vybmI=","event_handlers":["user:deploy=./d.sh","member-join=j.sh"],"log_level":"debug"}',
  '{"start_join":["127.0.0.1:7947"],"retry_join":["x:1"],"retry_interval":"1s","retry_max":3,"reconnect_timeout":"24h","tombstone_timeout":"1h30m"}',
  '{"snapshot_path":"/tmp/s","rejoin_after_leave":true,"replay_on_join":true,"leave_on_terminate":true,"skip_leave_on_interrupt":false,"protocol":4}',
  '{"advertise":"10.0.0.1:7946","broadcast_timeout":"5s","tags_file":"/tmp/t","keyring_file":"/tmp/k","log_json":true,"rpc_auth":"x"}',
];

const FAKE_HOST: HostInfo = {
  hostname: 'fuzz', interfaces: { lo: [{ address: '127.0.0.1', netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal: true, cidr: '127.0.0.1/8' }] },
  readFile: () => null,
};

const configTarget: Target = {
  open: async (ctx) => {
    const seeds = [...CONFIG_SEEDS.map((s) => new TextEncoder().encode(s)), ...ctx.extraSeeds];
    const values = fc.sample(fc.jsonValue({ maxDepth: 3 }), { seed: ctx.seed, numRuns: 500 });
    const keys = ['node_name', 'bind', 'advertise', 'rpc_addr', 'tags', 'encrypt_key', 'event_handlers', 'profile', 'protocol', 'snapshot_path', 'retry_interval', 'retry_max', 'start_join', 'reconnect_timeout', 'log_level', 'tags_file', 'keyring_file'];
    return {
      async run(ms, iteration, onCrash) {
        const deadline = performance.now() + ms;
        let n = 0;
        for (; (n & 63) !== 0 || performance.now() < deadline; n++) {
          const rng = new Rng(mixSeed(ctx.seed, iteration + n));
          let bytes: Uint8Array;
          if (rng.chance(0.5)) {
            bytes = mutate(rng.pick(seeds), rng, corpus()).bytes;
          } else {
            const obj: Record<string, unknown> = {};
            for (let k = rng.below(4); k >= 0; k--) obj[rng.pick(keys)] = rng.pick(values);
            bytes = new TextEncoder().encode(JSON.stringify(obj));
          }
          const text = new TextDecoder().decode(bytes);
          try {
            const settings = decodeConfig('fuzz.json', text);
            resolveSettings(mergeSettings({}, settings), {}, FAKE_HOST);
          } catch (err) {
            if (!(err instanceof ConfigError) || err.message.length === 0 || err.message.includes('\n')) {
              onCrash(new FuzzCrash(`config: expected a one-line ConfigError, got ${describeError(err)}`, bytes), iteration + n);
            }
          }
        }
        return n;
      },
      async close() {},
    };
  },
};

// ---------------------------------------------------------------------------------------------
// The HTTP API's request bodies (service and check registration, TTL check updates, events),
// through HttpApi.respond: JSON decoding, the depth limit, the definition parsers and the
// catalog's limits, on a real single-node agent (127.0.0.1, no peers). Any answer but a 500 from
// an unexpected exception is fine. Checks are registered but only TTL checks are run: fuzzed
// HTTP, TCP or script checks must not reach out (script checks are refused by the API anyway).

class TtlOnlyServices extends AgentServices {
  constructor(agent: Agent) {
    super(agent);
    const add = this.runner.add.bind(this.runner);
    this.runner.add = (def: CheckDefinition): void => {
      if (def.kind.type === 'ttl') add(def);
    };
  }
}

const HTTP_BODY_SEEDS: readonly [string, string][] = [
  ['/v1/agent/service/register', '{"ID":"web1","Name":"web","Tags":["v1","primary"],"Address":"127.0.0.1","Port":8080,"Meta":{"env":"prod"},"Check":{"TTL":"10s","Status":"passing"}}'],
  ['/v1/agent/service/register', '{"name":"db","port":5432,"checks":[{"id":"db-tcp","tcp":"127.0.0.1:5432","interval":"10s","timeout":"1s"},{"http":"http://127.0.0.1:1/health","interval":"5s","method":"POST","header":{"X":["y"]},"deregister_critical_service_after":"1m"}]}'],
  ['/v1/agent/service/register', '{"Name":"api","Port":0,"EnableTagOverride":true,"Weights":{"Passing":3,"Warning":1},"Checks":[{"Args":["/bin/true"],"Interval":"3s"}]}'],
  ['/v1/agent/check/register', '{"ID":"mem","Name":"Memory","TTL":"15s","Notes":"n","Status":"warning"}'],
  ['/v1/agent/check/register', '{"Name":"web-alive","ServiceID":"web1","TCP":"127.0.0.1:8080","Interval":"1s","Timeout":"500ms"}'],
  ['/v1/agent/check/update/mem', '{"Status":"critical","Output":"out of memory"}'],
  ['/v1/agent/check/update/service:web1', '{"Status":"passing","Output":""}'],
  ['/v1/event/fire/deploy', '{"version":"1.2.3"}'],
];

const httpBodyTarget: Target = {
  open: async (ctx) => {
    const internal: string[] = [];
    const agent = await Agent.start({
      nodeName: 'fuzz-http', bindIp: '127.0.0.1', bindPort: ctx.portBase, tags: new Map(), profile: 'local', keys: [],
      rejoinAfterLeave: false, protocol: 5, logLevel: 'ERR',
      logOutput: (l) => {
        if (/internal error/.test(l.message)) internal.push(l.message);
      },
    });
    const services = new TtlOnlyServices(agent);
    const api = new HttpApi(agent, services);
    const seeds = [...HTTP_BODY_SEEDS.map(([, b]) => new TextEncoder().encode(b)), ...ctx.extraSeeds];
    const paths = HTTP_BODY_SEEDS.map(([p]) => p);
    const values = fc.sample(fc.jsonValue({ maxDepth: 4 }), { seed: ctx.seed, numRuns: 1_000 });
    const keys = ['ID', 'Name', 'Tags', 'Address', 'Port', 'Meta', 'Check', 'Checks', 'TTL', 'Status', 'Output', 'ServiceID', 'Interval', 'Timeout', 'HTTP', 'TCP', 'Args', 'Header', 'Method', 'Notes', 'DeregisterCriticalServiceAfter', 'Weights'];
    const allowed = new Set([200, 400, 404, 405, 413]);
    return {
      async run(ms, iteration, onCrash) {
        const deadline = performance.now() + ms;
        let n = 0;
        for (; (n & 63) !== 0 || performance.now() < deadline; n++) {
          const rng = new Rng(mixSeed(ctx.seed, iteration + n));
          const path = rng.pick(paths);
          let bytes: Uint8Array;
          const way = rng.below(3);
          if (way === 0) {
            bytes = mutate(rng.pick(seeds), rng, corpus()).bytes;
          } else {
            // Valid JSON of the right shape with fuzzed values, nested into Check/Checks too.
            const obj: Record<string, unknown> = {};
            for (let k = rng.below(6); k >= 0; k--) obj[rng.pick(keys)] = rng.pick(values);
            if (way === 2) obj[rng.chance(0.5) ? 'Check' : 'Checks'] = rng.chance(0.5) ? { TTL: '5s', ...obj } : [{ TTL: '5s' }, { ...obj }];
            bytes = new TextEncoder().encode(JSON.stringify(obj));
          }
          const answer = await api.respond('PUT', path, Buffer.from(bytes));
          // Consul answers a user event over the size limit with 500 and the error (event_endpoint.go).
          const expected = allowed.has(answer.status) || (answer.status === 500 && path.startsWith('/v1/event/fire/'));
          if (answer.internal || !expected || internal.length > 0) {
            onCrash(new FuzzCrash(`HTTP ${path}: ${answer.status} ${answer.text} ${internal.join(' | ')}`, bytes), iteration + n);
            internal.length = 0;
          }
          // The catalog has limits; start from an empty one now and then so inputs stay cheap.
          if (((iteration + n) & 1023) === 1023) {
            for (const svc of agent.node.local.allServices()) services.deregisterService(svc.ID);
            for (const c of agent.node.local.allChecks()) services.deregisterCheck(c.CheckID);
          }
        }
        return n;
      },
      async close() {
        services.stop();
        await api.close();
        await agent.shutdown();
      },
    };
  },
};

// ---------------------------------------------------------------------------------------------
// The DNS server's query handler (DnsServer.reply, what its UDP and TCP sockets call) over
// mutated and random packets, against a catalog with services. A reply must be null or decode,
// fit the UDP limit, and no query may reach the handler's bug path (counted internal errors).

function dnsSeeds(): Uint8Array[] {
  const q = (name: string, type: dnsPacket.RecordType, edns = false): Uint8Array =>
    dnsPacket.encode({
      type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }],
      ...(edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: 0, options: [] }] } : {}),
    } as unknown as dnsPacket.Packet);
  return [
    q('web.service.consul', 'A'), q('web.service.consul', 'SRV'), q('_web._tcp.service.consul', 'SRV', true),
    q('v1.web.service.dc1.consul', 'ANY' as dnsPacket.RecordType), q('fuzz-dns.node.consul', 'A'), q('db.service.consul', 'AAAA', true),
    q('nothing.service.consul', 'A'), q('example.com', 'A'), q('fuzz-dns.node.dc1.consul', 'TXT'),
  ];
}

const dnsTarget: Target = {
  open: async (ctx) => {
    const agent = await Agent.start({
      nodeName: 'fuzz-dns', bindIp: '127.0.0.1', bindPort: ctx.portBase, tags: new Map(), profile: 'local', keys: [],
      rejoinAfterLeave: false, protocol: 5, logLevel: 'ERR', logOutput: () => {},
    });
    for (let i = 0; i < 40; i++) {
      const address = i % 3 === 0 ? `::${i + 1}` : `127.0.${i}.1`;
      agent.actNode((node, now) => node.registerService(now, { ID: `web-${i}`, Service: i % 2 === 0 ? 'web' : 'db', Tags: ['v1', `t${i}`], Meta: {}, Port: 8000 + i, Address: address }, []));
    }
    const dns = new DnsServer(() => agent.node.catalog);
    const seeds = [...dnsSeeds(), ...ctx.extraSeeds];
    return {
      async run(ms, iteration, onCrash) {
        const deadline = performance.now() + ms;
        let n = 0;
        for (; (n & 63) !== 0 || performance.now() < deadline; n++) {
          const rng = new Rng(mixSeed(ctx.seed, iteration + n));
          const bytes = rng.chance(0.1) ? Uint8Array.from({ length: rng.below(600) }, () => rng.below(256)) : mutate(rng.pick(seeds), rng, corpus()).bytes;
          const tcp = rng.chance(0.3);
          const before = dns.counters.internalErrors;
          let problem: string | null = null;
          try {
            const out = dns.reply(Buffer.from(bytes), tcp ? null : 512);
            if (dns.counters.internalErrors > before) problem = 'the handler hit an internal error (SERVFAIL)';
            else if (out !== null) {
              if (!tcp && out.length > 4096) problem = `a UDP reply of ${out.length} bytes`;
              dnsPacket.decode(out);
            }
          } catch (err) {
            problem = describeError(err);
          }
          if (problem !== null) onCrash(new FuzzCrash(`DNS (${tcp ? 'tcp' : 'udp'}): ${problem}`, bytes), iteration + n);
        }
        return n;
      },
      async close() {
        await dns.close();
        await agent.shutdown();
      },
    };
  },
};

export const TARGETS: Record<string, Target> = {
  codec,
  'engine-udp': engineTarget('udp'),
  'engine-tcp': engineTarget('tcp'),
  rpc: rpcTarget,
  config: configTarget,
  'http-body': httpBodyTarget,
  dns: dnsTarget,
};
