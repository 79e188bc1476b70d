// Counters the core keeps about itself; the runtime exports them as metrics and the simulator
// reads them for its reports.

export class MemberlistStats {
  packetsSent = 0;
  packetsReceived = 0;
  bytesSent = 0;
  bytesReceived = 0;
  /** Every packet dropped undecoded (the sum of the reasons below and any other malformation). */
  malformedPackets = 0;
  /** Dropped: no installed key decrypts it, or plaintext in an encrypted cluster (never acted on). */
  packetsUndecryptable = 0;
  /** Dropped: over the size limit, or expanding past it when decompressed (before it costs memory). */
  packetsOversized = 0;
  /** Dropped: wrappers or msgpack values nested past the limit. */
  packetsTooDeep = 0;
  /** Indirect-ping requests not relayed: the requester's or the node's relay budget was spent (rate-limit.ts). */
  indirectPingsRefused = 0;
  gossipPackets = 0;
  probes = 0;
  indirectProbes = 0;
  failedProbes = 0;
  suspicionsStarted = 0;
  declaredDead = 0;
  refutations = 0;
  conflicts = 0;
  nodesReaped = 0;
  pushPulls = 0;
  streamsOpened = 0;
  streamsAccepted = 0;
}
