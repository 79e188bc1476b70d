import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkInterfaceInfo } from 'node:os';
import {
  ConfigError, decodeConfig, loadAgentConfig, mergeSettings, parseAddrParts, parseGoDuration, pickAdvertiseIp,
  readConfigPaths, resolveSettings, settingsFromFlags, type HostInfo,
} from '../../src/agent/config.js';

const KEY = '22340oqL86o596XonHmP4/7RgmZRt8wgPkmlK3vybmI=';

function iface(address: string, internal = false): NetworkInterfaceInfo {
  return { address, netmask: '255.0.0.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: null };
}

function host(files: Record<string, string> = {}, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = { lo: [iface('127.0.0.1', true)], eth0: [iface('10.1.2.3')] }): HostInfo {
  return { hostname: 'box', interfaces, readFile: (p) => files[p] ?? null };
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  assert.fail('no error');
}

describe('config files', () => {
  test('every Serf key shoal implements decodes to its setting', () => {
    const s = decodeConfig('/etc/shoal/a.json', JSON.stringify({
      node_name: 'n1', bind: '127.0.0.1:8000', advertise: '10.0.0.1', start_join: ['10.0.0.2'], retry_join: ['10.0.0.3:7946'],
      tags: { role: 'web', dc: 'x' }, encrypt_key: KEY, event_handlers: ['user:deploy=./d.sh'], log_level: 'debug',
      rpc_addr: '127.0.0.1:7374', rpc_auth: 'secret', profile: 'wan', protocol: 4, snapshot_path: '/tmp/snap',
      rejoin_after_leave: true, replay_on_join: true, leave_on_terminate: true, skip_leave_on_interrupt: true,
      reconnect_timeout: '1h', tombstone_timeout: '90m', retry_interval: '5s', retry_max_attempts: 3,
    }));
    assert.equal(s.nodeName, 'n1');
    assert.equal(s.bind, '127.0.0.1:8000');
    assert.deepEqual(s.startJoin, ['10.0.0.2']);
    assert.deepEqual([...(s.tags ?? [])], [['role', 'web'], ['dc', 'x']]);
    assert.equal(s.reconnectTimeoutMs, 3_600_000);
    assert.equal(s.tombstoneTimeoutMs, 90 * 60_000);
    assert.equal(s.retryIntervalMs, 5_000);
    assert.equal(s.retryMaxAttempts, 3);
    assert.equal(s.protocol, 4);
    assert.equal(s.skipLeaveOnInterrupt, true);
  });

  const cases: Array<[string, unknown, string]> = [
    ['bind', 12, '/etc/shoal/a.json: field "bind": expected a string, got 12'],
    ['bind', 'nope', '/etc/shoal/a.json: field "bind": expected "ip[:port]", got "nope"'],
    ['bind', '1.2.3.4:70000', '/etc/shoal/a.json: field "bind": expected "ip[:port]", got "1.2.3.4:70000"'],
    ['advertise', 'host.example:1', '/etc/shoal/a.json: field "advertise": expected "ip[:port]", got "host.example:1"'],
    ['rpc_addr', '127.0.0.1', '/etc/shoal/a.json: field "rpc_addr": expected "ip:port", got "127.0.0.1"'],
    ['profile', 'lann', '/etc/shoal/a.json: field "profile": expected one of "lan", "wan", "local", got "lann"'],
    ['log_level', 'loud', '/etc/shoal/a.json: field "log_level": expected one of "trace", "debug", "info", "warn", "err", got "loud"'],
    ['encrypt_key', 'abc', '/etc/shoal/a.json: field "encrypt_key": expected a base64-encoded 16, 24 or 32-byte key, got "abc"'],
    ['protocol', 9, '/etc/shoal/a.json: field "protocol": expected an integer from 2 to 5, got 9'],
    ['protocol', '5', '/etc/shoal/a.json: field "protocol": expected an integer from 2 to 5, got "5"'],
    ['retry_max_attempts', -1, '/etc/shoal/a.json: field "retry_max_attempts": expected an integer of 0 or more, got -1'],
    ['tags', ['a'], '/etc/shoal/a.json: field "tags": expected an object of string values, got ["a"]'],
    ['tags', { a: 1 }, '/etc/shoal/a.json: field "tags": expected an object of string values, got 1 for tag "a"'],
    ['start_join', '10.0.0.1', '/etc/shoal/a.json: field "start_join": expected an array of strings, got "10.0.0.1"'],
    ['retry_join', [1], '/etc/shoal/a.json: field "retry_join": expected an array of strings, got [1]'],
    ['rejoin_after_leave', 'yes', '/etc/shoal/a.json: field "rejoin_after_leave": expected true or false, got "yes"'],
    ['reconnect_timeout', '3 days', '/etc/shoal/a.json: field "reconnect_timeout": expected a duration such as "30s", "1m30s" or "24h", got "3 days"'],
    ['tombstone_timeout', 60, '/etc/shoal/a.json: field "tombstone_timeout": expected a duration such as "30s", "1m30s" or "24h", got 60'],
    ['retry_interval', '-5s', '/etc/shoal/a.json: field "retry_interval": expected a duration such as "30s", "1m30s" or "24h", got "-5s"'],
    ['query_size_limit', 0, '/etc/shoal/a.json: field "query_size_limit": expected a size in bytes above 0, got 0'],
  ];
  for (const [key, value, message] of cases) {
    test(`${key} = ${JSON.stringify(value)} names the file, the field and what is expected`, () => {
      assert.equal(errorOf(() => decodeConfig('/etc/shoal/a.json', JSON.stringify({ [key]: value }))), message);
    });
  }

  test('an invalid event handler filter names the bad entry', () => {
    assert.match(
      errorOf(() => decodeConfig('/c.json', JSON.stringify({ event_handlers: ['member-join=ok.sh', 'member-jion=bad.sh'] }))),
      /^\/c\.json: field "event_handlers": expected "\[filter=\]script" with filters member-join, .*query:NAME \(comma-separated\), got "member-jion=bad\.sh"$/,
    );
  });

  test('unknown keys, Serf keys shoal lacks, non-objects and broken JSON are errors naming the file', () => {
    assert.match(errorOf(() => decodeConfig('/c.json', '{"bnd": "1.2.3.4"}')), /^\/c\.json: unknown field "bnd" \(known: node_name, /);
    assert.equal(errorOf(() => decodeConfig('/c.json', '{"interface": "eth0"}')), '/c.json: field "interface": a Serf setting shoal does not support');
    assert.equal(errorOf(() => decodeConfig('/c.json', '[1]')), '/c.json: expected a JSON object, got [1]');
    assert.match(errorOf(() => decodeConfig('/c.json', '{"bind": ')), /^\/c\.json: expected a JSON object: /);
  });

  test('files merge as MergeConfig: later scalars win, tags merge, lists append, true stays true', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-config-'));
    try {
      const confDir = join(dir, 'conf.d');
      mkdirSync(confDir);
      writeFileSync(join(dir, 'first.json'), JSON.stringify({ node_name: 'first', tags: { a: '1', b: '1' }, start_join: ['10.0.0.1'], replay_on_join: true }));
      writeFileSync(join(confDir, '20-b.json'), JSON.stringify({ node_name: 'dir-b', tags: { b: '2' }, start_join: ['10.0.0.3'] }));
      writeFileSync(join(confDir, '10-a.json'), JSON.stringify({ node_name: 'dir-a', start_join: ['10.0.0.2'], replay_on_join: false }));
      writeFileSync(join(confDir, 'notes.txt'), 'not json at all');
      const s = readConfigPaths([join(dir, 'first.json'), confDir]);
      assert.equal(s.nodeName, 'dir-b');
      assert.deepEqual(Object.fromEntries(s.tags ?? []), { a: '1', b: '2' });
      assert.deepEqual(s.startJoin, ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
      assert.equal(s.replayOnJoin, true);
      writeFileSync(join(confDir, '30-bad.json'), '{"protocol": "five"}');
      assert.equal(
        errorOf(() => readConfigPaths([confDir])),
        `${join(confDir, '30-bad.json')}: field "protocol": expected an integer from 2 to 5, got "five"`,
      );
      assert.match(errorOf(() => readConfigPaths([join(dir, 'missing.json')])), /missing\.json: cannot read: ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('flags override files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shoal-config-'));
    try {
      const file = join(dir, 'a.json');
      writeFileSync(file, JSON.stringify({ node_name: 'file', bind: '127.0.0.1:19250', tags: { a: 'file' }, event_handlers: ['file.sh'] }));
      const r = loadAgentConfig({ node: 'flag', tag: ['a=flag'], 'event-handler': ['member-join=flag.sh'] }, [file], host());
      assert.equal(r.agent.nodeName, 'flag');
      assert.equal(r.agent.bindPort, 19250);
      assert.deepEqual(Object.fromEntries(r.agent.tags), { a: 'flag' });
      assert.deepEqual(r.scripts.map((s) => `${s.event}:${s.script}`), ['*:file.sh', 'member-join:flag.sh']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('mergeSettings leaves unset fields alone', () => {
    assert.deepEqual(mergeSettings({ nodeName: 'a', protocol: 4 }, { profile: 'wan' }), { nodeName: 'a', protocol: 4, profile: 'wan' });
  });
});

describe('flags', () => {
  test('flag values are checked like file values and name the flag', () => {
    assert.equal(errorOf(() => settingsFromFlags({ bind: 'localhost' })), 'flag -bind: expected "ip[:port]", got "localhost"');
    assert.equal(errorOf(() => settingsFromFlags({ tag: ['role=web', 'novalue'] })), 'flag -tag: expected "key=value", got "novalue"');
    assert.equal(errorOf(() => settingsFromFlags({ tag: ['=x'] })), 'flag -tag: expected "key=value", got "=x"');
    assert.equal(errorOf(() => settingsFromFlags({ protocol: 'x' })), 'flag -protocol: expected an integer from 2 to 5, got "x"');
    assert.equal(errorOf(() => settingsFromFlags({ 'retry-max': '1.5' })), 'flag -retry-max: expected an integer of 0 or more, got "1.5"');
    assert.equal(errorOf(() => settingsFromFlags({ 'retry-interval': '10' })), 'flag -retry-interval: expected a duration such as "30s", "1m30s" or "24h", got "10"');
    assert.equal(errorOf(() => settingsFromFlags({ profile: 'moon' })), 'flag -profile: expected one of "lan", "wan", "local", got "moon"');
    assert.equal(errorOf(() => settingsFromFlags({ encrypt: 'AAAA' })), 'flag -encrypt: expected a base64-encoded 16, 24 or 32-byte key, got "AAAA"');
    assert.match(errorOf(() => settingsFromFlags({ 'event-handler': ['usr:deploy=x.sh'] })), /^flag -event-handler: expected "\[filter=\]script" .*, got "usr:deploy=x\.sh"$/);
  });

  test('tags with "=" in the value keep it; a value may be empty', () => {
    assert.deepEqual(Object.fromEntries(settingsFromFlags({ tag: ['k=a=b', 'e='] }).tags ?? []), { k: 'a=b', e: '' });
  });
});

describe('resolving', () => {
  test("Serf's defaults; 0.0.0.0 advertises the host's first private IPv4", () => {
    const r = resolveSettings({}, {}, host());
    assert.equal(r.agent.nodeName, 'box');
    assert.equal(r.agent.bindIp, '0.0.0.0');
    assert.equal(r.agent.bindPort, 7946);
    assert.equal(r.agent.advertiseIp, '10.1.2.3');
    assert.equal(r.agent.advertisePort, 7946);
    assert.equal(r.agent.profile, 'lan');
    assert.equal(r.agent.protocol, 5);
    assert.equal(r.agent.logLevel, 'INFO');
    assert.deepEqual(r.agent.keys, []);
    assert.equal(r.rpcAddr, '127.0.0.1:7373');
    assert.equal(r.retryIntervalMs, 30_000);
    assert.equal(r.leaveOnTerminate, false);
    assert.equal(r.skipLeaveOnInterrupt, false);
    assert.equal(r.agent.serf?.reconnectTimeoutMs, undefined);
  });

  test('advertise picks: private first, then any non-loopback IPv4, else an error asking for -advertise', () => {
    assert.equal(pickAdvertiseIp({ a: [iface('8.8.8.8'), iface('192.168.1.5')] }), '192.168.1.5');
    assert.equal(pickAdvertiseIp({ a: [iface('169.254.1.1'), iface('8.8.8.8')] }), '8.8.8.8');
    assert.equal(pickAdvertiseIp({ lo: [iface('127.0.0.1', true)] }), null);
    assert.match(errorOf(() => resolveSettings({}, {}, host({}, { lo: [iface('127.0.0.1', true)] }))), /^bind address 0\.0\.0\.0 needs -advertise/);
    const r = resolveSettings({}, { bind: '0.0.0.0:19260', advertise: '127.0.0.1:19260' }, host({}, {}));
    assert.equal(r.agent.advertiseIp, '127.0.0.1');
  });

  test('an advertise address without a port takes 7946, as Serf AddrParts does', () => {
    assert.deepEqual(parseAddrParts('10.0.0.1'), { ip: '10.0.0.1', port: 7946 });
    assert.deepEqual(parseAddrParts('[::1]'), { ip: '::1', port: 7946 });
    assert.deepEqual(parseAddrParts('[::1]:19261'), { ip: '::1', port: 19261 });
    const r = resolveSettings({}, { bind: '127.0.0.1:19262', advertise: '127.0.0.2' }, host());
    assert.equal(r.agent.advertisePort, 7946);
  });

  test('timeouts reach the Serf config; a short retry interval is raised to 1s with a warning', () => {
    const r = resolveSettings({ reconnectTimeoutMs: 60_000 }, { tombstoneTimeoutMs: 120_000, retryIntervalMs: 10, bind: '127.0.0.1' }, host());
    assert.equal(r.agent.serf?.reconnectTimeoutMs, 60_000);
    assert.equal(r.agent.serf?.tombstoneTimeoutMs, 120_000);
    assert.equal(r.retryIntervalMs, 1_000);
    assert.deepEqual(r.notes, ["Warning: 'RetryInterval' is too low. Setting to 1s"]);
  });

  test('role becomes the role tag; rejoin without a snapshot warns', () => {
    const r = resolveSettings({}, { role: 'db', rejoinAfterLeave: true, bind: '127.0.0.1' }, host());
    assert.equal(r.agent.tags.get('role'), 'db');
    assert.equal(r.notes.length, 2);
  });

  test('keyring file: read, required to exist, checked, exclusive with -encrypt', () => {
    const base = { bind: '127.0.0.1', keyringFile: '/k.json' };
    const ok = resolveSettings({}, base, host({ '/k.json': JSON.stringify([KEY, 'AAAAAAAAAAAAAAAAAAAAAA==']) }));
    assert.deepEqual(ok.agent.keys, [KEY, 'AAAAAAAAAAAAAAAAAAAAAA==']);
    assert.equal(ok.agent.keyringFile, '/k.json');
    assert.match(errorOf(() => resolveSettings({}, base, host())), /^keyring file \/k\.json: cannot read it/);
    assert.equal(errorOf(() => resolveSettings({}, base, host({ '/k.json': '{"a":1}' }))), 'keyring file /k.json: expected a JSON array of base64 keys, got {"a":1}');
    assert.equal(errorOf(() => resolveSettings({}, base, host({ '/k.json': '[]' }))), 'keyring file /k.json: expected at least one key, got []');
    assert.equal(errorOf(() => resolveSettings({}, base, host({ '/k.json': '["short"]' }))), 'keyring file /k.json: expected base64-encoded 16, 24 or 32-byte keys, got "short"');
    assert.match(errorOf(() => resolveSettings({}, { ...base, encryptKey: KEY }, host({ '/k.json': `["${KEY}"]` }))), /^Encryption key not allowed while using a keyring/);
    assert.deepEqual(resolveSettings({}, { bind: '127.0.0.1', encryptKey: KEY }, host()).agent.keys, [KEY]);
  });

  test('tags file: read when present, absent is fine, exclusive with tags', () => {
    const base = { bind: '127.0.0.1', tagsFile: '/t.json' };
    assert.deepEqual(Object.fromEntries(resolveSettings({}, base, host({ '/t.json': '{"role":"web"}' })).agent.tags), { role: 'web' });
    assert.equal(resolveSettings({}, base, host()).agent.tags.size, 0);
    assert.equal(errorOf(() => resolveSettings({}, base, host({ '/t.json': '{"role":3}' }))), 'tags file /t.json: expected a JSON object of string values, got {"role":3}');
    assert.match(errorOf(() => resolveSettings({ tags: new Map([['a', 'b']]) }, base, host())), /^Tags config not allowed while using tag files/);
  });
});

test("Go's time.ParseDuration", () => {
  assert.equal(parseGoDuration('30s'), 30_000);
  assert.equal(parseGoDuration('1m30s'), 90_000);
  assert.equal(parseGoDuration('1.5h'), 5_400_000);
  assert.equal(parseGoDuration('250ms'), 250);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('1500us'), 1.5);
  assert.equal(parseGoDuration('-2s'), -2_000);
  assert.equal(parseGoDuration('10'), null);
  assert.equal(parseGoDuration(''), null);
  assert.equal(parseGoDuration('1d'), null);
  assert.equal(parseGoDuration('s'), null);
});

describe('files the agent writes back', () => {
  test('the keyring file is rewritten when a key query changes the keys; setTags saves the tags file', async () => {
    const { Agent } = await import('../../src/agent/agent.js');
    const { keyOperation } = await import('../../src/cluster/keyring.js');
    const dir = mkdtempSync(join(tmpdir(), 'shoal-keyring-'));
    const keyringFile = join(dir, 'keyring.json');
    const tagsFile = join(dir, 'tags.json');
    writeFileSync(keyringFile, JSON.stringify([KEY]));
    const r = loadAgentConfig(
      { node: 'k', bind: '127.0.0.1:19240', 'keyring-file': keyringFile, 'tags-file': tagsFile, profile: 'local' },
      [],
      { ...host(), readFile: (p) => { try { return readFileSync(p, 'utf8'); } catch { return null; } } },
    );
    const agent = await Agent.start({ ...r.agent, logOutput: () => undefined });
    try {
      const extra = 'AAAAAAAAAAAAAAAAAAAAAA==';
      const response = await new Promise<{ error: string | null }>((resolve) => agent.act((serf, now) => keyOperation(serf, now, 'install-key', extra, resolve)));
      assert.equal(response.error, null);
      assert.deepEqual(JSON.parse(readFileSync(keyringFile, 'utf8')), [KEY, extra]);
      assert.equal(await agent.setTags(new Map([['role', 'db']])), null);
      assert.deepEqual(JSON.parse(readFileSync(tagsFile, 'utf8')), { role: 'db' });
      assert.equal(agent.serf.localTags.get('role'), 'db');
    } finally {
      await agent.shutdown();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('data_dir (Consul) from a file, -data-dir from a flag over it; none by default', () => {
  assert.equal(decodeConfig('/etc/shoal/d.json', JSON.stringify({ data_dir: '/var/lib/shoal' })).dataDir, '/var/lib/shoal');
  const fromBoth = resolveSettings(decodeConfig('/etc/shoal/d.json', JSON.stringify({ data_dir: '/var/lib/shoal' })), settingsFromFlags({ 'data-dir': '/tmp/d' }), host());
  assert.equal(fromBoth.dataDir, '/tmp/d');
  assert.equal(resolveSettings({}, {}, host()).dataDir, undefined);
  assert.match(errorOf(() => decodeConfig('/etc/shoal/d.json', JSON.stringify({ data_dir: 5 }))), /^\/etc\/shoal\/d\.json: field "data_dir": expected a string, got 5$/);
});
