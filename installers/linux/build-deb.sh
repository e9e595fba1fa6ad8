#!/usr/bin/env bash
# Package a Linux bundle of Takestock as a .deb and as a plain .tar.gz.
#
#   installers/linux/build-deb.sh [--fast] BUNDLE OUT
#
# BUNDLE is PyInstaller's onedir output (the folder holding `takestock` and `_internal`,
# built with installers/pyinstaller/takestock.spec). OUT receives
#   takestock_<version>_<arch>.deb        the bundle in /opt/takestock, a launcher in
#                                         /usr/bin, the desktop entry and icons in the
#                                         XDG places; Depends: the system libraries the
#                                         bundle leaves out (trim.py: LINUX_SYSTEM) and libvlc
#   takestock-<version>-linux-<arch>.tar.gz   the bundle, the desktop entry, the icons and
#                                         install-desktop-entry.sh, for other distributions
# and prints their paths. The version is the one the bundle carries (from pyproject.toml).
# Releases compress the .deb with xz (about 2 minutes on 2 cores, 98 MB); --fast, for
# tests, uses zstd and gzip -1 instead (seconds; the same files, about a third larger).
# Every dpkg that can install the package (libc6 >= 2.35: Debian 12, Ubuntu 22.04 and
# later) reads zstd.
# DEB_MAINTAINER sets the Maintainer field. Needs dpkg-deb (dpkg) and objdump (binutils, which PyInstaller needs as well). No root:
# dpkg-deb --root-owner-group makes the files root's in the package.
set -euo pipefail

usage() { echo "usage: $0 [--fast] BUNDLE OUT" >&2; exit 64; }
deb_compression=(-Zxz) gzip_level=-9
if [[ ${1:-} == --fast ]]; then
  deb_compression=(-Zzstd -z3) gzip_level=-1
  shift
