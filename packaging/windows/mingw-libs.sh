#!/usr/bin/env bash
# Builds the static C libraries the Windows exe links, for mingw-w64
# (x86_64-w64-mingw32), into PREFIX: PortAudio 19.7.0 with the WMME,
# DirectSound, WASAPI and WDM-KS host APIs (bookworm's 19.6.0 fails in
# WASAPI with mingw-w64 10), speexdsp 1.2.1 and opus 1.3.1 (the sip
# package's codec, bookworm's version). The source tarballs come
# from Debian's pool, pinned by sha256 (the values of Debian's signed .dsc
# files), and are kept in build/cache because the pool drops old versions.
# A finished PREFIX with the same pins and flags is reused: the rebuild is
# instant. opus: _FORTIFY_SOURCE=0, or its configure adds =2, whose checks
# (__memcpy_chk) would need libssp, which is no system DLL.
# Usage: packaging/windows/mingw-libs.sh PREFIX
set -euo pipefail

prefix=${1:?usage: mingw-libs.sh PREFIX}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${MINGW_CACHE:-$repo/build/cache}
host=x86_64-w64-mingw32
pool=http://deb.debian.org/debian/pool/main

# name, tarball, sha256, configure flags
libs=(
	"portaudio|p/portaudio19/portaudio19_19.7.0.orig.tar.gz|5af29ba58bbdbb7bbcefaaecc77ec8fc413f0db6f4c4e286c40c3e1b83174fa0|--with-winapi=wmme,directx,wasapi,wdmks --without-jack --without-alsa --without-oss"
	"speexdsp|s/speexdsp/speexdsp_1.2.1.orig.tar.gz|8c777343e4a6399569c72abc38a95b24db56882c83dbdb6c6424a5f4aeb54d3d|--disable-examples"
	"opus|o/opus/opus_1.3.1.orig.tar.gz|65b58e1e25b2a114157014736a3d9dfeaad8d41be1c8179866f144a2fb44ff9d|--disable-doc --disable-extra-programs CPPFLAGS=-D_FORTIFY_SOURCE=0"
)

command -v $host-gcc >/dev/null || { echo "mingw-libs: $host-gcc is missing (apt-get install gcc-mingw-w64-x86-64-win32)" >&2; exit 1; }
mkdir -p "$cache" "$prefix"
prefix=$(cd "$prefix" && pwd)

for entry in "${libs[@]}"; do
	IFS='|' read -r name path sum flags <<<"$entry"
	# The stamp names the tarball and the flags: changing either rebuilds.
	stamp="$prefix/.$name.$(echo "$sum $flags" | sha256sum | cut -c1-16)"
	if [ -f "$stamp" ]; then
		continue
	fi
	tarball="$cache/$(basename "$path")"
	if [ ! -f "$tarball" ] || ! echo "$sum  $tarball" | sha256sum -c --quiet - 2>/dev/null; then
		echo "mingw-libs: fetching $(basename "$path")"
		curl -fsS --retry 3 -m 300 -o "$tarball.part" "$pool/$path"
		mv "$tarball.part" "$tarball"
	fi
	if ! echo "$sum  $tarball" | sha256sum -c --quiet -; then
		echo "mingw-libs: $tarball does not match the pinned sha256 $sum" >&2
		rm -f "$tarball"
		exit 1
	fi
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	tar -xzf "$tarball" -C "$work"
	src=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)
	echo "mingw-libs: building $name for $host"
	# PKG_CONFIG_LIBDIR: without it configure finds the host's JACK/ALSA.
	# shellcheck disable=SC2086
	(cd "$src" && PKG_CONFIG_LIBDIR=/nonexistent ./configure --quiet --host=$host --prefix="$prefix" \
		--enable-static --disable-shared $flags >/dev/null &&
		make -s -j"$(nproc)" >/dev/null 2>"$work/make.log" || { cat "$work/make.log" >&2; exit 1; }
		make -s install >/dev/null)
	rm -rf "$work"
	trap - EXIT
	touch "$stamp"
done
echo "mingw-libs: $prefix ready ($(du -sh "$prefix" | cut -f1))"
