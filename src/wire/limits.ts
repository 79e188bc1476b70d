// Limits that keep hostile or broken input from costing unbounded memory or time.
// Every decoder takes them; the defaults follow what Go's memberlist accepts.

export interface WireLimits {
  /** Largest UDP datagram accepted. Go reads into a 65,536-byte buffer (reference §4.5). */
  readonly maxPacketBytes: number;
  /** The most one LZW buffer may expand to in a UDP packet (decompression-bomb guard). */
  readonly maxDecompressedPacketBytes: number;
  /** The most one TCP stream message may take, compressed or expanded. memberlist caps encrypted state at 20 MiB. */
  readonly maxStreamBytes: number;
  /** How many wrappers (compress, compound) may nest inside each other. */
  readonly maxNesting: number;
  /** Most node states one push/pull may announce (Go allocates Nodes entries up front; we refuse instead). */
  readonly maxPushPullNodes: number;
}

export const DEFAULT_LIMITS: WireLimits = {
  maxPacketBytes: 65_536,
  maxDecompressedPacketBytes: 1 << 20,
  maxStreamBytes: 20 * 1024 * 1024,
  maxNesting: 4,
  maxPushPullNodes: 100_000,
};

/** The sender's budget for a whole UDP packet, including piggybacked broadcasts (memberlist UDPBufferSize). */
export const UDP_PACKET_BUDGET = 1400;

/** memberlist writes the compound part count in one byte; we stay at 127 parts so no reader can misread it as signed. */
export const MAX_COMPOUND_PARTS = 127;

/** Compound framing: type byte + count byte, then a u16 length per part (memberlist compoundHeaderOverhead/compoundOverhead). */
export const COMPOUND_HEADER_OVERHEAD = 2;
export const COMPOUND_PART_OVERHEAD = 2;

export function withLimits(partial: Partial<WireLimits> | undefined): WireLimits {
  return partial === undefined ? DEFAULT_LIMITS : { ...DEFAULT_LIMITS, ...partial };
}
