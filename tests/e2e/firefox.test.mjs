// End to end in Firefox: headless Debian Firefox ESR (puppeteer-core over WebDriver BiDi, fake
// camera and microphone) through the real web client, beside headless Chromium, inside a
// loopback-only network namespace. Firefox with max-bundle offers every section after the
// first at port 0 with a=bundle-only; each of these paths must accept them as live.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { adminToken, repoRoot, request, startServer } from '../integration/lib/server.mjs';
import { launchChromium, launchFirefox, restartIceAndKeepDecoding, waitInPage } from './lib/browser.mjs';

const artifacts = path.join(repoRoot, 'tests/e2e/artifacts');
const ROOM = 'e2e-firefox';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Stands in for getDisplayMedia where headless Firefox has no screen to give: a canvas
// capture, painted continuously so the encoder always has frames.
function canvasScreen() {
  navigator.mediaDevices.getDisplayMedia = async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 360;
    const ctx = canvas.getContext('2d');
    let n = 0;
    const paint = () => {
      ctx.fillStyle = `hsl(${(n * 7) % 360} 70% 45%)`;
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.fillStyle = '#fff';
      ctx.font = '40px sans-serif';
      ctx.fillText(`shared screen ${n++}`, 40, 190);
    };
    paint();
    const stream = canvas.captureStream(15);
    const timer = setInterval(paint, 66);
    stream.getVideoTracks()[0].addEventListener('ended', () => clearInterval(timer));
    return stream;
  };
}

