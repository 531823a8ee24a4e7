// The cost of a /metrics scrape (not a test; numbers only). Joins N participants (default
// 100) in rooms of 4 over real WSS, each publishing audio and video (a recorded Chromium
// offer: real transports that never connect) and subscribed to the others; then scrapes
// /metrics with the metrics credential, 30 times, 300 ms apart (past the 250 ms render
// cache, so each scrape renders the page). Prints the page's size and the wall time of a
// scrape (a fresh TLS connection each time, which Prometheus does not need); writes
// bench/results/metrics_scrape.json. Run inside a loopback-only namespace:
//   tests/e2e/run-in-netns.sh node bench/metrics_scrape.mjs 100
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { answerFor, joinAs, repoRoot, request, startServer } from '../tests/integration/lib/server.mjs';

const count = Number(process.argv[2] ?? 100);
const ROOM_SIZE = 4;
const SCRAPES = 30;
const TOKEN = 'bench-metrics-credential-0123456789abcdef';
const offer = readFileSync(path.join(repoRoot, 'tests/data/sdp/chromium-156-offer.sdp'), 'utf8');
const server = await startServer({
  config: `[auth]\nmetrics_token = "${TOKEN}"\n` +
    '[limits]\nmax_connections_per_address = 100000\nmax_connections = 100000\n' +
    '[rooms]\nmax_participants = 100\n[media]\nworkers = 2\n',
});
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

const clients = [];
for (let i = 0; i < count; i += 1) {
  const client = await joinAs(server, `p${i}`, `scrape-${Math.floor(i / ROOM_SIZE)}`);
  client.send({ type: 'publish', sdp: offer, id: `pub${i}` });
  const answer = await client.next((m) => m.ref === `pub${i}`, 10000);
  if (answer.type !== 'answer') throw new Error(JSON.stringify(answer));
  clients.push(client);
}
await pause(1500);
for (const client of clients) {
  const last = client.messages.filter((m) => m.type === 'subscribe_offer').at(-1);
  if (last) client.send({ type: 'subscribe_answer', sdp: answerFor(last.sdp), version: last.version, id: 'sa' });
}
await pause(2000);

const times = [];
let bytes = 0;
let lines = 0;

for (let i = 0; i < SCRAPES; i += 1) {
  const start = process.hrtime.bigint();
  const res = await request(server, 'GET', '/metrics', { token: TOKEN });
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
  if (res.status !== 200) throw new Error(`scrape: ${res.status}`);
  bytes = Buffer.byteLength(res.text);
  lines = res.text.split('\n').length;
  await pause(300);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
const participants = (await request(server, 'GET', '/metrics', { token: TOKEN })).text
  .match(/^rollcall_participants (\d+)/m)[1];
console.log(`${participants} participants: /metrics is ${bytes} bytes (${lines} lines); a scrape takes ` +
  `${median.toFixed(1)} ms median, ${times[times.length - 1].toFixed(1)} ms at most (wall time with a fresh ` +
  'TLS connection each, client and server on one machine: an upper bound on the server\'s work)');
for (const client of clients) client.close();
await server.stop();
mkdirSync(path.join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(path.join(repoRoot, 'bench/results/metrics_scrape.json'), JSON.stringify({
  participants: Number(participants), bytes, lines, scrapes: SCRAPES, median_wall_ms: median,
  max_wall_ms: times[times.length - 1],
}, null, 2) + '\n');
