#!/usr/bin/env bash
# Installs everything rollcall needs on Debian 12: compilers, libraries (Debian packages
# only) and the npm packages the tests use. Safe to run again; CI=true forces apt-get update.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential dpkg-dev patch cmake ninja-build ccache pkg-config git ca-certificates
  clang-14 libclang-rt-14-dev clang-format-14
  libboost1.81-dev libssl-dev libsrtp2-dev libnice-dev libusrsctp-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev libcli11-dev libtomlplusplus-dev libspdlog-dev
  iproute2 nftables curl util-linux
  chromium firefox-esr python3-aiortc python3-websockets python3-numpy
  prometheus
  janus gnuplot-nox
)

missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ "${CI:-}" = "true" ] || [ "${#missing[@]}" -gt 0 ]; then
  echo "== apt-get update"
  $SUDO apt-get update -q
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  # The tests run their own Prometheus (and promtool); the packaged service is not wanted.
  if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
  # bench/run starts its own Janus (loopback only), never the packaged service.
  if [[ " ${missing[*]} " == *" janus "* ]] && command -v systemctl >/dev/null 2>&1; then
    $SUDO systemctl disable --now janus >/dev/null 2>&1 || true
  fi
fi

echo "== npm packages for the tests"
(cd tests && npm ci --no-audit --no-fund --loglevel=error)

scripts/build-srtp.sh
