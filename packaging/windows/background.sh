#!/usr/bin/env bash
# Starts `make windows` (the mingw-w64 cross-build of softphone.exe) in the
# background, at low priority, and returns at once. `make test` runs it
# (with SOFTPHONE_TEST_WINDOWS=1) before go vet, so the cold cross-build (Go's standard library for
# windows, Fyne, GLFW and go-gl through cgo with mingw, the static
# PortAudio and speexdsp) overlaps the vet and the other packages' tests.
# The packaging test waits for it (build/windows/background.status) and
# then runs `make windows` itself, which with the warm cache takes seconds
# and makes sure the exe it packs is built from the current tree.
#
# The job's output goes to build/windows/background.log; the status file
# holds "running <pid>" while it runs, then "exit <code> <seconds>".
# SOFTPHONE_TEST_WINDOWS=0 turns it off (the packaging test then checks an
# exe from an earlier make windows, if any).
# Usage: packaging/windows/background.sh PKG_VERSION
set -euo pipefail
version=${1:?usage: background.sh PKG_VERSION}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
if [ "${SOFTPHONE_TEST_WINDOWS:-}" = 0 ]; then
	exit 0 # the packaging test checks an exe from an earlier make windows, if any
fi
dir=build/windows
mkdir -p "$dir"
status=$dir/background.status
if [ -f "$status" ] && read -r state pid _ <"$status" && [ "$state" = running ] && kill -0 "$pid" 2>/dev/null; then
	echo "windows cross-build: already running in the background (pid $pid)"
	exit 0
fi
rm -f "$status"
# setsid: the job outlives this make recipe; nice: the tests come first.
setsid nice -n 10 bash -c '
	status=$1; log=$2; version=$3
	echo "running $$" >"$status.tmp" && mv -f "$status.tmp" "$status"
	start=$(date +%s)
	code=0
	make --no-print-directory PKG_VERSION="$version" windows >"$log" 2>&1 </dev/null || code=$?
	echo "exit $code $(( $(date +%s) - start ))" >"$status.tmp" && mv -f "$status.tmp" "$status"
' background-windows "$status" "$dir/background.log" "$version" </dev/null >/dev/null 2>&1 &
# Wait until the job has written its pid (the old status is gone), so the
# test never sees a stale status from an earlier run.
for _ in $(seq 100); do
	if [ -f "$status" ] && read -r state pid _ <"$status" && [ "$state" = running ]; then
		echo "windows cross-build: started in the background (pid $pid, log $dir/background.log)"
		exit 0
	fi
	sleep 0.1
done
echo "windows cross-build: the background job did not start (see $dir/background.log)" >&2
exit 1
