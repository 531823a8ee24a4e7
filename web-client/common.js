// Helpers shared by the client's pages.

export const MESSAGES = {
  token_expired: 'Your access token has expired. Get a new one and join again.',
  token_not_yet_valid: 'Your access token is not valid yet. Check your clock.',
  token_invalid_signature: 'Your access token was not signed by this server\'s key.',
  token_unknown_issuer: 'Your access token comes from an issuer this server does not know.',
  token_malformed: 'That is not a valid access token.',
  token_too_large: 'That access token is too large.',
  token_unsupported_algorithm: 'Your access token uses a signature algorithm this server refuses.',
  token_missing_claim: 'Your access token lacks a required field (identity, expiry or grant).',
  token_hidden_not_supported: 'rollcall does not admit hidden participants.',
  token_revoked: 'An administrator removed the session this access token was used for. Ask for a new one.',
  banned: 'An administrator removed you from this room for a while.',
  permission_denied: 'Your access token does not allow joining rooms.',
  room_not_allowed: 'Your access token is not for this room.',
  room_not_found: 'There is no such room.',
  room_full: 'The room is full.',
  too_many_rooms: 'The server cannot open another room right now.',
  server_full: 'The server is full. Try again in a moment.',
  connection_failed: 'Could not reach the server.',
  sdes_not_supported: 'This browser offered SDES keying; rollcall requires DTLS-SRTP.',
  media_unavailable: 'This server has no media plane.',
  transport_failed: 'The media transport could not start.',
  rate_limited: 'Too many messages; slow down.',
};

export function explain(code, fallback) {
  return MESSAGES[code] ?? fallback ?? code;
}

// Dev mode's token endpoint; null when the server is not in dev mode.
export async function fetchToken(room, identity, name) {
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

// A unique identity from a display name, so two tabs with one name do not replace each other.
export function identityFor(name) {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'guest';
  return `${slug}-${crypto.getRandomValues(new Uint32Array(1))[0].toString(36)}`;
}
