// `shoal sim` runs a big simulation in a Node process with a V8 heap fit for it. V8's defaults
// suit a server, not a simulator: a 16 MB semi-space promotes every timer and in-flight packet
// (they live a few virtual seconds, many scavenges) to the old generation, where each major GC
// then walks the whole cluster's state — a third of a 1,000-node run's CPU went to GC. And the
// default old-space limit (about 4 GB) is too small for 2,000 nodes that each know every other.
// V8 reads these flags only at start-up, so the CLI starts itself again with them, unless the
// user already chose (in NODE_OPTIONS or on node's command line).
import { spawn } from 'node:child_process';
import { totalmem } from 'node:os';

/** Semi-space for the simulator (the sweep's worker threads get the same young generation). */
export const SIM_SEMI_SPACE_MB = 64;
/** The old-space limit: enough for a 2,000-node join storm, never more than 3/4 of the machine. */
const SIM_OLD_SPACE_MB = 7600;

const RESPAWNED_ENV = 'SHOAL_SIM_HEAP';

/** The node flags `shoal sim` would add, given node's own flags and NODE_OPTIONS. */
export function simHeapFlags(execArgv: readonly string[], nodeOptions: string, totalMemoryBytes: number): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  // V8 takes `_` for `-` in flag names (--max_old_space_size).
  const has = (flag: string): boolean => given.some((a) => (a.split('=')[0] as string).replace(/_/g, '-') === flag);
  const flags: string[] = [];
  if (!has('--max-semi-space-size')) flags.push(`--max-semi-space-size=${SIM_SEMI_SPACE_MB}`);
  if (!has('--max-old-space-size')) {
    const oldSpaceMb = Math.min(SIM_OLD_SPACE_MB, Math.floor((totalMemoryBytes * 0.75) / (1 << 20)));
    flags.push(`--max-old-space-size=${oldSpaceMb}`);
  }
  return flags;
}

/**
 * Runs this same command again under the simulator's heap flags and resolves with its exit
 * code, or resolves null when this process already runs with them (then the caller goes on).
 */
export function respawnWithSimHeap(): Promise<number> | null {
  if (process.env[RESPAWNED_ENV] === '1') return null;
  const flags = simHeapFlags(process.execArgv, process.env['NODE_OPTIONS'] ?? '', totalmem());
  if (flags.length === 0) return null;
  const script = process.argv[1];
  if (script === undefined) return null;
  const child = spawn(process.execPath, [...process.execArgv, ...flags, script, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [RESPAWNED_ENV]: '1' },
  });
  // Pass termination on, so stopping `shoal sim` stops the run (a terminal's Ctrl-C reaches both).
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal === null ? 1 : 128 + signalNumber(signal)));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  return signal === 'SIGINT' ? 2 : signal === 'SIGKILL' ? 9 : signal === 'SIGTERM' ? 15 : 1;
}
