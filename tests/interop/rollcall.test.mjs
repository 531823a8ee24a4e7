// Roll call with real media, aiortc on both ends (an independent WebRTC stack), inside a
// loopback-only namespace:
//  - a kicked participant that keeps its peer connections open and sending neither reaches
//    the room nor receives from it once the admin call returns;
//  - a participant whose signaling socket drops keeps its media for the reconnect grace,
//    then loses it;
//  - a DTLS peer whose certificate is not the one signaled is refused and recorded.
// Latencies are printed for the notes, never asserted tightly (these machines are noisy).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminToken, answerFor, Client, request, startServer, token, waitFor } from '../integration/lib/server.mjs';
import { aiortc, auditOf as audit, flowing, lastFrom, roomMedia as media } from './lib/aiortc.mjs';

const GRACE_MS = 1500;

const LINGER_S = 4;

// `gone` (its identity `name`; the other participant is `stays`) kept both connections open and sending for LINGER_S seconds
// after its signaling ended: media flowed both ways before, and nothing of it arrived in
// the last 3 s of the linger. Returns the last frame from it and to it.
function assertCutOffWhileLingering(gone, stays, name, what) {
  const from = lastFrom(stays.result, name);
  const to = lastFrom(gone.result, 'stays');
  assert.ok(from.frames > 10 && to.frames > 10, `media flowed both ways before the ${what}`);
  const lingerEnd = gone.result.signaling_ended_unix_ms + LINGER_S * 1000;
  assert.ok(from.last < lingerEnd - 3000, `media from the ${what} participant arrived ${lingerEnd - from.last} ms before its linger ended`);
  assert.ok(to.last < lingerEnd - 3000, `media to the ${what} participant arrived ${lingerEnd - to.last} ms before its linger ended`);
  return { from: from.last, to: to.last };
}

