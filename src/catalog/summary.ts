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

function pairHash(node: string, version: number): number {
  return fnv1a(`${version}`, fnv1a(node) ^ 0x9e3779b9);
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
