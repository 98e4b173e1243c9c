"""Small text helpers shared by intake and classification: CJK detection, subjects."""

from __future__ import annotations

__all__ = ["detect_language", "has_cjk", "subject_from_body"]

_CJK_RANGES = (
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x2FA1F),
)


def _is_cjk(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _CJK_RANGES)


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains a CJK ideograph."""
    return any(_is_cjk(c) for c in text)


def detect_language(text: str) -> str:
    """``"zh"``, ``"en"``, ``"mixed"`` (both scripts in force) or ``"und"`` (no letters).

    Counts CJK ideographs against Latin letters; a script counts when it is at least a
    fifth of the letters. Good enough to route by language; not a general detector.
    """
    cjk = latin = 0
    for char in text:
        if _is_cjk(char):
            cjk += 1
        elif char.isascii() and char.isalpha():
            latin += 1
    # A Chinese character carries roughly a word; weigh it against ~4 Latin letters.
    cjk_weight, latin_weight = cjk * 4, latin
    total = cjk_weight + latin_weight
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
