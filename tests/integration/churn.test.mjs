// No false ejections: 1,000 join / publish / subscribe-answer / unpublish / leave cycles
// across several rooms, eight at a time, against a server whose roll call runs throughout.
// Every media-plane change is audited against the roster; none may be called hidden. At the
// end a planted stray proves the audit was awake. Runs in a loopback-only namespace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { adminToken, answerFor, Client, joinAs, repoRoot, request, startServer, token } from './lib/server.mjs';

const offer = readFileSync(path.join(repoRoot, 'tests/data/sdp/chromium-156-offer.sdp'), 'utf8');
const ROOMS = ['churn-a', 'churn-b', 'churn-c', 'churn-d'];
const CYCLES = 1000;
const PARALLEL = 8;

function metric(text, name, labels = '') {
  const m = text.match(new RegExp(`^${name}${labels.replace(/[{}]/g, '\\$&')} (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

describe('churn', () => {
  let server;
  const residents = [];
  before(async () => {
    server = await startServer({ config: '[roll_call]\ntest_hooks = true\n[limits]\nmessages_per_second = 1000\nmessage_burst = 1000\n' });
    // One participant stays in each room and receives whatever is published there.
    for (const room of ROOMS) {
      const resident = await joinAs(server, `resident-${room}`, room);
      resident.ws.on('message', (data) => {
        const m = JSON.parse(data);
        if (m.type === 'subscribe_offer') resident.send({ type: 'subscribe_answer', sdp: answerFor(m.sdp), version: m.version });
      });
      residents.push(resident);
    }
  });
  after(async () => {
    for (const r of residents) r.close();
    await server.stop();
  });

  test(`${CYCLES} cycles eject no legitimate participant`, { timeout: 600000 }, async () => {
    let next = 0;
    const misfires = [];
    async function cycle(n) {
      const room = ROOMS[n % ROOMS.length];
      const client = await Client.open(server);
      client.ws.on('message', (data) => {  // answer every offer as it comes, as a browser would
        const m = JSON.parse(data);
        if (m.type === 'subscribe_offer') client.send({ type: 'subscribe_answer', sdp: answerFor(m.sdp), version: m.version });
      });
      const joined = await client.join(await token({ identity: `churner-${n}`, room }));
      assert.equal(joined.type, 'joined', JSON.stringify(joined));
      client.send({ type: 'publish', sdp: offer, id: 'p' });
      const answer = await client.next((m) => m.ref === 'p');
      assert.equal(answer.type, 'answer', JSON.stringify(answer));
      await client.ping();
      if (n % 2) client.send({ type: 'unpublish', track: answer.tracks[0].id, id: 'u' });
      const others = joined.participants.flatMap((p) => p.tracks.map((t) => t.id));
      if (n % 3 === 0 && others.length) client.send({ type: 'unsubscribe', tracks: others });
      await client.ping();
      client.send({ type: 'leave', id: 'l' });
      await client.next((m) => m.ref === 'l');
      for (const m of client.messages) {
        if (m.type === 'roll_call' || m.type === 'kicked') misfires.push(m);
      }
      client.close();
    }
    async function lane() {
      while (next < CYCLES) await cycle(next++);
    }
    const started = Date.now();
    await Promise.all(Array.from({ length: PARALLEL }, lane));
    console.log(`# ${CYCLES} cycles in ${Date.now() - started} ms`);
    await new Promise((r) => setTimeout(r, 2500));  // two full snapshots after the last change

    assert.deepEqual(misfires, []);
    for (const r of residents) {
      assert.ok(!r.messages.some((m) => m.type === 'roll_call' || m.type === 'kicked'), 'a resident was disturbed');
      await r.ping();
    }
    const events = (await request(server, 'GET', '/admin/v1/audit', { token: await adminToken() })).body.events;
    assert.deepEqual(events, []);
    const metrics = (await request(server, 'GET', '/metrics', { token: await adminToken() })).text;
    for (const reason of ['not_on_roster', 'too_many_transports', 'fingerprint_mismatch', 'unauthorized_consumer', 'reconnect_grace_expired']) {
      assert.equal(metric(metrics, 'rollcall_audit_ejections_total', `{reason="${reason}"}`), 0, reason);
    }
    const checks = metric(metrics, 'rollcall_audit_room_checks_total');
    console.log(`# rooms compared with an up-to-date truth: ${checks}`);
    assert.ok(checks >= CYCLES, 'the audit ran throughout');

    // And it was awake: a stray planted now is caught.
    const res = await request(server, 'POST', '/admin/v1/test/plant', {
      token: await adminToken(), body: { kind: 'stray_transport', room: ROOMS[0] },
    });
    assert.equal(res.status, 202);
    const deadline = Date.now() + 5000;
    for (;;) {
      const now = (await request(server, 'GET', '/admin/v1/audit', { token: await adminToken() })).body.events;
      if (now.some((e) => e.class === 'not_on_roster')) break;
      assert.ok(Date.now() < deadline, 'the planted stray was not found');
      await new Promise((r) => setTimeout(r, 25));
    }
  });
});
