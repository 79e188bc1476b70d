// Lifeguard's local health multiplier (Lifeguard §IV-A, memberlist awareness.go): a score in
// [0, max−1] that grows when our own probes fail without nacks or when we must refute, and
// shrinks on success. It stretches the probe interval so a struggling node accuses less.

export class Awareness {
  private score = 0;

  constructor(private readonly max: number) {}

  applyDelta(delta: number): void {
    this.score = Math.min(Math.max(this.score + delta, 0), this.max - 1);
  }

  getHealthScore(): number {
    return this.score;
  }

  scaleTimeout(timeoutMs: number): number {
    return timeoutMs * (this.score + 1);
  }
}
