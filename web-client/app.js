// rollcall's web client: join a room, see who is in it, and why anything went wrong.
import { SignalingClient } from './signaling.js';
import { explain, fetchToken, identityFor } from './common.js';

const $ = (id) => document.getElementById(id);


const LEFT_REASONS = {
  left: 'left', disconnected: 'lost connection', kicked: 'was removed by an administrator',
  replaced: 'rejoined from elsewhere', room_closed: 'room closed',
};

const state = { client: null, self: null, participants: new Map(), ending: null };


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
      token = await fetchToken(room, identityFor(name), name);
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
