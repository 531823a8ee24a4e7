// Manual look at the join page and a room (not a test): node e2e/screenshot-join.mjs URL OUT_DIR
import { chromium } from 'playwright-core';
const [url, out] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/lib/chromium/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--ignore-certificate-errors', '--disable-background-networking',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
});
const page = await browser.newPage({ viewport: { width: 1100, height: 700 }, ignoreHTTPSErrors: true });
await page.goto(url);
await page.screenshot({ path: `${out}/join.png` });
await page.fill('#room', 'standup');
await page.fill('#name', 'Ada Lovelace');
await page.click('#join');
await page.waitForSelector('#room-view:not([hidden])');
const other = await browser.newPage({ ignoreHTTPSErrors: true });
await other.goto(`${url}?room=standup&name=Grace`);
await other.click('#join');
await page.waitForFunction(() => document.querySelectorAll('#roster li').length === 2);
await page.screenshot({ path: `${out}/room.png` });
await browser.close();
