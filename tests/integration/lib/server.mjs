// Starts a real rollcall server on 127.0.0.1 for a test and talks to it over HTTPS/WSS.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { SignJWT } from 'jose';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const rollcallBin = process.env.ROLLCALL_BIN ?? path.join(repoRoot, 'build/dev/signaling/rollcall');

export const DEV_KEY = 'devkey';
export const DEV_SECRET = 'rollcall-dev-secret-not-for-production-use';

// Starts `rollcall --dev --port 0` (plus `args`), resolves once it prints its URL. A given
// `dataDir` is reused (and kept by stop() when `keepData`), e.g. to restart on the same state.
// `port` 0 picks a free one; a restart passes the port (and dataDir) of the server it replaces.
export async function startServer({ args = [], config = null, env = {}, dataDir: reuse = null, keepData = false,
  dev = true, ca = null, port = 0 } = {}) {
  const dataDir = reuse ?? mkdtempSync(path.join(tmpdir(), 'rollcall-it-'));
  const fullArgs = [...(dev ? ['--dev'] : []), '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn', ...args];
  if (config !== null) {
    const file = path.join(dataDir, 'rollcall.toml');
    writeFileSync(file, config);
    fullArgs.push('--config', file);
  }
  const proc = spawn(rollcallBin, fullArgs, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${output}`)), 15000);
    const onData = (chunk) => {
      output += chunk;
      const m = output.match(/listening on (https?:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1].replace(/\/$/, ''));
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (chunk) => { output += chunk; });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}:\n${output}`)); });
  });
  const tls = url.startsWith('https');
  const trusted = tls ? (ca ?? readFileSync(path.join(dataDir, 'dev-cert.pem'))) : undefined;
  return {
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/rtc`,
    ca: trusted,
    proc,
    dataDir,
    output: () => output,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (proc.exitCode === null) proc.kill('SIGKILL');
      }
      if (!keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// HS256 token signed with jose (an independent JWT library), LiveKit claim layout.
export async function token({ identity, room, name, grants = {}, ttl = '1h', key = DEV_KEY, secret = DEV_SECRET,
  nbf } = {}) {
  const video = { room, roomJoin: true, canPublish: true, canSubscribe: true, ...grants };
  let jwt = new SignJWT({ video, ...(name ? { name } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuer(key)
    .setExpirationTime(ttl);
  if (identity) jwt = jwt.setSubject(identity);
  if (nbf) jwt = jwt.setNotBefore(nbf);
  return jwt.sign(new TextEncoder().encode(secret));
}

export async function adminToken(room = '*', grants = { roomAdmin: true, roomList: true }) {
  return new SignJWT({ video: { room, ...grants } })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(DEV_KEY)
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(DEV_SECRET));
}

// Polls `probe` every `intervalMs` until it returns something truthy; bounded by `timeoutMs`.
export async function waitFor(probe, what, timeoutMs = 5000, intervalMs = 25) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

// One HTTP(S) request; resolves { status, headers, body (parsed JSON when it is JSON), text }.
export function request(server, method, urlPath, { token: bearer, body, headers = {} } = {}) {
  const target = new URL(server.url + urlPath);
  const lib = target.protocol === 'https:' ? https : http;
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = lib.request(target, {
      method,
      ca: server.ca,
      headers: {
        ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}),
        ...(payload !== undefined ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
        ...headers,
      },
    }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { text += c; });
      res.on('end', () => {
        let parsed = text;
        try { parsed = JSON.parse(text); } catch { /* not JSON */ }
        resolve({ status: res.statusCode, headers: res.headers, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('request timed out')));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

// A signaling client that queues every message so tests can await them in order.
export class Client {
  constructor(server) {
    this.messages = [];
    this.waiters = [];
    this.ws = new WebSocket(server.wsUrl, { ca: server.ca, maxPayload: 1 << 20 });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const msg = JSON.parse(data.toString());
      this.messages.push(msg);
      this.#wake();
    });
    this.ws.on('error', () => {});
  }

  static async open(server) {
    const client = new Client(server);
    await client.opened;
    return client;
  }

  send(message) {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  // Resolves with the first not-yet-taken message matching `match` (a type or a predicate).
  next(match, timeoutMs = 5000) {
    const test = typeof match === 'function' ? match : (m) => m.type === match;
    return new Promise((resolve, reject) => {
      const waiter = { test, resolve, reject };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no ${typeof match === 'string' ? match : 'matching'} message within ${timeoutMs} ms; ` +
          `got ${JSON.stringify(this.messages)}`));
      }, timeoutMs);
      waiter.resolve = (m) => { clearTimeout(timer); resolve(m); };
      this.waiters.push(waiter);
      this.#wake();
    });
  }

  async join(tokenText, extra = {}) {
    this.send({ type: 'join', token: tokenText, ...extra });
    return this.next((m) => m.type === 'joined' || m.type === 'error');
  }

  async ping() {
    const id = Math.floor(Math.random() * 1e9);
    this.send({ type: 'ping', id });
    return this.next((m) => m.type === 'pong' && m.ref === id);
  }

  close() {
    this.ws.close();
  }

  #wake() {
    for (const waiter of [...this.waiters]) {
      const index = this.messages.findIndex(waiter.test);
      if (index >= 0) {
        const [msg] = this.messages.splice(index, 1);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(msg);
      }
    }
  }
}

export async function joinAs(server, identity, room = 'r1', name = undefined) {
  const client = await Client.open(server);
  const joined = await client.join(await token({ identity, room, name }));
  if (joined.type !== 'joined') throw new Error(`join failed: ${JSON.stringify(joined)}`);
  client.joined = joined;
  return client;
}

// An answer a browser could have written to the server's subscription offer (its own ICE
// and DTLS values; it never connects).
export function answerFor(serverOffer) {
  return serverOffer
    .replace(/a=sendonly/g, 'a=recvonly')
    .replace(/a=setup:actpass/g, 'a=setup:active')
    .replace(/a=ice-ufrag:\S+/g, 'a=ice-ufrag:abcd')
    .replace(/a=ice-pwd:\S+/g, 'a=ice-pwd:abcdefghijklmnopqrstuv')
    .replace(/a=fingerprint:sha-256 \S+/g, `a=fingerprint:sha-256 ${Array(32).fill('AB').join(':')}`)
    .replace(/a=candidate:[^\r\n]*\r\n/g, '')
    .replace(/a=ssrc[^\r\n]*\r\n/g, '');
}
