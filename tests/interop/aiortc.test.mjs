// Interop: aiortc (Debian's python3-aiortc) as an independent WebRTC stack against rollcall.
// Runs inside a loopback-only namespace (tests/e2e/run-in-netns.sh).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot, startServer, token } from '../integration/lib/server.mjs';

const run = promisify(execFile);
const script = path.join(repoRoot, 'tests/interop/aiortc_echo.py');

describe('aiortc', () => {
  let server;
  before(async () => { server = await startServer(); });
  after(async () => { await server.stop(); });

  async function aiortc(identity, ...flags) {
    const jwt = await token({ identity, room: 'interop' });
    try {
      const { stdout } = await run('/usr/bin/python3', [script, server.wsUrl, path.join(server.dataDir, 'dev-cert.pem'), jwt, ...flags],
        { timeout: 60000 });
      return JSON.parse(stdout.trim().split('\n').pop());
    } catch (error) {
      throw new Error(`aiortc_echo.py ${flags.join(' ')} failed: ${error.stdout}\n${error.stderr}\nserver:\n${server.output()}`);
    }
  }

  test('gets its own audio and video back, decoded', async () => {
    const result = await aiortc('ai-echo');
    assert.ok(result.video_frames >= 10, JSON.stringify(result));
    assert.ok(result.audio_frames >= 20);
    assert.equal(result.media.state, 'connected');
    assert.equal(result.media.dtls.version, 'DTLSv1.2');
    assert.deepEqual(result.answer_addresses, ['127.0.0.1']);
    console.log(`aiortc echo: ${result.media.dtls.version} ${result.media.dtls.cipher} ${result.media.srtp}; ` +
      `first frame ${result.first_frame_ms} ms after join`);
  });

  test('a fingerprint that is not its certificate fails DTLS closed', async () => {
    const result = await aiortc('ai-forged', '--bad-fingerprint');
    assert.equal(result.media.state, 'failed');
    assert.match(result.media.reason, /DTLS/);
    assert.equal(result.video_frames, 0);
  });

  test('an SDES (a=crypto) offer is refused', async () => {
    const result = await aiortc('ai-sdes', '--sdes');
    assert.equal(result.error.code, 'sdes_not_supported');
  });
});
