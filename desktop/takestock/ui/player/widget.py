"""The player's keys, its transport bar and :class:`PlayerWidget`, one player on screen."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFontDatabase, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from takestock.ui.player.backends import (
    _POLL_MS,
    _SEEK_STEP_MS,
    MAX_SHUTTLE_RATE,
    SPEEDS,
    PlayerBackend,
    Transport,
    format_time,
    frame_at,
)

# --------------------------------------------------------------------------- keys


def handle_transport_key(transport: Transport, key: int) -> bool:
    """Apply one key press to ``transport``; ``False`` when the key is not a player key.

    The keys follow Premiere and Resolve, within what the backends can do (none can play
    backwards):

    - Space: play or pause, keeping the rate.
    - K: pause and reset the rate to 1×.
    - L: when paused, play at 1×; when playing, double the rate, up to 4×.
    - J: when shuttling forward faster than 1×, halve the rate; otherwise pause and step
      one frame back; held down it repeats (reverse at the key-repeat rate).
    - ``,`` / ``.``: pause and step one frame back / forward.
    - Left / Right: one second back / forward. Home / End: first / last frame (End pauses).
    - M: mute or unmute.
    """
    k = Qt.Key
    if key == k.Key_Space:
        transport.toggle()
    elif key == k.Key_K:
        transport.pause()
        transport.set_rate(1.0)
    elif key == k.Key_L:
        if transport.is_playing():
            transport.set_rate(min(transport.rate() * 2, MAX_SHUTTLE_RATE))
        else:
            transport.set_rate(1.0)
            transport.play()
    elif key == k.Key_J:
        if transport.is_playing() and transport.rate() > 1.0:
            transport.set_rate(max(transport.rate() / 2, 1.0))
        else:
            transport.step_frame(-1)
    elif key == k.Key_Comma:
        transport.step_frame(-1)
    elif key == k.Key_Period:
        transport.step_frame(1)
    elif key == k.Key_Left:
        transport.seek(max(0, transport.position_ms() - _SEEK_STEP_MS))
    elif key == k.Key_Right:
        transport.seek(transport.position_ms() + _SEEK_STEP_MS)
    elif key == k.Key_Home:
        transport.seek(0)
    elif key == k.Key_End:
        transport.pause()
        transport.seek(transport.length_ms())
    elif key == k.Key_M:
        transport.set_muted(not transport.muted())
    else:
        return False
    return True


# --------------------------------------------------------------------------- widgets


class TransportBar(QWidget):
    """Play/pause, frame steps, a scrubber with times, frame counter, speed, loop, mute.

    It drives whatever :class:`Transport` it is given (one player, or a
    :class:`SyncGroup`) and shows its state when :meth:`refresh` is called. Its controls
    take no keyboard focus, so keys reach the player that owns the bar.

    Attributes:
        play_button, back_button, forward_button: the tool buttons.
        slider: the scrubber, in milliseconds.
        time_label: ``"00:01.25 / 00:05.00"``.
        frame_label: ``"Frame 31 / 120"``.
        speed: the rate selector (0.25×–2×; shuttle rates appear when used).
        loop_button, mute_button: checkable toggles.

    Signals:
        scrubbed(int): the user dragged the scrubber to this position (ms).
    """

    scrubbed = Signal(int)

    def __init__(self, transport: Transport, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._transport = transport
        self._frames_shown = -1
        self._build()
        self._connect_signals()

    def _build(self) -> None:
        self.play_button = self._button(self.tr("Play (Space)"))
        # Editors' step glyphs: a triangle against a bar (no standard icon means "one frame").
        self.back_button = self._button(self.tr("Previous frame (,)"), "◀|")
        self.forward_button = self._button(self.tr("Next frame (.)"), "|▶")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setPageStep(_SEEK_STEP_MS)
        self.slider.setToolTip(self.tr("Drag to scrub; ← → move one second"))
        fixed = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.time_label = QLabel()
        self.time_label.setFont(fixed)
        self.frame_label = QLabel()
        self.frame_label.setFont(fixed)
        self.speed = QComboBox()
        self.speed.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.speed.setToolTip(self.tr("Playback speed (J K L shuttle)"))
        for rate in SPEEDS:
            self.speed.addItem(self._rate_text(rate), rate)
        self.loop_button = self._button(self.tr("Loop at the end"), self.tr("Loop"))
        self.loop_button.setCheckable(True)
        self.mute_button = self._button(self.tr("Mute (M)"), self.tr("Mute"))
        self.mute_button.setCheckable(True)

        controls = QHBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(self.back_button)
        controls.addWidget(self.play_button)
        controls.addWidget(self.forward_button)
        controls.addSpacing(8)
        controls.addWidget(self.time_label)
        controls.addSpacing(12)
        controls.addWidget(self.frame_label)
        controls.addStretch(1)
        controls.addWidget(self.speed)
        controls.addWidget(self.loop_button)
        controls.addWidget(self.mute_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 4)
        layout.setSpacing(2)
        layout.addWidget(self.slider)
        layout.addLayout(controls)

    def _button(self, tip: str, text: str = "") -> QToolButton:
        button = QToolButton()
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setToolTip(tip)
        if text:
            button.setText(text)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    def _rate_text(self, rate: float) -> str:
        return self.tr("{rate}×").format(rate=f"{rate:g}")

    def _connect_signals(self) -> None:
        t = self._transport
        self.play_button.clicked.connect(lambda: self._do(t.toggle))
        self.back_button.clicked.connect(lambda: self._do(lambda: t.step_frame(-1)))
        self.forward_button.clicked.connect(lambda: self._do(lambda: t.step_frame(1)))
        self.slider.sliderMoved.connect(self._scrub)
        self.slider.actionTriggered.connect(self._slider_action)
        self.speed.activated.connect(lambda i: self._do(lambda: t.set_rate(self.speed.itemData(i))))
        self.loop_button.toggled.connect(lambda on: self._do(lambda: t.set_loop(on)))
        self.mute_button.toggled.connect(lambda on: self._do(lambda: t.set_muted(on)))

    def _do(self, action: Callable[[], object]) -> None:
        action()
        self.refresh()

    def _scrub(self, ms: int) -> None:
        self._transport.seek(ms)
        self.scrubbed.emit(ms)
        self.refresh()

    def _slider_action(self, action: int) -> None:
        # Clicks on the groove page by a second: seek to where the slider will be.
        if action in (
            QSlider.SliderAction.SliderPageStepAdd.value,
            QSlider.SliderAction.SliderPageStepSub.value,
        ):
            self._transport.seek(self.slider.sliderPosition())

    def refresh(self) -> None:
        """Show the transport's state: position, times, frame, rate, toggles."""
        t = self._transport
        pos, length, fps = t.position_ms(), t.length_ms(), t.fps()
        if not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setRange(0, max(0, length))
            self.slider.setValue(pos)
            self.slider.blockSignals(False)
        self.time_label.setText(f"{format_time(pos)} / {format_time(length)}")
        frames = max(1, round(length * fps / 1000)) if length else 0
        frame = min(frame_at(pos, fps) + 1, frames) if frames else 0
        self.frame_label.setText(self.tr("Frame {n} / {total}").format(n=frame, total=frames))
        if frames != self._frames_shown:  # room for the widest number: the label never jumps
            self._frames_shown = frames
            widest = self.tr("Frame {n} / {total}").format(n=frames, total=frames)
            self.frame_label.setMinimumWidth(
                self.frame_label.fontMetrics().horizontalAdvance(widest)
            )
        playing = t.is_playing()
        icon = (
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        )
        self.play_button.setIcon(self.style().standardIcon(icon))
        self.play_button.setToolTip(
            self.tr("Pause (Space)") if playing else self.tr("Play (Space)")
        )
        self._show_rate(t.rate())
        for button, on in ((self.loop_button, t.loop()), (self.mute_button, t.muted())):
            if button.isChecked() != on:
                button.blockSignals(True)
                button.setChecked(on)
                button.blockSignals(False)

    def _show_rate(self, rate: float) -> None:
        index = self.speed.findData(rate)
        if index < 0:  # a shuttle rate (4×) or one set by a sync group
            index = sum(1 for i in range(self.speed.count()) if self.speed.itemData(i) < rate)
            self.speed.insertItem(index, self._rate_text(rate), rate)
        if self.speed.currentIndex() != index:
            self.speed.setCurrentIndex(index)


