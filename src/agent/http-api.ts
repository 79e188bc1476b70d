// A Consul-compatible HTTP API (a subset of Consul 1.x's /v1) served from the local gossiped
// catalog: agent, catalog, health, event and status endpoints with Consul's shapes, status codes
// and error texts, and blocking queries (index, wait, X-Consul-Index) on a local index that rises
// with every catalog change and every user event. node:http, no framework.
import http from 'node:http';
import { createHash } from 'node:crypto';
import type { Agent } from './agent.js';
import type { AgentServices } from './services.js';
import { DefinitionError, parseCheckDefinition, parseServiceDefinition, type CheckDefinition } from './service-definition.js';
import { addDropSource } from './drop-stats.js';
import { isLoopbackHost } from './loopback.js';
import { parseGoDuration } from './config.js';
import { CatalogError } from '../catalog/local.js';
import { aggregateStatus, isHealthStatus, type Check, type HealthStatusName, type Service } from '../catalog/types.js';
import type { CatalogMember, Instance } from '../catalog/catalog.js';
import { MemberStatus, type Member } from '../cluster/member.js';
import { ipToString } from '../protocol/address.js';
import type { SerfEvent } from '../cluster/serf.js';
import { renderMetrics, collectMetrics } from './metrics.js';

export const DATACENTER = 'dc1';

/** Consul's blocking query defaults (agent/http.go: 5 min default wait, 10 min at most). */
const DEFAULT_WAIT_MS = 5 * 60_000;
const MAX_WAIT_MS = 10 * 60_000;
/**
 * Largest request body we read (1 MiB, far above any definition). A larger Content-Length is
 * refused before a byte of the body is read, a longer chunked body as soon as it passes the
 * limit, with 413 as Consul answers bodies over its limits (agent/kvs_endpoint.go, txn_endpoint.go).
 */
export const MAX_BODY_BYTES = 1 << 20;
/** Deepest JSON nesting a body may have: definitions need 4 levels; V8's parser has no limit. */
export const MAX_JSON_DEPTH = 64;
/** User events kept for /v1/event/list (Consul keeps 256: agent/user_event.go eventBuffer). */
const EVENT_BUFFER = 256;
/** Serialized read answers kept until the index moves (distinct read URLs). */
const READ_CACHE_ENTRIES = 256;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

class TooDeepError extends HttpError {}

interface UserEventRecord {
  ID: string;
  Name: string;
  Payload: string | null;
  NodeFilter: string;
  ServiceFilter: string;
  TagFilter: string;
  Version: number;
  LTime: number;
}

interface Request {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: Buffer;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly text: string;
  /** The body already encoded (a cached read): written as it is, `text` decoded only if asked for. */
  readonly bytes?: Buffer;
  readonly internal: boolean;
}

interface Reply {
  readonly status?: number;
  readonly body: unknown;
  /** Sets X-Consul-Index and friends (catalog, health and event reads). */
  readonly indexed?: boolean;
  /** The body already serialized and encoded (a cached read). */
  readonly cached?: Buffer;
  readonly text?: boolean;
}

export class HttpApi {
  private server: http.Server | null = null;
  private localIndex = 1;
  private readonly waiters = new Set<() => void>();
  private readonly events: UserEventRecord[] = [];
  readonly counters = { requests: 0, errors: 0, blockingQueries: 0, cachedReads: 0 };
  /** Requests refused (the `drops` section of the stats RPC). */
  readonly refusals = { badRequest: 0, tooLarge: 0, tooDeep: 0 };
  /**
   * Reads answered since the index last moved, serialized: a catalog of thousands of instances
   * makes JSON encoding the main cost of a read, and between changes every reader (and every
   * woken watcher) would encode the same answer again.
   */
  private readonly readCache = new Map<string, Buffer>();
  /** What `PUT /v1/agent/reload` runs (the agent command's SIGHUP reload): null, or the error. */
  onReload: (() => string | null) | undefined;

