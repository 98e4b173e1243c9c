"""Holidays from the ``holidays`` package, for hosts outside the shipped China data.

Optional: ``pip install supportflow[holidays]``. The package knows the days off of 150+
countries and their regions; it does not know make-up working days, so a host that needs
them adds ``WorkingDay`` entries itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from typing import Any

from ..errors import OptionalDependencyMissing, ValidationFailed
from .calendar import Holiday

__all__ = ["holidays_from_package"]


def holidays_from_package(
    country: str, years: Iterable[int], *, subdiv: str | None = None
) -> tuple[Holiday, ...]:
    """Whole-day :class:`Holiday` entries for ``country`` (ISO 3166 code) in ``years``.

    ``subdiv`` picks a region (``"CA"`` for California with ``country="US"``). Days with
    several holidays get one entry with the names joined. Example::

        spec = CalendarSpec(
            timezone="America/New_York",
            weekly={"mon": ("09:00-17:00",), ...},
            holidays=holidays_from_package("US", range(2025, 2027)),
        )
    """
    try:
        package: Any = import_module("holidays")
    except ImportError:
        raise OptionalDependencyMissing("holidays", "holidays") from None
    wanted = sorted(set(years))
    if not wanted or not all(isinstance(y, int) and 1 <= y <= 9999 for y in wanted):
        raise ValidationFailed("years", "must be one or more years between 1 and 9999")
    supported: dict[str, list[str]] = package.list_supported_countries()
    if country not in supported:
        raise ValidationFailed("country", f"the holidays package does not know {country!r}")
    if subdiv is not None and subdiv not in supported[country]:
        known = ", ".join(supported[country]) or "none"
        raise ValidationFailed("subdiv", f"{country} has no region {subdiv!r}; known: {known}")
    table = package.country_holidays(country, subdiv=subdiv, years=wanted)
    return tuple(Holiday(date=day, name=str(name)[:200]) for day, name in sorted(table.items()))
