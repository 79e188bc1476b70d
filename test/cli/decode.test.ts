// `shoal decode` end to end: the built CLI as a process, on the serf 0.9.4 fixtures.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturesDir, hex, loadIndex, readFixture, type FixtureNode } from '../helpers/fixtures.js';

// This file runs as dist/test/cli/decode.test.js; the CLI is dist/src/cli/shoal.js.
const shoal = fileURLToPath(new URL('../../src/cli/shoal.js', import.meta.url));
const packageJson = fileURLToPath(new URL('../../../package.json', import.meta.url));

const ALIVE_ALIVE = '03_1_udp-gossip-crc-lzw-compound-alive-alive.bin';
const ENCRYPTED_PING = '51_8_udp-encrypted-ping.bin';
const PUSH_PULL = '01_1_tcp-pushpull-join-b-to-a.bin';
const ENCRYPTED_PUSH_PULL = '55_8_tcp-encrypted-pushpull-join.bin';
const USER_EVENT = '31_5_udp-gossip-crc-user-event.bin';

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[], stdin: string | Uint8Array = ''): Run {
  const child = spawnSync(process.execPath, [shoal, ...args], { input: stdin, encoding: 'utf8', timeout: 10_000 });
  if (child.error !== undefined) throw child.error;
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

interface Message {
  readonly typeId: number;
  readonly type: string;
  readonly body?: { readonly [field: string]: unknown };
  readonly tags?: { readonly [tag: string]: string };
  readonly nodes?: ReadonlyArray<{ readonly Name: string }>;
  readonly serf?: { readonly typeId: number; readonly type: string; readonly body: { readonly [field: string]: unknown } };
}

interface Output {
  readonly layers: string[];
  readonly messages: Message[];
}

/** Runs a decode that must succeed and returns its parsed output. */
function decode(args: readonly string[], stdin?: string | Uint8Array): Output {
  const { status, stdout, stderr } = run(['decode', ...args], stdin);
  assert.equal(stderr, '');
  assert.equal(status, 0);
  return JSON.parse(stdout) as Output;
}

/** Runs a decode that must fail and returns its one line of stderr. */
function decodeError(args: readonly string[], stdin?: string | Uint8Array): string {
  const { status, stdout, stderr } = run(['decode', ...args], stdin);
  assert.equal(status, 1);
  assert.equal(stdout, '');
  const lines = stderr.split('\n');
  assert.equal(lines.length, 2, `one line on stderr, got ${JSON.stringify(stderr)}`);
  assert.equal(lines[1], '');
  return lines[0] as string;
}

const fixturePath = (name: string): string => join(fixturesDir, name);
const key = loadIndex().encryption_key_base64;

/** The alive bodies of a fixture as index.json decodes them: hasCrc > compress > compound. */
function indexAliveBodies(name: string): unknown[] {
  const file = loadIndex().files.find((f) => f.file === name);
  assert.ok(file !== undefined);
  const compound = ((file.decoded.inner as FixtureNode).inner as FixtureNode).parts as FixtureNode[];
  return compound.map((part) => part.body);
}

describe('shoal decode: UDP packets', () => {
  test('--file: layers outermost first, both alive messages with their bodies and tags', () => {
    const out = decode(['--file', fixturePath(ALIVE_ALIVE)]);
    assert.deepEqual(out.layers, ['crc', 'compress', 'compound']);
    assert.deepEqual(out.messages.map((m) => [m.typeId, m.type, m.body?.Node, m.tags]), [
      [4, 'alive', 'node-b', {}],
      [4, 'alive', 'node-a', {}],
    ]);
    assert.deepEqual(out.messages.map((m) => m.body), indexAliveBodies(ALIVE_ALIVE));
  });

  test('prints indented JSON by default and one line with --compact', () => {
    const pretty = run(['decode', '--file', fixturePath(ALIVE_ALIVE)]).stdout;
    const parsed: unknown = JSON.parse(pretty);
    assert.equal(pretty, `${JSON.stringify(parsed, null, 2)}\n`);
    const compact = run(['decode', '--compact', '--file', fixturePath(ALIVE_ALIVE)]).stdout;
    assert.equal(compact, `${JSON.stringify(parsed)}\n`);
  });

  test('--hex and standard input (hex or raw) give the same output as --file', () => {
    const bytes = readFixture(ALIVE_ALIVE);
    const expected = run(['decode', '--file', fixturePath(ALIVE_ALIVE)]).stdout;
    assert.equal(run(['decode', '--hex', hex(bytes)]).stdout, expected);
    assert.equal(run(['decode', '--hex', hex(bytes).toUpperCase()]).stdout, expected);
    // As `xxd -p` prints it: 60 digits a line.
    const xxd = `${hex(bytes).replace(/.{60}/g, '$&\n')}\n`;
    assert.equal(run(['decode'], xxd).stdout, expected);
    assert.equal(run(['decode'], bytes).stdout, expected);
  });

  test('an encrypted packet with --key: the encrypt layer comes first', () => {
    const out = decode(['--key', key, '--file', fixturePath(ENCRYPTED_PING)]);
    assert.deepEqual(out.layers, ['encrypt']);
    assert.equal(out.messages.length, 1);
    assert.equal(out.messages[0]?.type, 'ping');
    assert.deepEqual(out.messages[0]?.body, {
      Node: 'node-a', SeqNo: 1, SourceAddr: '7f000001', SourceNode: 'node-b', SourcePort: 18012,
    });
  });

  test('--key may be repeated: every key is tried', () => {
    const otherKey = Buffer.alloc(16, 7).toString('base64');
    const out = decode(['--key', otherKey, '--key', key, '--file', fixturePath(ENCRYPTED_PING)]);
    assert.deepEqual(out.layers, ['encrypt']);
  });

  test('a user message carries the Serf message inside it', () => {
    const out = decode(['--file', fixturePath(USER_EVENT)]);
    assert.deepEqual(out.layers, ['crc']);
    const [message] = out.messages;
    assert.equal(message?.type, 'user');
    assert.equal(message.serf?.type, 'userEvent');
    assert.equal(message.serf.typeId, 3);
    assert.deepEqual(message.serf.body, {
      CC: false, LTime: 1, Name: 'deploy', Payload: Buffer.from('hello-payload').toString('hex'),
    });
  });
});

describe('shoal decode: TCP streams', () => {
  test('--tcp: a compressed push/pull with Serf push/pull user state', () => {
    const out = decode(['--tcp', '--file', fixturePath(PUSH_PULL)]);
    assert.deepEqual(out.layers, ['compress']);
    const [message] = out.messages;
    assert.equal(message?.type, 'pushPull');
    assert.deepEqual(message.nodes?.map((n) => n.Name), ['node-b']);
    assert.equal(message.serf?.type, 'pushPull');
  });

  test('--tcp with --key: an encrypted push/pull', () => {
    const out = decode(['--tcp', '--key', key, '--file', fixturePath(ENCRYPTED_PUSH_PULL)]);
    assert.deepEqual(out.layers, ['encrypt', 'compress']);
    assert.equal(out.messages[0]?.type, 'pushPull');
    assert.equal(out.messages[0].serf?.type, 'pushPull');
  });
});

describe("shoal decode: Serf's single-dash flags", () => {
  test('-hex=, -compact, -tcp, -file and -key work as their double-dash forms', () => {
    const bytes = readFixture(ALIVE_ALIVE);
    assert.equal(run(['decode', `-hex=${hex(bytes)}`, '-compact']).stdout, run(['decode', '--compact', '--hex', hex(bytes)]).stdout);
    const out = decode(['-tcp', `-file=${fixturePath(ENCRYPTED_PUSH_PULL)}`, '-key', key]);
    assert.deepEqual(out.layers, ['encrypt', 'compress']);
  });
});

describe('shoal decode: errors are one line naming layer, offset and reason', () => {
  test('a corrupted CRC', () => {
    const bytes = readFixture(ALIVE_ALIVE);
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 0xff;
    const line = decodeError(['--hex', hex(bytes)]);
    assert.match(line, /^shoal decode: crc at offset \d+: CRC mismatch/);
  });

  test('odd-length or non-hex --hex is an input error', () => {
    assert.match(decodeError(['--hex', '0b81a']), /^shoal decode: input at offset \d+: --hex: odd number of hex digits/);
    assert.match(decodeError(['--hex', '0b8x']), /^shoal decode: input at offset 3: --hex: "x" is not a hex digit/);
  });

  test('an encrypted packet without --key says to give one', () => {
    const line = decodeError(['--file', fixturePath(ENCRYPTED_PING)]);
    assert.match(line, /^shoal decode: \w+ at offset \d+: .*--key/);
  });

  test('an encrypted stream without --key', () => {
    assert.match(decodeError(['--tcp', '--file', fixturePath(ENCRYPTED_PUSH_PULL)]), /^shoal decode: encrypt at offset 0: .*encrypt/);
  });

  test('a key that is not base64, or not an AES key, names the flag', () => {
    assert.match(decodeError(['--key', 'not base64!', '--file', fixturePath(ENCRYPTED_PING)]), /^shoal decode: input at offset 0: --key: .*base64/);
    assert.match(decodeError(['--key', key, '--key', 'YWJj', '--hex', '00']), /^shoal decode: input at offset 0: --key #2: .*16, 24 or 32 bytes/);
  });

  test('an unreadable file, no input, and two inputs at once', () => {
    assert.match(decodeError(['--file', fixturePath('no-such-file.bin')]), /^shoal decode: input at offset 0: cannot read --file .*no such file/);
    assert.match(decodeError([], ''), /^shoal decode: input at offset 0: standard input is empty/);
    assert.match(decodeError(['--hex', '00', '--file', fixturePath(ALIVE_ALIVE)]), /^shoal decode: input at offset 0: give either --hex or --file/);
  });

  test('a stream that ends early', () => {
    assert.match(decodeError(['--tcp', '--hex', hex(readFixture(PUSH_PULL).subarray(0, 20))]), /^shoal decode: \w+ at offset \d+: /);
  });
});

describe('shoal', () => {
  test('--version prints the version in package.json', () => {
    const { version } = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string };
    for (const flag of ['--version', '-v', '-version']) {
      const { status, stdout } = run([flag]);
      assert.equal(status, 0);
      assert.equal(stdout, `${version}\n`);
    }
  });

  test('an unknown command or flag fails with a message a person can read', () => {
    const command = run(['decoed']);
    assert.equal(command.status, 1);
    assert.match(command.stderr, /unknown command 'decoed'/);
    assert.match(command.stderr, /Did you mean decode\?/);
    const flag = run(['decode', '-bogus']);
    assert.equal(flag.status, 1);
    assert.match(flag.stderr, /unknown option '--bogus'/);
  });

  test('decode --help documents the inputs and has examples', () => {
    const { status, stdout } = run(['decode', '--help']);
    assert.equal(status, 0);
    for (const text of ['--hex <hex>', '--file <path>', '--key <base64>', '--tcp', '--compact', 'hex digits and whitespace', 'Examples:']) {
      assert.ok(stdout.includes(text), `help mentions ${text}`);
    }
  });
});
