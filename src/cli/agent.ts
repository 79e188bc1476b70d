// `shoal agent` (issue #5): Serf's `serf agent` (cmd/serf/command/agent/command.go) — flags and
// JSON config files (src/agent/config.ts), start-up output, joins with and without retries,
// Serf-style log lines (or JSON lines), event handler scripts behind the agent's coalescing
// (src/agent/handlers.ts), and the signals: SIGINT leaves, SIGTERM leaves only when asked,
// a second signal forces the exit, SIGHUP reloads tags, handlers and the log level.
import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { Option, type Command } from 'commander';
import { Agent, type LogLine } from '../agent/agent.js';
import { ConfigError, FLAG_FIELDS, loadAgentConfig, parseLogLevel, type HostInfo, type ResolvedAgent } from '../agent/config.js';
import { CoalescedFeed, ScriptEventHandler } from '../agent/handlers.js';
import { RpcServer } from '../agent/rpc-server.js';
import { AgentServices } from '../agent/services.js';
import { ServiceStore } from '../agent/persist.js';
import { HttpApi } from '../agent/http-api.js';
import { DnsServer } from '../agent/dns.js';
import type { SerfEvent } from '../cluster/serf.js';
import type { LogLevel } from '../protocol/effects.js';

/** The agent event carrying events after coalescing (what handlers and RPC streams follow). */
const COALESCED_EVENT = 'coalesced';
import { monotonicMs } from '../runtime/clock.js';

/** command.go gracefulTimeout: how long a graceful leave may take before the agent just exits. */
const GRACEFUL_TIMEOUT_MS = 3_000;

const LEVELS: Record<LogLevel, number> = { DEBUG: 0, INFO: 1, WARN: 2, ERR: 3 };

const HELP_AFTER = `
Flags are Serf's (serf agent -h), in single-dash form too (-node=a -bind=127.0.0.1:7946).
Config files are JSON with Serf's keys (node_name, bind, advertise, start_join, retry_join,
tags, tags_file, encrypt_key, keyring_file, event_handlers, log_level, rpc_addr, rpc_auth,
profile, protocol, snapshot_path, rejoin_after_leave, replay_on_join, leave_on_terminate,
skip_leave_on_interrupt, discover, mdns {interface, disable_ipv4, disable_ipv6},
reconnect_timeout, tombstone_timeout, retry_interval, retry_max_attempts, …) and Consul's
http_addr, dns_addr, data_dir, service and services; later files
override earlier ones, a directory's *.json files are read in lexical order, and flags
override files.

Event handlers: "script" gets every event; "TYPE=script" one type (member-join,
member-leave, member-failed, member-update, member-reap, user, query); "user:NAME=script"
and "query:NAME=script" one name; several filters are comma-separated. Scripts run with
/bin/sh -c and Serf's SERF_* environment; a query handler's output is the response.

Signals: SIGINT leaves the cluster gracefully (unless skip_leave_on_interrupt), SIGTERM
leaves only with leave_on_terminate, a second signal exits at once, SIGHUP reloads the
tags, the event handlers, the log level and the service definitions (as \`shoal reload\`).

Examples:
  # a first agent and a second one joining it, on one machine
  shoal agent -node=a -bind=127.0.0.1:7946 -rpc-addr=127.0.0.1:7373
  shoal agent -node=b -bind=127.0.0.1:7947 -rpc-addr=127.0.0.1:7374 -join=127.0.0.1:7946

  # a handler for deploy events, tags and a config directory
  shoal agent -config-dir=/etc/shoal -tag role=web -event-handler 'user:deploy=./deploy.sh'
`;

interface Repeatable {
  readonly repeat: true;
}

