"""Masking customer contact details for display: reprs, error messages, logs.

Masking is for what people read, never for what is stored: ``model_dump()`` and JSON keep
every contact detail whole. Each function keeps just enough to tell two values apart at a
glance and never the whole value::

    >>> mask_email("ann.lee@example.com")
    'a***@e***.com'
    >>> mask_phone("+86 21 5555 0142")
    '***42'
    >>> mask_handle("@mrossi")
    '@m***'
    >>> mask_emails("agent ann.lee@example.com may not resolve")
    'agent a***@e***.com may not resolve'

This module imports nothing from supportflow, so the lowest layers (``errors``, ``models``)
can use it.
"""

from __future__ import annotations

import re

__all__ = ["mask_email", "mask_emails", "mask_handle", "mask_phone"]

_HIDDEN = "***"
# A name may hold an apostrophe (o'neil@example.com) but, unless it is nothing else, not
# start with one: the quote before an email in a repr ('ann@example.com') stays outside.
_EMAIL_LIKE = re.compile(r"(?:[^\s@\"'<>()\[\],;:][^\s@\"<>()\[\],;:]*|'+)@[^\s@'\"<>()\[\],;:]+")


def mask_email(value: str) -> str:
    """``a***@e***.com``: the first letter of the name and of the domain, and the last label.

    A value without ``@`` is masked as a handle is.
    """
    local, at, domain = value.strip().rpartition("@")
    if not at:
        return mask_handle(value)
    shown_local = local[:1] + _HIDDEN if local else _HIDDEN
    host, dot, top = domain.rpartition(".")
    if not dot or not host or not top:
        return f"{shown_local}@{domain[:1]}{_HIDDEN}"
    return f"{shown_local}@{host[:1]}{_HIDDEN}.{top}"


def mask_phone(value: str) -> str:
    """``***42``: the last two digits only (``***`` when it has fewer than four digits)."""
    digits = [c for c in value if c.isdigit()]
    if len(digits) < 4:
        return _HIDDEN
    return _HIDDEN + "".join(digits[-2:])


def mask_handle(value: str) -> str:
    """``@m***``: a leading ``@`` and the first character after it."""
    text = value.strip()
    prefix = "@" if text.startswith("@") else ""
    rest = text[len(prefix) :]
    return f"{prefix}{rest[:1]}{_HIDDEN}" if len(rest) > 1 else f"{prefix}{_HIDDEN}"


def mask_emails(text: str) -> str:
    """``text`` with every email-shaped part masked by :func:`mask_email`."""
    if "@" not in text:
        return text
    return _EMAIL_LIKE.sub(lambda m: mask_email(m.group(0)), text)
