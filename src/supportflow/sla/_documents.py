"""Reading calendar and policy documents: JSON or TOML text into a mapping, errors named."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from typing import Any

from ..errors import ValidationFailed

__all__ = ["from_json_text", "from_toml_text"]


def from_json_text(text: str | bytes) -> Mapping[str, Any]:
    """The object a JSON document holds (``ValidationFailed`` on field ``json`` otherwise).

    Hostile documents are refused too: nesting deeper than Python's recursion limit, and
    numbers longer than ``int`` accepts (4,300 digits).
    """
    if not isinstance(text, str | bytes | bytearray):
        raise ValidationFailed("json", f"must be text, not {type(text).__name__}")
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValidationFailed("json", "nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, over-long numbers
        raise ValidationFailed("json", str(exc)) from None
    if not isinstance(data, Mapping):
        raise ValidationFailed("json", "must be an object")
    return data


def from_toml_text(text: str) -> Mapping[str, Any]:
    """The table a TOML document holds (``ValidationFailed`` on field ``toml`` otherwise)."""
    if not isinstance(text, str):
        raise ValidationFailed("toml", f"must be text (str), not {type(text).__name__}")
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ValidationFailed("toml", "nested too deeply") from None
    except ValueError as exc:  # TOMLDecodeError, over-long numbers
        raise ValidationFailed("toml", str(exc)) from None
