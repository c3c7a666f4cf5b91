#!/usr/bin/env bash
# Installs what the build and the tests need, when it is missing.
#   Debian/Ubuntu: apt-get (as root, or through sudo). Idempotent: when every
#                  package is present it only checks and returns in well under
#                  a second.
#   macOS, Windows (MSYS2): prints the equivalent steps instead of guessing.
# Usage: scripts/deps.sh [build|all]   (default all: build + the test peers)
set -euo pipefail

what=${1:-all}

# cgo libraries: Fyne (GLFW/OpenGL/X11), PortAudio, speexdsp/opus for DSP.
BUILD_PKGS=(gcc pkg-config libgl1-mesa-dev xorg-dev libwayland-dev libxkbcommon-dev wayland-protocols portaudio19-dev libspeexdsp-dev libopus-dev)
# Real peers and headless stand-ins used by the tests: a registrar/proxy,
# remote phones, SIP scenarios and scanners, a sound server with null sinks,
# an X server, a Secret Service, and tools to check audio and drive windows.
PEER_PKGS=(kamailio baresip-core linphone-cli sip-tester sipvicious pulseaudio pulseaudio-utils
	libasound2-plugins alsa-utils xvfb xdotool gnome-keyring dbus-x11 libsecret-tools sox)

# Each capability may add Debian packages in scripts/deps.d/<name>.txt (one
# package per line, '#' comments); they count as test peers.
here=$(cd "$(dirname "$0")" && pwd)
if compgen -G "$here/deps.d/*.txt" >/dev/null; then
	while read -r p; do
		p=${p%%#*}
		p=${p//[[:space:]]/}
		[ -n "$p" ] && PEER_PKGS+=("$p")
	done < <(cat "$here"/deps.d/*.txt)
fi

GO_MIN=1.25

say() { printf 'deps: %s\n' "$*"; }

check_go() {
	if ! command -v go >/dev/null 2>&1; then
		say "Go is not installed: install Go $GO_MIN or newer from your package manager or go.dev/dl, then run make again"
		return 1
	fi
	local v
	v=$(go env GOVERSION | sed 's/^go//')
	if [ "$(printf '%s\n%s\n' "$GO_MIN" "$v" | sort -V | head -1)" != "$GO_MIN" ]; then
		say "Go $v is too old: this project needs Go $GO_MIN or newer"
		return 1
	fi
}

macos() {
	cat <<EOF
deps: macOS detected. Install the build dependencies with Homebrew:
    brew install go pkg-config portaudio speexdsp opus
  Xcode command line tools provide the C compiler (xcode-select --install).
  The SIP/audio test peers (kamailio, baresip, sipp) are Linux-only in CI;
  on a Mac, 'make test' runs them when installed (brew install baresip sipp)
  and skips the ones that are missing with a message.
EOF
	if ! pkg-config --exists portaudio-2.0 2>/dev/null; then
		say "portaudio is missing: run the brew command above"
		return 1
	fi
}

windows() {
	cat <<EOF
deps: Windows detected. Build inside an MSYS2 MINGW64 shell:
    pacman -S --needed mingw-w64-x86_64-go mingw-w64-x86_64-gcc mingw-w64-x86_64-pkgconf \\
        mingw-w64-x86_64-portaudio mingw-w64-x86_64-speexdsp mingw-w64-x86_64-opus make
  Release builds for Windows are cross-compiled from Debian (make windows).
EOF
	if ! pkg-config --exists portaudio-2.0 2>/dev/null; then
		say "portaudio is missing: run the pacman command above"
		return 1
	fi
}

debian() {
	local pkgs=("${BUILD_PKGS[@]}")
	if [ "$what" = all ]; then
		pkgs+=("${PEER_PKGS[@]}")
	fi
	local missing=()
	local status
	for p in "${pkgs[@]}"; do
		status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
		case "$status" in
		*"install ok installed"*) ;;
		*) missing+=("$p") ;;
		esac
	done
	if [ ${#missing[@]} -eq 0 ]; then
		say "all ${#pkgs[@]} packages present"
		return 0
	fi
	say "installing: ${missing[*]}"
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1; then
			sudo=(sudo)
		else
			say "not root and no sudo: run as root:"
			say "    apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
			return 1
		fi
	fi
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	say "installed ${#missing[@]} packages"
}

case "$(uname -s)" in
Darwin) check_go && macos ;;
MINGW* | MSYS* | CYGWIN*) check_go && windows ;;
Linux)
	if command -v dpkg-query >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
		debian
		check_go
	else
		say "this Linux has no apt-get. Install the equivalents of:"
		say "    ${BUILD_PKGS[*]}"
		say "    ${PEER_PKGS[*]}"
		say "(Fedora: portaudio-devel mesa-libGL-devel libXcursor-devel libXrandr-devel libXinerama-devel libXi-devel libXxf86vm-devel ...)"
		check_go
	fi
	;;
*)
	say "unsupported system $(uname -s): install Go $GO_MIN+, a C compiler, pkg-config and PortAudio"
	exit 1
	;;
esac
