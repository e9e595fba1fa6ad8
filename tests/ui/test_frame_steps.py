"""Frame-accurate stepping: `,` and `.` land on exactly the previous / next frame, and the
picture agrees with the frame label, in the Library's player and in every Compare tile.

The clips are made here with PyAV: every frame carries its own number as eight black or
white bars (a code H.264 keeps intact), so what is on screen can be read back and
checked against the frame's timestamp as PyAV decodes it. Players are libvlc, headless
(the app's choice), where it is installed; the fake player elsewhere.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest
from PIL import Image, ImageDraw
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from takestock.core.takes import import_files, take_ids
from takestock.ui.player import HEADLESS_VLC_ARGS, FakeBackend, PlayerBackend, best_backend
from takestock.ui.screens.compare import CompareScreen
from takestock.ui.screens.library import LibraryScreen

FPS = 24
FRAMES = 48
W, H = 320, 180
BITS = 8


def numbered_clip(path: Path, tint: tuple[int, int, int] = (40, 40, 40)) -> Path:
    """A 2 s H.264 clip (B-frames on, as vendors deliver) whose frame i shows i in bars."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.options = {"bf": "3", "g": "24"}
        for i in range(FRAMES):
            image = Image.new("RGB", (W, H), tint)
            draw = ImageDraw.Draw(image)
            bar = W // BITS
            for bit in range(BITS):
                on = (i >> (BITS - 1 - bit)) & 1
                draw.rectangle(
                    [bit * bar + 4, 20, (bit + 1) * bar - 5, H - 20],
                    fill=(255, 255, 255) if on else (0, 0, 0),
                )
            frame = av.VideoFrame.from_image(image)
            frame.pts = i
            frame.time_base = Fraction(1, FPS)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def number_in(image: QImage | Image.Image) -> int:
    """The frame number a picture of :func:`numbered_clip` carries."""
    if isinstance(image, QImage):
        image = Image.frombytes(
            "RGB",
            (image.width(), image.height()),
            bytes(image.convertToFormat(QImage.Format.Format_RGB888).constBits()),
            "raw",
            "RGB",
            image.bytesPerLine(),
        )
    scale_x, y = image.width / W, image.height // 2
    value = 0
    for bit in range(BITS):
        x = int((bit + 0.5) * (W // BITS) * scale_x)
        value = value << 1 | (sum(image.getpixel((x, y))[:3]) > 3 * 128)
    return value


def pyav_times(path: Path) -> dict[int, float]:
    """Frame number (read from the picture) -> its timestamp in ms, as PyAV decodes it."""
    times: dict[int, float] = {}
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            times[number_in(frame.to_image())] = float(frame.pts * frame.time_base) * 1000
    return times


def _player() -> PlayerBackend:
    """The app's choice where there is no screen: VLC headless, else Qt Multimedia; the
    fake player only where neither runs here."""
    try:
        return best_backend(vlc_args=HEADLESS_VLC_ARGS)
    except Exception:
        return FakeBackend(length_ms=FRAMES * 1000 / FPS, fps=FPS)


@pytest.fixture
def clips(tmp_path) -> list[Path]:
    tints = [(40, 40, 40), (90, 20, 20), (20, 90, 20), (20, 20, 90)]
    return [numbered_clip(tmp_path / f"numbered{i}.mp4", tint) for i, tint in enumerate(tints)]


@pytest.fixture
def services(services, clips):
    s = services
    import_files(s.store, s.library, clips, vendor="kling", model="kling-v2.1", prompt="counter")
    return s


def test_the_test_clip_carries_its_frame_numbers(clips):
    times = pyav_times(clips[0])
    assert sorted(times) == list(range(FRAMES))
    assert all(abs(times[i] - i * 1000 / FPS) < 1 for i in times)


def _label_frame(transport) -> int:
    """The frame the label names (0-based): "Frame 12 / 48" is frame 11."""
    return int(transport.frame_label.text().split()[1].split("/")[0]) - 1


def test_library_steps_land_on_exact_frames_and_the_label_agrees(shots, services, bridge, qtbot):
    screen = LibraryScreen(services, bridge, player_factory=_player)
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(screen.isActiveWindow, timeout=5000)
    rect = screen.view.visualRect(screen.model.index(0))
    qtbot.mouseClick(screen.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: screen.inspector.still is not None, timeout=5000)
    player, still = screen.inspector.player, screen.inspector.still
    backend = player.backend
    if hasattr(backend, "wait_ready"):
        assert backend.wait_ready(10)
    times = pyav_times(screen.current_take().path)
    expected = 0
    steps = [".", ".", ".", ".", ".", ",", ",", ".", ",", ",", ",", ",", ","]
    for step in steps:
        qtbot.keyClick(screen.view, step)
        expected = max(0, expected + (1 if step == "." else -1))
        qtbot.waitUntil(lambda e=expected: still.frame() == e, timeout=10_000)
        player.refresh()
        shown = number_in(still.view.image)
        assert shown == expected, (step, backend.name)
        assert _label_frame(player.transport) == expected
        # The label's frame starts where PyAV says the picture's frame starts.
        assert abs(times[shown] - backend.position_ms()) < 1000 / FPS / 2 + 1
    # J held down steps back frame by frame, and the picture follows.
    for _ in range(3):
        qtbot.keyClick(screen.view, Qt.Key.Key_J)
    expected = max(0, expected - 3)
    qtbot.waitUntil(lambda: still.frame() == expected, timeout=10_000)
    assert number_in(still.view.image) == expected
    screen.grab().save(str(shots / f"library-step-{backend.name}.png"))
    screen.shutdown()


def test_every_compare_tile_steps_to_the_same_exact_frame(shots, services, bridge, qtbot):
    screen = CompareScreen(services, bridge, backend_factory=lambda take: _player())
    qtbot.addWidget(screen)
    screen.resize(1280, 800)
    screen.show()
    qtbot.waitExposed(screen)
    screen.activateWindow()
    qtbot.waitUntil(screen.isActiveWindow, timeout=5000)
    ids = take_ids(services.store)
    screen.compare(ids)
    assert len(screen.cells) == 4
    for cell in screen.cells:
        if hasattr(cell.player.backend, "wait_ready"):
            assert cell.player.backend.wait_ready(10)
    qtbot.mouseClick(screen.cells[2].player.surface, Qt.MouseButton.LeftButton)  # a tile
    expected = 0
    for step in [".", ".", ".", ".", ".", ".", ",", ",", ".", ",", ","]:
        # (A person's next key comes after the picture changed; offscreen, the focus
        # comes back to the screen a moment after a still replaces the video.)
        qtbot.waitUntil(lambda: screen.isAncestorOf(QApplication.focusWidget()), timeout=5000)
        qtbot.keyClick(screen.stage, step)
        expected = max(0, expected + (1 if step == "." else -1))
        try:
            qtbot.waitUntil(
                lambda e=expected: [s.frame() for s in screen.stills] == [e] * 4, timeout=10_000
            )
        except qtbot.TimeoutError:
            state = [(s.frame(), b.position_ms(), b.is_playing()) for s, b in
                     zip(screen.stills, screen.sync.backends, strict=True)]  # fmt: skip
            raise AssertionError(f"{step} to frame {expected}: {state}") from None
        assert [number_in(s.view.image) for s in screen.stills] == [expected] * 4
        screen.transport.refresh()
        assert _label_frame(screen.transport) == expected
    screen.grab().save(str(shots / "compare-step.png"))
    screen.release()
