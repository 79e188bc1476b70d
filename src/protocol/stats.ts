// Counters the core keeps about itself; the runtime exports them as metrics and the simulator
// reads them for its reports.

export class MemberlistStats {
  packetsSent = 0;
  packetsReceived = 0;
  bytesSent = 0;
  bytesReceived = 0;
  malformedPackets = 0;
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
