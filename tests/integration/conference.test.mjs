// Conference signaling over real WSS: publish, track announcements, the server's
// subscription offers and their answers, mute, unpublish, explicit (un)subscribe, and the
// admin view. Offers are a recorded Chromium offer; no peer ever completes ICE, so no media
// flows (ctest runs this inside a loopback-only namespace anyway).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { adminToken, answerFor, Client, joinAs, repoRoot, request, startServer, token } from './lib/server.mjs';

const offer = readFileSync(path.join(repoRoot, 'tests/data/sdp/chromium-156-offer.sdp'), 'utf8');
// Firefox with max-bundle: its video section is port 0 with a=bundle-only.
const firefoxOffer = readFileSync(path.join(repoRoot, 'tests/data/sdp/firefox-153-offer.sdp'), 'utf8');
const ROOM = 'conf-room';

describe('conference signaling', () => {
  let server;
  let alice;
  let bob;
  let aliceTracks;
  before(async () => { server = await startServer({ config: '[roll_call]\nreconnect_grace_ms = 300\n' }); });
  after(async () => {
    alice?.close();
    bob?.close();
    await server.stop();
  });

  test('publishing answers recvonly and names the tracks', async () => {
    alice = await joinAs(server, 'alice', ROOM, 'Alice');
    alice.send({ type: 'publish', sdp: offer, sources: { 0: 'microphone', 1: 'camera' }, id: 'p1' });
    const answer = await alice.next((m) => m.ref === 'p1');
    assert.equal(answer.type, 'answer', JSON.stringify(answer));
    assert.deepEqual(answer.tracks.map((t) => [t.mid, t.kind, t.source]), [['0', 'audio', 'microphone'], ['1', 'video', 'camera']]);
    assert.ok(answer.tracks.every((t) => /^TR_/.test(t.id)));
    assert.match(answer.sdp, /a=recvonly/);
    assert.doesNotMatch(answer.sdp, /a=sendrecv|a=sendonly/);
    assert.deepEqual([...new Set([...answer.sdp.matchAll(/a=candidate:\S+ \d+ \S+ \d+ (\S+) /g)].map((m) => m[1]))], ['127.0.0.1']);
    assert.deepEqual(answer.rejected, []);
    aliceTracks = answer.tracks;
  });

  test('a Firefox offer publishes its bundle-only video; a section the server cannot take is named, with why', async () => {
    const fox = await joinAs(server, 'fox', 'conf-firefox', 'Fox');
    fox.send({ type: 'publish', sdp: firefoxOffer, id: 'f1' });
    const answer = await fox.next((m) => m.ref === 'f1');
    assert.equal(answer.type, 'answer', JSON.stringify(answer));
    assert.deepEqual(answer.tracks.map((t) => [t.mid, t.kind, t.source, t.codec]), [['0', 'audio', 'microphone', 'opus'], ['1', 'video', 'camera', 'VP8']]);
    assert.deepEqual(answer.rejected, []);
    assert.equal((answer.sdp.match(/a=recvonly/g) ?? []).length, 2);
    assert.doesNotMatch(answer.sdp, /a=inactive/);

    // Video only in codecs the server does not take: audio is published, video is named.
    const h265 = firefoxOffer.replace('a=rtpmap:120 VP8/90000', 'a=rtpmap:120 H265/90000').replace('a=rtpmap:121 VP9/90000', 'a=rtpmap:121 H265/90000');
    const vixen = await joinAs(server, 'vixen', 'conf-firefox', 'Vixen');
    vixen.send({ type: 'publish', sdp: h265, id: 'v1' });
    const partial = await vixen.next((m) => m.ref === 'v1');
    assert.equal(partial.type, 'answer', JSON.stringify(partial));
    assert.deepEqual(partial.tracks.map((t) => t.kind), ['audio']);
    assert.equal(partial.rejected.length, 1);
    assert.deepEqual({ ...partial.rejected[0], message: undefined }, { mid: '1', kind: 'video', code: 'no_codec', message: undefined });
    assert.match(partial.rejected[0].message, /offered H265, AV1/);
    assert.match(partial.sdp, /m=video 0 [^\r]*\r\n(?:[^m][^\r]*\r\n)*a=inactive/);
    // Fox, already in the room, is told of Vixen's audio only.
    const published = await fox.next((m) => m.type === 'track_published' && m.participant.identity === 'vixen');
    assert.equal(published.track.kind, 'audio');
    fox.send({ type: 'leave' });
    vixen.send({ type: 'leave' });
    fox.close();
    vixen.close();
  });

  test('a newcomer sees the tracks and gets an offer for them', async () => {
    bob = await joinAs(server, 'bob', ROOM, 'Bob');
    const listed = bob.joined.participants.find((p) => p.identity === 'alice');
    assert.deepEqual(listed.tracks.map((t) => t.id).sort(), aliceTracks.map((t) => t.id).sort());
    const offerMsg = await bob.next('subscribe_offer');
    assert.equal(offerMsg.version, 1);
    assert.equal(offerMsg.tracks.length, 2);
    for (const entry of offerMsg.tracks) {
      assert.equal(entry.participant.identity, 'alice');
      assert.ok(aliceTracks.some((t) => t.id === entry.track && t.kind === entry.kind && t.source === entry.source));
    }
    assert.equal((offerMsg.sdp.match(/a=sendonly/g) ?? []).length, 2);
    assert.match(offerMsg.sdp, /a=setup:actpass/);
    assert.match(offerMsg.sdp, /a=rtpmap:\d+ rtx\/90000/);
    // Alice's own addresses never reach Bob: the only candidate is the server's.
    assert.deepEqual([...new Set([...offerMsg.sdp.matchAll(/a=candidate:\S+ \d+ \S+ \d+ (\S+) /g)].map((m) => m[1]))], ['127.0.0.1']);
    assert.doesNotMatch(offerMsg.sdp, /38274/);
    bob.lastOffer = offerMsg;
  });

  test('answers must match the offer they answer', async () => {
    bob.send({ type: 'subscribe_answer', sdp: answerFor(bob.lastOffer.sdp), version: 7, id: 's0' });
    assert.equal((await bob.next((m) => m.ref === 's0')).code, 'stale_answer');
    bob.send({ type: 'subscribe_answer', sdp: 'v=0\r\nm=audio\r\n', version: 1, id: 's1' });
    assert.equal((await bob.next((m) => m.ref === 's1')).code, 'sdp_malformed');
    bob.send({ type: 'subscribe_answer', sdp: answerFor(bob.lastOffer.sdp), id: 's2' });
    assert.equal((await bob.next((m) => m.ref === 's2')).code, 'malformed_message');
    const sdes = answerFor(bob.lastOffer.sdp).replace(/a=rtcp-mux\r\n/g, 'a=rtcp-mux\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n');
    bob.send({ type: 'subscribe_answer', sdp: sdes, version: 1, id: 's3' });
    assert.equal((await bob.next((m) => m.ref === 's3')).code, 'sdes_not_supported');
    bob.send({ type: 'subscribe_answer', sdp: answerFor(bob.lastOffer.sdp), version: 1, id: 's4' });
    await new Promise((r) => setTimeout(r, 300));  // an error would come back from the media worker
    await bob.ping();
    assert.equal(bob.messages.find((m) => m.ref === 's4'), undefined, `a good answer gets no error: ${JSON.stringify(bob.messages)}`);
  });

  test('mute state reaches the others', async () => {
    const audio = aliceTracks.find((t) => t.kind === 'audio');
    alice.send({ type: 'mute', track: audio.id, muted: true, id: 'm1' });
    assert.deepEqual(await alice.next((m) => m.ref === 'm1'), { type: 'muted', track: audio.id, muted: true, ref: 'm1' });
    const seen = await bob.next('track_muted');
    assert.deepEqual([seen.participant.identity, seen.track, seen.muted], ['alice', audio.id, true]);
    alice.send({ type: 'mute', track: 'TR_nope', muted: true, id: 'm2' });
    assert.equal((await alice.next((m) => m.ref === 'm2')).code, 'track_not_found');
    alice.send({ type: 'mute', track: audio.id, muted: 'yes', id: 'm3' });
    assert.equal((await alice.next((m) => m.ref === 'm3')).code, 'malformed_message');
    bob.send({ type: 'mute', track: audio.id, muted: true, id: 'm4' });
    assert.equal((await bob.next((m) => m.ref === 'm4')).code, 'track_not_found', 'nobody mutes another\'s track');
  });

  test('explicit unsubscribe and subscribe, with their refusals', async () => {
    const video = aliceTracks.find((t) => t.kind === 'video');
    bob.send({ type: 'unsubscribe', tracks: [video.id], id: 'u1' });
    const reply = await bob.next((m) => m.ref === 'u1');
    assert.equal(reply.type, 'unsubscribed');
    assert.ok(!reply.subscriptions.includes(video.id));
    const next = await bob.next('subscribe_offer');
    assert.equal(next.version, 2);
    assert.equal(next.tracks.find((t) => t.kind === 'video').track, null, 'the video section is now inactive');
    assert.match(next.sdp, /a=inactive/);
    bob.send({ type: 'subscribe_answer', sdp: answerFor(next.sdp), version: 2 });

    bob.send({ type: 'subscribe', tracks: [video.id], id: 'u2' });
    assert.ok((await bob.next((m) => m.ref === 'u2')).subscriptions.includes(video.id));
    const again = await bob.next('subscribe_offer');
    assert.equal(again.tracks.find((t) => t.kind === 'video').track, video.id, 'the inactive section is reused');
    assert.equal(again.tracks.length, 2);
    bob.send({ type: 'subscribe_answer', sdp: answerFor(again.sdp), version: again.version });

    for (const [body, code] of [
      [{ tracks: ['TR_unknown'] }, 'track_not_found'],
      [{ tracks: [] }, 'malformed_message'],
      [{ tracks: 'TR_x' }, 'malformed_message'],
      [{ tracks: [42] }, 'malformed_message'],
    ]) {
      bob.send({ type: 'subscribe', id: 'bad', ...body });
      assert.equal((await bob.next((m) => m.ref === 'bad')).code, code, JSON.stringify(body));
    }
    alice.send({ type: 'subscribe', tracks: [video.id], id: 'own' });
    assert.equal((await alice.next((m) => m.ref === 'own')).code, 'track_not_found', 'nobody subscribes to their own track');

    const viewer = await Client.open(server);
    await viewer.join(await token({ identity: 'viewer', room: ROOM, grants: { canSubscribe: false } }));
    viewer.send({ type: 'subscribe', tracks: [video.id], id: 'v1' });
    assert.equal((await viewer.next((m) => m.ref === 'v1')).code, 'permission_denied');
    viewer.close();
  });

  test('the admin API lists tracks and subscriptions', async () => {
    const detail = await request(server, 'GET', `/admin/v1/rooms/${ROOM}`, { token: await adminToken() });
    assert.equal(detail.status, 200);
    const byId = Object.fromEntries(detail.body.room.participants.map((p) => [p.identity, p]));
    assert.deepEqual(byId.alice.tracks.map((t) => t.id).sort(), aliceTracks.map((t) => t.id).sort());
    assert.deepEqual(byId.alice.subscriptions, []);
    assert.deepEqual([...byId.bob.subscriptions].sort(), aliceTracks.map((t) => t.id).sort());
    assert.equal(byId.alice.tracks.find((t) => t.kind === 'audio').muted, true);
  });

  test('unpublish: the others are told, and their offer drops the track', async () => {
    const audio = aliceTracks.find((t) => t.kind === 'audio');
    alice.send({ type: 'unpublish', track: audio.id, id: 'x1' });
    assert.deepEqual(await alice.next((m) => m.ref === 'x1'), { type: 'unpublished', track: audio.id, ref: 'x1' });
    const told = await bob.next('track_unpublished');
    assert.equal(told.track.id, audio.id);
    const offerMsg = await bob.next('subscribe_offer');
    assert.equal(offerMsg.tracks.find((t) => t.kind === 'audio').track, null);
    alice.send({ type: 'unpublish', track: audio.id, id: 'x2' });
    assert.equal((await alice.next((m) => m.ref === 'x2')).code, 'track_not_found');
    alice.send({ type: 'unpublish', id: 'x3' });
    assert.equal((await alice.next((m) => m.ref === 'x3')).code, 'malformed_message');
  });

  test('a second offer before the first is answered waits its turn', async () => {
    const carol = await joinAs(server, 'carol', ROOM, 'Carol');
    carol.send({ type: 'publish', sdp: offer, id: 'c1' });
    carol.send({ type: 'publish', sdp: offer, id: 'c2' });
    const replies = [await carol.next((m) => m.ref === 'c1'), await carol.next((m) => m.ref === 'c2')];
    assert.equal(replies[0].type, 'answer');
    // Either the second arrived while the first was with the media worker, or the first was
    // answered already and the second is a renegotiation that keeps the tracks.
    if (replies[1].type === 'answer') {
      assert.deepEqual(replies[1].tracks.map((t) => t.id), replies[0].tracks.map((t) => t.id));
    } else {
      assert.equal(replies[1].code, 'negotiation_in_progress');
    }
    carol.send({ type: 'publish', echo: true, sdp: offer, id: 'c3' });
    assert.equal((await carol.next((m) => m.ref === 'c3')).code, 'already_publishing');
    carol.send({ type: 'trickle', target: 'sideways', candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host', id: 'c4' });
    assert.equal((await carol.next((m) => m.ref === 'c4')).code, 'malformed_message');
    carol.close();  // the socket drops: carol's media lives on for the reconnect grace, then goes
    const left = await bob.next((m) => m.type === 'participant_left' && m.participant.identity === 'carol');
    assert.equal(left.reason, 'disconnected');
  });

  test('when a publisher leaves, the others are told', async () => {
    alice.send({ type: 'leave' });
    const left = await bob.next((m) => m.type === 'participant_left' && m.participant.identity === 'alice');
    assert.equal(left.reason, 'left');
    await bob.ping();
  });
});

describe('receive limits', () => {
  let server;
  before(async () => { server = await startServer({ config: '[rooms]\nmax_received_tracks = 3\n' }); });
  after(async () => { await server.stop(); });

  test('a participant past its receive limit is told which tracks it does not get, and keeps working', async () => {
    const publishers = [];
    for (const name of ['pia', 'quin']) {
      const c = await joinAs(server, name, 'limits');
      c.send({ type: 'publish', sdp: offer, id: 'p' });
      assert.equal((await c.next((m) => m.ref === 'p')).type, 'answer');
      publishers.push(c);
    }
    const rex = await joinAs(server, 'rex', 'limits');
    const told = await rex.next((m) => m.type === 'error' && m.code === 'too_many_subscriptions');
    assert.equal(told.tracks.length, 1, JSON.stringify(told));
    const offered = await rex.next('subscribe_offer');
    assert.equal(offered.tracks.filter((t) => t.track).length, 3);
    // Explicitly asking for more is refused whole; dropping one makes room for it.
    rex.send({ type: 'subscribe', tracks: told.tracks, id: 's1' });
    assert.equal((await rex.next((m) => m.ref === 's1')).code, 'too_many_subscriptions');
    const room = await request(server, 'GET', '/admin/v1/rooms/limits', { token: await adminToken() });
    const current = room.body.room.participants.find((p) => p.identity === 'rex').subscriptions;
    rex.send({ type: 'unsubscribe', tracks: [current[0]], id: 'u1' });
    assert.equal((await rex.next((m) => m.ref === 'u1')).type, 'unsubscribed');
    rex.send({ type: 'subscribe', tracks: told.tracks, id: 's2' });
    const subscribed = await rex.next((m) => m.ref === 's2');
    assert.equal(subscribed.type, 'subscribed', JSON.stringify(subscribed));
    assert.equal(subscribed.subscriptions.length, 3);
    await rex.ping();
    for (const c of [...publishers, rex]) c.close();
  });
});
