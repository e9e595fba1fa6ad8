"""Render Takestock's icon files from ``resources/icons/takestock.svg``.

    .venv/bin/python installers/make_icons.py           # write the files
    .venv/bin/python installers/make_icons.py --check   # exit 1 if any is missing or stale

Writes into ``resources/icons/``: ``takestock-<N>.png`` for N in 16…512 (each size
rendered from the SVG by Qt's own SVG renderer, not scaled down from a larger PNG),
``takestock.ico`` (Windows: 16…256) and ``takestock.icns`` (macOS: 16…1024), both
written by Pillow from those renderings. The outputs are committed; run this after
changing the SVG. ``--check`` compares pixels, not bytes, so it does not depend on the
PNG encoder's settings.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from pathlib import Path

from PIL import Image

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SVG = ICONS / "takestock.svg"
#: PNG files shipped with the app and installed in the XDG icon theme (hicolor).
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)

__all__ = ["ICNS_SIZES", "ICO_SIZES", "PNG_SIZES", "main", "png_path", "render"]


def png_path(size: int) -> Path:
    return ICONS / f"takestock-{size}.png"


def render(size: int, svg: Path = SVG) -> Image.Image:
    """The SVG drawn at ``size``×``size`` pixels on a transparent background."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: Qt cannot read this SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return Image.open(io.BytesIO(data.data())).convert("RGBA")


def _outputs() -> dict[Path, list[Image.Image]]:
    rendered = {size: render(size) for size in sorted({*PNG_SIZES, *ICO_SIZES, *ICNS_SIZES})}
    outputs: dict[Path, list[Image.Image]] = {png_path(s): [rendered[s]] for s in PNG_SIZES}
    outputs[ICONS / "takestock.ico"] = [rendered[s] for s in ICO_SIZES]
    outputs[ICONS / "takestock.icns"] = [rendered[s] for s in ICNS_SIZES]
    return outputs


def _write(path: Path, images: list[Image.Image]) -> None:
    largest, *others = sorted(images, key=lambda im: -im.width)
    if path.suffix == ".png":
        largest.save(path, optimize=True)
    elif path.suffix == ".ico":
        # Each size as rendered (append_images), not the largest scaled down by Pillow.
        largest.save(path, sizes=[im.size for im in images], append_images=others)
    else:
        largest.save(path, append_images=others)


def _stored(path: Path) -> dict[int, Image.Image]:
    """The images a stored icon file holds, by pixel width (those Pillow can read back)."""
    with Image.open(path) as stored:
        if path.suffix == ".png":
            return {stored.width: stored.convert("RGBA")}
        if path.suffix == ".ico":
            ico = stored.ico  # type: ignore[attr-defined]
            return {size[0]: ico.getimage(size).convert("RGBA") for size in ico.sizes()}
        images = {}
        for width, height, scale in stored.info["sizes"]:
            stored.size = (width, height)  # the ICNS reader picks an entry by size and scale
            stored.load(scale=scale)
            images[width * scale] = stored.convert("RGBA")
        return images


def _same(path: Path, images: list[Image.Image]) -> bool:
    if not path.exists():
        return False
    wanted = {im.width: im for im in images}
    stored = _stored(path)
    if path.suffix != ".icns" and sorted(stored) != sorted(wanted):
        return False
    # Pillow reads back only some of the ICNS entries it writes (not 16 and 32 at 1x).
    if path.suffix == ".icns" and max(stored, default=0) != max(wanted):
        return False
    return all(w in wanted and im.tobytes() == wanted[w].tobytes() for w, im in stored.items())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale files, write none")
    args = parser.parse_args(argv)
    stale = []
    for path, images in _outputs().items():
        if args.check:
            if not _same(path, images):
                stale.append(path)
        else:
            _write(path, images)
            print(path.relative_to(ICONS.parents[1]))
    if stale:
        names = ", ".join(str(p.relative_to(ICONS.parents[1])) for p in stale)
        print(f"stale icon files ({names}): run installers/make_icons.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
