// rollcall's web client: join a room, see who is in it, and why anything went wrong.
import { SignalingClient } from './signaling.js';

const $ = (id) => document.getElementById(id);

const MESSAGES = {
  token_expired: 'Your access token has expired. Get a new one and join again.',
  token_not_yet_valid: 'Your access token is not valid yet. Check your clock.',
  token_invalid_signature: 'Your access token was not signed by this server\'s key.',
  token_unknown_issuer: 'Your access token comes from an issuer this server does not know.',
  token_malformed: 'That is not a valid access token.',
  token_too_large: 'That access token is too large.',
  token_unsupported_algorithm: 'Your access token uses a signature algorithm this server refuses.',
  token_missing_claim: 'Your access token lacks a required field (identity, expiry or grant).',
  token_hidden_not_supported: 'rollcall does not admit hidden participants.',
  permission_denied: 'Your access token does not allow joining rooms.',
  room_not_allowed: 'Your access token is not for this room.',
  room_not_found: 'There is no such room.',
  room_full: 'The room is full.',
  too_many_rooms: 'The server cannot open another room right now.',
  server_full: 'The server is full. Try again in a moment.',
  connection_failed: 'Could not reach the server.',
  rate_limited: 'Too many messages; slow down.',
};

const LEFT_REASONS = {
  left: 'left', disconnected: 'lost connection', kicked: 'was removed by an administrator',
  replaced: 'rejoined from elsewhere', room_closed: 'room closed',
};

const state = { client: null, self: null, participants: new Map(), ending: null };

function explain(code, fallback) {
  return MESSAGES[code] ?? fallback ?? code;
}

function show(view) {
  for (const id of ['join-view', 'room-view', 'ended-view']) $(id).hidden = id !== view;
  const inRoom = view === 'room-view';
  $('leave').hidden = !inRoom;
  $('room-title').hidden = !inRoom;
}

function setConnection(stateName, text) {
  const el = $('connection');
  el.dataset.state = stateName;
  el.textContent = text;
}

function logEvent(text) {
  const li = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString();
  li.append(time, ' ', text);
  $('events').prepend(li);
  while ($('events').children.length > 100) $('events').lastChild.remove();
}

function renderRoster() {
  const list = $('roster');
  list.replaceChildren();
  const everyone = [state.self, ...state.participants.values()].filter(Boolean);
  for (const p of everyone) {
    const li = document.createElement('li');
    const avatar = document.createElement('span');
    avatar.className = 'avatar';
    avatar.textContent = (p.name || p.identity).slice(0, 1).toUpperCase();
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = p.name || p.identity;
    li.append(avatar, name);
    if (p === state.self) {
      const you = document.createElement('span');
      you.className = 'tag';
      you.textContent = 'you';
      li.append(you);
    }
    li.title = p.identity;
    list.append(li);
  }
}

function showError(text) {
  const el = $('join-error');
  el.textContent = text;
  el.hidden = !text;
}

async function devToken(room, identity, name) {
  const res = await fetch('/dev/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ room, identity, name }),
  });
  if (res.status === 404) return null;  // not a dev server
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.message ?? `token request failed (${res.status})`);
  return body.token;
}

function identityFor(name) {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'guest';
  return `${slug}-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`;
}

function end(title, message) {
  state.ending ??= { title, message };
}

async function join(event) {
  event?.preventDefault();
  showError('');
  const room = $('room').value.trim();
  const name = $('name').value.trim();
  let token = $('token').value.trim() || new URLSearchParams(location.hash.slice(1)).get('token');
  $('join').disabled = true;
  setConnection('connecting', 'connecting…');
  try {
    if (!token) {
      token = await devToken(room, identityFor(name), name);
      if (!token) {
        $('token-field').hidden = false;
        throw new Error('Paste the access token you were given.');
      }
    }
    const client = new SignalingClient();
    state.client = client;
    state.ending = null;
    client.addEventListener('participant_joined', ({ detail }) => {
      state.participants.set(detail.participant.identity, detail.participant);
      logEvent(`${detail.participant.name} joined`);
      renderRoster();
    });
    client.addEventListener('participant_left', ({ detail }) => {
      const who = state.participants.get(detail.participant.identity);
      if (who?.id === detail.participant.id) state.participants.delete(detail.participant.identity);
      logEvent(`${who?.name ?? detail.participant.identity} ${LEFT_REASONS[detail.reason] ?? 'left'}`);
      renderRoster();
    });
    client.addEventListener('kicked', ({ detail }) => {
      const titles = { kicked: 'You were removed from the room', replaced: 'You joined from somewhere else',
        room_closed: 'The room was closed' };
      end(titles[detail.reason] ?? 'You were removed', detail.message);
    });
    client.addEventListener('error', ({ detail }) => {
      if (state.self) logEvent(`error: ${explain(detail.code, detail.message)}`);
      else end('Could not join', explain(detail.code, detail.message));
      if (detail.code === 'server_shutdown') end('The server shut down', 'Try again when it is back.');
    });
    client.addEventListener('close', () => {
      if (!state.self) return;
      state.self = null;
      setConnection('closed', 'disconnected');
      const ending = state.ending ?? { title: 'Connection lost', message: 'The server went away.' };
      $('ended-title').textContent = ending.title;
      $('ended-message').textContent = ending.message;
      show('ended-view');
    });
    const joined = await client.join(token);
    state.self = joined.participant;
    state.participants = new Map(joined.participants.map((p) => [p.identity, p]));
    $('room-title').textContent = joined.room;
    $('events').replaceChildren();
    logEvent(`you joined ${joined.room} as ${joined.participant.name}`);
    setConnection('connected', 'connected');
    renderRoster();
    show('room-view');
  } catch (error) {
    setConnection('idle', 'not connected');
    showError(explain(error.code, error.message));
  } finally {
    $('join').disabled = false;
  }
}

$('join-form').addEventListener('submit', join);
$('leave').addEventListener('click', () => {
  end('You left the room', '');
  state.client?.leave();
});
$('rejoin').addEventListener('click', () => show('join-view'));

const params = new URLSearchParams(location.search);
if (params.get('room')) $('room').value = params.get('room');
if (params.get('name')) $('name').value = params.get('name');
window.rollcall = state;  // for tests and the curious
