// Running aiortc_peer.py (an independent WebRTC stack) against a test server, and reading
// what the media plane holds through the admin API.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { adminToken, repoRoot, request, waitFor } from '../../integration/lib/server.mjs';

const script = path.join(repoRoot, 'tests/interop/aiortc_peer.py');

// Runs aiortc_peer.py; resolves with its JSON result (and exit code), never rejects.
export function aiortc(server, jwt, ...flags) {
  return new Promise((resolve) => {
    execFile('/usr/bin/python3', [script, server.wsUrl, path.join(server.dataDir, 'dev-cert.pem'), jwt, ...flags],
      { timeout: 60000 }, (error, stdout, stderr) => {
        let result = null;
        try { result = JSON.parse(stdout.trim().split('\n').pop()); } catch { /* reported by the caller */ }
        resolve({ code: error?.code ?? 0, result, stdout, stderr });
      });
  });
}

export async function roomMedia(server, room) {
  const res = await request(server, 'GET', `/admin/v1/rooms/${room}`, { token: await adminToken() });
  return res.status === 200 ? res.body.room.media : { transports: [], consumers: [] };
}

export async function auditOf(server, room) {
  return (await request(server, 'GET', `/admin/v1/audit?room=${room}`, { token: await adminToken() })).body.events;
}

// The last frame `result`'s peer decoded from `sender`, over all of sender's tracks.
export function lastFrom(result, sender) {
  const entries = Object.values(result?.remote ?? {}).filter((e) => e.identity === sender);
  return { frames: entries.reduce((n, e) => n + e.frames, 0), last: Math.max(0, ...entries.map((e) => e.last_frame_unix_ms ?? 0)) };
}

// Two publishers connected both ways and frames flowing: four active consumers, four
// connected transports; then two more seconds of media.
export async function flowing(server, room) {
  await waitFor(async () => {
    const m = await roomMedia(server, room);
    return m.consumers.filter((c) => c.active).length === 4 && m.transports.filter((t) => t.connected).length === 4;
  }, 'media both ways', 30000, 100);
  await new Promise((r) => setTimeout(r, 2000));
}
