#!/usr/bin/env node
// The `shoal` command. Each subcommand lives in its own module and registers itself on the
// program (registerDecode, …), so adding one is one import and one call here.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { registerClientCommands } from './commands/index.js';
import { registerDecode } from './decode.js';
import { registerAgent } from './agent.js';
import { registerDemo } from './demo.js';
import { registerTui } from './tui.js';
import { registerServices } from './services.js';
import { registerSwarm } from './swarm.js';
import { normaliseFlags } from './flags.js';
import { registerSim } from './sim.js';

/**
 * The version in package.json, found by walking up from this file: it sits at dist/src/cli when
 * built and at src/cli in the sources, and npm installs package.json beside dist/.
 */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate)) return (JSON.parse(readFileSync(candidate, 'utf8')) as { version: string }).version;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

const program = new Command('shoal')
  .description('Gossip membership and failure detection that speaks the Serf 0.9.4 / memberlist 0.2.2 wire protocol')
  .version(packageVersion(), '-v, --version', 'print the shoal version')
  .showHelpAfterError('(add --help for usage)')
  .addHelpText('after', "\nFlags work in Serf's single-dash form too: -format=json is --format=json.");

registerDecode(program);
registerAgent(program);
registerDemo(program);
registerTui(program);
registerSwarm(program);
registerClientCommands(program);
registerSim(program);
registerServices(program);

await program.parseAsync(normaliseFlags(process.argv.slice(2)), { from: 'user' });
