"""Small inline SVG charts for self-contained HTML reports: no dependency, no script.

Each chart function returns one ``<svg>`` element as a string, to be placed inline in an
HTML5 page. What every chart promises:

- **Well-formed XML** in the SVG namespace, with a ``viewBox``, ``width="100%"`` and a
  ``max-width`` of its natural width (it shrinks with its container, never grows past it).
- **Accessible**: ``role="img"``, a ``<title>``, and a ``<desc>`` and ``aria-label`` that
  summarise the data in words for screen readers.
- **Caller text is escaped** everywhere; characters XML cannot hold become U+FFFD. A label
  too wide for its place is cut with an ellipsis and keeps its full text in a ``<title>``
  tooltip.
- **No data never raises**: ``None``, NaN and ±infinity are "no data"; empty input, a
  single point, all-zero and negative values all draw. Wrong types or shapes raise
  :class:`~supportflow.errors.ValidationFailed` naming the field (``rows[2].values``).
- **Deterministic**: the same input gives the same string; coordinates keep at most two
  decimals. Presentation attributes only (no ``<style>``, no ids), so any number of charts
  share a page. Text and axes are ``currentColor`` of a dark grey ``color``; a page in
  dark mode sets ``.sf-chart { color: inherit }`` (CSS outranks those attributes).
- **Colour-blind safe**: the Okabe–Ito palette (:data:`PALETTE`); line series also differ
  by dash pattern, heatmaps run orange (worse) to blue (better) through grey.

Value axes use round ticks (:func:`nice_ticks`); with ``format_duration`` as the value
format they fall on whole seconds, minutes, hours or days instead. Time axes tick on whole
minutes, hours, days or Mondays (:func:`time_ticks`).
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import NamedTuple, TypeAlias

from ..errors import ValidationFailed
from .formatting import format_duration, format_number, format_percent, trim_zeros

__all__ = [
    "PALETTE",
    "Formatter",
    "bar_chart",
    "heatmap",
    "line_chart",
    "nice_ticks",
    "stacked_bar_chart",
    "time_ticks",
]

Formatter: TypeAlias = Callable[[float], str]
"""Turns a value into the text shown on an axis, a label or a tooltip."""

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442")
"""Okabe–Ito colours in the order series and segments take them (black left out)."""

_DASHES = ("", "7 4", "2 3", "9 3 2 3")
_HEAT = ((213, 94, 0), (236, 170, 120), (238, 238, 238), (134, 185, 219), (0, 114, 178))
_DARK_TEXT = frozenset({"#E69F00", "#56B4E9", "#F0E442"})
_SVG_NS = "http://www.w3.org/2000/svg"
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
_PAD = 8.0
_TITLE_SIZE = 15.0
_TEXT_SIZE = 12.0
_SMALL_SIZE = 11.0
_ROW = 26.0
_GRID = ' stroke="currentColor" stroke-opacity="0.15"'
_MUTED = ' fill-opacity="0.65"'
_INK = "#1F2328"
_LIMIT = 1e300
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TIME_STEPS = (1, 5, 15, 30, 60, 300, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
_DAY = 86400
_MONDAY = 4 * _DAY  # 1970-01-01 was a Thursday
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _n(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros."""
    text = f"{value:.2f}"
    if text[-1] == "0":
        text = text[:-3] if text[-2] == "0" else text[:-1]
    return "0" if text == "-0" else text


