// Data channels with aiortc (an independent WebRTC and SCTP stack): chat relayed between
// participants and stamped by the server, refused without canPublishData, bounded against
// an oversized message, a flood, and a receiver that stops reading. Runs inside a
// loopback-only namespace (tests/e2e/run-in-netns.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { adminToken, repoRoot, request, startServer, token, waitFor } from '../integration/lib/server.mjs';
import { launchChromium, waitInPage } from '../e2e/lib/browser.mjs';
import { roomMedia } from './lib/aiortc.mjs';

const script = path.join(repoRoot, 'tests/interop/aiortc_data.py');
const DATA = { canPublishData: true };

function peer(server, jwt, ...flags) {
  return new Promise((resolve) => {
    execFile('/usr/bin/python3', [script, server.wsUrl, path.join(server.dataDir, 'dev-cert.pem'), jwt, ...flags],
      { timeout: 60000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        let result = null;
        try { result = JSON.parse(stdout.trim().split('\n').pop()); } catch { /* reported below */ }
        resolve({ code: error?.code ?? 0, result, stderr });
      });
  });
}

function rssKb(pid) {
  return new Promise((resolve) => execFile('ps', ['-o', 'rss=', '-p', String(pid)], (e, out) => resolve(Number(out.trim()))));
}

// Starts aiortc peers (name → [jwt, ...flags]) that each open their channel, then wait until
// all are open before sending, so nobody sends into a room not yet listening.
async function together(server, peers) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'data-'));
  const go = path.join(dir, 'go');
  const running = Object.entries(peers).map(([name, [jwt, ...flags]]) =>
    peer(server, jwt, '--ready-file', path.join(dir, name), '--go-file', go, ...flags));
  await waitFor(() => Object.keys(peers).every((name) => existsSync(path.join(dir, name))),
    'every data channel open', 20000, 50);
  writeFileSync(go, 'go');
  return Promise.all(running);
}

