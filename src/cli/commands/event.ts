// `shoal event`: serf 0.9.4 cmd/serf/command/event.go.
import { Option, type Command } from 'commander';
import { ClientCommand, CommandError, connectAgent, output, runCommand, withRpcFlags, type RpcFlags } from './common.js';

interface EventFlags extends RpcFlags {
  readonly coalesce: boolean;
}

const EXAMPLES = `
Examples:
  shoal event deploy
  shoal event deploy v1.2.3
  shoal event -coalesce=false restart web
`;

export function registerEvent(program: Command): void {
  const cmd = new ClientCommand('event')
    .summary('send a custom event through the cluster')
    .description('Dispatches a custom (user) event across the cluster.')
    .argument('[name-and-payload...]', 'the event name, then an optional payload')
    .addOption(new Option('--coalesce', 'let repeated events of this name within a short time coalesce into the last one (-coalesce=false to not)').default(true))
    .addOption(new Option('--no-coalesce').hideHelp())
    .addHelpText('after', EXAMPLES)
    .action((args: string[], flags: EventFlags, self: Command) =>
      runCommand(self, async () => {
        if (args.length < 1) throw new CommandError('An event name must be specified.', [], true);
        if (args.length > 2) throw new CommandError('Too many command line arguments. Only a name and payload must be specified.', [], true);
        const name = args[0] as string;
        const payload = args.length === 2 ? new Uint8Array(Buffer.from(args[1] as string)) : null;
        const client = await connectAgent(flags);
        try {
          const reply = await client.request('event', { Name: name, Payload: payload, Coalesce: flags.coalesce });
          if (reply.error !== '') throw new CommandError(`Error sending event: ${reply.error}`);
          output(`Event '${name}' dispatched! Coalescing enabled: ${flags.coalesce}`);
          return 0;
        } finally {
          client.close();
        }
      }),
    );
  program.addCommand(withRpcFlags(cmd));
}
