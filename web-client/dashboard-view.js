// The dashboard's pure parts (no DOM): reading server-sent events, formatting figures,
// sparkline geometry, the audience table and the last minutes of history. Unit-tested under
// Node (tests/web/dashboard-view.test.mjs).

// Splits `buffer` into complete events ({event, data}) and what is left for the next chunk.
export function parseSse(buffer) {
  const events = [];
  let rest = buffer;
  for (let end; (end = rest.indexOf('\n\n')) >= 0;) {
    const block = rest.slice(0, end);
    rest = rest.slice(end + 2);
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) continue;  // a comment or a retry hint
    try {
      events.push({ event, data: JSON.parse(data.join('\n')) });
    } catch {
      // not JSON: not ours
    }
  }
  return { events, rest };
}

export function formatBitrate(bps) {
  if (!Number.isFinite(bps) || bps <= 0) return '0 b/s';
  if (bps < 1000) return `${Math.round(bps)} b/s`;
  if (bps < 1e6) return `${Math.round(bps / 1000)} kb/s`;
  return `${(bps / 1e6).toFixed(1)} Mb/s`;
}

export function formatLoss(fraction) {
  if (!Number.isFinite(fraction)) return '–';
  return `${(fraction * 100).toFixed(fraction < 0.1 ? 1 : 0)} %`;
}

export function formatMs(ms) {
  return ms === null || ms === undefined || !Number.isFinite(ms) ? '–' : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

// The points of a polyline drawing `values` in a width × height box, scaled to their maximum.
export function sparkline(values, width, height, slots = values.length) {
  if (values.length === 0) return '';
  const max = Math.max(...values, 1);
  const step = slots > 1 ? width / (slots - 1) : 0;
  const offset = (slots - values.length) * step;
  return values.map((v, i) => {
    const x = offset + i * step;
    const y = height - 1 - (Math.max(0, v) / max) * (height - 2);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  }).join(' ');
}

// A bounded series per key: the last `limit` values (a second each: five minutes by default).
export class History {
  constructor(limit = 300) {
    this.limit = limit;
    this.series = new Map();
  }

  push(key, value) {
    const list = this.series.get(key) ?? [];
    list.push(value);
    if (list.length > this.limit) list.splice(0, list.length - this.limit);
    this.series.set(key, list);
    return list;
  }

  get(key) {
    return this.series.get(key) ?? [];
  }

  // Forgets keys not in `keep` (participants who left).
  retain(keep) {
    for (const key of this.series.keys()) if (!keep.has(key)) this.series.delete(key);
  }
}

// Who receives whom, from a room as GET /admin/v1/rooms/{room} gives it: one row per track a
// participant receives, with the publisher's track kind.
export function audienceRows(room) {
  const kinds = new Map();
  for (const p of room?.participants ?? []) {
    for (const t of p.stats?.published ?? []) kinds.set(t.track, t.kind);
  }
  const rows = [];
  for (const p of room?.participants ?? []) {
    for (const t of p.stats?.receiving ?? []) {
      rows.push({
        receiver: p.identity, from: t.from, track: t.track, kind: kinds.get(t.track) ?? '?',
        active: t.active, bitrate: t.bitrate_bps, loss: t.loss, rtt: t.rtt_ms,
      });
    }
  }
  return rows.sort((a, b) => a.receiver.localeCompare(b.receiver) || a.from.localeCompare(b.from) ||
    a.kind.localeCompare(b.kind));
}

const EJECTIONS = new Set(['ejected', 'dropped_consumer', 'kicked', 'room_closed']);

// One audit event as a line for people.
export function describeAudit(event) {
  const who = event.participant ? ` ${event.participant}` : '';
  const reason = event.evidence?.reason ? ` — ${event.evidence.reason}` : '';
  const detail = event.evidence?.detail ? ` (${event.evidence.detail})` : '';
  return {
    time: new Date(event.time_ms).toLocaleTimeString(),
    text: `${event.action}${who} in ${event.room}${reason}${detail}`,
    cls: event.class,
    severe: EJECTIONS.has(event.action),
  };
}
