// The codec against real bytes: every vector captured from serf 0.9.4 (shared/fixtures) must
// decode completely to what index.json says, and re-encoding must give back the captured bytes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decryptPacket, decryptStreamFrame, Keyring } from '../../src/wire/encryption.js';
import { structToJson, type Json } from '../../src/wire/json.js';
import { aliveSchema, pushNodeStateSchema, pushPullHeaderSchema } from '../../src/wire/memberlist-schemas.js';
import { bodySchemas, encodeMessage, type MemberlistMessage } from '../../src/wire/messages.js';
import { addCrc, compressMessage, decodePacket, encodeCompound } from '../../src/wire/packet.js';
import { decodeQueryFilter, decodeSerfMessage, encodeSerfMessage, type SerfMessage } from '../../src/wire/serf.js';
import {
  conflictMemberSchema, joinSchema, keyRequestSchema, keyResponseSchema, leaveSchema, pushPullSchema,
  queryResponseSchema, querySchema, relayHeaderSchema, userEventSchema,
} from '../../src/wire/serf-schemas.js';
import { encodeStream, parseStream, type StreamMessage } from '../../src/wire/stream.js';
import { decodeTags } from '../../src/wire/tags.js';
import { fromHex, hex, loadIndex, readFixture, type FixtureFile, type FixtureNode } from '../helpers/fixtures.js';

const index = loadIndex();
const keyring = Keyring.fromBase64([index.encryption_key_base64]);

const serfSchemas = {
  leave: leaveSchema, join: joinSchema, pushPull: pushPullSchema, userEvent: userEventSchema, query: querySchema,
  queryResponse: queryResponseSchema, conflictResponse: conflictMemberSchema, keyRequest: keyRequestSchema,
  keyResponse: keyResponseSchema,
} as const;

const WRAPPERS: Record<number, string> = { 7: 'compound', 9: 'compress', 12: 'crc' };

/** The wrappers of a decoded index tree, outermost first, as decodePacket reports them. */
function expectedLayers(node: FixtureNode, out: string[] = []): string[] {
  if (node.layer === 'encryption' || node.type === 10) out.push('encrypt');
  else if (typeof node.type === 'number' && WRAPPERS[node.type] !== undefined) out.push(WRAPPERS[node.type] as string);
  if (node.inner !== undefined && node.layer !== 'serf') expectedLayers(node.inner as FixtureNode, out);
  for (const part of (node.parts as FixtureNode[] | undefined) ?? []) expectedLayers(part, out);
  return out;
}

/** The plain memberlist messages of an index tree, in order. */
function expectedMessages(node: FixtureNode, out: FixtureNode[] = []): FixtureNode[] {
  const isWrapper = node.layer === 'encryption' || node.type === 10 || (typeof node.type === 'number' && WRAPPERS[node.type] !== undefined);
  if (!isWrapper) out.push(node);
  else if (node.parts !== undefined) for (const part of node.parts as FixtureNode[]) expectedMessages(part, out);
  else expectedMessages(node.inner as FixtureNode, out);
  return out;
}

function json(value: unknown): Json {
  return JSON.parse(JSON.stringify(value)) as Json;
}

function checkSerf(actual: SerfMessage, expected: FixtureNode, where: string): void {
  assert.equal(expected.layer, 'serf', where);
  assert.equal(encodeTypeId(actual), expected.type, `${where}: serf type`);
  if (actual.type === 'relay') {
    assert.deepEqual(structToJson(relayHeaderSchema, actual.header), json(expected.relayHeader), `${where}: relay header`);
    checkSerf(actual.inner, expected.inner as FixtureNode, `${where} > relayed`);
    return;
  }
  const body = actual.body === null ? null : structToJson(serfSchemas[actual.type], actual.body);
  assert.deepEqual(body, json(expected.body), `${where}: ${actual.type} body`);
  if (actual.type === 'query' && expected.filters_decoded !== undefined) {
    const filters = (actual.body.Filters ?? []).map((f) => {
      const filter = decodeQueryFilter(f);
      return filter.type === 'node' ? filter.nodes : { Expr: filter.filter.Expr, Tag: filter.filter.Tag };
    });
    assert.deepEqual(filters, (expected.filters_decoded as FixtureNode[]).map((f) => json(f.value)), `${where}: filters`);
  }
  // Internal queries and their answers carry Serf messages in their payloads (§8.7, §8.10).
  const decodedPayload = expected.payload_decoded as FixtureNode | undefined;
  if (decodedPayload?.layer === 'serf' && (actual.type === 'query' || actual.type === 'queryResponse')) {
    checkSerf(decodeSerfMessage(actual.body.Payload as Uint8Array), decodedPayload, `${where} > payload`);
  }
}