def _escape(text: str) -> str:
    text = _INVALID_XML.sub("\ufffd", text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _text_width(text: str, size: float) -> float:
    """An estimate of rendered width: wide East Asian characters 1 em, the rest 0.6 em."""
    if text.isascii():
        return len(text) * size * 0.6
    wide = sum(1 for char in text if unicodedata.east_asian_width(char) in "WF")
    return (len(text) + wide * 2 / 3) * size * 0.6


def _fit(text: str, width: float, size: float) -> tuple[str, bool]:
    """The text cut with an ellipsis to fit ``width``, and whether it was cut."""
    if _text_width(text, size) <= width:
        return text, False
    budget = width - size
    kept: list[str] = []
    for char in text:
        budget -= _text_width(char, size)
        if budget < 0:
            break
        kept.append(char)
    return "".join(kept).rstrip() + "…", True


# -- ticks --------------------------------------------------------------------------------


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round tick values, 1, 2 or 5 × 10^k apart, from at or below ``low`` to at or above ``high``.

    Axes read best on round numbers. Gives between 2 and ``count + 1`` evenly spaced ticks
    (``count`` from 2 to 9). A flat range gets room around it (``0, 0`` gives ``0, 1``);
    values beyond ±1e300 are clamped there.
    """
    _check_count(count)
    low, high = sorted((_finite("low", low), _finite("high", high)))
    low, high = max(low, -_LIMIT), min(high, _LIMIT)
    magnitude = max(abs(low), abs(high))
    if magnitude < 1e-200:  # zero in all but name: one unit on each side that has values
        return [*([-1.0] if low < 0 else []), 0.0, *([1.0] if high > 0 or low >= 0 else [])]
    span = high - low
    if span <= 1e-9 * magnitude:
        middle, room = (low + high) / 2, magnitude / 10
        return nice_ticks(middle - room, middle + room, count)
    step = _nice_step(span / (count - 1))
    first = math.floor(low / step + 1e-9)
    last = math.ceil(high / step - 1e-9)
    digits = max(0, -math.floor(math.log10(step)))
    return [round(index * step, digits) for index in range(first, last + 1)]


def _check_count(count: object) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or not 2 <= count <= 9:
        raise ValidationFailed("count", "must be a whole number from 2 to 9")


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 5 × 10^k at or above ``raw``."""
    exponent = math.floor(math.log10(raw))
    power = 10.0 ** abs(exponent)
    for multiple in (1, 2, 5, 10):
        step = multiple * power if exponent >= 0 else multiple / power
        if step >= raw * (1 - 1e-12):
            return step
    raise AssertionError("unreachable: 10 × 10^k exceeds raw")  # pragma: no cover


def _duration_axis(low: float, high: float, count: int) -> tuple[list[float], list[str]]:
    """Nice ticks in the unit the range reads best in, so they land on whole minutes or hours."""
    magnitude = max(abs(low), abs(high))
    units = ((_DAY, "d"), (3600, "h"), (60, "min"))
    unit, name = next(((u, n) for u, n in units if magnitude >= 2 * u), (1, "s"))
    ticks = nice_ticks(low / unit, high / unit, count)
    labels = [
        f"{label} {name}" if tick else "0"
        for tick, label in zip(ticks, _number_labels(ticks), strict=True)
    ]
    return [tick * unit for tick in ticks], labels


def time_ticks(start: datetime, end: datetime, count: int = 6) -> list[datetime]:
    """Ticks inside ``[start, end]`` on whole seconds, minutes, hours, days or Mondays.

    The step is the smallest that fits at most ``count`` steps in the range: 1, 5, 15 or
    30 seconds or minutes; 1, 2, 3, 6 or 12 hours; 1 or 2 days; a week; then 10, 20, 50,
    ... days. Ticks align to the wall clock of ``start``'s UTC offset and carry its zone.
    """
    ticks, _ = _time_axis(_aware("start", start), _aware("end", end), count)
    return ticks


def _aware(field: str, value: object) -> datetime:
    if not isinstance(value, datetime):
        raise ValidationFailed(field, f"must be a datetime, not {type(value).__name__}")
    if value.utcoffset() is None:
        raise ValidationFailed(field, "must be timezone-aware")
    return value


def _time_axis(start: datetime, end: datetime, count: int) -> tuple[list[datetime], int]:
    """:func:`time_ticks`, and the step between them in seconds."""
    _check_count(count)
    start, end = sorted((start, end))
    span = (end - start).total_seconds()
    steps = (*_TIME_STEPS, 2 * _DAY, 7 * _DAY)
    step = next((s for s in steps if span / s <= count), 0)
    if not step:
        step = int(_nice_step(span / _DAY / count)) * _DAY
    offset = start.utcoffset()
    shift = offset.total_seconds() if offset is not None else 0.0
    origin = _MONDAY if step % (7 * _DAY) == 0 else 0
    local_start, local_end = start.timestamp() + shift, end.timestamp() + shift
    index = math.ceil((local_start - origin) / step)
    ticks: list[datetime] = []
    while (moment := origin + index * step) <= local_end:
        ticks.append(datetime.fromtimestamp(moment - shift, tz=start.tzinfo))
        index += 1
    return ticks, step


def _time_label(moment: datetime, step: int) -> str:
    day = f"{_MONTHS[moment.month - 1]} {moment.day}"
    if step >= _DAY or (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        return day
    return f"{moment:%H:%M:%S}" if step < 60 else f"{moment:%H:%M}"


def _moment(timestamp: float, zone: tzinfo | None) -> str:
    moment = datetime.fromtimestamp(timestamp, tz=zone)
    name = moment.tzname()
    return f"{moment:%Y-%m-%d %H:%M}" + (f" {name}" if name else "")


def _value_axis(
    low: float, high: float, count: int, value_format: Formatter | None
) -> tuple[list[float], list[str]]:
    """Ticks covering ``[low, high]`` and their labels, fitting the value format."""
    if value_format is format_duration:
        return _duration_axis(low, high, count)
    ticks = nice_ticks(low, high, count)
    if value_format is not None:
        return ticks, [str(value_format(tick)) for tick in ticks]
    return ticks, _number_labels(ticks)


def _number_labels(ticks: list[float]) -> list[str]:
    """Labels with as many decimals as the step needs, so no two ticks read the same."""
    if max(abs(ticks[0]), abs(ticks[-1])) >= 1e12:
        return [f"{tick:.4g}" for tick in ticks]
    decimals = max(0, -math.floor(math.log10(ticks[1] - ticks[0]) + 1e-9))
    return [trim_zeros(f"{tick:,.{decimals}f}") for tick in ticks]


# -- checks -------------------------------------------------------------------------------


def _number(field: str, value: object) -> float | None:
    """A float within ±1e300 (so sums stay finite), or ``None`` for None, NaN and infinities.

    Other types are refused.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationFailed(field, f"must be a number or None, not {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:  # an int beyond float range is as good as infinite
        return None
    return min(max(number, -_LIMIT), _LIMIT) if math.isfinite(number) else None


def _finite(field: str, value: object) -> float:
    number = _number(field, value)
    if number is None:
        raise ValidationFailed(field, "must be a finite number")
    return number


def _label(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(field, f"must be a string, not {type(value).__name__}")
    return value


def _items(field: str, value: object) -> Sequence[object]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise ValidationFailed(field, f"must be a sequence, not {type(value).__name__}")
    return value


def _pair(field: str, value: object, shape: str) -> tuple[object, object]:
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValidationFailed(field, f"must be a pair {shape}")
    return value[0], value[1]


def _size(field: str, value: object, minimum: int) -> float:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 10_000:
        raise ValidationFailed(field, f"must be a whole number of pixels from {minimum} to 10000")
    return float(value)


def _formatter(field: str, value: object) -> Formatter:
    if value is None:
        return format_number
    if not callable(value):
        raise ValidationFailed(field, "must be a function from a number to text, or None")
    return lambda number: str(value(number))


def _count(room: float, per_tick: float) -> int:
    """How many ticks an axis of ``room`` pixels takes, one per ``per_tick`` pixels."""
    return max(3, min(8, int(room // per_tick)))


class _Scale:
    """Maps values in ``[low, high]`` to pixels in ``[start, end]``, never outside them."""

    __slots__ = ("factor", "first", "last", "low", "start")

    def __init__(self, low: float, high: float, start: float, end: float) -> None:
        self.low, self.start = low, start
        self.factor = (end - start) / (high - low)
        self.first, self.last = min(start, end), max(start, end)

    def __call__(self, value: float) -> float:
        return min(max(self.start + (value - self.low) * self.factor, self.first), self.last)


# -- drawing ------------------------------------------------------------------------------


class _Canvas:
    """One chart's elements in drawing order, and the helpers that draw them."""

    __slots__ = ("parts", "width")

    def __init__(self, width: float) -> None:
        self.width = width
        self.parts: list[str] = []

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        fit: float | None = None,
        size: float = _TEXT_SIZE,
        anchor: str = "start",
        style: str = "",
    ) -> None:
        """A ``<text>`` cut to ``fit`` pixels, keeping the whole text as its tooltip."""
        shown, cut = (text, False) if fit is None else _fit(text, fit, size)
        if anchor != "start":
            style += f' text-anchor="{anchor}"'
        if size != _TEXT_SIZE:
            style += f' font-size="{_n(size)}"'
        tip = f"<title>{_escape(text)}</title>" if cut else ""
        self.parts.append(f'<text x="{_n(x)}" y="{_n(y)}"{style}>{_escape(shown)}{tip}</text>')

    def line(self, x1: float, y1: float, x2: float, y2: float, style: str = _GRID) -> None:
        self.parts.append(f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}"{style}/>')

    def rect(
        self, x: float, y: float, width: float, height: float, style: str, tip: str = ""
    ) -> None:
        inner = f"><title>{_escape(tip)}</title></rect>" if tip else "/>"
        self.parts.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(width, 0.0))}" '
            f'height="{_n(max(height, 0.0))}"{style}{inner}'
        )

    def heading(self, title: str) -> float:
        """The visible title; returns where the chart continues below it."""
        if not title:
            return _PAD
        fit = self.width - 2 * _PAD
        self.text(_PAD, 20, title, fit=fit, size=_TITLE_SIZE, style=' font-weight="600"')
        return 30.0

    def legend(self, names: Sequence[str], top: float, *, lines: bool) -> float:
        """Legend entries in rows that wrap at the chart's width; returns the height used."""
        room = min(220.0, self.width - 2 * _PAD - 22)
        x, y = _PAD, top
        for index, name in enumerate(names):
            entry = 22 + min(_text_width(name, _SMALL_SIZE), room) + 14
            if x > _PAD and x + entry > self.width - _PAD:
                x, y = _PAD, y + 18
            if lines:
                self.line(x, y + 8, x + 16, y + 8, _stroke(index))
            else:
                self.rect(x + 2, y + 2, 12, 12, f' fill="{_colour(index)}"')
            self.text(x + 22, y + 12, name, fit=room, size=_SMALL_SIZE)
            x += entry
        return y - top + 22 if names else 0.0

    def no_data(self, x: float, y: float) -> None:
        self.text(x, y, "No data", anchor="middle", style=_MUTED)

    def svg(self, kind: str, height: float, title: str, summary: str) -> str:
        """The finished ``<svg>`` element, ``height`` pixels tall."""
        width, label = _n(self.width), f"{title}. {summary}" if title else summary
        return "".join(
            [
                f'<svg xmlns="{_SVG_NS}" class="sf-chart sf-{kind}" viewBox="0 0 {width} '
                f'{_n(height)}" width="100%" style="max-width:{width}px" '
                f'role="img" aria-label="{_escape(label)}" font-family="{_FONT}" '
                f'font-size="{_n(_TEXT_SIZE)}" color="{_INK}" fill="currentColor">',
                f"<title>{_escape(title)}</title><desc>{_escape(summary)}</desc>",
                *self.parts,
                "</svg>",
            ]
        )


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _stroke(index: int) -> str:
    """Series ``index``'s line style: colour and dash both cycle, so 28 series differ."""
    dash = _DASHES[index % len(_DASHES)]
    return (
        f' fill="none" stroke="{_colour(index)}" stroke-width="2" stroke-linejoin="round"'
        f' stroke-linecap="round"' + (f' stroke-dasharray="{dash}"' if dash else "")
    )


