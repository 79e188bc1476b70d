// Anti-entropy summaries: the catalog's (node, version) pairs hashed into SUMMARY_BUCKETS buckets
// by node name, each bucket the XOR of its pairs' hashes (order-free, so two nodes holding the
// same entries compute the same summary). Comparing 64 hashes costs ~300 bytes whatever the
// cluster size; only buckets that differ are then exchanged in full (a one-level Merkle tree).
import { SUMMARY_BUCKETS } from './codec.js';

/** FNV-1a, 32 bits, over the UTF-16 code units (stable across nodes, which is all it needs). */
function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export function bucketOf(node: string): number {
  return fnv1a(node) % SUMMARY_BUCKETS;
}

/** murmur3's fmix32: every input bit flips each output bit with probability about 1/2. */
function fmix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A (node, version) pair's hash. It must avalanche: buckets XOR their pairs, so if one version
 * bump changed a pair's hash by a pattern that depends on little but the bump, two nodes of one
 * bucket bumped alike would cancel out — an observer missing both updates would compute the
 * same bucket hash as its peers, and anti-entropy would never repair it. FNV-1a over the
 * decimal version did exactly that (a +1 bump of "…01" to "…02" flips the same few bits for
 * most nodes): at 1,000 nodes all registering at once, 9 nodes stayed without 2 entries each
 * for good. Both 32-bit halves of the version go through fmix32 with the node's hash.
 */
export function pairHash(node: string, version: number): number {
  const low = version >>> 0;
  const high = Math.floor(version / 0x1_0000_0000) >>> 0;
  return fmix32(fmix32(fnv1a(node) ^ low) ^ Math.imul(high ^ 0x9e3779b9, 0x27d4eb2f));
}

export function summarize(versions: ReadonlyMap<string, number>): number[] {
  const out = new Array<number>(SUMMARY_BUCKETS).fill(0);
  for (const [node, version] of versions) {
    const b = bucketOf(node);
    out[b] = ((out[b] as number) ^ pairHash(node, version)) >>> 0;
  }
  return out;
}

/** Buckets whose hashes differ. */
export function differingBuckets(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < SUMMARY_BUCKETS; i++) if (a[i] !== b[i]) out.push(i);
  return out;
}
