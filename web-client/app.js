// rollcall's web client: join a room, publish camera and microphone, see and hear everyone
// else through the server (docs/protocol.md), and always say why something went wrong.
//
// The room's state lives in room-state.js (a pure reducer); the tiles in tiles.js; the two
// peer connections in connections.js. This file wires them to the page.
import { MAX_LINES, REACTIONS, chatLine, withHand } from './chat.js';
import { Publisher, Subscriber } from './connections.js';
import { explain, fetchToken, identityFor } from './common.js';
import { acceptCandidates, deviceProblem, firstFrame } from './media.js';
import { FINAL_CODES, RECONNECT_GIVE_UP_MS, RESUME_REFUSED, reconnectDelay } from './reconnect.js';
import {
  badgesFor, describe, everyone, initialRoom, nameOf, reduce, selfView, tilesFor, trackOf, unsentNotice,
} from './room-state.js';
import { SignalingClient } from './signaling.js';
import { Tiles, badge } from './tiles.js';
import { TrackSettings } from './track-settings.js';

const $ = (id) => document.getElementById(id);

let room = initialRoom();
let client = null;
let publisher = null;
let subscriber = null;
let local = null;  // our camera and microphone
let mediaStates = {};
let timings = {};
let session = null;  // {token, resume}: what a reconnection joins with
let reconnecting = false;
let hands = new Set();  // identities with a raised hand (ours included)
let chat = [];          // chat entries shown, oldest first
const tiles = new Tiles($('tiles'));
// The size each received video shows at, for the server's choice of simulcast layer.
const trackSettings = new TrackSettings((message) => client?.send(message));

// For tests and the curious: read-only views of the page's state.
window.rollcall = {
  get self() { return room.self; },
  get participants() { return room.participants; },
  get myTracks() { return room.myTracks; },
  get unsent() { return room.unsent; },
  get pub() { return publisher?.pc ?? null; },
  get sub() { return subscriber?.pc ?? null; },
  get timings() { return timings; },
  get reconnecting() { return reconnecting; },
  get chat() { return chat; },
  get hands() { return hands; },
  get dataOpen() { return publisher?.data?.open ?? false; },
  get slowVideo() { return room.slowVideo; },
  stats: () => subscriber?.stats() ?? Promise.resolve({}),
  // By hand, for tests and a future "pause video" button: `kind` 'video' (camera) or 'screen'.
  setTrackSize: (identity, kind, width, height) => withTrack(identity, kind, (id) => trackSettings.set(id, { width, height })),
  setTrackPaused: (identity, kind, paused) => withTrack(identity, kind, (id) => trackSettings.set(id, { paused })),
};

function withTrack(identity, kind, fn) {
  const track = trackOf(room.participants.get(identity), kind === 'screen' ? 'screen' : 'camera');
  if (!track) throw new Error(`${identity} publishes no ${kind}`);
  fn(track.id);
  return track.id;
}

// --- the view ---------------------------------------------------------------------------

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

// Applies a server (or local) message to the room and redraws.
function dispatch(msg) {
  const text = describe(room, msg);
  room = reduce(room, msg);
  if (text) logEvent(text);
  render();
}

function render() {
  renderRoster();
  renderTiles();
  renderAudience();
}

function renderTiles() {
  if (!room.self) return;
  const wanted = tilesFor(room);
  const received = subscriber?.tracksByTile() ?? new Map();
  for (const { key, label, participant, screen } of wanted) {
    if (key !== 'self' && screen && !received.has(key)) continue;  // a screen shows once it arrives
    tiles.ensure(key, label, { local: key === 'self' });
    if (key !== 'self') {
      tiles.setTracks(key, received.get(key) ?? []);
      const video = screen ? key.slice('screen:'.length) : trackOf(participant, 'camera')?.id;
      trackSettings.watch(tiles.get(key).video, video ?? null);
    }
    const cam = trackOf(participant, 'camera');
    const hand = !screen && hands.has(participant.identity);
    const camShows = cam && !cam.muted && !room.slowVideo.has(cam.id);
    tiles.render(key, badgesFor(room, key, participant, { screen, hand }), screen || camShows);
  }
  const keep = new Set([...wanted.map((w) => w.key), 'self:screen']);
  for (const key of tiles.keys()) {
    if (keep.has(key) && !(key.startsWith('screen:') && !received.has(key))) continue;
    trackSettings.watch(tiles.get(key).video, null);
    tiles.remove(key);
  }
}

