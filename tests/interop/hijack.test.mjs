// Leaked ICE credentials (roll call; docs/design.md, Security invariants): a participant's SDP — both ICE ufrag/password
// pairs and the server's candidate — is in a second client's hands. From another UDP socket
// that client runs valid, authenticated ICE against both of the participant's transports and
// nominates itself. ICE may well accept the path; rollcall must not move the media onto it:
// the second socket gets no DTLS, no SRTP and no SRTCP, its forged DTLS alerts and SRTP
// change nothing, the participant keeps its media both ways, and the path change that never
// authenticated is recorded in the audit log.
// aiortc is the participant and its peer; inside a loopback-only namespace.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { adminToken, request, startServer, token, waitFor } from '../integration/lib/server.mjs';
import { aiortc, auditOf, flowing, lastFrom } from './lib/aiortc.mjs';
import { hijack, iceOf } from './lib/ice-hijacker.mjs';

const ATTACK_MS = 4000;

describe('leaked ICE credentials', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server?.stop(); });

  // Two aiortc participants sending real media to each other; the victim's SDP (both
  // connections, local and remote) leaks to a file, as it would to anyone who saw it.
  async function victimAndWitness(room, victimName, witnessName, seconds, hold) {
    const leakFile = path.join(server.dataDir, `${room}-sdp.json`);
    const args = ['--publish', '--expect-remote', '1', '--seconds', String(seconds), '--hold', String(hold)];
    const victim = aiortc(server, await token({ identity: victimName, room }), ...args, '--leak-sdp', leakFile);
    const witness = aiortc(server, await token({ identity: witnessName, room }), ...args);
    await flowing(server, room);
    const leaked = await waitFor(() => {
      if (!existsSync(leakFile)) return null;
      const sdp = JSON.parse(readFileSync(leakFile, 'utf8'));
      return sdp.publisher && sdp.subscriber ? sdp : null;
    }, 'the victim\'s SDP', 10000, 100);
    return { victim, witness, leaked };
  }

  test('a second socket with the participant\'s ICE credentials gets no media and is recorded', async () => {
    const room = 'rc-hijack';
    const { victim, witness, leaked } = await victimAndWitness(room, 'victim', 'witness', 50, 30);

    // The server's end is the remote description of the publisher connection (its answer) and
    // of the subscriber connection (its offer); the victim's end is the local one.
    const attackedAt = Date.now();
    const results = await Promise.all(['publisher', 'subscriber'].map(async (role) => {
      const server_ = iceOf(leaked[role].remote);
      const client = iceOf(leaked[role].local);
      assert.ok(server_.candidate && server_.pwd && client.pwd, `credentials for the ${role} transport`);
      // The victim's own SSRC: from its offer (publisher) or the server's offer (subscriber).
      const ssrc = role === 'publisher' ? client.ssrc : server_.ssrc;
      return { role, ...(await hijack({ target: server_.candidate, server: server_, client, ssrc, durationMs: ATTACK_MS })) };
    }));
    const attackEnded = Date.now();
    for (const r of results) {
      console.log(`# hijack of the ${r.role} transport from ${r.local}: ${JSON.stringify(r)}`);
      // ICE took the credentials: the server answered the second socket's checks and checked it
      // back. Without that this test would prove nothing.
      assert.ok(r.stun_responses > 0, `the server answered the ${r.role} checks`);
      assert.ok(r.stun_requests > 0, `the server checked the second socket back (${r.role})`);
      assert.equal(r.dtls, 0, `DTLS reached the second socket (${r.role})`);
      assert.equal(r.srtp, 0, `SRTP/SRTCP reached the second socket (${r.role})`);
    }

    const [v, w] = await Promise.all([victim, witness]);
    assert.ok(v.result && w.result, v.stderr + w.stderr);
    // Media kept flowing both ways through and after the attack (the peers hold 30 s), also
    // once ICE gave up on the pair the second socket nominated and then abandoned (libnice
    // fails it some 6-10 s after the socket goes quiet).
    const toVictim = lastFrom(v.result, 'witness');
    const fromVictim = lastFrom(w.result, 'victim');
    assert.ok(toVictim.last > attackEnded + 15000, `media to the victim stopped ${toVictim.last - attackedAt} ms into the attack`);
    assert.ok(fromVictim.last > attackEnded + 15000, `media from the victim stopped ${fromVictim.last - attackedAt} ms into the attack`);

    const events = await waitFor(async () => {
      const all = await auditOf(server, room);
      return all.filter((e) => e.class === 'path_change').length > 0 ? all : null;
    }, 'a path_change audit event', 5000, 100);
    const changes = events.filter((e) => e.class === 'path_change');
    for (const e of changes) {
      assert.equal(e.participant, 'victim');
      assert.equal(e.action, 'held');
      assert.ok(results.some((r) => r.local === e.evidence.new_address), JSON.stringify(e));
      assert.notEqual(e.evidence.established_address, e.evidence.new_address);
      console.log(`# path_change (${e.evidence.role}) recorded ${e.time_ms - attackedAt} ms after the attack began`);
    }
    // The victim was told, for the connection(s) concerned.
    const told = (v.result.told ?? []).filter((m) => m.type === 'roll_call' && m.class === 'path_change');
    assert.ok(told.length >= 1, JSON.stringify(v.result.told));
    assert.ok(told.every((m) => m.action === 'path_held' && ['publisher', 'subscriber'].includes(m.target)));
    const metrics = (await request(server, 'GET', '/metrics', { token: await adminToken() })).text;
    assert.match(metrics, /rollcall_audit_events_total [1-9]/);
  });

  // Credentials used by a stranger that never wins ICE: nothing moves, but it is recorded.
  test('checks with leaked credentials that never win ICE are recorded as credential reuse', async () => {
    const room = 'rc-reuse';
    const { victim, witness, leaked } = await victimAndWitness(room, 'victim2', 'witness2', 25, 12);
    const server_ = iceOf(leaked.publisher.remote);
    const client = iceOf(leaked.publisher.local);
    const attackedAt = Date.now();
    const r = await hijack({ target: server_.candidate, server: server_, client, durationMs: 1500, nominate: false });
    assert.ok(r.stun_responses > 0, 'the server answered the stranger\'s checks');
    assert.equal(r.dtls + r.srtp, 0);
    const events = await waitFor(async () => {
      const all = await auditOf(server, room);
      return all.some((e) => e.class === 'credential_reuse') ? all : null;
    }, 'a credential_reuse audit event', 5000, 100);
    const reuse = events.find((e) => e.class === 'credential_reuse');
    assert.equal(reuse.participant, 'victim2');
    assert.equal(reuse.action, 'observed');
    assert.equal(reuse.evidence.other_address, r.local);
    assert.ok(!events.some((e) => e.class === 'path_change'), 'it never took the path');
    console.log(`# credential_reuse recorded ${reuse.time_ms - attackedAt} ms after the first check`);
    const [v, w] = await Promise.all([victim, witness]);
    assert.ok(v.result && w.result, v.stderr + w.stderr);
    assert.ok((v.result.told ?? []).some((m) => m.type === 'roll_call' && m.class === 'credential_reuse'), JSON.stringify(v.result.told));
    // Nobody was ejected and media went on both ways.
    assert.ok(lastFrom(v.result, 'witness2').last > attackedAt + 5000);
    assert.ok(lastFrom(w.result, 'victim2').last > attackedAt + 5000);
    assert.ok(!events.some((e) => e.action === 'ejected'), JSON.stringify(events));
  });
});
