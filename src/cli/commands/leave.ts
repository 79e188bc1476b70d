// `shoal leave`: serf 0.9.4 cmd/serf/command/leave.go. The agent answers, then leaves and shuts down.
import type { Command } from 'commander';
import { ClientCommand, CommandError, connectAgent, output, runCommand, withRpcFlags, type RpcFlags } from './common.js';

const EXAMPLES = `
Examples:
  shoal leave
  shoal leave -rpc-addr=127.0.0.1:7373
`;

export function registerLeave(program: Command): void {
  const cmd = new ClientCommand('leave')
    .summary('gracefully leave the cluster and shut the agent down')
    .description('Causes the agent to gracefully leave the cluster and shut down.')
    .addHelpText('after', EXAMPLES)
    .action((flags: RpcFlags, self: Command) =>
      runCommand(self, async () => {
        const client = await connectAgent(flags);
        try {
          const reply = await client.request('leave');
          if (reply.error !== '') throw new CommandError(`Error leaving: ${reply.error}`);
          output('Graceful leave complete');
          return 0;
        } finally {
          client.close();
        }
      }),
    );
  program.addCommand(withRpcFlags(cmd));
}
