// `shoal version`: as serf 0.9.4's version.go, the version and the Serf protocol range spoken.
import type { Command } from 'commander';
import { SERF_PROTOCOL_MAX, SERF_PROTOCOL_MIN } from '../../cluster/config.js';
import { ClientCommand, output } from './common.js';

export function registerVersion(program: Command): void {
  program.addCommand(
    new ClientCommand('version')
      .summary('print the shoal version and the agent protocol range')
      .description('Prints the shoal version and the Serf agent protocol versions it speaks.')
      .addHelpText('after', '\nExample:\n  shoal version\n')
      .action(() => {
        output(`shoal v${program.version() ?? ''}`);
        output(`Agent Protocol: ${SERF_PROTOCOL_MAX} (Understands back to: ${SERF_PROTOCOL_MIN})`);
      }),
  );
}
