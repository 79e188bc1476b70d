// Serf's Lamport clocks (lamport.go): uint64 times, kept as BigInt so they never lose precision.

export class LamportClock {
  private counter = 0n;

  time(): bigint {
    return this.counter;
  }

  /** Advances the clock and returns the new time. */
  increment(): bigint {
    this.counter++;
    return this.counter;
  }

  /**
   * Moves past a time seen elsewhere: if t is not behind us, the clock becomes t + 1, so
   * witnessing an equal value still advances it (Serf lamport.go Witness).
   */
  witness(t: bigint): void {
    if (t < this.counter) return;
    this.counter = t + 1n;
  }
}
