// Serf's CLI uses Go's `flag` package, where long flags take one dash (`-node=a`, `-format json`).
// Commander only knows `--node`, so argv is rewritten before parsing: DESIGN.md promises that
// both forms work, and a Serf user should not need new habits.

/**
 * A single-dash flag with a multi-letter name, optionally `=value`. The name starts with a letter,
 * so negative numbers (`-5`, `-1.5`) are never taken for flags; one letter alone (`-h`, `-V`) is
 * a commander short flag and stays as it is.
 */
const SINGLE_DASH_LONG_FLAG = /^-[A-Za-z][A-Za-z0-9_-]+(?:=|$)/;

/**
 * Rewrites `-name` / `-name=value` to `--name` / `--name=value` in the user's arguments (argv
 * without node and the script). Everything else is kept as it is: plain arguments, `-`, `--name`,
 * single-letter flags, and `--` with everything after it (the end of the options). Like Go's flag
 * package, it does not combine short flags: `-ab` means the long flag `--ab`.
 */
export function normaliseFlags(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      out.push(...args.slice(i));
      break;
    }
    out.push(SINGLE_DASH_LONG_FLAG.test(arg) ? `-${arg}` : arg);
  }
  return out;
}
