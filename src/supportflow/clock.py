"""Where supportflow gets the current time: an injected clock, so tests can freeze it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = ["Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now()`` returning a timezone-aware datetime.

    Contract: ``now()`` never returns a naive datetime and never goes backwards within one
    desk's life. ``supportflow.testing.FixedClock`` is the test double.
    """

    def now(self) -> datetime:
        """The current instant, timezone-aware."""
        ...


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        """The current instant in UTC."""
        return datetime.now(UTC)
