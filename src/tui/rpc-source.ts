// Feeds the TUI from an agent's RPC — a shoal agent or a real `serf` agent, which speak the same
// protocol (reference §9). It follows the event stream (`stream *`) and the log (`monitor`, for who
// suspected whom), and polls what neither carries: the member list (a missed event heals on the
// next poll), the agent's health score (`stats`) and network coordinates (`get-coordinate`, a few
// members per poll so 1,000 members cost no burst). When the connection drops — the agent was
// restarted, killed, paused past the timeout — it says so on screen and dials again until it is back.
import { goHostPort } from '../cli/commands/common.js';
import { RpcClient, type RpcStream } from '../cli/rpc-client.js';
import type { Coordinate as WireCoordinate } from '../wire/serf-schemas.js';
import type { RpcMember, RpcRecord } from '../wire/rpc-schemas.js';
import type { KeyPress, TuiSource } from './app.js';
import { CatalogSource } from './catalog-source.js';
import { parseAgentLogLine } from './log-lines.js';
import type { CoordinateInfo, MemberInfo, TuiModel } from './model.js';

export interface RpcSourceOptions {
  readonly addr: string;
  readonly authKey?: string;
  /** Members, stats and coordinates are polled this often. */
  readonly pollMs?: number;
  /** Coordinates fetched per poll (round robin over the members). */
  readonly coordinatesPerPoll?: number;
  /** Wait between two connection attempts. */
  readonly reconnectMs?: number;
  /** The agent's HTTP API, for the services view (null: none; the view says so). */
  readonly httpAddr?: string | null;
  /** Extra keys (the demo's kill/pause/restart). */
  readonly handleKey?: (key: KeyPress, model: TuiModel) => boolean;
}

export const DEFAULT_POLL_MS = 3_000;
const DEFAULT_COORDINATES_PER_POLL = 40;
const DEFAULT_RECONNECT_MS = 1_000;
/** Dialling and each request give up after this, so a paused (SIGSTOP) agent is noticed. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Serf's monitor replays recent lines on connect: older ones are history, not news. */
const REPLAYED_LOG_SLACK_MS = 2_000;

export class RpcSource implements TuiSource {
  readonly clock = 'wall' as const;
  private model: TuiModel | null = null;
  private changed: () => void = () => undefined;
  private client: RpcClient | null = null;
  private stopped = false;
  private loopDone: Promise<void> = Promise.resolve();
  private coordCursor = 0;
  private wake: (() => void) | null = null;
  private readonly catalog: CatalogSource | null;
  readonly handleKey?: (key: KeyPress, model: TuiModel) => boolean;

  constructor(private readonly options: RpcSourceOptions) {
    if (options.handleKey !== undefined) this.handleKey = options.handleKey;
    this.catalog = options.httpAddr === undefined || options.httpAddr === null ? null : new CatalogSource({ addr: options.httpAddr });
  }

  now(): number {
    return Date.now();
  }

  start(model: TuiModel, changed: () => void): void {
    this.model = model;
    this.changed = changed;
    model.source = this.options.addr;
    if (this.catalog === null) model.setCatalogState('none', 'no HTTP API address given');
    this.catalog?.start(model, changed);
    this.loopDone = this.loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.client?.close();
    this.wake?.();
    await this.catalog?.stop();
    // A dial in progress may take its whole timeout: quitting does not wait for it.
    await Promise.race([this.loopDone, delay(500)]);
  }

