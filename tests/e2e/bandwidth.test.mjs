// End to end: per-subscriber bandwidth estimation. A Chromium publisher sends three
// simulcast layers; subscribers A and B both ask for the full size. Then B's downlink (the
// server's subscriber-connection port for B, on `lo` in this test's own namespace) is
// limited to 300 kbit/s with tc: the server's estimate of B's link falls and B gets the
// lowest layer, decoding on (the layer it had stops at once, so the link drains for the
// lowest layer's keyframe); A stays on top. When the limit is lifted B climbs back.
// The time series of B's and A's received size and bitrate goes to artifacts; timing
// bounds here are generous (these machines are noisy), the figures are for the notes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { adminToken, request } from '../integration/lib/server.mjs';
import { artifacts, chromiumSuite, failure, joinInChromium } from './lib/browser.mjs';
import { limitPort, serverPort, unlimit } from './lib/linklimit.mjs';

const ROOM = 'e2e-bandwidth';

describe('per-subscriber bandwidth: a limited subscriber gets the lowest layer', () => {
  const suite = chromiumSuite();
  const { browsers, pages, logs } = suite;
  let limited = false;
  suite.cleanups.push(() => limited && unlimit());

  // The publisher's video as `page` receives it now, with bytes for a bitrate.
  const video = (page, id) => page.evaluate(async (who) => (await window.rollcall.stats())[who]?.video ?? null, id);

  test('B drops to the lowest layer under 300 kbit/s and decodes on; A is untouched; B climbs back', async () => {
    const series = [];
    try {
      const [ada, grace, bob] = await joinInChromium(suite.server, ROOM, ['Ada', 'Grace', 'Bob'], { browsers, pages, logs });
      const [, a, b] = pages;
      for (const page of [a, b]) await page.evaluate((id) => window.rollcall.setTrackSize(id, 'video', 1280, 720), ada);
      // B watches Ada's video only (Grace's paused): 300 kbit/s is one low video and the audio.
      await b.evaluate((id) => window.rollcall.setTrackPaused(id, 'video', true), grace);

      const token = await adminToken();
      const start = Date.now();
      const last = { a: null, b: null };
      // Samples both every 250 ms until `until(sample)` or `ms` pass; returns the last sample.
      async function watch(phase, ms, until = () => false) {
        const end = Date.now() + ms;
        for (;;) {
          const sample = { t: (Date.now() - start) / 1000, phase };
          for (const [key, page] of [['a', a], ['b', b]]) {
            const v = await video(page, ada);
            const prev = last[key];
            sample[key] = v && {
              width: v.frameWidth, frames: v.framesDecoded,
              kbps: prev ? Math.round(((v.bytesReceived - prev.bytes) * 8) / (sample.t - prev.t) / 1000) : 0,
            };
            if (v) last[key] = { bytes: v.bytesReceived, t: sample.t };
          }
          // The server's view: its estimate of B's link, and the layer B gets.
          const room = (await request(suite.server, 'GET', `/admin/v1/rooms/${ROOM}`, { token })).body?.room;
          const bEntry = room?.participants?.find((p) => p.identity === bob)?.stats;
          sample.server = bEntry && {
            estimate_kbps: bEntry.subscriber?.estimate_bps == null ? null : Math.round(bEntry.subscriber.estimate_bps / 1000),
            probes: bEntry.subscriber?.probes,
            ...(({ layer, target_layer, max_layer, video_off }) => ({ layer, target_layer, max_layer, video_off }))(
              bEntry.receiving?.find((r) => r.from === ada && r.target_layer !== undefined) ?? {}),
            layers: room.participants.find((p) => p.identity === ada)?.stats?.published
              ?.find((t) => t.layers)?.layers.map((l) => Math.round(l.bitrate_bps / 1000)),
          };
          series.push(sample);
          if (until(sample) || Date.now() > end) return sample;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      const bothTop = (s) => s.a?.width >= 640 && s.b?.width >= 640 && s.a.frames > 0 && s.b.frames > 0;
      const ready = await watch('before', 30000, bothTop);
      assert.ok(bothTop(ready), `both should decode at least 640 wide first: ${JSON.stringify(ready)}`);
      await watch('before', 2000);

      const port = await serverPort(b);
      assert.ok(port, 'B\'s subscriber connection has a selected pair');
      limitPort(port, '300kbit');
      limited = true;
      const low = await watch('limited', 10000, (s) => s.b?.width > 0 && s.b.width <= 320);
      assert.ok(low.b?.width <= 320, `B within 10 s of the limit: ${JSON.stringify(low)}`);
      const reachedLowAt = low.t;
      // B decodes on: frames rise in every second that follows (no freeze over 1 s); A stays.
      const framesAt = [];
      await watch('limited', 6000, (s) => { framesAt.push([s.t, s.b?.frames ?? 0]); return false; });
      for (let i = 0; i < framesAt.length; i++) {
        const later = framesAt.find(([t]) => t >= framesAt[i][0] + 1);
        if (later) assert.ok(later[1] > framesAt[i][1], `B froze for over a second at ${framesAt[i][0]} s: ${JSON.stringify(framesAt)}`);
      }
      const limitedSamples = series.filter((s) => s.phase === 'limited');
      assert.ok(limitedSamples.every((s) => s.a?.width >= 640), 'A stays at least 640 wide throughout');

      unlimit();
      limited = false;
      const liftedAt = (Date.now() - start) / 1000;
      // Back on the top layer (the server forwards it, B decodes at least 640 wide).
      const onTop = (s) => s.server?.layer === 2 && s.b?.width >= 640;
      const back = await watch('lifted', 20000, onTop);
      const climbed = onTop(back);
      console.log(`B reached ≤320 wide ${(reachedLowAt - series.find((s) => s.phase === 'limited').t).toFixed(1)} s after the limit;` +
        ` after lifting it, ${climbed ? `back on the top layer (${back.b.width} wide) in ${(back.t - liftedAt).toFixed(1)} s` : 'not back within 20 s'}` +
        ` (${back.server?.probes ?? 0} probes)`);
      assert.ok(climbed, `B climbs back to the top layer within 20 s of the limit being lifted: ${JSON.stringify(back)}`);
    } catch (error) {
      throw await failure(suite, 'bandwidth', error);
    } finally {
      writeFileSync(path.join(artifacts, 'bandwidth-series.json'), JSON.stringify(series, null, 1));
      writeFileSync(path.join(artifacts, 'bandwidth-server.log'), suite.server.output());
    }
  });
});
