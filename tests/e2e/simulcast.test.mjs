// End to end: a headless Chromium publisher sends its camera as three simulcast layers
// through the web client; rollcall learns each layer's SSRC from its rid, and every
// subscriber gets one layer, switched on keyframes with its numbering and VP8 picture ids
// kept continuous. An unconstrained subscriber decodes the top layer; one that asks for a
// small tile (track_settings) gets the lowest, and climbs again when it asks for more.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminToken, request } from '../integration/lib/server.mjs';
import { artifacts, chromiumSuite, failure, joinInChromium, waitInPage } from './lib/browser.mjs';

const ROOM = 'e2e-simulcast';

describe('simulcast through the web client', () => {
  const suite = chromiumSuite();
  const { browsers, pages, logs } = suite;

  // Resolves with the publisher's video as `page` decodes it once `accept(video)` holds
  // (checked here: the page's CSP allows no eval, rightly).
  async function videoFrom(page, publisher, accept, timeoutMs = 30000) {
    const deadline = Date.now() + timeoutMs;
    let last = null;
    for (;;) {
      last = await page.evaluate(async (id) => (await window.rollcall.stats())[id]?.video ?? null, publisher);
      if (last && accept(last)) return last;
      if (Date.now() > deadline) throw new Error(`video never met ${accept}: last ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  test('each subscriber decodes the layer that fits it; switches keep decoding', async () => {
    try {
      const [ada] = await joinInChromium(suite.server, ROOM, ['Ada'], { browsers, pages, logs });
      const offer = await waitInPage(pages[0], () => window.rollcall.pub?.localDescription?.sdp ?? null, undefined, 15000);
      assert.match(offer, /a=simulcast:send q;h;f/);
      const answer = await waitInPage(pages[0], () => window.rollcall.pub?.remoteDescription?.sdp ?? null, undefined, 15000);
      assert.match(answer, /a=simulcast:recv q;h;f/);

      // (joinInChromium names everyone on `pages`: Ada, Grace, Linus.)
      const [, , linusId] = await joinInChromium(suite.server, ROOM, ['Grace', 'Linus'], { browsers, pages, logs });
      // Unconstrained: the top layer (the camera is 1280×720; its top layer is that size
      // once the publisher's estimate allows, and never under 640 wide).
      const top = await videoFrom(pages[1], ada, (v) => v.framesDecoded > 0 && v.frameWidth >= 640);
      console.log(`Grace decodes ${top.frameWidth}×${top.frameHeight}`);

      // Linus asks for a 160×90 tile: the lowest layer, 320 wide (or less, see below).
      await pages[2].evaluate((id) => window.rollcall.setTrackSize(id, 'video', 160, 90), ada);
      const low = await videoFrom(pages[2], ada, (v) => v.frameWidth > 0 && v.frameWidth <= 320);
      console.log(`Linus, small tile, decodes ${low.frameWidth}×${low.frameHeight}`);
      const lowFrames = low.framesDecoded;
      await videoFrom(pages[2], ada, (v) => v.framesDecoded > lowFrames + 30 && v.frameWidth <= 320, 20000);
      // Grace is not affected.
      const graceNow = await videoFrom(pages[1], ada, (v) => v.framesDecoded > top.framesDecoded + 30, 20000);
      assert.ok(graceNow.frameWidth >= 640, `Grace: ${JSON.stringify(graceNow)}`);

      // Linus asks for more: he climbs back to a layer at least 640 wide and goes on decoding.
      await pages[2].evaluate((id) => window.rollcall.setTrackSize(id, 'video', 1280, 720), ada);
      const up = await videoFrom(pages[2], ada, (v) => v.frameWidth >= 640, 20000);
      await videoFrom(pages[2], ada, (v) => v.framesDecoded > up.framesDecoded + 30, 20000);

      // Paused: nothing more is decoded; resumed: decoding goes on.
      await pages[2].evaluate((id) => window.rollcall.setTrackPaused(id, 'video', true), ada);
      await new Promise((r) => setTimeout(r, 1500));
      const paused = await videoFrom(pages[2], ada, () => true);
      await new Promise((r) => setTimeout(r, 1500));
      const stillPaused = await videoFrom(pages[2], ada, () => true);
      assert.ok(stillPaused.framesDecoded - paused.framesDecoded <= 2, `paused yet decoding: ${paused.framesDecoded} → ${stillPaused.framesDecoded}`);
      await pages[2].evaluate((id) => window.rollcall.setTrackPaused(id, 'video', false), ada);
      await videoFrom(pages[2], ada, (v) => v.framesDecoded > stillPaused.framesDecoded + 30, 20000);

      // The admin API shows the layers and which one each subscriber gets (Linus asked for
      // a small tile again: the lowest).
      await pages[2].evaluate((id) => window.rollcall.setTrackSize(id, 'video', 160, 90), ada);
      await videoFrom(pages[2], ada, (v) => v.frameWidth <= 320);
      // The admin API reads the media plane's full truth, published once a second.
      let video;
      let received;
      for (const deadline = Date.now() + 10000; Date.now() < deadline;) {
        const detail = await request(suite.server, 'GET', `/admin/v1/rooms/${ROOM}`, { token: await adminToken() });
        assert.equal(detail.status, 200, detail.text);
        const byIdentity = (id) => detail.body.room.participants.find((p) => p.identity === id);
        video = byIdentity(ada).stats.published.find((t) => t.kind === 'video');
        received = byIdentity(linusId).stats.receiving.find((r) => r.track === video.track);
        if (received?.layer === 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(video.layers?.length, 3, JSON.stringify(video));
      assert.deepEqual(video.layers.map((l) => l.rid), ['q', 'h', 'f']);
      // Scales 4, 2, 1 of the camera: 320 wide under 1280, or less when the publisher's
      // encoder scales all down for its CPU (a loaded machine: 240 under 960).
      assert.ok(video.layers[0].width > 0 && video.layers[0].width <= 320, JSON.stringify(video.layers));
      assert.equal(video.layers[0].width * 4, video.layers[2].width, JSON.stringify(video.layers));
      assert.equal(received.layer, 0, JSON.stringify({ received, layers: video.layers }));
    } catch (error) {
      throw await failure(suite, 'simulcast', error);
    }
  });
});
