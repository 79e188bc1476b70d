// The Go reference column of the codec benchmark: builds bench/go/codecbench.go once per run (Go in
// GOPATH mode against Debian's copy of github.com/hashicorp/go-msgpack, no module downloads), runs
// it on the bytes of each case, and checks that Go decoded the same layers and messages that shoal
// did before its figures are shown beside ours. What the Go figures cover is in codecbench.go's header.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Keyring } from '../src/wire/encryption.js';
import type { MemberlistMessage } from '../src/wire/messages.js';
import { decodePacket } from '../src/wire/packet.js';
import { readStructAt } from '../src/wire/schema.js';
import { PING_VERSION, coordinateSchema } from '../src/wire/serf-schemas.js';
import { decodeSerfMessage } from '../src/wire/serf.js';
import { parseStream } from '../src/wire/stream.js';
import { hex } from '../test/helpers/fixtures.js';
import type { Measurement } from './harness.js';

/** Debian's GOPATH: golang-github-hashicorp-go-msgpack-dev installs go-msgpack 0.5.5 there. */
const DEBIAN_GOPATH = '/usr/share/gocode';
const GO_MSGPACK_DIR = join(DEBIAN_GOPATH, 'src/github.com/hashicorp/go-msgpack/codec');
export const GO_INSTALL_HINT = 'apt-get install golang-go golang-github-hashicorp-go-msgpack-dev golang-github-hashicorp-memberlist-dev';

/** How codecbench reads the case bytes: a UDP datagram, or a TCP push/pull stream. */
export type GoCaseKind = 'packet' | 'stream';

export interface GoCaseInput {
  readonly name: string;
  readonly kind: GoCaseKind;
  readonly bytes: Uint8Array;
  /** Messages in the packet, or node states in the push/pull, as shoal counts them. */
  readonly messages: number;
  /** The base64 AES key, for an encrypted packet. */
  readonly keyBase64?: string;
}

export interface GoCaseResult {
  readonly decode: Measurement;
  readonly encode: Measurement;
  /** Whether Go's encode reproduced the case bytes exactly (not with fresh nonces or a Go map inside). */
  readonly reencodesIdentically: boolean;
}

/** What codecbench prints (bench/go/codecbench.go, type result). */
interface GoOutput extends GoCaseResult {
  readonly goVersion: string;
  readonly layers: string[];
  readonly messages: number;
  readonly summary: string[];
  readonly roundTrips: boolean;
}

export interface GoReference {
  readonly version: string;
  run(input: GoCaseInput, seconds: number): GoCaseResult;
}

// bench/go/codecbench.go in the source tree; this module runs from dist/bench/.
function sourceFile(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no package.json above bench/go-reference');
    dir = parent;
  }
  return join(dir, 'bench/go/codecbench.go');
}

/**
 * Builds codecbench into a temporary directory (removed when the process exits). Returns a
 * reason instead when Go or the Go sources are missing or the build fails.
 */
