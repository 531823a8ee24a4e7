// End to end: a headless Chromium publisher negotiates transport-wide congestion control with
// rollcall, the server reports every packet's arrival (transport-cc feedback), and the
// browser's own estimator ramps up on it; a second participant keeps decoding the video,
// padding-only probes and all. The ramp's time series is written to artifacts (a figure for
// the notes, not a pass/fail timing: these machines are noisy).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { adminToken, request } from '../integration/lib/server.mjs';
import { artifacts, chromiumSuite, failure, joinInChromium, waitInPage } from './lib/browser.mjs';

const ROOM = 'e2e-congestion';
const TARGET_BPS = 1_500_000;

describe('congestion feedback to a Chromium publisher', () => {
  const suite = chromiumSuite();
  const { browsers, pages, logs } = suite;

  // The publisher connection's estimate and the camera's encoder state, now.
  function sample(page) {
    return page.evaluate(async () => {
      const pc = window.rollcall.pub;
      if (!pc) return null;
      const out = { availableOutgoingBitrate: 0, targetBitrate: 0, frameWidth: 0, limitation: '' };
      for (const s of (await pc.getStats()).values()) {
        if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate)
          out.availableOutgoingBitrate = s.availableOutgoingBitrate;
        if (s.type === 'outbound-rtp' && s.kind === 'video') {  // one per simulcast layer
          out.targetBitrate += s.targetBitrate ?? 0;
          out.frameWidth = Math.max(out.frameWidth, s.frameWidth ?? 0);
          if (s.qualityLimitationReason && s.qualityLimitationReason !== 'none') out.limitation = s.qualityLimitationReason;
        }
      }
      return out;
    });
  }

  test('the publisher estimate ramps past 1.5 Mbps on the server\'s feedback', async () => {
    try {
      const [publisher] = await joinInChromium(suite.server, ROOM, ['Ada'], { browsers, pages, logs });
      const page = pages[0];
      const answer = await waitInPage(page, () => window.rollcall.pub?.remoteDescription?.sdp ?? null, undefined, 15000);
      assert.match(answer, /a=extmap:\d+ http:\/\/www\.ietf\.org\/id\/draft-holmer-rmcat-transport-wide-cc-extensions-01/);
      assert.match(answer, /a=rtcp-fb:\d+ transport-cc/);

      // Sample from the moment media flows until the estimate passes the target (or 45 s).
      await waitInPage(page, async () => {
        for (const s of (await window.rollcall.pub.getStats()).values())
          if (s.type === 'outbound-rtp' && s.kind === 'video' && s.packetsSent > 0) return true;
        return false;
      }, undefined, 15000);
      const start = Date.now();
      const series = [];
      let reachedAt = null;  // the estimate (what the feedback drives)
      let targetAt = null;   // the encoders' summed target, which follows it
      while (Date.now() - start < 45000) {
        const s = await sample(page);
        series.push({ t: (Date.now() - start) / 1000, ...s });
        const t = (Date.now() - start) / 1000;
        if (reachedAt === null && s.availableOutgoingBitrate >= TARGET_BPS) reachedAt = t;
        if (targetAt === null && s.targetBitrate >= TARGET_BPS) targetAt = t;
        if (reachedAt !== null && targetAt !== null && t > targetAt + 2) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      writeFileSync(path.join(artifacts, 'congestion-publisher-ramp.json'), JSON.stringify({ reachedAt, targetAt, series }, null, 1));
      console.log(`publisher estimate passed ${TARGET_BPS / 1e6} Mbps after ${reachedAt} s of media, its target after ${targetAt} s;` +
        ` last sample ${JSON.stringify(series.at(-1))}`);
      assert.ok(reachedAt !== null, `the estimate never passed ${TARGET_BPS} bps: ${JSON.stringify(series.slice(-4))}`);

      // The server did send the feedback the estimate rests on.
      const metrics = (await request(suite.server, 'GET', '/metrics', { token: await adminToken() })).text;
      const sent = Number(/^rollcall_transport_feedback_sent_total (\d+)/m.exec(metrics)?.[1] ?? 0);
      assert.ok(sent > 20, `transport-cc feedback messages sent: ${sent}`);

      // A subscriber decodes that video, probes and all, and keeps decoding.
      await joinInChromium(suite.server, ROOM, ['Grace'], { browsers, pages, logs });
      const decoding = (n) => waitInPage(pages[1], async ([id, min]) => {
        const s = await window.rollcall.stats();
        return s[id]?.video?.framesDecoded > min ? s[id].video.framesDecoded : null;
      }, [publisher, n], 20000);
      const first = await decoding(0);
      await new Promise((r) => setTimeout(r, 2000));
      await decoding(first + 20);
    } catch (error) {
      throw await failure(suite, 'congestion', error);
    }
  });
});