  constructor(
    private readonly agent: Agent,
    private readonly services: AgentServices,
    private readonly options: {
      readonly cacheReads?: boolean;
      /**
       * Consul refuses script checks from the HTTP API unless enable_script_checks is set
       * (agent/agent.go: "Scripts are disabled on this agent"): whoever reaches the API would
       * run commands as the agent. Config files may still define them.
       */
      readonly allowScriptChecks?: boolean;
    } = {},
  ) {
    addDropSource(agent, () => [
      ['http_bad_request', this.refusals.badRequest],
      ['http_too_large', this.refusals.tooLarge],
      ['http_too_deep', this.refusals.tooDeep],
    ]);
    agent.node.catalog.onChange = () => this.bump();
    agent.on('serf', (event: SerfEvent) => {
      if (event.type !== 'user') return;
      this.events.push({
        ID: eventId(event.name, event.lTime),
        Name: event.name,
        Payload: event.payload === null || event.payload.length === 0 ? null : Buffer.from(event.payload).toString('base64'),
        NodeFilter: '',
        ServiceFilter: '',
        TagFilter: '',
        Version: 1,
        LTime: Number(event.lTime),
      });
      if (this.events.length > EVENT_BUFFER) this.events.shift();
      this.bump();
    });
  }

  private bump(): void {
    this.localIndex++;
    this.readCache.clear();
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  get index(): number {
    return this.localIndex;
  }

  async listen(addr: string): Promise<void> {
    const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(addr);
    if (m === null) throw new Error(`HTTP address ${addr}: expected "ip:port"`);
    const host = m[1] ?? (m[2] as string);
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(Number(m[3]), host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      throw new Error(`cannot listen for HTTP on ${addr}: ${err instanceof Error ? err.message : String(err)}`);
    });
    this.server = server;
    if (!isLoopbackHost(host)) {
      this.agent.log('WARN', `agent.http: HTTP API listening on ${addr}, which is not a loopback address: whoever reaches it can register services and checks, fire events and make this agent leave`);
    }
  }

  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a !== null ? a.port : 0;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = null;
    for (const w of [...this.waiters]) w();
    this.waiters.clear();
    if (s === null) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let answer: HttpAnswer;
    try {
      const body = await readBody(req);
      answer = await this.respond(req.method ?? 'GET', req.url ?? '/', body);
    } catch (err) {
      answer = this.failure(err);
    }
    if (answer.status === 413) {
      // The rest of the body is not read: close the connection once the answer is out, and do
      // not leave a client that keeps sending on it for longer than a second.
      answer.headers['Connection'] = 'close';
      res.once('finish', () => setTimeout(() => req.socket.destroy(), 1_000).unref());
    }
    if (!res.headersSent) res.writeHead(answer.status, answer.headers);
    res.end(answer.bytes ?? answer.text);
  }

  /**
   * One request, its body already read: the status, headers and text of the answer. `internal`
   * marks a failure that is a bug (500 from an unexpected exception), for the fuzzer.
   */
  async respond(method: string, rawUrl: string, body: Buffer): Promise<HttpAnswer> {
    this.counters.requests++;
    try {
      const url = new URL(rawUrl, 'http://localhost');
      const reply = await this.route({ method, path: decodeURIComponent(url.pathname), query: url.searchParams, body });
      const headers: Record<string, string> = {};
      if (reply.indexed === true) {
        headers['X-Consul-Index'] = String(this.localIndex);
        headers['X-Consul-KnownLeader'] = 'true';
        headers['X-Consul-LastContact'] = '0';
      }
      if (reply.text === true) {
        headers['Content-Type'] = 'text/plain; version=0.0.4; charset=utf-8';
        return { status: reply.status ?? 200, headers, text: String(reply.body), internal: false };
      }
      headers['Content-Type'] = 'application/json';
      const cached = reply.cached;
      if (cached !== undefined) {
        // A cache hit costs no encoding: the same Buffer goes to every reader (with its length,
        // so no chunked framing), and nothing of its size is allocated per request.
        headers['Content-Length'] = String(cached.length);
        return {
          status: reply.status ?? 200,
          headers,
          bytes: cached,
          get text(): string {
            return cached.toString('utf8');
          },
          internal: false,
        };
      }
      const pretty = url.searchParams.has('pretty');
      const text = reply.body === undefined ? '' : JSON.stringify(reply.body, null, pretty ? 4 : undefined);
      return { status: reply.status ?? 200, headers, text, internal: false };
    } catch (err) {
      return this.failure(err);
    }
  }

  private failure(err: unknown): HttpAnswer {
    this.counters.errors++;
    const status = err instanceof HttpError ? err.status : err instanceof URIError ? 400 : 500;
    if (status === 400) this.refusals.badRequest++;
    if (status === 413) this.refusals.tooLarge++;
    if (err instanceof TooDeepError) this.refusals.tooDeep++;
    const message = err instanceof Error ? err.message : String(err);
    return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, text: message, internal: status === 500 && !(err instanceof HttpError) };
  }

  // ---------------------------------------------------------------- routing

  private async route(r: Request): Promise<Reply> {
    const p = r.path;
    const arg = (prefix: string): string | null => (p.startsWith(prefix) && p.length > prefix.length ? p.slice(prefix.length) : null);
    const only = (...methods: string[]): void => {
      if (!methods.includes(r.method)) throw new HttpError(405, `method ${r.method} not allowed`);
    };
    let a: string | null;
    // status
    if (p === '/v1/status/leader') return only('GET'), { body: this.selfAddr() };
    if (p === '/v1/status/peers') return only('GET'), { body: [this.selfAddr()] };
    // agent
    if (p === '/v1/agent/self') return only('GET'), { body: this.agentSelf() };
    if (p === '/v1/agent/members') return only('GET'), { body: this.agent.serf.members().map(consulMember) };
    if (p === '/v1/agent/metrics') {
      only('GET');
      const metrics = collectMetrics(this.agent, this);
      return r.query.get('format') === 'prometheus' ? { text: true, body: renderMetrics(metrics) } : { body: metrics };
    }
    if ((a = arg('/v1/agent/join/')) !== null) return only('PUT'), this.join(a);
    if (p === '/v1/agent/leave') return only('PUT'), this.leave();
    if (p === '/v1/agent/reload') return only('PUT'), this.reload();
    if ((a = arg('/v1/agent/force-leave/')) !== null) return only('PUT'), this.forceLeave(a, r.query.has('prune'));
    if (p === '/v1/agent/services') return only('GET'), { body: this.agentServices() };
    if (p === '/v1/agent/service/register') return only('PUT'), this.register(r.body);
    if ((a = arg('/v1/agent/service/')) !== null && r.method === 'GET' && !a.includes('/')) return this.agentService(a);
    if ((a = arg('/v1/agent/service/deregister/')) !== null) {
      only('PUT');
      if (!this.services.deregisterService(a)) throw new HttpError(404, `Unknown service ID "${a}". Ensure that the service ID is passed, not the service name.`);
      return { body: undefined };
    }
    if (p === '/v1/agent/checks') return only('GET'), { body: this.agentChecks() };
    if (p === '/v1/agent/check/register') return only('PUT'), this.registerCheck(r.body);
    if ((a = arg('/v1/agent/check/deregister/')) !== null) {
      only('PUT');
      if (!this.services.deregisterCheck(a)) throw new HttpError(404, `Unknown check ID "${a}". Ensure that the check ID is passed, not the check name.`);
      return { body: undefined };
    }
    for (const [verb, status] of [['pass', 'passing'], ['warn', 'warning'], ['fail', 'critical']] as const) {
      if ((a = arg(`/v1/agent/check/${verb}/`)) !== null) return only('PUT'), this.ttl(a, status, r.query.get('note') ?? '');
    }
    if ((a = arg('/v1/agent/check/update/')) !== null) {
      only('PUT');
      const body = parseJson(r.body) as { Status?: unknown; Output?: unknown } | null;
      const status = body?.Status;
      if (!isHealthStatus(status)) throw new HttpError(400, `Invalid check status: "${String(status ?? '')}"`);
      return this.ttl(a, status, typeof body?.Output === 'string' ? body.Output : '');
    }
    // catalog
    if (p === '/v1/catalog/services') return this.blocking(r, () => Object.fromEntries(this.agent.node.catalog.serviceNames()));
    if ((a = arg('/v1/catalog/service/')) !== null) {
      const name = a;
      const tags = r.query.getAll('tag');
      return this.blocking(r, () => this.agent.node.catalog.instances(name, tags).map(catalogServiceEntry));
    }
    if (p === '/v1/catalog/nodes') return this.blocking(r, () => this.agent.node.catalog.nodes().map(consulNode));
    if ((a = arg('/v1/catalog/node/')) !== null) {
      const name = a;
      return this.blocking(r, () => {
        const cat = this.agent.node.catalog;
        const m = cat.member(name);
        if (m === undefined || m.health === 'left') return null;
        return { Node: consulNode(m), Services: Object.fromEntries(cat.servicesOf(name).map((s) => [s.ID, agentService(s)])) };
      });
    }
    // health
    if ((a = arg('/v1/health/service/')) !== null) {
      const name = a;
      const tags = r.query.getAll('tag');
      const passing = r.query.has('passing') && !['false', '0'].includes(r.query.get('passing') ?? '');
      const instances = (): Instance[] => {
        const cat = this.agent.node.catalog;
        return passing ? cat.passingInstances(name, tags) : cat.instances(name, tags);
      };
      return this.blocking(r, () => instances().map(healthEntry), () => jsonArrayBytes(instances().map(healthEntryBytes)));
    }
    if ((a = arg('/v1/health/node/')) !== null) {
      const name = a;
      return this.blocking(r, () => this.agent.node.catalog.checksOf(name).map((c) => consulCheck(name, c, this.agent.node.catalog.servicesOf(name))));
    }
    if ((a = arg('/v1/health/checks/')) !== null) {
      const name = a;
      return this.blocking(r, () => this.agent.node.catalog.instances(name).flatMap((i) => i.checks.filter((c) => c.ServiceID === i.service.ID).map((c) => consulCheck(i.node.name, c, [i.service]))));
    }
    if ((a = arg('/v1/health/state/')) !== null) {
      const state = a;
      if (state !== 'any' && !isHealthStatus(state)) throw new HttpError(400, `Bad check state: ${state}`);
      return this.blocking(r, () => {
        const cat = this.agent.node.catalog;
        return cat.checksInState(state).map((c) => consulCheck(c.Node, c, cat.servicesOf(c.Node)));
      });
    }
    // events
    if ((a = arg('/v1/event/fire/')) !== null) return only('PUT'), this.fire(a, r.body);
    if (p === '/v1/event/list') {
      const name = r.query.get('name');
      return this.blocking(r, () => this.events.filter((e) => name === null || name === '' || e.Name === name));
    }
    throw new HttpError(404, '404 page not found');
  }

  // ---------------------------------------------------------------- blocking queries

  /**
   * Runs a read; with ?index=N it first waits for the local index to pass N, up to ?wait.
   * `readBytes`, when given, serializes the same answer faster (from per-entry pieces).
   */
  private async blocking(r: Request, read: () => unknown, readBytes?: () => Buffer): Promise<Reply> {
    if (r.method !== 'GET') throw new HttpError(405, `method ${r.method} not allowed`);
    const indexText = r.query.get('index');
    if (indexText !== null && indexText !== '') {
      if (!/^\d+$/.test(indexText)) throw new HttpError(400, 'Invalid index');
      const index = Number(indexText);
      let waitMs = DEFAULT_WAIT_MS;
      const waitText = r.query.get('wait');
      if (waitText !== null && waitText !== '') {
        const w = parseGoDuration(waitText);
        if (w === null || w < 0) throw new HttpError(400, 'Invalid wait time');
        waitMs = Math.min(w, MAX_WAIT_MS);
      }
      // Consul adds up to wait/16 of jitter so many watchers do not wake together.
      waitMs += Math.floor(Math.random() * (waitMs / 16));
      if (index >= this.localIndex && index > 0) {
        this.counters.blockingQueries++;
        await new Promise<void>((resolve) => {
          const deadline = Date.now() + waitMs;
          let timer: NodeJS.Timeout | null = null;
          const check = (): void => {
            if (this.localIndex > index || Date.now() >= deadline || this.server === null) {
              if (timer !== null) clearTimeout(timer);
              this.waiters.delete(check);
              resolve();
            } else {
              this.waiters.add(check);
            }
          };
          timer = setTimeout(() => {
            timer = null;
            this.waiters.delete(check);
            resolve();
          }, waitMs);
          this.waiters.add(check);
        });
      }
    }
    if (this.options.cacheReads === false || r.query.has('pretty')) return { body: read(), indexed: true };
    const key = cacheKey(r);
    let cached = this.readCache.get(key);
    if (cached === undefined) {
      cached = readBytes !== undefined ? readBytes() : Buffer.from(JSON.stringify(read()), 'utf8');
      if (this.readCache.size >= READ_CACHE_ENTRIES) this.readCache.clear();
      this.readCache.set(key, cached);
    } else {
      this.counters.cachedReads++;
    }
    return { body: null, cached, indexed: true };
  }

  // ---------------------------------------------------------------- agent endpoints

  private selfAddr(): string {
    const me = this.agent.serf.localMember();
    return `${ipToString(me.addr)}:${me.port}`;
  }

  private agentSelf(): unknown {
    const me = this.agent.serf.localMember();
    return {
      Config: {
        Datacenter: DATACENTER,
        NodeName: me.name,
        NodeID: nodeId(me.name),
        Server: false,
        Revision: '',
        Version: 'shoal',
      },
      Coord: this.agent.serf.getCoordinate(),
      Member: consulMember(me),
      Meta: {},
      Stats: { catalog: { index: String(this.localIndex), nodes: String(this.agent.node.catalog.size), peers: String(this.agent.node.peers().length) } },
    };
  }

  private async join(addr: string): Promise<Reply> {
    const { num, errors } = await this.agent.join([addr], false);
    if (num === 0) throw new HttpError(500, errors.join('; ') || `failed to join ${addr}`);
    return { body: undefined };
  }

  private async leave(): Promise<Reply> {
    const error = await this.agent.leave();
    if (error !== null) throw new HttpError(500, error);
    return { body: undefined };
  }

  /** consul reload (agent/agent_endpoint.go AgentReload): 200 when the files were read, 500 with the error if not. */
  private reload(): Reply {
    if (this.onReload === undefined) throw new HttpError(500, 'this agent has no configuration to reload');
    const error = this.onReload();
    if (error !== null) throw new HttpError(500, `Failed to reload configs: ${error}`);
    return { body: undefined };
  }

  private async forceLeave(node: string, prune: boolean): Promise<Reply> {
    const error = await new Promise<string | null>((resolve) => this.agent.act((serf, now) => serf.forceLeave(now, node, prune, resolve)));
    if (error !== null) throw new HttpError(500, error);
    return { body: undefined };
  }

  private agentServices(): Record<string, unknown> {
    return Object.fromEntries(this.agent.node.local.allServices().map((s) => [s.ID, agentService(s)]));
  }

  private agentService(id: string): Reply {
    const s = this.agent.node.local.service(id);
    if (s === undefined) throw new HttpError(404, `unknown service ID: ${id}`);
    return { body: agentService(s) };
  }

  private agentChecks(): Record<string, unknown> {
    const local = this.agent.node.local;
    return Object.fromEntries(local.allChecks().map((c) => [c.CheckID, consulCheck(this.agent.config.nodeName, c, local.allServices())]));
  }

  private register(body: Buffer): Reply {
    const raw = parseJson(body);
    try {
      const def = parseServiceDefinition(raw, 'service');
      for (const c of def.checks) this.refuseScript(c);
      this.services.registerService(def, raw);
    } catch (err) {
      if (err instanceof DefinitionError) throw new HttpError(400, err.message.replace(/^service: /, ''));
      if (err instanceof CatalogError) throw new HttpError(400, err.message);
      throw err;
    }
    return { body: undefined };
  }

  private registerCheck(body: Buffer): Reply {
    const raw = parseJson(body);
    try {
      const def = parseCheckDefinition(raw, 'check');
      this.refuseScript(def);
      this.services.registerCheck(def, raw);
    } catch (err) {
      if (err instanceof DefinitionError) throw new HttpError(400, err.message.replace(/^check: /, ''));
      if (err instanceof CatalogError) throw new HttpError(400, err.message);
      throw err;
    }
    return { body: undefined };
  }

  private refuseScript(def: CheckDefinition): void {
    if (def.kind.type === 'script' && this.options.allowScriptChecks !== true) {
      throw new HttpError(400, `Scripts are disabled on this agent; to enable, configure 'enable_script_checks' to true`);
    }
  }

  private ttl(id: string, status: HealthStatusName, output: string): Reply {
    const error = this.services.ttl(id, status, output);
    if (error !== null) throw new HttpError(error.startsWith('Unknown') ? 404 : 400, error);
    return { body: undefined };
  }

  private fire(name: string, body: Buffer): Reply {
    const payload = body.length === 0 ? null : new Uint8Array(body);
    try {
      this.agent.act((serf, now) => serf.userEvent(now, name, payload, false));
    } catch (err) {
      throw new HttpError(500, err instanceof Error ? err.message : String(err));
    }
    const lTime = Number(this.agent.serf.eventClock.time()) - 1;
    return {
      body: { ID: eventId(name, BigInt(lTime)), Name: name, Payload: payload === null ? null : Buffer.from(payload).toString('base64'), NodeFilter: '', ServiceFilter: '', TagFilter: '', Version: 1, LTime: 0 },
    };
  }
}

