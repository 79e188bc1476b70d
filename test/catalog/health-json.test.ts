// The health endpoint's per-entry JSON cache answers exactly what encoding afresh would, after
// every kind of change: a member's health (serfHealth), a node's new entry (checks, services).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Catalog } from '../../src/catalog/catalog.js';
import { healthEntry, healthEntryBytes, jsonArrayBytes } from '../../src/agent/http-api.js';
import { simCheck, simService } from '../../sim/catalog-cluster.js';

function answer(cat: Catalog): { cached: string; fresh: string } {
  const instances = cat.instances('web');
  return { cached: jsonArrayBytes(instances.map(healthEntryBytes)).toString('utf8'), fresh: JSON.stringify(instances.map(healthEntry)) };
}

test('cached health entries equal fresh ones after member, check and service changes', () => {
  const cat = new Catalog('n0');
  for (const n of ['n0', 'n1', 'n2']) {
    cat.setMember({ name: n, address: '10.0.0.1', health: 'alive', tags: new Map() });
    cat.apply({ node: n, version: 1, services: [simService(`web-${n}`, 'web', 80)], checks: [simCheck(`c-${n}`, 'passing', `web-${n}`), simCheck(`node-${n}`, 'passing')] });
  }
  const first = answer(cat);
  assert.equal(first.cached, first.fresh);
  assert.equal(answer(cat).cached, first.cached, 'read again unchanged');

  cat.setMember({ name: 'n1', address: '10.0.0.1', health: 'failed', tags: new Map() });
  const failed = answer(cat);
  assert.equal(failed.cached, failed.fresh);
  assert.match(failed.cached, /"Status":"critical","Notes":"","Output":"Agent not live or unreachable"/);

  const s2 = cat.stateOf('n2');
  assert.ok(s2 !== undefined);
  cat.apply({ ...s2, version: 2, checks: [{ ...simCheck('c-n2', 'warning', 'web-n2'), Output: 'slow' }, s2.checks[1] as never] });
  const warned = answer(cat);
  assert.equal(warned.cached, warned.fresh);
  assert.match(warned.cached, /"Status":"warning","Notes":"","Output":"slow"/);

  cat.setMember({ name: 'n0', address: '10.0.0.7', health: 'alive', tags: new Map() });
  cat.apply({ node: 'n0', version: 2, services: [simService('web-n0', 'web', 81, ['v2'])], checks: [] });
  const moved = answer(cat);
  assert.equal(moved.cached, moved.fresh);
  assert.match(moved.cached, /"Address":"10\.0\.0\.7"/);
  assert.match(moved.cached, /"Port":81/);
  // Non-ASCII text survives the byte-level joining.
  cat.apply({ node: 'n0', version: 3, services: [simService('web-n0', 'web', 81, ['zürich', '東京'])], checks: [] });
  const intl = answer(cat);
  assert.equal(intl.cached, intl.fresh);
  assert.equal(jsonArrayBytes([]).toString(), '[]');
});
