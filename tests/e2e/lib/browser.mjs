// Debian's Chromium, headless, driven by playwright-core, for tests that run inside a
// loopback-only network namespace (tests/e2e/run-in-netns.sh).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { repoRoot, startServer } from '../../integration/lib/server.mjs';

const require = createRequire(import.meta.url);

// Chromium obeys only the last --disable-features flag, so ours must carry Playwright's list
// too, and Playwright's own flag must be dropped.
function playwrightDisabledFeatures() {
  try {
    const bundle = readFileSync(path.join(path.dirname(require.resolve('playwright-core/package.json')), 'lib/coreBundle.js'), 'utf8');
    const start = bundle.indexOf('disabledFeatures = [');
    const list = bundle.slice(start, bundle.indexOf('];', start));
    return [...list.matchAll(/^\s*"([A-Za-z0-9_]+)",?\s*$/gm)].map((m) => m[1]);
  } catch {
    return [];
  }
}

export async function launchChromium() {
  const theirs = playwrightDisabledFeatures();
  const ours = ['WebRtcHideLocalIpsWithMdns', ...theirs];
  return chromium.launch({
    executablePath: '/usr/lib/chromium/chromium',
    headless: true,
    ignoreDefaultArgs: theirs.length ? [`--disable-features=${theirs.join(',')}`] : [],
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream', '--allow-loopback-in-peer-connection',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1', '--ignore-certificate-errors',
      `--disable-features=${ours.join(',')}`,
    ],
  });
}

// One Chromium per name, each joining `room` through the web client (auto-join); their
// consoles and page errors go to `logs`. Pushes to `browsers` and `pages` as it goes (so the
// caller can close what was opened even if a later launch fails) and resolves with the
// participants' identities once all have joined.
export async function joinInChromium(server, room, names, { browsers, pages, logs }) {
  for (const name of names) {
    const browser = await launchChromium();
    browsers.push(browser);
    const page = await browser.newPage({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
    page.on('console', (m) => logs.push(`[${name}] ${m.text()}`));
    page.on('pageerror', (e) => logs.push(`[${name}] page error: ${e.message}`));
    await page.goto(`${server.url}/?room=${room}&name=${name}&auto=1`);
    pages.push(page);
  }
  const identities = [];
  for (const page of pages) {
    identities.push(await waitInPage(page, () => window.rollcall.self?.identity ?? null, undefined, 15000));
  }
  return identities;
}

// Evaluates `fn` (which may be async) in the page every 100 ms until it returns a truthy
// value; resolves with it, or rejects after `timeoutMs`.
export async function waitInPage(page, fn, arg, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await page.evaluate(fn, arg);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// On the echo page: an ICE restart gets new server credentials, and the echoed video goes on
// decoding over the restarted connection.
export async function restartIceAndKeepDecoding(page) {
  const restart = await page.evaluate(() => window.rollcallEcho.restartIce());
  assert.ok(restart.after && restart.after !== restart.before, JSON.stringify(restart));
  const framesAtRestart = (await page.evaluate(() => window.rollcallEcho.stats())).video.framesDecoded;
  await waitInPage(page, async (n) => {
    const s = await window.rollcallEcho.stats();
    return s.video.framesDecoded > n + 15 && window.rollcallEcho.pc.iceConnectionState === 'connected';
  }, framesAtRestart, 15000);
}

// Debian's Firefox ESR, headless, driven by puppeteer-core over WebDriver BiDi. In a
// loopback-only namespace Firefox gathers no candidate unless it believes it has camera and
// microphone permission, and hides host addresses unless told not to (BROWSER-TESTING.md).
export const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.navigator.permission.disabled': true,
  'media.navigator.permission.fake': true,
  'permissions.default.camera': 1,
  'permissions.default.microphone': 1,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.autoplay.default': 0,
  'media.autoplay.blocking_policy': 0,
  // No phoning home: updates, telemetry, captive-portal and connectivity checks, safe browsing.
  'app.update.enabled': false,
  'app.update.auto': false,
  'network.captive-portal-service.enabled': false,
  'network.connectivity-service.enabled': false,
  'browser.safebrowsing.malware.enabled': false,
  'browser.safebrowsing.phishing.enabled': false,
  'datareporting.healthreport.uploadEnabled': false,
  'datareporting.policy.dataSubmissionEnabled': false,
  'toolkit.telemetry.enabled': false,
  'network.dns.disableIPv6': false,
};

export async function launchFirefox() {
  const { default: puppeteer } = await import('puppeteer-core');
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: '/usr/lib/firefox-esr/firefox-esr',
    headless: true,
    acceptInsecureCerts: true,
    protocol: 'webDriverBiDi',
    extraPrefsFirefox: FIREFOX_PREFS,
  });
}

export const artifacts = path.join(repoRoot, 'tests/e2e/artifacts');

// A suite's server and browsers: the server starts before its tests and stops after them,
// with every browser they opened. `pages` and `logs` fill as joinInChromium goes.
export function chromiumSuite() {
  const suite = { server: null, browsers: [], pages: [], logs: [], cleanups: [] };
  before(async () => {
    suite.server = await startServer();
    mkdirSync(artifacts, { recursive: true });
  });
  after(async () => {
    for (const cleanup of suite.cleanups) await Promise.resolve(cleanup()).catch(() => {});
    for (const browser of suite.browsers) await browser.close().catch(() => {});
    await suite.server?.stop();
  });
  return suite;
}

// Screenshots of every page and the consoles and server output, for a failed test.
export async function failure(suite, name, error) {
  for (const [i, page] of suite.pages.entries())
    await page.screenshot({ path: path.join(artifacts, `${name}-failure-${i}.png`) }).catch(() => {});
  return new Error(`${error.message}\npage consoles:\n${suite.logs.join('\n').slice(-6000)}\nserver:\n${suite.server.output().slice(-6000)}`);
}
