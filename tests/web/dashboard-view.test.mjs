// The dashboard's pure helpers under Node (no browser).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  audienceRows, describeAudit, formatBitrate, formatLoss, History, parseSse, sparkline,
} from '../../web-client/dashboard-view.js';

test('server-sent events are split across chunks and comments are skipped', () => {
  let { events, rest } = parseSse('retry: 2000\n\nevent: rooms\ndata: {"rooms":[]}\n\nevent: au');
  assert.deepEqual(events, [{ event: 'rooms', data: { rooms: [] } }]);
  ({ events, rest } = parseSse(`${rest}dit\ndata: {"events":[{"id":1}]}\n\n`));
  assert.deepEqual(events, [{ event: 'audit', data: { events: [{ id: 1 }] } }]);
  assert.equal(rest, '');
  assert.deepEqual(parseSse('event: x\ndata: not json\n\n').events, []);
});

test('figures read as people expect', () => {
  assert.equal(formatBitrate(0), '0 b/s');
  assert.equal(formatBitrate(850), '850 b/s');
  assert.equal(formatBitrate(812_345), '812 kb/s');
  assert.equal(formatBitrate(2_450_000), '2.5 Mb/s');
  assert.equal(formatLoss(0.004), '0.4 %');
  assert.equal(formatLoss(0.25), '25 %');
});

test('a sparkline fills its box from the right and scales to its maximum', () => {
  assert.equal(sparkline([0, 10], 100, 20, 2), '0.0,19.0 100.0,1.0');
  assert.equal(sparkline([5], 100, 20, 3), '100.0,1.0');
  assert.equal(sparkline([], 100, 20), '');
});

test('history keeps the last values of present keys only', () => {
  const h = new History(3);
  for (const v of [1, 2, 3, 4]) h.push('a/in', v);
  h.push('b/in', 9);
  assert.deepEqual(h.get('a/in'), [2, 3, 4]);
  h.retain(new Set(['a/in']));
  assert.deepEqual(h.get('b/in'), []);
});

test('who receives whom comes from each participant\'s received tracks', () => {
  const room = {
    participants: [
      { identity: 'ada', stats: { published: [{ track: 'TV', kind: 'video' }], receiving: [] } },
      { identity: 'bob', stats: { published: [], receiving: [{ track: 'TV', from: 'ada', active: true, bitrate_bps: 5, loss: 0, rtt_ms: 3 }] } },
    ],
  };
  assert.deepEqual(audienceRows(room), [
    { receiver: 'bob', from: 'ada', track: 'TV', kind: 'video', active: true, bitrate: 5, loss: 0, rtt: 3 },
  ]);
  assert.deepEqual(audienceRows(null), []);
});

test('audit lines name the action, who, where and why', () => {
  const line = describeAudit({ time_ms: 0, room: 'r', participant: 'bob', class: 'kicked', action: 'kicked', evidence: { reason: 'spam' } });
  assert.equal(line.text, 'kicked bob in r — spam');
  assert.ok(line.severe);
  assert.ok(!describeAudit({ time_ms: 0, room: 'r', class: 'resumed', action: 'resumed' }).severe);
});
