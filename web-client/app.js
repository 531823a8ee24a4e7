// rollcall's web client: join a room, publish camera and microphone, see and hear everyone
// else through the server (docs/protocol.md), and always say why something went wrong.
//
// Two peer connections: `pub` sends (this page offers), `sub` receives (the server offers
// whenever tracks come or go, and this page answers).
import { SignalingClient } from './signaling.js';
import { explain, fetchToken, identityFor } from './common.js';

const $ = (id) => document.getElementById(id);
const RTC_CONFIG = { iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };

const LEFT_REASONS = {
  left: 'left', disconnected: 'lost connection', kicked: 'was removed by an administrator',
  replaced: 'rejoined from elsewhere', room_closed: 'room closed',
};

const state = {
  client: null, self: null, participants: new Map(), ending: null,
  pub: null, sub: null, local: null, myTracks: new Map(),  // my mid → track id
  unsent: new Map(),  // source → why the server did not accept it ("camera" → "no codec …")
  mids: new Map(),   // subscriber mid → {track, participant, kind, source, muted}
  tiles: new Map(),  // tile key → {el, video, stream}
  screen: null, media: {}, timings: {}, subQueue: Promise.resolve(),
};
window.rollcall = state;  // for tests and the curious

function show(view) {
  for (const id of ['join-view', 'room-view', 'ended-view']) $(id).hidden = id !== view;
  $('room-title').hidden = view !== 'room-view';
}

function setConnection(name, text) {
  $('connection').dataset.state = name;
  $('connection').textContent = text;
}

function notice(text) {
  $('notice').textContent = text;
  $('notice').hidden = !text;
}

function logEvent(text) {
  const li = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString();
  li.append(time, ' ', text);
  $('events').prepend(li);
  while ($('events').children.length > 100) $('events').lastChild.remove();
}

const nameOf = (p) => p?.name || p?.identity || 'someone';
const trackOf = (p, source) => p?.tracks?.find((t) => t.source === source);

// --- tiles ------------------------------------------------------------------------------

function tile(key, label, { local = false } = {}) {
  let t = state.tiles.get(key);
  if (t) return t;
  const el = document.createElement('figure');
  el.className = 'tile';
  el.dataset.key = key;
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = local;  // never play one's own microphone back
  const avatar = document.createElement('div');
  avatar.className = 'tile-avatar';
  const caption = document.createElement('figcaption');
  const name = document.createElement('span');
  name.className = 'tile-name';
  const badges = document.createElement('span');
  badges.className = 'badges';
  caption.append(name, badges);
  el.append(video, avatar, caption);
  $('tiles').append(el);
  const stream = new MediaStream();
  video.srcObject = stream;
  t = { el, video, stream, name, badges, avatar };
  state.tiles.set(key, t);
  setTileLabel(t, label);
  layout();
  return t;
}

function setTileLabel(t, label) {
  t.name.textContent = label;
  t.avatar.textContent = (label || '?').slice(0, 1).toUpperCase();
}

function removeTile(key) {
  const t = state.tiles.get(key);
  if (!t) return;
  t.el.remove();
  state.tiles.delete(key);
  layout();
}

function layout() {
  const n = Math.max(1, state.tiles.size);
  const columns = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
  $('tiles').style.setProperty('--columns', columns);
}

// Badges (muted microphone, camera off) and the avatar shown instead of absent video.
function renderTile(key, participant, { screen = false } = {}) {
  const t = state.tiles.get(key);
  if (!t) return;
  const mic = trackOf(participant, 'microphone');
  const cam = trackOf(participant, 'camera');
  t.badges.replaceChildren();
  if (!screen && (!mic || mic.muted)) t.badges.append(badge('mic-off', mic ? 'microphone muted' : 'no microphone'));
  const hasVideo = t.stream.getVideoTracks().length > 0 && (screen || (cam && !cam.muted));
  if (!screen && (!cam || cam.muted)) t.badges.append(badge('cam-off', cam ? 'camera off' : cameraAbsence(key)));
  t.el.classList.toggle('no-video', !hasVideo);
}

