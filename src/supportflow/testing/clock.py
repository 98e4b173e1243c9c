"""A clock a test sets and advances by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from .._validate import aware

__all__ = ["FixedClock"]


class FixedClock:
    """Returns the same instant until told otherwise; a test double for ``Clock``.

    >>> from datetime import UTC, datetime, timedelta
    >>> clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    >>> clock.advance(timedelta(minutes=30)).isoformat()
    '2026-03-02T09:30:00+00:00'
    """

    def __init__(self, start: datetime) -> None:
        self._now = aware("start", start)

    def now(self) -> datetime:
        """The current (frozen) instant."""
        return self._now

    def set(self, instant: datetime) -> datetime:
        """Jump to ``instant`` (aware); returns it."""
        self._now = aware("instant", instant)
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by ``delta``; returns the new instant."""
        self._now = self._now + delta
        return self._now
