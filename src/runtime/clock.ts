// The real clock: monotonic milliseconds for the sans-IO core (it never reads a clock itself).
import { performance } from 'node:perf_hooks';

export function monotonicMs(): number {
  return performance.now();
}
