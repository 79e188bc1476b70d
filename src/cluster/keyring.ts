// Key rotation across a cluster (serf keymanager.go + internal_query.go): install, use, remove and
// list keys through the internal queries `_serf_install-key`, `_serf_use-key`, `_serf_remove-key`
// and `_serf_list-keys`, each node changing its own keyring and answering 08 + nodeKeyResponse.
import type { Keyring } from '../wire/encryption.js';
import { decodeSerfMessage, encodeSerfMessage, type SerfMessage } from '../wire/serf.js';
import type { SerfKeyResponse } from '../wire/serf-schemas.js';
import type { IncomingQuery, Serf } from './serf.js';

export type KeyOperation = 'install-key' | 'use-key' | 'remove-key' | 'list-keys';

/** What the cluster answered (serf KeyResponse; the agent's RPC returns it as is). */
export interface KeyResponse {
  readonly messages: Map<string, string>;
  readonly keys: Map<string, number>;
  numNodes: number;
  numResp: number;
  numErr: number;
  /** Set when not every node reported success ("2/3 nodes reported success"). */
  error: string | null;
}

function toBase64(key: Uint8Array): string {
  let s = '';
  for (const b of key) s += String.fromCharCode(b);
  return btoa(s);
}

function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  const bin = atob(text);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/**
 * Answers the key queries on this node. `keyring` is the one memberlist encrypts with
 * (undefined: encryption is off); `onChange` lets the agent rewrite its keyring file.
 */
export function installKeyQueryHandlers(serf: Serf, keyring: Keyring | undefined, onChange?: () => string | null): void {
  const respond = (q: IncomingQuery, body: SerfKeyResponse): void => {
    // A long key list is cut until the answer fits the response limit, saying so
    // (internal_query.go keyListResponseWithCorrectSize). A late or duplicate answer is refused
    // by respond(); the asker then counts this node as silent.
    const all = body.Keys ?? [];
    for (let n = all.length; n >= 0; n--) {
      const cut = n === all.length ? body : { ...body, Keys: all.slice(0, n), Message: `truncated key list response, showing first ${n} of ${all.length} keys` };
      const error = q.respond(serf.now, encodeSerfMessage({ type: 'keyResponse', body: cut }));
      if (error === null || !error.startsWith('response exceeds')) return;
    }
  };
  const change = (q: IncomingQuery, apply: (ring: Keyring, key: Uint8Array) => void): void => {
    const fail = (message: string): void => respond(q, { Result: false, Message: message, Keys: null, PrimaryKey: '' });
    let request: SerfMessage;
    try {
      request = decodeSerfMessage(q.payload ?? new Uint8Array(0));
    } catch {
      return fail('');
    }
    if (request.type !== 'keyRequest') return fail('');
    if (keyring === undefined) return fail('No keyring to modify (encryption not enabled)');
    try {
      apply(keyring, request.body.Key ?? new Uint8Array(0));
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
    const fileError = onChange?.() ?? null;
    if (fileError !== null) return fail(fileError);
    respond(q, { Result: true, Message: '', Keys: null, PrimaryKey: '' });
  };
  serf.internalQueryHandlers.set('install-key', (q) => change(q, (ring, key) => ring.install(key)));
  serf.internalQueryHandlers.set('use-key', (q) => change(q, (ring, key) => ring.use(key)));
  serf.internalQueryHandlers.set('remove-key', (q) => change(q, (ring, key) => ring.remove(key)));
  serf.internalQueryHandlers.set('list-keys', (q) => {
    if (keyring === undefined) return respond(q, { Result: false, Message: 'Keyring is empty (encryption not enabled)', Keys: null, PrimaryKey: '' });
    respond(q, { Result: true, Message: '', Keys: keyring.keys().map(toBase64), PrimaryKey: toBase64(keyring.primaryKey()) });
  });
}

/**
 * Runs one key operation across the cluster (serf KeyManager); `done` gets the tally once every
 * live node answered or the query timed out. Throws for a key that is not base64.
 */
export function keyOperation(serf: Serf, nowMs: number, op: KeyOperation, keyBase64: string | null, done: (response: KeyResponse) => void, relayFactor = 0): void {
  let key: Uint8Array = new Uint8Array(0);
  if (op !== 'list-keys') {
    const decoded = fromBase64(keyBase64 ?? '');
    if (decoded === null) throw new RangeError(`key is not valid base64: ${JSON.stringify(keyBase64)}`);
    key = decoded;
  }
  const response: KeyResponse = { messages: new Map(), keys: new Map(), numNodes: serf.numAliveMembers(), numResp: 0, numErr: 0, error: null };
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    if (response.numErr !== 0) response.error = `${response.numErr}/${response.numNodes} nodes reported failure`;
    else if (response.numResp !== response.numNodes) response.error = `${response.numResp}/${response.numNodes} nodes reported success`;
    done(response);
  };
  const payload = encodeSerfMessage({ type: 'keyRequest', body: { Key: key } });
  serf.query(nowMs, `_serf_${op}`, payload, { relayFactor }, {
    onResponse: (from, raw) => {
      if (finished) return;
      response.numResp++;
      let msg: SerfMessage | null;
      try {
        msg = decodeSerfMessage(raw ?? new Uint8Array(0));
      } catch {
        msg = null;
      }
      if (msg === null || msg.type !== 'keyResponse') {
        response.messages.set(from, 'Invalid key query response type');
        response.numErr++;
      } else {
        const body = msg.body;
        if (!body.Result) {
          response.messages.set(from, body.Message);
          response.numErr++;
        } else if (body.Message.length > 0) {
          response.messages.set(from, body.Message);
        }
        for (const k of body.Keys ?? []) response.keys.set(k, (response.keys.get(k) ?? 0) + 1);
      }
      // Stop early once every live node has answered.
      if (response.numResp === response.numNodes) finish();
    },
    onDone: finish,
  });
}