def _listing(items: list[str], limit: int = 25) -> str:
    """Items joined for a summary, at most ``limit`` of them named."""
    more = len(items) - limit
    return "; ".join(items[:limit] + ([f"and {more} more"] if more > 0 else []))


# -- line chart ---------------------------------------------------------------------------


class _Series(NamedTuple):
    name: str
    xs: list[float]
    ys: list[float | None]


def line_chart(
    series: Sequence[tuple[str, Sequence[tuple[datetime | float, float | None]]]],
    *,
    title: str,
    y_label: str = "",
    y_format: Formatter | None = None,
    width: int = 720,
    height: int = 260,
) -> str:
    """Lines over time or over a number, e.g. the backlog per hour against a baseline.

    ``series`` holds ``(name, points)``; points are ``(x, y)`` in x order, x an aware
    ``datetime`` or a number (one kind in all series), y a number or ``None``, which
    breaks the line. A point with no neighbour is drawn as a dot. The value axis always
    includes zero; the x axis spans the data. Each legend row past the first adds 18
    pixels to ``height``.
    """
    _label("title", title)
    _label("y_label", y_label)
    fmt = _formatter("y_format", y_format)
    canvas = _Canvas(_size("width", width, 240))
    total_height = _size("height", height, 160)
    lines, zone = _read_series(series)
    top = canvas.heading(title)
    legend_height = canvas.legend([line.name for line in lines], top, lines=True)
    top += legend_height
    total_height += max(0.0, legend_height - 22)
    if y_label:
        canvas.text(_PAD, top + 12, y_label, fit=canvas.width - 2 * _PAD, style=_MUTED)
        top += 18
    top, bottom = top + 8, total_height - 26
    values = [y for line in lines for y in line.ys if y is not None]
    xs = [x for line in lines for x in line.xs]
    summary = _line_summary(lines, zone, fmt, xs)
    if not values:
        canvas.no_data(canvas.width / 2, (top + bottom) / 2)
        return canvas.svg("line", total_height, title, summary)

    low, high = min(0.0, *values), max(0.0, *values)
    ticks, labels = _value_axis(low, high, _count(bottom - top, 30), y_format)
    label_room = min(max(_text_width(label, _SMALL_SIZE) for label in labels), canvas.width / 4)
    left, right = _PAD + label_room + 6, canvas.width - 24
    to_y = _Scale(ticks[0], ticks[-1], bottom, top)
    for tick, label in zip(ticks, labels, strict=True):
        y = to_y(tick)
        canvas.line(left, y, right, y, _GRID if tick else ' stroke="currentColor"')
        canvas.text(left - 6, y + 4, label, fit=label_room, size=_SMALL_SIZE, anchor="end")

    x0, x1 = min(xs), max(xs)
    if x1 - x0 <= 1e-12 * max(1.0, abs(x0), abs(x1)):  # one x, as far as pixels can tell
        room = 1800.0 if zone is not None else max(1.0, abs(x0) / 10)
        x0, x1 = x0 - room, x1 + room
    to_x = _Scale(x0, x1, left, right)
    for tick_x, label in _x_ticks(x0, x1, _count(right - left, 100), zone):
        x = to_x(tick_x)
        canvas.line(x, bottom, x, bottom + 4, ' stroke="currentColor"')
        canvas.text(x, bottom + 17, label, size=_SMALL_SIZE, anchor="middle")

    for index, line in enumerate(lines):
        canvas.parts += _draw_series(index, line, to_x, to_y)
    return canvas.svg("line", total_height, title, summary)


