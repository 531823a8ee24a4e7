// Roll-call detection latency per class, from the server's own audit events
// (detected_after_ms: the media plane creating the offending item → the decision to remove
// it). Plants hidden participants through the test hooks N times each and prints median and
// max. Class 3 on a live transport (a fingerprint swapped behind it) is timed from outside:
// the admin call that swaps it → the participant receiving `roll_call` (HTTP and WSS
// included), since the server cannot know when a binding changed behind its back.
// Run inside a loopback-only namespace:
//   tests/e2e/run-in-netns.sh node bench/rollcall.mjs 30
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { adminToken, answerFor, Client, joinAs, repoRoot, request, startServer, token } from '../tests/integration/lib/server.mjs';

const runs = Number(process.argv[2] ?? 20);
const offer = readFileSync(path.join(repoRoot, 'tests/data/sdp/chromium-156-offer.sdp'), 'utf8');
const ROOM = 'bench-rollcall';
const server = await startServer({ config: '[roll_call]\ntest_hooks = true\nreconnect_grace_ms = 500\n[limits]\nadmin_requests_per_second = 10000\n' });
const admin = await adminToken();
const seen = new Set();

async function nextEvent(cls) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const events = (await request(server, 'GET', `/admin/v1/audit?room=${ROOM}`, { token: admin })).body.events;
    const found = events.find((e) => e.class === cls && !seen.has(e.id));
    if (found) {
      seen.add(found.id);
      return found;
    }
    if (Date.now() > deadline) throw new Error(`no ${cls} event`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const plant = (body) => request(server, 'POST', '/admin/v1/test/plant', { token: admin, body: { room: ROOM, ...body } });

try {
  // Transports here never connect, so they fail after 10 s: a fresh publisher and
  // subscriber every run.
  async function publisher(name) {
    const client = await joinAs(server, name, ROOM);
    client.send({ type: 'publish', sdp: offer, id: 'p' });
    const published = (await client.next((m) => m.ref === 'p')).tracks;
    return { client, published };
  }
  let tracks = [];
  // A fresh subscriber each time (a transport that never connects closes after 10 s).
  async function subscriber(i) {
    const bob = await Client.open(server);
    await bob.join(await token({ identity: `bob-${i}`, room: ROOM }), { autoSubscribe: false });
    bob.send({ type: 'subscribe', tracks: [tracks[0].id] });
    const offered = await bob.next('subscribe_offer');
    bob.send({ type: 'subscribe_answer', sdp: answerFor(offered.sdp), version: offered.version });
    await bob.ping();
    return bob;
  }

  const samples = { not_on_roster: [], peer_count: [], too_many_transports: [], fingerprint_mismatch_live: [],
    unauthorized_consumer: [], reconnect_grace_expired: [] };
  for (let i = 0; i < runs; ++i) {
    const { client: alice, published } = await publisher(`alice-${i}`);
    tracks = published;
    await plant({ kind: 'stray_transport' });
    samples.not_on_roster.push((await nextEvent('not_on_roster')).detected_after_ms);
    samples.peer_count.push((await nextEvent('peer_count')).detected_after_ms);
    await plant({ kind: 'stray_transport', identity: `alice-${i}` });
    samples.too_many_transports.push((await nextEvent('too_many_transports')).detected_after_ms);
    const dave = await joinAs(server, `dave-${i}`, ROOM);
    dave.send({ type: 'publish', sdp: offer, id: 'd' });
    await dave.next((m) => m.ref === 'd');
    const swappedAt = performance.now();
    await plant({ kind: 'fingerprint_swap', identity: `dave-${i}` });
    await dave.next((m) => m.type === 'roll_call' && m.class === 'fingerprint_mismatch');
    samples.fingerprint_mismatch_live.push(performance.now() - swappedAt);
    await nextEvent('fingerprint_mismatch');
    dave.send({ type: 'leave' });
    dave.close();
    const bob = await subscriber(i);
    await plant({ kind: 'ghost_consumer', identity: `bob-${i}`, track: tracks[1].id });
    samples.unauthorized_consumer.push((await nextEvent('unauthorized_consumer')).detected_after_ms);
    bob.send({ type: 'leave' });
    bob.close();
    alice.send({ type: 'leave' });
    alice.close();
  }
  for (let i = 0; i < Math.min(runs, 10); ++i) {
    const carol = await joinAs(server, `carol-${i}`, ROOM);
    carol.send({ type: 'publish', sdp: offer, id: 'c' });
    await carol.next((m) => m.ref === 'c');
    carol.close();
    samples.reconnect_grace_expired.push((await nextEvent('reconnect_grace_expired')).detected_after_ms);
  }
  const summary = {};
  for (const [cls, values] of Object.entries(samples)) {
    const sorted = [...values].sort((a, b) => a - b);
    summary[cls] = { runs: sorted.length, median_ms: +sorted[Math.floor(sorted.length / 2)].toFixed(2), max_ms: +sorted.at(-1).toFixed(2) };
  }
  console.log(JSON.stringify(summary, null, 1));
  mkdirSync(path.join(repoRoot, 'bench/results'), { recursive: true });
  writeFileSync(path.join(repoRoot, 'bench/results/rollcall.json'), JSON.stringify({ date: new Date().toISOString(), runs, summary }, null, 1) + '\n');
} finally {
  await server.stop();
}
