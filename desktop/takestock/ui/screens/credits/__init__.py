"""Credits: every account's balance by bucket, what lapses when, today's free points,
spending over time, and reconciliation with the balance the vendor shows.

``screen.py`` holds :class:`CreditsScreen`; ``charts.py`` its timeline and spending
chart; ``dialogs.py`` the forms it opens. Callers import from here.
"""

from takestock.ui.screens.credits.charts import ExpiryTimeline, SpendChart, TimelineItem
from takestock.ui.screens.credits.screen import CreditsScreen

__all__ = ["CreditsScreen", "ExpiryTimeline", "SpendChart", "TimelineItem"]
