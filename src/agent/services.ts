// The agent's own services and checks: registration (from config files, the HTTP API, the CLI)
// into the node's local catalog, with the check runners that keep their states current.
import type { Agent } from './agent.js';
import { CheckRunner } from './checks.js';
import { initialCheck, type CheckDefinition, type ServiceDefinition } from './service-definition.js';
import type { HealthStatusName } from '../catalog/types.js';

export class AgentServices {
  readonly runner: CheckRunner;

  constructor(private readonly agent: Agent) {
    this.runner = new CheckRunner({
      update: (id, status, output) => {
        try {
          agent.actNode((node, now) => node.updateCheck(now, id, status, output));
        } catch {
          // The check went away while it ran.
        }
      },
      deregisterService: (serviceId) => {
        agent.actNode((node, now) => node.deregisterService(now, serviceId));
      },
      log: (level, message) => agent.log(level, message),
    });
  }

  /** Registers (or replaces) a service and its checks. Throws CatalogError past the limits. */
  registerService(def: ServiceDefinition): void {
    this.agent.actNode((node, now) => node.registerService(now, def.service, def.checks.map(initialCheck)));
    this.runner.removeService(def.service.ID);
    for (const c of def.checks) this.runner.add(c);
  }

  deregisterService(id: string): boolean {
    this.runner.removeService(id);
    return this.agent.actNode((node, now) => node.deregisterService(now, id));
  }

  /** Registers a check (node-level, or for a service of this node). Throws CatalogError. */
  registerCheck(def: CheckDefinition): void {
    this.agent.actNode((node, now) => node.registerCheck(now, initialCheck(def)));
    this.runner.add(def);
  }

  deregisterCheck(id: string): boolean {
    this.runner.remove(id);
    return this.agent.actNode((node, now) => node.deregisterCheck(now, id));
  }

  /** pass/warn/fail/update of a TTL check; returns an error message or null. */
  ttl(id: string, status: HealthStatusName, output: string): string | null {
    return this.runner.ttlUpdate(id, status, output);
  }

  stop(): void {
    this.runner.stop();
  }
}
