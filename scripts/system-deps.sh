#!/usr/bin/env bash
# Makes sure the Debian/Ubuntu libraries Takestock needs are present.
#   system-deps.sh run   libraries to start the app (Qt's X11 and GL libraries, libvlc)
#   system-deps.sh test  those, plus Xvfb, a Secret Service and ffmpeg for the test suite
# As root it installs what is missing with apt; otherwise it prints the one apt line to run.
set -euo pipefail

run_pkgs=(
  # Qt, even offscreen
  libgl1 libegl1 libfontconfig1 libxkbcommon0 libglib2.0-0 libdbus-1-3
  # Qt's xcb platform plugin
  libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0
  libxcb-render-util0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0
  # Qt Multimedia's FFmpeg plugin (the player's fallback)
  libpulse0 libxrandr2 libdrm2
  # the player
  libvlc5 libvlc-bin vlc-plugin-base vlc-plugin-video-output
)
test_pkgs=(
  xvfb xauth
  # a real Secret Service for the keyring tests
  dbus-daemon gnome-keyring
  # an independent reader and reference for media tests and benchmarks
  ffmpeg
  # the Linux bundle and .deb test: PyInstaller reads objdump; the desktop entry's check
  binutils desktop-file-utils
)

case "${1:-run}" in
  run) wanted=("${run_pkgs[@]}") ;;
  test) wanted=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
  *) echo "usage: $0 run|test" >&2; exit 64 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "system-deps: not a Debian-based system; install the equivalents of: ${wanted[*]}" >&2
  exit 0
fi

missing=()
for p in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

line="apt-get install -y --no-install-recommends ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  echo "system-deps: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive $line
else
  echo "system-deps: these system packages are missing. Run, then try again:" >&2
  echo "  sudo $line" >&2
  exit 1
fi
