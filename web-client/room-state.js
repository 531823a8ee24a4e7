// The room as this page knows it, changed only by reduce(): pure functions of plain data, so
// they are unit-tested with `node --test` (tests/web/). The view renders from this state.
//
// Messages are the server's (docs/protocol.md) plus a few of the page's own, prefixed
// "local:": local:published (the answer to our publish), local:muted, local:left.

export const LEFT_REASONS = {
  left: 'left', disconnected: 'lost connection', kicked: 'was removed by an administrator',
  replaced: 'rejoined from elsewhere', room_closed: 'room closed',
};

const KICKED_TITLES = {
  kicked: 'You were removed from the room', replaced: 'You joined from somewhere else',
  room_closed: 'The room was closed',
};

export const SOURCE_NAMES = { camera: 'camera', microphone: 'microphone', screen: 'screen share' };

export function initialRoom() {
  return {
    room: null,
    self: null,                // our participant, from `joined`
    participants: new Map(),   // identity → participant (with its tracks)
    myTracks: new Map(),       // our publisher mid → track
    unsent: new Map(),         // our source → why the server did not accept it
    audience: null,            // who the media plane sends our tracks to
    ending: null,              // {title, message} once the session is over
    slowVideo: new Set(),      // track ids whose video our link cannot carry now (stream_state)
  };
}

export const nameOf = (p) => p?.name || p?.identity || 'someone';
export const trackOf = (p, source) => p?.tracks?.find((t) => t.source === source);

// Ourselves as the others see us: our participant with the tracks we publish.
export function selfView(state) {
  return state.self ? { ...state.self, tracks: [...state.myTracks.values()] } : null;
}

// Everyone, ourselves first.
export function everyone(state) {
  return [selfView(state), ...state.participants.values()].filter((p) => p?.identity);
}

function withParticipant(state, identity, change) {
  const p = state.participants.get(identity);
  if (!p) return state;
  const participants = new Map(state.participants);
  participants.set(identity, change(p));
  return { ...state, participants };
}

function end(state, title, message) {
  return state.ending ? state : { ...state, ending: { title, message } };
}

// Which of our offered sections the server did not take, by source (camera, microphone,
// screen); `sources` is what we said each mid carries.
function unsentOf(rejected, sources) {
  const unsent = new Map();
  for (const r of rejected ?? []) {
    unsent.set(sources?.[r.mid] ?? (r.kind === 'audio' ? 'microphone' : 'camera'), r.message);
  }
  return unsent;
}

export function reduce(state, msg) {
  switch (msg.type) {
    case 'joined': {
      // A resumed session keeps what it publishes, who hears it and which videos our link
      // cannot carry (the media went on; changes made meanwhile are replayed after this);
      // the room is as given.
      const kept = msg.resumed
        ? { myTracks: state.myTracks, unsent: state.unsent, audience: state.audience, slowVideo: state.slowVideo }
        : {};
      return {
        ...initialRoom(), ...kept, room: msg.room, self: msg.participant,
        participants: new Map(msg.participants.map((p) => [p.identity, p])),
      };
    }
    case 'participant_joined': {
      const participants = new Map(state.participants);
      participants.set(msg.participant.identity, msg.participant);
      return { ...state, participants };
    }
    case 'participant_left': {
      const who = state.participants.get(msg.participant.identity);
      if (who?.id !== msg.participant.id) return state;  // a newer session of that identity stays
      const participants = new Map(state.participants);
      participants.delete(msg.participant.identity);
      return { ...state, participants };
    }
    case 'track_published':
      return withParticipant(state, msg.participant.identity, (p) => ({
        ...p, tracks: [...(p.tracks ?? []).filter((t) => t.id !== msg.track.id), msg.track],
      }));
    case 'track_unpublished':
      return withParticipant(state, msg.participant.identity, (p) => ({
        ...p, tracks: (p.tracks ?? []).filter((t) => t.id !== msg.track.id),
      }));
    case 'stream_state': {  // the server paused (or resumed) a video our link cannot carry
      const slowVideo = new Set(state.slowVideo);
      if (msg.state === 'paused') slowVideo.add(msg.track);
      else slowVideo.delete(msg.track);
      return { ...state, slowVideo };
    }
    case 'track_muted':
      return withParticipant(state, msg.participant.identity, (p) => ({
        ...p, tracks: (p.tracks ?? []).map((t) => (t.id === msg.track ? { ...t, muted: msg.muted } : t)),
      }));
    case 'audience':
      return { ...state, audience: { audience: msg.audience ?? [], unaccounted: msg.unaccounted ?? 0 } };
    case 'kicked':
      return end(state, KICKED_TITLES[msg.reason] ?? 'You were removed', msg.message);
    case 'error':  // server_shutdown ends nothing: the page reconnects to the server's successor
      return state;
    case 'local:published':
      return {
        ...state,
        myTracks: new Map(msg.answer.tracks.map((t) => [t.mid, t])),
        unsent: unsentOf(msg.answer.rejected, msg.sources),
      };
    case 'muted': {  // an administrator's mute (or unmute) of one of ours
      if (msg.by !== 'admin') return state;
      const myTracks = new Map(state.myTracks);
      for (const [mid, t] of myTracks) {
        if (t.id === msg.track) myTracks.set(mid, { ...t, muted: msg.muted, admin_muted: msg.muted });
      }
      return { ...state, myTracks };
    }
    case 'local:muted': {
      const myTracks = new Map(state.myTracks);
      for (const [mid, t] of myTracks) if (t.id === msg.track) myTracks.set(mid, { ...t, muted: msg.muted });
      return { ...state, myTracks };
    }
    case 'local:left':
      return end(state, 'You left the room', '');
    default:
      return state;
  }
}