// ---------------------------------------------------------------- Consul shapes

/** A stable UUID-shaped ID per node name (Consul nodes have UUIDs; ours derive from the name). */
export function nodeId(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function eventId(name: string, lTime: bigint): string {
  return nodeId(`event:${name}:${lTime}`);
}

function consulMember(m: Member): unknown {
  // Consul reports serf.MemberStatus as a number (1 alive, 2 leaving, 3 left, 4 failed).
  return {
    Name: m.name,
    Addr: ipToString(m.addr),
    Port: m.port,
    Tags: Object.fromEntries(m.tags),
    Status: m.status === MemberStatus.none ? 0 : m.status,
    ProtocolMin: m.protocolMin,
    ProtocolMax: m.protocolMax,
    ProtocolCur: m.protocolCur,
    DelegateMin: m.delegateMin,
    DelegateMax: m.delegateMax,
    DelegateCur: m.delegateCur,
  };
}

function consulNode(m: CatalogMember): Record<string, unknown> {
  return {
    ID: nodeId(m.name),
    Node: m.name,
    Address: m.address,
    Datacenter: DATACENTER,
    TaggedAddresses: { lan: m.address, wan: m.address },
    Meta: {},
    CreateIndex: 0,
    ModifyIndex: 0,
  };
}

function agentService(s: Service): Record<string, unknown> {
  return {
    ID: s.ID,
    Service: s.Service,
    Tags: [...s.Tags],
    Meta: { ...s.Meta },
    Port: s.Port,
    Address: s.Address,
    Weights: { Passing: 1, Warning: 1 },
    EnableTagOverride: false,
    Datacenter: DATACENTER,
  };
}

function catalogServiceEntry(i: Instance): Record<string, unknown> {
  const s = i.service;
  return {
    ID: nodeId(i.node.name),
    Node: i.node.name,
    Address: i.node.address,
    Datacenter: DATACENTER,
    TaggedAddresses: { lan: i.node.address, wan: i.node.address },
    NodeMeta: {},
    ServiceKind: '',
    ServiceID: s.ID,
    ServiceName: s.Service,
    ServiceTags: [...s.Tags],
    ServiceAddress: s.Address,
    ServiceWeights: { Passing: 1, Warning: 1 },
    ServiceMeta: { ...s.Meta },
    ServicePort: s.Port,
    ServiceEnableTagOverride: false,
    CreateIndex: 0,
    ModifyIndex: 0,
  };
}

function consulCheck(node: string, c: Check, services: readonly Service[]): Record<string, unknown> {
  const svc = c.ServiceID === '' ? undefined : services.find((s) => s.ID === c.ServiceID);
  return {
    Node: node,
    CheckID: c.CheckID,
    Name: c.Name,
    Status: c.Status,
    Notes: c.Notes,
    Output: c.Output,
    ServiceID: c.ServiceID,
    ServiceName: svc?.Service ?? c.ServiceName,
    ServiceTags: svc === undefined ? [] : [...svc.Tags],
    Type: c.Type,
    Definition: {},
    CreateIndex: 0,
    ModifyIndex: 0,
  };
}

export function healthEntry(i: Instance): Record<string, unknown> {
  return {
    Node: consulNode(i.node),
    Service: agentService(i.service),
    Checks: i.checks.map((c) => consulCheck(i.node.name, c, [i.service])),
  };
}

interface EntryBytes {
  readonly node: CatalogMember;
  readonly checks: readonly Check[];
  readonly bytes: Buffer;
}

/**
 * Serialized health entries by service object. Entries in the catalog are immutable and a
 * gossiped change replaces only its node's, so after a change to one node of a thousand, the
 * next read re-serializes that node's instances and joins the rest as they were — instead of
 * building and encoding every entry again (45 ms of CPU for 5,000 instances, per change).
 * The pieces are kept encoded: joining Buffers is a copy, while a joined string of megabytes
 * must be flattened and encoded again (12 ms for 4.9 MiB). A piece is valid while the instance
 * has the same member (name, address, health: serfHealth) and the same check objects; a
 * WeakMap lets replaced services go with their pieces.
 */
const entryBytesCache = new WeakMap<Service, EntryBytes>();

/** JSON.stringify(healthEntry(i)) as UTF-8, from the cache when nothing of the instance changed. */
export function healthEntryBytes(i: Instance): Buffer {
  const hit = entryBytesCache.get(i.service);
  // i.checks[0] is serfHealth, made afresh from the member on each read; the rest are the node's objects.
  if (hit !== undefined && hit.node === i.node && hit.checks.length === i.checks.length - 1 && hit.checks.every((c, k) => c === i.checks[k + 1])) return hit.bytes;
  const bytes = Buffer.from(JSON.stringify(healthEntry(i)), 'utf8');
  entryBytesCache.set(i.service, { node: i.node, checks: i.checks.slice(1), bytes });
  return bytes;
}

const OPEN_BRACKET = Buffer.from('[');
const COMMA = Buffer.from(',');
const CLOSE_BRACKET = Buffer.from(']');

/** `[e1,e2,…]` from encoded JSON values, in one allocation. */
export function jsonArrayBytes(items: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [OPEN_BRACKET];
  let length = 2 + Math.max(0, items.length - 1);
  items.forEach((item, k) => {
    if (k > 0) parts.push(COMMA);
    parts.push(item);
    length += item.length;
  });
  parts.push(CLOSE_BRACKET);
  return Buffer.concat(parts, length);
}

/** The worst state among an instance's checks (exported for DNS and the CLI). */
export function instanceStatus(i: Instance): HealthStatusName {
  return aggregateStatus(i.checks);
}

/** The read's identity: its path and query without the blocking parameters. */
function cacheKey(r: Request): string {
  const q = new URLSearchParams(r.query);
  q.delete('index');
  q.delete('wait');
  q.sort();
  return `${r.path}?${q.toString()}`;
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return null;
  const depth = jsonDepth(body);
  if (depth > MAX_JSON_DEPTH) throw new TooDeepError(400, `Request decode failed: JSON nested more than ${MAX_JSON_DEPTH} levels deep`);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `Request decode failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The deepest nesting of [ and { outside strings (a scan, so it cannot overflow a stack). */
export function jsonDepth(bytes: Uint8Array): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    if (inString) {
      if (b === 0x5c) i++;
      else if (b === 0x22) inString = false;
    } else if (b === 0x22) inString = true;
    else if (b === 0x5b || b === 0x7b) max = Math.max(max, ++depth);
    else if (b === 0x5d || b === 0x7d) depth--;
  }
  return max;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const tooLarge = (): HttpError => new HttpError(413, `Request body too large: the limit is ${MAX_BODY_BYTES} bytes`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    return Promise.reject(tooLarge());
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // What was read is let go; what follows is read and discarded until the socket closes.
        refused = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
