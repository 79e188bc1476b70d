// `shoal decode` (issue #2): the wire dissector on the command line. This file only gathers the
// bytes and the keys and prints the result; every bit of decoding is src/wire/dissect.ts.
import { readFileSync, statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { dissectPacket, dissectStream } from '../wire/dissect.js';
import { Keyring } from '../wire/encryption.js';
import { WireError } from '../wire/errors.js';

/** More than any packet or push/pull stream can be (memberlist caps push/pull state at 20 MiB). */
const MAX_INPUT_BYTES = 64 * 1024 * 1024;

interface DecodeFlags {
  readonly hex?: string;
  readonly file?: string;
  readonly key?: string[];
  readonly tcp?: boolean;
  readonly compact?: boolean;
}

const HELP_AFTER = `
Input: --hex, --file, or else standard input. Standard input is read as raw
bytes, unless it holds nothing but hex digits and whitespace: then it is read
as hex, so the output of \`xxd -p\` can be piped in as it is.

Output (stdout): {"layers": [...], "messages": [...]}. Layers are the wrappers
removed, outermost first (encrypt, crc, compress, compound); each message is
{typeId, type, body}, and user messages carry the Serf message inside as
"serf": {typeId, type, body}. Bytes are lowercase hex; integers beyond 2^53 are
decimal strings.

On bad input or bytes that do not decode, the exit status is 1 and stderr has
one line naming the layer, the byte offset within that layer and the reason.
Flags also work in Serf's single-dash form (-hex=..., -tcp).

Examples:
  # a UDP packet given as hex (a nack)
  shoal decode --hex 0b81a55365714e6f31

  # one direction of an encrypted TCP connection, saved to a file
  shoal decode --tcp --file stream.bin --key 22340oqL86o596XonHmP4/7RgmZRt8wgPkmlK3vybmI=

  # hex on standard input, one line of JSON out
  xxd -p packet.bin | shoal decode --compact
`;

export function registerDecode(program: Command): void {
  program
    .command('decode')
    .summary('dissect a memberlist/Serf packet or stream and print it as JSON')
    .description(
      'Dissect one memberlist/Serf UDP packet or TCP stream and print it as JSON: the layers ' +
        'removed and every message, with Serf messages inside user messages decoded too.',
    )
    .addOption(new Option('--hex <hex>', 'the bytes as hex digits (whitespace is ignored)'))
    .addOption(new Option('--file <path>', 'read the raw bytes from a file'))
    .addOption(
      new Option('--key <base64>', 'encryption key as `serf keygen` prints it; repeat to try several keys')
        .argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]),
    )
    .addOption(new Option('--tcp', 'the input is a TCP stream (push/pull, stream ping, user, err), not a UDP packet'))
    .addOption(new Option('--compact', 'print the JSON on one line instead of indented'))
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: DecodeFlags) => {
      try {
        const keyring = keyringOf(flags.key ?? []);
        const bytes = await inputBytes(flags);
        const options = keyring === undefined ? {} : { keyring };
        const decoded = flags.tcp === true ? dissectStream(bytes, options) : dissectPacket(bytes, options);
        if (!decoded.ok) throw withKeyHint(decoded.error, bytes, flags);
        process.stdout.write(`${JSON.stringify(decoded.value, null, flags.compact === true ? undefined : 2)}\n`);
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
        process.stderr.write(`shoal decode: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}

/**
 * An encrypted UDP packet has no type byte: it starts with the envelope version, 0 or 1
 * (reference §4.4), which reads as a ping or indirect ping whose body then fails to decode.
 * Without --key that error alone would not tell the user what to do.
 */
function withKeyHint(error: WireError, bytes: Uint8Array, flags: DecodeFlags): WireError {
  if (flags.tcp === true || (flags.key ?? []).length > 0 || error.layer === 'input') return error;
  if (bytes[0] !== 0 && bytes[0] !== 1) return error;
  return new WireError(error.layer, error.offset, `${error.reason} (if the packet is encrypted, give its key with --key)`);
}

function inputError(offset: number, reason: string): WireError {
  return new WireError('input', offset, reason);
}

/** Each key on its own first, so the error says which one is wrong. */
function keyringOf(keys: readonly string[]): Keyring | undefined {
  if (keys.length === 0) return undefined;
  keys.forEach((key, i) => {
    try {
      Keyring.fromBase64([key]);
    } catch (err) {
      const flag = keys.length === 1 ? '--key' : `--key #${i + 1}`;
      throw inputError(0, `${flag}: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  return Keyring.fromBase64(keys);
}

async function inputBytes(flags: DecodeFlags): Promise<Uint8Array> {
  if (flags.hex !== undefined && flags.file !== undefined) throw inputError(0, 'give either --hex or --file, not both');
  if (flags.hex !== undefined) return fromHex(flags.hex, '--hex');
  if (flags.file !== undefined) return readInputFile(flags.file);
  if (process.stdin.isTTY === true) {
    throw inputError(0, 'nothing to decode: give --hex or --file, or pipe the bytes to standard input (see --help)');
  }
  const raw = await readStdin();
  // Whitespace alone counts as hex too, so that an empty pipe is reported as empty.
  return looksLikeHex(raw) ? fromHex(Buffer.from(raw).toString('latin1'), 'standard input') : nonEmpty(raw, 'standard input');
}

function readInputFile(path: string): Uint8Array {
  try {
    const size = statSync(path).size;
    if (size > MAX_INPUT_BYTES) throw inputError(0, `--file ${path}: ${size} bytes is more than the ${MAX_INPUT_BYTES}-byte limit`);
    return nonEmpty(new Uint8Array(readFileSync(path)), `--file ${path}`);
  } catch (err) {
    if (err instanceof WireError) throw err;
    throw inputError(0, `cannot read --file ${path}: ${fileProblem(err)}`);
  }
}

const FILE_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
};

function fileProblem(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code !== undefined ? FILE_PROBLEMS[code] : undefined) ?? (err instanceof Error ? err.message : String(err));
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_INPUT_BYTES) throw inputError(MAX_INPUT_BYTES, `standard input is more than the ${MAX_INPUT_BYTES}-byte limit`);
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/** ASCII whitespace only: a Unicode-aware \s would also take 0xa0 and 0x85, which raw packets hold. */
function looksLikeHex(raw: Uint8Array): boolean {
  return /^[0-9a-fA-F \t\n\v\f\r]*$/.test(Buffer.from(raw).toString('latin1'));
}

/** Hex digits with any whitespace between them (xxd -p breaks lines); offsets count characters. */
function fromHex(text: string, source: string): Uint8Array {
  const bad = /[^0-9a-fA-F \t\n\v\f\r]/.exec(text);
  if (bad !== null) throw inputError(bad.index, `${source}: ${JSON.stringify(bad[0])} is not a hex digit`);
  const digits = text.replace(/[ \t\n\v\f\r]+/g, '');
  if (digits.length % 2 !== 0) {
    throw inputError(text.length, `${source}: odd number of hex digits (${digits.length}); every byte needs two`);
  }
  return nonEmpty(new Uint8Array(Buffer.from(digits, 'hex')), source);
}

function nonEmpty(bytes: Uint8Array, source: string): Uint8Array {
  if (bytes.length === 0) throw inputError(0, `${source} is empty: there is nothing to decode`);
  return bytes;
}
