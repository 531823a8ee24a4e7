// The audit log on a full disk. The server's data directory is a 256 KB tmpfs mounted in this
// test's own mount namespace (ctest runs it under `unshare --mount`; it skips itself
// anywhere else). Filling it must cost events on disk only: counted in
// rollcall_audit_write_errors_total, logged, still listed by the admin API, no torn line left
// to swallow the next event, and the room undisturbed; once there is space again, events are
// written whole.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { adminToken, joinAs, request, startServer, waitFor } from './lib/server.mjs';

const ROOM = 'disk-room';

function metric(text, name) {
  const m = text.match(new RegExp(`^${name} (\\d+)`, 'm'));
  return m ? Number(m[1]) : NaN;
}

// The command that starts the suite names the namespace it started in (tests/CMakeLists.txt).
function ownMountNamespace() {
  const outer = process.env.ROLLCALL_OUTER_MOUNT_NS;
  return Boolean(outer) && readlinkSync('/proc/self/ns/mnt') !== outer;
}

describe('the audit log on a full disk', { skip: !ownMountNamespace() && 'needs its own mount namespace' }, () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'rollcall-disk-'));
  let server;
  let admin;
  let resident;
  let kicked = 0;

  async function kick(identity) {
    const client = await joinAs(server, identity, ROOM);
    const res = await request(server, 'DELETE', `/admin/v1/rooms/${ROOM}/participants/${identity}`, {
      token: admin, body: { reason: 'x'.repeat(200) },
    });
    assert.equal(res.status, 200, res.text);
    await client.closed;
    kicked += 1;
  }

  async function metrics() {
    const res = await request(server, 'GET', '/metrics', { token: admin });
    assert.equal(res.status, 200, res.text);
    return res.text;
  }

  before(async () => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', dataDir]);
    server = await startServer({ dataDir, keepData: true });
    admin = await adminToken();
    resident = await joinAs(server, 'resident', ROOM);
  });
  after(async () => {
    resident?.close();
    await server?.stop();
    execFileSync('umount', [dataDir]);
    rmdirSync(dataDir);
  });

  test('events that cannot be written are counted and listed, and none is torn', async () => {
    for (let i = 0; i < 3; i += 1) await kick(`before-${i}`);
    assert.equal(metric(await metrics(), 'rollcall_audit_write_errors_total'), 0);

    // Fill the disk to the last byte.
    const filler = path.join(dataDir, 'filler');
    const { bavail, bsize } = statfsSync(dataDir);
    try { writeFileSync(filler, Buffer.alloc(bavail * bsize)); } catch { /* ENOSPC: full */ }
    assert.equal(statfsSync(dataDir).bavail, 0, 'the disk is full');

    for (let i = 0; i < 20; i += 1) await kick(`full-${i}`);
    const errors = await waitFor(async () => {
      const n = metric(await metrics(), 'rollcall_audit_write_errors_total');
      return n > 0 ? n : null;
    }, 'a counted write error');
    assert.ok(errors >= 10, `${errors} write errors for 20 events on a full disk`);
    assert.match(server.output(), /audit log write failed \(No space left on device\)/);
    const listed = (await request(server, 'GET', `/admin/v1/audit?room=${ROOM}`, { token: admin })).body.events;
    assert.equal(listed.filter((e) => e.class === 'kicked').length, kicked, 'every kick still listed');
    await resident.ping();  // the room carries on
    const late = await joinAs(server, 'late', ROOM);
    late.close();

    // Space again: the next events are written whole.
    rmSync(filler);
    for (let i = 0; i < 3; i += 1) await kick(`after-${i}`);
    await waitFor(async () => readFileSync(path.join(dataDir, 'audit.log'), 'utf8').includes('"after-2"'),
      'the events after the disk was freed on disk');
    const finalErrors = metric(await metrics(), 'rollcall_audit_write_errors_total');
    const lines = readFileSync(path.join(dataDir, 'audit.log'), 'utf8').split('\n').filter((l) => l !== '');
    const events = lines.map((line, i) => {
      try { return JSON.parse(line); } catch { assert.fail(`line ${i} is torn: ${line.slice(0, 80)}`); }
    });
    const onDisk = events.filter((e) => e.class === 'kicked' && e.room === ROOM).map((e) => e.participant);
    assert.deepEqual(onDisk.slice(0, 3), ['before-0', 'before-1', 'before-2']);
    assert.deepEqual(onDisk.slice(-3), ['after-0', 'after-1', 'after-2']);
    assert.equal(onDisk.length, kicked - finalErrors, 'every event either on disk or counted');
    assert.match(server.output(), /audit log writes succeed again/);
  });
});
