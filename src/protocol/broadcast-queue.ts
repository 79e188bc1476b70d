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
  /** Left the queue for good (replaced, pruned, finished): any array slot still holding it is a tombstone. */
  removed: boolean;
  /** In a bucket now; false between being taken by getBroadcasts and moving down a tier. */
  placed: boolean;
}

/**
 * The items of one tier with one length, oldest (lowest id) first. Items leave from the back
 * (getBroadcasts takes the newest) or the front (prune takes the oldest); a replaced item is
 * only marked removed and skipped later, so no removal shifts the array. `head` skips the
 * front tombstones; `live` counts the items not removed. The slots before `head` are free, so
 * an item older than every other (getBroadcasts takes newest first, so items reach the next
 * tier oldest last) goes in at the front without shifting the array.
 */
interface Bucket {
  items: Item[];
  head: number;
  live: number;
}

/** One transmit tier: a bucket per message length, and those lengths in ascending order. */
interface Tier {
  readonly buckets: Map<number, Bucket>;
  readonly lens: number[];
}

// The order is memberlist's btree order (queue.go limitedBroadcast Less): fewer transmits first,
// then larger messages, then newer ones. Tiers and buckets hold exactly that order without a
// sorted array of every item: with thousands of queued broadcasts (a join storm), inserting into
// and deleting from the middle of one array cost more than the rest of the protocol together.
export class TransmitLimitedQueue {
  private readonly tiers = new Map<number, Tier>();
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
        this.remove(old);
        old.b.finished?.();
      }
    }
    const item: Item = { transmits: initialTransmits, len: b.message.length, id: this.idGen, b, removed: false, placed: false };
    if (b.name !== undefined) this.byName.set(b.name, item);
    this.place(item);
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
    for (const tier of this.tiers.keys()) {
      if (tier < minTier) minTier = tier;
      if (tier > maxTier) maxTier = tier;
    }
    let bytesUsed = 0;
    const toSend: Uint8Array[] = [];
    const reinsert: Item[] = [];
    for (let t = minTier; t <= maxTier; ) {
      const free = limit - bytesUsed - overhead;
      if (free <= 0) break;
      const tier = this.tiers.get(t);
      const bucket = tier === undefined ? undefined : largestFitting(tier, free);
      if (bucket === undefined) {
        t++;
        continue;
      }
      // The largest message that fits, and of those the newest: the bucket's last live item.
      const item = takeLast(bucket);
      item.placed = false;
      this.unplaced(t, tier as Tier, item.len, bucket);
      bytesUsed += overhead + item.len;
      toSend.push(item.b.message);
      if (item.transmits + 1 >= transmitLimit) {
        this.forget(item);
        item.b.finished?.();
      } else {
        // Moving it down a tier now would let this same walk pick it again.
        item.transmits++;
        reinsert.push(item);
      }
    }
    // A finished callback above may have queued a replacement for one of these: it stays out.
    for (const item of reinsert) if (!item.removed) this.place(item);
    return toSend;
  }

  /** Keeps at most `maxRetain` broadcasts, dropping the most-transmitted (then smallest, oldest) first. */
  prune(maxRetain: number): void {
    while (this.count > maxRetain) {
      let maxTier = -Infinity;
      for (const t of this.tiers.keys()) if (t > maxTier) maxTier = t;
      const tier = this.tiers.get(maxTier) as Tier;
      const len = tier.lens[0] as number;
      const bucket = tier.buckets.get(len) as Bucket;
      while ((bucket.items[bucket.head] as Item).removed) bucket.head++;
      const item = bucket.items[bucket.head] as Item;
      this.remove(item);
      item.b.finished?.();
    }
  }

  reset(): void {
    for (const tier of this.tiers.values()) {
      for (const len of tier.lens) {
        const bucket = tier.buckets.get(len) as Bucket;
        for (let i = bucket.head; i < bucket.items.length; i++) {
          const item = bucket.items[i] as Item;
          if (item.removed) continue;
          item.removed = true;
          item.b.finished?.();
        }
      }
    }
    this.tiers.clear();
    this.byName.clear();
    this.count = 0;
  }

  /** Puts an item in its tier and length bucket, keeping the bucket in id order. */
  private place(item: Item): void {
    let tier = this.tiers.get(item.transmits);
    if (tier === undefined) {
      tier = { buckets: new Map(), lens: [] };
      this.tiers.set(item.transmits, tier);
    }
    let bucket = tier.buckets.get(item.len);
    if (bucket === undefined) {
      bucket = { items: [], head: 0, live: 0 };
      tier.buckets.set(item.len, bucket);
      const lens = tier.lens;
      const at = lowerBound(lens, item.len);
      if (at === lens.length) lens.push(item.len);
      else lens.splice(at, 0, item.len);
    }
    let items = bucket.items;
    const last = items[items.length - 1];
    if (items.length === bucket.head || (last as Item).id < item.id) {
      // A new broadcast is the newest of all.
      items.push(item);
    } else if ((items[bucket.head] as Item).id > item.id) {
      if (bucket.head === 0) {
        const gap = Math.max(8, items.length);
        items = new Array<Item>(gap).fill(FREE_SLOT).concat(items);
        bucket.items = items;
        bucket.head = gap;
      }
      items[--bucket.head] = item;
    } else {
      let lo = bucket.head;
      let hi = items.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((items[mid] as Item).id < item.id) lo = mid + 1;
        else hi = mid;
      }
      items.splice(lo, 0, item);
    }
    item.placed = true;
    bucket.live++;
    this.count++;
  }

  /** An item has been taken out of `bucket` (of `tier`, number `t`): update the counts, drop empty containers. */
  private unplaced(t: number, tier: Tier, len: number, bucket: Bucket): void {
    bucket.live--;
    this.count--;
    if (bucket.live > 0) {
      // Compact when tombstones dominate, so a bucket's array stays within twice its live items.
      if (bucket.items.length - bucket.head > 2 * bucket.live + 32) compact(bucket);
      return;
    }
    tier.buckets.delete(len);
    tier.lens.splice(lowerBound(tier.lens, len), 1);
    if (tier.lens.length === 0) this.tiers.delete(t);
  }

  /** Takes a queued item out for good, wherever it is (replaced or pruned). */
  private remove(item: Item): void {
    if (!item.placed) {
      this.forget(item);
      return;
    }
    item.placed = false;
    const tier = this.tiers.get(item.transmits) as Tier;
    const bucket = tier.buckets.get(item.len) as Bucket;
    this.forget(item);
    this.unplaced(item.transmits, tier, item.len, bucket);
  }

  private forget(item: Item): void {
    item.removed = true;
    const name = item.b.name;
    if (name !== undefined && this.byName.get(name) === item) this.byName.delete(name);
  }
}

