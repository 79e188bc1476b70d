// Our push/pull state, encoded and compressed once and reused while nothing in it changed.
//
// A node sends its whole member list on every push/pull it starts and every one it answers
// (memberlist sendLocalState); with a thousand members that is ~100 KB of msgpack put through LZW
// each time, yet between two push/pulls the list rarely changes. The bytes depend only on the
// node list (order included: memberlist sends m.nodes in its shuffled order), the Join flag and
// the delegate's user state, so they are reused exactly when all three are what they were: the
// wire sees the very bytes a fresh encoding would give. Encryption is not cached (each frame
// takes a fresh nonce).
//
// Validity is checked by comparing a compact snapshot of every member field the encoding reads,
// rather than by a version counter bumped at each mutation: a comparison is O(n) with no
// allocation (microseconds, against milliseconds for an encoding) and cannot go stale when a new
// code path changes a member.
import type { NodeState } from './node-state.js';

/** Members up to this many are snapshotted; bigger lists (never seen in practice) just re-encode. */
const MAX_CACHED_NODES = 1 << 16;

export class PushPullCache {
  private nodes: NodeState[] = [];
  private incarnations = new Float64Array(0);
  /** state, and the six version bytes, packed into one integer below 2^53 per member. */
  private statesAndVersions = new Float64Array(0);
  private addrs: Uint8Array[] = [];
  private metas: Uint8Array[] = [];
  private ports = new Float64Array(0);
  private join = false;
  private userState: Uint8Array | null = null;
  private encoded: Uint8Array | null = null;
  hits = 0;
  misses = 0;

  /** The cached plain (compressed, unencrypted) encoding if it still matches, else null. */
  lookup(nodes: readonly NodeState[], join: boolean, userState: Uint8Array): Uint8Array | null {
    const encoded = this.encoded;
    if (encoded === null || join !== this.join || nodes.length !== this.nodes.length || !sameBytes(userState, this.userState)) {
      this.misses++;
      return null;
    }
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i] as NodeState;
      if (
        n !== this.nodes[i] ||
        n.incarnation !== this.incarnations[i] ||
        packStateAndVersions(n) !== this.statesAndVersions[i] ||
        n.port !== this.ports[i] ||
        !sameBytes(n.addr, this.addrs[i] ?? null) ||
        !sameBytes(n.meta, this.metas[i] ?? null)
      ) {
        this.misses++;
        return null;
      }
    }
    this.hits++;
    return encoded;
  }

  /** Remembers `encoded` as the encoding of this node list, Join flag and user state. */
  store(nodes: readonly NodeState[], join: boolean, userState: Uint8Array, encoded: Uint8Array): void {
    if (nodes.length > MAX_CACHED_NODES) {
      this.encoded = null;
      return;
    }
    const n = nodes.length;
    if (this.incarnations.length < n) {
      const size = Math.max(n, 2 * this.incarnations.length);
      this.incarnations = new Float64Array(size);
      this.statesAndVersions = new Float64Array(size);
      this.ports = new Float64Array(size);
    }
    this.nodes = nodes.slice();
    this.addrs = new Array<Uint8Array>(n);
    this.metas = new Array<Uint8Array>(n);
    for (let i = 0; i < n; i++) {
      const node = nodes[i] as NodeState;
      this.incarnations[i] = node.incarnation;
      this.statesAndVersions[i] = packStateAndVersions(node);
      this.ports[i] = node.port;
      // References, not copies (a thousand nodes × a thousand members would be millions of small
      // arrays): member byte fields are replaced, never written in place, anywhere in shoal.
      this.addrs[i] = node.addr;
      this.metas[i] = node.meta;
    }
    this.join = join;
    this.userState = userState.slice();
    this.encoded = encoded;
  }
}

function packStateAndVersions(n: NodeState): number {
  return ((((((n.state * 256 + n.pMin) * 256 + n.pMax) * 256 + n.pCur) * 256 + n.dMin) * 256 + n.dMax) * 256) + n.dCur;
}

function sameBytes(a: Uint8Array, b: Uint8Array | null): boolean {
  if (b === null || a.length !== b.length) return false;
  if (a === b) return true;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
