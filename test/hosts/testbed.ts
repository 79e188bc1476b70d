// A test bed of real hosts on one machine (issue #9): every host is a network namespace with
// one veth into a bridge that itself lives in a namespace of the bed, so nothing touches the
// root namespace's network and every packet stays inside namespaces the bed created. Hosts get
// addresses from 198.18.0.0/15 (RFC 2544, reserved for network tests) and a multicast route,
// so mDNS works across the bridge. Faults are nftables rules inside each host: packet loss
// (`numgen random mod 100 < N drop`) and cut links (drop by source address), applied where a
// packet enters a host, so each packet crossing a link meets one fault once.
//
// Agents run inside hosts as `ip netns exec NS node dist/src/cli/shoal.js agent …` or
// `… serf agent …`; each agent's log lines are kept with the time they arrived, and its member
// events (EventMemberJoin/Failed/Leave, the same words in shoal's log and serf's) are parsed out.
// destroy() kills every process and deletes every namespace; a sweep at create() removes beds
// left behind by runs that died (namespace names carry the creating process id).
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Every namespace the bed creates starts with this, then the creating pid: `shoaltb<pid>x<n>-<host>`. */
export const BED_PREFIX = 'shoaltb';
const SHOAL_CLI = fileURLToPath(new URL('../../src/cli/shoal.js', import.meta.url));
const SUBNET_PREFIX = '198.18.0.';
const FIRST_HOST_OCTET = 10;
const RPC_ADDR = '127.0.0.1:7373';
/** Log lines kept per agent (the events are kept apart, all of them). */
const MAX_LINES = 20_000;
const COMMAND_TIMEOUT_MS = 20_000;

let bedCounter = 0;