describe('roll call with real media (aiortc)', () => {
  let server;
  before(async () => {
    server = await startServer({ config: `[roll_call]\nreconnect_grace_ms = ${GRACE_MS}\ntest_hooks = true\n` });
  });
  after(async () => { await server?.stop(); });

  test('a kicked participant that keeps sending gets no media through, either way', async () => {
    const room = 'rc-kick';
    const stays = aiortc(server, await token({ identity: 'stays', room }), '--publish', '--expect-remote', '1',
      '--seconds', '40', '--hold', '40');
    const kicked = aiortc(server, await token({ identity: 'kicked', room }), '--publish', '--expect-remote', '1',
      '--seconds', '40', '--hold', '40', '--linger', String(LINGER_S));
    await flowing(server, room);
    const kickedAt = Date.now();
    const res = await request(server, 'DELETE', `/admin/v1/rooms/${room}/participants/kicked`, { token: await adminToken() });
    assert.equal(res.status, 200);
    const gone = await waitFor(async () => ((await media(server, room)).transports.length === 2 ? Date.now() : 0),
      'the kicked participant\'s transports to close', 5000, 100);
    const k = await kicked;
    // "stays" is done once the other has lingered; end it by making the room empty.
    await request(server, 'DELETE', `/admin/v1/rooms/${room}`, { token: await adminToken() });
    const s = await stays;
    assert.ok(k.result, k.stderr);
    assert.ok(s.result, s.stderr);
    assert.equal(k.result.told?.[0]?.reason, 'kicked');
    assert.ok(k.result.signaling_ended_unix_ms >= kickedAt, 'the kicked client kept its connections open afterwards');
    const last = assertCutOffWhileLingering(k, s, 'kicked', 'kicked');
    console.log(`# kick: transports closed ${gone - kickedAt} ms after the admin call (as polled); last frame from the ` +
      `kicked ${last.from - kickedAt} ms, last frame to it ${last.to - kickedAt} ms after the call`);
    const events = await audit(server, room);
    assert.ok(events.some((e) => e.class === 'kicked' && e.participant === 'kicked'));
  });

  test('a participant that leaves but keeps sending gets no media through, either way', async () => {
    const room = 'rc-leave';
    const stays = aiortc(server, await token({ identity: 'stays', room }), '--publish', '--expect-remote', '1',
      '--seconds', '40', '--hold', '40');
    const leaver = aiortc(server, await token({ identity: 'leaver', room }), '--publish', '--expect-remote', '1',
      '--seconds', '40', '--hold', '40', '--leave-after', '8', '--linger', String(LINGER_S));
    const l = await leaver;
    await request(server, 'DELETE', `/admin/v1/rooms/${room}`, { token: await adminToken() });
    const s = await stays;
    assert.ok(l.result?.left_unix_ms && s.result, l.stderr + s.stderr);
    const last = assertCutOffWhileLingering(l, s, 'leaver', 'leaving');
    console.log(`# leave: last frame from the leaver ${last.from - l.result.left_unix_ms} ms, to it ` +
      `${last.to - l.result.left_unix_ms} ms after it sent leave`);
  });

  test('a dropped signaling socket keeps media for the grace, then it ends', async () => {
    const room = 'rc-drop';
    const listener = aiortc(server, await token({ identity: 'listener', room }), '--publish', '--expect-remote', '1',
      '--seconds', '40', '--hold', '40');
    const dropper = aiortc(server, await token({ identity: 'dropper', room }), '--publish', '--expect-remote', '1',
      '--seconds', '40', '--hold', '0', '--drop-signaling-after', '0.1', '--linger', '6');
    // The dropper drops as soon as it is satisfied (it waits for frames first).
    const d = await dropper;
    await request(server, 'DELETE', `/admin/v1/rooms/${room}`, { token: await adminToken() });
    const l = await listener;
    assert.ok(d.result?.dropped_unix_ms, d.stderr);
    const from = lastFrom(l.result, 'dropper');
    const after = from.last - d.result.dropped_unix_ms;
    assert.ok(from.frames > 0, 'media flowed before the drop');
    assert.ok(after > 300, `media ended ${after} ms after the drop, before the ${GRACE_MS} ms grace`);
    assert.ok(from.last < d.result.signaling_ended_unix_ms + 6000 - 2000, `media still flowed ${after} ms after the drop`);
    console.log(`# dropped socket: last frame ${after} ms after the drop (grace ${GRACE_MS} ms)`);
    const events = await audit(server, room);
    const expired = events.find((e) => e.class === 'reconnect_grace_expired');
    assert.equal(expired?.participant, 'dropper');
    console.log(`# grace expiry detected ${expired.detected_after_ms.toFixed(1)} ms after the grace ended`);
  });

  test('a DTLS certificate other than the signaled one is refused and recorded; a new connection then publishes', async () => {
    const room = 'rc-fingerprint';
    // A watcher answers every offer it gets and notes, in order, what it was told.
    const watcher = await Client.open(server);
    assert.equal((await watcher.join(await token({ identity: 'watcher', room }))).type, 'joined');
    const seen = [];
    watcher.ws.on('message', (data) => {
      const m = JSON.parse(data);
      seen.push(m);
      if (m.type === 'subscribe_offer') watcher.send({ type: 'subscribe_answer', sdp: answerFor(m.sdp), version: m.version });
    });
    const running = aiortc(server, await token({ identity: 'liar', room }), '--publish', '--wrong-fingerprint',
      '--republish-after-failure', '--seconds', '15');
    const events = await waitFor(async () => {
      const all = await audit(server, room);
      return all.some((e) => e.class === 'fingerprint_mismatch') ? all : null;
    }, 'the refusal in the audit log', 15000, 100);
    const refused = events.find((e) => e.class === 'fingerprint_mismatch');
    assert.equal(refused.action, 'refused');
    assert.equal(refused.participant, 'liar');
    assert.match(refused.evidence.presented, /^sha-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    assert.notEqual(refused.evidence.presented, refused.evidence.signaled);
    console.log(`# fingerprint refusal recorded ${refused.detected_after_ms.toFixed(1)} ms after the handshake failed`);
    // The failed connection released its binding: a retry from a new peer connection (a new
    // certificate, honestly signaled) connects.
    const connected = await waitFor(async () => (await media(server, room)).transports.find((t) => t.connected),
      'the new publish connection to connect', 15000, 100);
    assert.equal(connected.role, 'publisher');
    assert.notEqual(`sha-256 ${connected.fingerprint}`, refused.evidence.presented);
    const liar = await running;
    assert.equal(liar.result?.republished, true, JSON.stringify(liar.result));
    assert.ok(!liar.result.errors.some((e) => e.code === 'fingerprint_changed'), JSON.stringify(liar.result.errors));
    const metrics = (await request(server, 'GET', '/metrics', { token: await adminToken() })).text;
    assert.match(metrics, /rollcall_audit_ejections_total\{reason="fingerprint_mismatch"\} [1-9]/);
    // No offer ever named a track the watcher had been told was gone.
    const gone = new Set();
    let unpublished = 0;
    for (const m of seen) {
      if (m.type === 'track_unpublished') {
        gone.add(m.track.id);
        ++unpublished;
      }
      if (m.type !== 'subscribe_offer') continue;
      for (const t of m.tracks) assert.ok(!t.track || !gone.has(t.track), `offer ${m.version} names ${t.track}, announced gone`);
    }
    assert.ok(unpublished > 0, 'the failed connection\'s tracks were announced gone');
    watcher.close();
  });

  test('a stray data association on a receiving connection is closed and recorded; media carries on', async () => {
    const room = 'rc-data';
    const a = aiortc(server, await token({ identity: 'pub', room }), '--publish', '--seconds', '25', '--hold', '25');
    const b = aiortc(server, await token({ identity: 'sub', room }), '--expect-remote', '1', '--seconds', '25',
      '--hold', '25');
    await waitFor(async () => (await media(server, room)).consumers.some((c) => c.active), 'media to sub', 20000, 100);
    const planted = Date.now();
    const res = await request(server, 'POST', '/admin/v1/test/plant', {
      token: await adminToken(), body: { kind: 'stray_data', room, identity: 'sub' },
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const event = await waitFor(async () => (await audit(server, room)).find((e) => e.class === 'unauthorized_data'),
      'the stray association recorded', 10000, 100);
    console.log(`# stray data association closed and recorded within ${Date.now() - planted} ms`);
    assert.equal(event.participant, 'sub');
    assert.equal(event.action, 'data_closed');
    assert.equal(event.evidence.role, 'subscriber');
    await waitFor(async () => !(await media(server, room)).data.some((d) => d.role === 'subscriber'),
      'the association gone', 5000, 100);
    const [ra, rb] = await Promise.all([a, b]);
    assert.ok((rb.result.told ?? []).some((m) => m.type === 'roll_call' && m.action === 'data_closed'),
      JSON.stringify(rb.result.told));
    // The receiving connection itself stayed: media kept arriving after the ejection.
    assert.ok(lastFrom(rb.result, 'pub').last > planted + 5000, JSON.stringify(lastFrom(rb.result, 'pub')));
    assert.equal(ra.code, 0);
  });
});