function renderRoster() {
  const list = $('roster');
  list.replaceChildren();
  const people = everyone(room);
  $('count').textContent = `(${people.length})`;
  for (const p of people) {
    const li = document.createElement('li');
    const avatar = document.createElement('span');
    avatar.className = 'avatar';
    avatar.textContent = nameOf(p).slice(0, 1).toUpperCase();
    const name = document.createElement('span');
    name.className = 'name';
    name.textContent = nameOf(p);
    li.append(avatar, name);
    const mic = trackOf(p, 'microphone');
    if (hands.has(p.identity)) li.append(badge('hand', '✋ hand'));
    if (!mic || mic.muted) li.append(badge('mic-off', mic ? 'muted' : 'no mic'));
    if (trackOf(p, 'screen')) li.append(badge('screen-on', 'sharing screen'));
    if (p.identity === room.self?.identity) {
      const you = document.createElement('span');
      you.className = 'tag';
      you.textContent = 'you';
      li.append(you);
    }
    li.title = p.identity;
    list.append(li);
  }
}

// Roll call: who the media plane forwards our tracks to, from its own truth rather than the
// roster, so a receiver nobody admitted would show here too.
function renderAudience() {
  const el = $('audience');
  const list = room.audience?.audience ?? [];
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
  if (room.audience.unaccounted > 0) {
    el.append(document.createElement('br'),
      `⚠ ${room.audience.unaccounted} receiver(s) not in this room; the server is removing them.`);
  }
}

function mediaState(target, connectionState) {
  mediaStates[target] = connectionState;
  showMediaStates();
  if (connectionState === 'failed') {
    notice(target === 'publisher' ? 'Your audio and video could not reach the server. Others cannot see or hear you; trying again…'
      : 'Media from the room could not reach you; trying again…');
  }
}

function showMediaStates() {
  if (reconnecting) return;  // the signaling state says more
  const states = Object.values(mediaStates);
  if (states.includes('failed')) setConnection('closed', 'media failed');
  else if (states.every((s) => s === 'connected')) setConnection('connected', 'connected');
  else setConnection('connecting', 'connecting media…');
}

// --- publishing -------------------------------------------------------------------------

function published({ answer, sources }) {
  const hadUnsent = room.unsent.size > 0;
  dispatch({ type: 'local:published', answer, sources });
  if (room.unsent.size > 0 || hadUnsent) notice(unsentNotice(room));
}

async function startPublishing() {
  try {
    local = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 } } });
  } catch (error) {
    notice(`You are in the room but not sending audio or video: ${deviceProblem(error)}. You can still see and hear everyone.`);
    logEvent(`camera/microphone unavailable (${error.name})`);
    for (const id of ['mic', 'cam', 'screen']) $(id).disabled = error.name !== 'NotFoundError' || id !== 'screen';
    await startDataOnly();
    return;
  }
  tiles.ensure('self', `${nameOf(room.self)} (you)`, { local: true });
  tiles.setTracks('self', local.getVideoTracks());
  publisher = newPublisher();
  published(await publisher.start(local));
}

function newPublisher() {
  const p = new Publisher(client, (s) => mediaState('publisher', s), (result, error) => {
    if (result) published(result);
    else logEvent(`could not restart the connection to the server: ${explain(error.code, error.message)}`);
  }, onRoomData);
  return p;
}

// --- chat, raised hands and reactions (chat.js) --------------------------------------------

