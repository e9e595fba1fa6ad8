#!/bin/sh
# Put Takestock in your applications menu, from wherever you unpacked this archive.
#   ./install-desktop-entry.sh            add it (for you only: ~/.local/share)
#   ./install-desktop-entry.sh --remove   take it out again
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
entry="$data/applications/takestock.desktop"

if [ "${1:-}" = "--remove" ]; then
  rm -f "$entry" "$data"/icons/hicolor/*/apps/takestock.png "$data/icons/hicolor/scalable/apps/takestock.svg"
  echo "Removed $entry"
  exit 0
fi

for png in "$here"/icons/takestock-*.png; do
  size=$(basename "$png" .png)
  size=${size#takestock-}
  mkdir -p "$data/icons/hicolor/${size}x${size}/apps"
  cp "$png" "$data/icons/hicolor/${size}x${size}/apps/takestock.png"
done
mkdir -p "$data/icons/hicolor/scalable/apps" "$data/applications"
cp "$here/icons/takestock.svg" "$data/icons/hicolor/scalable/apps/takestock.svg"
# The entry runs this copy: Exec gets its full path, quoted as the desktop entry spec says.
exe=$(printf '%s' "$here/takestock" | sed 's/[\\"`$]/\\&/g')
while IFS= read -r line; do
  case $line in
    Exec=*) printf 'Exec="%s"\n' "$exe" ;;
    TryExec=*) printf 'TryExec=%s\n' "$here/takestock" ;;
    *) printf '%s\n' "$line" ;;
  esac
done <"$here/takestock.desktop" >"$entry"
command -v update-desktop-database >/dev/null && update-desktop-database -q "$data/applications" || true
echo "Added $entry"
echo "Takestock needs the system's libVLC and Qt's X11 libraries; on Debian or Ubuntu:"
echo "  sudo apt install libvlc5 vlc-plugin-base vlc-plugin-video-output libxcb-cursor0 libxkbcommon-x11-0"
