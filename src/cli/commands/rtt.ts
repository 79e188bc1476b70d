// `shoal rtt`: serf 0.9.4 cmd/serf/command/rtt.go: the RTT estimate between two nodes from their
// Vivaldi coordinates (get-coordinate), computed as Serf's Coordinate.DistanceTo.
import type { Command } from 'commander';
import { distanceNs, durationSeconds, DimensionalityConflictError } from '../../cluster/coordinate.js';
import type { RpcClient } from '../rpc-client.js';
import { ClientCommand, CommandError, connectAgent, output, runCommand, withRpcFlags, type RpcFlags } from './common.js';

const EXAMPLES = `
Node names are as \`shoal members\` shows them, not addresses. With one name,
the other is the agent's own node.

Examples:
  shoal rtt web-2
  shoal rtt web-1 web-2
`;

export function registerRtt(program: Command): void {
  const cmd = new ClientCommand('rtt')
    .summary('estimate the network round trip time between nodes')
    .description("Estimates the round trip time between two nodes using the cluster's network coordinates.")
    .argument('[node...]', 'one or two node names')
    .addHelpText('after', EXAMPLES)
    .action((nodes: string[], flags: RpcFlags, self: Command) =>
      runCommand(self, async () => {
        const client = await connectAgent(flags);
        try {
          const names = [...nodes];
          if (names.length === 1) {
            const stats = await client.request('stats');
            if (stats.error !== '') throw new CommandError(`Error querying agent: ${stats.error}`);
            names.push(stats.body?.get('agent')?.get('name') ?? '');
          } else if (names.length !== 2) {
            throw new CommandError('One or two node names must be specified', [], true);
          }
          const [a, b] = [names[0] as string, names[1] as string];
          const ca = await coordinateOf(client, a);
          const cb = await coordinateOf(client, b);
          let ns: number;
          try {
            ns = distanceNs(ca, cb);
          } catch (err) {
            if (err instanceof DimensionalityConflictError) throw new CommandError(`Error: the coordinates of ${a} and ${b} have different dimensions`);
            throw err;
          }
          output(`Estimated ${a} <-> ${b} rtt: ${(durationSeconds(ns) * 1000.0).toFixed(3)} ms`);
          return 0;
        } finally {
          client.close();
        }
      }),
    );
  program.addCommand(withRpcFlags(cmd));
}

async function coordinateOf(client: RpcClient, node: string): Promise<{ vec: number[]; error: number; adjustment: number; height: number }> {
  const reply = await client.request('get-coordinate', { Node: node });
  if (reply.error !== '') throw new CommandError(`Error getting coordinates: ${reply.error}`);
  if (reply.body === null || !reply.body.Ok) throw new CommandError(`Could not find a coordinate for node ${JSON.stringify(node)}`);
  const c = reply.body.Coord;
  return { vec: c.Vec ?? [], error: c.Error, adjustment: c.Adjustment, height: c.Height };
}