// Our own camera the server did not accept is not "no camera": say it was not sent.
function cameraAbsence(key) {
  return key === 'self' && state.unsent.has('camera') ? 'camera not sent' : 'no camera';
}

function badge(kind, text) {
  const b = document.createElement('span');
  b.className = `badge ${kind}`;
  b.title = text;
  b.textContent = text;
  return b;
}

function renderAll() {
  renderRoster();
  if (state.self) renderTile('self', selfView());
  for (const p of state.participants.values()) {
    tile(`p:${p.identity}`, nameOf(p));
    renderTile(`p:${p.identity}`, p);
  }
}

// Our own view of ourselves: the tracks we publish and their mute state.
function selfView() {
  return { ...state.self, tracks: [...state.myTracks.values()] };
}

function renderRoster() {
  const list = $('roster');
  list.replaceChildren();
  const everyone = [selfView(), ...state.participants.values()].filter((p) => p.identity);
  $('count').textContent = `(${everyone.length})`;
  for (const p of everyone) {
    const li = document.createElement('li');
    const avatar = document.createElement('span');
    avatar.className = 'avatar';
    avatar.textContent = nameOf(p).slice(0, 1).toUpperCase();
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = nameOf(p);
    li.append(avatar, name);
    const mic = trackOf(p, 'microphone');
    if (!mic || mic.muted) li.append(badge('mic-off', mic ? 'muted' : 'no mic'));
    if (trackOf(p, 'screen')) li.append(badge('screen-on', 'sharing screen'));
    if (p.identity === state.self?.identity) {
      const you = document.createElement('span');
      you.className = 'tag';
      you.textContent = 'you';
      li.append(you);
    }
    li.title = p.identity;
    list.append(li);
  }
}

// --- publishing -------------------------------------------------------------------------

async function startPublishing() {
  try {
    state.local = await navigator.mediaDevices.getUserMedia({
      audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 } },
    });
  } catch (error) {
    const why = error.name === 'NotAllowedError' ? 'you did not allow the camera and microphone'
      : error.name === 'NotFoundError' ? 'no camera or microphone was found' : `${error.name}`;
    notice(`You are in the room but not sending audio or video: ${why}. You can still see and hear everyone.`);
    logEvent(`camera/microphone unavailable (${error.name})`);
    for (const id of ['mic', 'cam', 'screen']) $(id).disabled = error.name !== 'NotFoundError' || id !== 'screen';
    return;
  }
  const me = tile('self', `${nameOf(state.self)} (you)`, { local: true });
  for (const track of state.local.getVideoTracks()) me.stream.addTrack(track);
  state.pub = new RTCPeerConnection(RTC_CONFIG);
  state.pub.onicecandidate = ({ candidate }) => {
    state.client.send({ type: 'trickle', target: 'publisher', candidate: candidate ? candidate.candidate : null });
  };
  state.pub.onconnectionstatechange = () => mediaState('publisher', state.pub.connectionState);
  for (const track of state.local.getTracks()) state.pub.addTransceiver(track, { direction: 'sendonly', streams: [state.local] });
  await negotiatePublisher();
}

// Sends the publisher's current offer; the answer lists our tracks by mid.
async function negotiatePublisher() {
  const pc = state.pub;
  await pc.setLocalDescription(await pc.createOffer());
  const sources = {};
  for (const t of pc.getTransceivers()) {
    if (t.mid === null || t.currentDirection === 'stopped' || !t.sender.track) continue;
    sources[t.mid] = t === state.screen?.transceiver ? 'screen' : t.sender.track.kind === 'audio' ? 'microphone' : 'camera';
  }
  const answer = await state.client.request({ type: 'publish', sdp: pc.localDescription.sdp, sources });
  await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  state.myTracks = new Map(answer.tracks.map((t) => [t.mid, t]));
  reportUnsent(answer.rejected ?? [], sources);
  renderAll();
}

