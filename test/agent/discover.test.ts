// mDNS discovery's pure parts (src/agent/discover.ts): the records an agent answers with, the
// peers read from answers (in hashicorp/mdns's layout too), who gets joined, and the settings.
// The sockets are exercised across real namespaces in test/hosts/testbed.test.ts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as dnsPacket from 'dns-packet';
import type { Answer, RecordType } from 'dns-packet';
import { checkClusterName, joinCandidates, mdnsServiceName, peersFromResponse, ServiceRecords } from '../../src/agent/discover.js';
import { ConfigError, decodeConfig, resolveSettings, settingsFromFlags, type HostInfo } from '../../src/agent/config.js';

const SERVICE = '_serf_c1._tcp.local';

/** Through the wire and back, as a peer would read it. */
function roundTrip(answers: Answer[]): Answer[] {
  const decoded = dnsPacket.decode(dnsPacket.encode({ type: 'response', answers }));
  return [...(decoded.answers ?? []), ...(decoded.additionals ?? [])];
}

describe('records', () => {
  const records = new ServiceRecords('c1', { nodeName: 'web-1', ip: '198.18.0.7', port: 7950 });

  test('a PTR query for the cluster service is answered with PTR, SRV, A and TXT, as hashicorp/mdns does', () => {
    const answers = records.answer({ name: `${SERVICE}`, type: 'PTR' });
    assert.deepEqual(answers.map((a) => a.type), ['PTR', 'SRV', 'A', 'TXT']);
    assert.equal(mdnsServiceName('c1'), '_serf_c1._tcp');
    const { peers, incomplete } = peersFromResponse(roundTrip(answers), SERVICE, false);
    assert.deepEqual(peers, [{ instance: `web-1.${SERVICE}`, ip: '198.18.0.7', port: 7950 }]);
    assert.deepEqual(incomplete, []);
    const txt = roundTrip(answers).find((a) => a.type === 'TXT');
    assert.deepEqual(txt?.type === 'TXT' && Array.isArray(txt.data) ? txt.data.map(String) : null, ["Serf 'c1' cluster"]);
  });

  test('names match case-insensitively, with or without the trailing dot; other services get nothing', () => {
    assert.equal(records.answer({ name: '_SERF_c1._tcp.local.', type: 'PTR' }).length, 4);
    assert.deepEqual(records.answer({ name: '_serf_c2._tcp.local', type: 'PTR' }), []);
    assert.deepEqual(records.answer({ name: '_http._tcp.local', type: 'PTR' }), []);
    assert.deepEqual(records.answer({ name: `web-1.${SERVICE}`, type: 'AAAA' }), []);
    assert.deepEqual(records.answer({ name: `web-1.${SERVICE}`, type: 'ANY' as RecordType }).map((a) => a.type), ['SRV', 'A', 'TXT']);
    assert.deepEqual(records.answer({ name: `web-1.${SERVICE}`, type: 'SRV' }).map((a) => a.type), ['SRV', 'A']);
  });

  test('an IPv6 advertise address is an AAAA record', () => {
    const v6 = new ServiceRecords('c1', { nodeName: 'v6', ip: 'fd00::7', port: 7946 });
    const { peers } = peersFromResponse(roundTrip(v6.answer({ name: SERVICE, type: 'PTR' })), SERVICE, false);
    assert.deepEqual(peers, [{ instance: `v6.${SERVICE}`, ip: 'fd00::7', port: 7946 }]);
  });

  test('a node name that cannot be a DNS label is refused with the flag to change', () => {
    assert.throws(() => new ServiceRecords('c1', { nodeName: 'x'.repeat(64), ip: '198.18.0.1', port: 1 }), /give -node a shorter name/);
  });
});

