// What every client command shares, as serf 0.9.4's cmd/serf/command does: the -rpc-addr and
// -rpc-auth flags (rpc.go), Go `flag` semantics for booleans (-coalesce=false), the output
// helpers (output.go formatOutput, ryanuber/columnize, encoding/json MarshalIndent) and the
// "Error …: reason" + exit 1 convention. Serf's BasicUi writes errors to stdout; shoal writes
// them to stderr so that scripts reading stdout see only results, with the same words.
import { Command, Option } from 'commander';
import { RpcClient } from '../rpc-client.js';

/** A command line problem or a failed request: printed as it is, exit status 1. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  /**
   * `before`: lines printed before the message (per-node failures). `withHelp`: a usage mistake,
   * so a blank line and the command's help follow, as Serf does.
   */
  constructor(message: string, readonly before: readonly string[] = [], readonly withHelp = false) {
    super(message);
  }
}

export interface RpcFlags {
  readonly rpcAddr: string;
  readonly rpcAuth: string;
}

/** Go's strconv.ParseBool, which flag uses for -name=value on a boolean flag. */
function parseGoBool(value: string): boolean | null {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return null;
}

/**
 * A commander Command that also accepts Go's `-flag=true|false` for its boolean flags (commander
 * only knows a bare `--flag`), so `shoal event -coalesce=false deploy` works as in Serf.
 */
export class ClientCommand extends Command {
  override createCommand(name?: string): ClientCommand {
    return new ClientCommand(name);
  }

  override parseOptions(args: string[]): { operands: string[]; unknown: string[] } {
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const arg = args[i] as string;
      if (arg === '--') {
        rest.push(...args.slice(i));
        break;
      }
      const m = /^(--[^=]+)=(.*)$/s.exec(arg);
      const option = m === null ? undefined : this.options.find((o) => o.long === m[1] && !o.required && !o.optional);
      if (m === null || option === undefined) {
        rest.push(arg);
        continue;
      }
      const value = parseGoBool(m[2] as string);
      if (value === null) this.error(`invalid boolean value ${JSON.stringify(m[2])} for -${(m[1] as string).slice(2)}: parse error`);
      this.setOptionValueWithSource(option.attributeName(), option.negate ? !value : value, 'cli');
    }
    return super.parseOptions(rest);
  }
}

/** Adds -rpc-addr and -rpc-auth with Serf's defaults: SERF_RPC_ADDR or 127.0.0.1:7373, and SERF_RPC_AUTH. */
export function withRpcFlags(cmd: Command): Command {
  const addr = process.env['SERF_RPC_ADDR'];
  return cmd
    .addOption(new Option('--rpc-addr <addr>', 'RPC address of the agent (env SERF_RPC_ADDR)').default(addr !== undefined && addr !== '' ? addr : '127.0.0.1:7373'))
    .addOption(new Option('--rpc-auth <token>', 'RPC auth token of the agent (env SERF_RPC_AUTH)').default(process.env['SERF_RPC_AUTH'] ?? ''));
}

/** A repeatable flag (agent.AppendSliceValue). */
export function repeatable(flags: string, description: string): Option {
  return new Option(flags, description).argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
}