describe('Firefox through the web client', () => {
  let server;
  let firefox;
  let chromium;
  const logs = [];
  const pages = {};

  before(async () => {
    server = await startServer();
    mkdirSync(artifacts, { recursive: true });
    firefox = await launchFirefox();
    chromium = await launchChromium();
  });
  after(async () => {
    await firefox?.close().catch(() => {});
    await chromium?.close().catch(() => {});
    await server?.stop();
  });

  async function firefoxPage(name) {
    const page = await firefox.newPage();
    await page.setViewport({ width: 1280, height: 800 });
    page.on('console', (m) => logs.push(`[${name}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[${name}] page error: ${e.message}`));
    pages[name] = page;
    return page;
  }

  async function chromiumPage(name) {
    const page = await chromium.newPage({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    page.on('console', (m) => logs.push(`[${name}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[${name}] page error: ${e.message}`));
    pages[name] = page;
    return page;
  }

  async function diagnose(error, label) {
    for (const [name, page] of Object.entries(pages)) {
      await page.screenshot({ path: path.join(artifacts, `firefox-${label}-failure-${name}.png`) }).catch(() => {});
    }
    return new Error(`${error.stack}\npage consoles:\n${logs.join('\n')}\nserver:\n${server.output()}`);
  }

  // The page's per-participant stats once `identity` shows decoded `what` ("video", "screen")
  // and, for "video", audio bytes too.
  function decoding(page, identity, what = 'video', timeoutMs = 30000) {
    return waitInPage(page, async ([id, kind]) => {
      const s = (await window.rollcall.stats())[id];
      return s?.[kind]?.framesDecoded > 0 && (kind !== 'video' || s?.audio?.bytesReceived > 0) ? s : null;
    }, [identity, what], timeoutMs);
  }

  // Decoding goes on: frames and audio bytes from `identity` grow over 1.5 s.
  async function keepsDecoding(page, identity, what = 'video') {
    const first = await decoding(page, identity, what);
    await sleep(1500);
    const later = (await page.evaluate(() => window.rollcall.stats()))[identity];
    assert.ok(later[what].framesDecoded > first[what].framesDecoded, `${what} from ${identity} keeps decoding`);
    if (what === 'video') assert.ok(later.audio.bytesReceived > first.audio.bytesReceived, `audio from ${identity} keeps arriving`);
    return later;
  }

  test('echo page in Firefox: its video and audio come back decoded, also after an ICE restart', async () => {
    const page = await firefoxPage('echo');
    try {
      await page.goto(`${server.url}/echo.html?room=e2e-firefox-echo&name=Firefox&auto=1`);
      const first = await waitInPage(page, async () => {
        const s = await window.rollcallEcho?.stats?.();
        return s?.video?.framesDecoded > 0 && s?.audio?.bytesReceived > 0 ? s : null;
      }, undefined, 30000);
      await sleep(1500);
      const later = await page.evaluate(() => window.rollcallEcho.stats());
      assert.ok(later.video.framesDecoded > first.video.framesDecoded, 'echoed video keeps decoding');
      assert.ok(later.audio.bytesReceived > first.audio.bytesReceived, 'echoed audio keeps arriving');
      const echo = await page.evaluate(() => ({
        media: window.rollcallEcho.media, rejected: window.rollcallEcho.rejected, offer: window.rollcallEcho.pc.localDescription.sdp,
      }));
      assert.deepEqual(echo.rejected, []);
      assert.equal(echo.media.state, 'connected');
      assert.match(echo.offer, /a=bundle-only/, 'Firefox offered a bundle-only section (else this test proves nothing)');
      console.log(`firefox echo: ${echo.media.dtls.version} ${echo.media.dtls.cipher} ${echo.media.srtp}`);
      await page.screenshot({ path: path.join(artifacts, 'firefox-echo.png') });

      // ICE restart from Firefox (its offer is bundle-only again): the echo keeps decoding.
      await restartIceAndKeepDecoding(page);
      writeFileSync(path.join(artifacts, 'firefox-echo.json'), JSON.stringify({ media: echo.media, stats: later }, null, 2));
      await page.close();
      delete pages.echo;
    } catch (error) {
      throw await diagnose(error, 'echo');
    }
  });

  // Item 2 of the issue, in the browser that had the silent failure: a camera offered only in
  // a codec the server does not take is answered inactive and the person is told why.
  test('a camera the server cannot accept is reported on the page, not shown as "no camera"', async () => {
    const page = await firefoxPage('av1');
    try {
      await page.evaluateOnNewDocument(() => {
        const addTransceiver = RTCPeerConnection.prototype.addTransceiver;
        RTCPeerConnection.prototype.addTransceiver = function (track, init) {
          const transceiver = addTransceiver.call(this, track, init);
          if ((typeof track === 'string' ? track : track.kind) === 'video') {
            transceiver.setCodecPreferences(RTCRtpReceiver.getCapabilities('video').codecs.filter((c) => /AV1/i.test(c.mimeType)));
          }
          return transceiver;
        };
      });
      await page.goto(`${server.url}/?room=e2e-firefox-av1&name=Av1&auto=1`);
      const shown = await waitInPage(page, () => {
        const n = document.getElementById('notice');
        const badge = document.querySelector('.tile[data-key="self"] .badge.cam-off');
        return !n.hidden && badge ? { notice: n.textContent, badge: badge.textContent, tracks: [...window.rollcall.myTracks.values()].map((t) => t.source) } : null;
      }, undefined, 15000);
      assert.match(shown.notice, /^Your camera could not be sent: no codec rollcall can receive: it takes VP8, H264 \(packetization-mode 1\) or VP9; offered AV1/);
      assert.equal(shown.badge, 'camera not sent');
      assert.deepEqual(shown.tracks, ['microphone']);
      const events = await page.evaluate(() => document.getElementById('events').textContent);
      assert.match(events, /your camera could not be sent/);
      await page.screenshot({ path: path.join(artifacts, 'firefox-camera-not-sent.png') });
      await page.close();
      delete pages.av1;
    } catch (error) {
      throw await diagnose(error, 'unsent');
    }
  });

  let ids;
  test('a Firefox and a Chromium participant each decode the other\'s video and audio', async () => {
    try {
      const fox = await firefoxPage('firefox');
      await fox.goto(`${server.url}/?room=${ROOM}&name=Firefox&auto=1`);
      const chrome = await chromiumPage('chromium');
      await chrome.goto(`${server.url}/?room=${ROOM}&name=Chromium&auto=1`);
      ids = {
        firefox: await waitInPage(fox, () => window.rollcall.self?.identity ?? null, undefined, 15000),
        chromium: await waitInPage(chrome, () => window.rollcall.self?.identity ?? null, undefined, 15000),
      };
      await keepsDecoding(chrome, ids.firefox);
      await keepsDecoding(fox, ids.chromium);

      // Firefox's own page lists both its tracks as published; none was left unsent.
      const own = await fox.evaluate(() => ({
        tracks: [...window.rollcall.myTracks.values()].map((t) => t.source).sort(),
        unsent: [...window.rollcall.unsent.keys()],
        notice: document.getElementById('notice').hidden ? '' : document.getElementById('notice').textContent,
      }));
      assert.deepEqual(own, { tracks: ['camera', 'microphone'], unsent: [], notice: '' });
      // Chromium's tile for Firefox shows video, not "no camera".
      const tileText = await waitInPage(chrome, (id) => {
        const t = document.querySelector(`.tile[data-key="p:${id}"]`);
        return t && !t.classList.contains('no-video') ? t.textContent : null;
      }, ids.firefox, 10000);
      assert.doesNotMatch(tileText, /no camera/);
      // The server's view: Firefox publishes a camera and a microphone.
      const detail = await request(server, 'GET', `/admin/v1/rooms/${ROOM}`, { token: await adminToken() });
      assert.equal(detail.status, 200, detail.text);
      const foxEntry = detail.body.room.participants.find((p) => p.identity === ids.firefox);
      assert.deepEqual(foxEntry.tracks.map((t) => `${t.source}:${t.codec}`).sort(), ['camera:VP8', 'microphone:opus']);
      // Its camera arrives as simulcast layers by rid (Firefox also lists their SSRCs in its
      // offer, unassigned to layers: the packets' rid binds them).
      const camera = foxEntry.stats.published.find((t) => t.kind === 'video');
      assert.deepEqual(camera.layers.map((l) => l.rid), ['q', 'h', 'f']);
      assert.ok(camera.layers.filter((l) => l.active).length >= 2, JSON.stringify(camera.layers));
      // Firefox's own SDP, kept for the record (the parser's samples come from these).
      const sdp = await fox.evaluate(() => ({ publisherOffer: window.rollcall.pub.localDescription.sdp,
        subscriberAnswer: window.rollcall.sub.localDescription.sdp }));
      writeFileSync(path.join(artifacts, 'firefox-sdp.json'), JSON.stringify(sdp, null, 2));
      await chrome.screenshot({ path: path.join(artifacts, 'firefox-room-seen-by-chromium.png') });
      await fox.screenshot({ path: path.join(artifacts, 'firefox-room.png') });
    } catch (error) {
      throw await diagnose(error, 'room');
    }
  });

  test('Firefox shares a screen by renegotiation; Chromium sees it appear and go', async () => {
    assert.ok(ids, 'the room test ran');
    const fox = pages.firefox;
    const chrome = pages.chromium;
    try {
      await fox.evaluate(canvasScreen);
      await fox.click('#screen');
      await waitInPage(fox, () => document.getElementById('share-dialog').open, undefined, 5000);
      await fox.click('#share-dialog button[value="share"]');
      await waitInPage(fox, () => [...window.rollcall.myTracks.values()].some((t) => t.source === 'screen'), undefined, 15000);
      await keepsDecoding(chrome, ids.firefox, 'screen');
      const screenTile = await waitInPage(chrome, () => {
        const t = document.querySelector('.tile[data-key^="screen:"]');
        return t ? t.dataset.key : null;
      }, undefined, 10000);
      await chrome.screenshot({ path: path.join(artifacts, 'firefox-screen-seen-by-chromium.png') });
      // The screen comes in two layers (half and full size), so a subscriber on a poor link
      // can get the smaller one or none (its audio going on).
      let screen;
      for (const deadline = Date.now() + 10000; Date.now() < deadline;) {
        const detail = await request(server, 'GET', `/admin/v1/rooms/${ROOM}`, { token: await adminToken() });
        const foxEntry = detail.body.room.participants.find((p) => p.identity === ids.firefox);
        const track = foxEntry.tracks.find((t) => t.source === 'screen');
        screen = foxEntry.stats.published.find((t) => t.track === track?.id);
        if (screen?.layers?.some((l) => l.active)) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.deepEqual(screen?.layers?.map((l) => l.rid), ['h', 'f'], JSON.stringify(screen));
      // Camera and audio carry on beside it.
      await keepsDecoding(chrome, ids.firefox);

      // Stop: the section is stopped (port 0, out of BUNDLE) and the track unpublished.
      await fox.click('#screen');
      await waitInPage(fox, () => ![...window.rollcall.myTracks.values()].some((t) => t.source === 'screen'), undefined, 15000);
      await waitInPage(chrome, (key) => !document.querySelector(`.tile[data-key="${key}"]`), screenTile, 10000);
      const gone = await chrome.evaluate((id) => window.rollcall.participants.get(id).tracks.map((t) => t.source).sort(), ids.firefox);
      assert.deepEqual(gone, ['camera', 'microphone']);
      await keepsDecoding(chrome, ids.firefox);
      await keepsDecoding(fox, ids.chromium);
    } catch (error) {
      throw await diagnose(error, 'screen');
    }
  });

  test('a Firefox participant kicked through the admin API sees the ended page with the reason', async () => {
    assert.ok(ids, 'the room test ran');
    const fox = pages.firefox;
    try {
      const reason = 'removed by the Firefox test';
      const kicked = await request(server, 'DELETE',
        `/admin/v1/rooms/${ROOM}/participants/${encodeURIComponent(ids.firefox)}?reason=${encodeURIComponent(reason)}`,
        { token: await adminToken() });
      assert.equal(kicked.status, 200, kicked.text);
      const ended = await waitInPage(fox, () => {
        if (document.getElementById('ended-view').hidden) return null;
        return { title: document.getElementById('ended-title').textContent, message: document.getElementById('ended-message').textContent };
      }, undefined, 10000);
      assert.equal(ended.title, 'You were removed from the room');
      assert.equal(ended.message, reason);
      await fox.screenshot({ path: path.join(artifacts, 'firefox-kicked.png') });
      // Chromium sees Firefox leave, kicked.
      await waitInPage(pages.chromium, (id) => !window.rollcall.participants.has(id), ids.firefox, 10000);
    } catch (error) {
      throw await diagnose(error, 'kick');
    }
  });
});