const SOURCE_NAMES = { camera: 'camera', microphone: 'microphone', screen: 'screen share' };

// Sections the server answered but did not accept are never silent: the person is told which
// of their devices nobody receives, and why.
function reportUnsent(rejected, sources) {
  const before = state.unsent;
  state.unsent = new Map();
  for (const r of rejected) {
    const source = sources[r.mid] ?? (r.kind === 'audio' ? 'microphone' : 'camera');
    state.unsent.set(source, r.message);
    if (before.get(source) !== r.message) logEvent(`your ${SOURCE_NAMES[source]} could not be sent: ${r.message}`);
  }
  if (state.unsent.size > 0) {
    notice([...state.unsent].map(([source, why]) => `Your ${SOURCE_NAMES[source]} could not be sent: ${why}.`).join(' '));
  } else if (before.size > 0) {
    notice('');
  }
}

function myTrack(source) {
  return [...state.myTracks.values()].find((t) => t.source === source);
}

async function toggle(kind) {
  const source = kind === 'audio' ? 'microphone' : 'camera';
  const local = kind === 'audio' ? state.local?.getAudioTracks()[0] : state.local?.getVideoTracks()[0];
  const published = myTrack(source);
  if (!local || !published) return;
  local.enabled = !local.enabled;
  published.muted = !local.enabled;
  const button = $(kind === 'audio' ? 'mic' : 'cam');
  button.setAttribute('aria-pressed', String(!local.enabled));
  button.textContent = kind === 'audio' ? (local.enabled ? 'Mute mic' : 'Unmute mic') : (local.enabled ? 'Stop camera' : 'Start camera');
  renderAll();
  try {
    await state.client.request({ type: 'mute', track: published.id, muted: !local.enabled });
  } catch (error) {
    logEvent(`could not update mute state: ${explain(error.code, error.message)}`);
  }
}

async function toggleScreen() {
  if (state.screen) return stopScreen();
  if (!state.pub) return;
  const others = [...state.participants.values()].map(nameOf);
  $('share-audience').textContent = others.length
    ? `everyone in ${state.room} (${others.length}: ${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''})`
    : `everyone who is or will be in ${state.room}`;
  const dialog = $('share-dialog');
  dialog.returnValue = '';
  dialog.showModal();
  const choice = await new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }));
  if (choice !== 'share') return;
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (error) {
    logEvent(`screen sharing not started (${error.name})`);
    return;
  }
  const [track] = stream.getVideoTracks();
  const transceiver = state.pub.addTransceiver(track, { direction: 'sendonly' });
  state.screen = { track, transceiver };
  track.addEventListener('ended', () => stopScreen());
  const t = tile('self:screen', 'Your screen (visible to the room)', { local: true });
  t.stream.addTrack(track);
  renderTile('self:screen', selfView(), { screen: true });
  $('screen').setAttribute('aria-pressed', 'true');
  $('screen').textContent = 'Stop sharing';
  try {
    await negotiatePublisher();
    if (state.unsent.has('screen')) throw new Error(state.unsent.get('screen'));
    logEvent('you started sharing your screen');
  } catch (error) {
    logEvent(`screen sharing failed: ${explain(error.code, error.message)}`);
    await stopScreen();
  }
}

async function stopScreen() {
  const screen = state.screen;
  if (!screen) return;
  state.screen = null;
  screen.track.stop();
  screen.transceiver.stop();
  removeTile('self:screen');
  $('screen').setAttribute('aria-pressed', 'false');
  $('screen').textContent = 'Share screen';
  if (state.client && state.pub) {
    try {
      await negotiatePublisher();
      logEvent('you stopped sharing your screen');
    } catch (error) {
      logEvent(`could not stop sharing cleanly: ${explain(error.code, error.message)}`);
    }
  }
}

// --- subscribing ------------------------------------------------------------------------

