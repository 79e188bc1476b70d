// The reading side of `npm run bench:catalog`, run as a process of its own as a real client is
// (so its own work — receiving and parsing up to megabytes per answer — does not run on the
// agent's thread): sequential keep-alive GETs with node:http, each timed from the request to the
// last byte; with --change-url, an untimed request to it before each read makes the agent change
// its catalog first. Prints the sorted times (ms) as JSON.
//
//   node dist/bench/catalog-reader.js URL COUNT [--change-url URL]
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { 'change-url': { type: 'string' } } });
const [url, countText] = positionals;
if (url === undefined || countText === undefined) throw new Error('usage: catalog-reader URL COUNT [--change-url URL]');
const count = Number(countText);
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(target, { agent: keepAlive }, (res) => {
        let bytes = 0;
        res.on('data', (chunk: Buffer) => (bytes += chunk.length));
        res.on('end', () => (res.statusCode === 200 ? resolve(bytes) : reject(new Error(`${target}: HTTP ${res.statusCode}`))));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

const change = values['change-url'];
let bytes = 0;
for (let i = 0; i < Math.min(50, count); i++) bytes = await get(url); // warm-up
const times: number[] = [];
for (let i = 0; i < count; i++) {
  if (change !== undefined) await get(change);
  const t0 = process.hrtime.bigint();
  bytes = await get(url);
  times.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
keepAlive.destroy();
console.log(JSON.stringify({ bytes, timesMs: times.sort((a, b) => a - b) }));
