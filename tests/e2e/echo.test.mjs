// End to end: headless Chromium (fake camera and microphone) joins through the web client
// in echo mode and decodes its own media coming back through rollcall.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, repoRoot } from '../integration/lib/server.mjs';
import { launchChromium, restartIceAndKeepDecoding, waitInPage } from './lib/browser.mjs';

const artifacts = path.join(repoRoot, 'tests/e2e/artifacts');

describe('echo through the web client', () => {
  let server;
  let browser;
  before(async () => {
    server = await startServer();
    browser = await launchChromium();
    mkdirSync(artifacts, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('Chromium decodes its own echoed video and receives its audio', async () => {
    const page = await browser.newPage({ ignoreHTTPSErrors: true });
    const logs = [];
    page.on('console', (m) => logs.push(m.text()));
    await page.goto(`${server.url}/echo.html?room=e2e-echo&name=Chromium&auto=1`);
    try {
      const first = await waitInPage(page, async () => {
        const s = await window.rollcallEcho?.stats?.();
        return s?.video?.framesDecoded > 0 ? s : null;
      }, undefined, 20000);
      assert.ok(first.video.framesDecoded > 0);
      const audioBefore = first.audio?.bytesReceived ?? 0;
      await page.waitForTimeout(1500);
      const later = await page.evaluate(() => window.rollcallEcho.stats());
      assert.ok(later.audio.bytesReceived > audioBefore, `audio bytes grew: ${audioBefore} -> ${later.audio.bytesReceived}`);
      assert.ok(later.video.framesDecoded > first.video.framesDecoded);
      const echo = await page.evaluate(() => ({ media: window.rollcallEcho.media, timings: window.rollcallEcho.timings }));
      assert.equal(echo.media.state, 'connected');
      assert.equal(echo.media.dtls.version, 'DTLSv1.2');
      writeFileSync(path.join(artifacts, 'echo-chromium.json'), JSON.stringify({ ...echo, stats: later }, null, 2));
      console.log(`chromium echo: ${echo.media.dtls.version} ${echo.media.dtls.cipher} ${echo.media.srtp}; ` +
        `first echoed frame ${Math.round(echo.timings.firstFrame ?? -1)} ms after start`);

      // The SDP the browser received names no address but the server's own.
      const remote = await page.evaluate(() => window.rollcallEcho.pc.remoteDescription.sdp);
      const addresses = [...remote.matchAll(/a=candidate:\S+ \d+ \S+ \d+ (\S+) /g)].map((m) => m[1]);
      assert.ok(addresses.length > 0);
      assert.deepEqual([...new Set(addresses)], ['127.0.0.1']);
      assert.doesNotMatch(remote, /a=crypto/);
      await page.screenshot({ path: path.join(artifacts, 'echo-chromium.png') });

      await restartIceAndKeepDecoding(page);
    } catch (error) {
      await page.screenshot({ path: path.join(artifacts, 'echo-chromium-failure.png') }).catch(() => {});
      throw new Error(`${error.message}\npage console:\n${logs.join('\n')}\nserver:\n${server.output()}`);
    }
  });
});
