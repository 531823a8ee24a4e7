// The video tiles: one per participant (its camera and microphone), one per screen share,
// and our own preview. Views only: what to show comes from room-state.js.

export class Tiles {
  #container;
  #tiles = new Map();  // key → {el, video, stream, name, badges, avatar}

  constructor(container) {
    this.#container = container;
  }

  keys() {
    return [...this.#tiles.keys()];
  }

  get(key) {
    return this.#tiles.get(key);
  }

  // The tile for `key`, created on first use. `local`: our own media (never played back).
  ensure(key, label, { local = false } = {}) {
    let t = this.#tiles.get(key);
    if (!t) {
      t = this.#create(key, local);
      this.#tiles.set(key, t);
      this.#layout();
    }
    if (t.label !== label) {
      t.label = label;
      t.name.textContent = label;
      t.avatar.textContent = (label || '?').slice(0, 1).toUpperCase();
    }
    return t;
  }

  remove(key) {
    const t = this.#tiles.get(key);
    if (!t) return;
    t.el.remove();
    this.#tiles.delete(key);
    this.#layout();
  }

  clear() {
    for (const key of this.keys()) this.remove(key);
  }

  // Shows exactly `tracks` in the tile; starts playback when media arrives.
  setTracks(key, tracks) {
    const t = this.#tiles.get(key);
    if (!t) return;
    for (const old of t.stream.getTracks()) if (!tracks.includes(old)) t.stream.removeTrack(old);
    for (const track of tracks) if (!t.stream.getTracks().includes(track)) t.stream.addTrack(track);
    if (tracks.length && t.video.paused) t.video.play().catch(() => {});
  }

  // Badges ({kind, text}) and whether video shows (else the avatar does).
  render(key, badges, showVideo) {
    const t = this.#tiles.get(key);
    if (!t) return;
    t.badges.replaceChildren(...badges.map((b) => badge(b.kind, b.text)));
    t.el.classList.toggle('no-video', !(showVideo && t.stream.getVideoTracks().length > 0));
  }

  #create(key, local) {
    const el = document.createElement('figure');
    el.className = 'tile';
    el.dataset.key = key;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true;
    video.muted = local;
    const avatar = document.createElement('div');
    avatar.className = 'tile-avatar';
    const caption = document.createElement('figcaption');
    const name = document.createElement('span');
    name.className = 'tile-name';
    const badges = document.createElement('span');
    badges.className = 'badges';
    caption.append(name, badges);
    el.append(video, avatar, caption);
    this.#container.append(el);
    const stream = new MediaStream();
    video.srcObject = stream;
    return { el, video, stream, name, badges, avatar, label: null };
  }

  #layout() {
    const n = Math.max(1, this.#tiles.size);
    const columns = n <= 1 ? 1 : n <= 4 ? 2 : n <= 9 ? 3 : 4;
    this.#container.style.setProperty('--columns', columns);
  }
}

export function badge(kind, text) {
  const b = document.createElement('span');
  b.className = `badge ${kind}`;
  b.title = text;
  b.textContent = text;
  return b;
}
