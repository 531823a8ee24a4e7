// Resume over real WSS (docs/protocol.md, Reconnecting): a dropped connection's session is
// taken up by a new connection with the same identity's token and the resume credential;
// used, expired, foreign and other-room credentials are refused with their codes and the
// connection may join afresh; roll call still ends a session whose grace runs out.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminToken, Client, joinAs, request, startServer, token } from './lib/server.mjs';

const GRACE_MS = 1500;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('resume', () => {
  let server;
  before(async () => { server = await startServer({ config: `[roll_call]\nreconnect_grace_ms = ${GRACE_MS}\n` }); });
  after(async () => { await server?.stop(); });

  async function audit(room) {
    const res = await request(server, 'GET', `/admin/v1/audit?room=${room}`, { token: await adminToken() });
    assert.equal(res.status, 200, res.text);
    return res.body.events;
  }

  async function resume(identity, room, credential) {
    const client = await Client.open(server);
    const reply = await client.join(await token({ identity, room }), { resume: credential, id: 'r' });
    return { client, reply };
  }

  test('a dropped connection resumes: same participant, the room sees nothing, the credential is single-use', async () => {
    const alice = await joinAs(server, 'alice', 'resume-a');
    const bob = await joinAs(server, 'bob', 'resume-a');
    await alice.next('participant_joined');
    assert.match(bob.joined.resume, /^RS_[A-Za-z0-9]{32}$/);
    bob.ws.terminate();  // no close handshake: the socket just drops
    await sleep(200);
    const { client: again, reply } = await resume('bob', 'resume-a', bob.joined.resume);
    assert.equal(reply.type, 'joined', JSON.stringify(reply));
    assert.equal(reply.resumed, true);
    assert.equal(reply.ref, 'r');
    assert.equal(reply.participant.id, bob.joined.participant.id);
    assert.deepEqual(reply.participants.map((p) => p.identity), ['alice']);
    assert.notEqual(reply.resume, bob.joined.resume);
    await sleep(GRACE_MS + 500);  // past the grace: the resumed session stays
    await alice.ping();
    assert.equal(alice.messages.filter((m) => m.type === 'participant_left').length, 0);
    assert.equal(alice.messages.filter((m) => m.type === 'participant_joined').length, 0);  // bob's first was taken above
    await again.ping();
    const events = await audit('resume-a');
    assert.equal(events.filter((e) => e.class === 'resumed').length, 1);
    assert.ok(!JSON.stringify(events).includes(bob.joined.resume), 'the credential is never recorded');

    // The credential it used does not resume again, and the connection may still join.
    const { client: replay, reply: used } = await resume('bob', 'resume-a', bob.joined.resume);
    assert.equal(used.code, 'resume_used');
    assert.equal(used.ref, 'r');
    const fresh = await replay.join(await token({ identity: 'bob', room: 'resume-a' }));
    assert.equal(fresh.type, 'joined');
    assert.equal(fresh.resumed, undefined);
    for (const c of [alice, again, replay]) c.close();
  });

  test("another participant's or another room's credential is refused, and the session it names is untouched", async () => {
    const carol = await joinAs(server, 'carol', 'resume-b');
    const dave = await joinAs(server, 'dave', 'resume-b');
    await joinAs(server, 'dave', 'resume-c');  // dave is in another room too
    dave.ws.terminate();
    await sleep(200);
    assert.equal((await resume('carol', 'resume-b', dave.joined.resume)).reply.code, 'resume_invalid');
    assert.equal((await resume('dave', 'resume-c', dave.joined.resume)).reply.code, 'resume_invalid');
    assert.equal((await resume('dave', 'resume-b', 'RS_forged')).reply.code, 'resume_invalid');
    await carol.ping();
    const { reply } = await resume('dave', 'resume-b', dave.joined.resume);
    assert.equal(reply.resumed, true);
    const refused = (await audit('resume-b')).filter((e) => e.class === 'resume' && e.action === 'refused');
    assert.ok(refused.length >= 2, JSON.stringify(refused));
  });

  test('after the grace the session is ejected and its credential has expired; a fresh join works', async () => {
    const erin = await joinAs(server, 'erin', 'resume-d');
    const frank = await joinAs(server, 'frank', 'resume-d');
    frank.ws.terminate();
    const left = await erin.next('participant_left', GRACE_MS + 3000);
    assert.equal(left.reason, 'disconnected');
    assert.ok((await audit('resume-d')).some((e) => e.class === 'reconnect_grace_expired' && e.participant === 'frank'));
    const { client, reply } = await resume('frank', 'resume-d', frank.joined.resume);
    assert.equal(reply.code, 'resume_expired');
    const fresh = await client.join(await token({ identity: 'frank', room: 'resume-d' }));
    assert.equal(fresh.type, 'joined');
    assert.notEqual(fresh.participant.id, frank.joined.participant.id);
    erin.close();
    client.close();
  });
});