function canSendData() {
  return Boolean(room.self?.permissions?.canPublishData);
}

function onRoomData(entry) {
  if (entry.kind === 'chat') addChat(entry);
  else if (entry.kind === 'hand') setHands(withHand(hands, entry));
  else if (entry.kind === 'reaction') showReaction(entry.from === room.self?.identity ? 'self' : `p:${entry.from}`, entry.emoji);
  else if (entry.kind === 'error') addChat({ server: true, text: explain(entry.code, entry.message), at: Date.now() });
  else if (entry.kind === 'open' || entry.kind === 'closed') enableData(entry.kind === 'open');
}

function nameFor(identity) {
  const p = room.participants.get(identity);
  return p ? nameOf(p) : identity;
}

function addChat(entry) {
  chat = [...chat, entry].slice(-MAX_LINES);
  const li = document.createElement('li');
  if (entry.server) {
    li.className = 'server';
    li.textContent = entry.text;
  } else {
    const line = chatLine(entry, room.self?.identity, nameFor);
    li.classList.toggle('mine', line.mine);
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = line.name;
    const time = document.createElement('time');
    time.textContent = line.time;
    li.append(who, time, line.text);
  }
  $('chat').append(li);
  while ($('chat').children.length > MAX_LINES) $('chat').firstChild.remove();
  $('chat').scrollTop = $('chat').scrollHeight;
}

function setHands(next) {
  hands = next;
  const mine = hands.has(room.self?.identity);
  $('hand').setAttribute('aria-pressed', String(mine));
  $('hand').textContent = mine ? '✋ Lower hand' : '✋ Raise hand';
  render();
}

function showReaction(tileKey, emoji) {
  const tile = tiles.get(tileKey);
  if (!tile) return;
  const el = document.createElement('span');
  el.className = 'reaction';
  el.textContent = emoji;
  tile.el.append(el);
  setTimeout(() => el.remove(), 3000);
}

function sendData(message) {
  if (publisher?.data?.send(message)) return true;
  logEvent('not sent: the chat connection is not open yet');
  return false;
}

function sendChat(event) {
  event.preventDefault();
  const text = $('chat-text').value.trim();
  if (!text || !sendData({ type: 'chat', text })) return;
  $('chat-text').value = '';
  addChat({ kind: 'chat', from: room.self.identity, at: Date.now(), text });
}

function toggleHand() {
  const raised = !hands.has(room.self.identity);
  if (sendData({ type: 'hand', raised })) setHands(withHand(hands, { from: room.self.identity, raised }));
}

function react(emoji) {
  if (sendData({ type: 'reaction', emoji })) showReaction('self', emoji);
}

// Someone new does not know whose hand is up: ours is told to them.
function greet(msg) {
  if (msg.type === 'participant_joined' && hands.has(room.self?.identity))
    publisher?.data?.send({ type: 'hand', raised: true, to: [msg.participant.identity] });
}

function enableData(open) {
  const allowed = canSendData();
  for (const id of ['chat-text', 'chat-send', 'hand']) $(id).disabled = !(allowed && open);
  for (const b of $('reactions').children) b.disabled = !(allowed && open);
  $('chat-note').hidden = allowed;
  $('chat-note').textContent = allowed ? '' : 'Your access token lets you read the chat, not write in it.';
}

// Room data for a participant that does not publish media: a connection with only the channel.
async function startDataOnly() {
  const perms = room.self?.permissions ?? {};
  if (!perms.canPublishData && !perms.canSubscribe) return;
  publisher = newPublisher();
  try {
    published(await publisher.start(null));
  } catch (error) {
    logEvent(`chat unavailable: ${explain(error.code, error.message)}`);
  }
}