const serfTypeIds = { leave: 0, join: 1, pushPull: 2, userEvent: 3, query: 4, queryResponse: 5, conflictResponse: 6, keyRequest: 7, keyResponse: 8, relay: 9 } as const;
function encodeTypeId(msg: SerfMessage): number {
  return serfTypeIds[msg.type];
}

const memberlistTypeIds = { ping: 0, indirectPing: 1, ack: 2, suspect: 3, alive: 4, dead: 5, user: 8, nack: 11, err: 13 } as const;

function checkMessage(actual: MemberlistMessage, expected: FixtureNode, where: string): void {
  assert.equal(memberlistTypeIds[actual.type], expected.type, `${where}: type`);
  if (actual.type === 'user') {
    checkSerf(decodeSerfMessage(actual.payload), expected.serf as FixtureNode, `${where} > serf`);
    return;
  }
  assert.deepEqual(structToJson(bodySchemas[actual.type], actual.body), json(expected.body), `${where}: ${actual.type} body`);
  if (actual.type === 'alive') {
    const tags = (expected.meta_decoded as FixtureNode).tags;
    assert.deepEqual(Object.fromEntries(decodeTags(actual.body.Meta)), json(tags), `${where}: tags`);
  }
}

/** Re-encodes a UDP packet (below encryption) from the decoded messages, following the captured layering. */
function rebuild(node: FixtureNode, messages: Iterator<MemberlistMessage>): Uint8Array {
  switch (node.type) {
    case 12: return addCrc(rebuild(node.inner as FixtureNode, messages));
    case 9: return compressMessage(rebuild(node.inner as FixtureNode, messages));
    case 7: return encodeCompound((node.parts as FixtureNode[]).map((part) => rebuild(part, messages)));
    default: {
      const next = messages.next();
      assert.ok(!next.done, 'ran out of decoded messages while rebuilding');
      const msg = next.value;
      // Re-encode user messages through the Serf codec too, so Serf bodies are checked byte for byte.
      if (msg.type === 'user') return encodeMessage({ type: 'user', payload: encodeSerfMessage(decodeSerfMessage(msg.payload)) });
      return encodeMessage(msg);
    }
  }
}

const udpFiles = index.files.filter((f) => f.transport === 'udp');
const tcpFiles = index.files.filter((f) => f.transport === 'tcp' && f.decoded.layer !== 'serf-rpc');
const rpcFiles = index.files.filter((f) => f.decoded.layer === 'serf-rpc');

test('the index covers every captured file, and each is tested here or in rpc.test', () => {
  assert.equal(index.files.length, 76);
  assert.equal(udpFiles.length + tcpFiles.length + rpcFiles.length, index.files.length);
  assert.equal(rpcFiles.length, 6);
});

function checkUdp(file: FixtureFile): void {
  const bytes = readFixture(file.file);
  assert.equal(bytes.length, file.length);
  const encrypted = file.decoded.layer === 'encryption';
  const decoded = decodePacket(bytes, encrypted ? { keyring } : {});
  if (!decoded.ok) assert.fail(`${file.file}: ${decoded.error.message}`);
  const { layers, messages } = decoded.value;
  assert.deepEqual(layers, expectedLayers(file.decoded), 'layers');
  const expected = expectedMessages(file.decoded);
  assert.equal(messages.length, expected.length, 'message count');
  messages.forEach((msg, i) => checkMessage(msg, expected[i] as FixtureNode, `${file.file} message ${i}`));

  // Byte-exact re-encoding below the encryption layer (the nonce is random, so compare plaintext).
  const plaintext = encrypted ? decryptPacket(keyring, bytes).plaintext : bytes;
  const top = encrypted ? (file.decoded.inner as FixtureNode) : file.decoded;
  assert.equal(hex(rebuild(top, messages[Symbol.iterator]())), hex(plaintext), `${file.file}: re-encoded bytes`);
}

function checkStreamMessage(actual: StreamMessage, expected: FixtureNode, where: string): void {
  assert.equal(expected.type, { pushPull: 6, ping: 0, ack: 2, user: 8, err: 13 }[actual.type], `${where}: type`);
  if (actual.type === 'pushPull') {
    assert.deepEqual(structToJson(pushPullHeaderSchema, actual.header), json(expected.header), `${where}: header`);
    const nodes = expected.nodes as FixtureNode[];
    assert.equal(actual.nodes.length, nodes.length, `${where}: node count`);
    actual.nodes.forEach((node, i) => {
      const want = nodes[i] as FixtureNode;
      assert.deepEqual(structToJson(pushNodeStateSchema, node), json(want.state), `${where}: node ${i}`);
      assert.deepEqual(Object.fromEntries(decodeTags(node.Meta)), json((want.meta_decoded as FixtureNode).tags), `${where}: node ${i} tags`);
    });
    checkSerf(decodeSerfMessage(actual.userState), expected.user_state as FixtureNode, `${where} > user state`);
  } else if (actual.type === 'user') {
    checkSerf(decodeSerfMessage(actual.payload), expected.serf as FixtureNode, `${where} > serf`);
  } else {
    const schema = bodySchemas[actual.type];
    assert.deepEqual(structToJson(schema, actual.body), json(expected.body), `${where}: body`);
  }
}

