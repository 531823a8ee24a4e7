// The web client's room-state reducer (web-client/room-state.js), without a browser.
import { describe as group, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  badgesFor, describe, everyone, initialRoom, reduce, tilesFor, unsentNotice,
} from '../../web-client/room-state.js';

const ada = { id: 'PA_a', identity: 'ada', name: 'Ada', tracks: [] };
const bob = {
  id: 'PA_b', identity: 'bob', name: 'Bob',
  tracks: [{ id: 'TR_mic', kind: 'audio', source: 'microphone', muted: false }],
};
const joined = { type: 'joined', room: 'standup', participant: ada, participants: [bob] };

function run(...messages) {
  return messages.reduce(reduce, initialRoom());
}

group('room state', () => {
  test('joined: self, the room and the others', () => {
    const state = run(joined);
    assert.equal(state.room, 'standup');
    assert.equal(state.self.identity, 'ada');
    assert.deepEqual([...state.participants.keys()], ['bob']);
    assert.deepEqual(everyone(state).map((p) => p.identity), ['ada', 'bob']);
    assert.equal(describe(initialRoom(), joined), 'you joined standup as Ada');
  });

  test('the reducer never changes the state it is given', () => {
    const before = run(joined);
    const snapshot = JSON.stringify([...before.participants]);
    const after = reduce(before, { type: 'track_muted', participant: { identity: 'bob' }, track: 'TR_mic', muted: true });
    assert.equal(JSON.stringify([...before.participants]), snapshot);
    assert.equal(after.participants.get('bob').tracks[0].muted, true);
  });

  test('participants come and go; a stale leave of a replaced session is ignored', () => {
    let state = run(joined, { type: 'participant_joined', participant: { id: 'PA_c', identity: 'cy', name: 'Cy' } });
    assert.equal(state.participants.size, 2);
    // Cy rejoined elsewhere (new id); the old session's leave must not remove the new one.
    state = reduce(state, { type: 'participant_joined', participant: { id: 'PA_c2', identity: 'cy', name: 'Cy' } });
    state = reduce(state, { type: 'participant_left', participant: { id: 'PA_c', identity: 'cy' }, reason: 'replaced' });
    assert.equal(state.participants.get('cy').id, 'PA_c2');
    const leave = { type: 'participant_left', participant: { id: 'PA_c2', identity: 'cy' }, reason: 'kicked' };
    assert.equal(describe(state, leave), 'Cy was removed by an administrator');
    state = reduce(state, leave);
    assert.equal(state.participants.has('cy'), false);
  });

  test('tracks published, muted and unpublished; screen shares get their own tile and log lines', () => {
    const screen = { type: 'track_published', participant: { identity: 'bob' }, track: { id: 'TR_s', kind: 'video', source: 'screen' } };
    let state = run(joined);
    assert.equal(describe(state, screen), 'Bob started sharing their screen');
    state = reduce(state, screen);
    assert.deepEqual(tilesFor(state).map((t) => t.key), ['self', 'p:bob', 'screen:TR_s']);
    const stop = { type: 'track_unpublished', participant: { identity: 'bob' }, track: { id: 'TR_s' } };
    assert.equal(describe(state, stop), 'Bob stopped sharing their screen');
    state = reduce(state, stop);
    assert.deepEqual(tilesFor(state).map((t) => t.key), ['self', 'p:bob']);
    // Events about someone unknown change nothing.
    const ghost = { type: 'track_published', participant: { identity: 'nobody' }, track: { id: 'TR_x', source: 'camera' } };
    assert.equal(reduce(state, ghost), state);
  });

  test('a video our link cannot carry is marked paused, logged, and back when the server says so', () => {
    const cam = { type: 'track_published', participant: { identity: 'bob' }, track: { id: 'TR_cam', kind: 'video', source: 'camera' } };
    let state = run(joined, cam);
    const paused = { type: 'stream_state', track: 'TR_cam', state: 'paused', reason: 'bandwidth' };
    assert.equal(describe(state, paused), "Bob's video paused: your connection is too slow (audio goes on)");
    state = reduce(state, paused);
    assert.deepEqual(badgesFor(state, 'p:bob', state.participants.get('bob')).map((b) => b.text),
      ['video paused: your connection is too slow']);
    const active = { type: 'stream_state', track: 'TR_cam', state: 'active', reason: 'bandwidth' };
    assert.equal(describe(state, active), "Bob's video is back");
    state = reduce(state, active);
    assert.deepEqual(badgesFor(state, 'p:bob', state.participants.get('bob')), []);
    // A track nobody publishes is not news.
    assert.equal(describe(state, { ...paused, track: 'TR_gone' }), null);
  });

  test('badges say what is missing, and a camera the server refused is "not sent"', () => {
    let state = run(joined);
    assert.deepEqual(badgesFor(state, 'p:bob', state.participants.get('bob')).map((b) => b.text), ['no camera']);
    const answer = {
      tracks: [{ mid: '0', id: 'TR_am', kind: 'audio', source: 'microphone', muted: false }],
      rejected: [{ mid: '1', kind: 'video', code: 'no_codec', message: 'no codec rollcall can receive' }],
    };
    const published = { type: 'local:published', answer, sources: { 0: 'microphone', 1: 'camera' } };
    assert.equal(describe(state, published), 'your camera could not be sent: no codec rollcall can receive');
    state = reduce(state, published);
    assert.deepEqual([...state.unsent.keys()], ['camera']);
    assert.equal(unsentNotice(state), 'Your camera could not be sent: no codec rollcall can receive.');
    const self = tilesFor(state)[0];
    assert.deepEqual(badgesFor(state, 'self', self.participant).map((b) => b.text), ['camera not sent']);
    // Said once: the same refusal again is not news.
    assert.equal(describe(state, published), null);
    // A later answer that takes everything clears it.
    state = reduce(state, { type: 'local:published', answer: { tracks: answer.tracks, rejected: [] }, sources: {} });
    assert.equal(unsentNotice(state), '');
  });

  test('our own mute state follows local:muted', () => {
    let state = run(joined, {
      type: 'local:published', answer: { tracks: [{ mid: '0', id: 'TR_am', source: 'microphone', muted: false }], rejected: [] },
    });
    state = reduce(state, { type: 'local:muted', track: 'TR_am', muted: true });
    assert.equal(state.myTracks.get('0').muted, true);
    assert.deepEqual(badgesFor(state, 'self', tilesFor(state)[0].participant).map((b) => b.text), ['microphone muted', 'no camera']);
  });

  test('the first ending wins: a kick is not overwritten by the shutdown that follows', () => {
    let state = run(joined, { type: 'kicked', reason: 'kicked', message: 'enough' });
    state = reduce(state, { type: 'error', code: 'server_shutdown' });
    assert.deepEqual(state.ending, { title: 'You were removed from the room', message: 'enough' });
    assert.deepEqual(run(joined, { type: 'local:left' }).ending, { title: 'You left the room', message: '' });
    assert.equal(run(joined, { type: 'error', code: 'rate_limited' }).ending, null);
    // A server shutdown alone ends nothing: the page reconnects to the restarted server.
    assert.equal(run(joined, { type: 'error', code: 'server_shutdown' }).ending, null);
  });

  test("an administrator's mute marks our track and is described for us and for others", () => {
    const mine = run(joined, {
      type: 'local:published', answer: { tracks: [{ mid: '1', id: 'TR_cam', source: 'camera', muted: false }], rejected: [] },
    });
    const muted = { type: 'muted', track: 'TR_cam', muted: true, by: 'admin' };
    assert.equal(describe(mine, muted), 'an administrator muted your camera');
    const after = reduce(mine, muted);
    assert.equal(after.myTracks.get('1').muted, true);
    assert.equal(after.myTracks.get('1').admin_muted, true);
    assert.equal(reduce(mine, { type: 'muted', track: 'TR_cam', muted: true }), mine);  // our own reply: no change here
    const others = run(joined);
    const told = { type: 'track_muted', participant: { id: 'PA_b', identity: 'bob' }, track: 'TR_mic', muted: true, by: 'admin' };
    assert.equal(describe(others, told), "an administrator muted Bob's microphone");
    assert.equal(reduce(others, told).participants.get('bob').tracks[0].muted, true);
  });

  test('a resumed joined keeps what we publish and who hears it, and takes the room as given', () => {
    const carol = { id: 'PA_c', identity: 'carol', name: 'Carol', tracks: [] };
    const before = run(joined,
      { type: 'local:published', answer: { tracks: [{ mid: '0', id: 'TR_am', source: 'microphone', muted: false }], rejected: [] } },
      { type: 'audience', audience: [{ identity: 'bob', name: 'Bob', tracks: ['TR_am'] }], unaccounted: 0 });
    const slow = reduce(before, { type: 'stream_state', track: 'TR_cc', state: 'paused', reason: 'bandwidth' });
    const resumed = { ...joined, resumed: true, participants: [carol] };
    const after = reduce(slow, resumed);
    assert.ok(after.slowVideo.has('TR_cc'), 'a video still paused for our link stays marked');
    assert.deepEqual([...after.participants.keys()], ['carol']);  // bob left while we were away
    assert.equal(after.myTracks.get('0').id, 'TR_am');
    assert.equal(after.audience.audience[0].identity, 'bob');
    assert.equal(describe(before, resumed), 'reconnected; your call carried on');
    // A fresh join after a failed resume starts over.
    assert.equal(reduce(slow, joined).myTracks.size, 0);
    assert.equal(reduce(slow, joined).slowVideo.size, 0);
  });

  test('audience from the media plane, and roll-call and media log lines', () => {
    const state = run(joined, { type: 'audience', audience: [{ identity: 'bob', name: 'Bob', tracks: ['TR_am'] }], unaccounted: 0 });
    assert.equal(state.audience.audience[0].identity, 'bob');
    assert.equal(describe(state, { type: 'roll_call', message: 'a transport was closed' }), 'roll call: a transport was closed');
    assert.equal(describe(state, { type: 'media', target: 'publisher', state: 'failed', reason: 'ICE failed' }), 'publisher media failed: ICE failed');
    assert.equal(describe(state, { type: 'media', target: 'publisher', state: 'connected' }), null);
  });
});
