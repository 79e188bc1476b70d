// `shoal force-leave`: serf 0.9.4 cmd/serf/command/force_leave.go. Prints nothing on success.
import { Option, type Command } from 'commander';
import { ClientCommand, CommandError, connectAgent, runCommand, withRpcFlags, type RpcFlags } from './common.js';

interface ForceLeaveFlags extends RpcFlags {
  readonly prune?: boolean;
}

const EXAMPLES = `
A member that is still alive will rejoin; this is for cleaning out failed
members that are never coming back.

Examples:
  shoal force-leave web-3
  shoal force-leave -prune web-3
`;

export function registerForceLeave(program: Command): void {
  const cmd = new ClientCommand('force-leave')
    .summary('force a member of the cluster into the "left" state')
    .description('Forces a member of the cluster to enter the "left" state.')
    .argument('[name...]', 'the member\'s node name')
    .addOption(new Option('--prune', 'remove the member from the member list at once'))
    .addHelpText('after', EXAMPLES)
    .action((nodes: string[], flags: ForceLeaveFlags, self: Command) =>
      runCommand(self, async () => {
        if (nodes.length !== 1) throw new CommandError('A node name must be specified to force leave.', [], true);
        const client = await connectAgent(flags);
        try {
          const reply = await client.request('force-leave', { Node: nodes[0] as string, Prune: flags.prune === true });
          if (reply.error !== '') throw new CommandError(`Error force leaving: ${reply.error}`);
          return 0;
        } finally {
          client.close();
        }
      }),
    );
  program.addCommand(withRpcFlags(cmd));
}