// What the activity log says about `msg`, from the state before it; null for nothing.
export function describe(state, msg) {
  switch (msg.type) {
    case 'joined':
      return msg.resumed ? 'reconnected; your call carried on' : `you joined ${msg.room} as ${nameOf(msg.participant)}`;
    case 'participant_joined':
      return `${nameOf(msg.participant)} joined`;
    case 'participant_left': {
      const who = state.participants.get(msg.participant.identity);
      return `${who ? nameOf(who) : msg.participant.identity} ${LEFT_REASONS[msg.reason] ?? 'left'}`;
    }
    case 'track_published': {
      const p = state.participants.get(msg.participant.identity);
      return p && msg.track.source === 'screen' ? `${nameOf(p)} started sharing their screen` : null;
    }
    case 'track_unpublished': {
      const p = state.participants.get(msg.participant.identity);
      const gone = p?.tracks?.find((t) => t.id === msg.track.id);
      return gone?.source === 'screen' ? `${nameOf(p)} stopped sharing their screen` : null;
    }
    case 'roll_call':
      return `roll call: ${msg.message}`;
    case 'muted': {
      const mine = [...state.myTracks.values()].find((t) => t.id === msg.track);
      if (msg.by !== 'admin' || !mine) return null;
      return `an administrator ${msg.muted ? 'muted' : 'unmuted'} your ${SOURCE_NAMES[mine.source] ?? 'track'}`;
    }
    case 'track_muted': {
      const p = state.participants.get(msg.participant.identity);
      const t = p?.tracks?.find((x) => x.id === msg.track);
      if (msg.by !== 'admin' || !p || !t) return null;
      return `an administrator ${msg.muted ? 'muted' : 'unmuted'} ${nameOf(p)}'s ${SOURCE_NAMES[t.source] ?? 'track'}`;
    }
    case 'stream_state': {
      const p = [...state.participants.values()].find((x) => x.tracks?.some((t) => t.id === msg.track));
      if (!p) return null;
      return msg.state === 'paused'
        ? `${nameOf(p)}'s video paused: your connection is too slow (audio goes on)`
        : `${nameOf(p)}'s video is back`;
    }
    case 'media':
      return msg.state === 'failed' ? `${msg.target} media failed: ${msg.reason}` : null;
    case 'local:published': {
      const lines = [];
      for (const [source, why] of unsentOf(msg.answer.rejected, msg.sources)) {
        if (state.unsent.get(source) !== why) lines.push(`your ${SOURCE_NAMES[source]} could not be sent: ${why}`);
      }
      return lines.length ? lines.join('; ') : null;
    }
    default:
      return null;
  }
}

// The notice above the tiles for what we could not send, or '' for none.
export function unsentNotice(state) {
  return [...state.unsent].map(([source, why]) => `Your ${SOURCE_NAMES[source]} could not be sent: ${why}.`).join(' ');
}

// Tiles the room calls for: ours, one per other participant, one per screen share.
// {key, label, participant, screen} in display order.
export function tilesFor(state) {
  const out = [];
  const me = selfView(state);
  if (me) out.push({ key: 'self', label: `${nameOf(me)} (you)`, participant: me, screen: false });
  for (const p of state.participants.values()) {
    out.push({ key: `p:${p.identity}`, label: nameOf(p), participant: p, screen: false });
    for (const t of p.tracks ?? []) {
      if (t.source === 'screen') out.push({ key: `screen:${t.id}`, label: `${nameOf(p)}'s screen`, participant: p, screen: true });
    }
  }
  return out;
}

// Badges for a tile: a raised hand, and the microphone and camera state, as words a person reads.
export function badgesFor(state, tileKey, participant, { screen = false, hand = false } = {}) {
  if (screen) return [];
  const badges = [];
  if (hand) badges.push({ kind: 'hand', text: '✋ hand raised' });
  const mic = trackOf(participant, 'microphone');
  const cam = trackOf(participant, 'camera');
  if (!mic || mic.muted) badges.push({ kind: 'mic-off', text: mic ? 'microphone muted' : 'no microphone' });
  if (!cam || cam.muted) {
    const absent = tileKey === 'self' && state.unsent.has('camera') ? 'camera not sent' : 'no camera';
    badges.push({ kind: 'cam-off', text: cam ? 'camera off' : absent });
  } else if (state.slowVideo?.has(cam.id)) {
    badges.push({ kind: 'cam-off', text: 'video paused: your connection is too slow' });
  }
  return badges;
}
