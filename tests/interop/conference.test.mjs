// Interop in a conference: an aiortc participant (an independent WebRTC stack) and a
// Chromium participant (the web client) in one room, each decoding the other's media
// through rollcall. Runs inside a loopback-only namespace (tests/e2e/run-in-netns.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminToken, request, startServer, token } from '../integration/lib/server.mjs';
import { launchChromium, waitInPage } from '../e2e/lib/browser.mjs';
import { limitPort, serverPort, unlimit } from '../e2e/lib/linklimit.mjs';
import { aiortc } from './lib/aiortc.mjs';

const ROOM = 'interop-conference';

describe('aiortc and Chromium in one conference', () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer();
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('Chromium decodes an aiortc publisher, and aiortc decodes Chromium', async () => {
    const page = await browser.newPage({ ignoreHTTPSErrors: true });
    const logs = [];
    page.on('console', (m) => logs.push(m.text()));
    await page.goto(`${server.url}/?room=${ROOM}&name=Chromium&auto=1`);
    const chromiumIdentity = await waitInPage(page, () => window.rollcall.self?.identity ?? null, undefined, 15000);
    await waitInPage(page, () => window.rollcall.myTracks.size === 2, undefined, 15000);

    const jwt = await token({ identity: 'aiortc', room: ROOM, name: 'aiortc' });
    const running = aiortc(server, jwt, '--publish', '--expect-remote', '1', '--hold', '8', '--seconds', '30');
    let seen;
    try {
      seen = await waitInPage(page, async () => {
        const s = (await window.rollcall.stats()).aiortc;
        return s?.video?.framesDecoded > 10 && s?.audio?.bytesReceived > 0 ? s : null;
      }, undefined, 25000);
    } catch (error) {
      const { result, stderr } = await running;
      throw new Error(`Chromium never decoded aiortc: ${error.message}\naiortc: ${JSON.stringify(result)}\n${stderr}\n` +
        `page:\n${logs.join('\n')}\nserver:\n${server.output()}`);
    }
    const { code, result, stderr } = await running;
    assert.equal(code, 0, `aiortc failed: ${JSON.stringify(result)}\n${stderr}\nserver:\n${server.output()}`);
    const fromChromium = Object.values(result.remote).filter((r) => r.identity === chromiumIdentity);
    assert.ok(fromChromium.find((r) => r.kind === 'video').frames >= 10, JSON.stringify(result.remote));
    assert.ok(fromChromium.find((r) => r.kind === 'audio').frames >= 20, JSON.stringify(result.remote));
    assert.equal(result.published.length, 2);
    console.log(`Chromium decoded ${seen.video.framesDecoded} frames from aiortc; aiortc decoded ` +
      `${fromChromium.find((r) => r.kind === 'video').frames} from Chromium (${result.media.subscriber?.srtp})`);
  });

  // aiortc sends its video in one layer (no simulcast): a subscriber whose link cannot carry
  // it gets audio only and is told; when the link can again, the video comes back.
  test('a one-layer video the link cannot carry is paused for that subscriber, audio going on, and comes back', async () => {
    const page = await browser.newPage({ ignoreHTTPSErrors: true });
    const logs = [];
    page.on('console', (m) => logs.push(m.text()));
    let limited = false;
    const room = `${ROOM}-limited`;
    await page.goto(`${server.url}/?room=${room}&name=Chromium&auto=1`);
    await waitInPage(page, () => window.rollcall.myTracks.size === 2, undefined, 15000);
    const jwt = await token({ identity: 'aiortc', room, name: 'aiortc' });
    const running = aiortc(server, jwt, '--publish', '--noisy-video', '--seconds', '45');
    const stats = () => page.evaluate(async () => (await window.rollcall.stats()).aiortc ?? null);
    try {
      await waitInPage(page, async () => (await window.rollcall.stats()).aiortc?.video?.framesDecoded > 10, undefined, 25000);
      // What aiortc's video and audio weigh, as the server receives them.
      let published = [];
      for (const deadline = Date.now() + 10000; Date.now() < deadline;) {
        const detail = await request(server, 'GET', `/admin/v1/rooms/${room}`, { token: await adminToken() });
        published = detail.body.room.participants.find((p) => p.identity === 'aiortc')?.stats?.published ?? [];
        if (published.every((t) => t.bitrate_bps > 0) && published.length === 2) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const videoBps = published.find((t) => t.kind === 'video')?.bitrate_bps ?? 0;
      const audioBps = published.find((t) => t.kind === 'audio')?.bitrate_bps ?? 0;
      // A link for the audio and a little more, well short of the video.
      const rate = Math.round((audioBps * 1.5 + 40_000) / 1000);
      assert.ok(videoBps > 2 * rate * 1000, `aiortc's video (${videoBps} bit/s) must not fit ${rate} kbit/s`);
      limitPort(await serverPort(page), `${rate}kbit`);
      limited = true;
      const videoTrack = await page.evaluate(() => window.rollcall.participants.get('aiortc').tracks.find((t) => t.kind === 'video').id);
      await waitInPage(page, (id) => window.rollcall.slowVideo.has(id), videoTrack, 20000);
      // Audio goes on meanwhile.
      const audioBefore = (await stats()).audio.bytesReceived;
      await new Promise((r) => setTimeout(r, 2000));
      assert.ok((await stats()).audio.bytesReceived > audioBefore, 'audio keeps arriving while the video is paused');
      const paused = await request(server, 'GET', `/admin/v1/rooms/${room}`, { token: await adminToken() });
      const receiving = paused.body.room.participants.find((p) => p.identity !== 'aiortc').stats.receiving;
      assert.equal(receiving.find((r) => r.track === videoTrack)?.video_off, true, JSON.stringify(receiving));

      unlimit();
      limited = false;
      await waitInPage(page, (id) => !window.rollcall.slowVideo.has(id), videoTrack, 20000);
      const back = (await stats()).video.framesDecoded;
      await waitInPage(page, async (n) => (await window.rollcall.stats()).aiortc?.video?.framesDecoded > n + 10, back, 15000);
      console.log(`aiortc's ${Math.round(videoBps / 1000)} kbit/s video paused under ${rate} kbit/s and back after`);
    } catch (error) {
      throw new Error(`${error.message}\npage:\n${logs.join('\n')}\nserver:\n${server.output().slice(-4000)}`);
    } finally {
      if (limited) unlimit();
      await running.catch(() => {});
      await page.close();
    }
  });
});