function onSubscribeOffer(msg) {
  // Offers are applied one at a time, in order.
  state.subQueue = state.subQueue.then(() => applySubscribeOffer(msg)).catch((error) => {
    logEvent(`could not apply the server's offer: ${error.message}`);
  });
}

async function applySubscribeOffer(msg) {
  if (!state.sub) {
    state.sub = new RTCPeerConnection(RTC_CONFIG);
    state.sub.onicecandidate = ({ candidate }) => {
      state.client.send({ type: 'trickle', target: 'subscriber', candidate: candidate ? candidate.candidate : null });
    };
    state.sub.onconnectionstatechange = () => mediaState('subscriber', state.sub.connectionState);
    state.sub.ontrack = () => attachRemoteTracks();
  }
  state.mids = new Map(msg.tracks.map((t) => [t.mid, t]));
  await state.sub.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
  await state.sub.setLocalDescription(await state.sub.createAnswer());
  state.client.send({ type: 'subscribe_answer', sdp: state.sub.localDescription.sdp, version: msg.version });
  attachRemoteTracks();
}

// Puts every receiving transceiver's track into the tile of whoever publishes it.
function attachRemoteTracks() {
  if (!state.sub) return;
  const wanted = new Map();  // tile key → tracks
  for (const t of state.sub.getTransceivers()) {
    const info = state.mids.get(t.mid);
    if (!info?.track || !info.participant || t.currentDirection === 'stopped') continue;
    const key = info.source === 'screen' ? `screen:${info.track}` : `p:${info.participant.identity}`;
    if (!wanted.has(key)) wanted.set(key, { info, tracks: [] });
    wanted.get(key).tracks.push(t.receiver.track);
  }
  for (const [key, { info, tracks }] of wanted) {
    const label = info.source === 'screen' ? `${info.participant.name}'s screen` : info.participant.name;
    const t = tile(key, label);
    for (const old of t.stream.getTracks()) if (!tracks.includes(old)) t.stream.removeTrack(old);
    for (const track of tracks) if (!t.stream.getTracks().includes(track)) t.stream.addTrack(track);
    if (t.video.paused) t.video.play().catch(() => {});
  }
  for (const [key, t] of state.tiles) {
    if (key.startsWith('screen:') && !wanted.has(key)) removeTile(key);
    if (key.startsWith('p:') && !wanted.has(key)) for (const old of t.stream.getTracks()) t.stream.removeTrack(old);
  }
  renderAll();
}

function mediaState(target, connectionState) {
  state.media[target] = connectionState;
  const states = Object.values(state.media);
  if (states.includes('failed')) setConnection('closed', 'media failed');
  else if (states.every((s) => s === 'connected')) setConnection('connected', 'connected');
  else setConnection('connecting', 'connecting media…');
  if (connectionState === 'failed') {
    notice(target === 'publisher' ? 'Your audio and video could not reach the server. Others cannot see or hear you; try rejoining.'
      : 'Media from the room could not reach you. Check your network and rejoin.');
  }
}

// Per remote participant: decoded video frames and received audio bytes (for tests).
state.stats = async () => {
  const out = {};
  if (!state.sub) return out;
  for (const t of state.sub.getTransceivers()) {
    const info = state.mids.get(t.mid);
    if (!info?.track || !info.participant) continue;
    const who = (out[info.participant.identity] ??= {});
    (await t.receiver.getStats()).forEach((s) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') who[info.source === 'screen' ? 'screen' : 'video'] = { framesDecoded: s.framesDecoded ?? 0, packetsLost: s.packetsLost };
      else who.audio = { bytesReceived: s.bytesReceived ?? 0, packetsLost: s.packetsLost };
    });
  }
  return out;
};

// --- the room ---------------------------------------------------------------------------

function end(title, message) {
  state.ending ??= { title, message };
}

