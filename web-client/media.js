// WebRTC pieces every page shares: the peer connection configuration, trickle both ways,
// receive statistics, the first decoded frame, and what went wrong with the devices.

// One transport per connection (max-bundle), rtcp-mux required, no ICE servers: the server
// is reachable directly and tells only its own addresses.
export const RTC_CONFIG = { iceServers: [], bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' };

// An onicecandidate handler that trickles our candidates to the server for `target`.
export function trickleTo(client, target) {
  return ({ candidate }) => client.send({ type: 'trickle', target, candidate: candidate ? candidate.candidate : null });
}

// Hands the server's trickled candidates to the connection `connectionFor(target)` returns.
export function acceptCandidates(client, connectionFor) {
  client.addEventListener('trickle', ({ detail: m }) => {
    const pc = connectionFor(m.target ?? 'publisher');
    if (pc && m.candidate) pc.addIceCandidate({ candidate: m.candidate, sdpMid: m.sdpMid }).catch(() => {});
  });
}

// inbound-rtp of a stats report: {kind, framesDecoded, bytesReceived, packetsLost}.
export function inbound(report) {
  const out = [];
  report.forEach((s) => {
    if (s.type !== 'inbound-rtp') return;
    out.push({ kind: s.kind, framesDecoded: s.framesDecoded ?? 0, bytesReceived: s.bytesReceived ?? 0, packetsLost: s.packetsLost,
      frameWidth: s.frameWidth ?? 0, frameHeight: s.frameHeight ?? 0 });
  });
  return out;
}

// Resolves with performance.now() when `video` shows its first frame (no polling).
export function firstFrame(video) {
  return new Promise((resolve) => {
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(() => resolve(performance.now()));
    else video.addEventListener('loadeddata', () => resolve(performance.now()), { once: true });
  });
}

// Why the camera and microphone could not be had, for a person.
export function deviceProblem(error) {
  if (error.name === 'NotAllowedError') return 'you did not allow the camera and microphone';
  if (error.name === 'NotFoundError') return 'no camera or microphone was found';
  return error.name;
}
