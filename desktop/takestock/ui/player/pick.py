"""Which backend plays here: VLC where libvlc loads, else Qt Multimedia."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from PySide6.QtGui import QGuiApplication

from takestock.ui.player.backends import (
    HEADLESS_VLC_ARGS,
    BackendUnavailable,
    PlayerBackend,
    _tr,
)
from takestock.ui.player.qt_multimedia import QtMultimediaBackend
from takestock.ui.player.vlc import VlcBackend


def best_backend(
    *, prefer: Literal["vlc", "qt"] = "vlc", vlc_args: Sequence[str] | None = None
) -> PlayerBackend:
    """python-vlc where it runs, else Qt Multimedia with ``fallback_reason`` saying why.

    ``prefer="qt"`` skips VLC (a user setting, or a machine where VLC misbehaves); then
    no reason is given, since nothing failed.

    Raises:
        BackendUnavailable: neither backend can run.
    """
    reason: str | None = None
    if prefer == "vlc":
        try:
            return VlcBackend(vlc_args)
        except BackendUnavailable as exc:
            reason = str(exc)
    try:
        backend = QtMultimediaBackend()
    except ImportError as exc:
        raise BackendUnavailable(
            _tr("No video player works here: {vlc} Qt Multimedia: {qt}").format(
                vlc=reason or "", qt=exc
            )
        ) from exc
    backend.fallback_reason = reason
    return backend


def screen_backend() -> PlayerBackend:
    """The backend a screen opens: :func:`best_backend`, except that with no screen
    (tests, the self-test) VLC gets no video or audio device, since it could not embed."""
    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return best_backend(vlc_args=HEADLESS_VLC_ARGS)
    return best_backend()