def _read_series(series: object) -> tuple[list[_Series], tzinfo | None]:
    """The series with x as floats (timestamps for datetimes), and a time axis's zone.

    Plain tuples of aware datetimes or floats and floats or ``None`` take a fast path; the
    rest goes through the full checks.
    """
    lines: list[_Series] = []
    axis = _Axis()
    for index, entry in enumerate(_items("series", series)):
        field = f"series[{index}]"
        name, points = _pair(field, entry, "(name, points)")
        xs: list[float] = []
        ys: list[float | None] = []
        for position, point in enumerate(_items(f"{field}.points", points)):
            if type(point) is tuple and len(point) == 2:
                x, y = point
            else:
                x, y = _pair(f"{field}.points[{position}]", point, "(x, y)")
            if x.__class__ is datetime and x.tzinfo is not None and axis.zone is not None:
                xs.append(x.timestamp())
            elif x.__class__ is float and axis.numbers and -_LIMIT <= x <= _LIMIT:
                xs.append(x)
            else:
                xs.append(axis.read(f"{field}.points[{position}].x", x))
            if y.__class__ is float and -_LIMIT <= y <= _LIMIT:
                ys.append(y)
            elif y is None:
                ys.append(None)
            else:
                ys.append(_number(f"{field}.points[{position}].y", y))
        lines.append(_Series(_label(f"{field}.name", name), xs, ys))
    return lines, axis.zone


