#!/usr/bin/env bash
# The macOS release, run on a Mac (a macOS CI runner: GitHub-hosted
# macos-14/15 or a self-hosted Mac): cgo (Fyne, PortAudio, the Apple Event
# URL handler) cannot be cross-compiled from Linux. NOT RUN on the Linux
# build hosts; verify every step on the Mac job.
#   1. builds arm64 and amd64 (MACOSX_DEPLOYMENT_TARGET=12.0) and joins them with lipo;
#   2. fills the skeleton (make-skeleton.sh: Info.plist, icns) with the binary;
#   3. codesign with the hardened runtime, a timestamp and entitlements.plist;
#   4. notarizes and staples the .app (Gatekeeper works offline after copying);
#   5. hdiutil makes a UDZO DMG, which is signed, notarized, stapled, assessed;
#   6. optionally (PKG=1) productbuild/productsign a .pkg for MDM (Jamf, Intune, Kandji).
# Env: VERSION (x.y.z); SIGN_ID ("Developer ID Application: ..."),
# SIGN_ID_INSTALLER ("Developer ID Installer: ...", for PKG=1),
# NOTARY_PROFILE (a `xcrun notarytool store-credentials` profile name).
# Needs: Xcode command line tools, Go, brew install pkg-config portaudio speexdsp
# (universal builds need both architectures' libraries: build them from
# source per arch or use two runners and lipo the results).
set -euo pipefail
[ "$(uname -s)" = Darwin ] || { echo "build-mac.sh runs on macOS only (see packaging/README.md)" >&2; exit 1; }
: "${VERSION:?}" "${SIGN_ID:?}" "${NOTARY_PROFILE:?}"
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"
out=dist/macos
app="$out/Softphone.app"
dmg="dist/Softphone-$VERSION.dmg"
export MACOSX_DEPLOYMENT_TARGET=12.0 CGO_ENABLED=1

# 0. icons and skeleton (rsvg-convert: brew install librsvg; png2icns: brew install libicns)
mkdir -p build/pkg/icons
for s in 16 32 48 64 128 256 512 1024; do rsvg-convert -w $s -h $s assets/icon.svg -o build/pkg/icons/$s.png; done
VERSION=$VERSION ICONS=build/pkg/icons "$here/make-skeleton.sh" "$app"

# 1. universal binary
for arch in arm64 amd64; do
	GOARCH=$arch go build -trimpath -ldflags "-s -w -X main.version=$VERSION" -o "build/darwin/softphone-$arch" ./cmd/softphone
done
lipo -create -output "$app/Contents/MacOS/softphone" build/darwin/softphone-arm64 build/darwin/softphone-amd64
lipo -info "$app/Contents/MacOS/softphone"
plutil -lint "$app/Contents/Info.plist" "$here/entitlements.plist"

# 3. sign the .app (hardened runtime; audio-input is mandatory under it)
codesign --force --options runtime --timestamp --entitlements "$here/entitlements.plist" --sign "$SIGN_ID" "$app"
codesign --verify --strict --deep --verbose=2 "$app"

# 4. notarize and staple the .app
ditto -c -k --keepParent "$app" "build/darwin/Softphone.zip"
xcrun notarytool submit "build/darwin/Softphone.zip" --keychain-profile "$NOTARY_PROFILE" --wait
xcrun stapler staple "$app"

# 5. the DMG
rm -f "$dmg"
stage=$(mktemp -d)
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
hdiutil create -volname "Softphone" -srcfolder "$stage" -fs HFS+ -format UDZO "$dmg"
rm -rf "$stage"
codesign --force --timestamp --sign "$SIGN_ID" "$dmg"
xcrun notarytool submit "$dmg" --keychain-profile "$NOTARY_PROFILE" --wait
xcrun stapler staple "$dmg"
spctl --assess --type open --context context:primary-signature --verbose "$dmg"
spctl --assess --type execute --verbose "$app"

# 6. optional .pkg for MDM
if [ "${PKG:-0}" = 1 ]; then
	: "${SIGN_ID_INSTALLER:?}"
	pkg="dist/Softphone-$VERSION.pkg"
	productbuild --component "$app" /Applications "build/darwin/unsigned.pkg"
	productsign --sign "$SIGN_ID_INSTALLER" "build/darwin/unsigned.pkg" "$pkg"
	xcrun notarytool submit "$pkg" --keychain-profile "$NOTARY_PROFILE" --wait
	xcrun stapler staple "$pkg"
	pkgutil --check-signature "$pkg"
fi
ls -l "$dmg" ${pkg:+"$pkg"}
