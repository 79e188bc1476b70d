// The multi-host test bed in CI (issue #9): hosts are network namespaces behind a bridge in a
// namespace of its own, agents find each other by mDNS (-discover, no join address), and the
// kernel makes the faults (nftables). Needs root; CI runs as root. Longer runs and the figures:
// `npm run testbed` (test/hosts/main.ts).
//
// Wall time: discovery ~5 s, then the four fault tests run side by side (one bed each):
// partition ~30 s, loss 70 s, one-way ~60 s, rejoin by discovery ~90–120 s.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test, type TestContext } from 'node:test';
import { sleep, TestBed, testBedUnavailable, type BedAgent } from './testbed.js';
import { MDNS_POLL_INTERVAL_MS } from '../../src/agent/discover.js';

const SHOAL_CLI = fileURLToPath(new URL('../../src/cli/shoal.js', import.meta.url));
import {
  crashAndDetect, detectionBoundMs, firstEvent, healBoundMs, partitionAndHeal, seconds, startDiscovering, underLoss, waitPairs, waitWhole,
  TIMINGS, type HostPlan,
} from './scenarios.js';
import { suspicionBounds } from '../../src/protocol/timing.js';

const unavailable = testBedUnavailable();
const LOSS_CI_MS = 60_000;
const FORM_LIMIT_MS = 20_000;

/** A bed torn down when the test ends, passed or failed (the sweep at create() catches a killed run). */
async function bedFor(t: TestContext, plan: readonly HostPlan[]): Promise<TestBed> {
  const bed = await TestBed.create(plan.map((p) => p.host));
  t.after(() => bed.destroy());
  return bed;
}

/** The agents' logs, for a failed assertion's message. */
function logs(agents: readonly BedAgent[]): string {
  return agents.map((a) => `--- ${a.kind} ${a.name}\n${a.lines.slice(-40).map((l) => l.text).join('\n')}`).join('\n');
}

/** A cluster formed by discovery alone (the fault tests start from here). */
async function formed(t: TestContext, plan: readonly HostPlan[], cluster: string): Promise<{ bed: TestBed; agents: BedAgent[] }> {
  const bed = await bedFor(t, plan);
  const { agents, lastStartMs } = await startDiscovering(bed, plan, cluster);
  const ms = await waitWhole(bed, agents, FORM_LIMIT_MS, lastStartMs);
  assert.notEqual(ms, null, `the ${plan.length} agents did not form one cluster by mDNS within ${FORM_LIMIT_MS / 1000} s\n${logs(agents)}`);
  return { bed, agents };
}

