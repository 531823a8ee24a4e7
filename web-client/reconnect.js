// When the signaling connection drops, the page tries again (docs/protocol.md, Reconnecting):
// first a resume within the server's reconnect grace, then fresh joins, spaced out with
// exponential backoff and full jitter so a restarted server is not hit by every client at
// once, until RECONNECT_GIVE_UP_MS have passed. Pure, so tests/web can check it.

export const RECONNECT_GIVE_UP_MS = 60_000;
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

// The wait before attempt `attempt` (0, 1, …): about 250 ms, doubling to at most 5 s, each
// drawn uniformly from [half, whole] of that (`random` in [0, 1)).
export function reconnectDelay(attempt, random = Math.random) {
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.min(attempt, 16));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

// Codes after which a resume cannot work and a fresh join should follow.
export const RESUME_REFUSED = new Set(['resume_used', 'resume_expired', 'resume_invalid']);

// Codes after which trying again is pointless: the person must do something.
export const FINAL_CODES = new Set([
  'token_expired', 'token_revoked', 'banned', 'permission_denied', 'room_not_allowed', 'room_not_found',
  'token_invalid_signature', 'token_unknown_issuer', 'token_malformed', 'token_missing_claim',
]);
