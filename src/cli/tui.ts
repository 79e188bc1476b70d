// `shoal tui`: the terminal UI on a running agent (shoal or serf) over its RPC port. The UI itself
// lives in src/tui; this file is the command line: flags, the terminal check, the exit status.
import type { Command } from 'commander';
import { ClientCommand, withRpcFlags, type RpcFlags } from './commands/common.js';
import { DEFAULT_HTTP_ADDR } from '../tui/catalog-source.js';
import { RpcSource } from '../tui/rpc-source.js';
import { runTui, terminalProblem } from '../tui/run.js';

const EXAMPLES = `
Keys: arrows or j/k move, / filters (name=RE status=RE KEY=RE, as shoal members),
s sorts, Enter shows details, l the event log, v the services view (the agent's catalog,
read from its HTTP API), e fires a user event, ? help, q quits.

Examples:
  shoal tui
  shoal tui -rpc-addr=10.0.0.5:7373 -rpc-auth=secret
  shoal tui -rpc-addr=127.0.0.1:7374 -http-addr=127.0.0.1:8501   a second agent on this machine
  shoal demo            a local cluster to watch, with keys to kill, pause and restart members
`;

export function registerTui(program: Command): void {
  const cmd = new ClientCommand('tui')
    .summary('watch the cluster live in a terminal UI')
    .description('Shows the members, their status, the events and the local node\'s health as an agent (shoal or serf) sees them, live.')
    .option('--http-addr <ip:port>', "the agent's HTTP API, for the services view (env CONSUL_HTTP_ADDR; empty: none)", process.env['CONSUL_HTTP_ADDR'] ?? DEFAULT_HTTP_ADDR)
    .addHelpText('after', EXAMPLES)
    .action(async (flags: RpcFlags & { readonly httpAddr: string }) => {
      const problem = terminalProblem('shoal tui');
      if (problem !== null) {
        process.stderr.write(problem);
        process.exitCode = 1;
        return;
      }
      await runTui(new RpcSource({ addr: flags.rpcAddr, authKey: flags.rpcAuth, httpAddr: flags.httpAddr === '' ? null : flags.httpAddr }));
      process.exit(0);
    });
  program.addCommand(withRpcFlags(cmd));
}
