"""Small text helpers shared by intake and classification: CJK detection, subjects."""

from __future__ import annotations

import re

__all__ = ["detect_language", "has_cjk", "subject_from_body"]

_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_LATIN = re.compile("[A-Za-z\uff21-\uff3a\uff41-\uff5a]")  # with full-width letters


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains a CJK ideograph."""
    return _CJK.search(text) is not None


def detect_language(text: str) -> str:
    """``"zh"``, ``"en"``, ``"mixed"`` (both scripts in force) or ``"und"`` (no letters).

    An ideograph carries about as much as four Latin letters, so each counts four times;
    the text is Chinese when ideographs carry at least 80% of that weight, English at most
    20%, mixed in between. Good enough to route by language; not a general detector.
    """
    if _CJK.search(text) is None:
        return "en" if _LATIN.search(text) is not None else "und"
    cjk_weight = len(_CJK.findall(text)) * 4
    total = cjk_weight + len(_LATIN.findall(text))
    if total == 0:
        return "und"
    cjk_share = cjk_weight / total
    if cjk_share >= 0.8:
        return "zh"
    if cjk_share <= 0.2:
        return "en"
    return "mixed"


def subject_from_body(body: str, limit: int = 80) -> str:
    """A subject for a request that came without one: its first non-blank line, shortened."""
    for line in body.splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""
