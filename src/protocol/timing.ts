// memberlist's scaling formulas (reference §6.5, §6.9, §6.10), as pure functions of the cluster
// size so they can be table-tested against memberlist's own values.

/**
 * Suspicion timeout floor: SuspicionMult × max(1, log10(max(1, n))) × ProbeInterval.
 * memberlist (util.go suspicionTimeout) truncates the node scale to 1/1000 before multiplying;
 * so do we. Note log10(n), not log10(n+1).
 */
export function suspicionTimeoutMs(suspicionMult: number, n: number, probeIntervalMs: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return (suspicionMult * Math.floor(nodeScale * 1000) * probeIntervalMs) / 1000;
}

/**
 * Lifeguard §IV-B as memberlist implements it (suspicion.go remainingSuspicionTime): the
 * timeout decays from max towards min as log(c+1)/log(k+1) with c confirmations out of k
 * expected, floored to whole milliseconds, never below min, minus the time already elapsed.
 */
export function remainingSuspicionMs(confirmations: number, k: number, elapsedMs: number, minMs: number, maxMs: number): number {
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  const raw = goSeconds(maxMs) - frac * (goSeconds(maxMs) - goSeconds(minMs));
  let timeout = Math.floor(1000 * raw);
  if (timeout < minMs) timeout = minMs;
  return timeout - elapsedMs;
}

/**
 * Go's Duration.Seconds(): whole seconds plus the nanosecond remainder / 1e9. Dividing the
 * milliseconds by 1000 rounds differently by a hair, and floor(1000 × raw) can then land 1 ms
 * away from memberlist when the exact answer is a whole millisecond.
 */
function goSeconds(ms: number): number {
  return Math.trunc(ms / 1000) + ((ms % 1000) * 1e6) / 1e9;
}

/** How many times a broadcast is sent: RetransmitMult × ceil(log10(n + 1)) (util.go retransmitLimit). */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/** Clusters above this size push/pull less often (memberlist pushPullScaleThreshold). */
export const PUSH_PULL_SCALE_THRESHOLD = 32;

/** interval × (ceil(log2 n − log2 32) + 1) above 32 nodes (util.go pushPullScale). */
export function pushPullScaleMs(intervalMs: number, n: number): number {
  if (n <= PUSH_PULL_SCALE_THRESHOLD) return intervalMs;
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1;
  return multiplier * intervalMs;
}

/**
 * Suspicion bounds for a node count: [min, max] and k, the independent confirmations that
 * shorten it (state.go suspectNode: k = SuspicionMult − 2, or 0 when n − 2 < k).
 */
export function suspicionBounds(suspicionMult: number, suspicionMaxTimeoutMult: number, n: number, probeIntervalMs: number): { minMs: number; maxMs: number; k: number } {
  let k = suspicionMult - 2;
  if (n - 2 < k) k = 0;
  const minMs = suspicionTimeoutMs(suspicionMult, n, probeIntervalMs);
  return { minMs, maxMs: suspicionMaxTimeoutMult * minMs, k };
}
