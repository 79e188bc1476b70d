// Randomness for a real agent: protocol choices from a generator seeded by the OS, nonces
// straight from the OS (crypto.randomBytes), as the sans-IO core asks them to be injected.
import { randomBytes } from 'node:crypto';
import { SeededRng } from '../protocol/rng.js';

export function osSeededRng(): SeededRng {
  const seed = randomBytes(16);
  return new SeededRng(seed.readUInt32LE(0), seed.readUInt32LE(4), seed.readUInt32LE(8), seed.readUInt32LE(12));
}

export function osRandomBytes(n: number): Uint8Array {
  return new Uint8Array(randomBytes(n));
}
