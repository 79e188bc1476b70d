// `shoal reachability`: serf 0.9.4 cmd/serf/command/reachability.go: sends Serf's internal
// `_serf_ping` query with acks requested and checks that every live member acknowledged it.
import { Option, type Command } from 'commander';
import type { RpcRecord } from '../../wire/rpc-schemas.js';
import { ClientCommand, CommandError, compareGo, connectAgent, output, runCommand, withRpcFlags, type RpcFlags } from './common.js';

interface ReachabilityFlags extends RpcFlags {
  readonly verbose?: boolean;
}

const TOO_MANY_ACKS = 'This could mean Serf is detecting false-failures due to a misconfiguration or network issue.';
const TOO_FEW_ACKS = 'This could mean Serf gossip packets are being lost due to a misconfiguration or network issue.';
const DUPLICATE_RESPONSES = 'Duplicate responses means there is a misconfiguration. Verify that node names are unique.';
const TROUBLESHOOTING = `
Troubleshooting tips:
* Ensure that the bind addr:port is accessible by all other nodes
* If an advertise address is set, ensure it routes to the bind address
* Check that no nodes are behind a NAT
* If nodes are behind firewalls or iptables, check that Serf traffic is permitted (UDP and TCP)
* Verify networking equipment is functional`;

const EXAMPLES = `
Exit status 1 when a live member did not acknowledge, or a member that is not
live did.

Examples:
  shoal reachability
  shoal reachability -verbose
`;

export function registerReachability(program: Command): void {
  const cmd = new ClientCommand('reachability')
    .summary('test the network reachability of the cluster from this node')
    .description("Tests the network reachability of this node: every live member must acknowledge Serf's internal ping query.")
    .addOption(new Option('--verbose', 'list each ack and the timings'))
    .addHelpText('after', EXAMPLES)
    .action((flags: ReachabilityFlags, self: Command) =>
      runCommand(self, async () => {
        const verbose = flags.verbose === true;
        const client = await connectAgent(flags);
        try {
          const reply = await client.request('members');
          if (reply.error !== '') throw new CommandError(`Error getting members: ${reply.error}`);
          const members = reply.body?.Members ?? [];
          const live = new Set(members.filter((m) => m.Status === 'alive').map((m) => m.Name));
          output(`Total members: ${members.length}, live members: ${live.size}`);

          let exit = 0;
          let dups = false;
          let numAcks = 0;
          const acksFrom = new Set<string>();
          const start = performance.now();
          let last = start;
          // Acks that arrive with the agent's first answer wait until "Starting…" is printed.
          let backlog: RpcRecord[] | null = [];
          const onAck = (record: RpcRecord): void => {
            if (record.kind !== 'query' || record.value.Type !== 'ack') return;
            const from = record.value.From;
            if (verbose) output(`\tAck from '${from}'`);
            numAcks++;
            if (acksFrom.has(from)) {
              dups = true;
              output(`Duplicate response from '${from}'`);
            }
            acksFrom.add(from);
            last = performance.now();
          };
          const stream = await client.stream('query', {
            FilterNodes: null, FilterTags: null, RequestAck: true, RelayFactor: 0, Timeout: 0n, Name: '_serf_ping', Payload: null,
          }, (record) => {
            if (backlog !== null) backlog.push(record);
            else onAck(record);
          }).catch((err: unknown) => {
            throw new CommandError(`Error sending query: ${err instanceof Error ? err.message : String(err)}`);
          });
          output('Starting reachability test...');
          const early = backlog;
          backlog = null;
          early.forEach(onAck);
          await stream.ended;

          if (verbose) {
            const total = (performance.now() - start) / 1000;
            output(`Query time: ${total.toFixed(2)} sec, time to last response: ${((last - start) / 1000).toFixed(2)} sec`);
          }
          if (dups) {
            output(DUPLICATE_RESPONSES);
            exit = 1;
          }
          // Serf lists the nodes in random map order; shoal sorts them.
          if (numAcks === live.size) {
            output('Successfully contacted all live nodes');
          } else if (numAcks > live.size) {
            output('Received more acks than live nodes! Acks from non-live nodes:');
            for (const m of [...acksFrom].sort(compareGo)) if (!live.has(m)) output(`\t${m}`);
            output(TOO_MANY_ACKS);
            output(TROUBLESHOOTING);
            return 1;
          } else {
            output('Received less acks than live nodes! Missing acks from:');
            for (const m of [...live].sort(compareGo)) if (!acksFrom.has(m)) output(`\t${m}`);
            output(TOO_FEW_ACKS);
            output(TROUBLESHOOTING);
            return 1;
          }
          return exit;
        } finally {
          client.close();
        }
      }),
    );
  program.addCommand(withRpcFlags(cmd));
}