async function toggle(kind) {
  const source = kind === 'audio' ? 'microphone' : 'camera';
  const track = kind === 'audio' ? local?.getAudioTracks()[0] : local?.getVideoTracks()[0];
  const mine = trackOf(selfView(room), source);
  if (!track || !mine) return;
  track.enabled = !track.enabled;
  const button = $(kind === 'audio' ? 'mic' : 'cam');
  button.setAttribute('aria-pressed', String(!track.enabled));
  button.textContent = kind === 'audio' ? (track.enabled ? 'Mute mic' : 'Unmute mic') : (track.enabled ? 'Stop camera' : 'Start camera');
  dispatch({ type: 'local:muted', track: mine.id, muted: !track.enabled });
  try {
    await client.request({ type: 'mute', track: mine.id, muted: !track.enabled });
  } catch (error) {
    logEvent(`could not update mute state: ${explain(error.code, error.message)}`);
  }
}

// An administrator muted (or unmuted) one of our tracks: the server stopped forwarding it.
// The page turns that source off too and says so; after an unmute the person turns it back
// on themselves (the server is told it stays muted until then).
function adminMuted(msg) {
  if (msg.by !== 'admin') return;
  const mine = [...room.myTracks.values()].find((t) => t.id === msg.track);
  const track = mine && local?.getTracks().find((t) => (t.kind === 'audio') === (mine.source === 'microphone'));
  if (!mine || mine.source === 'screen' || !track) return;
  if (msg.muted) {
    track.enabled = false;
    const button = $(track.kind === 'audio' ? 'mic' : 'cam');
    button.setAttribute('aria-pressed', 'true');
    button.textContent = track.kind === 'audio' ? 'Unmute mic' : 'Start camera';
    notice(`An administrator muted your ${mine.source}. Others no longer receive it.`);
  } else {
    notice(`An administrator lifted the mute on your ${mine.source}; turn it back on when you like.`);
    if (!track.enabled) {
      dispatch({ type: 'local:muted', track: mine.id, muted: true });
      client.send({ type: 'mute', track: mine.id, muted: true });
    }
  }
}

// Asks who will see the screen before anything is shared; true to go ahead.
async function confirmShare() {
  const others = [...room.participants.values()].map(nameOf);
  $('share-audience').textContent = others.length
    ? `everyone in ${room.room} (${others.length}: ${others.slice(0, 5).join(', ')}${others.length > 5 ? ', …' : ''})`
    : `everyone who is or will be in ${room.room}`;
  const dialog = $('share-dialog');
  dialog.returnValue = '';
  dialog.showModal();
  return (await new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }))) === 'share';
}

async function toggleScreen() {
  if (publisher?.screen) return stopScreen();
  if (!publisher || !(await confirmShare())) return;
  let stream;
  try {
    stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
  } catch (error) {
    logEvent(`screen sharing not started (${error.name})`);
    return;
  }
  const [track] = stream.getVideoTracks();
  track.addEventListener('ended', () => stopScreen());
  tiles.ensure('self:screen', 'Your screen (visible to the room)', { local: true });
  tiles.setTracks('self:screen', [track]);
  tiles.render('self:screen', [], true);
  $('screen').setAttribute('aria-pressed', 'true');
  $('screen').textContent = 'Stop sharing';
  try {
    published(await publisher.shareScreen(track));
    if (room.unsent.has('screen')) throw new Error(room.unsent.get('screen'));
    logEvent('you started sharing your screen');
  } catch (error) {
    logEvent(`screen sharing failed: ${explain(error.code, error.message)}`);
    await stopScreen();
  }
}

async function stopScreen() {
  if (!publisher?.stopScreen()) return;
  tiles.remove('self:screen');
  $('screen').setAttribute('aria-pressed', 'false');
  $('screen').textContent = 'Share screen';
  try {
    published(await publisher.negotiate());
    logEvent('you stopped sharing your screen');
  } catch (error) {
    logEvent(`could not stop sharing cleanly: ${explain(error.code, error.message)}`);
  }
}

// --- the room ---------------------------------------------------------------------------

