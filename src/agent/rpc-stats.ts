// The `stats` answer (agent.go Stats, serf.go Stats, util.go runtimeStats): sections of text
// values, which `serf info` prints sorted. The runtime section describes Node, under Go's keys.
import { availableParallelism, cpus } from 'node:os';
import { MemberStatus } from '../cluster/member.js';
import type { Agent } from './agent.js';
import { dropStats, droppedElsewhere } from './drop-stats.js';
import type { RpcRefusals } from './rpc-server.js';

/** Go's GOARCH names for Node's process.arch values. */
const GO_ARCH: Readonly<Record<string, string>> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

export function agentStats(agent: Agent, rpcRefusals?: RpcRefusals): Map<string, Map<string, string>> {
  const serf = agent.serf;
  const local = serf.localMember();
  const members = serf.members();
  const count = (status: MemberStatus): string => String(members.filter((m) => m.status === status).length);
  const serfStats = new Map<string, string>([
    ['members', String(members.length)],
    ['failed', count(MemberStatus.failed)],
    ['left', count(MemberStatus.left)],
    ['health_score', String(serf.memberlist.healthScore())],
    ['member_time', String(serf.clock.time())],
    ['event_time', String(serf.eventClock.time())],
    ['query_time', String(serf.queryClock.time())],
    ['intent_queue', String(serf.intentQueue.size)],
    ['event_queue', String(serf.eventQueue.size)],
    ['query_queue', String(serf.queryQueue.size)],
    ['encrypted', String(agent.keyring !== undefined)],
  ]);
  const runtime = new Map<string, string>([
    ['os', process.platform],
    ['arch', GO_ARCH[process.arch] ?? process.arch],
    ['version', `node${process.version}`],
    ['max_procs', String(availableParallelism())],
    ['cpu_count', String(cpus().length)],
    // Not in Serf (Go's runtime section has goroutines instead): for soak runs and operators.
    ['heap_used_bytes', String(process.memoryUsage().heapUsed)],
  ]);
  return new Map([
    ['agent', new Map([['name', local.name]])],
    ['runtime', runtime],
    ['serf', serfStats],
    ['tags', new Map(local.tags)],
    // A shoal agent runs no event scripts of its own.
    ['event_handlers', new Map<string, string>()],
    ['drops', dropStats(serf.memberlist.stats, agent.transport.counters, rpcRefusals, droppedElsewhere(agent))],
  ]);
}
