// `shoal keys`: serf 0.9.4 cmd/serf/command/keys.go: install, use, remove or list keyring keys
// across the cluster (the agent runs Serf's internal key queries). Progress lines carry the
// "==> " prefix of Serf's PrefixedUi; per-node failures are columnized before the error.
import { Option, type Command } from 'commander';
import type { KeyResponse } from '../../wire/rpc-schemas.js';
import type { RpcClient, RpcReply } from '../rpc-client.js';
import {
  ClientCommand, CommandError, columnize, compareGo, connectAgent, output, runCommand, withRpcFlags, type RpcFlags,
} from './common.js';

interface KeysFlags extends RpcFlags {
  readonly install?: string;
  readonly use?: string;
  readonly remove?: string;
  readonly list?: boolean;
}

const EXAMPLES = `
Exactly one of -install, -use, -remove or -list. The exit status is 0 only
if every member answered without error.

Examples:
  shoal keys -list
  shoal keys -install=$(shoal keygen)
  shoal keys -use=HvY8ubRZMgafUOWvrOadwOckVa1wN3QWAo46FVKbVN8=
  shoal keys -remove=22340oqL86o596XonHmP4/7RgmZRt8wgPkmlK3vybmI=
`;

function info(text: string): void {
  output(`==> ${text}`);
}

export function registerKeys(program: Command): void {
  const cmd = new ClientCommand('keys')
    .summary("manage the cluster's encryption keyring")
    .description('Manages the encryption keyring of every member of the cluster: install, use (make primary), remove or list keys.')
    .addOption(new Option('--install <key>', 'install a key on every member (used for decryption until made primary)'))
    .addOption(new Option('--use <key>', 'make an installed key the primary (encryption) key'))
    .addOption(new Option('--remove <key>', 'remove a key (not the primary one)'))
    .addOption(new Option('--list', 'list the keys installed in the cluster and on how many members'))
    .addHelpText('after', EXAMPLES)
    .action((flags: KeysFlags, self: Command) =>
      runCommand(self, async () => {
        const actions = [flags.list === true, ...[flags.install, flags.use, flags.remove].map((k) => k !== undefined && k !== '')];
        if (actions.filter(Boolean).length > 1) throw new CommandError('Only one of -install, -use, -remove, or -list allowed');
        if (!actions.some(Boolean)) throw new CommandError(self.helpInformation().trimEnd());
        const client = await connectAgent(flags);
        try {
          if (flags.list === true) {
            info('Asking all members for installed keys...');
            const reply = await request(client, 'list-keys', null);
            failIf(reply, 'Failed to gather member keys');
            info('Keys gathered, listing cluster keys...');
            output('');
            const keys = [...(reply.body?.Keys ?? new Map<string, number>())].sort(([a], [b]) => compareGo(a, b));
            output(columnize(keys.map(([key, n]) => `${key} | [${n}/${reply.body?.NumNodes ?? 0}]`)));
            return 0;
          }
          const [command, doing, done, failed] = flags.install !== undefined && flags.install !== ''
            ? (['install-key', 'Installing key on all members...', 'Successfully installed key!', 'Error installing key'] as const)
            : flags.use !== undefined && flags.use !== ''
              ? (['use-key', 'Changing primary key on all members...', 'Successfully changed primary key!', 'Error changing primary key'] as const)
              : (['remove-key', 'Removing key on all members...', 'Successfully removed key!', 'Error removing key'] as const);
          const key = (command === 'install-key' ? flags.install : command === 'use-key' ? flags.use : flags.remove) as string;
          info(doing);
          failIf(await request(client, command, key), failed);
          info(done);
          return 0;
        } finally {
          client.close();
        }
      }),
    );
  program.addCommand(withRpcFlags(cmd));
}

function request(client: RpcClient, command: 'install-key' | 'use-key' | 'remove-key' | 'list-keys', key: string | null): Promise<RpcReply<KeyResponse>> {
  return command === 'list-keys' ? client.request('list-keys') : client.request(command, { Key: key ?? '' });
}

/** On an error: "failed: | node | message" lines (sorted; Serf's order is random), a blank line, then the error. */
function failIf(reply: RpcReply<KeyResponse>, what: string): void {
  if (reply.error === '') return;
  const failures = [...(reply.body?.Messages ?? new Map<string, string>())].sort(([a], [b]) => compareGo(a, b));
  const before = failures.length > 0 ? [columnize(failures.map(([node, message]) => `failed: | ${node} | ${message}`)), ''] : [''];
  throw new CommandError(`${what}: ${reply.error}`, before);
}