/** The flags in Serf's order of documentation: [name, value placeholder or null for a switch, help]. */
const FLAGS: ReadonlyArray<readonly [string, string | null, string, Repeatable?]> = [
  ['node', '<name>', 'name of this node, unique in the cluster (default: the hostname)'],
  ['bind', '<ip[:port]>', 'address to bind the gossip listeners to (default: 0.0.0.0:7946)'],
  ['advertise', '<ip[:port]>', 'address to advertise to the other members (port defaults to 7946, as in Serf)'],
  ['join', '<addr>', 'an agent to join at start; exits if the join fails (repeatable)', { repeat: true }],
  ['replay', null, 'replay old user events when joining at start'],
  ['retry-join', '<addr>', 'an agent to join, retrying until it works (repeatable)', { repeat: true }],
  ['retry-interval', '<duration>', 'time between -retry-join attempts (default: 30s)'],
  ['retry-max', '<n>', 'attempts before giving up on -retry-join (default: 0, no limit)'],
  ['rejoin', null, 'ignore a previous leave and rejoin the peers in the snapshot'],
  ['discover', '<cluster>', 'find and join agents started with the same cluster name on the LAN by mDNS (Serf -discover)'],
  ['mdns-iface', '<name>', 'network interface for -discover multicast (default: the system default)'],
  ['mdns-disable-ipv4', null, 'no IPv4 multicast for -discover'],
  ['mdns-disable-ipv6', null, 'no IPv6 multicast for -discover'],
  ['tag', '<key=value>', 'a tag of this node (repeatable)', { repeat: true }],
  ['tags-file', '<path>', 'file that keeps the tags across restarts (incompatible with -tag)'],
  ['role', '<role>', "deprecated: same as -tag role=<role>"],
  ['encrypt', '<base64 key>', 'key for encrypting gossip (see shoal keygen)'],
  ['keyring-file', '<path>', 'JSON array of base64 keys, rewritten when the keys change'],
  ['profile', '<lan|wan|local>', 'timing profile (default: lan)'],
  ['protocol', '<n>', 'Serf protocol version to speak (2-5, default: 5)'],
  ['snapshot', '<path>', 'snapshot file: clocks and peers kept across restarts'],
  ['event-handler', '<[filter=]script>', 'script to run on events (repeatable)', { repeat: true }],
  ['log-level', '<level>', 'trace, debug, info, warn or err (default: info)'],
  ['log-json', null, 'write the log as JSON lines instead of readable lines'],
  ['rpc-addr', '<ip:port>', 'address of the RPC listener (default: 127.0.0.1:7373)'],
  ['rpc-auth', '<key>', 'auth key RPC clients must present'],
  ['http-addr', '<ip:port>', 'address of the Consul-compatible HTTP API (default: 127.0.0.1:8500)'],
  ['dns-addr', '<ip:port>', 'address of the Consul-compatible DNS server, UDP and TCP (default: 127.0.0.1:8600)'],
  ['data-dir', '<path>', 'directory that keeps services and checks registered through the HTTP API across restarts (Consul -data-dir)'],
  ['reconnect-timeout', '<duration>', 'how long failed members are kept before they are reaped (default: 24h)'],
  ['tombstone-timeout', '<duration>', 'how long left members are kept before they are reaped (default: 24h)'],
  ['broadcast-timeout', '<duration>', 'longest wait for a leave or force-leave broadcast (default: 5s)'],
  ['leave-on-terminate', null, 'leave the cluster gracefully on SIGTERM'],
  ['skip-leave-on-interrupt', null, 'do not leave the cluster on SIGINT (just stop)'],
  ['config-file', '<path>', 'JSON config file (repeatable)', { repeat: true }],
  ['config-dir', '<dir>', 'directory of *.json config files, read in lexical order (repeatable)', { repeat: true }],
];