class PlayerWidget(QWidget):
    """A video surface with a transport bar and the player keys, over one backend.

    The surface is a native window that the backend draws into. A ``QTimer`` polls the
    backend while the widget lives; keys act when the widget has focus (clicking the
    surface gives it focus): see :func:`handle_transport_key`.

    When the backend is a fallback (``backend.fallback_reason``), a closable banner at the
    top says so. It shows once per widget: closing it, or loading other clips, does not
    bring it back; pass ``show_notice=False`` to widgets after the first (a compare grid).

    Attributes:
        backend: the :class:`PlayerBackend` (the widget owns it and releases it on close).
        surface: the native child widget the video is drawn into.
        transport: the :class:`TransportBar`.
        banner: the fallback notice (a ``QWidget`` holding a label and a close button).

    Signals:
        position_changed(int): the position moved, in milliseconds.
        ended(): playback stopped at the end of the clip (never while looping).
    """

    position_changed = Signal(int)
    ended = Signal()

    def __init__(
        self,
        backend: PlayerBackend,
        parent: QWidget | None = None,
        *,
        show_notice: bool = True,
        poll_ms: int = _POLL_MS,
    ) -> None:
        super().__init__(parent)
        self.backend = backend
        self._last_pos: int | None = None
        self._released = False
        self._build(show_notice)
        self._connect_signals()
        self.backend.attach(self.surface)
        self._timer.start(poll_ms)
        self.refresh()

    def _build(self, show_notice: bool) -> None:
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.banner = QWidget()
        self.banner.setObjectName("playerBanner")
        self.banner.setStyleSheet(
            "#playerBanner { background: #fff4ce; border-bottom: 1px solid #e0c36a; }"
            "#playerBanner QLabel { color: #4a3b00; }"
        )
        self._banner_text = QLabel()
        self._banner_text.setWordWrap(True)
        self._banner_close = QToolButton()
        self._banner_close.setText("✕")
        self._banner_close.setAutoRaise(True)
        self._banner_close.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._banner_close.setToolTip(self.tr("Hide this notice"))
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(8, 4, 4, 4)
        banner_layout.addWidget(self._banner_text, 1)
        banner_layout.addWidget(self._banner_close, 0, Qt.AlignmentFlag.AlignTop)
        reason = self.backend.fallback_reason
        if show_notice and reason:
            self._banner_text.setText(
                self.tr("VLC is not available, so Qt Multimedia plays instead. {reason}").format(
                    reason=reason
                )
            )
        else:
            self.banner.hide()

        self.surface = QWidget()
        self.surface.setAttribute(Qt.WidgetAttribute.WA_NativeWindow)
        self.surface.setAttribute(Qt.WidgetAttribute.WA_DontCreateNativeAncestors)
        self.surface.setAutoFillBackground(True)
        palette = self.surface.palette()
        palette.setColor(QPalette.ColorRole.Window, QColor("black"))
        self.surface.setPalette(palette)
        self.surface.setMinimumSize(QSize(160, 90))
        self.surface.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

        self.transport = TransportBar(self.backend)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.surface, 1)
        layout.addWidget(self.transport)
        self._timer = QTimer(self)

    def _connect_signals(self) -> None:
        self._timer.timeout.connect(self.refresh)
        self._banner_close.clicked.connect(self.banner.hide)

    def sizeHint(self) -> QSize:
        return QSize(640, 440)

    def load(self, path: Path) -> None:
        """Open ``path`` paused on its first frame.

        Raises:
            MediaError: the file is not a playable video.
        """
        self.backend.load(Path(path))
        self.refresh()

    def refresh(self) -> None:
        """Poll the backend: emit :attr:`ended` and :attr:`position_changed`, update the bar."""
        ended = self.backend.tick()
        pos = self.backend.position_ms()
        self.transport.refresh()
        if pos != self._last_pos:
            self._last_pos = pos
            self.position_changed.emit(pos)
        if ended:
            self.ended.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            super().keyPressEvent(event)
        elif handle_transport_key(self.backend, event.key()):
            event.accept()
            self.refresh()
        else:
            super().keyPressEvent(event)

    def mousePressEvent(self, event: Any) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        super().mousePressEvent(event)

    def release(self) -> None:
        """Stop polling and free the backend; closing the widget does this too."""
        if not self._released:
            self._released = True
            self._timer.stop()
            self.backend.release()

    def closeEvent(self, event: Any) -> None:
        self.release()
        super().closeEvent(event)
