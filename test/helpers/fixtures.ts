// Reads the golden wire vectors captured from real serf 0.9.4 agents (shared/fixtures/serf-0.9.4).
// The shared folder sits beside the repository; SHOAL_SHARED overrides where it is.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One node of a decoded tree in index.json: loosely typed, fields vary by layer. */
export interface FixtureNode {
  readonly [field: string]: unknown;
}

export interface FixtureFile {
  readonly file: string;
  readonly transport: 'udp' | 'tcp';
  readonly length: number;
  readonly decoded: FixtureNode;
}

export interface FixtureIndex {
  readonly encryption_key_base64: string;
  readonly encryption_key_hex: string;
  readonly files: readonly FixtureFile[];
}

// Tests run from dist/test/..., so walk up to the directory holding package.json.
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('no package.json above the test helpers');
    dir = parent;
  }
  return dir;
}

export const sharedDir = process.env.SHOAL_SHARED ?? resolve(repositoryRoot(), '../shared');
export const fixturesDir = join(sharedDir, 'fixtures/serf-0.9.4');

let index: FixtureIndex | undefined;

export function loadIndex(): FixtureIndex {
  index ??= JSON.parse(readFileSync(join(fixturesDir, 'index.json'), 'utf8')) as FixtureIndex;
  return index;
}

export function readFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(fixturesDir, name)));
}

export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

export function fromHex(text: string): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(text)) throw new Error(`not hex: ${text.slice(0, 40)}`);
  return new Uint8Array(Buffer.from(text, 'hex'));
}

/** Calls `visit` on every object in a decoded tree (depth first, the node before its children). */
export function walk(node: unknown, visit: (node: FixtureNode) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, visit);
  } else if (node !== null && typeof node === 'object') {
    visit(node as FixtureNode);
    for (const value of Object.values(node)) walk(value, visit);
  }
}
