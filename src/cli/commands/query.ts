// `shoal query`: serf 0.9.4 cmd/serf/command/query.go. Text output streams acks and responses as
// they arrive; JSON gathers them and prints {Acks, Responses} when the query is done.
import { Option, type Command } from 'commander';
import type { RpcRecord } from '../../wire/rpc-schemas.js';
import {
  ClientCommand, CommandError, connectAgent, goJson, output, parseGoDuration, repeatable, runCommand, sortedObject, unmarshalTags,
  withRpcFlags, type RpcFlags,
} from './common.js';

interface QueryFlags extends RpcFlags {
  readonly node?: string[];
  readonly tag?: string[];
  readonly timeout: string;
  readonly noAck?: boolean;
  readonly format: string;
  readonly relayFactor: string;
}

const EXAMPLES = `
Without -timeout the agent picks its default (from the cluster size).

Examples:
  shoal query uptime
  shoal query -tag role=web -timeout=5s load
  shoal query -node=web-1 -node=web-2 -no-ack -format=json version
`;

export function registerQuery(program: Command): void {
  const cmd = new ClientCommand('query')
    .summary('send a query to the cluster and print the acks and responses')
    .description('Dispatches a query to the cluster and waits for the acknowledgements and responses.')
    .argument('[name-and-payload...]', 'the query name, then an optional payload')
    .addOption(new Option('--format <format>', "output format: 'text' or 'json'").default('text'))
    .addOption(repeatable('--node <name>', 'only ask this node; repeatable'))
    .addOption(repeatable('--tag <key=regexp>', 'only ask nodes whose tag <key> matches <regexp>; repeatable'))
    .addOption(new Option('--timeout <duration>', 'how long to wait, as a Go duration (15s, 1m30s); 0 = the agent default').default('0'))
    .addOption(new Option('--no-ack', 'do not ask nodes to acknowledge the query'))
    .addOption(new Option('--relay-factor <n>', 'relay each response through this many extra nodes (0–255)').default('0'))
    .addHelpText('after', EXAMPLES)
    .action((args: string[], flags: QueryFlags, self: Command) =>
      runCommand(self, async () => {
        const timeout = parseGoDuration(flags.timeout, 'timeout');
        const relayFactor = parseGoInt(flags.relayFactor, 'relay-factor');
        const filterTags = unmarshalTags(flags.tag ?? []);
        if (args.length < 1) throw new CommandError('A query name must be specified.', [], true);
        if (args.length > 2) throw new CommandError('Too many command line arguments. Only a name and payload must be specified.', [], true);
        if (relayFactor > 255 || relayFactor < 0) throw new CommandError('Relay factor must be between 0 and 255');
        const name = args[0] as string;
        const payload = args.length === 2 ? new Uint8Array(Buffer.from(args[1] as string)) : null;
        // commander's --no-ack sets `ack`, not `noAck`.
        const noAck = (flags as { ack?: boolean }).ack === false;

        const client = await connectAgent(flags);
        try {
          if (flags.format !== 'text' && flags.format !== 'json') throw new CommandError(`Invalid format: ${flags.format}`);
          const json = flags.format === 'json';
          const acks: string[] = [];
          const responses = new Map<string, string>();
          let numResp = 0;
          // Records that arrive with the agent's first answer wait until "dispatched" is printed.
          let backlog: RpcRecord[] | null = [];
          const onRecord = (record: RpcRecord): void => {
            if (backlog !== null) {
              backlog.push(record);
              return;
            }
            if (record.kind !== 'query') return;
            const { Type, From, Payload } = record.value;
            if (Type === 'ack') {
              acks.push(From);
              if (!json) output(`Ack from '${From}'`);
            } else if (Type === 'response') {
              numResp++;
              const bytes = Buffer.from(Payload ?? new Uint8Array(0));
              if (json) responses.set(From, bytes.toString('utf8'));
              else {
                // Serf strips one trailing newline and writes the payload's bytes as they are.
                const body = bytes.length > 0 && bytes[bytes.length - 1] === 0x0a ? bytes.subarray(0, bytes.length - 1) : bytes;
                process.stdout.write(Buffer.concat([Buffer.from(`Response from '${From}': `), body, Buffer.from('\n')]));
              }
            }
          };
          const stream = await client.stream('query', {
            FilterNodes: flags.node ?? null,
            FilterTags: filterTags,
            RequestAck: !noAck,
            RelayFactor: relayFactor,
            Timeout: timeout,
            Name: name,
            Payload: payload,
          }, onRecord).catch((err: unknown) => {
            throw new CommandError(`Error sending query: ${err instanceof Error ? err.message : String(err)}`);
          });
          if (!json) output(`Query '${name}' dispatched`);
          const early = backlog;
          backlog = null;
          early.forEach(onRecord);
          await stream.ended;
          if (json) {
            output(goJson({ Acks: acks.length === 0 ? null : acks, Responses: sortedObject(responses) }).trim());
          } else {
            if (!noAck) output(`Total Acks: ${acks.length}`);
            output(`Total Responses: ${numResp}`);
          }
          return 0;
        } finally {
          client.close();
        }
      }),
    );
  program.addCommand(withRpcFlags(cmd));
}

/** flag.IntVar (strconv.ParseInt base 0): decimal, 0x hex, 0o or leading-0 octal, 0b binary. */
function parseGoInt(text: string, flag: string): number {
  const m = /^([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]+|[1-9][0-9]*|0)$/.exec(text);
  if (m === null) throw new CommandError(`invalid value ${JSON.stringify(text)} for flag -${flag}: parse error`);
  const digits = /^0[0-7]+$/.test(m[2] as string) ? `0o${(m[2] as string).slice(1)}` : (m[2] as string);
  const n = Number(BigInt(digits)) * (m[1] === '-' ? -1 : 1);
  if (!Number.isSafeInteger(n)) throw new CommandError(`invalid value ${JSON.stringify(text)} for flag -${flag}: value out of range`);
  return n;
}
