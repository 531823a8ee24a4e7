// Resident memory per idle participant (not a test; numbers only). Joins N participants in
// rooms of 4 over real WSS; then each publishes audio and video (a recorded Chromium offer:
// real transports that never connect, so nothing flows) and answers its subscription offer
// for the three others. Prints the server's RSS and open file descriptors after each step
// and the cost per participant; writes bench/results/idle_rss.json. Run inside a
// loopback-only namespace:
//   tests/e2e/run-in-netns.sh node bench/idle_rss.mjs 160
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { answerFor, joinAs, repoRoot, startServer } from '../tests/integration/lib/server.mjs';

const count = Number(process.argv[2] ?? 160);
const ROOM_SIZE = 4;
const offer = readFileSync(path.join(repoRoot, 'tests/data/sdp/chromium-156-offer.sdp'), 'utf8');
const server = await startServer({
  config: '[limits]\nmax_connections_per_address = 100000\nmax_connections = 100000\n' +
    '[rooms]\nmax_participants = 100\n[media]\nworkers = 2\n',
});
const settle = () => new Promise((r) => setTimeout(r, 1500));

function sample(label) {
  const status = readFileSync(`/proc/${server.proc.pid}/status`, 'utf8');
  const rssKb = Number(status.match(/VmRSS:\s+(\d+)/)[1]);
  const fds = readdirSync(`/proc/${server.proc.pid}/fd`).length;
  console.log(`${label.padEnd(34)} RSS ${(rssKb / 1024).toFixed(1)} MB, ${fds} fds`);
  return { rssKb, fds };
}

// Warm up what every first participant pays once (TLS contexts, worker loops, allocator).
const warm = await joinAs(server, 'warm', 'warm-room');
warm.send({ type: 'publish', sdp: offer, id: 'p' });
await warm.next((m) => m.ref === 'p');
warm.close();
await settle();
const base = sample('started, warmed up');

const clients = [];
for (let i = 0; i < count; i += 1) {
  clients.push(await joinAs(server, `p${i}`, `idle-${Math.floor(i / ROOM_SIZE)}`));
}
await settle();
const joined = sample(`${count} joined`);

for (const [i, client] of clients.entries()) {
  client.send({ type: 'publish', sdp: offer, id: `pub${i}` });
  const answer = await client.next((m) => m.ref === `pub${i}`, 10000);
  if (answer.type !== 'answer') throw new Error(JSON.stringify(answer));
}
await settle();
for (const client of clients) {
  const offers = client.messages.filter((m) => m.type === 'subscribe_offer');
  const last = offers.at(-1);
  if (!last) continue;
  client.send({ type: 'subscribe_answer', sdp: answerFor(last.sdp), version: last.version, id: 'sa' });
}
await settle();
const media = sample(`${count} publishing and subscribed`);

const perJoinedKb = (joined.rssKb - base.rssKb) / count;
const perIdleKb = (media.rssKb - base.rssKb) / count;
console.log(`per participant: joined ${perJoinedKb.toFixed(0)} KB; with 2 idle transports, ` +
  `2 tracks and ${ROOM_SIZE - 1} others' 6 tracks subscribed ${perIdleKb.toFixed(0)} KB ` +
  `(${((media.fds - base.fds) / count).toFixed(1)} fds)`);
for (const client of clients) client.close();
await server.stop();
mkdirSync(path.join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(path.join(repoRoot, 'bench/results/idle_rss.json'), JSON.stringify({
  participants: count, room_size: ROOM_SIZE, base, joined, media,
  per_joined_kb: Math.round(perJoinedKb), per_idle_participant_kb: Math.round(perIdleKb),
}, null, 2) + '\n');
