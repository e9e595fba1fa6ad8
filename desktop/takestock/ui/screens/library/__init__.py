"""Library: every take as a grid of posters, filtered, inspected, rated from the keyboard
the way Lightroom users expect, and dragged out to an editor.

The grid is a ``QListView`` in icon mode over :class:`~takestock.ui.library_model.LibraryModel`
(ids only; rows and posters on demand), so 100,000 takes scroll like 100. The inspector
beside it plays the current take with one player backend, reused from take to take, and
shows the prompt version, parameters, vendor task id and cost, with the verdict, stars,
reasons and notes to edit. Every write goes through ``core.takes`` / ``core.reasons``.

``screen.py`` holds :class:`LibraryScreen`; ``grid.py`` the poster grid and its
delegate; ``filters.py`` the filter bar. Callers import from here.
"""

from takestock.ui.screens.library.filters import LibraryFilters
from takestock.ui.screens.library.grid import TakeDelegate, TakeGrid
from takestock.ui.screens.library.screen import RATING_KEYS, LibraryScreen
from takestock.ui.take_inspector import TakeInspector

__all__ = [
    "RATING_KEYS",
    "LibraryFilters",
    "LibraryScreen",
    "TakeDelegate",
    "TakeGrid",
    "TakeInspector",
]
