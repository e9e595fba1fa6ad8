"""Compare: two to four takes side by side under one transport, a two-up wipe, and blind
duels that feed the arena.

The grid's players are driven by one :class:`~takestock.ui.player.SyncGroup` and one
:class:`~takestock.ui.player.TransportBar`; the players' own bars are hidden and their
keys go to the group (each player's focus proxy is the stage, whose keys the screen
handles).

The wipe shows the two clips' exact frames at the group's position, decoded with PyAV
by :func:`takestock.core.media.poster_frame` on worker threads and cached on disk under
the thumbnails folder. Frames from the players themselves were the other choice, but
only the Qt backend hands them out (``QVideoSink``); VLC, the preferred backend, paints
into a native window that Qt cannot read. A decode per frame is slower than playback
(a GOP's worth of decoding: ~50–300 ms), so loads are latest-wins: while playing or
scrubbing the wipe shows the newest frame it could decode, and when paused or stepping
it shows exactly the frame under the playhead, which is what a wipe is for.

``screen.py`` holds :class:`CompareScreen`; ``cell.py`` one take of the grid;
``wipe_panel.py`` the wipe page and its frame requests; ``blind.py`` the voting bar and
the reveal. Callers import from here.
"""

from takestock.ui.screens.compare.cell import CompareCell
from takestock.ui.screens.compare.screen import MAX_TAKES, CompareScreen
from takestock.ui.wipe import FrameLoader, WipeView

__all__ = ["MAX_TAKES", "CompareCell", "CompareScreen", "FrameLoader", "WipeView"]