/** Fills the free slots before a bucket's head (never read: it is marked removed). */
const FREE_SLOT: Item = { transmits: -1, len: -1, id: -1, b: { message: new Uint8Array(0) }, removed: true, placed: false };

/** The bucket with the largest length no more than `free` (memberlist's DescendLessOrEqual pivot). */
function largestFitting(tier: Tier, free: number): Bucket | undefined {
  const lens = tier.lens;
  const last = lens[lens.length - 1];
  if (last === undefined) return undefined;
  if (last <= free) return tier.buckets.get(last);
  const at = lowerBound(lens, free + 1) - 1;
  return at < 0 ? undefined : tier.buckets.get(lens[at] as number);
}

/** Pops the bucket's last live item (the bucket has one). */
function takeLast(bucket: Bucket): Item {
  const items = bucket.items;
  for (;;) {
    const item = items.pop() as Item;
    if (!item.removed) {
      if (items.length < bucket.head) bucket.head = items.length;
      return item;
    }
  }
}

function compact(bucket: Bucket): void {
  const items = bucket.items;
  let w = 0;
  for (let i = bucket.head; i < items.length; i++) {
    const item = items[i] as Item;
    if (!item.removed) items[w++] = item;
  }
  items.length = w;
  bucket.head = 0;
}

/** First index in ascending `xs` whose value is at least `x`. */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((xs[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