function wire(client) {
  client.addEventListener('participant_joined', ({ detail }) => {
    state.participants.set(detail.participant.identity, detail.participant);
    logEvent(`${nameOf(detail.participant)} joined`);
    renderAll();
  });
  client.addEventListener('participant_left', ({ detail }) => {
    const who = state.participants.get(detail.participant.identity);
    if (who?.id === detail.participant.id) state.participants.delete(detail.participant.identity);
    removeTile(`p:${detail.participant.identity}`);
    for (const key of [...state.tiles.keys()]) {
      if (key.startsWith('screen:') && who?.tracks?.some((t) => `screen:${t.id}` === key)) removeTile(key);
    }
    logEvent(`${nameOf(who) ?? detail.participant.identity} ${LEFT_REASONS[detail.reason] ?? 'left'}`);
    renderAll();
  });
  client.addEventListener('track_published', ({ detail }) => {
    const p = state.participants.get(detail.participant.identity);
    if (!p) return;
    p.tracks = [...(p.tracks ?? []).filter((t) => t.id !== detail.track.id), detail.track];
    if (detail.track.source === 'screen') logEvent(`${nameOf(p)} started sharing their screen`);
    renderAll();
  });
  client.addEventListener('track_unpublished', ({ detail }) => {
    const p = state.participants.get(detail.participant.identity);
    if (!p) return;
    const gone = p.tracks?.find((t) => t.id === detail.track.id);
    p.tracks = (p.tracks ?? []).filter((t) => t.id !== detail.track.id);
    if (gone?.source === 'screen') {
      removeTile(`screen:${gone.id}`);
      logEvent(`${nameOf(p)} stopped sharing their screen`);
    }
    renderAll();
  });
  client.addEventListener('track_muted', ({ detail }) => {
    const p = state.participants.get(detail.participant.identity);
    const track = p?.tracks?.find((t) => t.id === detail.track);
    if (track) track.muted = detail.muted;
    renderAll();
  });
  client.addEventListener('subscribe_offer', ({ detail }) => onSubscribeOffer(detail));
  client.addEventListener('trickle', ({ detail: m }) => {
    const pc = m.target === 'subscriber' ? state.sub : state.pub;
    if (pc && m.candidate) pc.addIceCandidate({ candidate: m.candidate, sdpMid: m.sdpMid }).catch(() => {});
  });
  // Roll call: who the media plane forwards this participant's tracks to, from its own truth
  // rather than the roster, so a receiver nobody admitted would show here too.
  client.addEventListener('audience', ({ detail }) => {
    state.audience = detail;
    renderAudience();
  });
  client.addEventListener('roll_call', ({ detail }) => {
    logEvent(`roll call: ${detail.message}`);
    notice(`Roll call: ${detail.message}.`);
  });
  client.addEventListener('media', ({ detail: m }) => {
    if (m.state === 'failed') logEvent(`${m.target} media failed: ${m.reason}`);
  });
  client.addEventListener('kicked', ({ detail }) => {
    const titles = { kicked: 'You were removed from the room', replaced: 'You joined from somewhere else',
      room_closed: 'The room was closed' };
    end(titles[detail.reason] ?? 'You were removed', detail.message);
  });
  client.addEventListener('error', ({ detail }) => {
    if (detail.code === 'server_shutdown') end('The server shut down', 'Try again when it is back.');
    if (state.self) logEvent(`error: ${explain(detail.code, detail.message)}`);
    else end('Could not join', explain(detail.code, detail.message));
  });
  client.addEventListener('close', () => {
    if (!state.self) return;
    teardown();
    setConnection('closed', 'disconnected');
    const ending = state.ending ?? { title: 'Connection lost', message: 'The server went away. Your call has ended.' };
    $('ended-title').textContent = ending.title;
    $('ended-message').textContent = ending.message;
    show('ended-view');
  });
}

