// `shoal monitor`: serf 0.9.4 cmd/serf/command/monitor.go: streams the agent's log lines (at the
// given level or above) and every event, until interrupted (exit 0) or the agent goes away (exit 1).
import { Option, type Command } from 'commander';
import type { RpcRecord } from '../../wire/rpc-schemas.js';
import type { RpcStream } from '../rpc-client.js';
import { ClientCommand, CommandError, compareGo, connectAgent, output, runCommand, withRpcFlags, type RpcFlags } from './common.js';

interface MonitorFlags extends RpcFlags {
  readonly logLevel: string;
}

const EXAMPLES = `
Runs until interrupted (Ctrl-C). The agent may log at INFO while the monitor
asks for DEBUG: the monitor sees the DEBUG lines too.

Examples:
  shoal monitor
  shoal monitor -log-level=debug
`;

export function registerMonitor(program: Command): void {
  const cmd = new ClientCommand('monitor')
    .summary("stream an agent's logs and events")
    .description('Shows recent log lines of an agent, then follows its log and its events as they happen.')
    .addOption(new Option('--log-level <level>', 'lowest level to show: trace, debug, info, warn, err').default('INFO'))
    .addHelpText('after', EXAMPLES)
    .action((flags: MonitorFlags, self: Command) =>
      runCommand(self, async () => {
        const client = await connectAgent(flags);
        let quitting = false;
        const interrupted = new Promise<void>((resolve) => {
          process.once('SIGINT', () => {
            quitting = true;
            resolve();
          });
        });
        try {
          const started: RpcStream[] = [];
          started.push(await client.stream('stream', { Type: '*' }, printRecord).catch((err: unknown) => {
            throw new CommandError(`Error starting stream: ${err instanceof Error ? err.message : String(err)}`);
          }));
          started.push(await client.stream('monitor', { LogLevel: flags.logLevel }, printRecord).catch((err: unknown) => {
            throw new CommandError(`Error starting monitor: ${err instanceof Error ? err.message : String(err)}`);
          }));
          await Promise.race([interrupted, client.closed()]);
          if (!quitting) {
            output('');
            output('Remote side ended the monitor! This usually means that the\nremote side has exited or crashed.');
            return 1;
          }
          await Promise.race([Promise.all(started.map((s) => client.stop(s))), new Promise((r) => setTimeout(r, 1000))]).catch(() => undefined);
          return 0;
        } finally {
          client.close();
        }
      }),
    );
  program.addCommand(withRpcFlags(cmd));
}

function printRecord(record: RpcRecord): void {
  if (record.kind === 'log') {
    output(record.value.Log);
    return;
  }
  output('Event Info:');
  const entries = Object.entries(record.value).sort(([a], [b]) => compareGo(a, b));
  for (const [key, value] of entries) output(`\t${key}: ${goSyntax(value)}`);
}

/**
 * Approximately Go's %#v of the values go-msgpack decodes into interface{} (Serf's monitor prints
 * the record as a generic map): unsigned integers in hex, byte slices as []byte{…}, maps sorted.
 */
function goSyntax(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint' || typeof value === 'number') return Number(value) >= 0 ? `0x${value.toString(16)}` : String(value);
  if (typeof value === 'boolean') return String(value);
  if (value instanceof Uint8Array) return `[]byte{${[...value].map((b) => `0x${b.toString(16)}`).join(', ')}}`;
  if (Array.isArray(value)) return `[]interface {}{${value.map(goSyntax).join(', ')}}`;
  const entries = value instanceof Map ? [...(value as Map<string, unknown>)] : Object.entries(value as object);
  const body = entries.sort(([a], [b]) => compareGo(a, b)).map(([k, v]) => `${JSON.stringify(k)}:${goSyntax(v)}`).join(', ');
  return `map[string]interface {}{${body}}`;
}
