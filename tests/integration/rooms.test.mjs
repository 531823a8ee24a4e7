// Join, leave, events and kicks over real WSS against a real server on 127.0.0.1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminToken, Client, joinAs, request, startServer, token } from './lib/server.mjs';

describe('rooms over WSS', () => {
  let server;
  // A dropped socket's session is kept for the reconnect grace (then announced `disconnected`).
  before(async () => { server = await startServer({ config: '[roll_call]\nreconnect_grace_ms = 300\n' }); });
  after(async () => { await server.stop(); });

  test('healthz answers 200 over TLS with the dev certificate valid for 127.0.0.1', async () => {
    const res = await request(server, 'GET', '/healthz');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { status: 'ok' });
  });

  test('three clients join, see each other, and see leaves and disconnects', async () => {
    const alice = await joinAs(server, 'alice', 'trio', 'Alice');
    assert.equal(alice.joined.room, 'trio');
    assert.equal(alice.joined.participant.identity, 'alice');
    assert.equal(alice.joined.participant.name, 'Alice');
    assert.deepEqual(alice.joined.participants, []);

    const bob = await joinAs(server, 'bob', 'trio');
    assert.deepEqual(bob.joined.participants.map((p) => p.identity), ['alice']);
    assert.equal((await alice.next('participant_joined')).participant.identity, 'bob');

    const carol = await joinAs(server, 'carol', 'trio');
    assert.deepEqual(carol.joined.participants.map((p) => p.identity).sort(), ['alice', 'bob']);
    for (const c of [alice, bob]) assert.equal((await c.next('participant_joined')).participant.identity, 'carol');

    bob.send({ type: 'leave', id: 'bye' });
    assert.equal((await bob.next('left')).ref, 'bye');
    assert.equal((await bob.closed).code, 1000);
    for (const c of [alice, carol]) {
      const left = await c.next('participant_left');
      assert.equal(left.participant.identity, 'bob');
      assert.equal(left.reason, 'left');
    }

    carol.ws.terminate();  // no close handshake: a dropped connection
    const gone = await alice.next('participant_left');
    assert.equal(gone.participant.identity, 'carol');
    assert.equal(gone.reason, 'disconnected');
    await alice.ping();
    alice.close();
  });

  test('a second session of the same identity replaces the first, which is told why', async () => {
    const watcher = await joinAs(server, 'watcher', 'dup');
    const first = await joinAs(server, 'dana', 'dup');
    await watcher.next('participant_joined');
    const second = await joinAs(server, 'dana', 'dup');
    const kicked = await first.next('kicked');
    assert.equal(kicked.reason, 'replaced');
    await first.closed;
    assert.equal((await watcher.next('participant_left')).reason, 'replaced');
    assert.equal((await watcher.next('participant_joined')).participant.id, second.joined.participant.id);
    await second.ping();
    const room = await request(server, 'GET', '/admin/v1/rooms/dup', { token: await adminToken() });
    assert.deepEqual(room.body.room.participants.map((p) => p.identity).sort(), ['dana', 'watcher']);
    watcher.close();
    second.close();
  });

  test('an admin kick reaches the kicked client and the others; the room listing follows', async () => {
    const alice = await joinAs(server, 'alice', 'kick-room');
    const bob = await joinAs(server, 'bob', 'kick-room');
    const carol = await joinAs(server, 'carol', 'kick-room');
    await alice.next('participant_joined');
    await alice.next('participant_joined');
    await bob.next('participant_joined');

    const admin = await adminToken('kick-room', { roomAdmin: true });
    const res = await request(server, 'DELETE', '/admin/v1/rooms/kick-room/participants/bob', {
      token: admin, body: { reason: 'off-topic' },
    });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body, { kicked: { room: 'kick-room', identity: 'bob' } });

    const kicked = await bob.next('kicked');
    assert.equal(kicked.reason, 'kicked');
    assert.equal(kicked.message, 'off-topic');
    await bob.closed;
    for (const c of [alice, carol]) {
      const left = await c.next('participant_left');
      assert.equal(left.participant.identity, 'bob');
      assert.equal(left.reason, 'kicked');
    }
    const room = await request(server, 'GET', '/admin/v1/rooms/kick-room', { token: admin });
    assert.deepEqual(room.body.room.participants.map((p) => p.identity), ['alice', 'carol']);
    await alice.ping();
    await carol.ping();

    const again = await request(server, 'DELETE', '/admin/v1/rooms/kick-room/participants/bob', { token: admin });
    assert.equal(again.status, 404);
    assert.equal(again.body.code, 'participant_not_found');
    alice.close();
    carol.close();
  });

  test('kicked means gone: the kicked token no longer joins, a new one does, and a ban keeps the identity out', async () => {
    const admin = await adminToken('gone-room', { roomAdmin: true });
    const first = await token({ identity: 'eve', room: 'gone-room' });
    const eve = await Client.open(server);
    assert.equal((await eve.join(first)).type, 'joined');
    const kick = await request(server, 'DELETE', '/admin/v1/rooms/gone-room/participants/eve', { token: admin });
    assert.equal(kick.status, 200, kick.text);
    await eve.closed;
    const again = await Client.open(server);
    const refused = await again.join(first);
    assert.equal(refused.code, 'token_revoked', JSON.stringify(refused));
    const fresh = await Client.open(server);
    assert.equal((await fresh.join(await token({ identity: 'eve', room: 'gone-room', ttl: '2h' }))).type, 'joined');

    // Kicked with a ban: any token for that identity and room is refused for its length.
    const banned = await request(server, 'DELETE', '/admin/v1/rooms/gone-room/participants/eve?ban=2', { token: admin });
    assert.equal(banned.status, 200, banned.text);
    assert.equal(banned.body.kicked.banned_s, 2);
    const during = await Client.open(server);
    const out = await during.join(await token({ identity: 'eve', room: 'gone-room', ttl: '3h' }));
    assert.equal(out.code, 'banned', JSON.stringify(out));
    const elsewhere = await Client.open(server);
    assert.equal((await elsewhere.join(await token({ identity: 'eve', room: 'other-room' }))).type, 'joined');
    await new Promise((r) => setTimeout(r, 2100));
    const after = await Client.open(server);
    assert.equal((await after.join(await token({ identity: 'eve', room: 'gone-room', ttl: '4h' }))).type, 'joined');
    for (const bad of ['-1', 'x', '604801', '1.5']) {
      const res = await request(server, 'DELETE', `/admin/v1/rooms/gone-room/participants/eve?ban=${bad}`, { token: admin });
      assert.equal(res.status, 400, bad);
      assert.equal(res.body.code, 'bad_ban');
    }
    for (const c of [elsewhere, after]) c.close();

    // A deleted room's members cannot walk back in with the same tokens.
    const member = await token({ identity: 'frank', room: 'gone-room' });
    const frank = await Client.open(server);
    assert.equal((await frank.join(member)).type, 'joined');
    assert.equal((await request(server, 'DELETE', '/admin/v1/rooms/gone-room', { token: await adminToken() })).status, 200);
    const back = await Client.open(server);
    assert.equal((await back.join(member)).code, 'token_revoked');
  });

  test('deleting a room ends every session in it and nothing else', async () => {
    const a = await joinAs(server, 'a', 'doomed');
    const b = await joinAs(server, 'b', 'doomed');
    const other = await joinAs(server, 'c', 'survivor');
    const res = await request(server, 'DELETE', '/admin/v1/rooms/doomed', { token: await adminToken() });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.deleted.participants_removed, 2);
    for (const c of [a, b]) {
      assert.equal((await c.next('kicked')).reason, 'room_closed');
      await c.closed;
    }
    await other.ping();
    const list = await request(server, 'GET', '/admin/v1/rooms', { token: await adminToken() });
    assert.ok(!list.body.rooms.some((r) => r.name === 'doomed'));
    assert.ok(list.body.rooms.some((r) => r.name === 'survivor' && r.num_participants === 1));
    other.close();
  });

  test('the dev token endpoint mints a token that joins', async () => {
    const res = await request(server, 'POST', '/dev/token', { body: { room: 'dev-room', identity: 'eve', name: 'Eve' } });
    assert.equal(res.status, 200, res.text);
    const client = await Client.open(server);
    const joined = await client.join(res.body.token);
    assert.equal(joined.type, 'joined');
    assert.equal(joined.participant.name, 'Eve');
    client.close();
  });

  test('metrics need credentials and count what happened', async () => {
    assert.equal((await request(server, 'GET', '/metrics')).status, 401);
    const participant = await token({ identity: 'x', room: 'r1' });
    assert.equal((await request(server, 'GET', '/metrics', { token: participant })).status, 403);
    const res = await request(server, 'GET', '/metrics', { token: await adminToken() });
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^text\/plain; version=0\.0\.4/);
    assert.match(res.text, /^rollcall_joins_total \d+$/m);
    assert.match(res.text, /^rollcall_kicks_total [1-9]\d*$/m);
    assert.match(res.text, /^rollcall_leaves_total\{reason="kicked"\} [1-9]/m);
  });

  test('the web client is served with a content security policy', async () => {
    const res = await request(server, 'GET', '/');
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /text\/html/);
    assert.match(res.headers['content-security-policy'], /default-src 'self'/);
    assert.match(res.text, /Join a room/);
    assert.equal((await request(server, 'GET', '/app.js')).status, 200);
    assert.equal((await request(server, 'GET', '/../CMakeLists.txt')).status, 404);
  });
});
