// End to end: three headless Chromium participants chat through the web client's chat panel
// (a data channel on each publisher connection, relayed and stamped by rollcall). Every
// message arrives at the other two exactly once, in order, with the server-stamped sender;
// a raised hand shows on the others' tiles and rosters (screenshot).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, startServer } from '../integration/lib/server.mjs';
import { joinInChromium, waitInPage } from './lib/browser.mjs';

const artifacts = path.join(repoRoot, 'tests/e2e/artifacts');
const ROOM = 'e2e-chat';
const NAMES = ['Ada', 'Grace', 'Linus'];
const PER_PERSON = 4;

describe('chat through the web client', () => {
  let server;
  const browsers = [];
  const pages = [];
  const logs = [];

  before(async () => {
    server = await startServer();
    mkdirSync(artifacts, { recursive: true });
  });
  after(async () => {
    for (const browser of browsers) await browser.close().catch(() => {});
    await server?.stop();
  });

  test('chat reaches the other two exactly once, in order, stamped; a raised hand shows', async () => {
    try {
      const identities = await joinInChromium(server, ROOM, NAMES, { browsers, pages, logs });
      for (const page of pages) {
        await waitInPage(page, () => window.rollcall.dataOpen && !document.getElementById('chat-text').disabled,
          undefined, 20000);
      }
      for (const page of pages) await waitInPage(page, () => window.rollcall.participants.size === 2, undefined, 10000);

      // Everyone types, in turns, through the panel.
      for (let n = 0; n < PER_PERSON; ++n) {
        for (const [i, page] of pages.entries()) {
          await page.fill('#chat-text', `${NAMES[i]} says ${n}`);
          await page.click('#chat-send');
        }
      }
      for (const [i, page] of pages.entries()) {
        const expected = PER_PERSON * 3;
        const chat = await waitInPage(page, (count) => (window.rollcall.chat.length >= count ? window.rollcall.chat : null),
          expected, 15000);
        await new Promise((r) => setTimeout(r, 500));  // anything extra (a duplicate) shows by now
        const final = await page.evaluate(() => window.rollcall.chat);
        assert.equal(final.length, expected, `${NAMES[i]}: ${JSON.stringify(final)}`);
        for (const [j, other] of identities.entries()) {
          const texts = chat.filter((e) => e.from === other).map((e) => e.text);
          assert.deepEqual(texts, Array.from({ length: PER_PERSON }, (_, n) => `${NAMES[j]} says ${n}`),
            `${NAMES[i]} sees ${NAMES[j]}'s messages once each, in order`);
          if (j !== i) assert.ok(chat.filter((e) => e.from === other).every((e) => Number.isInteger(e.at)));
        }
        const mine = await page.evaluate(() => [...document.querySelectorAll('#chat li.mine')].length);
        assert.equal(mine, PER_PERSON, `${NAMES[i]}'s own messages are marked`);
        const names = await page.evaluate(() => [...document.querySelectorAll('#chat li:not(.mine) .who')].map((w) => w.textContent));
        assert.deepEqual([...new Set(names)].sort(), NAMES.filter((_, j) => j !== i).sort());
      }

      // Ada raises her hand: Grace and Linus see it on her tile and in the roster.
      await pages[0].click('#hand');
      for (const page of pages.slice(1)) {
        await waitInPage(page, (ada) => {
          const tile = document.querySelector(`.tile[data-key="p:${ada}"] .badge.hand`);
          const roster = [...document.querySelectorAll('#roster li')].some((li) => li.title === ada && li.querySelector('.badge.hand'));
          return tile && roster;
        }, identities[0], 10000);
      }
      await pages[0].click('#reactions button');  // 👍 on her own tile and on theirs
      await waitInPage(pages[1], (ada) => document.querySelector(`.tile[data-key="p:${ada}"] .reaction`)?.textContent ?? null,
        identities[0], 5000);
      await pages[1].screenshot({ path: path.join(artifacts, 'chat-raised-hand.png') });
      // And lowers it.
      await pages[0].click('#hand');
      await waitInPage(pages[2], (ada) => !document.querySelector(`.tile[data-key="p:${ada}"] .badge.hand`), identities[0], 10000);
    } catch (error) {
      for (const [i, page] of pages.entries()) {
        await page.screenshot({ path: path.join(artifacts, `chat-failure-${i}.png`) }).catch(() => {});
      }
      throw new Error(`${error.message}\npage consoles:\n${logs.join('\n')}\nserver:\n${server.output()}`);
    }
  });
});