function checkTcp(file: FixtureFile): void {
  const bytes = readFixture(file.file);
  const encrypted = bytes[0] === 10;
  const options = encrypted ? { keyring } : {};
  const parsed = parseStream(bytes, options);
  if (parsed.status !== 'complete') assert.fail(`${file.file}: ${parsed.status === 'error' ? parsed.error.message : `incomplete, needs ${parsed.needed}`}`);
  assert.equal(parsed.consumed, bytes.length, 'the message is the whole stream');
  assert.deepEqual(parsed.layers, expectedLayers(file.decoded), 'layers');
  const [leaf] = expectedMessages(file.decoded);
  checkStreamMessage(parsed.message, leaf as FixtureNode, file.file);

  const plaintext = encrypted ? decryptStreamFrame(keyring, bytes).plaintext : bytes;
  const compress = parsed.layers.includes('compress');
  assert.equal(hex(encodeStream(parsed.message, { compress })), hex(plaintext), `${file.file}: re-encoded bytes`);

  // Fed in small pieces, the parser waits for more and then gives the same message.
  for (let cut = 1; cut < bytes.length; cut += Math.max(1, Math.floor(bytes.length / 17))) {
    const partial = parseStream(bytes.subarray(0, cut), options);
    assert.equal(partial.status, 'incomplete', `${file.file}: cut at ${cut}`);
    if (partial.status === 'incomplete') assert.ok(partial.needed >= 1 && cut + partial.needed <= bytes.length, `${file.file}: needed ${partial.needed} at ${cut}`);
  }
}

describe('UDP vectors decode completely and re-encode to the captured bytes', () => {
  for (const file of udpFiles) test(file.file, () => checkUdp(file));
});

describe('TCP vectors decode completely and re-encode to the captured bytes', () => {
  for (const file of tcpFiles) test(file.file, () => checkTcp(file));
});

test('every CRC in the vectors verifies', () => {
  let crcs = 0;
  for (const file of udpFiles) {
    const result = decodePacket(readFixture(file.file), file.decoded.layer === 'encryption' ? { keyring } : {});
    assert.ok(result.ok);
    if (result.value.layers.includes('crc')) crcs++;
  }
  assert.equal(crcs, 24);
});

test('a wrong key or no key refuses the encrypted vectors; a flipped bit fails the CRC', () => {
  const other = Keyring.fromBase64(['AAAAAAAAAAAAAAAAAAAAAA==']);
  const ping = readFixture('51_8_udp-encrypted-ping.bin');
  const wrong = decodePacket(ping, { keyring: other });
  assert.ok(!wrong.ok && wrong.error.layer === 'encrypt');
  const crcPacket = readFixture('18_3a_udp-gossip-crc-suspect.bin').slice();
  crcPacket[20] = (crcPacket[20] as number) ^ 0x01;
  const bad = decodePacket(crcPacket);
  assert.ok(!bad.ok && bad.error.layer === 'crc' && /CRC mismatch/.test(bad.error.reason));
  const plainToEncrypted = parseStream(readFixture('61_8b_tcp-plain-pushpull-to-encrypted-node.bin'), { keyring });
  assert.ok(plainToEncrypted.status === 'error' && /not encrypted/.test(plainToEncrypted.error.reason));
  const encryptedToPlain = parseStream(readFixture('59_8b_tcp-encrypted-pushpull-to-plain-node.bin'));
  assert.ok(encryptedToPlain.status === 'error' && /encryption is not configured/.test(encryptedToPlain.error.reason));
});

test('alive Meta and push/pull node tags decode as Serf tags', () => {
  const result = decodePacket(readFixture('48_7_udp-gossip-crc-alive-tags.bin'));
  assert.ok(result.ok);
  const alive = result.value.messages[0];
  assert.ok(alive?.type === 'alive');
  assert.deepEqual(Object.fromEntries(decodeTags(alive.body.Meta)), { role: 'web', dc: 'lab' });
  assert.deepEqual(structToJson(aliveSchema, alive.body).Vsn, '010502020505');
  assert.equal(fromHex('ff80').length, 2);
});