fi
[[ $# -eq 2 ]] || usage
bundle=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
resources="$root/resources"

[[ -x "$bundle/takestock" && -d "$bundle/_internal" ]] ||
  { echo "build-deb: $bundle is not a Takestock bundle (no takestock, _internal)" >&2; exit 1; }
for tool in dpkg-deb objdump; do
  command -v "$tool" >/dev/null || { echo "build-deb: $tool is missing" >&2; exit 1; }
done

# The version the bundle carries: the spec writes _internal/takestock-<version>.dist-info.
shopt -s nullglob
dist_info=("$bundle"/_internal/takestock-*.dist-info)
shopt -u nullglob
[[ ${#dist_info[@]} -eq 1 ]] ||
  { echo "build-deb: expected one takestock-*.dist-info in $bundle/_internal" >&2; exit 1; }
version=$(sed -n 's/^Version: //p' "${dist_info[0]}/METADATA")
# PEP 440 pre-releases sort before the release in Debian only with a tilde: 1.0rc1 -> 1.0~rc1.
deb_version=$(sed -E 's/\.?(a|b|rc|dev)([0-9]+)/~\1\2/g' <<<"$version")
arch=$(dpkg --print-architecture)

# The newest glibc symbol version any bundled file uses: the oldest libc6 it runs on.
glibc=$(find "$bundle" -type f \( -name '*.so*' -o -perm -u+x \) -exec objdump -T {} + 2>/dev/null |
  grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n 1)

# What the bundle takes from the system (trim.py's LINUX_SYSTEM; the test checks that
# every library the bundle links to outside itself comes from one of these or their
# dependencies), then libvlc for the player.
depends=(
  "libc6 (>= ${glibc:-2.31})" libstdc++6 libgcc-s1
  # Qt: OpenGL and EGL (never bundled: they must match the graphics driver), GLib's event
  # loop, D-Bus (loaded at run time), fonts, PulseAudio for Qt Multimedia
  libgl1 libegl1 libdrm2 libglib2.0-0 libdbus-1-3 libfontconfig1 libfreetype6 libpulse0
  # Qt's xcb platform plugin
  libx11-6 libx11-xcb1 libxext6 libxrandr2 libxrender1 libxcb1 libxcb-cursor0 libxcb-glx0
  libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0
  libxcb-render-util0 libxcb-shape0 libxcb-shm0 libxcb-sync1 libxcb-util1 libxcb-xfixes0
  libxcb-xkb1 libxkbcommon0 libxkbcommon-x11-0
  # the player: libvlc, its demuxers and decoders, and the X11 video outputs it embeds with
  libvlc5 vlc-plugin-base vlc-plugin-video-output
)
recommends=(
  # vlc-cache-gen keeps VLC's plugin cache fresh, so libvlc starts without a scan
  libvlc-bin
  # the keyring for vendors' API keys (Secret Service)
  gnome-keyring
)
join() { local IFS=,; echo "$*" | sed 's/,/, /g'; }

work=$(mktemp -d "$out/.build-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ------------------------------------------------------------------ .deb tree
pkg="$work/pkg"
install -d "$pkg/DEBIAN" "$pkg/opt" "$pkg/usr/bin" "$pkg/usr/share/applications" \
  "$pkg/usr/share/doc/takestock"
cp -a "$bundle" "$pkg/opt/takestock"
chmod -R u+rwX,go+rX,go-w "$pkg/opt/takestock"
cat >"$pkg/usr/bin/takestock" <<'EOF'
#!/bin/sh
# Takestock lives in /opt/takestock (installed by the takestock package).
exec /opt/takestock/takestock "$@"
EOF
chmod 0755 "$pkg/usr/bin/takestock"
install -m 0644 "$resources/takestock.desktop" "$pkg/usr/share/applications/takestock.desktop"
for png in "$resources"/icons/takestock-*.png; do
  size=$(basename "$png" .png)
  size=${size#takestock-}
  install -D -m 0644 "$png" "$pkg/usr/share/icons/hicolor/${size}x${size}/apps/takestock.png"
done
install -D -m 0644 "$resources/icons/takestock.svg" \
  "$pkg/usr/share/icons/hicolor/scalable/apps/takestock.svg"
cat >"$pkg/usr/share/doc/takestock/copyright" <<'EOF'
Takestock, and the components it bundles under /opt/takestock. The licence texts of
those components are in /opt/takestock/_internal/licenses (README.txt lists Qt, FFmpeg
and libVLC, whose packages carry no licence file).
EOF
chmod 0644 "$pkg/usr/share/doc/takestock/copyright"

installed_size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
cat >"$pkg/DEBIAN/control" <<EOF
Package: takestock
Version: $deb_version
Architecture: $arch
Maintainer: ${DEB_MAINTAINER:-Takestock maintainers <maintainers@takestock.invalid>}
Installed-Size: $installed_size
Depends: $(join "${depends[@]}")
Recommends: $(join "${recommends[@]}")
Section: video
Priority: optional
Description: studio for making AI video with many vendors at once
 Takestock is one place to write prompts, spend credits wisely across
 memberships of Kling, Hailuo, Wan, Vidu, Seedance, Veo, Sora, Runway, Luma,
 fal, Replicate and a local ComfyUI, generate with a click, watch and compare
 the takes, and keep the ones that are usable.
EOF
# The icon cache and the desktop database are refreshed by dpkg triggers that
# gtk-update-icon-cache and desktop-file-utils declare: no maintainer scripts needed.

deb="$out/takestock_${deb_version}_${arch}.deb"
dpkg-deb --root-owner-group "${deb_compression[@]}" --build "$pkg" "$deb" >/dev/null

# ------------------------------------------------------------------ .tar.gz
case "$arch" in amd64) tar_arch=x86_64 ;; arm64) tar_arch=aarch64 ;; *) tar_arch=$arch ;; esac
name="takestock-${version}-linux-${tar_arch}"
tree="$work/tar/$name"
mkdir -p "$tree"
cp -a "$bundle/." "$tree/"
install -m 0644 "$resources/takestock.desktop" "$tree/takestock.desktop"
install -d "$tree/icons"
install -m 0644 "$resources"/icons/takestock-*.png "$resources/icons/takestock.svg" "$tree/icons/"
install -m 0755 "$here/install-desktop-entry.sh" "$tree/install-desktop-entry.sh"
tarball="$out/$name.tar.gz"
tar -C "$work/tar" --owner=0 --group=0 --numeric-owner -cf - "$name" | gzip "$gzip_level" >"$tarball"

echo "$deb"
echo "$tarball"
