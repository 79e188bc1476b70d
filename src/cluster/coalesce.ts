// Event coalescing as the Serf agent applies it (serf coalesce.go, coalesce_user.go,
// coalesce_member.go; the agent turns both on in cmd/serf/command/agent/command.go with a 3 s
// coalesce period and a 1 s quiescent period). Sans-IO: events go in with the time they happened,
// and the caller asks at `dueMs` (or any later input) for what is ready; nothing here keeps time.
import type { Member, MemberEventType } from './member.js';
import type { SerfEvent } from './serf.js';

export interface CoalescePeriods {
  /** Longest time a burst is held: the quantum starts with its first event. */
  readonly coalescePeriodMs: number;
  /** A burst also ends once no event came for this long. */
  readonly quiescentPeriodMs: number;
}

/** The agent's settings for member events (CoalescePeriod / QuiescentPeriod). */
export const AGENT_MEMBER_COALESCE: CoalescePeriods = { coalescePeriodMs: 3_000, quiescentPeriodMs: 1_000 };
/** The agent's settings for user events (UserCoalescePeriod / UserQuiescentPeriod). */
export const AGENT_USER_COALESCE: CoalescePeriods = { coalescePeriodMs: 3_000, quiescentPeriodMs: 1_000 };

type MemberEvent = Extract<SerfEvent, { readonly members: readonly Member[] }>;
type UserEvent = Extract<SerfEvent, { readonly type: 'user' }>;

/** What one coalescer does with the events it takes (coalesce.go `coalescer`). */
export interface Coalescer {
  /** Whether it holds this event; the others pass straight through. */
  handles(event: SerfEvent): boolean;
  coalesce(event: SerfEvent): void;
  /** What the held events amount to; empties the holding area. */
  flush(): SerfEvent[];
}

/**
 * Only the newest Lamport time of each event name survives a burst; events sharing that time
 * all do. Only events sent with coalescing allowed (CC) are held (coalesce_user.go).
 */
export class UserEventCoalescer implements Coalescer {
  private latest = new Map<string, { lTime: bigint; events: UserEvent[] }>();

  handles(event: SerfEvent): boolean {
    return event.type === 'user' && event.coalesce;
  }

  coalesce(event: SerfEvent): void {
    if (event.type !== 'user') return;
    const held = this.latest.get(event.name);
    if (held === undefined || held.lTime < event.lTime) this.latest.set(event.name, { lTime: event.lTime, events: [event] });
    else if (held.lTime === event.lTime) held.events.push(event);
  }

  flush(): SerfEvent[] {
    const out: SerfEvent[] = [];
    for (const held of this.latest.values()) out.push(...held.events);
    this.latest = new Map();
    return out;
  }
}

/**
 * Only the latest event of each member survives a burst, and it is dropped when it repeats the
 * last one delivered for that member (a member-update is always delivered). What survives is
 * regrouped into one event per type (coalesce_member.go).
 *
 * Unlike Serf 0.9.4, held events are forgotten once flushed: Serf keeps them and delivers every
 * past member-update again with each later burst (hashicorp/serf#555, still open).
 */
export class MemberEventCoalescer implements Coalescer {
  private readonly lastDelivered = new Map<string, MemberEventType>();
  private latest = new Map<string, { type: MemberEventType; member: Member }>();

  handles(event: SerfEvent): boolean {
    return event.type !== 'user' && event.type !== 'query';
  }

  coalesce(event: SerfEvent): void {
    if (event.type === 'user' || event.type === 'query') return;
    for (const member of event.members) {
      // Re-inserted so the order of the output follows the latest events.
      this.latest.delete(member.name);
      this.latest.set(member.name, { type: event.type, member });
    }
  }

  flush(): SerfEvent[] {
    const byType = new Map<MemberEventType, Member[]>();
    for (const [name, { type, member }] of this.latest) {
      if (this.lastDelivered.get(name) === type && type !== 'member-update') continue;
      this.lastDelivered.set(name, type);
      const members = byType.get(type);
      if (members === undefined) byType.set(type, [member]);
      else members.push(member);
    }
    this.latest = new Map();
    const out: MemberEvent[] = [];
    for (const [type, members] of byType) out.push({ type, members });
    return out;
  }
}

/**
 * coalesce.go coalesceLoop as a state machine: the first held event opens a quantum of
 * `coalescePeriodMs`, every held event restarts the quiescent timer; whichever runs out first
 * flushes. Events the coalescer does not hold are delivered at once.
 */
