#!/usr/bin/env bash
# Takestock for macOS: Takestock.app (PyInstaller, with Info.plist and icon) in a .dmg.
#
#   installers/macos/build-dmg.sh [OUT]        (OUT defaults to dist/)
#
# Needs Python 3.11 with Takestock and PyInstaller installed (pip install -e '.[bundle]';
# PYTHON names the interpreter, default python3) and VLC 3 in /Applications (or
# TAKESTOCK_VLC_DIR=<VLC.app>/Contents/MacOS): the spec copies libvlc and its plugins into
# the app. The app is signed ad hoc, as PyInstaller leaves it, unless CODESIGN_IDENTITY
# names a Developer ID (then notarize the .dmg before publishing it). Before the .dmg is
# made, the bundled app must pass `takestock --version` and `--self-test`, offscreen, with a
# fresh HOME and TAKESTOCK_HOME. Prints the .dmg's path.
set -euo pipefail

[[ $(uname -s) == Darwin ]] || { echo "build-dmg: run this on macOS" >&2; exit 1; }
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$root/dist}
mkdir -p "$out"
out=$(cd "$out" && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" -m PyInstaller --noconfirm --log-level WARN \
  --distpath "$work/dist" --workpath "$work/build" "$root/installers/pyinstaller/takestock.spec"
app="$work/dist/Takestock.app"
[[ -d $app ]] || { echo "build-dmg: PyInstaller made no Takestock.app" >&2; exit 1; }
version=$(/usr/libexec/PlistBuddy -c 'Print :CFBundleShortVersionString' "$app/Contents/Info.plist")

if [[ -n ${CODESIGN_IDENTITY:-} ]]; then
  codesign --force --deep --options runtime --timestamp --sign "$CODESIGN_IDENTITY" "$app"
fi
codesign --verify --deep --strict "$app"

# Smoke test: the app as a user would get it.
home="$work/home"
mkdir -p "$home"
HOME="$home" TAKESTOCK_HOME="$home/takestock" QT_QPA_PLATFORM=offscreen \
  "$app/Contents/MacOS/takestock" --version
HOME="$home" TAKESTOCK_HOME="$home/takestock" QT_QPA_PLATFORM=offscreen \
  "$app/Contents/MacOS/takestock" --self-test >/dev/null

# The disk image: the app and a link to /Applications to drag it onto.
stage="$work/dmg"
mkdir -p "$stage"
cp -R "$app" "$stage/"
ln -s /Applications "$stage/Applications"
dmg="$out/takestock-${version}-macos-$(uname -m).dmg"
rm -f "$dmg"
hdiutil create -quiet -volname "Takestock $version" -srcfolder "$stage" -fs HFS+ \
  -format UDZO -ov "$dmg"
echo "$dmg"
