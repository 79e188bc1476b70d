// memberlist's TransmitLimitedQueue (reference §6.9, queue.go, btree version of 0.2.x).
// Each broadcast goes out at most retransmitLimit(n) times. Ordering: fewer transmits first;
// within a tier, larger messages first, then newer first. A packet is filled tier by tier with
// the largest message that still fits. Queueing a named broadcast replaces the one queued
// under the same name (memberlist names its alive/suspect/dead broadcasts by node).
import { retransmitLimit } from './timing.js';

export interface Broadcast {
  readonly message: Uint8Array;
  /** Named broadcasts invalidate a queued broadcast of the same name; unnamed ones are unique. */
  readonly name?: string;
  /** Called once when the broadcast leaves the queue: sent often enough, replaced, or pruned. */
  readonly finished?: () => void;
}

interface Item {
  transmits: number;
  readonly len: number;
  readonly id: number;
  readonly b: Broadcast;
}

/**
 * Tier arrays keep items in ascending (length, id) order, so the item memberlist takes first —
 * the largest, then the newest — is the last one and leaves with an O(1) pop.
 */
function below(a: Item, b: Item): boolean {
  return a.len < b.len || (a.len === b.len && a.id < b.id);
}

export class TransmitLimitedQueue {
  private readonly tiers = new Map<number, Item[]>();
  private readonly byName = new Map<string, Item>();
  private count = 0;
  /**
   * Never reset: memberlist 0.2.2 restarts ids when the queue empties, so a new broadcast could
   * share an id with a queued one and one of them was lost; later memberlist fixed that, and we
   * behave like the fix.
   */
  private idGen = 0;

  constructor(
    private readonly retransmitMult: number,
    private readonly numNodes: () => number,
  ) {}

  get size(): number {
    return this.count;
  }

  queueBroadcast(b: Broadcast, initialTransmits = 0): void {
    this.idGen = this.idGen >= Number.MAX_SAFE_INTEGER ? 1 : this.idGen + 1;
    if (b.name !== undefined) {
      const old = this.byName.get(b.name);
      if (old !== undefined) {
        this.deleteItem(old);
        old.b.finished?.();
      }
    }
    this.addItem({ transmits: initialTransmits, len: b.message.length, id: this.idGen, b });
  }

  /**
   * Takes broadcasts for one packet: each costs `overhead` plus its length, all within `limit`.
   * Messages that reach the retransmit limit leave the queue; the others move one tier down.
   */
  getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    if (this.count === 0) return [];
    const transmitLimit = retransmitLimit(this.retransmitMult, this.numNodes());
    let minTier = Infinity;
    let maxTier = -Infinity;
    for (const [tier, items] of this.tiers) {
      if (items.length === 0) continue;
      if (tier < minTier) minTier = tier;
      if (tier > maxTier) maxTier = tier;
    }
    let bytesUsed = 0;
    const toSend: Uint8Array[] = [];
    const reinsert: Item[] = [];
    for (let tier = minTier; tier <= maxTier; ) {
      const free = limit - bytesUsed - overhead;
      if (free <= 0) break;
      const items = this.tiers.get(tier);
      const at = items === undefined ? -1 : lastFitting(items, free);
      if (at < 0) {
        tier++;
        continue;
      }
      const item = (items as Item[])[at] as Item;
      bytesUsed += overhead + item.len;
      toSend.push(item.b.message);
      this.deleteItem(item);
      if (item.transmits + 1 >= transmitLimit) {
        item.b.finished?.();
      } else {
        // Moving it down a tier now would let this same walk pick it again.
        item.transmits++;
        reinsert.push(item);
      }
    }
    for (const item of reinsert) this.addItem(item);
    return toSend;
  }

  /** Keeps at most `maxRetain` broadcasts, dropping the most-transmitted (then smallest, oldest) first. */
  prune(maxRetain: number): void {
    while (this.count > maxRetain) {
      let maxTier = -Infinity;
      for (const [tier, items] of this.tiers) if (items.length > 0 && tier > maxTier) maxTier = tier;
      const items = this.tiers.get(maxTier) as Item[];
      const item = items[0] as Item;
      this.deleteItem(item);
      item.b.finished?.();
    }
  }

  reset(): void {
    for (const items of this.tiers.values()) for (const item of items) item.b.finished?.();
    this.tiers.clear();
    this.byName.clear();
    this.count = 0;
  }

  private addItem(item: Item): void {
    let items = this.tiers.get(item.transmits);
    if (items === undefined) {
      items = [];
      this.tiers.set(item.transmits, items);
    }
    const at = position(items, item);
    if (at === items.length) items.push(item);
    else items.splice(at, 0, item);
    if (item.b.name !== undefined) this.byName.set(item.b.name, item);
    this.count++;
  }

  private deleteItem(item: Item): void {
    const items = this.tiers.get(item.transmits);
    if (items === undefined) return;
    const at = position(items, item);
    if (items[at] !== item) return;
    if (at === items.length - 1) items.pop();
    else items.splice(at, 1);
    if (items.length === 0) this.tiers.delete(item.transmits);
    if (item.b.name !== undefined && this.byName.get(item.b.name) === item) this.byName.delete(item.b.name);
    this.count--;
  }
}

/** Where `item` is, or would go, in an ascending tier (binary search; ids are unique). */
function position(items: readonly Item[], item: Item): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (below(items[mid] as Item, item)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the largest (then newest) item no longer than `free`, or -1. */
function lastFitting(items: readonly Item[], free: number): number {
  const last = items[items.length - 1];
  if (last !== undefined && last.len <= free) return items.length - 1;
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((items[mid] as Item).len <= free) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}
