// How the binary starts, refuses to start, and stops.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { Client, DEV_SECRET, request, rollcallBin, startServer, token } from './lib/server.mjs';

const run = promisify(execFile);

describe('startup', () => {
  test('--help documents the options', async () => {
    const { stdout } = await run(rollcallBin, ['--help']);
    for (const flag of ['--config', '--port', '--data-dir', '--dev', '--insecure-dev', '--bind']) {
      assert.match(stdout, new RegExp(flag));
    }
  });

  test('dev mode refuses a non-loopback bind', async () => {
    await assert.rejects(run(rollcallBin, ['--dev', '--bind', '0.0.0.0', '--port', '0']), (error) => {
      assert.equal(error.code, 2);
      assert.match(error.stderr, /loopback/);
      return true;
    });
  });

  test('without dev mode a server needs keys and TLS', async () => {
    await assert.rejects(run(rollcallBin, ['--port', '0']), (error) => /no API key/.test(error.stderr));
    await assert.rejects(run(rollcallBin, ['--port', '0'], {
      env: { ...process.env, ROLLCALL_API_KEY: 'k', ROLLCALL_API_SECRET: 'short' },
    }), (error) => /shorter than 32 bytes/.test(error.stderr));
  });

  test('outside dev mode: HSTS, and TLS 1.2 only with forward-secret AEAD suites', async () => {
    // A certificate to serve: the one a dev server makes.
    const dev = await startServer({ keepData: true });
    const { dataDir } = dev;
    await dev.stop();
    const config = `[server]\ntls_cert = "${dataDir}/dev-cert.pem"\ntls_key = "${dataDir}/dev-key.pem"\n` +
      `[keys]\nprod = "${'s'.repeat(40)}"\n`;
    const server = await startServer({ dev: false, config, ca: readFileSync(path.join(dataDir, 'dev-cert.pem')) });
    try {
      const health = await request(server, 'GET', '/healthz');
      assert.equal(health.status, 200);
      assert.equal(health.headers['strict-transport-security'], 'max-age=31536000');
      const { port } = new URL(server.url);
      const handshake = (options) => new Promise((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port: Number(port), ca: server.ca, ...options }, () => {
          const cipher = socket.getCipher().name;
          socket.end();
          resolve(cipher);
        });
        socket.once('error', () => resolve('refused'));
      });
      assert.equal(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }), 'refused', 'CBC');
      assert.equal(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'AES128-GCM-SHA256' }), 'refused', 'no forward secrecy');
      assert.equal(await handshake({ maxVersion: 'TLSv1.1' }), 'refused', 'TLS 1.1');
      assert.equal(await handshake({ maxVersion: 'TLSv1.2' }), 'ECDHE-ECDSA-AES128-GCM-SHA256');
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
    // The documented dev secret does not start a server outside dev mode, even on loopback.
    await assert.rejects(run(rollcallBin, ['--port', '0', '--bind', '127.0.0.1'], {
      env: { ...process.env, ROLLCALL_API_KEY: 'k', ROLLCALL_API_SECRET: DEV_SECRET },
    }), (error) => /dev secret/.test(error.stderr));
  });

  test('--insecure-dev serves plain http and ws on loopback', async () => {
    const server = await startServer({ args: ['--insecure-dev'] });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:/);
      assert.equal((await request(server, 'GET', '/healthz')).status, 200);
      const client = await Client.open(server);
      assert.equal((await client.join(await token({ identity: 'p', room: 'plain' }))).type, 'joined');
      client.close();
    } finally {
      await server.stop();
    }
  });

  test('the dev certificate is kept across restarts; SIGTERM tells clients goodbye', async () => {
    const server = await startServer();
    const client = await Client.open(server);
    await client.join(await token({ identity: 'p', room: 'bye' }));
    server.proc.kill('SIGTERM');
    const error = await client.next('error');
    assert.equal(error.code, 'server_shutdown');
    assert.equal((await client.closed).code, 1001);
    const exitCode = await new Promise((resolve) => server.proc.once('exit', resolve));
    assert.equal(exitCode, 0);
    await server.stop();
  });

  test('environment overrides the config file and flags override the environment', async () => {
    const server = await startServer({
      config: '[rooms]\nauto_create = false\n',
      env: { ROLLCALL_LOG_LEVEL: 'error' },
    });
    try {
      const client = await Client.open(server);
      const refused = await client.join(await token({ identity: 'p', room: 'not-created' }));
      assert.equal(refused.code, 'room_not_found');
    } finally {
      await server.stop();
    }
  });
});
