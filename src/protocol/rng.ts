// Randomness comes in from outside (the sans-IO rule): the simulator passes a seeded generator so
// a run replays bit for bit; the runtime seeds one from the OS. sfc32 is small, fast and good
// enough for protocol choices (it is not used for keys or nonces in production).

export interface Rng {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). n must be a positive integer. */
  int(n: number): number;
  /** Fills `out` with random bytes and returns it. */
  bytes(out: Uint8Array): Uint8Array;
}

export class SeededRng implements Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seeds from up to four 32-bit words; one number is enough. */
  constructor(seed: number, seed2 = 0x9e3779b9, seed3 = 0x243f6a88, seed4 = 0xb7e15162) {
    this.a = seed >>> 0;
    this.b = seed2 >>> 0;
    this.c = seed3 >>> 0;
    this.d = seed4 >>> 0;
    // Mix the state so nearby seeds give unrelated streams.
    for (let i = 0; i < 15; i++) this.nextU32();
  }

  nextU32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t;
  }

  next(): number {
    return this.nextU32() / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  bytes(out: Uint8Array): Uint8Array {
    for (let i = 0; i < out.length; i += 4) {
      let v = this.nextU32();
      for (let j = i; j < Math.min(i + 4, out.length); j++) {
        out[j] = v & 0xff;
        v >>>= 8;
      }
    }
    return out;
  }

  /** A new generator derived from this one, for a sub-component that must not disturb this stream. */
  fork(): SeededRng {
    return new SeededRng(this.nextU32(), this.nextU32(), this.nextU32(), this.nextU32());
  }
}