describe('multi-host test bed', { skip: unavailable ?? false }, () => {
  test('discovery: three shoal hosts and one serf host find each other with no join address within 10 s', { timeout: 60_000 }, async (t) => {
    const plan: HostPlan[] = [
      { host: 'shoal-1', kind: 'shoal' }, { host: 'shoal-2', kind: 'shoal' }, { host: 'shoal-3', kind: 'shoal' }, { host: 'serf-1', kind: 'serf' },
    ];
    const bed = await bedFor(t, plan);
    const { agents, lastStartMs } = await startDiscovering(bed, plan, 'bed-discovery');
    const ms = await waitWhole(bed, agents, 10_000, lastStartMs);
    assert.notEqual(ms, null, `not every agent listed all four alive within 10 s of the last start\n${logs(agents)}`);
    t.diagnostic(`full cluster ${seconds(ms)} s after the last start`);
    // The same through `shoal members` on the shoal hosts (the poll above used `serf members`).
    for (const a of agents.filter((x) => x.kind === 'shoal')) {
      const view = await bed.members(a, 'shoal');
      assert.deepEqual([...(view ?? [])].sort(), plan.map((p) => [p.host, 'alive']).sort(), `shoal members on ${a.name}`);
    }
    // Nobody joined through an address: every shoal agent logged its mDNS join.
    for (const a of agents.filter((x) => x.kind === 'shoal')) assert.match(a.log(), /mDNS cluster: bed-discovery/);
    assert.ok(agents.filter((x) => x.kind === 'shoal').some((a) => /agent\.mdns: Joined \d+ hosts/.test(a.log())), logs(agents));
  });

  describe('faults', { concurrency: true }, () => {
    test('discovery over IPv6 multicast only (-mdns-disable-ipv4): two shoal hosts and a serf host', { timeout: 60_000 }, async (t) => {
      const plan: HostPlan[] = [{ host: 'x1', kind: 'shoal' }, { host: 'x2', kind: 'shoal' }, { host: 'x3', kind: 'serf' }];
      const bed = await bedFor(t, plan);
      const agents: BedAgent[] = [];
      for (const p of plan) {
        // serf 0.9.4 has no such switch: it queries and answers on both families.
        const extra = p.kind === 'serf' ? [] : p.host === 'x2' ? ['-mdns-disable-ipv4', '-mdns-iface=eth0'] : ['-mdns-disable-ipv4'];
        agents.push(bed.startAgent(p.host, p.kind, { discover: 'bed-v6', extra, logLevel: 'debug' }));
        await sleep(200);
      }
      // 20 s, not 10: this bed starts while the other fault tests start theirs (node start-up under load).
      const ms = await waitWhole(bed, agents, FORM_LIMIT_MS, agents[2]?.startedAtMs);
      assert.notEqual(ms, null, `not whole within ${FORM_LIMIT_MS / 1000} s over IPv6 mDNS\n${logs(agents)}`);
      // The shoal agents found their peers themselves (their IPv4 multicast was off).
      for (const a of agents.filter((x) => x.kind === 'shoal')) assert.match(a.log(), /agent\.mdns: found \S+ at 198\.18\.0\.\d+:7946/, logs([a]));
      t.diagnostic(`whole ${seconds(ms)} s after the last start`);
      // An interface the host does not have: the agent exits 1 and names the flag and the choices.
      const bad = await bed.exec(bed.host('x1'), [process.execPath, SHOAL_CLI, 'agent', '-node=bad', '-bind=198.18.0.10:7950', '-rpc-addr=127.0.0.1:7374', '-discover=bed-v6', '-mdns-iface=nosuch0'], 20_000);
      assert.equal(bad.code, 1, bad.stdout + bad.stderr);
      assert.match(bad.stderr, /mDNS interface "nosuch0" not found \(this host has: .*eth0.*\): give -mdns-iface one of those/);
    });

    test('discovery keeps working: an agent cut off until its peers forgot it comes back at the next mDNS poll', { timeout: 170_000 }, async (t) => {
      // Serf's reconnect loop is turned off (reconnect_interval 1 h) and the partition outlasts
      // memberlist's gossip to the dead (30 s): nothing but discovery's poll (every 60 s) can
      // bring the agent back. Serf's own mDNS would not: it never joins an address twice.
      const dir = mkdtempSync(join(tmpdir(), 'shoal-bed-'));
      t.after(() => rmSync(dir, { recursive: true, force: true }));
      const config = join(dir, 'no-reconnect.json');
      writeFileSync(config, JSON.stringify({ reconnect_interval: '1h' }));
      const plan: HostPlan[] = [{ host: 'iso', kind: 'shoal' }, { host: 'r1', kind: 'shoal' }, { host: 'r2', kind: 'shoal' }];
      const bed = await bedFor(t, plan);
      const { agents, lastStartMs } = await startDiscovering(bed, plan, 'bed-rejoin', 200, [`-config-file=${config}`]);
      assert.notEqual(await waitWhole(bed, agents, FORM_LIMIT_MS, lastStartMs), null, logs(agents));
      const [iso, ...rest] = agents as [BedAgent, ...BedAgent[]];
      const cutAt = Date.now();
      await bed.partition([iso.host.name], rest.map((r) => r.host.name));
      const failed = [
        ...(await waitPairs(rest, [iso.name], 'failed', cutAt, detectionBoundMs(3))),
        ...(await waitPairs([iso], rest.map((r) => r.name), 'failed', cutAt, detectionBoundMs(3))),
      ];
      assert.deepEqual(failed.filter((f) => f.ms === null), [], `the sides did not declare each other failed\n${logs(agents)}`);
      // Past the gossip to the dead, then the links come back: nothing happens until a poll.
      await sleep(Math.max(...failed.map((f) => f.ms as number)) + cutAt + TIMINGS.gossipToTheDeadTimeMs + 1_000 - Date.now());
      const healAt = Date.now();
      await bed.heal();
      const wholeMs = await waitWhole(bed, agents, MDNS_POLL_INTERVAL_MS + 10_000, healAt);
      assert.notEqual(wholeMs, null, `not whole within a poll interval of the heal\n${logs(agents)}`);
      const rejoinedBy = agents.filter((a) => a.lines.some((l) => l.atMs >= healAt && /agent\.mdns: Joined \d+ hosts/.test(l.text)));
      assert.ok(rejoinedBy.length > 0, `no agent rejoined through mDNS\n${logs(agents)}`);
      assert.ok(agents.every((a) => !/attempting reconnect/.test(a.log())), 'Serf reconnect ran: it should be off in this test');
      t.diagnostic(`whole ${seconds(wholeMs)} s after the heal, rejoined by mDNS at ${rejoinedBy.map((a) => a.name).join(', ')}`);
    });

    test('3 + 2 partition: each side marks the other failed; after the heal all five alive within push/pull + detection bound', { timeout: 150_000 }, async (t) => {
      const plan: HostPlan[] = [
        { host: 'a1', kind: 'shoal' }, { host: 'a2', kind: 'shoal' }, { host: 'a3', kind: 'serf' }, { host: 'b1', kind: 'shoal' }, { host: 'b2', kind: 'serf' },
      ];
      const { bed, agents } = await formed(t, plan, 'bed-partition');
      const r = await partitionAndHeal(bed, agents.slice(0, 3), agents.slice(3));
      const missing = r.detections.filter((d) => d.ms === null);
      assert.deepEqual(missing, [], `not marked failed within the detection bound (${detectionBoundMs(5) / 1000} s)\n${logs(agents)}`);
      assert.ok(r.sidesSawFailed, `members: a side does not list the other failed\n${logs(agents)}`);
      assert.deepEqual(r.sameSideFailures, [], `an agent marked a member of its own side failed during the partition\n${logs(agents)}`);
      assert.notEqual(r.wholeMs, null, `not all five alive everywhere within ${healBoundMs(5) / 1000} s of the heal\n${logs(agents)}`);
      const det = r.detections.map((d) => d.ms as number);
      t.diagnostic(`detection: first ${seconds(Math.min(...det))} s, last ${seconds(Math.max(...det))} s; whole again ${seconds(r.wholeMs)} s after the heal; ${r.healFlaps.length} same-side failures right after the heal (stale dead messages, refuted)`);
      t.diagnostic(`pairs: ${r.detections.map((d) => `${d.observer}>${d.subject} ${seconds(d.ms)}`).join(', ')}`);
    });

    test('10% loss on every link: no healthy agent is ever marked failed', { timeout: 150_000 }, async (t) => {
      const plan: HostPlan[] = [
        { host: 'l1', kind: 'shoal' }, { host: 'l2', kind: 'shoal' }, { host: 'l3', kind: 'shoal' }, { host: 'l4', kind: 'serf' }, { host: 'l5', kind: 'serf' },
      ];
      const { bed, agents } = await formed(t, plan, 'bed-loss');
      const r = await underLoss(bed, agents, 10, LOSS_CI_MS);
      assert.deepEqual(r.falsePositives, [], `healthy agents marked failed under 10% loss\n${logs(agents)}`);
      assert.ok(agents.every((a) => a.running), 'an agent exited');
      // The loss was real: a crash is still detected through it.
      const c = await crashAndDetect(agents[4] as BedAgent, agents, detectionBoundMs(5));
      assert.deepEqual(c.detections.filter((d) => d.ms === null), [], `the crash of ${c.victim} was not detected under 10% loss\n${logs(agents)}`);
      t.diagnostic(`${LOSS_CI_MS / 1000} s at 10% loss: 0 false positives; crash detected in ${c.detections.map((d) => seconds(d.ms)).join(', ')} s`);
    });

    test('one-way partition: the silent host is marked failed fast (confirmed); its own suspicions run to the maximum; the others stay healthy', { timeout: 170_000 }, async (t) => {
      const plan: HostPlan[] = [
        { host: 'mute', kind: 'shoal' }, { host: 'o1', kind: 'shoal' }, { host: 'o2', kind: 'serf' }, { host: 'o3', kind: 'shoal' }, { host: 'o4', kind: 'serf' },
      ];
      const { bed, agents } = await formed(t, plan, 'bed-oneway');
      const [mute, ...others] = agents as [BedAgent, ...BedAgent[]];
      const cutAt = Date.now();
      // Everything mute sends is lost; it still hears everyone. Its acks never arrive, so the
      // others suspect it, and each suspicion is confirmed by the others (Lifeguard §IV-B): the
      // timeout shrinks towards the minimum. Its refutations are lost too. Its own probes get
      // no answer either, but nobody can confirm its suspicions: they run the full maximum.
      await bed.partition([mute.host.name], others.map((o) => o.host.name), true);
      const bound = detectionBoundMs(5);
      const seen = await waitPairs(others, [mute.name], 'failed', cutAt, bound);
      assert.deepEqual(seen.filter((d) => d.ms === null), [], `the others did not mark the silent host failed within ${bound / 1000} s\n${logs(agents)}`);
      const { maxMs } = suspicionBounds(TIMINGS.suspicionMult, TIMINGS.suspicionMaxTimeoutMult, 5, TIMINGS.probeIntervalMs);
      const muteSaw = await waitPairs([mute], [others[0]?.name as string], 'failed', cutAt, bound);
      const firstByMute = Math.min(...others.map((o) => firstEvent(mute, 'failed', o.name, cutAt)?.atMs ?? Number.POSITIVE_INFINITY)) - cutAt;
      assert.ok(Number.isFinite(firstByMute) && muteSaw.length > 0, `the silent host marked nobody failed within ${bound / 1000} s\n${logs([mute])}`);
      const slowestOther = Math.max(...seen.map((d) => d.ms as number));
      assert.ok(firstByMute >= maxMs - 1_000, `the silent host marked a member failed after ${seconds(firstByMute)} s: unconfirmed suspicions should last the maximum ${maxMs / 1000} s`);
      assert.ok(slowestOther < firstByMute, `the others (confirmed, last after ${seconds(slowestOther)} s) should be faster than the silent host's unconfirmed suspicions (${seconds(firstByMute)} s)`);
      const healthy = new Set(others.map((o) => o.name));
      const wrong = bed.events('failed').filter((e) => e.atMs >= cutAt && healthy.has(e.observer) && healthy.has(e.subject));
      assert.deepEqual(wrong, [], 'a one-way fault at one host made the others fail each other');
      const healAt = Date.now();
      await bed.heal();
      const wholeMs = await waitWhole(bed, agents, healBoundMs(5), healAt);
      assert.notEqual(wholeMs, null, `not all five alive everywhere within ${healBoundMs(5) / 1000} s of the heal\n${logs(agents)}`);
      t.diagnostic(`others marked it failed after ${seen.map((d) => seconds(d.ms)).join(', ')} s; it marked its first after ${seconds(firstByMute)} s; whole ${seconds(wholeMs)} s after the heal`);
    });
  });
});
