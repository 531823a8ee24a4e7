// The publish/trickle messages refuse what rollcall does not accept, over real WSS. No
// transport is created here (every offer is refused), so no WebRTC traffic is sent.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client, joinAs, repoRoot, startServer, token } from './lib/server.mjs';

const offer = readFileSync(path.join(repoRoot, 'tests/data/sdp/chromium-156-offer.sdp'), 'utf8');

describe('media signaling', () => {
  let server;
  let client;
  before(async () => {
    server = await startServer();
    client = await joinAs(server, 'publisher', 'media-room');
  });
  after(async () => {
    client.close();
    await server.stop();
  });

  async function publish(body) {
    const id = Math.floor(Math.random() * 1e9);
    client.send({ type: 'publish', id, ...body });
    return client.next((m) => m.ref === id);
  }

  test('SDES-keyed offers are refused', async () => {
    const sdes = offer.replace(/a=rtcp-mux\r\n/g, 'a=rtcp-mux\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:AAAA\r\n');
    const reply = await publish({ echo: true, sdp: sdes });
    assert.equal(reply.code, 'sdes_not_supported');
  });

  test('an empty or malformed fingerprint is refused', async () => {
    const empty = offer.replace(/a=fingerprint:sha-256 \S+/g, 'a=fingerprint:sha-256 ');
    assert.equal((await publish({ echo: true, sdp: empty })).code, 'sdp_malformed');
    const short = offer.replace(/a=fingerprint:sha-256 \S+/g, 'a=fingerprint:sha-256 AB:CD');
    assert.equal((await publish({ echo: true, sdp: short })).code, 'sdp_malformed');
    const none = offer.replace(/a=fingerprint:[^\r\n]*\r\n/g, '');
    assert.equal((await publish({ echo: true, sdp: none })).code, 'fingerprint_missing');
  });

  test('plain RTP and unbundled offers are refused', async () => {
    assert.equal((await publish({ echo: true, sdp: offer.replace(/UDP\/TLS\/RTP\/SAVPF/g, 'RTP/AVP') })).code, 'unsupported_transport');
    assert.equal((await publish({ echo: true, sdp: offer.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 0') })).code, 'bundle_required');
  });

  test('malformed SDP and missing fields get clear errors', async () => {
    assert.equal((await publish({ echo: true, sdp: 'v=0\r\nm=audio\r\n' })).code, 'sdp_malformed');
    assert.equal((await publish({ echo: true })).code, 'malformed_message');
    assert.equal((await publish({ echo: 'yes', sdp: offer })).code, 'malformed_message');
  });

  test('trickle: candidates the server must not probe are refused', async () => {
    const refused = ['10.0.0.5', '192.168.1.20', '169.254.3.3', '0.0.0.0', '224.0.0.251', 'fe80::1', 'x.local'];
    for (const [i, address] of refused.entries()) {
      client.send({ type: 'trickle', candidate: `candidate:1 1 udp 1 ${address} 6379 typ host`, id: `r${i}` });
      const reply = await client.next((m) => m.ref === `r${i}`);
      assert.equal(reply.code, 'candidate_refused', `${address}: ${JSON.stringify(reply)}`);
    }
    // Allowed (loopback, as the server's own address, and public) get as far as the transport check.
    for (const [i, address] of ['127.0.0.1', '203.0.113.9'].entries()) {
      client.send({ type: 'trickle', candidate: `candidate:1 1 udp 1 ${address} 6379 typ host`, id: `a${i}` });
      assert.equal((await client.next((m) => m.ref === `a${i}`)).code, 'no_transport', address);
    }
  });

  test('trickle: bad candidates and trickling before publish are refused', async () => {
    client.send({ type: 'trickle', candidate: 'candidate:garbage', id: 'c1' });
    assert.equal((await client.next((m) => m.ref === 'c1')).code, 'bad_candidate');
    client.send({ type: 'trickle', candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host', id: 'c2' });
    assert.equal((await client.next((m) => m.ref === 'c2')).code, 'no_transport');
    await client.ping();
  });

  test('renegotiate needs a transport first', async () => {
    client.send({ type: 'renegotiate', sdp: offer, id: 'r1' });
    assert.equal((await client.next((m) => m.ref === 'r1')).code, 'no_transport');
    client.send({ type: 'renegotiate', id: 'r2' });
    assert.equal((await client.next((m) => m.ref === 'r2')).code, 'malformed_message');
  });

  test('publishing needs the canPublish grant', async () => {
    const viewer = await Client.open(server);
    await viewer.join(await token({ identity: 'viewer', room: 'media-room', grants: { canPublish: false } }));
    viewer.send({ type: 'publish', echo: true, sdp: offer, id: 1 });
    assert.equal((await viewer.next('error')).code, 'permission_denied');
    viewer.close();
  });
});