export function buildGoReference(): GoReference | { readonly unavailable: string } {
  const version = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (version.error !== undefined || version.status !== 0) {
    return { unavailable: `no Go toolchain (\`go version\` failed); install it and the Go sources with: ${GO_INSTALL_HINT}` };
  }
  if (!existsSync(GO_MSGPACK_DIR)) {
    return { unavailable: `no go-msgpack sources in ${GO_MSGPACK_DIR}; install them with: ${GO_INSTALL_HINT}` };
  }
  const dir = mkdtempSync(join(tmpdir(), 'shoal-go-bench-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  // Ctrl-C: exit normally, so the directory goes too.
  process.once('SIGINT', () => process.exit(130));
  const binary = join(dir, 'codecbench');
  // A build cache of its own (a cold build takes a few seconds) leaves nothing behind in the user's.
  const env: NodeJS.ProcessEnv = { ...process.env, GO111MODULE: 'off', GOPATH: DEBIAN_GOPATH, GOFLAGS: '', GOCACHE: join(dir, 'cache') };
  const build = spawnSync('go', ['build', '-o', binary, sourceFile()], { encoding: 'utf8', env });
  if (build.error !== undefined || build.status !== 0) {
    const why = (build.stderr || build.error?.message || `exit status ${build.status}`).trim();
    return { unavailable: `building bench/go/codecbench.go failed (${why}); the Go sources come with: ${GO_INSTALL_HINT}` };
  }
  const runEnv: NodeJS.ProcessEnv = { ...process.env, GOMAXPROCS: '1' };
  let caseNumber = 0;
  return {
    version: /go\d\S*/.exec(version.stdout)?.[0] ?? version.stdout.trim(),
    run(input: GoCaseInput, seconds: number): GoCaseResult {
      const file = join(dir, `case-${caseNumber++}.bin`);
      writeFileSync(file, input.bytes);
      const args = ['-kind', input.kind, '-seconds', String(seconds), ...(input.keyBase64 === undefined ? [] : ['-key', input.keyBase64]), file];
      const run = spawnSync(binary, args, { encoding: 'utf8', env: runEnv, maxBuffer: 64 << 20 });
      if (run.error !== undefined || run.status !== 0) {
        throw new Error(`${input.name}: the Go reference failed on shoal's bytes: ${(run.stderr || run.error?.message || '').trim()}`);
      }
      const out = JSON.parse(run.stdout) as GoOutput;
      checkSameDecode(input, out);
      return { decode: out.decode, encode: out.encode, reencodesIdentically: out.reencodesIdentically };
    },
  };
}

/** Throws unless Go decoded the same layers and messages as shoal, so the figures compare like with like. */
function checkSameDecode(input: GoCaseInput, out: GoOutput): void {
  if (out.messages !== input.messages) throw new Error(`${input.name}: Go decoded ${out.messages} messages, shoal ${input.messages}`);
  if (!out.roundTrips) throw new Error(`${input.name}: Go did not decode its own encode back to the same structs`);
  const ours = input.kind === 'packet' ? packetSummary(input) : streamSummary(input);
  const differs = ours.findIndex((line, i) => line !== out.summary[i]);
  if (differs >= 0 || ours.length !== out.summary.length) {
    const at = differs >= 0 ? differs : Math.min(ours.length, out.summary.length);
    throw new Error(`${input.name}: Go and shoal decoded different things; line ${at}:\n  shoal: ${ours[at] ?? '(none)'}\n  Go:    ${out.summary[at] ?? '(none)'}`);
  }
}

// The lines below must match codecbench.go's summary() byte for byte: same fields, same order,
// bytes as lowercase hex, floats as their 64 IEEE bits in hex.

function floatHex(value: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  return view.getBigUint64(0).toString(16).padStart(16, '0');
}

function messageLine(m: MemberlistMessage): string {
  switch (m.type) {
    case 'ping': {
      // The omitempty fields: Go leaves them at their zero values when absent.
      const b = m.body;
      return `ping seq=${b.SeqNo} node=${b.Node} source=${hex(b.SourceAddr ?? new Uint8Array(0))}:${b.SourcePort ?? 0} sourceNode=${b.SourceNode ?? ''}`;
    }
    case 'ack': {
      const payload = m.body.Payload ?? new Uint8Array(0);
      let line = `ack seq=${m.body.SeqNo} payload=${payload.length}B`;
      if (payload.length > 0) {
        if (payload[0] !== PING_VERSION) throw new Error(`ack payload has ping version ${payload[0]}`);
        const c = readStructAt(coordinateSchema, payload, 1).value;
        line += ` coordinate vec=${(c.Vec ?? []).map(floatHex).join(',')} error=${floatHex(c.Error)} adjustment=${floatHex(c.Adjustment)} height=${floatHex(c.Height)}`;
      }
      return line;
    }
    case 'suspect':
    case 'dead':
      return `${m.type} inc=${m.body.Incarnation} node=${m.body.Node} from=${m.body.From}`;
    case 'alive': {
      const b = m.body;
      return `alive inc=${b.Incarnation} node=${b.Node} addr=${hex(b.Addr)}:${b.Port} meta=${hex(b.Meta)} vsn=${hex(b.Vsn)}`;
    }
    case 'user': {
      const serf = decodeSerfMessage(m.payload);
      if (serf.type !== 'userEvent') throw new Error(`the Go reference only handles Serf user events, not ${serf.type}`);
      const b = serf.body;
      return `userEvent ltime=${b.LTime} name=${b.Name} payload=${hex(b.Payload ?? new Uint8Array(0))} cc=${b.CC}`;
    }
    default:
      throw new Error(`the Go reference does not handle ${m.type} messages`);
  }
}

function packetSummary(input: GoCaseInput): string[] {
  const decoded = decodePacket(input.bytes, input.keyBase64 === undefined ? {} : { keyring: Keyring.fromBase64([input.keyBase64]) });
  if (!decoded.ok) throw decoded.error;
  return [...decoded.value.layers, ...decoded.value.messages.map(messageLine)];
}

function streamSummary(input: GoCaseInput): string[] {
  const parsed = parseStream(input.bytes);
  if (parsed.status !== 'complete') throw new Error(`${input.name}: stream did not parse (${parsed.status})`);
  const m = parsed.message;
  if (m.type !== 'pushPull') throw new Error(`${input.name}: the Go reference only handles push/pull streams, not ${m.type}`);
  const serf = decodeSerfMessage(m.userState);
  if (serf.type !== 'pushPull') throw new Error(`${input.name}: push/pull user state holds a Serf ${serf.type}`);
  const s = serf.body;
  const lines: string[] = [...parsed.layers, `pushPull nodes=${m.header.Nodes} userState=${m.header.UserStateLen}B join=${m.header.Join}`];
  for (const n of m.nodes) {
    lines.push(`node name=${n.Name} addr=${hex(n.Addr)}:${n.Port} inc=${n.Incarnation} state=${n.State} meta=${hex(n.Meta)} vsn=${hex(n.Vsn)}`);
  }
  // Go's sort.Strings orders by bytes; so does comparing these ASCII names with < .
  const statuses = [...(s.StatusLTimes ?? new Map<string, bigint>())].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [name, ltime] of statuses) lines.push(`status ${name}=${ltime}`);
  const events = s.Events ?? [];
  lines.push(`serf ltime=${s.LTime} left=${(s.LeftMembers ?? []).join(',')} eventLTime=${s.EventLTime} events=${events.length} queryLTime=${s.QueryLTime}`);
  events.forEach((slot, i) => {
    if (slot === null) return;
    for (const e of slot.Events ?? []) lines.push(`event slot=${i} ltime=${slot.LTime} name=${e.Name} payload=${hex(e.Payload ?? new Uint8Array(0))}`);
  });
  return lines;
}
