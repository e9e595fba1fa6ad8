"""QMediaPlayer with Qt's FFmpeg plugin: the backend where libvlc is missing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QUrl
from PySide6.QtWidgets import QVBoxLayout, QWidget

from takestock.core.media import probe
from takestock.ui.player.backends import FALLBACK_FPS, TransportActions, _Timeline, frame_at


class QtMultimediaBackend(TransportActions):
    """QMediaPlayer with Qt's FFmpeg plugin: the fallback where libvlc is missing.

    It needs no system packages beyond ``libpulse0`` (which the FFmpeg plugin links)
    and plays offscreen too, with or without a sound server. Frames go to a
    ``QVideoSink`` until :meth:`attach` puts a ``QVideoWidget`` in the surface. Steps and
    seeks while paused are exact (see the module docstring).

    Attributes:
        player: the ``QMediaPlayer``.
        audio: its ``QAudioOutput``.
    """

    name = "qt"

    def __init__(self) -> None:
        from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer, QVideoSink

        self._qmp = QMediaPlayer
        self.fallback_reason: str | None = None
        self.player = QMediaPlayer()
        self.audio = QAudioOutput()
        self.player.setAudioOutput(self.audio)
        self._sink = QVideoSink()
        self._sink.videoFrameChanged.connect(self._on_frame)
        self.player.setVideoSink(self._sink)
        self._video_widget: QWidget | None = None
        self._timeline = _Timeline(0.0, FALLBACK_FPS)
        self._pos = 0.0
        self._shown_ms: float | None = None
        self._ended_seen = False
        self._loaded = False

    def _on_frame(self, frame: Any) -> None:
        if frame.isValid() and frame.startTime() >= 0:
            self._shown_ms = frame.startTime() / 1000.0

    def displayed_frame_ms(self) -> float | None:
        """The start time of the frame last handed to the video output."""
        return self._shown_ms

    def load(self, path: Path) -> None:
        info = probe(Path(path))
        self._timeline = _Timeline.of(info)
        self._pos, self._shown_ms, self._ended_seen = 0.0, None, False
        self.player.setSource(QUrl.fromLocalFile(str(Path(path).resolve())))
        self.player.pause()  # paused, not stopped: the first frame is shown
        self._loaded = True

    def wait_ready(self, timeout_s: float = 5.0) -> bool:
        """Spin the event loop until the media is loaded; for tests."""
        status = self._qmp.MediaStatus
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            QCoreApplication.processEvents()
            if self.player.mediaStatus() in (status.LoadedMedia, status.BufferedMedia):
                return True
            if self.player.mediaStatus() == status.InvalidMedia:
                return False
            time.sleep(0.005)
        return False

    def attach(self, widget: QWidget) -> None:
        from PySide6.QtMultimediaWidgets import QVideoWidget

        video = QVideoWidget(widget)
        layout = widget.layout() or QVBoxLayout(widget)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(video)
        video.videoSink().videoFrameChanged.connect(self._on_frame)
        self.player.setVideoOutput(video)
        self._video_widget = video

    def release(self) -> None:
        self.player.stop()
        self.player.setSource(QUrl())
        self._loaded = False

    def tick(self) -> bool:
        at_end = self.player.mediaStatus() == self._qmp.MediaStatus.EndOfMedia
        if at_end and not self._ended_seen:
            self._ended_seen = True
            self._pos = self._timeline.length_ms
            return True
        return False

    def play(self) -> None:
        if not self._loaded or self.is_playing():
            return
        if self._ended_seen or self._pos >= self._timeline.length_ms:
            self._pos = 0.0
            self.player.setPosition(0)
        self._ended_seen = False
        self.player.play()

    def pause(self) -> None:
        if self.is_playing():
            self.player.pause()
            shown = self._shown_ms
            self._pos = self._timeline.clamp(shown if shown is not None else self.player.position())
            # A frame already on its way can still arrive after pause(): pin the picture
            # to the position reported.
            frame = frame_at(self._pos, self._timeline.fps)
            self._pos = self._timeline.start(frame)
            self.player.setPosition(round(self._timeline.middle(frame)))

    def seek(self, ms: float) -> None:
        if not self._loaded:
            return
        self._ended_seen = False
        self._pos = self._timeline.clamp(ms)
        frame = frame_at(self._pos, self._timeline.fps)
        self.player.setPosition(round(self._timeline.middle(frame)))

    def position_ms(self) -> int:
        if self.is_playing():
            return int(self.player.position())
        return round(self._pos)

    def length_ms(self) -> int:
        return int(self.player.duration()) or round(self._timeline.length_ms)

    def fps(self) -> float:
        return self._timeline.fps

    def is_playing(self) -> bool:
        return self.player.playbackState() == self._qmp.PlaybackState.PlayingState

    def set_rate(self, rate: float) -> None:
        self.player.setPlaybackRate(float(rate))

    def rate(self) -> float:
        return float(self.player.playbackRate())

    def set_muted(self, muted: bool) -> None:
        self.audio.setMuted(bool(muted))

    def muted(self) -> bool:
        return bool(self.audio.isMuted())

    def step_frame(self, frames: int = 1) -> None:
        if not self._loaded or frames == 0:
            return
        self.pause()
        target = self._timeline.clamp_frame(frame_at(self._pos, self._timeline.fps) + frames)
        self._ended_seen = False
        self._pos = self._timeline.start(target)
        self.player.setPosition(round(self._timeline.middle(target)))

    def set_loop(self, loop: bool) -> None:
        loops = self._qmp.Loops.Infinite if loop else self._qmp.Loops.Once
        self.player.setLoops(int(loops))

    def loop(self) -> bool:
        return self.player.loops() == int(self._qmp.Loops.Infinite)