class _Axis:
    """The kind of the x values seen so far: time (with the first one's zone) or numbers."""

    __slots__ = ("numbers", "zone")

    def __init__(self) -> None:
        self.zone: tzinfo | None = None
        self.numbers = False

    def read(self, field: str, x: object) -> float:
        """``x`` as a float, refused if it is not of the axis's kind."""
        if isinstance(x, datetime):
            if self.numbers:
                raise ValidationFailed(field, "must be a number like the others")
            if x.utcoffset() is None:
                raise ValidationFailed(field, "must be timezone-aware")
            if self.zone is None:
                self.zone = x.tzinfo
            return x.timestamp()
        if self.zone is not None:
            raise ValidationFailed(field, "must be a datetime like the others")
        self.numbers = True
        return _finite(field, x)


def _x_ticks(x0: float, x1: float, count: int, zone: tzinfo | None) -> list[tuple[float, str]]:
    """Ticks and labels inside ``[x0, x1]``: on the clock for a time axis, else round numbers."""
    if zone is not None:
        try:
            start, end = datetime.fromtimestamp(x0, tz=zone), datetime.fromtimestamp(x1, tz=zone)
            moments, step = _time_axis(start, end, count)
        except (OverflowError, ValueError):  # the padding around one point left year 1..9999
            return []
        return [(moment.timestamp(), _time_label(moment, step)) for moment in moments]
    ticks = nice_ticks(x0, x1, count)
    labels = _number_labels(ticks)
    slack = (x1 - x0) * 1e-9
    return [
        (tick, label)
        for tick, label in zip(ticks, labels, strict=True)
        if x0 - slack <= tick <= x1 + slack
    ]


def _draw_series(index: int, line: _Series, to_x: _Scale, to_y: _Scale) -> list[str]:
    """One series as a path broken at gaps, plus a dot for each point with no neighbour."""
    # The scales are inlined, unclamped: the axes' domains already hold every point.
    x_low, x_start, x_factor = to_x.low, to_x.start, to_x.factor
    y_low, y_start, y_factor = to_y.low, to_y.start, to_y.factor
    parts: list[str] = []
    dots: list[str] = []
    run = 0
    last = ""
    for x, y in zip(line.xs, line.ys, strict=True):
        if y is None:
            if run == 1:
                dots.append(last)
            run = 0
            continue
        last = f"{_n(x_start + (x - x_low) * x_factor)} {_n(y_start + (y - y_low) * y_factor)}"
        parts.append(f" {last}" if run else f"M{last}")
        run += 1
    if run == 1:
        dots.append(last)
    if not parts:
        return []
    name, colour = _escape(line.name), _colour(index)
    drawn = [f'<path d="{"".join(parts)}"{_stroke(index)}><title>{name}</title></path>']
    for dot in dots:
        cx, cy = dot.split(" ")
        drawn.append(
            f'<circle cx="{cx}" cy="{cy}" r="3" fill="{colour}"><title>{name}</title></circle>'
        )
    return drawn


def _line_summary(
    lines: list[_Series], zone: tzinfo | None, fmt: Formatter, xs: list[float]
) -> str:
    if not any(y is not None for line in lines for y in line.ys):
        return f"Line chart of {len(lines)} series, no data."

    def where(x: float) -> str:
        return _moment(x, zone) if zone is not None else format_number(x)

    head = f"Line chart of {len(lines)} series from {where(min(xs))} to {where(max(xs))}"
    items = []
    for line in lines:
        ys = [y for y in line.ys if y is not None]
        items.append(
            f"{line.name}: {len(ys)} values, lowest {fmt(min(ys))}, highest {fmt(max(ys))}, "
            f"last {fmt(ys[-1])}"
            if ys
            else f"{line.name}: no data"
        )
    return f"{head}. {_listing(items)}."


# -- bar charts ---------------------------------------------------------------------------


class _Row(NamedTuple):
    label: str
    values: list[float | None]


def bar_chart(
    bars: Sequence[tuple[str, float | None]],
    *,
    title: str,
    value_format: Formatter | None = None,
    goal: float | None = None,
    goal_label: str = "",
    width: int = 720,
) -> str:
    """Horizontal bars, one per ``(label, value)``, with an optional vertical goal line.

    A ``None`` value reads "no data"; negative values extend left of zero; the height
    grows with the number of bars. ``goal`` (say a CSAT goal of 0.9 with
    ``value_format=format_percent``) is a dashed line named ``goal_label`` ("Goal").
    """
    _label("title", title)
    _label("goal_label", goal_label)
    fmt = _formatter("value_format", value_format)
    canvas = _Canvas(_size("width", width, 240))
    rows: list[_Row] = []
    for i, bar in enumerate(_items("bars", bars)):
        label, value = _pair(f"bars[{i}]", bar, "(label, value)")
        rows.append(_Row(_label(f"bars[{i}].label", label), [_number(f"bars[{i}].value", value)]))
    target = _number("goal", goal)
    goal_text = f"{goal_label or 'Goal'} {fmt(target)}" if target is not None else ""
    summary = _bar_summary("Bar chart", rows, None, fmt) + (f" {goal_text}." if goal_text else "")
    top = canvas.heading(title) + (22 if target is not None else 4)
    bottom, to_x = _draw_rows(canvas, rows, None, fmt, value_format, top, target)
    if target is not None and rows:
        x = to_x(target)
        dashed = ' stroke="currentColor" stroke-width="1.5" stroke-dasharray="5 3"'
        canvas.line(x, top - 4, x, bottom, dashed)
        half = _text_width(goal_text, _SMALL_SIZE) / 2
        anchor = (
            "end" if x + half > canvas.width - _PAD else "start" if x < half + _PAD else "middle"
        )
        fit = canvas.width - 2 * _PAD
        canvas.text(x, top - 8, goal_text, fit=fit, size=_SMALL_SIZE, anchor=anchor)
    return canvas.svg("bar", bottom + 26, title, summary)


