// A subscriber's downlink limited with tc, inside the test's own network namespace: the
// server's packets from one UDP port (the subscriber connection's server end) go through
// an htb class of the given rate with a 30-packet queue (about a second at 300 kbit/s);
// everything else on `lo` is unlimited.
import { execFileSync } from 'node:child_process';

function tc(...args) {
  execFileSync('tc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function limitPort(port, rate = '300kbit') {
  tc('qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '30');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:30', 'htb', 'rate', '10gbit');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', rate, 'ceil', rate);
  tc('qdisc', 'add', 'dev', 'lo', 'parent', '1:10', 'handle', '10:', 'pfifo', 'limit', '30');
  tc('filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32',
    'match', 'ip', 'protocol', '17', '0xff', 'match', 'ip', 'sport', String(port), '0xffff', 'flowid', '1:10');
}

export function unlimit() {
  tc('qdisc', 'del', 'dev', 'lo', 'root');
}

// The server's port of the web client's subscriber connection on `page` (its selected
// pair's remote end), or null before there is one.
export const serverPort = (page) => page.evaluate(async () => {
  const stats = await window.rollcall.sub.getStats();
  for (const s of stats.values()) {
    const pair = s.type === 'transport' && stats.get(s.selectedCandidatePairId);
    if (pair) return stats.get(pair.remoteCandidateId).port;
  }
  return null;
});
