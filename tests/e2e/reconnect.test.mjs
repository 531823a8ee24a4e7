// End to end: two people in a call through the web client (headless Chromium, loopback-only
// namespace) survive what networks do to calls: their signaling connections reset (the pages
// resume their sessions; video never stops), UDP blocked for 10 s (media comes back without
// a rejoin), and the server restarted (both join its successor and see each other again).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { adminToken, repoRoot, request, startServer } from '../integration/lib/server.mjs';
import { launchChromium, waitInPage } from './lib/browser.mjs';

const artifacts = path.join(repoRoot, 'tests/e2e/artifacts');
const ROOM = 'e2e-reconnect';
const NAMES = ['Ada', 'Grace'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('calls survive network blips and server restarts', () => {
  let server;
  let port;
  const browsers = [];
  const pages = [];
  const logs = [];
  let identities = [];

  before(async () => {
    server = await startServer({ keepData: true });
    port = Number(new URL(server.url).port);
    mkdirSync(artifacts, { recursive: true });
    for (const name of NAMES) {
      const browser = await launchChromium();
      browsers.push(browser);
      const page = await browser.newPage({ ignoreHTTPSErrors: true });
      page.on('console', (m) => logs.push(`[${name}] ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`[${name}] page error: ${e.message}`));
      await page.goto(`${server.url}/?room=${ROOM}&name=${name}&auto=1`);
      pages.push(page);
    }
    for (const page of pages) identities.push(await waitInPage(page, () => window.rollcall.self?.identity ?? null, undefined, 15000));
  });
  after(async () => {
    try { execFileSync('nft', ['delete', 'table', 'inet', 'blip'], { stdio: 'ignore' }); } catch { /* not there */ }
    for (const browser of browsers) await browser.close().catch(() => {});
    await server?.stop();
  });

  async function diagnose(error, name) {
    for (const [i, page] of pages.entries()) {
      await page.screenshot({ path: path.join(artifacts, `reconnect-${name}-${i}.png`) }).catch(() => {});
    }
    return new Error(`${error.message}\npage consoles:\n${logs.slice(-60).join('\n')}\nserver:\n${server.output().slice(-4000)}`);
  }

  const framesFrom = (page, other) => page.evaluate(async (id) => (await window.rollcall.stats())[id]?.video?.framesDecoded ?? 0, other);

  // Both pages decode each other's video: 10 more frames than when asked, counted on the
  // page's current subscriber connection (a fresh join brings a new one, counting from 0).
  async function bothDecoding(timeoutMs) {
    for (const [i, page] of pages.entries()) {
      await page.evaluate(() => { window.baseline = null; });
      await waitInPage(page, async (id) => {
        const frames = (await window.rollcall.stats())[id]?.video?.framesDecoded ?? 0;
        if (window.baseline?.pc !== window.rollcall.sub) window.baseline = { pc: window.rollcall.sub, frames };
        return frames > window.baseline.frames + 10;
      }, identities[1 - i], timeoutMs);
    }
  }

  async function roomParticipants() {
    const res = await request(server, 'GET', `/admin/v1/rooms/${ROOM}`, { token: await adminToken() });
    assert.equal(res.status, 200, res.text);
    return res.body.room.participants.map((p) => `${p.identity}/${p.id}`).sort();
  }

  // Samples each page's decoded frames every 200 ms for `ms`; returns the longest stretch (ms)
  // in which some page's count did not move.
  async function longestStall(ms) {
    const last = pages.map(() => ({ frames: -1, at: Date.now() }));
    let worst = 0;
    const end = Date.now() + ms;
    while (Date.now() < end) {
      for (const [i, page] of pages.entries()) {
        const frames = await framesFrom(page, identities[1 - i]);
        const now = Date.now();
        if (frames !== last[i].frames) last[i] = { frames, at: now };
        worst = Math.max(worst, now - last[i].at);
      }
      await sleep(200);
    }
    return worst;
  }

  test('signaling connections reset: both resume, video never stops, nobody leaves', async () => {
    try {
      await bothDecoding(30000);
      const roster = await roomParticipants();
      const events = await Promise.all(pages.map((p) => p.evaluate(() => document.getElementById('events').textContent)));
      const stall = longestStall(6000);
      await sleep(500);
      // Every established TCP connection of the server's port, reset from the server's side.
      execFileSync('ss', ['-K', 'state', 'established', `( sport = :${port} )`]);
      const worst = await stall;
      for (const page of pages) {
        await waitInPage(page, () => !window.rollcall.reconnecting && document.getElementById('connection').textContent === 'connected', undefined, 10000);
        assert.equal(await page.evaluate(() => document.getElementById('ended-view').hidden), true, 'no ended view');
        const log = await page.evaluate(() => document.getElementById('events').textContent);
        assert.match(log, /reconnected; your call carried on/);
        assert.doesNotMatch(log, /lost connection|joined again/);
      }
      assert.ok(worst <= 1000, `video stalled for ${worst} ms`);
      assert.deepEqual(await roomParticipants(), roster, 'the same participants, the same sessions');
      for (const [i, page] of pages.entries()) {
        const log = await page.evaluate(() => document.getElementById('events').textContent);
        assert.ok(!log.slice(0, log.length - events[i].length).includes(`${NAMES[1 - i]} left`), 'the other never left');
      }
      const audit = await request(server, 'GET', `/admin/v1/audit?room=${ROOM}`, { token: await adminToken() });
      const resumed = audit.body.events.filter((e) => e.class === 'resumed');
      assert.equal(resumed.length, 2, JSON.stringify(audit.body.events));
      assert.ok(!audit.body.events.some((e) => e.class === 'reconnect_grace_expired'));
      console.log(`signaling reset: longest video stall ${worst} ms`);
    } catch (error) {
      throw await diagnose(error, 'reset');
    }
  });

  test('UDP blocked for 10 s: media comes back within 5 s of the block lifting, without a rejoin', async () => {
    try {
      await bothDecoding(20000);
      const roster = await roomParticipants();
      const ufrags = () => Promise.all(pages.map((p) => p.evaluate(() => [window.rollcall.pub, window.rollcall.sub]
        .map((pc) => pc.localDescription.sdp.match(/a=ice-ufrag:(\S+)/)[1]))));
      const before = await ufrags();
      execFileSync('nft', ['add', 'table', 'inet', 'blip']);
      execFileSync('nft', ['add', 'chain', 'inet', 'blip', 'in', '{ type filter hook input priority 0; }']);
      execFileSync('nft', ['add', 'rule', 'inet', 'blip', 'in', 'meta', 'l4proto', 'udp', 'drop']);
      await sleep(10000);
      execFileSync('nft', ['delete', 'table', 'inet', 'blip']);
      const lifted = Date.now();
      await bothDecoding(5000);
      const after = await ufrags();
      const restarted = after.map((u, i) => u.map((x, j) => x !== before[i][j]));
      console.log(`UDP block: media back ${Date.now() - lifted} ms after it lifted; ICE restarted (publisher, subscriber) per page: ${JSON.stringify(restarted)}`);
      assert.deepEqual(await roomParticipants(), roster, 'nobody rejoined');
    } catch (error) {
      throw await diagnose(error, 'udp');
    }
  });

  test('the server restarts: both are back in the room and decoding each other within 10 s', async () => {
    try {
      await bothDecoding(20000);
      const dataDir = server.dataDir;
      await server.stop();
      server = await startServer({ dataDir, keepData: true, port });
      const started = Date.now();
      await bothDecoding(10000);
      console.log(`server restart: decoding again ${Date.now() - started} ms after it listened`);
      assert.equal((await roomParticipants()).length, 2);
      for (const page of pages) {
        assert.equal(await page.evaluate(() => document.getElementById('ended-view').hidden), true, 'no ended view');
      }
    } catch (error) {
      throw await diagnose(error, 'restart');
    }
  });
});
