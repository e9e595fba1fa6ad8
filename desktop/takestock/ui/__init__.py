"""Takestock's PySide6 user interface.

Importing this package applies the Qt binding's workarounds (:mod:`takestock.ui.qt_fixes`).
That is a side effect on purpose: every process that runs Takestock's Qt code imports
this package first (the app, the self-test, benchmark and test children, the bundled
app), and a fix that each entry point had to remember was missed by some of them and
let them abort with "Fatal Python error: none_dealloc" after a few thousand paints.
"""

from takestock.ui.qt_fixes import keep_singletons_alive

keep_singletons_alive()
