// GET /admin/v1/stream over real HTTPS: server-sent events an operator's dashboard lives on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { SignJWT } from 'jose';
import { adminToken, DEV_KEY, DEV_SECRET, joinAs, request, startServer } from './lib/server.mjs';

// Opens the stream; collects its events ({event, data}) as they arrive.
function openStream(server, bearer, query = '') {
  const events = [];
  let status;
  let headers;
  let ended = false;
  const waiters = [];
  const wake = () => { for (const w of waiters.splice(0)) w(); };
  const req = https.get(`${server.url}/admin/v1/stream${query}`, {
    ca: server.ca, headers: bearer ? { Authorization: `Bearer ${bearer}` } : {},
  }, (res) => {
    status = res.statusCode;
    headers = res.headers;
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk) => {
      buffer += chunk;
      for (let i; (i = buffer.indexOf('\n\n')) >= 0;) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        const event = block.match(/^event: (.*)$/m)?.[1];
        const data = block.match(/^data: (.*)$/m)?.[1];
        if (event) events.push({ event, data: JSON.parse(data) });
      }
      wake();
    });
    res.on('end', () => { ended = true; wake(); });
    wake();
  });
  req.on('error', () => { ended = true; wake(); });
  const stream = {
    events,
    get status() { return status; },
    get headers() { return headers; },
    get ended() { return ended; },
    close: () => req.destroy(),
    // The first event (after `from`) that satisfies `predicate`.
    async next(predicate, timeoutMs = 5000, from = 0) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = events.slice(from).find(predicate);
        if (found) return found;
        if (ended) throw new Error(`the stream ended: ${JSON.stringify(events.slice(-3))}`);
        if (Date.now() > deadline) throw new Error(`no such event; last: ${JSON.stringify(events.slice(-3))}`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 100); });
      }
    },
    async response() {
      while (status === undefined && !ended) await new Promise((r) => { waiters.push(r); setTimeout(r, 50); });
      return status;
    },
  };
  return stream;
}

describe('the admin stream', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server.stop(); });

  test('rooms, a room\'s participants and the audit feed arrive live', async () => {
    const stream = openStream(server, await adminToken(), '?room=live');
    assert.equal(await stream.response(), 200);
    assert.match(stream.headers['content-type'], /^text\/event-stream/);
    assert.equal(stream.headers['cache-control'], 'no-store');
    const first = await stream.next((e) => e.event === 'room');
    assert.equal(first.data.room, null, 'no such room yet');

    const alice = await joinAs(server, 'alice', 'live');
    await joinAs(server, 'bob', 'live');
    const listed = await stream.next((e) => e.event === 'rooms' &&
      e.data.rooms.some((r) => r.name === 'live' && r.num_participants === 2));
    assert.ok(listed.data.rooms.find((r) => r.name === 'live').bitrate_in_bps >= 0);
    const room = await stream.next((e) => e.event === 'room' && e.data.room?.participants.length === 2);
    assert.deepEqual(room.data.room.participants.map((p) => p.identity).sort(), ['alice', 'bob']);
    assert.equal(room.data.room.participants[0].stats.publisher.state, 'none');

    const kick = await request(server, 'DELETE', '/admin/v1/rooms/live/participants/bob', {
      token: await adminToken(), body: { reason: 'testing the feed' },
    });
    assert.equal(kick.status, 200, kick.text);
    const audit = await stream.next((e) => e.event === 'audit' &&
      e.data.events.some((a) => a.class === 'kicked' && a.participant === 'bob'));
    assert.equal(audit.data.events.find((a) => a.class === 'kicked').evidence.reason, 'testing the feed');
    await stream.next((e) => e.event === 'room' && e.data.room?.participants.length === 1);
    stream.close();
    alice.close();
  });

  test('a room administrator sees its room only; credentials are checked', async () => {
    const own = await adminToken('mine', { roomAdmin: true });
    const forbidden = openStream(server, own);
    assert.equal(await forbidden.response(), 403, 'all rooms need roomList');
    const other = openStream(server, own, '?room=theirs');
    assert.equal(await other.response(), 403);
    const none = openStream(server, null);
    assert.equal(await none.response(), 401);
    const bad = openStream(server, own, '?room=bad%20name');
    assert.equal(await bad.response(), 400);
    const mine = openStream(server, own, '?room=mine');
    assert.equal(await mine.response(), 200);
    await mine.next((e) => e.event === 'room');
    assert.ok(!mine.events.some((e) => e.event === 'rooms'), 'no room list without roomList');
    const post = await request(server, 'POST', '/admin/v1/stream', { token: own });
    assert.equal(post.status, 405);
    mine.close();
  });

  test('the stream ends when its token expires', async () => {
    const shortLived = await new SignJWT({ video: { room: '*', roomList: true } })
      .setProtectedHeader({ alg: 'HS256' }).setIssuer(DEV_KEY)
      .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
      .sign(new TextEncoder().encode(DEV_SECRET));
    const stream = openStream(server, shortLived);
    assert.equal(await stream.response(), 200);
    const end = await stream.next((e) => e.event === 'end', 6000);
    assert.equal(end.data.reason, 'token_expired');
    for (let i = 0; i < 50 && !stream.ended; i += 1) await new Promise((r) => setTimeout(r, 100));
    assert.ok(stream.ended, 'the server closed the response');
  });

  test('at most 16 streams are open; the next is refused until one closes', async () => {
    const token = await adminToken();
    const open = [];
    for (let i = 0; i < 16; i += 1) {
      open.push(openStream(server, token));
      assert.equal(await open[i].response(), 200, `stream ${i}`);
    }
    const refused = await request(server, 'GET', '/admin/v1/stream', { token });
    assert.equal(refused.status, 503);
    assert.equal(refused.body.code, 'too_many_streams');
    open.pop().close();
    let again;
    for (let i = 0; i < 50; i += 1) {
      again = openStream(server, token);
      if (await again.response() === 200) break;
      again.close();
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(await again.response(), 200, 'a closed stream frees its place');
    again.close();
    for (const s of open) s.close();
  });
});
