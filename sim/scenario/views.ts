// Every live process's view of every member, kept incrementally from the membership core's
// state-change hook (MemberlistEnv.onMemberState), with per-member counts over live observers:
// "has the cluster converged?" and "does everyone see node-3 as failed?" are then O(n) and O(1)
// questions, cheap enough to ask every check interval of a 1,000-node run. The checkers that look
// at single transitions (incarnations never go backwards, a left member never returns) run here,
// on every change, as it happens.
import { NodeStateType } from '../../src/protocol/node-state.js';

export const UNKNOWN = -1;
const STATES = 4;

export interface Transition {
  readonly atMs: number;
  readonly observer: number;
  readonly subject: number;
  readonly from: number;
  readonly to: number;
  readonly fromIncarnation: number;
  readonly incarnation: number;
  /** For suspect and dead: the accuser the message named (-1: none or not a scenario node). */
  readonly by: number;
}

/** Where the tracker reports transitions the run cares about. */
export interface ViewListener {
  onTransition(t: Transition): void;
  onViolation(checker: 'incarnation' | 'left-returns', atMs: number, detail: string): void;
}

export class Views {
  /** state[o * n + s]: what observer o's current process holds about s (UNKNOWN: nothing). */
  private readonly state: Int8Array;
  private readonly inc: Uint32Array;
  /** counts[s * 4 + state]: live observers holding s in that state. */
  readonly counts: Int32Array;
  /** Observers whose process runs (or is paused): their views count. */
  readonly live: Uint8Array;
  liveCount = 0;
  /** Members that left gracefully and have not come back through a restart or join since. */
  readonly leftNow: Uint8Array;

  constructor(readonly n: number, readonly names: readonly string[], private readonly listener: ViewListener) {
    this.state = new Int8Array(n * n).fill(UNKNOWN);
    this.inc = new Uint32Array(n * n);
    this.counts = new Int32Array(n * STATES);
    this.live = new Uint8Array(n);
    this.leftNow = new Uint8Array(n);
  }

  stateAt(observer: number, subject: number): number {
    return this.state[observer * this.n + subject] as number;
  }

  /** A new process of `observer` starts with an empty view. */
  up(observer: number): void {
    this.down(observer);
    this.live[observer] = 1;
    this.liveCount++;
  }

  /** The observer's process is gone: its view no longer counts. */
  down(observer: number): void {
    const n = this.n;
    const base = observer * n;
    const counted = this.live[observer] === 1;
    for (let s = 0; s < n; s++) {
      const st = this.state[base + s] as number;
      if (st !== UNKNOWN) {
        if (counted) (this.counts[s * STATES + st] as number)--;
        this.state[base + s] = UNKNOWN;
        this.inc[base + s] = 0;
      }
    }
    if (counted) {
      this.live[observer] = 0;
      this.liveCount--;
    }
  }

  change(atMs: number, observer: number, subject: number, to: number, incarnation: number, by = -1): void {
    const i = observer * this.n + subject;
    const from = this.state[i] as number;
    const before = this.inc[i] as number;
    if (from !== UNKNOWN && to !== UNKNOWN && incarnation < before) {
      this.listener.onViolation('incarnation', atMs, `${this.names[observer]} moved ${this.names[subject]} from incarnation ${before} back to ${incarnation}`);
    }
    if (from === NodeStateType.left && (to === NodeStateType.alive || to === NodeStateType.suspect) && this.leftNow[subject] === 1) {
      this.listener.onViolation('left-returns', atMs, `${this.names[observer]} saw ${this.names[subject]} return as ${to === NodeStateType.alive ? 'alive' : 'suspect'} after it left, without a rejoin`);
    }
    if (this.live[observer] === 1) {
      if (from !== UNKNOWN) (this.counts[subject * STATES + from] as number)--;
      if (to !== UNKNOWN) (this.counts[subject * STATES + to] as number)++;
    }
    this.state[i] = to;
    this.inc[i] = to === UNKNOWN ? 0 : incarnation;
    if (from !== to || incarnation !== before) this.listener.onTransition({ atMs, observer, subject, from, to, fromIncarnation: before, incarnation, by });
  }

  count(subject: number, state: number): number {
    return this.counts[subject * STATES + state] as number;
  }

  /** Live observers other than `subject` itself that hold it in `state`. */
  othersHolding(subject: number, state: number): number {
    const self = this.live[subject] === 1 && this.stateAt(subject, subject) === state ? 1 : 0;
    return this.count(subject, state) - self;
  }

  /** Live observers other than `subject`. */
  othersLive(subject: number): number {
    return this.liveCount - (this.live[subject] === 1 ? 1 : 0);
  }

  /**
   * The live views agree: every live member is alive in every live view, and no live view holds
   * a dead process as alive or suspect (forgotten, failed or left are all fine).
   */
  converged(isMemberLive: (s: number) => boolean): boolean {
    for (let s = 0; s < this.n; s++) {
      if (isMemberLive(s)) {
        if (this.count(s, NodeStateType.alive) !== this.liveCount) return false;
      } else if (this.count(s, NodeStateType.alive) + this.count(s, NodeStateType.suspect) !== 0) {
        return false;
      }
    }
    return true;
  }

  /** Why the views do not agree yet (first few differences), for the report. */
  disagreements(isMemberLive: (s: number) => boolean, limit = 5): string[] {
    const out: string[] = [];
    for (let s = 0; s < this.n && out.length < limit; s++) {
      const alive = this.count(s, NodeStateType.alive);
      const suspect = this.count(s, NodeStateType.suspect);
      const dead = this.count(s, NodeStateType.dead);
      const left = this.count(s, NodeStateType.left);
      if (isMemberLive(s) && alive !== this.liveCount) {
        out.push(`${this.names[s]} is live but only ${alive} of ${this.liveCount} live nodes see it alive (suspect ${suspect}, failed ${dead}, left ${left})`);
      } else if (!isMemberLive(s) && alive + suspect > 0) {
        out.push(`${this.names[s]} is down but ${alive} live nodes see it alive and ${suspect} suspect`);
      }
    }
    return out;
  }
}
