// The fuzz targets of `npm run fuzz:all` (bench/hardening/fuzz-targets.ts) for a second each in CI,
// fixed seed: the protocol engine fed mutated packets and streams, config files, HTTP API bodies and
// DNS queries. (The codec target has its own CI test, test/wire/fuzz.test.ts; the RPC target
// answers fuzzed commands such as join, so it runs only in the long runs, inside a network
// namespace of its own.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TARGETS, type FuzzCrash } from '../../bench/hardening/fuzz-targets.js';

// http-body and dns start an agent on 127.0.0.1 (ports 25520 and up).
for (const name of ['engine-udp', 'engine-tcp', 'config', 'http-body', 'dns']) {
  test(`fuzz target ${name}: a second of inputs, no crash`, async () => {
    const target = TARGETS[name];
    assert.ok(target !== undefined);
    const runner = await target.open({ seed: 20_261_122, extraSeeds: [], portBase: name === 'http-body' ? 25_520 : name === 'dns' ? 25_530 : 25_300, log: () => {} });
    const crashes: string[] = [];
    try {
      const ran = await runner.run(1_000, 0, (crash: FuzzCrash, it: number) => crashes.push(`#${it}: ${crash.message}`));
      assert.ok(ran > 500, `only ${ran} inputs ran`);
    } finally {
      await runner.close();
    }
    assert.deepEqual(crashes, []);
  });
}
