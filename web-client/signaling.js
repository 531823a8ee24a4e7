// The signaling connection: one WebSocket at /rtc, JSON messages (docs/protocol.md).

export class SignalingError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

export class SignalingClient extends EventTarget {
  #ws = null;
  #nextId = 1;
  #pending = new Map();

  constructor(url) {
    super();
    this.url = url ?? SignalingClient.defaultUrl();
  }

  static defaultUrl() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${scheme}//${location.host}/rtc`;
  }

  // Resolves with the `joined` message, rejects with a SignalingError. `extra` adds join
  // fields (e.g. autoSubscribe).
  join(token, extra = {}) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url);
      this.#ws = ws;
      let joined = false;
      ws.addEventListener('open', () => {
        this.request({ type: 'join', token, ...extra }).then((msg) => { joined = true; resolve(msg); }, reject);
      });
      ws.addEventListener('message', (event) => this.#onMessage(event));
      ws.addEventListener('close', (event) => {
        for (const { reject: fail } of this.#pending.values()) {
          fail(new SignalingError('connection_closed', event.reason || 'the connection closed'));
        }
        this.#pending.clear();
        if (!joined) reject(new SignalingError('connection_failed', 'could not reach the server'));
        this.dispatchEvent(new CustomEvent('close', { detail: { code: event.code, reason: event.reason } }));
      });
    });
  }

  // Sends a message with an id; resolves with the reply that carries it as "ref".
  request(message) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
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
    this.#ws?.close();
  }

  #onMessage(event) {
    let msg;
    try {
      msg = JSON.parse(event.data);
    } catch {
      return;
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