describe('data channels with aiortc', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server?.stop(); });

  test('chat reaches the others exactly once, in order, stamped with the real sender', async () => {
    const room = 'data-chat';
    const [ra, rb, rc] = await together(server, {
      alice: [await token({ identity: 'alice', room, grants: DATA }), '--name', 'alice', '--send', '20', '--spoof',
        '--expect', '20', '--expect-data-audience', '2', '--hold', '2'],
      bob: [await token({ identity: 'bob', room, grants: DATA }), '--name', 'bob', '--send', '20', '--expect', '20',
        '--hold', '2'],
      // Receives only: no canPublish, no canPublishData; its connection carries only data.
      carol: [await token({ identity: 'carol', room, grants: { canPublish: false } }), '--name', 'carol',
        '--expect', '40', '--hold', '2'],
    });
    const where = `\n${JSON.stringify({ ra: ra.result, rb: rb.result, rc: rc.result })}\n${ra.stderr}${rb.stderr}${rc.stderr}\nserver:\n${server.output()}`;
    assert.equal(rc.code, 0, 'carol' + where);
    // Each sender's messages arrive once each, in order, and never as "mallory".
    const texts = (r, from) => r.received.filter((m) => m.from === from).map((m) => m.text);
    const expected = (name) => Array.from({ length: 20 }, (_, i) => `${name} ${i}`);
    assert.deepEqual(texts(rb.result, 'alice'), expected('alice'), where);
    assert.deepEqual(texts(ra.result, 'bob'), expected('bob'), where);
    assert.deepEqual(texts(rc.result, 'alice'), expected('alice'), where);
    assert.deepEqual(texts(rc.result, 'bob'), expected('bob'), where);
    // "Seen and heard by" names who receives one's data (every name it ever listed with
    // "data"): alice's reaches bob and carol; carol (who may not send) reaches nobody.
    const dataAudience = (r) => r.data_audience ?? [];
    assert.deepEqual(dataAudience(ra.result), ['bob', 'carol'], where);
    assert.deepEqual(dataAudience(rc.result), [], where);
    for (const r of [ra.result, rb.result, rc.result]) {
      assert.ok(!r.received.some((m) => m.from === 'mallory'), 'a spoofed sender got through' + where);
      assert.ok(!r.received.some((m) => m.from === r.identity), 'an echo of its own message' + where);
      assert.ok(r.received.every((m) => Number.isInteger(m.ts)), where);
    }
  });

  test('without canPublishData a participant is told and nothing is relayed; "to" narrows delivery', async () => {
    const room = 'data-grants';
    const [rl, ro, rm] = await together(server, {
      listener: [await token({ identity: 'listener', room, grants: DATA }), '--expect', '5', '--seconds', '12',
        '--hold', '3'],
      other: [await token({ identity: 'other', room, grants: DATA }), '--seconds', '12', '--hold', '4'],
      mute: [await token({ identity: 'mute', room }), '--send', '5', '--seconds', '6', '--hold', '3'],
      direct: [await token({ identity: 'direct', room, grants: DATA }), '--send', '5', '--to', 'listener',
        '--seconds', '6', '--hold', '3'],
    });
    const where = `\n${JSON.stringify({ rl: rl.result, ro: ro.result, rm: rm.result })}`;
    assert.equal(rm.result.sent, 5, where);
    assert.ok(rm.result.server.some((m) => m.type === 'error' && m.code === 'permission_denied'), where);
    assert.ok(!rl.result.received.some((m) => m.from === 'mute'), where);
    assert.deepEqual(rl.result.received.filter((m) => m.from === 'direct').map((m) => m.text),
      Array.from({ length: 5 }, (_, i) => `aiortc ${i}`), where);
    assert.ok(!ro.result.received.some((m) => m.from === 'direct'), '"to" was not honoured' + where);
  });

  test('an oversized message and a flood are dropped while the others chat on', async () => {
    const room = 'data-flood';
    const [rq, , rf] = await together(server, {
      quiet: [await token({ identity: 'quiet', room, grants: DATA }), '--seconds', '25', '--hold', '7'],
      talker: [await token({ identity: 'talker', room, grants: DATA }), '--send', '30', '--interval', '0.1',
        '--seconds', '25', '--hold', '6'],
      flooder: [await token({ identity: 'flooder', room, grants: DATA }), '--big', '40000', '--flood', '3000',
        '--seconds', '10', '--hold', '6'],
    });
    const where = `\n${JSON.stringify({ rq: rq.result, rf: rf.result?.server })}`;
    const fromTalker = rq.result.received.filter((m) => m.from === 'talker').map((m) => m.text);
    assert.deepEqual(fromTalker, Array.from({ length: 30 }, (_, i) => `aiortc ${i}`), where);
    // The sender's budget (DataRelay): a burst of 100 messages, then 50 a second. However
    // long a loaded machine takes to carry the flood, no more than that is relayed over the
    // span the server stamped on what it let through.
    const flooded = rq.result.received.filter((m) => m.from === 'flooder');
    const span = flooded.length ? (flooded.at(-1).ts - flooded[0].ts) / 1000 : 0;
    const budget = 100 + 50 * span + 2;
    assert.ok(flooded.length <= budget, `the flood got through: ${flooded.length} in ${span} s` + where);
    assert.ok(flooded.length < 3000 / 2, `most of the flood was dropped: ${flooded.length}` + where);
    assert.ok(!flooded.some((m) => m.text.length > 1000), 'the oversized message got through' + where);
    const codes = rf.result.server.map((m) => m.code);
    assert.ok(codes.includes('rate_limited') || codes.includes('message_too_big'), where);
  });

  test('a receiver that stops reading loses its data channel, not the server its memory', async (t) => {
    const room = 'data-stall';
    // Its own server: under AddressSanitizer (as CI builds it) freed memory waits in a 256 MB
    // quarantine, which would hide what the server really keeps; a 1 MB one does not.
    const asan = `${process.env.ASAN_OPTIONS ? `${process.env.ASAN_OPTIONS}:` : ''}quarantine_size_mb=1:thread_local_quarantine_size_kb=64`;
    const server = await startServer({ env: { ASAN_OPTIONS: asan } });
    t.after(() => server.stop());
    const dir = mkdtempSync(path.join(os.tmpdir(), 'stall-'));
    const ready = path.join(dir, 'ready');
    const stalled = spawn('/usr/bin/python3', [script, server.wsUrl, path.join(server.dataDir, 'dev-cert.pem'),
      await token({ identity: 'stalled', room, grants: DATA }), '--seconds', '40', '--hold', '40', '--ready-file', ready]);
    try {
      await waitFor(() => existsSync(ready), 'the stalled peer\'s channel', 15000, 100);
      stalled.kill('SIGSTOP');  // it reads nothing and acknowledges nothing from now on
      const before = await rssKb(server.proc.pid);
      // 2 senders × 1200 messages of ~1 KB: far beyond a 256 KB send buffer.
      const big = 'y'.repeat(900);
      const senders = await Promise.all(['s1', 's2'].map(async (id) => peer(server,
        await token({ identity: id, room, grants: DATA }), '--send', '1200', '--interval', '0.02', '--spoof',
        '--seconds', '40', '--name', big)));
      const after = await rssKb(server.proc.pid);
      const media = await roomMedia(server, room);
      const where = `\nrss ${before} → ${after} kB\n${JSON.stringify(media.data ?? media)}\n${server.output().slice(-3000)}`;
      console.log(`server RSS ${before} kB before, ${after} kB after 2.3 MB sent towards a stalled receiver`);
      assert.ok(senders.every((s) => s.result?.sent === 1200), senders.map((s) => `${s.code} ${s.stderr.slice(-1500)}`).join('\n') + where);
      assert.ok(after - before < 30 * 1024, 'the server grew by more than 30 MB' + where);
      assert.ok(media.data.every((d) => !d.connected), 'the stalled association is still open' + where);
      // It was closed for not reading (before anything else could end it), and counted.
      const metrics = (await request(server, 'GET', '/metrics', { token: await adminToken() })).text;
      const slow = Number(/^rollcall_data_slow_receivers_total (\d+)/m.exec(metrics)?.[1] ?? -1);
      assert.equal(slow, 1, 'rollcall_data_slow_receivers_total' + where);
    } finally {
      stalled.kill('SIGKILL');
    }
  });

  test('an aiortc participant\'s messages reach a Chromium participant (the web client) and back', async () => {
    const room = 'data-chromium';
    const browser = await launchChromium();
    const logs = [];
    try {
      const page = await browser.newPage({ ignoreHTTPSErrors: true });
      page.on('console', (m) => logs.push(m.text()));
      await page.goto(`${server.url}/?room=${room}&name=Chromium&auto=1`);
      const chromium = await waitInPage(page, () => window.rollcall.self?.identity ?? null, undefined, 15000);
      await waitInPage(page, () => window.rollcall.dataOpen, undefined, 20000);
      const dir = mkdtempSync(path.join(os.tmpdir(), 'data-'));
      const go = path.join(dir, 'go');
      const running = peer(server, await token({ identity: 'aio', room, grants: DATA }), '--name', 'aiortc',
        '--send', '3', '--expect', '1', '--ready-file', path.join(dir, 'ready'), '--go-file', go, '--seconds', '20', '--hold', '1');
      await waitFor(() => existsSync(path.join(dir, 'ready')), 'aiortc\'s channel', 15000, 50);
      writeFileSync(go, 'go');
      const seen = await waitInPage(page, () => {
        const got = window.rollcall.chat.filter((e) => e.from === 'aio');
        return got.length === 3 ? got : null;
      }, undefined, 10000);
      assert.deepEqual(seen.map((e) => e.text), ['aiortc 0', 'aiortc 1', 'aiortc 2']);
      await page.fill('#chat-text', 'hello from Chromium');
      await page.click('#chat-send');
      const { result } = await running;
      const where = `\n${JSON.stringify(result)}\n${logs.join('\n')}`;
      assert.deepEqual(result.received.map((m) => [m.from, m.text]), [[chromium, 'hello from Chromium']], where);
    } finally {
      await browser.close();
    }
  });
});