def stacked_bar_chart(
    rows: Sequence[tuple[str, Sequence[float | None]]],
    segments: Sequence[str],
    *,
    title: str,
    value_format: Formatter | None = None,
    width: int = 720,
) -> str:
    """Horizontal stacked bars: each row's values, one per segment name, laid end to end.

    For the parts of a whole, e.g. the time tickets spend in each lifecycle stage per
    team (``value_format=format_duration``). ``None`` and zero values draw nothing;
    negative values stack left of zero. The row's total ends each bar; a legend names the
    segments.
    """
    _label("title", title)
    fmt = _formatter("value_format", value_format)
    canvas = _Canvas(_size("width", width, 240))
    names = [_label(f"segments[{i}]", name) for i, name in enumerate(_items("segments", segments))]
    read: list[_Row] = []
    for i, row in enumerate(_items("rows", rows)):
        label, values = _pair(f"rows[{i}]", row, "(label, values)")
        items = _items(f"rows[{i}].values", values)
        if len(items) != len(names):
            raise ValidationFailed(
                f"rows[{i}].values", f"needs one value per segment ({len(names)}), got {len(items)}"
            )
        values_read = [_number(f"rows[{i}].values[{j}]", value) for j, value in enumerate(items)]
        read.append(_Row(_label(f"rows[{i}].label", label), values_read))
    top = canvas.heading(title)
    top += canvas.legend(names, top, lines=False) + 4
    bottom, _ = _draw_rows(canvas, read, names, fmt, value_format, top)
    summary = _bar_summary("Stacked bar chart", read, names, fmt)
    return canvas.svg("stacked", bottom + 26, title, summary)


def _draw_rows(
    canvas: _Canvas,
    rows: list[_Row],
    segments: list[str] | None,
    fmt: Formatter,
    value_format: Formatter | None,
    top: float,
    goal: float | None = None,
) -> tuple[float, Callable[[float], float]]:
    """Rows of bars below ``top`` with labels, totals and a value axis.

    Returns the bottom of the rows and the value scale. With ``segments`` None each row
    is one bar of its single value.
    """
    if not rows:
        canvas.no_data(canvas.width / 2, top + 24)
        return top + 40, lambda value: value
    width = canvas.width
    spans = [_span(row.values) for row in rows]
    totals = [None if span is None else span[0] + span[1] for span in spans]
    texts = ["no data" if total is None else fmt(total) for total in totals]
    leftward = [total is not None and total < 0 for total in totals]
    label_room = min(max(_text_width(row.label, _TEXT_SIZE) for row in rows), width * 0.3)
    left_room = _room([t for t, west in zip(texts, leftward, strict=True) if west], width * 0.15)
    right_room = _room(
        [t for t, west in zip(texts, leftward, strict=True) if not west], width * 0.2
    )
    left, right = _PAD + label_room + 8 + left_room, width - _PAD - right_room
    ends = [end for span in spans if span is not None for end in span]
    ends += [0.0] if goal is None else [0.0, goal]
    ticks, labels = _value_axis(min(ends), max(ends), _count(right - left, 90), value_format)
    to_x = _Scale(ticks[0], ticks[-1], left, right)
    bottom = top + len(rows) * _ROW
    for tick, label in zip(ticks, labels, strict=True):
        x = to_x(tick)
        canvas.line(x, top, x, bottom, _GRID if tick else ' stroke="currentColor"')
        canvas.text(x, bottom + 16, label, size=_SMALL_SIZE, anchor="middle")

    for index, (row, span, text) in enumerate(zip(rows, spans, texts, strict=True)):
        y = top + index * _ROW
        canvas.text(left - left_room - 8, y + 17, row.label, fit=label_room, anchor="end")
        if span is None:
            italic = ' font-style="italic"' + _MUTED
            canvas.text(to_x(0.0) + 4, y + 17, text, fit=right_room, size=_SMALL_SIZE, style=italic)
        elif leftward[index]:
            _draw_bar(canvas, row, segments, fmt, to_x, y)
            canvas.text(
                to_x(span[0]) - 4, y + 17, text, fit=left_room - 6, size=_SMALL_SIZE, anchor="end"
            )
        else:
            _draw_bar(canvas, row, segments, fmt, to_x, y)
            canvas.text(to_x(span[1]) + 4, y + 17, text, fit=right_room - 6, size=_SMALL_SIZE)
    return bottom, to_x


