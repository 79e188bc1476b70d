// Runs the TUI on the terminal until the user quits: the one place that joins the model, a source
// and the blessed screen. `shoal tui`, `shoal demo` and the simulation's --tui all come through here.
import { TuiApp, type TuiSource } from './app.js';
import { openBlessedScreen } from './blessed-screen.js';
import { TuiModel } from './model.js';
import { SimSource, type SimDriver, type SimSourceOptions } from './sim-source.js';

/** Why the TUI cannot start here, or null: it needs a terminal on both stdin and stdout. */
export function terminalProblem(command: string): string | null {
  if (process.stdout.isTTY === true && process.stdin.isTTY === true) return null;
  return `${command}: the terminal UI needs an interactive terminal (stdout is ${process.stdout.isTTY === true ? 'a terminal' : 'not a terminal'}, stdin is ${process.stdin.isTTY === true ? 'a terminal' : 'not a terminal'}).\n`
    + 'For scripts and pipes use `shoal members` (the member list, -format=json) or `shoal monitor` (events and logs as they happen).\n';
}

export interface RunTuiOptions {
  readonly model?: TuiModel;
  readonly hint?: string;
}

/** Opens the screen, runs until q / Ctrl-C, then restores the terminal and stops the source. */
export async function runTui(source: TuiSource, options: RunTuiOptions = {}): Promise<void> {
  const model = options.model ?? new TuiModel();
  if (options.hint !== undefined) model.hint = options.hint;
  const screen = openBlessedScreen();
  const app = new TuiApp(model, screen, source);
  app.start();
  try {
    await app.done;
  } finally {
    screen.destroy();
    await app.stop();
  }
}

/**
 * `shoal sim --tui`: shows a simulation run in the TUI until the user quits. The sim command builds
 * its run without running it to the end and hands it over as a SimDriver (see sim-source.ts).
 * Returns the exit status: 1 when there is no terminal (with the message on stderr), else 0.
 */
export async function runSimTui(driver: SimDriver, options: SimSourceOptions = {}): Promise<number> {
  const problem = terminalProblem('shoal sim --tui');
  if (problem !== null) {
    process.stderr.write(problem.replace(/For scripts.*\n$/s, 'Run the scenario without --tui for its report.\n'));
    return 1;
  }
  await runTui(new SimSource(driver, options));
  return 0;
}
