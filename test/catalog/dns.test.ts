// The DNS answers from a catalog, without sockets: names, passing-only, NXDOMAIN + SOA, shuffling
// and truncation with the TC bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { Catalog } from '../../src/catalog/catalog.js';
import { answerQuery, encodeWithin, parseDnsName } from '../../src/agent/dns.js';

function catalogWith(n: number): Catalog {
  const cat = new Catalog('me');
  for (let i = 0; i < n; i++) {
    const name = `n${i}`;
    cat.setMember({ name, address: `10.0.${i >> 8}.${i & 0xff}`, health: 'alive', tags: new Map() });
    cat.apply({
      node: name,
      version: 1,
      services: [{ ID: 'web', Service: 'web', Tags: i % 2 === 0 ? ['even'] : [], Address: '', Port: 8000 + i, Meta: {} }],
      checks: [{ CheckID: 'c', Name: 'c', Status: i === 1 ? 'critical' : 'passing', Notes: '', Output: '', ServiceID: 'web', ServiceName: 'web', Type: 'ttl' }],
    });
  }
  return cat;
}

function query(name: string, type: 'A' | 'AAAA' | 'SRV' | 'MX'): DecodedPacket {
  return dnsPacket.decode(dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] }));
}

test('name forms', () => {
  assert.deepEqual(parseDnsName('web.service.consul.'), { kind: 'service', name: 'web', tag: '' });
  assert.deepEqual(parseDnsName('Even.WEB.service.dc1.consul'), { kind: 'service', name: 'web', tag: 'even' });
  assert.deepEqual(parseDnsName('_web._even.service.consul'), { kind: 'service', name: 'web', tag: 'even' });
  assert.deepEqual(parseDnsName('_web._tcp.service.consul'), { kind: 'service', name: 'web', tag: '' });
  assert.deepEqual(parseDnsName('n3.node.consul'), { kind: 'node', name: 'n3', tag: '' });
  assert.equal(parseDnsName('web.service.example.com'), null);
  assert.equal(parseDnsName('a.b.c.service.consul'), null);
});

test('only passing instances answer; tags filter; unknown names are NXDOMAIN with the SOA', () => {
  const cat = catalogWith(4);
  const srv = answerQuery(cat, query('web.service.consul', 'SRV'));
  assert.deepEqual((srv.answers ?? []).map((a) => (a.type === 'SRV' ? a.data.port : 0)).sort(), [8000, 8002, 8003]);
  assert.ok((srv.answers ?? []).every((a) => (a as { ttl?: number }).ttl === 0));
  assert.equal((srv.additionals ?? []).length, 3);
  const a = answerQuery(cat, query('even.web.service.consul', 'A'));
  assert.deepEqual((a.answers ?? []).map((x) => (x as { data?: unknown }).data).sort(), ['10.0.0.0', '10.0.0.2']);
  const nx = answerQuery(cat, query('nope.service.consul', 'A'));
  assert.equal((nx.flags ?? 0) & 0xf, 3);
  assert.equal(nx.authorities?.[0]?.type, 'SOA');
  const noData = answerQuery(cat, query('web.service.consul', 'MX'));
  assert.equal((noData.flags ?? 0) & 0xf, 0);
  assert.equal(noData.answers, undefined);
});

test('answers are shuffled', () => {
  const cat = catalogWith(20);
  const orders = new Set<string>();
  for (let i = 0; i < 10; i++) orders.add(JSON.stringify((answerQuery(cat, query('web.service.consul', 'A')).answers ?? []).map((a) => (a as { data?: unknown }).data)));
  assert.ok(orders.size > 1);
});

test('a UDP answer over 512 bytes is cut and marked truncated; TCP gets everything', () => {
  const cat = catalogWith(60);
  const full = answerQuery(cat, query('web.service.consul', 'SRV'));
  const udp = dnsPacket.decode(encodeWithin(full, 512));
  assert.ok(encodeWithin(full, 512).length <= 512);
  assert.equal(udp.flag_tc, true);
  assert.ok((udp.answers ?? []).length > 0 && (udp.answers ?? []).length < 59);
  const tcp = dnsPacket.decode(encodeWithin(full, 65_535));
  assert.equal(tcp.flag_tc, false);
  assert.equal((tcp.answers ?? []).length, 59);
});