def _span(values: list[float | None]) -> tuple[float, float] | None:
    """The sums of a row's negative and of its positive values; ``None`` with no value."""
    present = [value for value in values if value is not None]
    if not present:
        return None
    return sum(v for v in present if v < 0), sum(v for v in present if v > 0)


def _room(texts: list[str], cap: float) -> float:
    """Pixels to keep for the widest of ``texts`` beside a bar, at most ``cap``."""
    return min(max(_text_width(text, _SMALL_SIZE) for text in texts) + 8, cap) if texts else 0.0


def _draw_bar(
    canvas: _Canvas,
    row: _Row,
    segments: list[str] | None,
    fmt: Formatter,
    to_x: Callable[[float], float],
    y: float,
) -> None:
    """One row's bar: its single value, or its segments stacked out from zero both ways."""
    positive = sum(value for value in row.values if value is not None and value > 0)
    above = below = 0.0
    for index, value in enumerate(row.values):
        if value is None or (segments is not None and value == 0):
            continue
        if value >= 0:
            start, end, above = to_x(above), to_x(above + value), above + value
        else:
            start, end, below = to_x(below + value), to_x(below), below + value
        if segments is None:
            tip = f"{row.label}: {fmt(value)}"
            canvas.rect(start, y + 5, end - start, 16, f' class="sf-bar" fill="{PALETTE[0]}"', tip)
            continue
        colour, shown = _colour(index), fmt(value)
        share = f" ({format_percent(value / positive)} of {fmt(positive)})" if value > 0 else ""
        tip = f"{row.label} · {segments[index]}: {shown}{share}"
        canvas.rect(start, y + 5, end - start, 16, f' class="sf-segment" fill="{colour}"', tip)
        if _text_width(shown, 10) + 6 <= end - start:
            ink = "#000000" if colour in _DARK_TEXT else "#FFFFFF"
            middle = (start + end) / 2
            canvas.text(middle, y + 16.5, shown, size=10, anchor="middle", style=f' fill="{ink}"')


def _bar_summary(kind: str, rows: list[_Row], segments: list[str] | None, fmt: Formatter) -> str:
    noun = "bar" if segments is None else "row"
    head = f"{kind} of {len(rows)} {noun}{'' if len(rows) == 1 else 's'}"
    if segments:
        head += f" by {', '.join(segments)}"
    items = []
    for row in rows:
        named = zip(segments or [""] * len(row.values), row.values, strict=True)
        present = [(segment, value) for segment, value in named if value is not None]
        if not present:
            items.append(f"{row.label}: no data")
        elif segments is not None:
            parts = ", ".join(f"{segment} {fmt(value)}" for segment, value in present)
            items.append(f"{row.label}: {fmt(sum(v for _, v in present))} ({parts})")
        else:
            items.append(f"{row.label}: {fmt(present[0][1])}")
    return f"{head}: {_listing(items)}." if items else f"{head}, no data."


# -- heatmap ------------------------------------------------------------------------------


def heatmap(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    title: str,
    value_format: Formatter | None = None,
    low_is_good: bool = False,
    domain: tuple[float, float] | None = None,
    width: int = 720,
) -> str:
    """A grid of coloured cells, e.g. SLA attainment by tier (rows) and hour (columns).

    ``values`` holds one row per row label, one value per column label. Better values are
    bluer and worse ones more orange (``low_is_good`` says which end is better) across
    ``domain``, by default the data's own range; ``None`` cells are struck through.
    Values are written in the cells when they all fit; every cell has a tooltip.
    """
    _label("title", title)
    fmt = _formatter("value_format", value_format)
    canvas = _Canvas(_size("width", width, 240))
    if not isinstance(low_is_good, bool):
        raise ValidationFailed("low_is_good", "must be true or false")
    rows = [_label(f"row_labels[{i}]", x) for i, x in enumerate(_items("row_labels", row_labels))]
    columns = [
        _label(f"column_labels[{i}]", x)
        for i, x in enumerate(_items("column_labels", column_labels))
    ]
    cells = _grid(values, len(rows), len(columns))
    present = [value for row in cells for value in row if value is not None]
    low, high = _heat_domain(domain, present)
    summary = _heat_summary(rows, columns, cells, fmt, low_is_good)
    top = canvas.heading(title)
    if not rows or not columns:
        canvas.no_data(canvas.width / 2, top + 24)
        return canvas.svg("heatmap", top + 40, title, summary)

    label_room = min(max(_text_width(label, _TEXT_SIZE) for label in rows), canvas.width * 0.3)
    left = _PAD + label_room + 8
    cell = (canvas.width - _PAD - left) / len(columns)
    every = math.ceil((max(_text_width(label, _SMALL_SIZE) for label in columns) + 4) / cell)
    for j in range(0, len(columns), every):
        x = left + (j + 0.5) * cell
        canvas.text(
            x, top + 12, columns[j], fit=cell * every - 4, size=_SMALL_SIZE, anchor="middle"
        )
    top += 18
    shown = {value: fmt(value) for value in present}
    written = all(_text_width(text, 10) + 4 <= cell - 2 for text in shown.values())
    for i, (label, row) in enumerate(zip(rows, cells, strict=True)):
        y = top + i * _ROW
        canvas.text(left - 8, y + 17, label, fit=label_room, anchor="end")
        for j, value in enumerate(row):
            x = left + j * cell
            tip = f"{label} · {columns[j]}: {'no data' if value is None else shown[value]}"
            if value is None:
                style = ' class="sf-cell sf-empty" fill="none"' + _GRID
                canvas.rect(x + 1, y + 1, cell - 2, _ROW - 2, style, tip)
                canvas.line(x + 1, y + _ROW - 1, x + cell - 1, y + 1)
                continue
            share = 0.5 if high <= low else (min(max(value, low), high) - low) / (high - low)
            colour, dark = _heat_colour(1 - share if low_is_good else share)
            canvas.rect(x + 1, y + 1, cell - 2, _ROW - 2, f' class="sf-cell" fill="{colour}"', tip)
            if written:
                ink = ' fill="#FFFFFF"' if dark else ' fill="#000000"'
                canvas.text(
                    x + cell / 2, y + 16.5, shown[value], size=10, anchor="middle", style=ink
                )
    bottom = top + len(rows) * _ROW + 10
    bottom += _heat_legend(canvas, (low, high) if present else None, fmt, low_is_good, bottom)
    return canvas.svg("heatmap", bottom + 8, title, summary)


