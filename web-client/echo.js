// The echo test: publish camera and microphone, receive them back through the server.
import { SignalingClient } from './signaling.js';
import { fetchToken, explain, identityFor } from './common.js';
import { RTC_CONFIG, acceptCandidates, deviceProblem, firstFrame, inbound, trickleTo } from './media.js';

const $ = (id) => document.getElementById(id);
const echo = { state: 'idle', timings: {}, media: null, error: null };
window.rollcallEcho = echo;

function setConnection(state, text) {
  $('connection').dataset.state = state;
  $('connection').textContent = text;
}

function showError(text) {
  echo.error = text;
  $('error').textContent = text;
  $('error').hidden = !text;
  $('start-view').hidden = false;
  $('echo-view').hidden = true;
}

function detail(term, value) {
  let dd = document.querySelector(`#details dd[data-term="${term}"]`);
  if (!dd) {
    const dt = document.createElement('dt');
    dt.textContent = term;
    dd = document.createElement('dd');
    dd.dataset.term = term;
    $('details').append(dt, dd);
  }
  dd.textContent = value;
}

// inbound-rtp for the echoed tracks, for the page and for tests.
echo.stats = async () => {
  if (!echo.pc) return null;
  const out = { video: null, audio: null };
  for (const s of inbound(await echo.pc.getStats())) out[s.kind] = s;
  return out;
};

async function start(event) {
  event?.preventDefault();
  showError('');
  $('start').disabled = true;
  setConnection('connecting', 'connecting…');
  const t0 = performance.now();
  try {
    const room = $('room').value.trim();
    const name = $('name').value.trim();
    let token = $('token').value.trim();
    if (!token) {
      token = await fetchToken(room, identityFor(name), name);
      if (!token) {
        $('token-field').hidden = false;
        throw new Error('Paste the access token you were given.');
      }
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
    } catch (error) {
      throw new Error(`The camera or microphone is not available: ${deviceProblem(error)}. Allow access and try again.`);
    }
    $('local').srcObject = stream;

    const client = new SignalingClient();
    echo.client = client;
    await client.join(token, { autoSubscribe: false });  // echo receives only itself
    echo.timings.joined = performance.now() - t0;
    const pc = new RTCPeerConnection(RTC_CONFIG);
    echo.pc = pc;
    for (const track of stream.getTracks()) pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
    pc.onicecandidate = trickleTo(client, 'publisher');
    const remote = new MediaStream();
    pc.ontrack = ({ track }) => {
      remote.addTrack(track);
      $('remote').srcObject = remote;
    };
    pc.onconnectionstatechange = () => {
      detail('Peer connection', pc.connectionState);
      if (pc.connectionState === 'failed') showError('The media connection failed.');
    };
    acceptCandidates(client, () => pc);
    client.addEventListener('media', ({ detail: m }) => {
      echo.media = m;
      if (m.state === 'connected') {
        echo.timings.mediaConnected = performance.now() - t0;
        detail('DTLS', `${m.dtls.version} ${m.dtls.cipher}`);
        detail('SRTP', m.srtp);
      } else {
        showError(`Media failed: ${m.reason}`);
      }
    });
    client.addEventListener('kicked', ({ detail: m }) => showError(m.message || 'You were removed.'));
    client.addEventListener('close', () => { setConnection('closed', 'disconnected'); });

    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const answer = await client.request({ type: 'publish', echo: true, sdp: offer.sdp });
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    // A section the server did not accept comes back to no one: say which and why.
    echo.rejected = answer.rejected ?? [];
    for (const r of echo.rejected) detail(`Not echoed (${r.kind})`, r.message);
    echo.state = 'publishing';
    setConnection('connected', 'connected');
    $('start-view').hidden = true;
    $('echo-view').hidden = false;
    $('stop').hidden = false;
    firstFrame($('remote')).then((at) => {
      echo.timings.firstFrame = at - t0;
      detail('First echoed frame', `${Math.round(echo.timings.firstFrame)} ms after start`);
    });
  } catch (error) {
    setConnection('idle', 'not connected');
    showError(explain(error.code, error.message));
  } finally {
    $('start').disabled = false;
  }
}

// ICE restart (e.g. after a network change): new credentials both ways; DTLS carries on.
echo.restartIce = async () => {
  const ufrag = (sdp) => sdp.match(/a=ice-ufrag:(\S+)/)?.[1];
  const before = ufrag(echo.pc.remoteDescription.sdp);
  echo.pc.restartIce();
  const offer = await echo.pc.createOffer();
  await echo.pc.setLocalDescription(offer);
  const answer = await echo.client.request({ type: 'renegotiate', sdp: offer.sdp });
  await echo.pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
  return { before, after: ufrag(answer.sdp) };
};

$('start-form').addEventListener('submit', start);
$('stop').addEventListener('click', () => {
  echo.pc?.close();
  echo.client?.leave();
  $('stop').hidden = true;
  $('start-view').hidden = false;
  $('echo-view').hidden = true;
});
const params = new URLSearchParams(location.search);
if (params.get('room')) $('room').value = params.get('room');
if (params.get('name')) $('name').value = params.get('name');
if (params.get('auto') === '1') start();
