// Feeds the services view from an agent's Consul-compatible HTTP API (docs/catalog.md): the list of
// services (/v1/catalog/services) and each one's instances with their checks
// (/v1/health/service/:name). It waits with blocking queries (?index=N&wait=…): the agent answers
// as soon as its catalog index moves — any service, any check, any member's health — so a check
// going critical shows within a second, and an idle catalog costs one request per wait. When there
// is no HTTP API there (a real serf agent has none) or it belongs to another agent, the view says
// so and the reader tries again every few seconds; it never takes the TUI down.
import type { TuiModel } from './model.js';
import type { ServiceCheckInfo, ServiceInfo, ServiceInstanceInfo } from './services-model.js';
import { SERVICE_LIMIT } from './services-model.js';

export const DEFAULT_HTTP_ADDR = '127.0.0.1:8500';

export interface CatalogSourceOptions {
  /** host:port of the HTTP API. */
  readonly addr: string;
  /** How long one blocking query may wait for a change (the agent adds up to 1/16 jitter). */
  readonly waitMs?: number;
  /** At most one read per this interval, whatever the index does (a flapping check, a server without blocking). */
  readonly minIntervalMs?: number;
  /** Wait after a failed read before the next try. */
  readonly retryMs?: number;
}

const DEFAULT_WAIT_MS = 10_000;
const DEFAULT_MIN_INTERVAL_MS = 1_000;
const DEFAULT_RETRY_MS = 3_000;
/** A read that is not a blocking wait gives up after this. */
const REQUEST_TIMEOUT_MS = 5_000;

class CatalogUnavailable extends Error {}

export class CatalogSource {
  private model: TuiModel | null = null;
  private changed: () => void = () => undefined;
  private stopped = false;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> = Promise.resolve();
  private readonly base: string;

  constructor(private readonly options: CatalogSourceOptions) {
    this.base = `http://${options.addr.replace(/^https?:\/\//, '')}`;
  }

  start(model: TuiModel, changed: () => void): void {
    this.model = model;
    this.changed = changed;
    model.catalogAddr = this.options.addr;
    model.setCatalogState('connecting', '');
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    await this.loopDone;
  }

  private async loop(): Promise<void> {
    const model = this.model as TuiModel;
    let index = 0;
    while (!this.stopped) {
      const startedMs = Date.now();
      try {
        await this.checkIdentity(model);
        const { body, index: next } = await this.get('/v1/catalog/services', index === 0 ? null : index);
        if (this.stopped) break;
        const services = await this.readServices(body);
        if (this.stopped) break;
        model.setServices(Date.now(), services);
        // An index that went backwards (the agent restarted) starts over.
        index = next === null || next < index ? 0 : next;
      } catch (err) {
        if (this.stopped) break;
        model.setCatalogState('unavailable', describe(err, this.options.addr));
        index = 0;
        this.changed();
        await this.sleep(this.options.retryMs ?? DEFAULT_RETRY_MS);
        continue;
      }
      this.changed();
      await this.sleep(Math.max(0, (this.options.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS) - (Date.now() - startedMs)));
    }
  }

  /** The API must be the watched agent's: another agent on the default port would show another catalog. */
  private async checkIdentity(model: TuiModel): Promise<void> {
    if (model.localName === '' || model.catalogState === 'ok') return;
    const { body } = await this.get('/v1/agent/self', null);
    const name = (body as { Config?: { NodeName?: unknown } } | null)?.Config?.NodeName;
    if (typeof name === 'string' && name !== model.localName) {
      throw new CatalogUnavailable(`the HTTP API at ${this.options.addr} is agent ${name}'s, not ${model.localName}'s (give -http-addr)`);
    }
  }

  private async readServices(body: unknown): Promise<ServiceInfo[]> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new CatalogUnavailable(`${this.options.addr}/v1/catalog/services did not answer with a catalog (not a Consul-compatible API?)`);
    const names = Object.keys(body).sort().slice(0, SERVICE_LIMIT);
    return Promise.all(names.map(async (name) => {
      const { body: entries } = await this.get(`/v1/health/service/${encodeURIComponent(name)}`, null);
      return { name, instances: Array.isArray(entries) ? entries.map(instanceOf) : [] };
    }));
  }

  private async get(path: string, index: number | null): Promise<{ body: unknown; index: number | null }> {
    const waitMs = this.options.waitMs ?? DEFAULT_WAIT_MS;
    const query = index === null ? '' : `${path.includes('?') ? '&' : '?'}index=${index}&wait=${Math.ceil(waitMs / 1000)}s`;
    const timeout = AbortSignal.timeout(index === null ? REQUEST_TIMEOUT_MS : Math.ceil(waitMs + waitMs / 16 + REQUEST_TIMEOUT_MS));
    const res = await fetch(`${this.base}${path}${query}`, { signal: AbortSignal.any([this.abort.signal, timeout]) });
    const text = await res.text();
    if (!res.ok) throw new CatalogUnavailable(`${this.options.addr}${path} answered ${res.status}${text.trim() === '' ? '' : ` (${text.trim().slice(0, 80)})`} — not a shoal agent's HTTP API?`);
    const header = res.headers.get('x-consul-index');
    let body: unknown;
    try {
      body = text === '' ? null : JSON.parse(text);
    } catch {
      throw new CatalogUnavailable(`${this.options.addr}${path} did not answer JSON — not a shoal agent's HTTP API?`);
    }
    return { body, index: header === null || !/^\d+$/.test(header) ? null : Number(header) };
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const timer = setTimeout(done, ms);
      const signal = this.abort.signal;
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done);
    });
  }
}

/** One entry of /v1/health/service/:name (Consul's shape) as the view shows it. */
export function instanceOf(entry: unknown): ServiceInstanceInfo {
  const e = (entry ?? {}) as { Node?: { Node?: unknown; Address?: unknown }; Service?: { ID?: unknown; Address?: unknown; Port?: unknown; Tags?: unknown }; Checks?: unknown };
  const str = (v: unknown): string => (typeof v === 'string' ? v : '');
  const serviceAddress = str(e.Service?.Address);
  return {
    node: str(e.Node?.Node),
    id: str(e.Service?.ID),
    address: serviceAddress === '' ? str(e.Node?.Address) : serviceAddress,
    port: typeof e.Service?.Port === 'number' ? e.Service.Port : 0,
    tags: Array.isArray(e.Service?.Tags) ? e.Service.Tags.filter((t): t is string => typeof t === 'string') : [],
    checks: Array.isArray(e.Checks)
      ? e.Checks.map((c: { CheckID?: unknown; Name?: unknown; Status?: unknown; Output?: unknown }): ServiceCheckInfo => ({
        id: str(c.CheckID), name: str(c.Name), status: str(c.Status), output: (str(c.Output).trim().split('\n')[0] ?? '').slice(0, 200),
      }))
      : [],
  };
}

function describe(err: unknown, addr: string): string {
  if (err instanceof CatalogUnavailable) return err.message;
  const cause = err instanceof Error ? (err.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code === 'ECONNREFUSED') return `nothing listens on ${addr} (connection refused): no HTTP API there`;
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) return `${addr} did not answer in time`;
  return `${addr}: ${cause?.message ?? (err instanceof Error ? err.message : String(err))}`;
}
