// `shoal tags`: serf 0.9.4 cmd/serf/command/tags.go.
import type { Command } from 'commander';
import {
  ClientCommand, CommandError, connectAgent, output, repeatable, runCommand, unmarshalTags, withRpcFlags, type RpcFlags,
} from './common.js';

interface TagsFlags extends RpcFlags {
  readonly set?: string[];
  readonly delete?: string[];
}

const EXAMPLES = `
Examples:
  shoal tags -set role=web -set dc=east
  shoal tags -delete role
`;

export function registerTags(program: Command): void {
  const cmd = new ClientCommand('tags')
    .summary("modify the tags of a running agent")
    .description('Modifies tags on a running agent; the change is gossiped to the cluster.')
    .addOption(repeatable('--set <key=value>', 'create or change a tag; repeatable'))
    .addOption(repeatable('--delete <key>', 'remove a tag, if present; repeatable'))
    .addHelpText('after', EXAMPLES)
    .action((flags: TagsFlags, self: Command) =>
      runCommand(self, async () => {
        if ((flags.set ?? []).length === 0 && (flags.delete ?? []).length === 0) {
          // Serf prints its help and fails when there is nothing to do.
          output(self.helpInformation().trimEnd());
          return 1;
        }
        const client = await connectAgent(flags);
        try {
          const tags = unmarshalTags(flags.set ?? []);
          const reply = await client.request('tags', { Tags: tags, DeleteTags: flags.delete ?? null });
          if (reply.error !== '') throw new CommandError(`Error setting tags: ${reply.error}`);
          output('Successfully updated agent tags');
          return 0;
        } finally {
          client.close();
        }
      }),
    );
  program.addCommand(withRpcFlags(cmd));
}
