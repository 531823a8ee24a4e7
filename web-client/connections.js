// The two peer connections of a conference participant (docs/protocol.md): the publisher
// (this page offers its camera, microphone and screen) and the subscriber (the server offers
// everyone else's tracks and this page answers).
import { RoomData } from './chat.js';
import { RTC_CONFIG, inbound, trickleTo } from './media.js';

// Simulcast layers of the camera, lowest first: a quarter, half and full size.
export const CAMERA_LAYERS = [
  { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 150_000 },
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 500_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 1_700_000 },
];
// A shared screen in two layers, half and full size: a subscriber whose link cannot carry
// the full one still reads the half, and one that cannot carry even that keeps its audio.
export const SCREEN_LAYERS = [
  { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 600_000 },
  { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 2_500_000 },
];

// How long ICE may stay `disconnected` before the page restarts it (a brief loss usually
// heals on its own; an interface change or a long outage does not).
export const ICE_DISCONNECTED_RESTART_MS = 4000;

// Calls `restart` when the connection's ICE fails, or stays disconnected for a while.
function watchIce(pc, restart) {
  let timer = null;
  pc.addEventListener('iceconnectionstatechange', () => {
    clearTimeout(timer);
    if (pc.iceConnectionState === 'failed') restart();
    else if (pc.iceConnectionState === 'disconnected') {
      timer = setTimeout(() => { if (pc.iceConnectionState === 'disconnected') restart(); }, ICE_DISCONNECTED_RESTART_MS);
    }
  });
}

export class Publisher {
  pc = null;
  screen = null;  // {track, transceiver} while sharing

  data = null;  // RoomData: the room's chat, hands and reactions ride on this connection

  // `onRestarted` gets what negotiate() resolves with after an ICE restart, or the error.
  // `onData` gets each room-data message (chat.js).
  // The camera goes as three simulcast layers, lowest first (the server reads that order):
  // each subscriber gets the one that fits its tile and its link.
  constructor(client, onState, onRestarted = () => {}, onData = () => {}) {
    this.client = client;
    this.onState = onState;
    this.onRestarted = onRestarted;
    this.onData = onData;
  }

  // Starts sending `stream`'s tracks (none: a connection for room data only) with the room's
  // data channel; resolves with what negotiate() does.
  start(stream) {
    this.pc = new RTCPeerConnection(RTC_CONFIG);
    this.pc.onicecandidate = trickleTo(this.client, 'publisher');
    this.pc.onconnectionstatechange = () => this.onState(this.pc.connectionState);
    watchIce(this.pc, () => this.restartIce());
    for (const track of stream?.getTracks() ?? []) {
      const init = { direction: 'sendonly', streams: [stream] };
      if (track.kind === 'video') init.sendEncodings = CAMERA_LAYERS;
      this.pc.addTransceiver(track, init);
    }
    this.data = new RoomData(this.pc, this.onData);
    return this.negotiate();
  }

  // Sends our current offer. Resolves {answer, sources}: the server's answer (tracks by mid,
  // and any section it did not accept) and what we said each mid carries.
  async negotiate() {
    await this.pc.setLocalDescription(await this.pc.createOffer());
    const sources = {};
    for (const t of this.pc.getTransceivers()) {
      if (t.mid === null || t.currentDirection === 'stopped' || !t.sender.track) continue;
      sources[t.mid] = t === this.screen?.transceiver ? 'screen' : t.sender.track.kind === 'audio' ? 'microphone' : 'camera';
    }
    const answer = await this.client.request({ type: 'publish', sdp: this.pc.localDescription.sdp, sources });
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    return { answer, sources };
  }

  // A new offer with fresh ICE credentials (RFC 8445 §9): the server restarts its side and
  // DTLS carries on. One at a time; a restart asked for meanwhile follows it.
  async restartIce() {
    if (!this.pc) return;
    if (this.restarting) {
      this.restartAgain = true;
      return;
    }
    this.restarting = true;
    try {
      this.pc.restartIce();
      this.onRestarted(await this.negotiate());
    } catch (error) {
      this.onRestarted(null, error);
    } finally {
      this.restarting = false;
    }
    if (this.restartAgain && this.pc && this.pc.iceConnectionState !== 'connected') {
      this.restartAgain = false;
      this.restartIce();
    }
  }

  // Adds a screen track by renegotiation.
  shareScreen(track) {
    const transceiver = this.pc.addTransceiver(track, { direction: 'sendonly', sendEncodings: SCREEN_LAYERS });
    this.screen = { track, transceiver };
    return this.negotiate();
  }

  // Stops the screen track; the next offer carries its section stopped.
  stopScreen() {
    const screen = this.screen;
    this.screen = null;
    screen?.track.stop();
    screen?.transceiver.stop();
    return screen !== null;
  }

  close() {
    this.stopScreen();
    this.pc?.close();
    this.pc = null;
  }
}

export class Subscriber {
  pc = null;
  mids = new Map();  // mid → {track, participant, kind, source, muted}
  #queue = Promise.resolve();

  constructor(client, { onState, onTracks, onError }) {
    this.client = client;
    this.onState = onState;
    this.onTracks = onTracks;
    this.onError = onError;
  }

  // The server's offers are applied one at a time, in order.
  offer(msg) {
    this.#queue = this.#queue.then(() => this.#apply(msg)).catch((error) => this.onError(error));
  }

  async #apply(msg) {
    if (!this.pc) {
      this.pc = new RTCPeerConnection(RTC_CONFIG);
      this.pc.onicecandidate = trickleTo(this.client, 'subscriber');
      this.pc.onconnectionstatechange = () => this.onState(this.pc.connectionState);
      this.pc.ontrack = () => this.onTracks();
      // The server holds the offering side: it is asked for an offer that restarts ICE.
      watchIce(this.pc, () => this.client.send({ type: 'restart_ice', target: 'subscriber' }));
    }
    this.mids = new Map(msg.tracks.map((t) => [t.mid, t]));
    await this.pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
    await this.pc.setLocalDescription(await this.pc.createAnswer());
    this.client.send({ type: 'subscribe_answer', sdp: this.pc.localDescription.sdp, version: msg.version });
    this.onTracks();
  }

  // Received tracks by tile key: `p:<identity>` (camera and microphone) or `screen:<track>`.
  tracksByTile() {
    const out = new Map();
    for (const t of this.pc?.getTransceivers() ?? []) {
      const info = this.mids.get(t.mid);
      if (!info?.track || !info.participant || t.currentDirection === 'stopped') continue;
      const key = info.source === 'screen' ? `screen:${info.track}` : `p:${info.participant.identity}`;
      if (!out.has(key)) out.set(key, []);
      out.get(key).push(t.receiver.track);
    }
    return out;
  }

  // Per remote participant: decoded video frames (camera and screen) and audio bytes.
  async stats() {
    const out = {};
    for (const t of this.pc?.getTransceivers() ?? []) {
      const info = this.mids.get(t.mid);
      if (!info?.track || !info.participant) continue;
      const who = (out[info.participant.identity] ??= {});
      for (const s of inbound(await t.receiver.getStats())) {
        if (s.kind === 'video') who[info.source === 'screen' ? 'screen' : 'video'] = { framesDecoded: s.framesDecoded, packetsLost: s.packetsLost, frameWidth: s.frameWidth, frameHeight: s.frameHeight, bytesReceived: s.bytesReceived };
        else who.audio = { bytesReceived: s.bytesReceived, packetsLost: s.packetsLost };
      }
    }
    return out;
  }

  close() {
    this.pc?.close();
    this.pc = null;
    this.mids = new Map();
  }
}
