// Interop in a conference: an aiortc participant (an independent WebRTC stack) and a
// Chromium participant (the web client) in one room, each decoding the other's media
// through rollcall. Runs inside a loopback-only namespace (tests/e2e/run-in-netns.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, token } from '../integration/lib/server.mjs';
import { launchChromium, waitInPage } from '../e2e/lib/browser.mjs';
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
});
