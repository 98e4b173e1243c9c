"""Cheap checks for the arguments of public calls; each failure names the field."""

from __future__ import annotations

import reprlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from .errors import ValidationFailed
from .models import MAX_BODY_CHARS

__all__ = [
    "aware",
    "enum_value",
    "flag",
    "labels",
    "object_id",
    "optional_id",
    "optional_text",
    "text",
]

MAX_ID_CHARS = 200
T = TypeVar("T")


def _unicode(field: str, value: str) -> None:
    """Refuse lone surrogates (``json.loads`` makes them from ``"\\ud800"``): unstorable."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationFailed(field, "must be valid Unicode (no lone surrogates)") from None


def object_id(field: str, value: object) -> str:
    """A non-blank id of at most 200 characters, stripped."""
    if not isinstance(value, str):
        raise ValidationFailed(field, f"must be a string, not {type(value).__name__}")
    _unicode(field, value)
    stripped = value.strip()
    if not stripped:
        raise ValidationFailed(field, "must not be empty")
    if len(stripped) > MAX_ID_CHARS:
        raise ValidationFailed(field, f"must be at most {MAX_ID_CHARS} characters")
    return stripped


def optional_id(field: str, value: object) -> str | None:
    """``None`` or an id as :func:`object_id` checks it."""
    return None if value is None else object_id(field, value)


def text(field: str, value: object, *, required: bool, limit: int = MAX_BODY_CHARS) -> str:
    """A string of at most ``limit`` characters; non-blank when ``required``."""
    if not isinstance(value, str):
        raise ValidationFailed(field, f"must be a string, not {type(value).__name__}")
    if len(value) > limit:
        raise ValidationFailed(field, f"must be at most {limit} characters, got {len(value)}")
    _unicode(field, value)
    if required and not value.strip():
        raise ValidationFailed(field, "must not be empty")
    return value


def optional_text(field: str, value: object, *, limit: int) -> str | None:
    """``None`` or a non-blank string of at most ``limit`` characters, stripped."""
    if value is None:
        return None
    return text(field, value, required=True, limit=limit).strip()


def labels(field: str, value: object, *, limit: int = 100) -> tuple[str, ...]:
    """A list (or other iterable, not a string) of non-blank labels, stripped."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise ValidationFailed(field, "must be a list of strings")
    return tuple(
        text(f"{field}[{i}]", item, required=True, limit=limit).strip()
        for i, item in enumerate(value)
    )


def aware(field: str, value: object) -> datetime:
    """A timezone-aware datetime; a naive one is refused, never assumed UTC."""
    if not isinstance(value, datetime):
        raise ValidationFailed(field, f"must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationFailed(field, "must be timezone-aware (a naive datetime is ambiguous)")
    return value


def flag(field: str, value: object) -> bool:
    """A real bool (not a truthy string)."""
    if not isinstance(value, bool):
        raise ValidationFailed(field, f"must be a bool, not {type(value).__name__}")
    return value


_SHOWN = reprlib.Repr()
_SHOWN.maxlevel, _SHOWN.maxstring, _SHOWN.maxother = 3, 60, 60
_SHOWN.maxlist = _SHOWN.maxtuple = _SHOWN.maxdict = _SHOWN.maxset = 5


def shown(value: object) -> str:
    """``repr(value)`` cut short: an error message must not fail on hostile input (a list
    nested deeper than the recursion limit, a string of a million characters)."""
    try:
        return _SHOWN.repr(value)
    except Exception:  # a __repr__ that raises: name the type instead
        return f"<{type(value).__name__}>"


EARLIEST_YEAR = 1970
LATEST_YEAR = 9000


def instant(field: str, value: object) -> datetime:
    """An aware datetime a desk can work with: from 1970 to the year 9000.

    Business calendars are built year by year from the instants they meet, and date
    arithmetic near ``datetime.min`` or ``max`` overflows, so the year 1 is refused here
    rather than costing minutes or escaping as ``OverflowError``.
    """
    checked = aware(field, value)
    if not EARLIEST_YEAR <= checked.year <= LATEST_YEAR:
        raise ValidationFailed(
            field,
            f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}, not {checked.year}",
        )
    return checked


def enum_value(field: str, enum: type[T], value: Any) -> T:
    """``value`` as a member of ``enum``; the error lists the accepted values."""
    try:
        return enum(value)  # type: ignore[call-arg]
    except (ValueError, TypeError, RecursionError):
        accepted = ", ".join(str(getattr(m, "value", m)) for m in enum)  # type: ignore[attr-defined]
        raise ValidationFailed(field, f"must be one of: {accepted}; got {shown(value)}") from None
