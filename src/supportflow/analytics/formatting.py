"""How figures read in a report: durations, shares, counts and scores, one way everywhere.

The charts (:mod:`.svg`) and the tables (:mod:`.tables`) both format with these, so a
figure reads the same on an axis, in a Markdown cell and in an HTML table.
"""

from __future__ import annotations

import math

from ..feedback import Score

__all__ = [
    "NO_DATA",
    "format_count",
    "format_duration",
    "format_number",
    "format_percent",
    "format_score",
    "trim_zeros",
]

NO_DATA = "—"
"""What a figure without data shows: no data is not zero."""

_DAY = 86400


def format_duration(seconds: float | None) -> str:
    """A duration in the largest unit that reads naturally: "45 s", "12 min", "3.5 h", "2.1 d".

    One decimal below 10 of a unit, whole numbers above; a value that rounds up to the
    next unit moves to it (3,599 s is "1 h"). ``None``, NaN and infinity read "—".
    """
    if seconds is None or not math.isfinite(seconds):
        return NO_DATA
    sign = "-" if seconds < 0 else ""
    for unit, name, limit in (
        (1, "s", 60),
        (60, "min", 60),
        (3600, "h", 24),
        (_DAY, "d", math.inf),
    ):
        amount = abs(seconds) / unit
        shown = round(amount, 1) if amount < 9.95 else float(round(amount))
        if shown < limit:
            text = f"{shown:.1f}".removesuffix(".0")
            return f"{sign if text != '0' else ''}{text} {name}"
    raise AssertionError("unreachable: days have no limit")  # pragma: no cover


def format_percent(fraction: float | None, decimals: int = 1) -> str:
    """A fraction as a percentage ("91.2%", "100%"); rates in supportflow are fractions."""
    if fraction is None or not math.isfinite(fraction):
        return NO_DATA
    return trim_zeros(f"{fraction * 100:.{decimals}f}") + "%"


def format_number(value: float | None) -> str:
    """A plain number with three significant digits and thousands separators ("1,234")."""
    if value is None or not math.isfinite(value):
        return NO_DATA
    magnitude = abs(value)
    if magnitude >= 1e12 or 0 < magnitude < 1e-4:
        return f"{value:.3g}"
    decimals = 0 if magnitude < 1e-12 else max(0, 2 - math.floor(math.log10(magnitude)))
    return trim_zeros(f"{value:,.{decimals}f}")


def format_count(value: int | None) -> str:
    """A count with thousands separators: ``12,345``."""
    return NO_DATA if value is None else f"{value:,}"


def format_score(score: Score, *, unit: str = "") -> str:
    """``"92.0% (88.1-94.8, n=250)"``: a score is never shown without its interval and n."""
    if score.value is None or score.low is None or score.high is None:
        return f"{NO_DATA} (n=0)"
    return f"{score.value:.1f}{unit} ({score.low:.1f}-{score.high:.1f}, n={score.n:,})"


def trim_zeros(text: str) -> str:
    """A formatted number without trailing decimal zeros or a negative zero."""
    if "." in text:
        text = text.rstrip("0").removesuffix(".")
    return "0" if text == "-0" else text
