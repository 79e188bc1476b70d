// `shoal info`: serf 0.9.4 cmd/serf/command/info.go: the agent's stats, sections and keys sorted.
import { Option, type Command } from 'commander';
import type { StatsResponse } from '../../wire/rpc-schemas.js';
import {
  ClientCommand, CommandError, compareGo, connectAgent, formatOutput, output, runCommand, sortedObject, withRpcFlags, type RpcFlags,
} from './common.js';

interface InfoFlags extends RpcFlags {
  readonly format: string;
}

const EXAMPLES = `
Examples:
  shoal info
  shoal info -format=json
`;

export function registerInfo(program: Command): void {
  const cmd = new ClientCommand('info')
    .summary('show debugging information for operators')
    .description('Provides debugging information for operators: the agent, runtime, serf, tags and event handler sections.')
    .addOption(new Option('--format <format>', "output format: 'text' or 'json'").default('text'))
    .addHelpText('after', EXAMPLES)
    .action((flags: InfoFlags, self: Command) =>
      runCommand(self, async () => {
        const client = await connectAgent(flags);
        try {
          const reply = await client.request('stats');
          if (reply.error !== '') throw new CommandError(`Error querying agent: ${reply.error}`);
          const stats = reply.body ?? null;
          output(formatOutput(flags.format, () => statsJson(stats), () => statsText(stats)));
          return 0;
        } finally {
          client.close();
        }
      }),
    );
  program.addCommand(withRpcFlags(cmd));
}

function statsJson(stats: StatsResponse): unknown {
  if (stats === null) return null;
  const sections = new Map([...stats].map(([k, v]) => [k, sortedObject(v)]));
  return sortedObject(sections);
}

/** StatsContainer.String. */
function statsText(stats: StatsResponse): string {
  let out = '';
  for (const key of [...(stats?.keys() ?? [])].sort(compareGo)) {
    out += `${key}:\n`;
    const section = stats?.get(key) ?? new Map<string, string>();
    for (const sub of [...section.keys()].sort(compareGo)) out += `\t${sub} = ${section.get(sub) ?? ''}\n`;
  }
  return out;
}
