#!/usr/bin/env bash
# Runs a command inside a private network namespace that holds only loopback, so WebRTC
# peers (Chromium, aiortc) can reach nothing but 127.0.0.1 (BROWSER-TESTING.md).
set -euo pipefail
exec unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
