#!/usr/bin/env node
// The npm registry this project installs from lacks msgpackr-extract's prebuilt packages for
// other platforms (macOS, Windows, 32-bit ARM). `npm install` then writes a package-lock.json
// without them, and `npm ci` refuses that lock as out of sync. This adds the missing entries
// (optional, platform-restricted, never installed here) so `npm ci` accepts the lock.
// Run it after any `npm install` that rewrites package-lock.json.
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
let added = 0;
for (const entry of Object.values(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const depKey = `node_modules/${dep}`;
    if (packages[depKey] !== undefined || !dep.startsWith('@msgpackr-extract/')) continue;
    const platform = dep.split('msgpackr-extract-')[1] ?? '';
    const [os, cpu] = platform.split('-');
    packages[depKey] = { version, cpu: [cpu], license: 'MIT', optional: true, os: [os] };
    added++;
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : a > b ? 1 : 0)));
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lock: added ${added} missing optional platform entr${added === 1 ? 'y' : 'ies'}`);
