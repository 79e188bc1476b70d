// The agent's own services and checks: registration (from config files, the HTTP API, the CLI)
// into the node's local catalog, with the check runners that keep their states current. Two
// owners, as in Consul: the config files (registered at start, brought in line with the files on
// reload) and the API (kept in the data directory, when there is one, and restored at start).
import type { Agent } from './agent.js';
import { CheckRunner } from './checks.js';
import { initialCheck, parseCheckDefinition, parseServiceDefinition, type CheckDefinition, type ServiceDefinition } from './service-definition.js';
import type { ServiceStore } from './persist.js';
import type { HealthStatusName } from '../catalog/types.js';

/** What a reload of the config files changed (service IDs), and what it could not do. */
export interface ReloadOutcome {
  readonly added: string[];
  readonly updated: string[];
  readonly removed: string[];
  readonly errors: string[];
}

export class AgentServices {
  readonly runner: CheckRunner;
  /** Services as the config files last defined them, by ID: what a reload compares against. */
  private readonly fromConfig = new Map<string, ServiceDefinition>();

  constructor(
    private readonly agent: Agent,
    private readonly store?: ServiceStore,
  ) {
    this.runner = new CheckRunner({
      update: (id, status, output) => {
        try {
          agent.actNode((node, now) => node.updateCheck(now, id, status, output));
        } catch {
          // The check went away while it ran.
        }
      },
      deregisterService: (serviceId) => {
        this.forget(serviceId);
        agent.actNode((node, now) => node.deregisterService(now, serviceId));
      },
      log: (level, message) => agent.log(level, message),
    });
  }

  /**
   * Registers (or replaces) a service and its checks. Throws CatalogError past the limits.
   * `apiDefinition`: the registration as the client sent it — the service is then the API's,
   * kept in the data directory (if any) until it is deregistered.
   */
  registerService(def: ServiceDefinition, apiDefinition?: unknown): void {
    this.agent.actNode((node, now) => node.registerService(now, def.service, def.checks.map(initialCheck)));
    this.runner.removeService(def.service.ID);
    for (const c of def.checks) this.startCheck(c);
    if (apiDefinition === undefined) return;
    this.fromConfig.delete(def.service.ID);
    this.persist(() => this.store?.saveService(def.service.ID, apiDefinition), `service ${JSON.stringify(def.service.ID)}`);
  }

  deregisterService(id: string): boolean {
    this.runner.removeService(id);
    this.forget(id);
    return this.agent.actNode((node, now) => node.deregisterService(now, id));
  }

  /** Registers a check (node-level, or for a service of this node). Throws CatalogError. */
  registerCheck(def: CheckDefinition, apiDefinition?: unknown): void {
    this.agent.actNode((node, now) => node.registerCheck(now, initialCheck(def)));
    this.startCheck(def);
    if (apiDefinition !== undefined) this.persist(() => this.store?.saveCheck(def.id, apiDefinition), `check ${JSON.stringify(def.id)}`);
  }

  deregisterCheck(id: string): boolean {
    this.runner.remove(id);
    this.persist(() => this.store?.removeCheck(id), `check ${JSON.stringify(id)}`);
    return this.agent.actNode((node, now) => node.deregisterCheck(now, id));
  }

  /** pass/warn/fail/update of a TTL check; returns an error message or null. */
  ttl(id: string, status: HealthStatusName, output: string): string | null {
    const error = this.runner.ttlUpdate(id, status, output);
    const def = this.runner.definition(id);
    if (error === null && this.store !== undefined && def?.kind.type === 'ttl') {
      // agent.go persistCheckState: the state holds until the TTL would have run out.
      const ttlMs = def.kind.ttlMs;
      this.persist(() => this.store?.saveCheckState(id, { status, output, expiresAtMs: Date.now() + ttlMs }), `check ${JSON.stringify(id)} state`);
    }
    return error;
  }

