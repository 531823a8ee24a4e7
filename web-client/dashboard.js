// The operator's dashboard: rooms, one room's participants with live figures and charts,
// who receives whom, the roll-call and audit feed, and kick / mute / delete. Reads
// GET /admin/v1/stream (server-sent events over fetch, so the token travels in a header);
// acts through the admin API. The admin token lives in this module's memory only. Every
// value from the server is put in the page as text, never as markup.
import {
  audienceRows, describeAudit, formatBitrate, formatLoss, formatMs, History, parseSse, sparkline,
} from './dashboard-view.js';

const $ = (id) => document.getElementById(id);
const state = { token: null, dev: false, rooms: [], room: null, roomName: null, audit: [], results: [] };
const history = new History(300);
let streamAbort = null;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function setConnection(stateName, text) {
  $('connection').dataset.state = stateName;
  $('connection').textContent = text;
}

function showResult(text, ok = true) {
  const box = $('result');
  box.textContent = text;
  box.className = ok ? 'result' : 'result bad';
  box.hidden = false;
  state.results.push({ text, ok });
  clearTimeout(showResult.timer);
  showResult.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

async function devToken() {
  const res = await fetch('/dev/admin-token', { method: 'POST' });
  if (!res.ok) return null;
  return (await res.json()).token;
}

async function api(method, path, body) {
  const res = await fetch(`/admin/v1${path}`, {
    method,
    headers: { Authorization: `Bearer ${state.token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const payload = await res.json().catch(() => ({}));
  return { ok: res.ok, status: res.status, body: payload };
}

// --- the stream -------------------------------------------------------------------------

async function openStream() {
  streamAbort?.abort();
  const abort = new AbortController();
  streamAbort = abort;
  const query = state.roomName ? `?room=${encodeURIComponent(state.roomName)}` : '';
  setConnection('connecting', 'connecting…');
  let res;
  try {
    res = await fetch(`/admin/v1/stream${query}`, {
      headers: { Authorization: `Bearer ${state.token}` }, signal: abort.signal,
    });
  } catch {
    if (!abort.signal.aborted) retryStream(abort);
    return;
  }
  if (res.status === 401 || res.status === 403) {
    const body = await res.json().catch(() => ({}));
    setConnection('closed', 'not allowed');
    if (state.dev && res.status === 401) return renewAndReopen();
    return askForToken(body.message ?? 'That token may not read the dashboard.');
  }
  if (!res.ok) return retryStream(abort);
  setConnection('connected', 'live');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const parsed = parseSse(buffer + value);
      buffer = parsed.rest;
      for (const event of parsed.events) onEvent(event);
    }
  } catch {
    // aborted, or the connection dropped
  }
  if (!abort.signal.aborted) retryStream(abort);
}

function retryStream(abort) {
  setConnection('closed', 'reconnecting…');
  setTimeout(() => { if (streamAbort === abort) openStream(); }, 2000);
}

async function renewAndReopen() {
  state.token = await devToken();
  if (state.token) openStream();
}

function onEvent({ event, data }) {
  if (event === 'rooms') {
    state.rooms = data.rooms;
    renderRooms();
  } else if (event === 'room' && data.name === state.roomName) {
    state.room = data.room;
    recordHistory(data.room);
    renderRoom();
  } else if (event === 'audit') {
    state.audit.push(...data.events);
    if (state.audit.length > 500) state.audit.splice(0, state.audit.length - 500);
    renderAudit();
  } else if (event === 'end') {
    setConnection('closed', 'token expired');
    streamAbort?.abort();
    if (state.dev) renewAndReopen();
    else askForToken('The admin token expired. Paste a new one.');
  }
}

function recordHistory(room) {
  const present = new Set();
  for (const p of room?.participants ?? []) {
    present.add(`${p.identity}/in`);
    present.add(`${p.identity}/out`);
    history.push(`${p.identity}/in`, p.stats.bitrate_in_bps);
    history.push(`${p.identity}/out`, p.stats.bitrate_out_bps);
  }
  history.retain(present);
}

// --- rendering ----------------------------------------------------------------------------

const roomRows = new Map();  // room name → its row (cells updated in place)

function renderRooms() {
  $('rooms-card').hidden = false;
  const names = new Set(state.rooms.map((r) => r.name));
  for (const name of roomRows.keys()) if (!names.has(name)) roomRows.delete(name);
  const rows = state.rooms.map((r) => {
    let row = roomRows.get(r.name);
    if (!row) {
      row = el('tr', { 'data-room': r.name, onclick: () => selectRoom(r.name) },
        el('td', { text: r.name }), el('td'), el('td'), el('td'));
      roomRows.set(r.name, row);
    }
    row.className = r.name === state.roomName ? 'selected' : '';
    row.cells[1].textContent = String(r.num_participants);
    row.cells[2].textContent = formatBitrate(r.bitrate_in_bps);
    row.cells[3].textContent = formatBitrate(r.bitrate_out_bps);
    return row;
  });
  const body = $('rooms').tBodies[0];
  if (rows.length !== body.rows.length || rows.some((row, i) => body.rows[i] !== row)) body.replaceChildren(...rows);
  $('no-rooms').hidden = state.rooms.length > 0;
}

function spark(cls) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', `spark ${cls}`);
  svg.setAttribute('viewBox', '0 0 180 36');
  svg.setAttribute('preserveAspectRatio', 'none');
  const line = document.createElementNS(ns, 'polyline');
  svg.append(line);
  return { svg, draw: (values) => line.setAttribute('points', sparkline(values, 180, 36, 300)) };
}

// What decides a card's layout: when it changes the card is built again; otherwise only its
// figures change in place (buttons stay put under the operator's pointer).
function layoutKey(p) {
  return JSON.stringify([p.identity, p.name, p.connected, p.stats.published.map((t) => [t.track, t.kind, t.paused]),
    p.tracks.map((t) => [t.id, t.muted])]);
}

function trackState(p, t) {
  if (t.paused) return 'muted by admin';
  return p.tracks.find((x) => x.id === t.track)?.muted ? 'muted' : 'live';
}

// A participant's card: built once per layout, then update(p) each second.
function personCard(p) {
  const text = () => el('span');
  const fields = { send: text(), receive: text(), rtt: text(), in: text(), out: text() };
  const sparks = { in: spark('in'), out: spark('out') };
  const rows = new Map();
  const table = p.stats.published.length === 0 ? el('p', { class: 'muted', text: 'publishes nothing' })
    : el('table', { class: 'grid' },
      el('thead', {}, el('tr', {}, ...['track', 'bitrate', 'loss', 'jitter', 'receivers', 'keyframes', 'state', '']
        .map((h) => el('th', { text: h })))),
      el('tbody', {}, ...p.stats.published.map((t) => {
        const cells = Array.from({ length: 7 }, () => el('td'));
        cells[0].textContent = t.kind;
        cells[6].className = t.paused ? 'muted-by-admin' : '';
        rows.set(t.track, cells);
        return el('tr', {}, ...cells, el('td', {}, el('button', {
          class: 'small', text: t.paused ? 'Unmute' : 'Mute', 'data-track': t.track,
          onclick: () => setMute(p.identity, t, !t.paused),
        })));
      })));
  fields.send.className = 'state';
  fields.receive.className = 'state';
  fields.rtt.className = 'muted';
  const node = el('article', { class: 'person', 'data-identity': p.identity },
    el('header', {},
      el('span', { class: 'who', text: p.name ? `${p.name} (${p.identity})` : p.identity }),
      fields.send, fields.receive, fields.rtt,
      p.connected ? null : el('span', { class: 'state', text: 'reconnecting' }),
      el('button', { class: 'danger small kick', text: 'Kick', onclick: () => kick(p.identity) })),
    el('div', { class: 'charts' }, el('div', {}, fields.in, sparks.in.svg), el('div', {}, fields.out, sparks.out.svg)),
    table);
  const update = (now) => {
    fields.send.dataset.state = now.stats.publisher.state;
    fields.send.textContent = `send ${now.stats.publisher.state}`;
    fields.receive.dataset.state = now.stats.subscriber.state;
    fields.receive.textContent = `receive ${now.stats.subscriber.state}`;
    fields.rtt.textContent = `RTT ${formatMs(now.stats.subscriber.rtt_ms)}`;
    fields.in.textContent = `in ${formatBitrate(now.stats.bitrate_in_bps)}`;
    fields.out.textContent = `out ${formatBitrate(now.stats.bitrate_out_bps)}`;
    sparks.in.draw(history.get(`${now.identity}/in`));
    sparks.out.draw(history.get(`${now.identity}/out`));
    for (const t of now.stats.published) {
      const cells = rows.get(t.track);
      if (!cells) continue;
      cells[1].textContent = formatBitrate(t.bitrate_bps);
      cells[2].textContent = formatLoss(t.loss);
      cells[3].textContent = formatMs(t.jitter_ms);
      cells[4].textContent = String(t.receivers);
      cells[5].textContent = String(t.keyframe_requests);
      cells[6].textContent = trackState(now, t);
    }
  };
  update(p);
  return { key: layoutKey(p), node, update };
}

const cards = new Map();  // identity → the card on the page

function renderParticipants(room) {
  const list = room?.participants ?? [];
  const present = new Set(list.map((p) => p.identity));
  for (const identity of cards.keys()) if (!present.has(identity)) cards.delete(identity);
  const nodes = list.map((p) => {
    let card = cards.get(p.identity);
    if (!card || card.key !== layoutKey(p)) {
      card = personCard(p);
      cards.set(p.identity, card);
    } else {
      card.update(p);
    }
    return card.node;
  });
  const container = $('participants');
  const same = nodes.length === container.children.length && nodes.every((n, i) => container.children[i] === n);
  if (!same) container.replaceChildren(...nodes);
}

function renderRoom() {
  const card = $('room-card');
  card.hidden = !state.roomName;
  if (!state.roomName) return;
  $('room-name').textContent = state.roomName;
  const room = state.room;
  $('room-gone').hidden = room !== null;
  $('delete-room').hidden = room === null;
  $('room-rates').textContent = room
    ? `in ${formatBitrate(room.bitrate_in_bps)} · out ${formatBitrate(room.bitrate_out_bps)}` : '';
  renderParticipants(room);
  $('audience').tBodies[0].replaceChildren(...audienceRows(room).map((r) => el('tr', {},
    el('td', { text: r.receiver }), el('td', { text: r.from }), el('td', { text: r.kind }),
    el('td', { text: formatBitrate(r.bitrate) }), el('td', { text: formatLoss(r.loss) }),
    el('td', { text: formatMs(r.rtt) }))));
}

function renderAudit() {
  $('audit-card').hidden = false;
  const items = state.audit.slice(-200).reverse().map((event) => {
    const line = describeAudit(event);
    return el('li', { class: line.severe ? 'eject' : '', 'data-class': event.class },
      el('span', { class: 'muted', text: `${line.time} ` }), el('span', { class: 'class', text: line.cls }),
      ` ${line.text}`);
  });
  $('audit').replaceChildren(...items);
}

// --- actions ------------------------------------------------------------------------------

function selectRoom(name) {
  state.roomName = name;
  state.room = undefined;
  state.audit = [];
  cards.clear();
  const url = new URL(location.href);
  url.searchParams.set('room', name);
  history.retain(new Set());
  window.history.replaceState(null, '', url);
  renderRooms();
  openStream();
}

async function kick(identity) {
  const reason = window.prompt(`Remove ${identity} from ${state.roomName}? Give a reason:`, 'removed by an operator');
  if (reason === null) return;
  const res = await api('DELETE', `/rooms/${encodeURIComponent(state.roomName)}/participants/${encodeURIComponent(identity)}`,
    { reason: reason.slice(0, 200) });
  showResult(res.ok ? `${identity} was removed.` : `Kick failed: ${res.body.message ?? res.status}`, res.ok);
}

async function setMute(identity, track, muted) {
  const verb = muted ? 'mute' : 'unmute';
  if (!window.confirm(`${verb[0].toUpperCase()}${verb.slice(1)} ${identity}'s ${track.kind}?`)) return;
  const res = await api('POST', `/rooms/${encodeURIComponent(state.roomName)}/participants/` +
    `${encodeURIComponent(identity)}/tracks/${encodeURIComponent(track.track)}/${verb}`);
  showResult(res.ok ? `${identity}'s ${track.kind} is ${muted ? 'muted' : 'unmuted'}.`
    : `${verb} failed: ${res.body.message ?? res.status}`, res.ok);
}

async function deleteRoom() {
  if (!window.confirm(`Delete room ${state.roomName}? Everyone in it is disconnected.`)) return;
  const res = await api('DELETE', `/rooms/${encodeURIComponent(state.roomName)}`);
  showResult(res.ok ? `Room ${state.roomName} was deleted.` : `Delete failed: ${res.body.message ?? res.status}`, res.ok);
}

function askForToken(message) {
  streamAbort?.abort();
  $('login').hidden = false;
  $('login-error').hidden = !message;
  $('login-error').textContent = message ?? '';
}

async function start() {
  $('delete-room').addEventListener('click', deleteRoom);
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    state.token = $('token').value.trim();
    $('token').value = '';
    $('login').hidden = true;
    openStream();
  });
  state.roomName = new URL(location.href).searchParams.get('room');
  state.token = await devToken();
  state.dev = state.token !== null;
  if (!state.token) return askForToken(null);
  openStream();
}

// For tests: a read-only view of what the page shows.
window.dashboard = {
  get rooms() { return state.rooms; },
  get room() { return state.room; },
  get audit() { return state.audit; },
  get results() { return state.results; },
  get connected() { return $('connection').dataset.state === 'connected'; },
  selectRoom,
};

start();
