#!/usr/bin/env bash
# README command 1: install what is needed, build, and run rollcall in dev mode on
# https://127.0.0.1:7880/ (self-signed certificate, API key devkey). Extra arguments go to
# the server, e.g. scripts/dev.sh --port 7990.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset dev >/dev/null
cmake --build --preset dev
exec build/dev/signaling/rollcall --dev "$@"
