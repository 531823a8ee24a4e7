// One peer's garbage gets a documented error and disturbs nobody else in the room.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import WebSocket from 'ws';
import { adminToken, Client, joinAs, request, startServer, token } from './lib/server.mjs';

describe('bad input', () => {
  let server;
  let alice;
  let bob;

  before(async () => {
    server = await startServer({ config: '[limits]\njoin_timeout_ms = 800\n[roll_call]\nreconnect_grace_ms = 300\n' });
    alice = await joinAs(server, 'alice', 'calm');
    bob = await joinAs(server, 'bob', 'calm');
    await alice.next('participant_joined');
  });
  after(async () => {
    alice.close();
    bob.close();
    await server.stop();
  });

  // After each abuse the room must still work for both of its members, and both are still on it.
  async function roomStillWorks() {
    await alice.ping();
    await bob.ping();
    const room = await request(server, 'GET', '/admin/v1/rooms/calm', { token: await adminToken() });
    const identities = room.body.room.participants.map((p) => p.identity);
    assert.ok(identities.includes('alice') && identities.includes('bob'), JSON.stringify(identities));
    for (const c of [alice, bob]) {
      assert.ok(!c.messages.some((m) => m.type === 'participant_left' && ['alice', 'bob'].includes(m.participant.identity)));
    }
  }

  const leftEvent = (identity) => (m) => m.type === 'participant_left' && m.participant.identity === identity;

  test('malformed JSON is answered and the connection stays', async () => {
    const mallory = await joinAs(server, 'mallory', 'calm');
    for (const garbage of ['{not json', '[1,2]', '"join"', '{"type":7}', '{}', '\u0000\u0001']) {
      mallory.send(garbage);
      const error = await mallory.next('error');
      assert.equal(error.code, 'malformed_message', garbage);
    }
    await mallory.ping();
    mallory.close();
    await alice.next(leftEvent('mallory'));
    await bob.next(leftEvent('mallory'));
    await roomStillWorks();
  });

  test('an unknown message type is answered with unknown_type and its ref', async () => {
    bob.send({ type: 'teleport', id: 99 });
    const error = await bob.next('error');
    assert.equal(error.code, 'unknown_type');
    assert.equal(error.ref, 99);
    await roomStillWorks();
  });

  test('messages before join get not_joined; silence past the deadline gets join_timeout', async () => {
    const lurker = await Client.open(server);
    lurker.send({ type: 'ping' });
    assert.equal((await lurker.next('error')).code, 'not_joined');
    const error = await lurker.next('error', 3000);
    assert.equal(error.code, 'join_timeout');
    assert.equal((await lurker.closed).code, 1008);
    await roomStillWorks();
  });

  test('an oversized message is refused with message_too_large; the connection stays', async () => {
    const mallory = await joinAs(server, 'mallory2', 'calm');
    mallory.send({ type: 'ping', pad: 'x'.repeat(100 * 1024) });
    assert.equal((await mallory.next('error')).code, 'message_too_large');
    await mallory.ping();
    mallory.close();
    await alice.next(leftEvent('mallory2'));
    await roomStillWorks();
  });

  test('an oversized frame closes only that connection, with 1009', async () => {
    const mallory = await joinAs(server, 'mallory3', 'calm');
    mallory.send({ type: 'ping', pad: 'x'.repeat(400 * 1024) });
    assert.equal((await mallory.closed).code, 1009);
    const left = await alice.next(leftEvent('mallory3'));
    assert.equal(left.reason, 'disconnected');
    await bob.next(leftEvent('mallory3'));
    await roomStillWorks();
  });

  test('a message flood is rate limited, then the flooder is closed; the room carries on', async () => {
    const mallory = await joinAs(server, 'flooder', 'calm');
    for (let i = 0; i < 2000 && mallory.ws.readyState === 1; i++) mallory.send({ type: 'ping' });
    const error = await mallory.next((m) => m.type === 'error');
    assert.equal(error.code, 'rate_limited');
    assert.equal((await mallory.closed).code, 1008);
    await alice.next(leftEvent('flooder'));
    await bob.next(leftEvent('flooder'));
    await roomStillWorks();
  });

  test('binary frames are refused', async () => {
    bob.ws.send(Buffer.from([1, 2, 3]));
    assert.equal((await bob.next('error')).code, 'binary_not_supported');
    await roomStillWorks();
  });

  test('admin: no credentials 401, wrong credentials 401, wrong grant 403', async () => {
    const none = await request(server, 'GET', '/admin/v1/rooms');
    assert.equal(none.status, 401);
    assert.equal(none.body.code, 'missing_credentials');
    assert.match(none.headers['www-authenticate'], /^Bearer/);
    const forged = await request(server, 'GET', '/admin/v1/rooms', {
      token: await token({ identity: 'x', room: '*', grants: { roomList: true }, secret: 'y'.repeat(40) }),
    });
    assert.equal(forged.status, 401);
    assert.equal(forged.body.code, 'token_invalid_signature');
    const basic = await request(server, 'GET', '/admin/v1/rooms', { headers: { Authorization: 'Basic YTpi' } });
    assert.equal(basic.status, 401);
    const participant = await request(server, 'DELETE', '/admin/v1/rooms/calm/participants/bob', {
      token: await token({ identity: 'alice', room: 'calm' }),
    });
    assert.equal(participant.status, 403);
    assert.equal(participant.body.code, 'permission_denied');
    const otherRoom = await request(server, 'DELETE', '/admin/v1/rooms/calm/participants/bob', {
      token: await adminToken('elsewhere', { roomAdmin: true }),
    });
    assert.equal(otherRoom.status, 403);
    await roomStillWorks();
  });

  test('admin: 400, 404, 405 and 413 carry JSON bodies', async () => {
    const admin = await adminToken();
    const bad = await request(server, 'GET', '/admin/v1/rooms/bad%zz', { token: admin });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.code, 'bad_path');
    const missing = await request(server, 'GET', '/admin/v1/rooms/nowhere', { token: admin });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.code, 'room_not_found');
    const method = await request(server, 'PATCH', '/admin/v1/rooms/calm', { token: admin });
    assert.equal(method.status, 405);
    assert.equal(method.headers.allow, 'GET, DELETE');
    const huge = await request(server, 'DELETE', '/admin/v1/rooms/calm/participants/bob', {
      token: admin, body: JSON.stringify({ reason: 'x'.repeat(64 * 1024) }),
    });
    assert.equal(huge.status, 413);
    assert.equal(huge.body.code, 'body_too_large');
    const badBody = await request(server, 'DELETE', '/admin/v1/rooms/calm/participants/bob', { token: admin, body: '{oops' });
    assert.equal(badBody.status, 400);
    await roomStillWorks();
  });

  test('garbage bytes on the TLS port and plain HTTP on it hurt nobody', async () => {
    const port = Number(new URL(server.url).port);
    await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => socket.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('close', resolve);
      socket.on('error', resolve);
      socket.resume();
    });
    await new Promise((resolve) => {
      const socket = tls.connect({ port, host: '127.0.0.1', ca: server.ca }, () => socket.end('\u0000garbage\r\n\r\n'));
      socket.on('close', resolve);
      socket.on('error', resolve);
      socket.resume();
    });
    const headers = await request(server, 'GET', '/healthz', { headers: { 'X-Big': 'x'.repeat(16 * 1024) } });
    assert.equal(headers.status, 431);
    await roomStillWorks();
  });

  // Last: it spends this address's admin budget.
  test('admin: a request flood gets 429 with Retry-After', async () => {
    const admin = await adminToken();
    const results = await Promise.all(Array.from({ length: 80 }, () => request(server, 'GET', '/admin/v1/rooms', { token: admin })));
    const limited = results.filter((r) => r.status === 429);
    assert.ok(limited.length > 0, 'some requests are limited');
    assert.equal(limited[0].body.code, 'rate_limited');
    assert.equal(limited[0].headers['retry-after'], '1');
    await alice.ping();
    await bob.ping();
  });
});