const ROOM_MESSAGES = ['participant_joined', 'participant_left', 'track_published', 'track_unpublished', 'track_muted',
  'audience', 'roll_call', 'media', 'kicked', 'muted', 'stream_state'];

function wire() {
  for (const type of ROOM_MESSAGES) client.addEventListener(type, ({ detail }) => dispatch(detail));
  client.addEventListener('roll_call', ({ detail }) => notice(`Roll call: ${detail.message}.`));
  client.addEventListener('subscribe_offer', ({ detail }) => subscriber.offer(detail));
  client.addEventListener('muted', ({ detail }) => adminMuted(detail));
  client.addEventListener('participant_joined', ({ detail }) => greet(detail));
  client.addEventListener('participant_left', ({ detail }) => {
    if (hands.has(detail.participant?.identity)) setHands(withHand(hands, { from: detail.participant.identity, raised: false }));
  });
  client.addEventListener('data_closed', ({ detail }) => {
    enableData(false);
    notice(`Chat stopped: ${detail.message}.`);
  });
  acceptCandidates(client, (target) => (target === 'subscriber' ? subscriber?.pc : publisher?.pc));
  client.addEventListener('error', ({ detail }) => {
    // A host candidate outside the server's reach (a home network behind NAT) is expected:
    // the server says so and ICE goes on with the others.
    if (detail.code === 'candidate_refused') return;
    dispatch(detail);
    if (room.self) logEvent(`error: ${explain(detail.code, detail.message)}`);
  });
  client.addEventListener('close', () => {
    if (!room.self || reconnecting) return;
    if (room.ending) endCall(room.ending);
    else reconnect();
  });
}

