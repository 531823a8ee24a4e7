// Room data (docs/protocol.md, Data channels): chat, raised hands and reactions, all on the
// "chat" data channel of the publisher connection. The server stamps each message with its
// sender ("from") and time ("ts") whatever the sender wrote; a message without "from" is the
// server's own (an error about something we sent). The server does not echo our own
// messages: the page shows them as it sends them.

export const CHANNEL = 'chat';
export const REACTIONS = ['👍', '👏', '😂', '❤️', '🎉'];
export const MAX_TEXT = 2000;  // characters; the server takes up to 16 KiB a message
export const MAX_LINES = 200;  // chat lines the page keeps

// What a received text means for the page, or null for anything it does not understand.
export function interpret(text) {
  let msg;
  try {
    msg = JSON.parse(text);
  } catch {
    return null;
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return null;
  if (!('from' in msg)) {
    return msg.type === 'error' ? { kind: 'error', code: String(msg.code ?? ''), message: String(msg.message ?? '') } : null;
  }
  const from = String(msg.from);
  const at = Number.isFinite(msg.ts) ? msg.ts : Date.now();
  switch (msg.type) {
    case 'chat':
      return typeof msg.text === 'string' && msg.text.trim() ? { kind: 'chat', from, at, text: msg.text.slice(0, MAX_TEXT) } : null;
    case 'hand':
      return { kind: 'hand', from, at, raised: msg.raised === true };
    case 'reaction':
      return REACTIONS.includes(msg.emoji) ? { kind: 'reaction', from, at, emoji: msg.emoji } : null;
    default:
      return null;
  }
}

// A chat line as shown: who (the room's name for them), when, what, and whether it is ours.
export function chatLine(entry, selfIdentity, nameFor) {
  const mine = entry.from === selfIdentity;
  return {
    name: mine ? 'You' : nameFor(entry.from),
    time: new Date(entry.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }),
    text: entry.text,
    mine,
  };
}

// Who has a hand up after `entry` (a Set of identities, not modified).
export function withHand(hands, entry) {
  const next = new Set(hands);
  if (entry.raised) next.add(entry.from);
  else next.delete(entry.from);
  return next;
}

// The "chat" channel on a peer connection; create before the connection's first offer.
export class RoomData {
  #channel;
  #onEntry;

  // `onEntry(entry)` gets every interpreted message (see interpret()), and {kind: 'open'} and
  // {kind: 'closed'} as the channel opens and closes.
  constructor(pc, onEntry) {
    this.#onEntry = onEntry;
    this.#channel = pc.createDataChannel(CHANNEL);
    this.#channel.addEventListener('message', ({ data }) => {
      const entry = typeof data === 'string' ? interpret(data) : null;
      if (entry) this.#onEntry(entry);
    });
    this.#channel.addEventListener('open', () => this.#onEntry({ kind: 'open' }));
    this.#channel.addEventListener('close', () => this.#onEntry({ kind: 'closed' }));
  }

  get open() {
    return this.#channel.readyState === 'open';
  }

  // Sends a message object; false when the channel is not open.
  send(message) {
    if (!this.open) return false;
    this.#channel.send(JSON.stringify(message));
    return true;
  }
}
