"""Text handling shared by the classifiers: input checks, normalization, character n-grams."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ..errors import ValidationFailed
from ..models import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, Ticket

__all__ = ["MAX_TEXT_CHARS", "char_ngrams", "checked_text", "normalize", "ticket_text"]

MAX_TEXT_CHARS = MAX_SUBJECT_CHARS + 1 + MAX_BODY_CHARS
"""Longest text a classifier accepts: a ticket's subject, a newline and its body."""

_CJK_RUN = re.compile("([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]+)")


def checked_text(field: str, value: object) -> str:
    """``value`` if it is a string a ticket could carry, else ``ValidationFailed``."""
    if not isinstance(value, str):
        raise ValidationFailed(field, f"must be a string, not {type(value).__name__}")
    if len(value) > MAX_TEXT_CHARS:
        raise ValidationFailed(
            field, f"must be at most {MAX_TEXT_CHARS} characters, got {len(value)}"
        )
    return value


def ticket_text(ticket: object) -> str:
    """The text classifiers read: the subject, a newline, the body."""
    if not isinstance(ticket, Ticket):
        raise ValidationFailed("ticket", f"must be a Ticket, not {type(ticket).__name__}")
    return f"{ticket.subject}\n{ticket.body}"


def normalize(text: str) -> str:
    """NFKC (full-width letters become ASCII) and case-folded, so variants compare equal."""
    return unicodedata.normalize("NFKC", text).casefold()


def char_ngrams(
    text: str, latin: tuple[int, int] = (2, 4), cjk: tuple[int, int] = (1, 2)
) -> list[str]:
    """Character n-grams of the normalized text, word-bounded like scikit-learn's ``char_wb``.

    Each whitespace-separated word is padded with a space on both sides and cut into
    n-grams of the ``latin`` sizes. A run of CJK ideographs inside a word is cut
    separately with the ``cjk`` sizes (an ideograph is nearly a word, so short grams
    carry the meaning and no word segmentation is needed).
    """
    normalized = normalize(text)
    grams: list[str] = []
    if _CJK_RUN.search(normalized) is None:
        for word in normalized.split():
            grams.extend(_word_grams(word, latin))
        return grams
    for word in normalized.split():
        for part in _CJK_RUN.split(word):
            if part:
                grams.extend(_word_grams(part, cjk if _CJK_RUN.match(part) else latin))
    return grams


def _word_grams(part: str, sizes: tuple[int, int]) -> tuple[str, ...]:
    """The n-grams of one padded word; short words are cached, as they recur a lot."""
    if len(part) <= _CACHED_WORD_CHARS:
        return _cached_word_grams(part, sizes)
    return _grams_of(part, sizes)


def _grams_of(part: str, sizes: tuple[int, int]) -> tuple[str, ...]:
    padded = f" {part} "
    length = len(padded)
    return tuple(
        padded[i : i + n]
        for n in range(sizes[0], min(sizes[1], length) + 1)
        for i in range(length - n + 1)
    )


_CACHED_WORD_CHARS = 40
_cached_word_grams = lru_cache(maxsize=1 << 16)(_grams_of)
