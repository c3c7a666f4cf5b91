#!/usr/bin/env bash
# Makes the macOS .app skeleton on any OS: Contents/Info.plist (from
# Info.plist.in), PkgInfo, Resources/softphone.icns (PNG elements from
# the rendered icons) and an empty Contents/MacOS that build-mac.sh fills with
# the universal binary on a Mac (cgo cannot target darwin from Linux).
# Env: VERSION (x.y.z), ICONS (dir of N.png). Usage: make-skeleton.sh OUT.app
set -euo pipefail
: "${VERSION:?}" "${ICONS:?}"
app=${1:?usage: make-skeleton.sh OUT.app}
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$app"
mkdir -p "$app/Contents/MacOS" "$app/Contents/Resources"
sed "s/@VERSION@/$VERSION/g" "$here/Info.plist.in" >"$app/Contents/Info.plist"
printf 'APPL????' >"$app/Contents/PkgInfo"

# The icns: "icns", total length, then per element a type, its length
# (8 + data, big-endian) and a PNG, the layout iconutil writes.
be32() { printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }
elements=(icp4:16 icp5:32 ic07:128 ic08:256 ic09:512 ic10:1024 ic11:32 ic12:64 ic13:256 ic14:512)
body=$(mktemp)
for e in "${elements[@]}"; do
	png="$ICONS/${e#*:}.png"
	printf '%s' "${e%%:*}" >>"$body"
	printf "$(be32 $(($(stat -c %s "$png") + 8)))" >>"$body"
	cat "$png" >>"$body"
done
icns="$app/Contents/Resources/softphone.icns"
{ printf icns; printf "$(be32 $(($(stat -c %s "$body") + 8)))"; cat "$body"; } >"$icns"
rm -f "$body"
cp "$here/entitlements.plist" "$(dirname "$app")/entitlements.plist"
echo "make-skeleton: $app"