describe('connections from other pages and other hosts', () => {
  let server;
  before(async () => {
    server = await startServer({
      config: '[server]\nallowed_origins = ["https://app.example"]\n[limits]\nmax_connections_per_address = 3\n',
    });
  });
  after(async () => { await server?.stop(); });

  // Opens /rtc with `origin` (none when undefined); resolves 'open' or the HTTP status.
  function openWith(origin) {
    return new Promise((resolve) => {
      const ws = new WebSocket(server.wsUrl, { ca: server.ca, ...(origin ? { origin } : {}) });
      ws.once('open', () => { ws.close(); resolve('open'); });
      ws.once('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
      ws.once('error', () => resolve('error'));
    });
  }

  test('a page from another origin cannot open signaling or mint dev tokens', async () => {
    const own = new URL(server.url).origin;
    assert.equal(await openWith(undefined), 'open', 'no Origin: not a page');
    assert.equal(await openWith(own), 'open', 'the server\'s own pages');
    assert.equal(await openWith('https://app.example'), 'open', 'an allowed origin');
    assert.equal(await openWith('https://evil.example'), 403);
    assert.equal(await openWith('null'), 403);
    const body = { room: 'r1', identity: 'x', name: 'x' };
    const foreign = await request(server, 'POST', '/dev/token', { body, headers: { Origin: 'https://evil.example' } });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.body.code, 'origin_not_allowed');
    assert.equal((await request(server, 'POST', '/dev/token', { body, headers: { Origin: own } })).status, 200);
  });

  test('one address holds at most its share of connections; others are unaffected by it', async () => {
    // Earlier requests' keep-alive sockets may still hold some of this address's 3 slots.
    const held = [];
    let refused = 0;
    for (let i = 0; i < 6; ++i) {
      const client = await Client.open(server).catch(() => null);
      if (client) held.push(client);
      else ++refused;
    }
    assert.ok(held.length >= 1 && held.length <= 3, `held ${held.length}`);
    assert.equal(held.length + refused, 6);
    assert.ok(refused >= 3, 'connections past the share are refused');
    const leaving = held.pop();
    leaving.close();
    await leaving.closed;
    // A slot freed is a slot to take (once the server has let the socket go).
    const deadline = Date.now() + 5000;
    let again = null;
    while (!again && Date.now() < deadline) {
      again = await Client.open(server).catch(() => null);
      if (!again) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(again, 'a freed slot could be taken again');
    assert.equal((await again.join(await token({ identity: 'again', room: 'hosts' }))).type, 'joined');
    for (const c of [...held, again]) c.close();
  });
});
