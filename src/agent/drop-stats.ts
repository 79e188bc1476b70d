// The `drops` section of the agent's stats (`shoal info`): everything refused on the way in —
// undecryptable, oversized, too deeply nested or malformed packets, streams and RPC requests,
// and indirect-ping relays over the rate limit. Not in Serf; its `info` prints any section.
import type { MemberlistStats } from '../protocol/stats.js';
import type { Transport } from '../runtime/transport.js';
import type { RpcRefusals } from './rpc-server.js';

/** Counters of refusals that other servers of an agent (HTTP API, DNS) add to its `drops`. */
export type DropSource = () => readonly (readonly [string, number])[];

const sources = new WeakMap<object, DropSource[]>();

/** Adds a server's refusal counters to the `drops` section of `agent`'s stats. */
export function addDropSource(agent: object, source: DropSource): void {
  const list = sources.get(agent) ?? [];
  list.push(source);
  sources.set(agent, list);
}

/** The refusal counters every added source of `agent` reports now. */
export function droppedElsewhere(agent: object): [string, number][] {
  return (sources.get(agent) ?? []).flatMap((source) => source().map(([k, v]): [string, number] => [k, v]));
}

export function dropStats(memberlist: MemberlistStats, transport: Transport['counters'], rpc: RpcRefusals | undefined, elsewhere: readonly [string, number][] = []): Map<string, string> {
  const entries: [string, number][] = [
    ['udp_malformed', memberlist.malformedPackets],
    ['udp_undecryptable', memberlist.packetsUndecryptable],
    ['udp_oversized', memberlist.packetsOversized],
    ['udp_too_deep', memberlist.packetsTooDeep],
    ['indirect_ping_refused', memberlist.indirectPingsRefused],
    ['tcp_refused', transport.tcpRefused],
    ['tcp_oversized', transport.tcpOversized],
    ['tcp_malformed', transport.tcpMalformed],
    ['engine_errors', transport.engineErrors],
  ];
  if (rpc !== undefined) {
    entries.push(
      ['rpc_before_handshake', rpc.beforeHandshake],
      ['rpc_before_auth', rpc.beforeAuth],
      ['rpc_bad_auth', rpc.badAuth],
      ['rpc_malformed', rpc.malformed],
      ['rpc_oversized', rpc.oversized],
      ['rpc_too_deep', rpc.tooDeep],
      ['rpc_unknown_command', rpc.unknownCommand],
      ['rpc_refused_connections', rpc.connections],
    );
  }
  entries.push(...elsewhere);
  return new Map(entries.map(([k, v]) => [k, String(v)]));
}
