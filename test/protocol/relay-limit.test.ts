// Indirect-ping relays are rate limited (src/protocol/rate-limit.ts): per requester and per node,
// on the injected clock, so an outsider cannot use an agent as a packet cannon toward an address
// of its choice — while a healthy cluster, crashes included, never meets the limits.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Address } from '../../src/protocol/address.js';
import { DEFAULT_RELAY_LIMITS, RelayLimiter, TokenBucket } from '../../src/protocol/rate-limit.js';
import { encodeMessage, type MemberlistMessage } from '../../src/wire/messages.js';
import { encodePacket } from '../../src/wire/packet.js';
import { SimCluster, simAddress } from '../../sim/cluster.js';
import { Driver, ipv4 } from './harness.js';

const VICTIM: Address = { ip: ipv4(192, 0, 2, 1), port: 9 };

function relayRequest(seqNo: number, target: Address = VICTIM, node = 'victim'): MemberlistMessage {
  return { type: 'indirectPing', body: { SeqNo: seqNo, Target: target.ip, Port: target.port, Node: node, Nack: true } };
}

function pingsTo(d: Driver, to: Address): number {
  let n = 0;
  for (const s of d.takeSent()) {
    const sameTarget = s.to.port === to.port && s.to.ip.every((b, i) => b === to.ip[i]);
    if (sameTarget && s.messages.some((m) => m.type === 'ping')) n++;
  }
  return n;
}

describe('token bucket', () => {
  test('lets a burst through, then one token per 1/rate seconds; never holds more than the burst', () => {
    const b = new TokenBucket({ burst: 3, perSecond: 2 }, 0);
    assert.deepEqual([0, 0, 0, 0].map(() => b.tryTake(0)), [true, true, true, false]);
    assert.equal(b.tryTake(499), false);
    assert.equal(b.tryTake(500), true);
    assert.equal(b.tryTake(500), false);
    // A long idle spell refills to the burst, not beyond.
    const after = [0, 0, 0, 0].map(() => b.tryTake(100_000));
    assert.deepEqual(after, [true, true, true, false]);
  });

  test('refuses nonsense limits', () => {
    assert.throws(() => new TokenBucket({ burst: 0, perSecond: 1 }, 0), RangeError);
    assert.throws(() => new TokenBucket({ burst: 1, perSecond: 0 }, 0), RangeError);
  });

  test('the source map stays bounded under a flood of distinct requesters; the global bucket holds', () => {
    const l = new RelayLimiter({ perSource: { burst: 1, perSecond: 1 }, global: { burst: 10, perSecond: 1 }, maxSources: 64 }, 0);
    let ok = 0;
    for (let i = 0; i < 10_000; i++) if (l.allow(`10.0.${i >> 8}.${i & 255}:1`, 0) === 'ok') ok++;
    assert.equal(ok, 10);
    assert.ok(l.trackedSources <= 64, `tracked ${l.trackedSources}`);
  });
});

