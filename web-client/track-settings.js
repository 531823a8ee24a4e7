// What this page asks of each video it receives (docs/protocol.md, `track_settings`): the
// size its tile shows it at, so the server forwards the simulcast layer that fits, or
// nothing while it is paused. Sizes go in device pixels, rounded up to a step so a tile
// that moves by a pixel sends nothing; one message per track per change.

const STEP = 16;

export function settingsFor({ width, height, dpr = 1, paused = false }) {
  const round = (v) => Math.min(8192, Math.ceil((v * dpr) / STEP) * STEP);
  return { maxWidth: round(width), maxHeight: round(height), paused };
}

export class TrackSettings {
  #send;
  #sent = new Map();       // track id → last settings sent (JSON)
  #override = new Map();   // track id → settings set by hand (tests, a "pause video" button)
  #observer = null;
  #watched = new Map();    // element → track id

  constructor(send) {
    this.#send = send;
    if (typeof ResizeObserver !== 'undefined') {
      this.#observer = new ResizeObserver((entries) => {
        for (const e of entries) {
          const track = this.#watched.get(e.target);
          if (track) this.#fromElement(track, e.target);
        }
      });
    }
  }

  // Follows `element`'s size for `track` (a remote video track id); null stops.
  watch(element, track) {
    const before = this.#watched.get(element);
    if (before === track) return;
    if (track) {
      this.#watched.set(element, track);
      this.#observer?.observe(element);
      this.#fromElement(track, element);
    } else {
      this.#watched.delete(element);
      this.#observer?.unobserve(element);
    }
  }

  // Settings by hand, which the tile's size no longer changes.
  set(track, { width = 0, height = 0, paused = false }) {
    const settings = width || height ? settingsFor({ width, height, paused }) : { maxWidth: 0, maxHeight: 0, paused };
    this.#override.set(track, settings);
    this.#apply(track, settings);
  }

  // A fresh session (the server knows nothing we asked): ask again for what is watched.
  reset() {
    this.#sent.clear();
    this.#override.clear();
    for (const [element, track] of this.#watched) this.#fromElement(track, element);
  }

  // The track went away: forget it (the server forgets it too).
  forget(track) {
    this.#sent.delete(track);
    this.#override.delete(track);
  }

  #fromElement(track, element) {
    if (this.#override.has(track)) return;
    const { width, height } = element.getBoundingClientRect();
    if (!width || !height) return;
    this.#apply(track, settingsFor({ width, height, dpr: globalThis.devicePixelRatio || 1 }));
  }

  #apply(track, settings) {
    const text = JSON.stringify(settings);
    if (this.#sent.get(track) === text) return;
    this.#sent.set(track, text);
    this.#send({ type: 'track_settings', track, ...settings });
  }
}
