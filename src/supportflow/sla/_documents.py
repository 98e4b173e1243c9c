"""Reading calendar and policy documents: JSON or TOML text into a mapping, errors named."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from typing import Any

from ..errors import ValidationFailed

__all__ = ["from_json_text", "from_toml_text"]


def from_json_text(text: str | bytes) -> Mapping[str, Any]:
    """The object a JSON document holds (``ValidationFailed`` on field ``json`` otherwise)."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValidationFailed("json", str(exc)) from None
    if not isinstance(data, Mapping):
        raise ValidationFailed("json", "must be an object")
    return data


def from_toml_text(text: str) -> Mapping[str, Any]:
    """The table a TOML document holds (``ValidationFailed`` on field ``toml`` otherwise)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed("toml", str(exc)) from None