function endCall(ending) {
  teardown();
  setConnection('closed', 'disconnected');
  $('ended-title').textContent = ending.title;
  $('ended-message').textContent = ending.message;
  show('ended-view');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The signaling connection dropped (or the server restarted): the media keeps playing while
// the page resumes its session, or, when the server no longer has it, joins afresh and
// publishes again. Gives up after RECONNECT_GIVE_UP_MS, or at once on a final refusal.
async function reconnect() {
  reconnecting = true;
  setConnection('connecting', 'reconnecting…');
  notice('Connection to the server lost; reconnecting…');
  logEvent('connection lost; reconnecting');
  const giveUpAt = Date.now() + RECONNECT_GIVE_UP_MS;
  let why = 'The server could not be reached for a minute.';
  for (let attempt = 0; Date.now() < giveUpAt; attempt++) {
    await sleep(reconnectDelay(attempt));
    let joined;
    try {
      joined = await (session.resume ? client.join(session.token, { resume: session.resume }) : client.join(session.token));
    } catch (error) {
      if (RESUME_REFUSED.has(error.code)) {
        session.resume = null;
        try {
          joined = await client.rejoin(session.token);
        } catch (again) {
          error = again;
        }
      }
      if (!joined) {
        if (FINAL_CODES.has(error.code)) {
          why = explain(error.code, error.message);
          break;
        }
        continue;  // not reachable yet, or dropped again: the next attempt
      }
    }
    session.resume = joined.resume;
    reconnecting = false;
    notice('');
    if (joined.resumed) {
      dispatch(joined);
      showMediaStates();
    } else {
      trackSettings.reset();
      await startOver(joined);
    }
    return;
  }
  reconnecting = false;
  endCall({ title: 'Connection lost', message: why });
}

// A fresh session after a failed resume: new peer connections, the same camera and
// microphone published again (no new permission prompt), mute states restored.
async function startOver(joined) {
  publisher?.close();
  subscriber?.close();
  publisher = null;
  mediaStates = {};
  if (!$('screen').disabled) {
    $('screen').setAttribute('aria-pressed', 'false');
    $('screen').textContent = 'Share screen';
  }
  dispatch(joined);
  logEvent('the server no longer had your session; joined again');
  if (!joined.participant.permissions.canPublish || !local) {
    await startDataOnly();
    return;
  }
  try {
    publisher = newPublisher();
    published(await publisher.start(local));
    for (const track of local.getTracks()) {
      const mine = trackOf(selfView(room), track.kind === 'audio' ? 'microphone' : 'camera');
      if (mine && !track.enabled) {
        dispatch({ type: 'local:muted', track: mine.id, muted: true });
        client.send({ type: 'mute', track: mine.id, muted: true });
      }
    }
  } catch (error) {
    notice(`Your audio and video could not be published again: ${explain(error.code, error.message)}`);
  }
}

function teardown() {
  session = null;
  publisher?.close();
  subscriber?.close();
  publisher = subscriber = null;
  for (const track of local?.getTracks() ?? []) track.stop();
  local = null;
  tiles.clear();
  room = initialRoom();
  hands = new Set();
  chat = [];
  $('chat').replaceChildren();
  mediaStates = {};
  renderAudience();
  notice('');
}

// New remote tracks: redraw, and note when the first remote video frame shows (token in
// hand → frame on screen).
const watched = new WeakSet();
function onRemoteTracks() {
  render();
  for (const key of tiles.keys()) {
    const t = tiles.get(key);
    if (key.startsWith('self') || watched.has(t.video) || !t.stream.getVideoTracks().length) continue;
    watched.add(t.video);
    firstFrame(t.video).then((at) => { timings.firstRemoteFrame ??= at; });
  }
}

async function join(event) {
  event?.preventDefault();
  $('join-error').hidden = true;
  const name = $('name').value.trim();
  let token = $('token').value.trim() || new URLSearchParams(location.hash.slice(1)).get('token');
  $('join').disabled = true;
  setConnection('connecting', 'connecting…');
  timings = { start: performance.now() };
  try {
    if (!token) {
      token = await fetchToken($('room').value.trim(), identityFor(name), name);
      if (!token) {
        $('token-field').hidden = false;
        throw new Error('Paste the access token you were given.');
      }
    }
    timings.token = performance.now();
    client = new SignalingClient();
    subscriber = new Subscriber(client, {
      onState: (s) => mediaState('subscriber', s),
      onTracks: onRemoteTracks,
      onError: (error) => logEvent(`could not apply the server's offer: ${error.message}`),
    });
    wire();
    const joined = await client.join(token);
    session = { token, resume: joined.resume };
    $('room-title').textContent = joined.room;
    $('events').replaceChildren();
    dispatch(joined);
    setConnection('connecting', 'connecting media…');
    for (const id of ['mic', 'cam', 'screen']) $(id).disabled = false;
    show('room-view');
    enableData(false);
    if (joined.participant.permissions.canPublish) await startPublishing();
    else {
      notice('Your access token lets you watch and listen, not publish.');
      await startDataOnly();
    }
  } catch (error) {
    if (!room.self) {
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

$('join-form').addEventListener('submit', join);
// Closing the tab is leaving: the room hears it now rather than after the reconnect grace.
window.addEventListener('pagehide', () => client?.leave());
$('leave').addEventListener('click', () => {
  dispatch({ type: 'local:left' });
  client?.leave();
});
$('mic').addEventListener('click', () => toggle('audio'));
$('cam').addEventListener('click', () => toggle('video'));
$('screen').addEventListener('click', () => toggleScreen());
$('rejoin').addEventListener('click', () => show('join-view'));
$('chat-form').addEventListener('submit', sendChat);
$('hand').addEventListener('click', () => toggleHand());
for (const emoji of REACTIONS) {
  const b = document.createElement('button');
  b.className = 'control';
  b.textContent = emoji;
  b.title = `React with ${emoji}`;
  b.disabled = true;
  b.addEventListener('click', () => react(emoji));
  $('reactions').append(b);
}

const params = new URLSearchParams(location.search);
if (params.get('room')) $('room').value = params.get('room');
if (params.get('name')) $('name').value = params.get('name');
if (params.get('auto') === '1' && $('room').value && $('name').value) join();
