"""Widgets and helpers that more than one screen uses.

A screen imports what it shares from here, never from another screen, so screens stay
independent of each other: ``tables`` (a row table's view, sized to its rows),
``forms`` (:class:`~takestock.ui.widgets.forms.FormDialog`, a form whose OK asks the
screen), ``futures`` (:func:`~takestock.ui.widgets.futures.deliver`, a worker's result
back on the UI thread).
"""
