// Token buckets on the injected clock (sans-IO: the caller passes nowMs), and the limiter that
// keeps indirect-ping requests from turning a node into a packet cannon.
//
// Why: an indirect-ping request (memberlist indirectPingReq) names any target address, and the
// receiver pings it — memberlist 0.2.2 relays every request it gets, so one unauthenticated
// sender can make every agent of an unencrypted cluster send pings wherever it likes, from
// trusted source addresses. A legitimate requester needs little: it probes one node per probe
// interval and, when the direct ping fails, asks `indirectChecks` *different* peers once each
// (SWIM §4.2), so one peer relays for one requester at most about once per probe interval.
// The limits below leave several times that headroom, so healthy clusters never meet them.

export interface TokenBucketLimits {
  /** Tokens the bucket holds when full: the largest burst let through at once. */
  readonly burst: number;
  /** Tokens added per second. */
  readonly perSecond: number;
}

export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(private readonly limits: TokenBucketLimits, nowMs: number) {
    if (!(limits.burst >= 1) || !(limits.perSecond > 0)) throw new RangeError(`token bucket needs burst >= 1 and perSecond > 0, got ${limits.burst}, ${limits.perSecond}`);
    this.tokens = limits.burst;
    this.lastMs = nowMs;
  }

  private refill(nowMs: number): void {
    if (nowMs > this.lastMs) {
      this.tokens = Math.min(this.limits.burst, this.tokens + ((nowMs - this.lastMs) * this.limits.perSecond) / 1000);
      this.lastMs = nowMs;
    }
  }

  /** True (and one token spent) if a token is available now. */
  tryTake(nowMs: number): boolean {
    this.refill(nowMs);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Gives back a token taken by tryTake (when a later check refused the same request). */
  giveBack(): void {
    this.tokens = Math.min(this.limits.burst, this.tokens + 1);
  }

}

export interface RelayLimits {
  /** Per requester (the UDP source address the request came from, not what it claims). */
  readonly perSource: TokenBucketLimits;
  /** For all requesters together: bounds what spoofed or rotating sources can get out of us. */
  readonly global: TokenBucketLimits;
  /** Most requesters tracked at once; past it the oldest are forgotten. */
  readonly maxSources: number;
}

/**
 * Defaults: a requester may ask 2 relays per second (burst 4) — about twice the most a healthy
 * peer asks of one relay (one request per probe interval of 1 s in the LAN profile) — and the
 * node relays at most 20 per second overall (burst 40). A relay sends one ping (~60 bytes) and
 * perhaps a nack, so the worst an outsider gets out of one node is ~20 small pings a second
 * toward a target it chose, instead of one per packet it sends.
 */
export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  perSource: { burst: 4, perSecond: 2 },
  global: { burst: 40, perSecond: 20 },
  maxSources: 4096,
};

export type RelayVerdict = 'ok' | 'source' | 'global';

export class RelayLimiter {
  private readonly sources = new Map<string, TokenBucket>();
  private readonly global: TokenBucket;

  constructor(private readonly limits: RelayLimits, nowMs: number) {
    if (!(limits.maxSources >= 1)) throw new RangeError(`maxSources must be at least 1, got ${limits.maxSources}`);
    this.global = new TokenBucket(limits.global, nowMs);
  }

  /** May a relay for `sourceKey` go out now? Spends a token from both buckets when it may. */
  allow(sourceKey: string, nowMs: number): RelayVerdict {
    let bucket = this.sources.get(sourceKey);
    if (bucket === undefined) {
      this.makeRoom();
      bucket = new TokenBucket(this.limits.perSource, nowMs);
      this.sources.set(sourceKey, bucket);
    }
    if (!bucket.tryTake(nowMs)) return 'source';
    if (!this.global.tryTake(nowMs)) {
      bucket.giveBack();
      return 'global';
    }
    return 'ok';
  }

  /** How many requesters are tracked (for tests: the map stays bounded). */
  get trackedSources(): number {
    return this.sources.size;
  }

  private makeRoom(): void {
    if (this.sources.size < this.limits.maxSources) return;
    // Forgetting a source only ever gives it a fresh (full) bucket, so eviction can make the
    // limiter more lenient toward that source but never stricter; the global bucket still holds.
    // The oldest quarter goes at once, so a flood of new sources costs amortised O(1) each.
    let drop = Math.max(1, this.limits.maxSources >> 2);
    for (const key of this.sources.keys()) {
      if (drop-- <= 0) break;
      this.sources.delete(key);
    }
  }
}
