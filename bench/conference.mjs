// A quick conference measurement (not a test; numbers only): run it inside a loopback-only
// namespace against the dev (RelWithDebInfo) build:
//
//   tests/e2e/run-in-netns.sh node bench/conference.mjs [joins=7] [seconds=10]
//
// 1. Join time: two Chromium participants publish; a third joins again and again through
//    the web client, and each time the page records token-in-hand → first decoded remote
//    video frame (the page polls getStats every 50 ms, so add up to 50 ms of slack).
// 2. Forwarding CPU: with all three in the room, the server's CPU time (utime+stime from
//    /proc) over `seconds`, divided by the RTP packets the three subscribers received in that
//    time. Everything the process does is charged to forwarding (ICE, DTLS, RTCP,
//    signaling), so this is an upper bound per forwarded packet.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, startServer } from '../tests/integration/lib/server.mjs';
import { launchChromium, waitInPage } from '../tests/e2e/lib/browser.mjs';

const joins = Number(process.argv[2] ?? 7);
const seconds = Number(process.argv[3] ?? 10);
const ROOM = 'bench-conference';
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime, stime in clock ticks (USER_HZ 100)
}

async function packetsReceived(page) {
  return page.evaluate(async () => {
    let total = 0;
    (await window.rollcall.sub?.getStats())?.forEach((s) => { if (s.type === 'inbound-rtp') total += s.packetsReceived ?? 0; });
    return total;
  });
}

async function joinPage(browser, server, name) {
  const page = await browser.newPage({ ignoreHTTPSErrors: true });
  await page.goto(`${server.url}/?room=${ROOM}&name=${name}&auto=1`);
  await waitInPage(page, () => window.rollcall.myTracks?.size === 2, undefined, 20000);
  return page;
}

const server = await startServer();
const browsers = [await launchChromium(), await launchChromium(), await launchChromium()];
try {
  const resident = [await joinPage(browsers[0], server, 'Ada'), await joinPage(browsers[1], server, 'Grace')];
  await new Promise((r) => setTimeout(r, 2000));
  const joinTimes = [];
  let third;
  for (let i = 0; i < joins; ++i) {
    third = await joinPage(browsers[2], server, `Linus${i}`);
    const ms = await waitInPage(third, () => {
      const t = window.rollcall.timings;
      return t.firstRemoteFrame ? Math.round(t.firstRemoteFrame - t.token) : null;
    }, undefined, 20000);
    joinTimes.push(ms);
    if (i + 1 < joins) {
      await third.click('#leave');
      await third.close();
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const pages = [...resident, third];
  await new Promise((r) => setTimeout(r, 3000));  // let bitrates settle
  const packets0 = (await Promise.all(pages.map(packetsReceived))).reduce((a, b) => a + b, 0);
  const cpu0 = cpuSeconds(server.proc.pid);
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const cpu1 = cpuSeconds(server.proc.pid);
  const packets1 = (await Promise.all(pages.map(packetsReceived))).reduce((a, b) => a + b, 0);
  const elapsed = (Date.now() - t0) / 1000;
  const forwarded = packets1 - packets0;
  const result = {
    joinTimesMs: joinTimes,
    joinMedianMs: median(joinTimes),
    joinMaxMs: Math.max(...joinTimes),
    forwardedPacketsPerSecond: Math.round(forwarded / elapsed),
    serverCpuPercent: Math.round(((cpu1 - cpu0) / elapsed) * 1000) / 10,
    cpuMicrosecondsPerForwardedPacket: Math.round(((cpu1 - cpu0) * 1e6 / forwarded) * 10) / 10,
  };
  console.log(JSON.stringify(result, null, 2));
  mkdirSync(path.join(repoRoot, 'bench/results'), { recursive: true });
  writeFileSync(path.join(repoRoot, 'bench/results/conference.json'), JSON.stringify({ date: new Date().toISOString(), ...result }, null, 2));
} finally {
  for (const b of browsers) await b.close().catch(() => {});
  await server.stop();
}
