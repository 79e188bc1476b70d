// `shoal members`: serf 0.9.4 cmd/serf/command/members.go. Filters are regular expressions the
// agent anchors (members-filtered); text output is one columnized line per member, JSON the
// MemberContainer struct.
import { Option, type Command } from 'commander';
import type { RpcMember } from '../../wire/rpc-schemas.js';
import {
  ClientCommand, columnize, CommandError, compareGo, connectAgent, formatOutput, goHostPort, output, repeatable, runCommand, sortedObject, unmarshalTags,
  withRpcFlags, type RpcFlags,
} from './common.js';

interface MembersFlags extends RpcFlags {
  readonly detailed?: boolean;
  readonly role?: string;
  readonly status: string;
  readonly format: string;
  readonly tag?: string[];
  readonly name: string;
}

const EXAMPLES = `
Filters are regular expressions anchored at both ends (a full match).

Examples:
  shoal members
  shoal members -status=alive -tag role=web -format=json
  shoal members -name='web-.*' -detailed -rpc-addr=10.0.0.5:7373
`;

export function registerMembers(program: Command): void {
  const cmd = new ClientCommand('members')
    .summary('list the members of the cluster')
    .description('Outputs the members of a running agent.')
    .addOption(new Option('--detailed', 'also show protocol versions (text output only)'))
    .addOption(new Option('--format <format>', "output format: 'text' or 'json'").default('text'))
    .addOption(new Option('--name <regexp>', 'only members whose name matches').default(''))
    .addOption(new Option('--role <regexp>', "deprecated: same as -tag role=<regexp>").hideHelp())
    .addOption(new Option('--status <regexp>', 'only members whose status matches').default(''))
    .addOption(repeatable('--tag <key=regexp>', 'only members with tag <key> matching <regexp>; repeatable'))
    .addHelpText('after', EXAMPLES)
    .action((flags: MembersFlags, self: Command) =>
      runCommand(self, async () => {
        const tagPairs = [...(flags.tag ?? [])];
        if (flags.role !== undefined && flags.role !== '') {
          output("Deprecation warning: 'Role' has been replaced with 'Tags'");
          tagPairs.push(`role=${flags.role}`);
        }
        const tags = unmarshalTags(tagPairs);
        const client = await connectAgent(flags);
        try {
          const reply = await client.request('members-filtered', { Tags: tags, Status: flags.status, Name: flags.name });
          if (reply.error !== '') throw new CommandError(`Error retrieving members: ${reply.error}`);
          const members = reply.body?.Members ?? null;
          output(formatOutput(flags.format, () => membersJson(members), () => membersText(members ?? [], flags.detailed === true)));
          return 0;
        } finally {
          client.close();
        }
      }),
    );
  program.addCommand(withRpcFlags(cmd));
}

/** The JSON of MemberContainer: Members is nil (null) when nothing matched; Proto is a Go map, so sorted. */
function membersJson(members: readonly RpcMember[] | null): unknown {
  return {
    members: members === null || members.length === 0 ? null : members.map((m) => ({
      name: m.Name,
      addr: goHostPort(m.Addr, m.Port),
      port: m.Port,
      tags: sortedObject(m.Tags),
      status: m.Status,
      protocol: { max: m.DelegateMax, min: m.DelegateMin, version: m.DelegateCur },
    })),
  };
}

/**
 * MemberContainer.String. Serf joins the tags in Go's random map order; shoal sorts them, which
 * is one of the orders Serf may print.
 */
function membersText(members: readonly RpcMember[], detailed: boolean): string {
  return columnize(members.map((m) => {
    const tags = [...(m.Tags ?? new Map<string, string>())].sort(([a], [b]) => compareGo(a, b)).map(([k, v]) => `${k}=${v}`);
    let line = `${m.Name}|${goHostPort(m.Addr, m.Port)}|${m.Status}|${tags.join(',')}`;
    if (detailed) line += `|Protocol Version: ${m.DelegateCur}|Available Protocol Range: [${m.DelegateMin}, ${m.DelegateMax}]`;
    return line;
  }));
}