describe('reading answers', () => {
  // hashicorp/mdns (zone.go): SRV target = the host name, A/AAAA named after the host name.
  const goStyle: Answer[] = [
    { name: SERVICE, type: 'PTR', ttl: 120, data: `serf-a.${SERVICE}` },
    { name: `serf-a.${SERVICE}`, type: 'SRV', ttl: 120, data: { priority: 10, weight: 1, port: 7946, target: 'box.' } },
    { name: 'box', type: 'A', ttl: 120, data: '198.18.0.3' },
    { name: 'box', type: 'AAAA', ttl: 120, data: 'fe80::1' },
    { name: `serf-a.${SERVICE}`, type: 'TXT', ttl: 120, data: ["Serf 'c1' cluster"] },
  ];

  test("serf's answers: the SRV target's address, of this agent's own family when both are there", () => {
    assert.deepEqual(peersFromResponse(roundTrip(goStyle), SERVICE, false).peers, [{ instance: `serf-a.${SERVICE}`, ip: '198.18.0.3', port: 7946 }]);
    assert.deepEqual(peersFromResponse(roundTrip(goStyle), SERVICE, true).peers.map((p) => p.ip), ['fe80::1']);
    const v4Only = goStyle.filter((a) => a.type !== 'AAAA');
    assert.deepEqual(peersFromResponse(roundTrip(v4Only), SERVICE, true).peers.map((p) => p.ip), ['198.18.0.3']);
  });

  test('an instance without its SRV or address is incomplete (it gets a query of its own); other services are ignored', () => {
    const ptrOnly = peersFromResponse(roundTrip([goStyle[0] as Answer]), SERVICE, false);
    assert.deepEqual(ptrOnly, { peers: [], incomplete: [`serf-a.${SERVICE}`] });
    const noAddr = peersFromResponse(roundTrip(goStyle.slice(0, 2)), SERVICE, false);
    assert.deepEqual(noAddr.incomplete, [`serf-a.${SERVICE}`]);
    assert.deepEqual(peersFromResponse(roundTrip(goStyle), '_serf_other._tcp.local', false), { peers: [], incomplete: [] });
  });

  test('joined: found peers that are neither this agent nor alive members here, once each', () => {
    const self = { nodeName: 'me', ip: '198.18.0.1', port: 7946 };
    const found = [
      { instance: 'me', ip: '198.18.0.1', port: 7946 },
      { instance: 'a', ip: '198.18.0.2', port: 7946 },
      { instance: 'a', ip: '198.18.0.2', port: 7946 },
      { instance: 'b', ip: '198.18.0.3', port: 7946 },
      { instance: 'c', ip: 'fd00::4', port: 7946 },
    ];
    // b is alive here: no join; a is failed (or unknown) here: joined again, which is how an isolated agent comes back.
    assert.deepEqual(joinCandidates(found, self, (addr) => addr === '198.18.0.3:7946'), ['198.18.0.2:7946', '[fd00::4]:7946']);
  });

  test('cluster names must fit one DNS label', () => {
    assert.equal(checkClusterName('prod-eu'), null);
    assert.match(checkClusterName('') ?? '', /empty/);
    assert.match(checkClusterName('a.b') ?? '', /one DNS label/);
    assert.match(checkClusterName('x'.repeat(58)) ?? '', /too long/);
  });
});

describe('settings', () => {
  const host: HostInfo = { hostname: 'box', interfaces: {}, readFile: () => null };

  test('-discover, -mdns-iface and the IPv4/IPv6 switches; config keys discover and mdns{}', () => {
    const fromFlags = settingsFromFlags({ discover: 'c1', 'mdns-iface': 'eth1', 'mdns-disable-ipv6': true, bind: '198.18.0.1' });
    assert.deepEqual(resolveSettings({}, fromFlags, host).agent.discover, { cluster: 'c1', iface: 'eth1', ipv4: true, ipv6: false, replay: false });
    const file = decodeConfig('/c.json', JSON.stringify({ discover: 'c2', replay_on_join: true, mdns: { interface: 'br0', disable_ipv4: true }, bind: '198.18.0.1' }));
    assert.deepEqual(resolveSettings(file, {}, host).agent.discover, { cluster: 'c2', iface: 'br0', ipv4: false, ipv6: true, replay: true });
    assert.equal(resolveSettings({}, settingsFromFlags({ bind: '198.18.0.1' }), host).agent.discover, undefined);
  });

  test('bad values are errors that say what to change', () => {
    assert.throws(() => resolveSettings({}, settingsFromFlags({ discover: 'c', 'mdns-disable-ipv4': true, 'mdns-disable-ipv6': true, bind: '198.18.0.1' }), host), (e: unknown) => e instanceof ConfigError && /drop one/.test(e.message));
    assert.throws(() => settingsFromFlags({ discover: 'a.b' }), /flag -discover: expected a cluster name that fits one DNS label/);
    assert.throws(() => decodeConfig('/c.json', '{"mdns": {"iface": "x"}}'), /\/c\.json: field "mdns": unknown field "iface" \(known: interface, disable_ipv4, disable_ipv6\)/);
    assert.throws(() => decodeConfig('/c.json', '{"mdns": {"disable_ipv4": "yes"}}'), /field "mdns"\.disable_ipv4: expected true or false/);
  });
});
