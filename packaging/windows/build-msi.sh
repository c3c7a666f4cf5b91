#!/usr/bin/env bash
# Builds the MSI from softphone.exe with wixl (msitools 0.101), then fixes
# what wixl cannot express with msibuild: the MsiShortcutProperty table
# (AppUserModelID on the Start-menu shortcut, which Windows toasts need)
# and SecureCustomProperties (public properties must be secure to reach
# the per-machine install). Signing (sign.sh) comes last, after every edit.
# Usage: VERSION=x.y.z packaging/windows/build-msi.sh EXE OUT.msi
set -euo pipefail
: "${VERSION:?}"
exe=${1:?usage: build-msi.sh EXE OUT.msi}
out=${2:?usage: build-msi.sh EXE OUT.msi}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
if ! [[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
	echo "build-msi: VERSION must be x.y.z (MSI compares three fields), got $VERSION" >&2
	exit 1
fi
# wixl fails on absolute source paths: make them relative to the repo.
rel() { realpath --relative-to="$repo" "$1"; }
ico="$(dirname "$exe")/res/softphone.ico"
[ -f "$exe" ] || { echo "build-msi: $exe is missing (make windows)" >&2; exit 1; }
[ -f "$ico" ] || { echo "build-msi: $ico is missing (make windows)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
tmp="$out.tmp"
rm -f "$tmp"
wixl -a x64 -D Version="$VERSION" -D ExeSource="$(rel "$exe")" -D IconSource="$(rel "$ico")" \
	-o "$tmp" packaging/windows/softphone.wxs
msibuild "$tmp" -i packaging/windows/MsiShortcutProperty.idt
secure="WIX_DOWNGRADE_DETECTED;WIX_UPGRADE_DETECTED;SIPSERVER;SIPTRANSPORT;SIPUSER;SIPAUTHUSER;ECHOTESTNUMBER;CRMTYPE;CRMURL;CRMCLIENTID;SHAREDPC;AUTOSTART;LOCKED"
msibuild "$tmp" -q "UPDATE \`Property\` SET \`Value\`='$secure' WHERE \`Property\`='SecureCustomProperties'"
mv -f "$tmp" "$out"
echo "build-msi: $out ($(du -h "$out" | cut -f1))"
