// `shoal services` and `shoal checks`: clients of a running agent's Consul-compatible HTTP API
// (docs/catalog.md). `services` lists the catalog; `services register FILE|flags` and
// `services deregister ID` change the agent's own services (as `consul services register`);
// `reload` makes the agent read its config files again (as `consul reload`).
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ClientCommand, CommandError, columnize, output, repeatable, runCommand } from './commands/common.js';

interface HttpFlags {
  readonly httpAddr: string;
  readonly format?: string;
}

const DEFAULT_ADDR = '127.0.0.1:8500';

function withHttpFlags(cmd: Command): Command {
  return cmd.option('--http-addr <ip:port>', 'HTTP API address of the agent (default: $CONSUL_HTTP_ADDR or 127.0.0.1:8500)', process.env['CONSUL_HTTP_ADDR'] ?? DEFAULT_ADDR);
}

async function call(flags: HttpFlags, method: 'GET' | 'PUT', path: string, body?: unknown): Promise<unknown> {
  const base = flags.httpAddr.replace(/^https?:\/\//, '');
  let res: Response;
  try {
    res = await fetch(`http://${base}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    const reason = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    throw new CommandError(`Error connecting to the agent's HTTP API at ${base}: ${reason} (is the agent running? give -http-addr)`);
  }
  const text = await res.text();
  if (!res.ok) throw new CommandError(`Error: Unexpected response code: ${res.status} (${text.trim()})`);
  return text === '' ? null : (JSON.parse(text) as unknown);
}

interface HealthEntry {
  Node: { Node: string; Address: string };
  Service: { ID: string; Service: string; Tags: string[]; Address: string; Port: number };
  Checks: Array<{ Status: string }>;
}

function worst(checks: ReadonlyArray<{ Status: string }>): string {
  const order = ['passing', 'warning', 'critical'];
  return checks.reduce((w, c) => (order.indexOf(c.Status) > order.indexOf(w) ? c.Status : w), 'passing');
}

/** A service definition file: {"service": {...}}, {"services": [...]}, or a bare definition. */
function definitionsFromFile(path: string): unknown[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new CommandError(`Error reading ${path}: ${err instanceof Error ? err.message : String(err)} (expected a JSON service definition)`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CommandError(`Error: ${path}: expected a JSON object`);
  const obj = raw as Record<string, unknown>;
  if (obj['service'] !== undefined) return [obj['service']];
  if (Array.isArray(obj['services'])) return obj['services'] as unknown[];
  return [obj];
}

export function registerServices(program: Command): void {
  const services = new ClientCommand('services')
    .summary('list the services in the catalog; register and deregister local ones')
    .description("Lists every service instance in the agent's catalog with its health, or (subcommands) registers and deregisters services on the agent.")
    .option('--format <text|json>', 'output format', 'text')
    .addHelpText('after', '\nExamples:\n  shoal services\n  shoal services register web.json\n  shoal services register -name=web -port=8080 -tag=v1\n  shoal services deregister web\n');
  withHttpFlags(services).action((flags: HttpFlags, self: Command) =>
    runCommand(self, async () => {
      const names = (await call(flags, 'GET', '/v1/catalog/services')) as Record<string, string[]>;
      const rows: HealthEntry[] = [];
      for (const name of Object.keys(names)) rows.push(...((await call(flags, 'GET', `/v1/health/service/${encodeURIComponent(name)}`)) as HealthEntry[]));
      if (flags.format === 'json') {
        output(JSON.stringify(rows.map((r) => ({ node: r.Node.Node, id: r.Service.ID, service: r.Service.Service, address: r.Service.Address || r.Node.Address, port: r.Service.Port, tags: r.Service.Tags, health: worst(r.Checks) })), null, 2));
        return 0;
      }
      if (flags.format !== 'text') throw new CommandError(`Encoding error: Invalid output format "${String(flags.format)}"`);
      const lines = ['Service|ID|Node|Address|Tags|Health'];
      for (const r of rows) lines.push(`${r.Service.Service}|${r.Service.ID}|${r.Node.Node}|${r.Service.Address || r.Node.Address}:${r.Service.Port}|${r.Service.Tags.join(',')}|${worst(r.Checks)}`);
      output(rows.length === 0 ? 'No services' : columnize(lines));
      return 0;
    }),
  );

  const register = new ClientCommand('register')
    .summary('register a service on the agent, from a JSON file or flags')
    .argument('[file]', 'a Consul service definition (JSON)')
    .option('--name <name>', 'service name')
    .option('--id <id>', 'service ID (default: the name)')
    .option('--address <ip>', "service address (default: the node's)")
    .option('--port <port>', 'service port')
    .addOption(repeatable('--tag <tag>', 'a tag; repeatable'))
    .addOption(repeatable('--meta <key=value>', 'a metadata pair; repeatable'));
  // -http-addr belongs to `services` (commander gives a parent's option to the parent wherever it
  // appears), so the subcommands read it from there.
  register.action((file: string | undefined, own: { name?: string; id?: string; address?: string; port?: string; tag?: string[]; meta?: string[] }, self: Command) =>
    runCommand(self, async () => {
      const flags = { ...own, ...(self.optsWithGlobals() as HttpFlags) };
      let defs: unknown[];
      if (file !== undefined) {
        if (flags.name !== undefined) throw new CommandError('Error: give a file or -name, not both', [], true);
        defs = definitionsFromFile(file);
      } else {
        if (flags.name === undefined || flags.name === '') throw new CommandError('Error: give a service definition file or -name', [], true);
        const port = flags.port === undefined ? 0 : Number(flags.port);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CommandError(`Error: -port must be 0-65535, got ${JSON.stringify(flags.port)}`);
        const meta: Record<string, string> = {};
        for (const pair of flags.meta ?? []) {
          const eq = pair.indexOf('=');
          if (eq <= 0) throw new CommandError(`Error: -meta must be key=value, got ${JSON.stringify(pair)}`);
          meta[pair.slice(0, eq)] = pair.slice(eq + 1);
        }
        defs = [{ Name: flags.name, ID: flags.id ?? flags.name, Address: flags.address ?? '', Port: port, Tags: flags.tag ?? [], Meta: meta }];
      }
      for (const def of defs) {
        await call(flags, 'PUT', '/v1/agent/service/register', def);
        const d = def as Record<string, unknown>;
        output(`Registered service: ${String(d['Name'] ?? d['name'] ?? '')}`);
      }
      return 0;
    }),
  );
  services.addCommand(register);

  const deregister = new ClientCommand('deregister').summary('deregister a service of the agent by ID').argument('<id>', 'the service ID');
  deregister.action((id: string, _own: unknown, self: Command) =>
    runCommand(self, async () => {
      const flags = self.optsWithGlobals() as HttpFlags;
      await call(flags, 'PUT', `/v1/agent/service/deregister/${encodeURIComponent(id)}`);
      output(`Deregistered service: ${id}`);
      return 0;
    }),
  );
  services.addCommand(deregister);
  program.addCommand(services);

  const checks = new ClientCommand('checks')
    .summary('list the health checks in the catalog')
    .description("Lists every health check in the agent's catalog (serfHealth included), optionally only those in one state.")
    .option('--state <any|passing|warning|critical>', 'only checks in this state', 'any')
    .option('--format <text|json>', 'output format', 'text');
  withHttpFlags(checks).action((flags: HttpFlags & { state: string }, self: Command) =>
    runCommand(self, async () => {
      const list = (await call(flags, 'GET', `/v1/health/state/${encodeURIComponent(flags.state)}`)) as Array<Record<string, string>>;
      if (flags.format === 'json') {
        output(JSON.stringify(list, null, 2));
        return 0;
      }
      const lines = ['Node|CheckID|Name|Status|ServiceID|Output'];
      for (const c of list) lines.push(`${c['Node']}|${c['CheckID']}|${c['Name']}|${c['Status']}|${c['ServiceID']}|${(c['Output'] ?? '').split('\n')[0]?.replace(/\|/g, '/').slice(0, 60)}`);
      output(list.length === 0 ? 'No checks' : columnize(lines));
      return 0;
    }),
  );
  program.addCommand(checks);

  // consul reload: the agent reads its config files again, as on SIGHUP (PUT /v1/agent/reload).
  const reload = new ClientCommand('reload')
    .summary("make the agent reload its config files (service definitions, tags, handlers, log level)")
    .description(
      'Asks a running agent to read its config files again, as SIGHUP does (consul reload): service definitions ' +
        'added to the files register, removed ones deregister, changed ones update; services registered through ' +
        'the HTTP API stay. A bad file is reported and the agent keeps its previous configuration.',
    );
  withHttpFlags(reload).action((flags: HttpFlags, self: Command) =>
    runCommand(self, async () => {
      await call(flags, 'PUT', '/v1/agent/reload');
      output('Configuration reload triggered');
      return 0;
    }),
  );
  program.addCommand(reload);
}
