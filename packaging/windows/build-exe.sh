#!/usr/bin/env bash
# Cross-builds softphone.exe for windows/amd64 from Debian with mingw-w64:
# Fyne (GLFW) and the static PortAudio/speexdsp of mingw-libs.sh, a GUI
# subsystem exe that needs only system DLLs. The icon, manifest and version
# information are compiled with windres and linked as an object file (no
# .syso is written into cmd/softphone).
# Env: VERSION (x.y.z), PA_PREFIX (mingw-libs.sh prefix), ICONS (dir of
# N.png), OUT (the exe).
set -euo pipefail
: "${VERSION:?}" "${PA_PREFIX:?}" "${ICONS:?}" "${OUT:?}"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
out_dir=$(dirname "$OUT")
mkdir -p "$out_dir"
res="$out_dir/res"
mkdir -p "$res"

icotool -c -o "$res/softphone.ico" "$ICONS"/16.png "$ICONS"/32.png "$ICONS"/48.png "$ICONS"/64.png "$ICONS"/128.png "$ICONS"/256.png
cp "$here/softphone.exe.manifest" "$res/"
sed -e "s/@VERSION_COMMA@/${VERSION//./,},0/" -e "s/@VERSION@/$VERSION/" "$here/softphone.rc.in" >"$res/softphone.rc"
(cd "$res" && x86_64-w64-mingw32-windres -O coff -i softphone.rc -o rsrc.o)

# clang compiles the cgo C parts when it is installed: cgo's type probe of
# go-gl/gl makes mingw's gcc search windows.h for a "did you mean" on each
# of about 2,850 names (11 CPU-minutes on one thread, cold), clang takes
# seconds (packaging/README.md has the figures). mingw's gcc links either
# way (-extld: with clang as CC, Go would pass it --compress-debug-sections,
# which mingw's ld refuses). WINDOWS_CC=gcc keeps gcc for everything.
export CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++
extld=
clang=$(command -v clang clang-14 | head -n1 || true)
if [ "${WINDOWS_CC:-}" != gcc ] && [ -n "$clang" ]; then
	export CC="$clang --target=x86_64-w64-mingw32"
	extld="-extld=x86_64-w64-mingw32-gcc"
fi
echo "build-exe: cgo with $CC"
export PKG_CONFIG_LIBDIR="$(cd "$PA_PREFIX" && pwd)/lib/pkgconfig" PKG_CONFIG_PATH=
go build -trimpath \
	-ldflags "-s -w -H=windowsgui -X main.version=$VERSION -linkmode=external $extld -extldflags=$(cd "$res" && pwd)/rsrc.o" \
	-o "$OUT" ./cmd/softphone
echo "build-exe: $OUT ($(du -h "$OUT" | cut -f1))"