/** Connects as every command does, with Serf's message when that fails. */
export async function connectAgent(flags: RpcFlags): Promise<RpcClient> {
  try {
    return await RpcClient.connect(flags.rpcAddr, { authKey: flags.rpcAuth });
  } catch (err) {
    throw new CommandError(`Error connecting to Serf agent: ${messageOf(err)}`);
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs a command's body, which returns the exit status, and turns a CommandError into its
 * message on stderr and exit status 1.
 */
export async function runCommand(self: Command, body: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await body();
  } catch (err) {
    if (!(err instanceof CommandError)) throw err;
    for (const line of err.before) process.stderr.write(`${line}\n`);
    process.stderr.write(`${err.message}\n`);
    if (err.withHelp) process.stderr.write(`\n${self.helpInformation()}`);
    process.exitCode = 1;
  }
}

/** Ui.Output: the text and a newline. */
export function output(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** Go's agent.UnmarshalTags: key=value pairs; the key must not be empty. */
export function unmarshalTags(pairs: readonly string[]): Map<string, string> {
  const tags = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CommandError(`Error: Invalid tag: '${pair}'`);
    tags.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  return tags;
}

/** formatOutput + Ui.Output: 'json' is MarshalIndent, 'text' the value's own String(); both trimmed. */
export function formatOutput(format: string, json: () => unknown, text: () => string): string {
  if (format === 'json') return goJson(json()).trim();
  if (format === 'text') return text().trim();
  throw new CommandError(`Encoding error: Invalid output format "${format}"`);
}

/**
 * encoding/json MarshalIndent(v, "", "  ") for the plain values these commands print (build Go
 * maps with sorted keys, structs in field order). JSON.stringify differs only in escaping: Go
 * escapes <, > and & for HTML, U+2028/U+2029, and (Go before 1.22, as serf 0.9.4 is built)
 * writes \b and \f as \u0008 and \u000c. Outside strings none of these can appear.
 */
export function goJson(value: unknown): string {
  return JSON.stringify(value, null, 2)
    .replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/(?<!\\)((?:\\\\)*)\\([bf])/g, (_all, pre: string, c: string) => `${pre}\\u00${c === 'b' ? '08' : '0c'}`);
}

/** A Go map as a JSON object with sorted keys (encoding/json sorts map keys); null stays null as Go's nil map. */
export function sortedObject<V>(map: ReadonlyMap<string, V> | null): Record<string, V> | null {
  if (map === null) return null;
  const out: Record<string, V> = {};
  for (const key of [...map.keys()].sort(compareGo)) {
    Object.defineProperty(out, key, { value: map.get(key), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Go compares strings bytewise (UTF-8), which differs from JS's UTF-16 order beyond the BMP. */
export function compareGo(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * columnize.SimpleFormat: split on "|", trim each cell, pad every column but a line's last to
 * the widest cell (counted in runes, as Go's fmt does), glue with two spaces, no final newline.
 */
export function columnize(lines: readonly string[]): string {
  const rows = lines.map((line) => line.split('|').map((cell) => cell.trim()));
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
    });
  }
  const out = rows.map((row) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell + ' '.repeat((widths[i] as number) - [...cell].length) + '  ')).join(''),
  );
  return out.join('\n');
}

/** Go's net.IP.String for 4- and 16-byte addresses (IPv4-mapped IPv6 prints as IPv4). */
export function goIp(ip: Uint8Array): string {
  if (ip.length === 0) return '';
  if (ip.length === 4) return [...ip].join('.');
  if (ip.length === 16) {
    if (ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff) return [...ip.subarray(12)].join('.');
    const words: number[] = [];
    for (let i = 0; i < 16; i += 2) words.push(((ip[i] as number) << 8) | (ip[i + 1] as number));
    // The longest run of two or more zero words becomes "::" (the first such run on a tie).
    let best = -1;
    let bestLen = 0;
    for (let i = 0; i < 8; ) {
      let j = i;
      while (j < 8 && words[j] === 0) j++;
      if (j - i > bestLen && j - i >= 2) {
        best = i;
        bestLen = j - i;
      }
      i = j === i ? i + 1 : j;
    }
    const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
    if (best < 0) return hex(words);
    return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
  }
  return `?${Buffer.from(ip).toString('hex')}`;
}

/** net.TCPAddr.String: host:port, IPv6 in brackets. */
export function goHostPort(ip: Uint8Array, port: number): string {
  const host = goIp(ip);
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9,
};

/** Go's time.ParseDuration ("15s", "1m30s", "500ms", "0"), in nanoseconds. */
export function parseGoDuration(text: string, flag: string): bigint {
  const invalid = (): never => {
    throw new CommandError(`invalid value ${JSON.stringify(text)} for flag -${flag}: parse error`);
  };
  let s = text;
  let sign = 1n;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1n;
    s = s.slice(1);
  }
  if (s === '0') return 0n;
  if (s === '') invalid();
  let total = 0;
  const part = /^([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)/;
  while (s !== '') {
    const m = part.exec(s);
    if (m === null || m[1] === '' || m[1] === '.') return invalid();
    total += Number(m[1]) * (DURATION_UNITS[m[2] as string] as number);
    s = s.slice(m[0].length);
  }
  if (total > 2 ** 63 - 1) invalid();
  return sign * BigInt(Math.round(total));
}