/** Why the bed cannot run here (null: it can). Tests skip with this reason. */
export function testBedUnavailable(): string | null {
  if (process.platform !== 'linux') return 'the test bed needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'the test bed needs root to create network namespaces and nftables rules (CI runs as root): run the tests as root';
  for (const [tool, args] of [['ip', ['-V']], ['nft', ['-v']], ['serf', ['version']]] as const) {
    const r = spawnSync(tool, args, { stdio: 'ignore' });
    if (r.error !== undefined || r.status !== 0) return `the test bed needs \`${tool}\` (apt-get install ${tool === 'ip' ? 'iproute2' : tool === 'nft' ? 'nftables' : 'serf'})`;
  }
  return null;
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(cmd: string, args: readonly string[], input?: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { encoding: 'utf8', timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

async function must(cmd: string, args: readonly string[], input?: string): Promise<string> {
  const r = await run(cmd, args, input);
  if (r.code !== 0) throw new Error(`test bed: \`${cmd} ${args.join(' ')}\` failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function listNamespaces(): string[] {
  const r = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return (r.stdout ?? '').split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n !== '');
}

/** Kills what runs in a namespace and deletes it (synchronous: usable from an exit handler). */
function deleteNamespaceSync(ns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split('\n').map(Number).filter((p) => p > 0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
}

/** Removes namespaces of beds whose creating process is gone (a run killed before its teardown). */
export function sweepStaleBeds(): string[] {
  const removed: string[] = [];
  for (const ns of listNamespaces()) {
    const m = new RegExp(`^${BED_PREFIX}(\\d+)x`).exec(ns);
    if (m === null || pidAlive(Number(m[1]))) continue;
    deleteNamespaceSync(ns);
    removed.push(ns);
  }
  return removed;
}

export interface Host {
  readonly name: string;
  readonly ns: string;
  readonly ip: string;
  readonly index: number;
}

export interface TimedLine {
  readonly atMs: number;
  readonly text: string;
}

export type MemberEventKind = 'join' | 'failed' | 'leave';

export interface MemberEvent {
  readonly atMs: number;
  readonly observer: string;
  readonly kind: MemberEventKind;
  readonly subject: string;
}

export type AgentKind = 'shoal' | 'serf';

export interface AgentOptions {
  readonly name?: string;
  /** mDNS cluster name (-discover). */
  readonly discover?: string;
  readonly join?: readonly string[];
  readonly extra?: readonly string[];
  readonly logLevel?: string;
}

/** Serf's and shoal's log words for member events: "EventMemberFailed: NAME ADDR". */
const EVENT_RE = /EventMember(Join|Failed|Leave): (\S+)/;

export class BedAgent {
  readonly lines: TimedLine[] = [];
  readonly events: MemberEvent[] = [];
  readonly startedAtMs = Date.now();
  exitedAtMs: number | null = null;
  readonly exited: Promise<void>;

  constructor(
    readonly host: Host,
    readonly kind: AgentKind,
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    let partial = '';
    const take = (chunk: Buffer): void => {
      const atMs = Date.now();
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) this.take({ atMs, text: line });
    };
    proc.stdout?.on('data', take);
    proc.stderr?.on('data', take);
    this.exited = new Promise((resolve) => {
      proc.once('exit', () => {
        this.exitedAtMs = Date.now();
        resolve();
      });
    });
  }

  private take(line: TimedLine): void {
    if (this.lines.length < MAX_LINES) this.lines.push(line);
    const m = EVENT_RE.exec(line.text);
    if (m === null) return;
    const kind = ({ Join: 'join', Failed: 'failed', Leave: 'leave' } as const)[m[1] as 'Join' | 'Failed' | 'Leave'];
    this.events.push({ atMs: line.atMs, observer: this.name, kind, subject: m[2] as string });
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** kill -9: the process dies without a word (a crash). */
  crash(): Promise<void> {
    if (this.running) this.proc.kill('SIGKILL');
    return this.exited;
  }

  log(): string {
    return this.lines.map((l) => l.text).join('\n');
  }
}

/** `NAME → status` as `members -format json` lists it. */
export type MemberView = Map<string, string>;

export class TestBed {
  readonly agents: BedAgent[] = [];
  private destroyed = false;
  private readonly onExit = (): void => this.destroySync();
  /** Ctrl-C or kill: tear down, then exit as the signal would (the 'exit' handlers of other beds run too). */
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.destroySync();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };

  private constructor(
    readonly id: string,
    readonly bridgeNs: string,
    readonly hosts: readonly Host[],
  ) {
    process.once('exit', this.onExit);
    process.once('SIGINT', this.onSignal);
    process.once('SIGTERM', this.onSignal);
  }

  /** Builds the bed: the bridge namespace, one namespace per host, veths, addresses, routes, nftables. */
  static async create(hostNames: readonly string[]): Promise<TestBed> {
    const unavailable = testBedUnavailable();
    if (unavailable !== null) throw new Error(unavailable);
    if (hostNames.length === 0 || hostNames.length > 200) throw new RangeError(`a bed has 1 to 200 hosts, got ${hostNames.length}`);
    sweepStaleBeds();
    const id = `${BED_PREFIX}${process.pid}x${bedCounter++}`;
    const hosts = hostNames.map((name, index) => ({ name, index, ns: `${id}-${index}`, ip: `${SUBNET_PREFIX}${FIRST_HOST_OCTET + index}` }));
    const bed = new TestBed(id, `${id}-br`, hosts);
    try {
      await bed.build();
    } catch (err) {
      await bed.destroy();
      throw err;
    }
    return bed;
  }

  private async build(): Promise<void> {
    const br = this.bridgeNs;
    await must('ip', ['netns', 'add', br]);
    await must('ip', ['-n', br, 'link', 'set', 'lo', 'up']);
    // No IGMP snooping: the bridge floods multicast as a hub would; 224.0.0.251 is link-local anyway.
    await must('ip', ['-n', br, 'link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    await must('ip', ['-n', br, 'link', 'set', 'br0', 'up']);
    for (const h of this.hosts) {
      await must('ip', ['netns', 'add', h.ns]);
      // No duplicate address detection: link-local IPv6 (which Serf's mDNS client also sends on)
      // is usable at once instead of after a second or two.
      // (Written through /proc, which needs no procps; skipped where the kernel has no IPv6.)
      await must('ip', ['netns', 'exec', h.ns, 'sh', '-c',
        'if [ -d /proc/sys/net/ipv6 ]; then echo 0 > /proc/sys/net/ipv6/conf/all/accept_dad && echo 0 > /proc/sys/net/ipv6/conf/default/accept_dad; fi']);
      await must('ip', ['-n', br, 'link', 'add', `p${h.index}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns]);
      await must('ip', ['-n', br, 'link', 'set', `p${h.index}`, 'master', 'br0', 'up']);
      await must('ip', ['-n', h.ns, 'link', 'set', 'lo', 'up']);
      await must('ip', ['-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0']);
      await must('ip', ['-n', h.ns, 'link', 'set', 'eth0', 'up']);
      // With no default route, multicast needs a route of its own to leave the host.
      await must('ip', ['-n', h.ns, 'route', 'add', '224.0.0.0/4', 'dev', 'eth0']);
      await must('ip', ['netns', 'exec', h.ns, 'nft', '-f', '-'], [
        'table inet shoaltb {',
        '  chain input { type filter hook input priority 0; policy accept; iifname "lo" accept; jump cut_in; jump loss_in; }',
        '  chain cut_in { }',
        '  chain loss_in { }',
        '}',
      ].join('\n'));
    }
  }

  host(name: string): Host {
    const h = this.hosts.find((x) => x.name === name);
    if (h === undefined) throw new Error(`no host named ${name} in the bed (hosts: ${this.hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  agent(name: string): BedAgent {
    const a = this.agents.filter((x) => x.name === name).pop();
    if (a === undefined) throw new Error(`no agent named ${name}`);
    return a;
  }

  /** Runs a command inside a host and waits for it. */
  exec(host: Host, argv: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Promise<CommandResult> {
    return run('ip', ['netns', 'exec', host.ns, ...argv], undefined, timeoutMs);
  }

  /** Starts a long-running process inside a host (`ip netns exec` execs it: the pid is the process's). */
  spawn(host: Host, argv: readonly string[]): ChildProcess {
    return spawn('ip', ['netns', 'exec', host.ns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** A shoal or serf agent on the host, gossip on HOST_IP:7946, RPC on 127.0.0.1:7373 inside it. */
  startAgent(hostName: string, kind: AgentKind, options: AgentOptions = {}): BedAgent {
    if (this.destroyed) throw new Error('the bed is torn down');
    const host = this.host(hostName);
    const name = options.name ?? host.name;
    const args = [
      'agent', `-node=${name}`, `-bind=${host.ip}`, `-rpc-addr=${RPC_ADDR}`, `-log-level=${options.logLevel ?? 'info'}`,
      ...(options.discover === undefined ? [] : [`-discover=${options.discover}`]),
      ...(options.join ?? []).map((j) => `-join=${j}`),
      ...(options.extra ?? []),
    ];
    const argv = kind === 'shoal' ? [process.execPath, SHOAL_CLI, ...args] : ['serf', ...args];
    const agent = new BedAgent(host, kind, name, this.spawn(host, argv));
    this.agents.push(agent);
    return agent;
  }

  /**
   * The members an agent lists, through the RPC inside its host: `serf members` (a fast Go binary
   * that also drives shoal's Serf-compatible RPC) or `shoal members`. Null if the RPC did not answer.
   */
  async members(agent: BedAgent, cli: AgentKind = 'serf'): Promise<MemberView | null> {
    const argv = cli === 'serf' ? ['serf', 'members', '-format=json', `-rpc-addr=${RPC_ADDR}`] : [process.execPath, SHOAL_CLI, 'members', '-format=json', `-rpc-addr=${RPC_ADDR}`];
    const r = await this.exec(agent.host, argv, 10_000);
    if (r.code !== 0) return null;
    try {
      const parsed = JSON.parse(r.stdout) as { members: Array<{ name: string; status: string }> | null };
      return new Map((parsed.members ?? []).map((m) => [m.name, m.status]));
    } catch {
      return null;
    }
  }

  /** Every listed agent's view, or null for one whose RPC did not answer. */
  async views(agents: readonly BedAgent[] = this.agents.filter((a) => a.running)): Promise<Map<string, MemberView | null>> {
    const out = new Map<string, MemberView | null>();
    await Promise.all(agents.map(async (a) => out.set(a.name, await this.members(a))));
    return out;
  }

  /** True when every agent in `observers` lists every name in `subjects` with `status`. */
  async allSee(observers: readonly BedAgent[], subjects: readonly string[], status: string): Promise<boolean> {
    const views = await this.views(observers);
    return observers.every((o) => subjects.every((s) => s === o.name || views.get(o.name)?.get(s) === status));
  }

  private nft(host: Host, args: readonly string[]): Promise<string> {
    return must('ip', ['netns', 'exec', host.ns, 'nft', ...args]);
  }

  /**
   * Drops `percent`% of the packets entering `host` (all of them, or only those from `from`);
   * `udpOnly` leaves TCP alone (the simulator's loss touches datagrams only).
   */
  async setLoss(hostName: string, percent: number, options: { from?: string; udpOnly?: boolean } = {}): Promise<void> {
    if (!(percent >= 0 && percent <= 100)) throw new RangeError(`loss is a percentage 0..100, got ${percent}`);
    const host = this.host(hostName);
    await this.nft(host, ['flush', 'chain', 'inet', 'shoaltb', 'loss_in']);
    if (percent === 0) return;
    const rule = [
      ...(options.from === undefined ? [] : ['ip', 'saddr', this.host(options.from).ip]),
      ...(options.udpOnly === true ? ['meta', 'l4proto', 'udp'] : []),
      'numgen', 'random', 'mod', '100', 'lt', String(Math.round(percent)), 'drop',
    ];
    await this.nft(host, ['add', 'rule', 'inet', 'shoaltb', 'loss_in', ...rule]);
  }

  /** The same loss on every link: each packet meets it once, where it enters its destination. */
  async setLossEverywhere(percent: number, options: { udpOnly?: boolean } = {}): Promise<void> {
    await Promise.all(this.hosts.map((h) => this.setLoss(h.name, percent, options)));
  }

  /** Cuts the link from → to (one way); both ways with `cutBoth`. */
  async cut(from: string, to: string): Promise<void> {
    await this.nft(this.host(to), ['add', 'rule', 'inet', 'shoaltb', 'cut_in', 'ip', 'saddr', this.host(from).ip, 'drop']);
  }

  async cutBoth(a: string, b: string): Promise<void> {
    await Promise.all([this.cut(a, b), this.cut(b, a)]);
  }

  /** A partition: every link between the groups cut (only a → b when oneWay). */
  async partition(a: readonly string[], b: readonly string[], oneWay = false): Promise<void> {
    const cuts: Array<Promise<void>> = [];
    for (const x of a) for (const y of b) cuts.push(oneWay ? this.cut(x, y) : this.cutBoth(x, y));
    await Promise.all(cuts);
  }

  /** Every cut link works again (loss stays). */
  async heal(): Promise<void> {
    await Promise.all(this.hosts.map((h) => this.nft(h, ['flush', 'chain', 'inet', 'shoaltb', 'cut_in'])));
  }

  /** Every member event any agent logged, in time order. */
  events(kind?: MemberEventKind): MemberEvent[] {
    return this.agents.flatMap((a) => a.events).filter((e) => kind === undefined || e.kind === kind).sort((x, y) => x.atMs - y.atMs);
  }

  /** Kills every agent, then anything else left in the namespaces, and deletes them. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const a of this.agents) if (a.running) a.proc.kill('SIGKILL');
    await Promise.race([Promise.all(this.agents.map((a) => a.exited)), new Promise((r) => setTimeout(r, 3_000).unref())]);
    this.destroySync();
  }

  private destroySync(): void {
    this.destroyed = true;
    process.off('exit', this.onExit);
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    for (const a of this.agents) if (a.running) a.proc.kill('SIGKILL');
    for (const h of this.hosts) deleteNamespaceSync(h.ns);
    deleteNamespaceSync(this.bridgeNs);
  }
}

/** Polls `cond` every `stepMs` until it holds or `limitMs` passed; true if it held. */
export async function waitUntil(cond: () => Promise<boolean> | boolean, limitMs: number, stepMs = 500): Promise<boolean> {
  const end = Date.now() + limitMs;
  for (let i = 0; i < 100_000; i++) {
    if (await cond()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, Math.min(stepMs, Math.max(0, end - Date.now()))));
  }
  return false;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