export class CoalesceWindow {
  private quantumEndMs: number | null = null;
  private quiescentEndMs: number | null = null;

  constructor(
    private readonly periods: CoalescePeriods,
    private readonly coalescer: Coalescer,
  ) {
    if (!(periods.coalescePeriodMs > 0 && periods.quiescentPeriodMs > 0)) {
      throw new RangeError('coalescing needs a coalesce period and a quiescent period above 0 (Serf turns it off otherwise)');
    }
  }

  /** When the held events are due (null: nothing held). */
  get dueMs(): number | null {
    if (this.quantumEndMs === null || this.quiescentEndMs === null) return null;
    return Math.min(this.quantumEndMs, this.quiescentEndMs);
  }

  /**
   * Takes an event at `nowMs`; returns what is delivered by then: a burst whose time ran out
   * first (its timer fired before this event came), then the event itself if it is not held.
   */
  push(nowMs: number, event: SerfEvent): SerfEvent[] {
    const out = this.poll(nowMs);
    if (!this.coalescer.handles(event)) {
      out.push(event);
      return out;
    }
    this.quantumEndMs ??= nowMs + this.periods.coalescePeriodMs;
    this.quiescentEndMs = nowMs + this.periods.quiescentPeriodMs;
    this.coalescer.coalesce(event);
    return out;
  }

  /** What is due at `nowMs` (empty before `dueMs`). */
  poll(nowMs: number): SerfEvent[] {
    const due = this.dueMs;
    if (due === null || nowMs < due) return [];
    return this.flush();
  }

  /** Delivers whatever is held, as Serf does on shutdown. */
  flush(): SerfEvent[] {
    this.quantumEndMs = null;
    this.quiescentEndMs = null;
    return this.coalescer.flush();
  }
}

export interface AgentCoalesceOptions {
  /** null: member events are not coalesced. */
  readonly member?: CoalescePeriods | null;
  /** null: user events are not coalesced. */
  readonly user?: CoalescePeriods | null;
}

/** A delivered event and the time it is delivered (a flushed burst: the time its window ended). */
export interface Delivery {
  readonly atMs: number;
  readonly event: SerfEvent;
}

/**
 * The agent's chain (serf.go Create): events go through the user-event window, then the
 * member-event window, then to the handlers. Feed every event Serf emits, in order, and call
 * `poll` at `dueMs`.
 */
export class EventCoalescer {
  private readonly stages: CoalesceWindow[] = [];

  constructor(options: AgentCoalesceOptions = {}) {
    const user = options.user === undefined ? AGENT_USER_COALESCE : options.user;
    const member = options.member === undefined ? AGENT_MEMBER_COALESCE : options.member;
    if (user !== null) this.stages.push(new CoalesceWindow(user, new UserEventCoalescer()));
    if (member !== null) this.stages.push(new CoalesceWindow(member, new MemberEventCoalescer()));
  }

  /** The earliest time a held burst is due (null: nothing held). */
  get dueMs(): number | null {
    let due: number | null = null;
    for (const stage of this.stages) {
      const d = stage.dueMs;
      if (d !== null && (due === null || d < due)) due = d;
    }
    return due;
  }

  push(nowMs: number, event: SerfEvent): Delivery[] {
    const out = this.poll(nowMs);
    this.feed(0, nowMs, [event], out);
    return out;
  }

  /** Every burst due by `nowMs`, in the order their windows ended. */
  poll(nowMs: number): Delivery[] {
    const out: Delivery[] = [];
    for (;;) {
      let first = -1;
      let firstDue = Infinity;
      this.stages.forEach((stage, i) => {
        const d = stage.dueMs;
        if (d !== null && d <= nowMs && d < firstDue) {
          first = i;
          firstDue = d;
        }
      });
      if (first < 0) return out;
      this.feed(first + 1, firstDue, (this.stages[first] as CoalesceWindow).flush(), out);
    }
  }

  /** Delivers everything held, stage by stage (shutdown). */
  flush(nowMs: number): Delivery[] {
    const out = this.poll(nowMs);
    this.stages.forEach((stage, i) => this.feed(i + 1, nowMs, stage.flush(), out));
    return out;
  }

  private feed(from: number, atMs: number, events: SerfEvent[], out: Delivery[]): void {
    let pending = events;
    for (let i = from; i < this.stages.length && pending.length > 0; i++) {
      const stage = this.stages[i] as CoalesceWindow;
      pending = pending.flatMap((e) => stage.push(atMs, e));
    }
    for (const event of pending) out.push({ atMs, event });
  }
}
