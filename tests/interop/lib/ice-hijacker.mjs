// A second client that holds a participant's leaked ICE credentials (both ufrag/password
// pairs, as anyone who saw the SDP would) and tries to take over the participant's transport
// from another UDP socket: it sends authenticated STUN binding requests that nominate its own
// address (USE-CANDIDATE, a high PRIORITY, ICE-CONTROLLING with the largest tie-breaker) and
// answers the server's checks to it, so to ICE it is a valid, nominated path. It counts what
// arrives by RFC 7983 class; a hijack that worked shows up as DTLS or SRTP/SRTCP here.
import { createHmac, randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { crc32 } from 'node:zlib';

const MAGIC = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const ATTR = {
  USERNAME: 0x0006, MESSAGE_INTEGRITY: 0x0008, XOR_MAPPED_ADDRESS: 0x0020, PRIORITY: 0x0024,
  USE_CANDIDATE: 0x0025, FINGERPRINT: 0x8028, ICE_CONTROLLING: 0x802a,
};

function attribute(type, value) {
  const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  padded.writeUInt16BE(type, 0);
  padded.writeUInt16BE(value.length, 2);
  value.copy(padded, 4);
  return padded;
}

// A STUN message with MESSAGE-INTEGRITY (RFC 5389 §15.4) keyed by `password`, then
// FINGERPRINT (§15.5).
export function stunMessage(type, transaction, attributes, password) {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(MAGIC, 4);
  transaction.copy(header, 8);
  let body = Buffer.concat(attributes);
  header.writeUInt16BE(body.length + 24, 2);  // as if MESSAGE-INTEGRITY were already there
  const mac = createHmac('sha1', password).update(Buffer.concat([header, body])).digest();
  body = Buffer.concat([body, attribute(ATTR.MESSAGE_INTEGRITY, mac)]);
  header.writeUInt16BE(body.length + 8, 2);
  const fingerprint = Buffer.alloc(4);
  fingerprint.writeUInt32BE((crc32(Buffer.concat([header, body])) ^ 0x5354554e) >>> 0, 0);
  body = Buffer.concat([body, attribute(ATTR.FINGERPRINT, fingerprint)]);
  return Buffer.concat([header, body]);
}

export function parseStun(datagram) {
  if (datagram.length < 20 || datagram.readUInt32BE(4) !== MAGIC) return null;
  const attributes = new Map();
  for (let at = 20; at + 4 <= datagram.length;) {
    const type = datagram.readUInt16BE(at);
    const length = datagram.readUInt16BE(at + 2);
    attributes.set(type, datagram.subarray(at + 4, at + 4 + length));
    at += 4 + Math.ceil(length / 4) * 4;
  }
  return { type: datagram.readUInt16BE(0), transaction: datagram.subarray(8, 20), attributes };
}

function xorMappedAddress(address, port) {
  const value = Buffer.alloc(8);
  value.writeUInt8(0x01, 1);  // IPv4
  value.writeUInt16BE(port ^ (MAGIC >>> 16), 2);
  const octets = address.split('.').map(Number);
  value.writeUInt32BE((((octets[0] << 24) | (octets[1] << 16) | (octets[2] << 8) | octets[3]) ^ MAGIC) >>> 0, 4);
  return value;
}

// `target`: { address, port } of the server's candidate; `server`/`client`: { ufrag, pwd }.
// `ssrc`: one of the victim's, for a forged SRTP packet.
// `nominate: false`: plain checks at the lowest priority, no USE-CANDIDATE: an attacker that
// never wins ICE.
export async function hijack({ target, server, client, ssrc = 0, durationMs = 4000, intervalMs = 50, nominate = true }) {
  const socket = dgram.createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const seen = { stun_requests: 0, stun_responses: 0, dtls: 0, srtp: 0, other: 0, bytes: 0 };
  socket.on('message', (datagram, from) => {
    seen.bytes += datagram.length;
    const first = datagram[0];
    if (first <= 3) {
      const stun = parseStun(datagram);
      if (stun?.type === BINDING_REQUEST) {
        ++seen.stun_requests;
        const reply = stunMessage(BINDING_SUCCESS, stun.transaction,
          [attribute(ATTR.XOR_MAPPED_ADDRESS, xorMappedAddress(from.address, from.port))], client.pwd);
        socket.send(reply, from.port, from.address);
      } else if (stun?.type === BINDING_SUCCESS) {
        ++seen.stun_responses;
      }
    } else if (first >= 20 && first <= 63) ++seen.dtls;
    else if (first >= 128 && first <= 191) ++seen.srtp;
    else ++seen.other;
  });
  const tieBreaker = Buffer.alloc(8, 0xff);
  const priority = Buffer.alloc(4);
  priority.writeUInt32BE(nominate ? 0xfffffff0 : 1, 0);  // above any real candidate's, or below
  const username = Buffer.from(`${server.ufrag}:${client.ufrag}`);
  const send = () => {
    const request = stunMessage(BINDING_REQUEST, randomBytes(12), [
      attribute(ATTR.USERNAME, username),
      attribute(ATTR.PRIORITY, priority),
      ...(nominate ? [attribute(ATTR.USE_CANDIDATE, Buffer.alloc(0))] : []),
      attribute(ATTR.ICE_CONTROLLING, tieBreaker),
    ], server.pwd);
    socket.send(request, target.port, target.address);
  };
  // Garbage from a path ICE validated, on every interval: a plaintext fatal DTLS alert at
  // epoch 0 (as if the peer aborted) and an SRTP-looking packet with the victim's SSRC.
  // Neither may disturb the established session.
  const alert = Buffer.from([21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 2, 40]);
  const forged = Buffer.concat([Buffer.from([0x80, 111, 0, 1, 0, 0, 0, 1]), Buffer.alloc(4), randomBytes(100)]);
  if (ssrc) forged.writeUInt32BE(ssrc, 8);
  const sendGarbage = () => {
    socket.send(alert, target.port, target.address);
    socket.send(forged, target.port, target.address);
  };
  const timer = setInterval(() => { send(); sendGarbage(); }, intervalMs);
  send();
  const local = socket.address();
  await new Promise((r) => setTimeout(r, durationMs));
  clearInterval(timer);
  socket.close();
  return { ...seen, local: `${local.address}:${local.port}` };
}

// The ICE credentials and the first IPv4 UDP candidate from an SDP.
export function iceOf(sdp) {
  const ufrag = sdp.match(/a=ice-ufrag:(\S+)/)?.[1];
  const pwd = sdp.match(/a=ice-pwd:(\S+)/)?.[1];
  const candidate = sdp.match(/a=candidate:\S+ 1 udp \d+ (\d+\.\d+\.\d+\.\d+) (\d+) typ/i);
  const ssrc = Number(sdp.match(/a=ssrc:(\d+) /)?.[1] ?? 0);
  return { ufrag, pwd, ssrc, candidate: candidate ? { address: candidate[1], port: Number(candidate[2]) } : null };
}