def _grid(values: object, rows: int, columns: int) -> list[list[float | None]]:
    """The heatmap's values checked against its labels: ``rows`` lists of ``columns``."""
    grid = _items("values", values)
    if len(grid) != rows:
        raise ValidationFailed("values", f"needs one row per row label ({rows}), got {len(grid)}")
    cells: list[list[float | None]] = []
    for i, row in enumerate(grid):
        items = _items(f"values[{i}]", row)
        if len(items) != columns:
            raise ValidationFailed(
                f"values[{i}]", f"needs one value per column label ({columns}), got {len(items)}"
            )
        cells.append([_number(f"values[{i}][{j}]", value) for j, value in enumerate(items)])
    return cells


def _heat_domain(domain: object, present: list[float]) -> tuple[float, float]:
    if domain is None:
        return (min(present), max(present)) if present else (0.0, 1.0)
    low, high = _pair("domain", domain, "(low, high)")
    first, second = _finite("domain[0]", low), _finite("domain[1]", high)
    return min(first, second), max(first, second)


def _heat_colour(goodness: float) -> tuple[str, bool]:
    """The colour for a goodness from 0 (worst, orange) to 1 (best, blue), and if it is dark."""
    position = goodness * (len(_HEAT) - 1)
    index = min(int(position), len(_HEAT) - 2)
    fraction = position - index
    start, end = _HEAT[index], _HEAT[index + 1]
    red, green, blue = (round(a + (b - a) * fraction) for a, b in zip(start, end, strict=True))
    return f"#{red:02X}{green:02X}{blue:02X}", abs(goodness - 0.5) > 0.35


def _heat_legend(
    canvas: _Canvas,
    domain: tuple[float, float] | None,
    fmt: Formatter,
    low_is_good: bool,
    top: float,
) -> float:
    """The colour ramp between the domain's ends, then the no-data swatch; returns its height."""
    x, y = _PAD, top
    if domain is not None:
        room = (canvas.width - 2 * _PAD - 90 - 12) / 2
        for end, text in enumerate((fmt(domain[0]), fmt(domain[1]))):
            canvas.text(x, y + 12, text, fit=room, size=_SMALL_SIZE, style=_MUTED)
            x += min(_text_width(text, _SMALL_SIZE), room) + 6
            if not end:
                for k in range(5):
                    colour, _ = _heat_colour(1 - k / 4 if low_is_good else k / 4)
                    canvas.rect(x + k * 18, y + 2, 18, 12, f' fill="{colour}"')
                x += 90 + 6
        x += 18
    if x + 80 > canvas.width - _PAD:
        x, y = _PAD, y + 18
    canvas.rect(x, y + 2, 18, 12, ' fill="none"' + _GRID)
    canvas.line(x, y + 14, x + 18, y + 2)
    canvas.text(x + 24, y + 12, "no data", size=_SMALL_SIZE, style=_MUTED)
    return y - top + 18


def _heat_summary(
    rows: list[str],
    columns: list[str],
    cells: list[list[float | None]],
    fmt: Formatter,
    low_is_good: bool,
) -> str:
    found = [
        (value, row, column)
        for row, values in zip(rows, cells, strict=True)
        for column, value in zip(columns, values, strict=True)
        if value is not None
    ]
    size = len(rows) * len(columns)
    text = f"Heatmap of {len(rows)} rows by {len(columns)} columns, {len(found)} of {size} cells"
    if not found:
        return f"{text} with data."
    ranked = sorted(found, key=lambda cell: cell[0], reverse=low_is_good)
    worst = ranked[: min(3, len(ranked) - 1)] or ranked
    worst_text = ", ".join(f"{row} · {column} {fmt(value)}" for value, row, column in worst)
    value, row, column = ranked[-1]
    better = "lower" if low_is_good else "higher"
    best = f"{row} · {column} {fmt(value)}"
    return f"{text} with data, {better} is better. Worst: {worst_text}. Best: {best}."