describe('an agent as relay (one core, virtual clock)', () => {
  const ATTACKER: Address = { ip: ipv4(203, 0, 113, 7), port: 40_000 };

  test('one requester flooding relay requests gets its burst, then its rate; the rest are refused and counted', () => {
    const d = new Driver({ name: 'self', gossipNodes: 0, pushPullIntervalMs: 0 }).start();
    d.takeSent();
    const { burst, perSecond } = DEFAULT_RELAY_LIMITS.perSource;
    // 1,000 requests in the first millisecond.
    for (let i = 0; i < 1_000; i++) d.receive(ATTACKER, relayRequest(i));
    assert.equal(pingsTo(d, VICTIM), burst);
    assert.equal(d.ml.stats.indirectPingsRefused, 1_000 - burst);
    // Then 10 requests a second for 10 seconds: perSecond of them go out each second.
    let relayed = 0;
    for (let s = 0; s < 10; s++) {
      for (let i = 0; i < 10; i++) {
        d.advanceBy(100, []);
        d.receive(ATTACKER, relayRequest(10_000 + s * 10 + i));
      }
      relayed += pingsTo(d, VICTIM);
    }
    assert.ok(relayed >= perSecond * 10 - 1 && relayed <= perSecond * 10 + 1, `relayed ${relayed} in 10 s`);
    assert.ok(d.takeLogs().some((l) => l.level === 'WARN' && /relay rate limit/.test(l.message)), 'the refusal is logged');
  });

  test('many requesters (rotating source ports) together get no more than the global budget', () => {
    const d = new Driver({ name: 'self', gossipNodes: 0, pushPullIntervalMs: 0 }).start();
    d.takeSent();
    for (let i = 0; i < 5_000; i++) d.receive({ ip: ATTACKER.ip, port: 1_024 + i }, relayRequest(i));
    assert.equal(pingsTo(d, VICTIM), DEFAULT_RELAY_LIMITS.global.burst);
    assert.equal(d.ml.stats.indirectPingsRefused, 5_000 - DEFAULT_RELAY_LIMITS.global.burst);
  });

  test('the limits are configurable per node', () => {
    const d = new Driver({ name: 'self', gossipNodes: 0, pushPullIntervalMs: 0, relayLimits: { perSource: { burst: 1, perSecond: 1 }, global: { burst: 1, perSecond: 1 }, maxSources: 8 } }).start();
    d.takeSent();
    for (let i = 0; i < 5; i++) d.receive(ATTACKER, relayRequest(i));
    assert.equal(pingsTo(d, VICTIM), 1);
    assert.equal(d.ml.stats.indirectPingsRefused, 4);
  });
});

describe('on the simulated network', () => {
  test('a healthy 24-node cluster with crashes and 10% loss never meets the relay limits, and still detects every crash', () => {
    const c = new SimCluster({ seed: 10 });
    c.formConverged(24);
    c.setLoss(0.1);
    const crashed = ['node-3', 'node-9', 'node-15', 'node-21'];
    for (const name of crashed) c.crash(name);
    const detected = c.runUntil(() => crashed.every((name) => c.allSee(name, 'dead')), 120_000);
    c.run(30_000);
    assert.ok(detected, 'every crash is detected everywhere');
    const refused = c.hosts.reduce((sum, h) => sum + h.engine.stats.indirectPingsRefused, 0);
    const indirect = c.hosts.reduce((sum, h) => sum + h.engine.stats.indirectProbes, 0);
    assert.ok(indirect > 0, 'indirect probes happened');
    assert.equal(refused, 0, 'no legitimate relay request was refused');
  });

  test('an outsider flooding one member with relay requests: the member relays within its budget and the cluster stays healthy', () => {
    const c = new SimCluster({ seed: 11 });
    c.formConverged(8);
    const target = c.host('node-0');
    const outsider: Address = { ip: ipv4(203, 0, 113, 9), port: 5000 };
    const packet = (seq: number): Uint8Array => encodePacket([encodeMessage(relayRequest(seq, simAddress(5), 'node-5'))], { compress: false, crc: false });
    const sentBefore = target.engine.stats.packetsSent;
    // 200 requests a second for 20 seconds.
    for (let i = 0; i < 4_000; i++) {
      c.run(5);
      target.deliverPacket(outsider, packet(i));
    }
    const { burst, perSecond } = DEFAULT_RELAY_LIMITS.perSource;
    assert.ok(target.engine.stats.indirectPingsRefused >= 4_000 - burst - perSecond * 21, `refused ${target.engine.stats.indirectPingsRefused}`);
    // What node-0 sent in 20 s: its own protocol traffic plus at most burst + 20 s × rate relays
    // (and as many nacks). Without the limit it would be 4,000 pings more.
    const sent = target.engine.stats.packetsSent - sentBefore;
    assert.ok(sent < 400, `node-0 sent ${sent} packets in 20 s`);
    for (const h of c.hosts) assert.equal(h.engine.stats.suspicionsStarted, 0, `${h.name} suspected nobody`);
    assert.ok(c.converged());
  });
});
