// Tokens from independent libraries, and every bad token refused over the wire.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { SignJWT, exportSPKI, generateKeyPair } from 'jose';
import { adminToken, Client, DEV_KEY, DEV_SECRET, joinAs, request, rollcallBin, startServer, token, waitFor } from './lib/server.mjs';

const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const secret = (text) => new TextEncoder().encode(text);
const ISSUER = 'auth.example';
const now = () => Math.floor(Date.now() / 1000);
const payload = (extra = {}) => ({
  iss: DEV_KEY, sub: 'mallory', exp: now() + 600, video: { room: 'r1', roomJoin: true }, ...extra,
});

describe('tokens', () => {
  let server;
  let issuerKeys;
  let strangerKeys;
  let publicPem;

  before(async () => {
    issuerKeys = await generateKeyPair('ES256', { extractable: true });
    strangerKeys = await generateKeyPair('ES256');
    publicPem = await exportSPKI(issuerKeys.publicKey);
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(`${tmpdir()}/rollcall-issuer-`);
    writeFileSync(`${dir}/issuer.pem`, publicPem);
    server = await startServer({ config: `[issuers]\n"${ISSUER}" = "${dir}/issuer.pem"\n[roll_call]\nreconnect_grace_ms = 300\n` });
  });
  after(async () => { await server.stop(); });

  test('an HS256 token minted by jose joins', async () => {
    const client = await Client.open(server);
    const joined = await client.join(await token({ identity: 'ada', room: 'r1', name: 'Ada' }));
    assert.equal(joined.type, 'joined');
    assert.equal(joined.participant.identity, 'ada');
    client.close();
  });

  test('an ES256 token from a configured issuer joins; the server holds only its public key', async () => {
    const jwt = await new SignJWT({ video: { room: 'r1', roomJoin: true } })
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT' })
      .setIssuer(ISSUER).setSubject('grace').setExpirationTime('5m')
      .sign(issuerKeys.privateKey);
    const client = await Client.open(server);
    const joined = await client.join(jwt);
    assert.equal(joined.type, 'joined', JSON.stringify(joined));
    client.close();
  });

  test('`rollcall token --dev` prints a token that joins', async () => {
    const { stdout } = await promisify(execFile)(rollcallBin, ['token', '--dev', '--room', 'r1', '--identity', 'cli-user',
      '--publish', '--subscribe', '--ttl', '10m']);
    const lines = stdout.trim().split('\n');
    const client = await Client.open(server);
    const joined = await client.join(lines[lines.length - 1]);
    assert.equal(joined.type, 'joined');
    assert.equal(joined.participant.permissions.canPublish, true);
    client.close();
  });

  test('`rollcall token --admin --room A` administers room A and nothing else', async () => {
    const mint = async (...args) => {
      const { stdout } = await promisify(execFile)(rollcallBin, ['token', '--dev', '--admin', ...args]);
      return stdout.trim().split('\n').at(-1);
    };
    const roomAdmin = await mint('--room', 'r1');
    const claims = JSON.parse(Buffer.from(roomAdmin.split('.')[1], 'base64url').toString());
    assert.equal(claims.video.roomAdmin, true);
    assert.notEqual(claims.video.roomList, true, 'a room admin does not list every room');
    assert.equal((await request(server, 'GET', '/admin/v1/rooms', { token: roomAdmin })).status, 403);
    assert.equal((await request(server, 'GET', '/admin/v1/audit', { token: roomAdmin })).status, 403);
    assert.equal((await request(server, 'GET', '/metrics', { token: roomAdmin })).status, 403);
    assert.notEqual((await request(server, 'GET', '/admin/v1/rooms/r1', { token: roomAdmin })).status, 403);
    assert.equal((await request(server, 'GET', '/admin/v1/rooms/other', { token: roomAdmin })).status, 403);
    // Every room: lists too.
    const everyRoom = await mint('--room', '*');
    assert.equal((await request(server, 'GET', '/admin/v1/rooms', { token: everyRoom })).status, 200);
  });

  const cases = [
    ['alg none', async () => `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload())}.`, 'token_unsupported_algorithm'],
    ['alg none with a fake signature', async () => `${b64({ alg: 'none' })}.${b64(payload())}.AAAA`, 'token_unsupported_algorithm'],
    ['HS512', async () => new SignJWT(payload()).setProtectedHeader({ alg: 'HS512' }).sign(secret(DEV_SECRET)),
      'token_unsupported_algorithm'],
    ['alg confusion: HS256 keyed with the ES issuer public key', async () =>
      new SignJWT(payload({ iss: ISSUER })).setProtectedHeader({ alg: 'HS256' }).sign(secret(publicPem)),
    'token_unsupported_algorithm'],
    ['alg confusion: ES256 claiming the HMAC key', async () =>
      new SignJWT(payload()).setProtectedHeader({ alg: 'ES256' }).sign(issuerKeys.privateKey),
    'token_unsupported_algorithm'],
    ['bad HMAC signature (wrong secret)', async () =>
      new SignJWT(payload()).setProtectedHeader({ alg: 'HS256' }).sign(secret('x'.repeat(40))), 'token_invalid_signature'],
    ['ES256 signed by a stranger', async () =>
      new SignJWT(payload({ iss: ISSUER })).setProtectedHeader({ alg: 'ES256' }).sign(strangerKeys.privateKey),
    'token_invalid_signature'],
    ['payload altered after signing', async () => {
      const good = await token({ identity: 'mallory', room: 'r1' });
      const [h, , s] = good.split('.');
      return `${h}.${b64(payload({ video: { room: 'r1', roomJoin: true, roomAdmin: true } }))}.${s}`;
    }, 'token_invalid_signature'],
    ['expired', async () => token({ identity: 'mallory', room: 'r1', ttl: now() - 120 }), 'token_expired'],
    ['nbf in the future', async () => token({ identity: 'mallory', room: 'r1', nbf: now() + 600 }), 'token_not_yet_valid'],
    ['missing exp', async () => new SignJWT({ sub: 'm', video: { room: 'r1', roomJoin: true } })
      .setProtectedHeader({ alg: 'HS256' }).setIssuer(DEV_KEY).sign(secret(DEV_SECRET)), 'token_missing_claim'],
    ['unknown issuer', async () => token({ identity: 'mallory', room: 'r1', key: 'nobody' }), 'token_unknown_issuer'],
    ['missing video grant', async () => new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setIssuer(DEV_KEY)
      .setSubject('m').setExpirationTime('5m').sign(secret(DEV_SECRET)), 'token_missing_claim'],
    ['missing identity', async () => token({ room: 'r1' }), 'token_missing_claim'],
    ['missing roomJoin grant', async () => token({ identity: 'mallory', room: 'r1', grants: { roomJoin: false } }),
      'permission_denied'],
    ['hidden participant', async () => token({ identity: 'mallory', room: 'r1', grants: { hidden: true } }),
      'token_hidden_not_supported'],
    ['malformed base64', async () => (await token({ identity: 'mallory', room: 'r1' })).replace(/^.{4}/, '!!!!'),
      'token_malformed'],
    ['malformed JSON', async () => `${b64('{"alg":"HS256"')}.${b64(payload())}.AAAA`, 'token_malformed'],
    ['two parts', async () => `${b64({ alg: 'HS256' })}.${b64(payload())}`, 'token_malformed'],
    ['oversized token', async () => token({ identity: 'mallory', room: 'r1', grants: { pad: 'x'.repeat(6000) } }),
      'token_too_large'],
    ['token that is not a string', async () => 12345, 'malformed_message'],
  ];

  test(`${cases.length} bad tokens are each refused with their code, and the room is undisturbed`, async () => {
    // The earlier tests' participants leave once their reconnect grace (300 ms) runs out.
    const occupants = async () => {
      const room = await request(server, 'GET', '/admin/v1/rooms/r1', { token: await adminToken() });
      return room.status === 404 ? [] : room.body.room.participants.map((p) => p.identity);
    };
    await waitFor(async () => (await occupants()).length === 0, 'r1 empty before the bystander joins');
    const bystander = await joinAs(server, 'bystander', 'r1');
    for (const [name, make, code] of cases) {
      const client = await Client.open(server);
      client.send({ type: 'join', token: await make(), id: name });
      const error = await client.next('error');
      assert.equal(error.code, code, `${name}: ${JSON.stringify(error)}`);
      assert.equal(error.ref, name);
      assert.ok(error.message.length > 0);
      const closed = await client.closed;
      assert.equal(closed.code, 1008, name);
    }
    const wrongRoom = await Client.open(server);
    const refused = await wrongRoom.join(await token({ identity: 'mallory', room: 'r1' }), { room: 'elsewhere' });
    assert.equal(refused.code, 'room_not_allowed');
    await bystander.ping();
    assert.equal(bystander.messages.filter((m) => m.type === 'participant_joined').length, 0);
    assert.deepEqual(await occupants(), ['bystander']);
    bystander.close();
  });

  test('tokens never appear in the server output', async () => {
    const expired = await token({ identity: 'mallory', room: 'r1', ttl: now() - 120 });
    const client = await Client.open(server);
    await client.join(expired);
    await client.closed;
    assert.ok(!server.output().includes(expired.split('.')[2]));
  });
});
