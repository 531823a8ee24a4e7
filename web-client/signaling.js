// The signaling connection: one WebSocket at /rtc, JSON messages (docs/protocol.md).

export class SignalingError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

// How long requests sent before a drop wait for their replayed replies after a resume.
const PARKED_REPLY_MS = 3000;

export class SignalingClient extends EventTarget {
  #ws = null;
  #nextId = 1;
  #pending = new Map();  // id → {resolve, reject, join}
  #parked = new Map();   // requests of a dropped socket, until a resume replays their replies
  #parkedTimer = null;

  constructor(url) {
    super();
    this.url = url ?? SignalingClient.defaultUrl();
  }

  static defaultUrl() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/rtc`;
  }

  // Opens a new WebSocket and joins on it: resolves with the `joined` message, rejects with a
  // SignalingError. `extra` adds join fields (autoSubscribe, or resume: the credential the
  // last `joined` gave). A refused resume leaves the socket open for a fresh join (rejoin()).
  // Called again after a drop, it replaces the old socket; requests that were waiting then
  // are kept, and answered if the server replays their replies after a resume.
  join(token, extra = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.#ws = ws;
      let joined = false;
      ws.addEventListener('open', () => {
        this.request({ type: 'join', token, ...extra }).then((msg) => { joined = true; resolve(msg); }, reject);
      });
      ws.addEventListener('message', (event) => { if (ws === this.#ws) this.#onMessage(event); });
      ws.addEventListener('close', (event) => {
        if (ws !== this.#ws) return;  // a socket already replaced
        // The join on this socket fails; what was asked before it waits for a resume.
        for (const [id, waiter] of this.#pending) {
          if (waiter.join) waiter.reject(new SignalingError('connection_closed', event.reason || 'the connection closed'));
          else this.#parked.set(id, waiter);
        }
        this.#pending.clear();
        if (!joined) reject(new SignalingError('connection_failed', 'could not reach the server'));
        this.dispatchEvent(new CustomEvent('close', { detail: { code: event.code, reason: event.reason } }));
      });
    });
  }

  // A fresh join on the open socket, after the server refused a resume.
  rejoin(token, extra = {}) {
    this.#failParked();
    return this.request({ type: 'join', token, ...extra });
  }

  // Requests asked before a drop that no resume will answer fail now.
  #failParked() {
    clearTimeout(this.#parkedTimer);
    for (const { reject } of this.#parked.values()) reject(new SignalingError('connection_closed', 'the connection closed'));
    this.#parked.clear();
  }

  // Sends a message with an id; resolves with the reply that carries it as "ref".
  request(message) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, join: message.type === 'join' });
      this.send({ ...message, id });
    });
  }

  send(message) {
    if (this.#ws?.readyState === WebSocket.OPEN) this.#ws.send(JSON.stringify(message));
  }

  leave() {
    this.send({ type: 'leave' });
  }

  close() {
    this.#failParked();
    this.#ws?.close();
  }

  #onMessage(event) {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
    }
    if (msg.type === 'joined') {
      // Resumed: the server replays replies that were due, right after this message; what
      // it does not answer within a few seconds never reached it. Otherwise nothing will.
      if (msg.resumed) {
        for (const [id, waiter] of this.#parked) this.#pending.set(id, waiter);
        this.#parked.clear();
        this.#parkedTimer = setTimeout(() => {
          for (const [id, waiter] of this.#pending) {
            if (id < msg.ref) {
              this.#pending.delete(id);
              waiter.reject(new SignalingError('connection_closed', 'the connection closed'));
            }
          }
        }, PARKED_REPLY_MS);
      } else {
        this.#failParked();
      }
    }
    if (msg.ref !== undefined && this.#pending.has(msg.ref)) {
      const { resolve, reject } = this.#pending.get(msg.ref);
      this.#pending.delete(msg.ref);
      if (msg.type === 'error') reject(new SignalingError(msg.code, msg.message));
      else resolve(msg);
      return;
    }
    this.dispatchEvent(new CustomEvent(msg.type, { detail: msg }));
  }
}
