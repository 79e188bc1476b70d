// The simulator's discrete-event scheduler: one priority queue ordered by (time, sequence), and
// a virtual clock that jumps from event to event. Equal times run in the order they were queued,
// so a run is a pure function of its seed.

interface Entry {
  readonly atMs: number;
  readonly seq: number;
  readonly run: () => void;
}

export class Scheduler {
  private heap: Entry[] = [];
  private seq = 0;
  private nowMs = 0;
  /** Events run so far (for speed reports). */
  executed = 0;

  get now(): number {
    return this.nowMs;
  }

  get pending(): number {
    return this.heap.length;
  }

  /** Queues `run` at `atMs` (never earlier than now). */
  at(atMs: number, run: () => void): void {
    const entry: Entry = { atMs: Math.max(atMs, this.nowMs), seq: this.seq++, run };
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(entry, heap[parent] as Entry)) break;
      heap[i] = heap[parent] as Entry;
      i = parent;
    }
    heap[i] = entry;
  }

  after(delayMs: number, run: () => void): void {
    this.at(this.nowMs + delayMs, run);
  }

  private pop(): Entry | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined) return undefined;
    const last = heap.pop() as Entry;
    if (heap.length > 0) {
      let i = 0;
      const n = heap.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const child = r < n && earlier(heap[r] as Entry, heap[l] as Entry) ? r : l;
        if (!earlier(heap[child] as Entry, last)) break;
        heap[i] = heap[child] as Entry;
        i = child;
      }
      heap[i] = last;
    }
    return top;
  }

  /** Runs every event up to and including `untilMs`, then sets the clock there. */
  runUntil(untilMs: number): void {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.atMs > untilMs) break;
      this.pop();
      this.nowMs = top.atMs;
      this.executed++;
      top.run();
    }
    if (untilMs > this.nowMs) this.nowMs = untilMs;
  }

  runFor(durationMs: number): void {
    this.runUntil(this.nowMs + durationMs);
  }

  /**
   * Runs until `done()` holds (checked after each event) or `limitMs` of virtual time pass.
   * Returns whether it held.
   */
  runUntilTrue(done: () => boolean, limitMs: number): boolean {
    const end = this.nowMs + limitMs;
    if (done()) return true;
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.atMs > end) break;
      this.pop();
      this.nowMs = top.atMs;
      this.executed++;
      top.run();
      if (done()) return true;
    }
    if (end > this.nowMs) this.nowMs = end;
    return done();
  }
}

function earlier(a: Entry, b: Entry): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}
