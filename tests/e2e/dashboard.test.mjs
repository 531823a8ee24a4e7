// End to end: the operator's dashboard in headless Chromium, watching three Chromium
// participants (fake camera and microphone) in one room through the web client. The room
// appears as they join and their bitrates turn non-zero; muting one participant's camera from
// the dashboard stops the others decoding new frames from it and shows them the muted state;
// kicking another ends its call and puts the kick in the dashboard's audit feed; deleting the
// room ends the others' calls. A screenshot goes to tests/e2e/artifacts/dashboard.png. Loopback-only namespace (run-in-netns.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, startServer } from '../integration/lib/server.mjs';
import { launchChromium, waitInPage } from './lib/browser.mjs';

const artifacts = path.join(repoRoot, 'tests/e2e/artifacts');
const ROOM = 'e2e-dashboard';
const NAMES = ['Ada', 'Grace', 'Linus'];

describe('the operator dashboard', () => {
  let server;
  const browsers = [];
  const logs = [];
  before(async () => {
    server = await startServer();
    mkdirSync(artifacts, { recursive: true });
  });
  after(async () => {
    for (const browser of browsers) await browser.close().catch(() => {});
    await server?.stop();
  });

  async function open(url, label) {
    const browser = await launchChromium();
    browsers.push(browser);
    const page = await browser.newPage({ ignoreHTTPSErrors: true, viewport: { width: 1400, height: 1000 } });
    page.on('console', (m) => logs.push(`[${label}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[${label}] page error: ${e.message}`));
    await page.goto(url);
    return page;
  }

  const framesFrom = async (page, id) => (await page.evaluate(() => window.rollcall.stats()))[id]?.video?.framesDecoded ?? 0;

  test('watch a room live, mute a camera, kick a participant, delete the room', async () => {
    let dashboard;
    try {
      dashboard = await open(`${server.url}/dashboard?room=${ROOM}`, 'dashboard');
      await waitInPage(dashboard, () => window.dashboard.connected, undefined, 10000);
      const pages = [];
      for (const name of NAMES) pages.push(await open(`${server.url}/?room=${ROOM}&name=${name}&auto=1`, name));
      const ids = [];
      for (const page of pages) ids.push(await waitInPage(page, () => window.rollcall.self?.identity ?? null, undefined, 15000));
      const [ada, grace, linus] = ids;

      // The room appears with three people, and everyone's bitrates become non-zero.
      await waitInPage(dashboard, (room) => window.dashboard.rooms.some((r) => r.name === room && r.num_participants === 3),
        ROOM, 20000);
      const room = await waitInPage(dashboard, () => {
        const r = window.dashboard.room;
        return r?.participants.length === 3 && r.participants.every((p) =>
          p.stats.bitrate_in_bps > 0 && p.stats.bitrate_out_bps > 0 && p.stats.published.length === 2) ? r : null;
      }, undefined, 30000);
      const shown = await dashboard.evaluate(() => document.getElementById('participants').textContent);
      for (const name of NAMES) assert.ok(shown.includes(name), `${name} on the dashboard`);
      assert.equal(await dashboard.locator('#audience tbody tr').count(), 12, 'each of 3 receives 2 tracks from 2 others');
      await waitInPage(pages[0], (id) => true && window.rollcall.stats().then((s) => s[id]?.video?.framesDecoded > 0), grace, 20000);

      // Mute Grace's camera from the dashboard (the confirmation is accepted).
      dashboard.on('dialog', (dialog) => dialog.accept(dialog.type() === 'prompt' ? 'testing the dashboard' : undefined));
      const graceVideo = room.participants.find((p) => p.identity === grace).stats.published.find((t) => t.kind === 'video').track;
      await dashboard.click(`article[data-identity="${grace}"] button[data-track="${graceVideo}"]`);
      await waitInPage(dashboard, () => window.dashboard.results.some((r) => r.ok && r.text.includes('muted')), undefined, 10000);
      for (const page of [pages[0], pages[2]]) {
        await waitInPage(page, ([id, track]) => window.rollcall.participants.get(id)?.tracks
          ?.find((t) => t.id === track)?.muted === true, [grace, graceVideo], 10000);
      }
      await new Promise((r) => setTimeout(r, 1000));  // frames already on their way
      const frozenAt = await framesFrom(pages[0], grace);
      await new Promise((r) => setTimeout(r, 2000));
      const later = await framesFrom(pages[0], grace);
      assert.ok(later - frozenAt <= 1, `Ada decodes no new frames from Grace: ${frozenAt} → ${later}`);
      assert.ok(await framesFrom(pages[0], linus) > 0);
      await waitInPage(dashboard, ([id, track]) => window.dashboard.room?.participants.find((p) => p.identity === id)
        ?.stats.published.find((t) => t.track === track)?.paused === true, [grace, graceVideo], 5000);

      // Kick Linus: his page ends, he leaves the room, and the kick is in the audit feed.
      await dashboard.click(`article[data-identity="${linus}"] button.kick`);
      await waitInPage(pages[2], () => !document.getElementById('ended-view').hidden, undefined, 10000);
      await waitInPage(dashboard, (id) => window.dashboard.room?.participants.length === 2 &&
        !window.dashboard.room.participants.some((p) => p.identity === id), linus, 10000);
      await waitInPage(dashboard, (id) => {
        const item = document.querySelector('#audit li[data-class="kicked"]');
        return item && item.textContent.includes(id) && item.textContent.includes('testing the dashboard');
      }, linus, 10000);
      await waitInPage(pages[0], (id) => !window.rollcall.participants.has(id), linus, 10000);
      assert.ok(ada);

      await dashboard.screenshot({ path: path.join(artifacts, 'dashboard.png'), fullPage: true });

      // Delete the room: the two left are disconnected and the dashboard says it is closed.
      await dashboard.click('#delete-room');
      await waitInPage(dashboard, () => window.dashboard.results.some((r) => r.ok && r.text.includes('deleted')), undefined, 10000);
      for (const page of pages.slice(0, 2)) {
        await waitInPage(page, () => !document.getElementById('ended-view').hidden, undefined, 10000);
      }
      await waitInPage(dashboard, () => window.dashboard.room === null &&
        !document.getElementById('room-gone').hidden, undefined, 10000);
    } catch (error) {
      await dashboard?.screenshot({ path: path.join(artifacts, 'dashboard-failure.png'), fullPage: true }).catch(() => {});
      throw new Error(`${error.message}\npages:\n${logs.slice(-60).join('\n')}\nserver:\n${server.output().slice(-3000)}`);
    }
  });
});
