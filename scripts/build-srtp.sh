#!/usr/bin/env bash
# Builds libsrtp2 against OpenSSL from Debian's own source package (the same 2.5.0 as
# libsrtp2-dev, Debian's patches applied) into build/deps/libsrtp2, a static library the
# rollcall build links. Debian's binary package uses NSS: ~2x slower for AEAD_AES_128_GCM
# and ~3x for AES_CM_128_HMAC_SHA1_80 here, with a lock and an allocation per call
# (bench/README.md). Safe to run again: does nothing once the library is built.
set -euo pipefail
cd "$(dirname "$0")/.."

PREFIX="$PWD/build/deps/libsrtp2"
STAMP="$PREFIX/.built-from"
WORK="$PWD/build/deps/libsrtp2-src"
# Our patches on top of Debian's (scripts/patches/libsrtp2-*.patch); a change to them
# rebuilds the library.
PATCHES=(scripts/patches/libsrtp2-*.patch)
PATCH_SUM="$(cat "${PATCHES[@]}" | sha256sum | cut -c1-16)"
if [ -f "$STAMP" ] && [ -f "$PREFIX/lib/libsrtp2.a" ] && grep -q "patches $PATCH_SUM" "$STAMP"; then
  exit 0
fi

echo "== libsrtp2 with OpenSSL, from Debian's source package"
rm -rf "$WORK" "$PREFIX"
mkdir -p "$WORK/apt/lists/partial" "$WORK/apt/cache/archives/partial" "$WORK/apt/sources"
# A private deb-src list: the machine's own apt configuration is left as it is.
. /etc/os-release
cat > "$WORK/apt/sources/deb-src.sources" <<SOURCES
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: ${VERSION_CODENAME:-bookworm}
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
APT=(-o Dir::Etc::SourceList=/dev/null -o "Dir::Etc::SourceParts=$WORK/apt/sources"
     -o "Dir::State::Lists=$WORK/apt/lists" -o "Dir::Cache=$WORK/apt/cache"
     -o APT::Sandbox::User=root)
apt-get "${APT[@]}" update -q >/dev/null
# The version Debian ships as libsrtp2-dev, so headers and behaviour match what is installed.
VERSION="$(dpkg-query -W -f='${Version}' libsrtp2-dev)"
(cd "$WORK" && apt-get "${APT[@]}" source --download-only -q "libsrtp2=$VERSION" >/dev/null)
# apt checked the files against the signed Sources index; the .dsc signer's key is not
# in a keyring here, so dpkg-source's own check is only a warning.
dpkg-source -x "$WORK"/libsrtp2_*.dsc "$WORK/src" >/dev/null 2>&1
for p in "${PATCHES[@]}"; do patch -s -p1 -d "$WORK/src" < "$p"; done
cmake -S "$WORK/src" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DENABLE_OPENSSL=ON -DTEST_APPS=ON -DBUILD_SHARED_LIBS=OFF \
  -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DCMAKE_INSTALL_PREFIX="$PREFIX" >/dev/null
cmake --build "$WORK/build" >/dev/null
# libsrtp's own tests (test vectors for every cipher, SRTP/SRTCP with each profile, streams
# added and removed, replay windows) on the patched library, before anything links it;
# not rtpw, which sends over UDP.
(cd "$WORK/build" && ctest -E rtpw --output-on-failure >/dev/null)
cmake --install "$WORK/build" >/dev/null
echo "libsrtp2 $VERSION (OpenSSL), patches $PATCH_SUM" > "$STAMP"
rm -rf "$WORK"
echo "built $(cat "$STAMP") in $PREFIX"