function renderAudience() {
  const el = $('audience');
  const list = state.audience?.audience ?? [];
  el.replaceChildren();
  el.classList.toggle('muted', list.length === 0);
  if (list.length === 0) {
    el.textContent = 'nobody yet';
    return;
  }
  list.forEach((who, i) => {
    if (i > 0) el.append(', ');
    const span = document.createElement('span');
    span.textContent = who.identity === null ? 'an unknown receiver' : who.name || who.identity;
    if (who.identity === null) span.className = 'unaccounted';
    el.append(span);
  });
  if (state.audience.unaccounted > 0) {
    el.append(document.createElement('br'),
      `⚠ ${state.audience.unaccounted} receiver(s) not in this room; the server is removing them.`);
  }
}

function teardown() {
  state.self = null;
  state.pub?.close();
  state.sub?.close();
  state.pub = state.sub = null;
  state.screen?.track.stop();
  state.screen = null;
  for (const track of state.local?.getTracks() ?? []) track.stop();
  state.local = null;
  for (const key of [...state.tiles.keys()]) removeTile(key);
  state.participants = new Map();
  state.myTracks = new Map();
  state.unsent = new Map();
  state.mids = new Map();
  state.audience = null;
  renderAudience();
  state.media = {};
  notice('');
}

async function join(event) {
  event?.preventDefault();
  $('join-error').hidden = true;
  const room = $('room').value.trim();
  const name = $('name').value.trim();
  let token = $('token').value.trim() || new URLSearchParams(location.hash.slice(1)).get('token');
  $('join').disabled = true;
  setConnection('connecting', 'connecting…');
  state.timings = { start: performance.now() };
  try {
    if (!token) {
      token = await fetchToken(room, identityFor(name), name);
      if (!token) {
        $('token-field').hidden = false;
        throw new Error('Paste the access token you were given.');
      }
    }
    state.timings.token = performance.now();
    const client = new SignalingClient();
    state.client = client;
    state.ending = null;
    wire(client);
    const joined = await client.join(token);
    state.self = joined.participant;
    state.room = joined.room;
    state.participants = new Map(joined.participants.map((p) => [p.identity, p]));
    $('room-title').textContent = joined.room;
    $('events').replaceChildren();
    logEvent(`you joined ${joined.room} as ${nameOf(joined.participant)}`);
    setConnection('connecting', 'connecting media…');
    for (const id of ['mic', 'cam', 'screen']) $(id).disabled = false;
    show('room-view');
    renderAll();
    watchFirstFrame();
    if (joined.participant.permissions.canPublish) await startPublishing();
    else notice('Your access token lets you watch and listen, not publish.');
  } catch (error) {
    if (!state.self) {
      setConnection('idle', 'not connected');
      $('join-error').textContent = explain(error.code, error.message);
      $('join-error').hidden = false;
      show('join-view');
    } else {
      logEvent(`publishing failed: ${explain(error.code, error.message)}`);
      notice(`Your audio and video could not be published: ${explain(error.code, error.message)}`);
    }
  } finally {
    $('join').disabled = false;
  }
}

// Records when the first remote video frame decodes (token in hand → frame on screen).
function watchFirstFrame() {
  const timer = setInterval(async () => {
    if (!state.self) return clearInterval(timer);
    const stats = await state.stats();
    if (Object.values(stats).some((s) => s.video?.framesDecoded > 0)) {
      state.timings.firstRemoteFrame = performance.now();
      clearInterval(timer);
    }
  }, 50);
  setTimeout(() => clearInterval(timer), 120000);
}

$('join-form').addEventListener('submit', join);
$('leave').addEventListener('click', () => {
  end('You left the room', '');
  state.client?.leave();
});
$('mic').addEventListener('click', () => toggle('audio'));
$('cam').addEventListener('click', () => toggle('video'));
$('screen').addEventListener('click', () => toggleScreen());
$('rejoin').addEventListener('click', () => show('join-view'));

const params = new URLSearchParams(location.search);
if (params.get('room')) $('room').value = params.get('room');
if (params.get('name')) $('name').value = params.get('name');
if (params.get('auto') === '1' && $('room').value && $('name').value) join();
