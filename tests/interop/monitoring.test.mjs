// Operators' view while media flows: two aiortc participants (an independent WebRTC stack)
// publish to each other through rollcall, and
//  - /metrics, taken mid-call, passes `promtool check metrics`;
//  - a real Prometheus (Debian's) scrapes rollcall with a bearer credential, and its query API
//    shows participants, forwarded packets and bytes counted and rising;
//  - GET /admin/v1/rooms/{room} gives each participant's live bitrates, loss and RTT.
// Runs inside a loopback-only namespace (tests/e2e/run-in-netns.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { adminToken, repoRoot, request, startServer, token, waitFor } from '../integration/lib/server.mjs';
import { aiortc, flowing } from './lib/aiortc.mjs';

const ROOM = 'monitoring';
const METRICS_TOKEN = 'scrape-credential-for-the-test-0123456789';
const dashboard = JSON.parse(readFileSync(path.join(repoRoot, 'monitoring/grafana/rollcall.json'), 'utf8'));
const dashboardExprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))
  .map((e) => e.replaceAll('$instance', '.*'));
const alertRules = readFileSync(path.join(repoRoot, 'monitoring/prometheus/alerts.yml'), 'utf8');
// The metric names an expression reads (histogram series by their family's name).
const metricNames = (text) => [...new Set([...text.matchAll(/\b((?:rollcall|process)_[a-z_]+)/g)]
  .map((m) => m[1].replace(/_bucket$/, '')))];

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Prometheus's instant query API: the first sample's value, or null (also while it starts).
async function query(promUrl, expr) {
  let body;
  try {
    body = await (await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`)).json();
  } catch {
    return null;
  }
  if (body.status !== 'success' || body.data.result.length === 0) return null;
  return Number(body.data.result[0].value[1]);
}

describe('monitoring a live room', () => {
  let server;
  let prometheus;
  let promDir;
  let peers;
  before(async () => {
    server = await startServer({ config: `[auth]\nmetrics_token = "${METRICS_TOKEN}"\n` });
    const jwt = async (identity) => token({ identity, room: ROOM, name: identity });
    peers = [
      aiortc(server, await jwt('ann'), '--publish', '--expect-remote', '1', '--hold', '40', '--seconds', '55'),
      aiortc(server, await jwt('ben'), '--publish', '--expect-remote', '1', '--hold', '40', '--seconds', '55'),
    ];
    await flowing(server, ROOM);
  });
  after(async () => {
    prometheus?.kill('SIGTERM');
    await Promise.allSettled(peers ?? []);
    await server?.stop();
    if (promDir) rmSync(promDir, { recursive: true, force: true });
  });

  test('/metrics taken mid-call passes promtool check metrics', async () => {
    const res = await request(server, 'GET', '/metrics', { token: METRICS_TOKEN });
    assert.equal(res.status, 200);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: res.text, encoding: 'utf8' });
    assert.equal(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}`);
    assert.equal(`${lint.stdout}${lint.stderr}`.trim(), '', 'promtool reports nothing');
    for (const family of ['rollcall_rtp_packets_received_total', 'rollcall_media_rtt_seconds_bucket',
      'rollcall_worker_loop_lag_seconds_bucket', 'rollcall_dtls_handshakes_total', 'process_open_fds']) {
      assert.match(res.text, new RegExp(`^${family}[{ ]`, 'm'), family);
    }
    // Everything the Grafana dashboard and the alert rules read is exported.
    for (const name of metricNames(`${dashboardExprs.join('\n')}\n${alertRules}`)) {
      assert.match(res.text, new RegExp(`^# TYPE ${name} `, 'm'), `${name} (monitoring/) is not in /metrics`);
    }
    const handshakes = Number(res.text.match(/^rollcall_dtls_handshakes_total (\d+)/m)[1]);
    assert.ok(handshakes >= 4, `four transports keyed: ${handshakes}`);
    console.log(`/metrics: ${res.text.length} bytes, ${res.text.split('\n').length} lines`);
  });

  test('the admin API shows each participant\'s live bitrates, loss and RTT', async () => {
    const admin = await adminToken();
    const room = await waitFor(async () => {
      const res = await request(server, 'GET', `/admin/v1/rooms/${ROOM}`, { token: admin });
      const r = res.body.room;
      const ok = r.participants.length === 2 && r.participants.every((p) =>
        p.stats.bitrate_in_bps > 0 && p.stats.bitrate_out_bps > 0 && p.stats.subscriber.rtt_ms !== null);
      return ok ? r : null;
    }, 'every participant sending, receiving and reporting', 15000, 250);
    assert.ok(room.bitrate_in_bps > 0 && room.bitrate_out_bps > 0);
    for (const p of room.participants) {
      assert.equal(p.stats.publisher.state, 'connected');
      assert.equal(p.stats.subscriber.state, 'connected');
      assert.deepEqual(p.stats.published.map((t) => t.kind).sort(), ['audio', 'video']);
      const other = p.identity === 'ann' ? 'ben' : 'ann';
      assert.ok(p.stats.receiving.every((t) => t.from === other && t.active), JSON.stringify(p.stats.receiving));
      assert.ok(p.stats.subscriber.rtt_ms >= 0 && p.stats.subscriber.rtt_ms < 1000, `rtt ${p.stats.subscriber.rtt_ms}`);
      assert.ok(p.stats.receiving.every((t) => t.loss >= 0 && t.loss <= 1));
    }
    const list = await request(server, 'GET', '/admin/v1/rooms', { token: admin });
    assert.ok(list.body.rooms.find((r) => r.name === ROOM).bitrate_out_bps > 0);
  });

  test('a real Prometheus scrapes rollcall and sees participants and media rising', async () => {
    promDir = mkdtempSync(path.join(tmpdir(), 'rollcall-prom-'));
    const target = new URL(server.url);
    writeFileSync(path.join(promDir, 'token'), METRICS_TOKEN);
    writeFileSync(path.join(promDir, 'ca.pem'), server.ca);
    writeFileSync(path.join(promDir, 'prometheus.yml'), [
      'global: {scrape_interval: 1s, evaluation_interval: 1s}',
      'scrape_configs:',
      '  - job_name: rollcall',
      `    scheme: ${target.protocol.replace(':', '')}`,
      `    authorization: {type: Bearer, credentials_file: ${path.join(promDir, 'token')}}`,
      `    tls_config: {ca_file: ${path.join(promDir, 'ca.pem')}}`,
      `    static_configs: [{targets: ['${target.host}']}]`,
      '',
    ].join('\n'));
    const promPort = await freePort();
    let log = '';
    prometheus = spawn('prometheus', [`--config.file=${path.join(promDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    prometheus.stdout.on('data', (c) => { log += c; });
    prometheus.stderr.on('data', (c) => { log += c; });
    const promUrl = `http://127.0.0.1:${promPort}`;
    try {
      await waitFor(async () => (await query(promUrl, 'up{job="rollcall"}')) === 1, 'a successful scrape', 20000, 250);
      assert.equal(await query(promUrl, 'rollcall_participants'), 2);
      const packets = 'sum(rollcall_rtp_packets_sent_total)';
      const bytes = 'sum(rollcall_rtp_sent_bytes_total)';
      const first = { packets: await query(promUrl, packets), bytes: await query(promUrl, bytes) };
      assert.ok(first.packets > 0 && first.bytes > 0, JSON.stringify(first));
      await waitFor(async () => (await query(promUrl, packets)) > first.packets &&
        (await query(promUrl, bytes)) > first.bytes, 'forwarded packets and bytes rising', 10000, 250);
      const received = await query(promUrl, 'sum(rate(rollcall_rtp_received_bytes_total[5s]))');
      assert.ok(received > 0, `received bytes per second: ${received}`);
      // Every panel of the Grafana dashboard is a query Prometheus accepts.
      for (const expr of dashboardExprs) {
        const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = await res.json();
        assert.equal(body.status, 'success', `${expr}: ${JSON.stringify(body)}`);
      }
      console.log(`Prometheus: ${first.packets} packets, ${first.bytes} bytes forwarded at the first query; ` +
        `receiving ${Math.round(received * 8)} bit/s`);
    } catch (error) {
      throw new Error(`${error.message}\nprometheus:\n${log.slice(-3000)}`);
    }
  });
});