  /** The config files' services at start. Throws (CatalogError) on the first that cannot be registered. */
  registerConfigServices(defs: readonly ServiceDefinition[]): void {
    for (const def of defs) {
      try {
        this.registerService(def);
      } catch (err) {
        throw new Error(`service ${JSON.stringify(def.service.ID)}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      this.fromConfig.set(def.service.ID, def);
    }
  }

  /**
   * Restores what the API registered in an earlier run (agent.go loadServices, loadChecks). A
   * service or check the config files define as well is the files': the saved copy is dropped,
   * as Consul purges it. Unreadable files and definitions are named in a warning and skipped.
   */
  restorePersisted(): { services: number; checks: number } {
    const store = this.store;
    if (store === undefined) return { services: 0, checks: 0 };
    const warn = (message: string): void => this.agent.log('WARN', message);
    let services = 0;
    let checks = 0;
    for (const p of store.loadServices()) {
      if (this.fromConfig.has(p.id)) {
        this.agent.log('DEBUG', `agent: service ${JSON.stringify(p.id)} is defined in the config files; dropping the saved copy ${p.file}`);
        store.removeService(p.id);
        continue;
      }
      try {
        const def = parseServiceDefinition(p.definition, p.file);
        if (def.service.ID !== p.id) throw new Error(`defines service ID ${JSON.stringify(def.service.ID)}, not ${JSON.stringify(p.id)}`);
        this.registerService(def);
        services++;
      } catch (err) {
        warn(`agent: ignoring persisted service file ${p.file}: ${err instanceof Error ? err.message : String(err)}; the agent starts without it`);
      }
    }
    const configChecks = new Set([...this.fromConfig.values()].flatMap((d) => d.checks.map((c) => c.id)));
    for (const p of store.loadChecks()) {
      if (configChecks.has(p.id)) {
        store.removeCheck(p.id);
        continue;
      }
      try {
        const def = parseCheckDefinition(p.definition, p.file);
        if (def.id !== p.id) throw new Error(`defines check ID ${JSON.stringify(def.id)}, not ${JSON.stringify(p.id)}`);
        this.registerCheck(def);
        checks++;
      } catch (err) {
        warn(`agent: ignoring persisted check file ${p.file}: ${err instanceof Error ? err.message : String(err)}; the agent starts without it`);
      }
    }
    return { services, checks };
  }

  /**
   * Brings the config files' services in line with `defs` (consul reload): new ones register,
   * ones no longer in the files deregister, changed ones are registered again (their checks
   * restart), unchanged ones are left running. Services the API registered are not touched,
   * unless the files now define the same ID (the files win, as at start). A config service
   * deregistered through the API comes back, as in Consul.
   */
  reloadConfigServices(defs: readonly ServiceDefinition[]): ReloadOutcome {
    const next = new Map<string, ServiceDefinition>();
    for (const def of defs) next.set(def.service.ID, def);
    const outcome: ReloadOutcome = { added: [], updated: [], removed: [], errors: [] };
    for (const id of [...this.fromConfig.keys()]) {
      if (next.has(id)) continue;
      this.fromConfig.delete(id);
      this.runner.removeService(id);
      if (this.agent.actNode((node, now) => node.deregisterService(now, id))) outcome.removed.push(id);
    }
    for (const [id, def] of next) {
      const old = this.fromConfig.get(id);
      const registered = this.agent.node.local.service(id) !== undefined;
      if (old !== undefined && registered && JSON.stringify(old) === JSON.stringify(def)) continue;
      try {
        this.registerService(def);
        this.fromConfig.set(id, def);
        this.persist(() => this.store?.removeService(id), `service ${JSON.stringify(id)}`);
        (old !== undefined && registered ? outcome.updated : outcome.added).push(id);
      } catch (err) {
        outcome.errors.push(`service ${JSON.stringify(id)}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return outcome;
  }

  stop(): void {
    this.runner.stop();
  }

  /** A TTL check starts from its saved state while that has not expired (agent.go loadCheckState). */
  private startCheck(def: CheckDefinition): void {
    this.runner.add(def);
    if (def.kind.type !== 'ttl' || this.store === undefined) return;
    const saved = this.store.loadCheckState(def.id, Date.now());
    if (saved !== null) this.runner.ttlUpdate(def.id, saved.status, saved.output);
  }

  /** The service is gone: so are its saved copy and its checks' (Consul removes them together). */
  private forget(serviceId: string): void {
    const store = this.store;
    if (store === undefined) return;
    const checkIds = this.agent.node.local
      .allChecks()
      .filter((c) => c.ServiceID === serviceId)
      .map((c) => c.CheckID);
    this.persist(() => {
      store.removeService(serviceId);
      for (const id of checkIds) store.removeCheck(id);
    }, `service ${JSON.stringify(serviceId)}`);
  }

  /** A failed write costs the copy, not the registration: say so and go on. */
  private persist(write: () => void, what: string): void {
    try {
      write();
    } catch (err) {
      this.agent.log('ERR', `agent: failed to update the saved copy of ${what} in ${this.store?.dataDir ?? '?'}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
