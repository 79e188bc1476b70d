// `shoal keygen`: serf 0.9.4 cmd/serf/command/keygen.go: 32 random bytes (an AES-256 key), base64.
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { ClientCommand, output } from './common.js';

const EXAMPLES = `
Examples:
  shoal keygen
  shoal agent -encrypt=$(shoal keygen)
`;

export function registerKeygen(program: Command): void {
  program.addCommand(
    new ClientCommand('keygen')
      .summary('generate a new encryption key')
      .description('Generates a new encryption key (32 random bytes, base64) in the form agents and `keys -install` expect.')
      .addHelpText('after', EXAMPLES)
      .action(() => {
        output(randomBytes(32).toString('base64'));
      }),
  );
}