function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** Go's time.Duration String for whole seconds and above, as Serf's log messages print it. */
function goDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  let s = ms / 1_000;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h > 0 ? `${h}h` : ''}${h > 0 || m > 0 ? `${m}m` : ''}${Number(s.toFixed(3))}s`;
}

/** Go's log.LstdFlags prefix: local "2006/01/02 15:04:05". */
function lstdTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}/${p(d.getMonth() + 1)}/${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Go's Signal String for the three signals the agent handles. */
const SIGNAL_NAMES: Record<'SIGINT' | 'SIGTERM' | 'SIGHUP', string> = { SIGINT: 'interrupt', SIGTERM: 'terminated', SIGHUP: 'hangup' };

/** agent.go eventLoop's "Received event" text (serf Event String()). */
function eventString(event: SerfEvent): string {
  if (event.type === 'user') return `user-event: ${event.name}`;
  if (event.type === 'query') return `query: ${event.query.name}`;
  return event.type;
}

const host: HostInfo = {
  hostname: hostname(),
  interfaces: networkInterfaces(),
  readFile: (path) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  },
};

/**
 * Output as Serf's agent writes it: "==> " lines for the command's own messages, log lines
 * "2006/01/02 15:04:05 [LEVEL] message" filtered by level and held back until the agent is up
 * (Serf's GatedWriter); with -log-json, everything is one JSON object per line.
 */
class Output {
  private gated: string[] | null = [];
  minLevel: LogLevel;

  constructor(
    private readonly json: boolean,
    level: LogLevel,
  ) {
    this.minLevel = level;
  }

  /** A command message: "==> text" (Ui.Output), "    text" (Ui.Info). */
  ui(text: string, prefix: '==> ' | '    ' = '==> '): void {
    if (this.json) this.write(JSON.stringify({ '@timestamp': new Date().toISOString(), '@level': 'info', '@module': 'agent-command', '@message': text }));
    else this.write(prefix + text);
  }

  log(line: LogLine): void {
    if (LEVELS[line.level] < LEVELS[this.minLevel]) return;
    const text = this.json
      ? JSON.stringify({ '@timestamp': new Date(line.atMs).toISOString(), '@level': line.level.toLowerCase(), '@message': line.message })
      : `${lstdTime(line.atMs)} [${line.level}] ${line.message}`;
    if (this.gated !== null) this.gated.push(text);
    else this.write(text);
  }

  /** Lets the held log lines through, and every later one. */
  openGate(): void {
    const held = this.gated ?? [];
    this.gated = null;
    for (const text of held) this.write(text);
  }

  private write(text: string): void {
    process.stdout.write(text + '\n');
  }
}

function fail(message: string): never {
  process.stderr.write(`shoal agent: ${message}\n`);
  process.exit(1);
}

export function registerAgent(program: Command): void {
  // -config-file and -config-dir feed one list, in command-line order, as in Serf.
  const configPaths: string[] = [];
  const cmd = program
    .command('agent')
    .summary('run a shoal agent (a cluster member)')
    .description(
      'Run a shoal agent until it is interrupted: one member of a Serf-compatible cluster, with ' +
        "Serf's agent settings as flags or JSON config files, event handler scripts and Serf's log format.",
    )
    .addHelpText('after', HELP_AFTER);
  for (const [name, value, help, repeat] of FLAGS) {
    const option = new Option(value === null ? `--${name}` : `--${name} ${value}`, help);
    if (name === 'config-file' || name === 'config-dir') {
      option.argParser((v: string) => {
        configPaths.push(v);
        return v;
      });
    } else if (repeat !== undefined) {
      option.argParser((v: string, previous: string[] | undefined) => [...(previous ?? []), v]);
    }
    cmd.addOption(option);
  }
  cmd.action(async (opts: Record<string, unknown>) => {
    const flags: Record<string, unknown> = {};
    for (const name of Object.keys(FLAG_FIELDS)) flags[name] = opts[camel(name)];
    await runAgent(flags, configPaths);
  });
}

function load(flags: Record<string, unknown>, configPaths: readonly string[]): ResolvedAgent {
  return loadAgentConfig(flags, configPaths, host);
}

async function runAgent(flags: Record<string, unknown>, configPaths: readonly string[]): Promise<void> {
  let config: ResolvedAgent;
  try {
    config = load(flags, configPaths);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  const out = new Output(config.logJson, config.agent.logLevel);
  const log = (level: LogLevel, message: string): void => out.log({ level, message, atMs: Date.now() });
  for (const note of config.notes) out.ui(note);

  out.ui('Starting shoal agent...');
  log('INFO', 'agent: shoal agent starting');
  // The handlers are in place before the agent starts, so they see its own join (command.go
  // startAgent registers the script handler before agent.Start).
  let agent: Agent | undefined;
  const running = (): Agent => {
    if (agent === undefined) throw new Error('the agent is not running');
    return agent;
  };
  const scripts = new ScriptEventHandler({
    scripts: config.scripts,
    self: () => running().serf.localMember(),
    log,
    respond: (query, payload) => running().act((_serf, now) => query.respond(now, payload)),
  });
  // Handlers and RPC streams both see what the coalescers let through, as in Serf's agent.
  const feed = new CoalescedFeed((event) => {
    log('INFO', `agent: Received event: ${eventString(event)}`);
    agent?.emit(COALESCED_EVENT, event);
    void scripts.handleEvent(event);
  }, monotonicMs);
  try {
    agent = await Agent.start({ ...config.agent, logOutput: (line) => out.log(line) }, (a) => {
      agent = a;
      a.on('serf', (event: SerfEvent) => feed.push(event));
    });
  } catch (err) {
    fail(`failed to start the agent: ${err instanceof Error ? err.message : String(err)}`);
  }
  const live = running();
  if (config.agent.keyringFile !== undefined) log('INFO', `agent: Restored keyring with ${config.agent.keys.length} keys from ${config.agent.keyringFile}`);
  if (config.agent.tagsFile !== undefined && config.agent.tags.size > 0) {
    log('INFO', `agent: Restored ${config.agent.tags.size} tag(s) from ${config.agent.tagsFile}`);
  }

  let rpc: RpcServer;
  try {
    rpc = await RpcServer.listen(live, { addr: config.rpcAddr, authKey: config.rpcAuth, streamEvent: COALESCED_EVENT });
  } catch (err) {
    await live.shutdown();
    fail(`Error starting RPC listener: ${err instanceof Error ? err.message : String(err)}`);
  }
  out.ui('Starting shoal agent RPC...');
  // Service discovery (docs/catalog.md): the agent's own services from the config files, the
  // Consul-compatible HTTP API and DNS over the gossiped catalog.
  let store: ServiceStore | undefined;
  if (config.dataDir !== undefined) {
    try {
      store = new ServiceStore(config.dataDir, (message) => log('WARN', message));
    } catch (err) {
      await rpc.close();
      await live.shutdown();
      fail(err instanceof Error ? err.message : String(err));
    }
  }
  const services = new AgentServices(live, store);
  try {
    services.registerConfigServices(config.services);
  } catch (err) {
    services.stop();
    await rpc.close();
    await live.shutdown();
    fail(err instanceof Error ? err.message : String(err));
  }
  const restored = services.restorePersisted();
  if (restored.services + restored.checks > 0) log('INFO', `agent: restored ${restored.services} service(s) and ${restored.checks} check(s) from ${config.dataDir ?? ''}`);
  const httpApi = new HttpApi(live, services);
  let current = config;
  // SIGHUP and PUT /v1/agent/reload (shoal reload): the files again; null, or what went wrong.
  const reloadNow = (): string | null => {
    const r = reload(current, flags, configPaths, live, scripts, services, out, log);
    current = r.config;
    return r.error;
  };
  httpApi.onReload = reloadNow;
  const dns = new DnsServer(() => live.node.catalog, live);
  // An address the user set must work; a default one already taken (several agents on one host,
  // as `shoal demo` runs them) is skipped with a warning naming the flag that moves it.
  const serve = async (what: string, addr: string, set: boolean, flag: string, listen: () => Promise<void>): Promise<string> => {
    try {
      await listen();
      return addr;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (!set && message.includes('EADDRINUSE')) {
        out.ui(`Warning: ${what} not started: ${addr} is in use (give ${flag} to serve it elsewhere)`);
        return 'disabled (address in use)';
      }
      services.stop();
      await Promise.all([httpApi.close(), dns.close(), rpc.close()]);
      await live.shutdown();
      fail(message);
    }
  };
  const httpShown = await serve('HTTP API', config.httpAddr, config.httpAddrSet, '-http-addr', () => httpApi.listen(config.httpAddr));
  const dnsShown = await serve('DNS', config.dnsAddr, config.dnsAddrSet, '-dns-addr', () => dns.listen(config.dnsAddr));
  const advertise = live.serf.localMember();
  out.ui('shoal agent running!');
  out.ui(`                 Node name: '${config.agent.nodeName}'`, '    ');
  out.ui(`                 Bind addr: '${config.bindAddr}'`, '    ');
  if (config.agent.advertiseIp !== undefined) out.ui(`            Advertise addr: '${config.agent.advertiseIp}:${advertise.port}'`, '    ');
  out.ui(`                  RPC addr: '${config.rpcAddr}'`, '    ');
  out.ui(`                 HTTP addr: '${httpShown}'`, '    ');
  out.ui(`                  DNS addr: '${dnsShown}'`, '    ');
  out.ui(`                 Encrypted: ${live.keyring !== undefined}`, '    ');
  out.ui(`                  Snapshot: ${config.agent.snapshotPath !== undefined}`, '    ');
  out.ui(`                   Profile: ${config.agent.profile}`, '    ');
  if (config.agent.discover !== undefined) out.ui(`              mDNS cluster: ${config.agent.discover.cluster}`, '    ');

  const join = async (addrs: readonly string[]): Promise<{ num: number; error: string | null }> => {
    log('INFO', `agent: joining: [${addrs.join(' ')}] replay: ${config.replayOnJoin}`);
    const { num, errors } = await live.join(addrs, config.replayOnJoin);
    if (num > 0) log('INFO', `agent: joined: ${num} nodes`);
    const error = num === 0 ? errors.join('; ') || 'no node could be reached' : null;
    if (errors.length > 0) log('WARN', `agent: error joining: ${errors.join('; ')}`);
    return { num, error };
  };

  let exiting = false;
  const exit = async (code: number): Promise<never> => {
    exiting = true;
    try {
      await rpc.close();
      services.stop();
      await Promise.all([httpApi.close(), dns.close()]);
      log('INFO', 'agent: requesting serf shutdown');
      await live.shutdown();
      log('INFO', 'agent: shutdown complete');
    } finally {
      process.exit(code);
    }
  };

  if (config.startJoin.length > 0) {
    out.ui(`Joining cluster...(replay: ${config.replayOnJoin})`);
    const { num, error } = await join(config.startJoin);
    if (error !== null) {
      out.openGate();
      process.stderr.write(`shoal agent: join failed: ${error}\n`);
      await exit(1);
    }
    out.ui(`Join completed. Synced with ${num} initial agents`, '    ');
  }
  out.ui('', '    ');
  out.ui('Log data will now stream in as it occurs:\n');
  out.openGate();

  void retryJoin(config, join, log, () => exiting).then((ok) => {
    if (!ok) void exit(1);
  });

  // handleSignals: the first SIGINT/SIGTERM decides between a graceful leave and a plain exit;
  // any signal while leaving exits at once.
  let leaving = false;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP'): void => {
    if (leaving) process.exit(1);
    out.ui(`Caught signal: ${SIGNAL_NAMES[signal]}`);
    if (signal === 'SIGHUP') {
      reloadNow();
      return;
    }
    const graceful = signal === 'SIGINT' ? !current.skipLeaveOnInterrupt : current.leaveOnTerminate;
    if (!graceful) {
      void exit(1);
      return;
    }
    leaving = true;
    out.ui('Gracefully shutting down agent...');
    log('INFO', 'agent: requesting graceful leave from Serf');
    const timeout = setTimeout(() => void exit(1), GRACEFUL_TIMEOUT_MS);
    void live.leave().then((error) => {
      clearTimeout(timeout);
      if (error !== null) process.stderr.write(`shoal agent: Error: ${error}\n`);
      void exit(error === null ? 0 : 1);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  live.on('shutdown', () => {
    if (!exiting) {
      // An RPC leave or stop shut the agent down: let the RPC server finish its replies first.
      log('WARN', 'agent: Serf shutdown detected, quitting');
      void rpc.close().finally(() => process.exit(0));
    }
  });
}

/** command.go retryJoin: false when -retry-max attempts all failed. */
async function retryJoin(
  config: ResolvedAgent,
  join: (addrs: readonly string[]) => Promise<{ error: string | null; num: number }>,
  log: (level: LogLevel, message: string) => void,
  stopped: () => boolean,
): Promise<boolean> {
  if (config.retryJoin.length === 0) return true;
  for (let attempt = 1; !stopped(); attempt++) {
    log('INFO', `agent: Joining cluster...(replay: ${config.replayOnJoin})`);
    const { num, error } = await join(config.retryJoin);
    if (error === null) {
      log('INFO', `agent: Join completed. Synced with ${num} initial agents`);
      return true;
    }
    if (config.retryMaxAttempts > 0 && attempt > config.retryMaxAttempts) {
      log('ERR', 'agent: maximum retry join attempts made, exiting');
      return false;
    }
    log('WARN', `agent: Join failed: ${error}, retrying in ${goDuration(config.retryIntervalMs)}`);
    await new Promise((resolve) => setTimeout(resolve, config.retryIntervalMs).unref());
  }
  return true;
}

/**
 * handleReload: the flags and files again; a bad result keeps the old settings (and the old
 * service definitions). The log level, the handler scripts and the tags change (the tags from
 * the tags file when there is one), and the files' services are brought in line (consul reload;
 * services registered through the API are left alone). Addresses and the data dir stay.
 */
function reload(
  previous: ResolvedAgent,
  flags: Record<string, unknown>,
  configPaths: readonly string[],
  agent: Agent,
  scripts: ScriptEventHandler,
  services: AgentServices,
  out: Output,
  log: (level: LogLevel, message: string) => void,
): { config: ResolvedAgent; error: string | null } {
  out.ui('Reloading configuration...');
  let next: ResolvedAgent;
  try {
    next = load(flags, configPaths);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    out.ui(`Failed to reload configs: ${message}`);
    log('ERR', `agent: Failed to reload configs (keeping the previous configuration and service definitions): ${message}`);
    return { config: previous, error: message };
  }
  out.minLevel = parseLogLevel(next.agent.logLevel) ?? out.minLevel;
  scripts.updateScripts(next.scripts);
  void agent.setTags(next.agent.tags).then((error) => {
    if (error !== null) log('ERR', `agent: Failed to update tags: ${error}`);
  });
  const outcome = services.reloadConfigServices(next.services);
  const list = (ids: string[]): string => `[${ids.join(' ')}]`;
  log('INFO', `agent: reloaded service definitions: added ${list(outcome.added)}, updated ${list(outcome.updated)}, removed ${list(outcome.removed)}`);
  for (const e of outcome.errors) log('ERR', `agent: reload: ${e}`);
  return { config: next, error: outcome.errors.length > 0 ? outcome.errors.join('; ') : null };
}
