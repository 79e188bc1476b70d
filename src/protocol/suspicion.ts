// One suspicion about one node (Lifeguard §IV-B, memberlist suspicion.go): the timer starts at
// max (min when no confirmations can be expected) and each independent confirmation moves the
// deadline towards min. The accuser counts as already seen, so it cannot confirm itself.
import { remainingSuspicionMs } from './timing.js';

export class Suspicion {
  private confirmations = 0;
  private readonly seen = new Set<string>();
  /** When the suspect is to be declared dead, in the caller's clock. */
  deadlineMs: number;

  constructor(
    from: string,
    readonly k: number,
    readonly minMs: number,
    readonly maxMs: number,
    readonly startMs: number,
  ) {
    this.seen.add(from);
    this.deadlineMs = startMs + (k < 1 ? minMs : maxMs);
  }

  get confirmationCount(): number {
    return this.confirmations;
  }

  /**
   * Records a confirmation from `from`. Returns true if it was new (the caller re-gossips it);
   * the deadline then moves (possibly into the past: the caller fires at once).
   */
  confirm(from: string, nowMs: number): boolean {
    if (this.confirmations >= this.k) return false;
    if (this.seen.has(from)) return false;
    this.seen.add(from);
    this.confirmations++;
    const remaining = remainingSuspicionMs(this.confirmations, this.k, nowMs - this.startMs, this.minMs, this.maxMs);
    this.deadlineMs = nowMs + remaining;
    return true;
  }
}
