// `shoal join`: serf 0.9.4 cmd/serf/command/join.go.
import { Option, type Command } from 'commander';
import { ClientCommand, CommandError, connectAgent, output, runCommand, withRpcFlags, type RpcFlags } from './common.js';

interface JoinFlags extends RpcFlags {
  readonly replay?: boolean;
}

const EXAMPLES = `
Examples:
  shoal join 10.0.0.7
  shoal join -replay 10.0.0.7:7946 10.0.0.8:7946
`;

export function registerJoin(program: Command): void {
  const cmd = new ClientCommand('join')
    .summary('tell the agent to join a cluster')
    .description('Tells a running agent to join the cluster by contacting at least one existing member.')
    .argument('[address...]', 'addresses of existing members (host or host:port)')
    .addOption(new Option('--replay', 'replay past user events'))
    .addHelpText('after', EXAMPLES)
    .action((addrs: string[], flags: JoinFlags, self: Command) =>
      runCommand(self, async () => {
        if (addrs.length === 0) throw new CommandError('At least one address to join must be specified.', [], true);
        const client = await connectAgent(flags);
        try {
          const reply = await client.request('join', { Existing: addrs, Replay: flags.replay === true });
          if (reply.error !== '') throw new CommandError(`Error joining the cluster: ${reply.error}`);
          output(`Successfully joined cluster by contacting ${reply.body?.Num ?? 0} nodes.`);
          return 0;
        } finally {
          client.close();
        }
      }),
    );
  program.addCommand(withRpcFlags(cmd));
}