  async fireUserEvent(name: string, payload: string): Promise<string | null> {
    const client = this.client;
    if (client === null) return 'not connected to the agent';
    try {
      const reply = await client.request('event', { Name: name, Payload: payload === '' ? null : Buffer.from(payload), Coalesce: false });
      return reply.error === '' ? null : reply.error;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  private async loop(): Promise<void> {
    const model = this.model as TuiModel;
    while (!this.stopped) {
      let client: RpcClient;
      try {
        const authKey = this.options.authKey;
        client = await RpcClient.connect(this.options.addr, { timeoutMs: REQUEST_TIMEOUT_MS, ...(authKey === undefined ? {} : { authKey }) });
      } catch (err) {
        model.setConnection(this.now(), model.connection === 'connecting' ? 'connecting' : 'lost', messageOf(err));
        this.changed();
        await this.sleep(this.options.reconnectMs ?? DEFAULT_RECONNECT_MS);
        continue;
      }
      if (this.stopped) {
        client.close();
        break;
      }
      this.client = client;
      const reason = await this.session(client).catch((err: unknown) => messageOf(err));
      client.close();
      this.client = null;
      if (this.stopped) break;
      model.setConnection(this.now(), 'lost', reason);
      this.changed();
      await this.sleep(this.options.reconnectMs ?? DEFAULT_RECONNECT_MS);
    }
  }

  /** One connection's life; resolves with why it ended. */
  private async session(client: RpcClient): Promise<string> {
    const model = this.model as TuiModel;
    const connectedAtMs = this.now();
    await this.poll(client);
    const streams: RpcStream[] = [];
    streams.push(await client.stream('stream', { Type: '*' }, (r) => this.onRecord(r)));
    // DEBUG: shoal logs who suspected whom at DEBUG (memberlist has no such line).
    streams.push(await client.stream('monitor', { LogLevel: 'DEBUG' }, (r) => this.onLog(r, connectedAtMs)));
    model.setConnection(this.now(), 'connected', '');
    this.changed();
    let closed = false;
    void client.closed().then(() => (closed = true));
    const pollMs = this.options.pollMs ?? DEFAULT_POLL_MS;
    while (!this.stopped && !closed) {
      await Promise.race([this.sleep(pollMs), client.closed()]);
      if (this.stopped || closed) break;
      // A paused agent keeps the socket open but answers nothing: a poll that times out ends the session.
      const answered = await Promise.race([this.poll(client).then(() => true), delay(REQUEST_TIMEOUT_MS).then(() => false)]);
      if (!answered) return 'the agent does not answer (paused?)';
    }
    return 'connection closed';
  }

  private async poll(client: RpcClient): Promise<void> {
    const model = this.model as TuiModel;
    const [stats, members] = await Promise.all([client.call('stats'), client.call('members')]);
    const agent = stats?.get('agent');
    model.localName = agent?.get('name') ?? model.localName;
    const score = stats?.get('serf')?.get('health_score');
    model.setHealth(score === undefined ? null : Number(score));
    model.setMembers(this.now(), (members?.Members ?? []).map(memberInfo));
    await this.pollCoordinates(client);
    this.changed();
  }

  private async pollCoordinates(client: RpcClient): Promise<void> {
    const model = this.model as TuiModel;
    if (model.localName === '') return;
    const names = [...model.members.keys()];
    const batch = Math.min(names.length, this.options.coordinatesPerPoll ?? DEFAULT_COORDINATES_PER_POLL);
    const wanted = new Set<string>();
    const selected = model.selected()?.name;
    if (selected !== undefined) wanted.add(selected);
    for (let i = 0; wanted.size < batch && i < names.length; i++) wanted.add(names[(this.coordCursor + i) % names.length] as string);
    this.coordCursor = names.length === 0 ? 0 : (this.coordCursor + batch) % names.length;
    const localReply = await client.call('get-coordinate', { Node: model.localName });
    const local = localReply?.Ok === true ? coordinateInfo(localReply.Coord) : null;
    const replies = await Promise.all([...wanted].map(async (name) => [name, await client.call('get-coordinate', { Node: name })] as const));
    for (const [name, reply] of replies) model.setCoordinate(name, reply?.Ok === true ? coordinateInfo(reply.Coord) : null, local);
  }

  private onRecord(record: RpcRecord): void {
    const model = this.model as TuiModel;
    const now = this.now();
    if (record.kind === 'memberEvent') model.memberEvent(now, record.value.Event, (record.value.Members ?? []).map(memberInfo));
    else if (record.kind === 'userEvent') model.userEvent(now, record.value.Name, printable(record.value.Payload), record.value.LTime);
    else if (record.kind === 'queryEvent') model.queryEvent(now, record.value.Name, printable(record.value.Payload), record.value.LTime);
    this.changed();
  }

  private onLog(record: RpcRecord, connectedAtMs: number): void {
    if (record.kind !== 'log') return;
    const { atMs, fact } = parseAgentLogLine(record.value.Log);
    if (fact === null) return;
    if (atMs !== null && atMs < connectedAtMs - REPLAYED_LOG_SLACK_MS) return;
    const model = this.model as TuiModel;
    const now = this.now();
    const local = model.localName === '' ? 'the agent' : model.localName;
    switch (fact.kind) {
      case 'suspect': model.suspected(now, fact.node, fact.by ?? local); break;
      case 'confirm': model.confirmed(now, fact.node, fact.by); break;
      case 'refuted': model.refuted(now, fact.node, null, `(incarnation ${fact.incarnation})`); break;
      case 'refuting': model.refuted(now, local, fact.accuser, fact.what === 'dead' ? '(it had declared us dead)' : ''); break;
      case 'timeout': model.suspicionTimedOut(now, fact.node, fact.detail); break;
    }
    this.changed();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

export function memberInfo(m: RpcMember): MemberInfo {
  return {
    name: m.Name, addr: goHostPort(m.Addr, m.Port), status: m.Status, tags: m.Tags ?? new Map(),
    protocolCur: m.ProtocolCur, delegateCur: m.DelegateCur,
  };
}

function coordinateInfo(c: WireCoordinate): CoordinateInfo | null {
  if (c.Vec === null || c.Vec.length === 0) return null;
  return { vec: c.Vec, error: c.Error, adjustment: c.Adjustment, height: c.Height };
}

/** A payload as text for the log: UTF-8 with control characters shown as '?', at most 60 characters. */
export function printable(payload: Uint8Array | null): string {
  if (payload === null || payload.length === 0) return '';
  // eslint-disable-next-line no-control-regex
  const text = Buffer.from(payload).toString('utf8').replace(/[\u0000-\u001f\u007f]/g, '?');
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
