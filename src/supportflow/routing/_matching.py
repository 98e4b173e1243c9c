"""Typo-tolerant phrase matching over English and Chinese text, for keyword rules and cues."""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs
from rapidfuzz import process
from rapidfuzz.distance import OSA

from ._text import normalize

__all__ = ["PhraseHit", "PhraseMatcher", "has_ideograph", "phrase_key"]

_WORD = re.compile("[0-9a-z\u00df-\u024f]+")
_APOSTROPHES = str.maketrans("", "", "'’`")
_IDEOGRAPH = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]")
_ASCII_LETTERS = re.compile("[a-z]+")

# Common words one edit away from a default keyword that mean something else.
_NOT_TYPOS = frozenset({"change", "broker", "brokers", "logic"})


def has_ideograph(text: str) -> bool:
    """Whether ``text`` holds a CJK ideograph."""
    return _IDEOGRAPH.search(text) is not None


def phrase_key(phrase: str) -> str:
    """The form a phrase is compared in: normalized, apostrophes dropped, single-spaced."""
    cleaned = normalize(phrase).translate(_APOSTROPHES)
    if has_ideograph(cleaned):
        return cleaned.strip()
    return " ".join(_WORD.findall(cleaned))


def _allowed_edits(word: str) -> int:
    """Typos tolerated in a keyword word: none up to 5 letters, 1 up to 8, then 2."""
    if len(word) <= 5 or not word.isascii() or not word.isalpha():
        return 0
    return 1 if len(word) <= 8 else 2


@attrs.frozen(slots=True)
class PhraseHit:
    """A phrase found in a text: where, as what, and whether a typo was forgiven."""

    phrase: str
    found: str
    typo: bool
    start: int
    end: int


class PhraseMatcher:
    """Finds phrases in text; Latin words tolerate typos and inflections, CJK matches exactly.

    A Latin word of a phrase matches a word of the text that is equal, that extends it by
    at most three letters when it has four or more ("refund" finds "refunds", "refunded"),
    or that is within one edit (6-8 letters) or two (9+) of it, counting a swap of
    neighbours as one edit ("refnud" finds "refund"). Words up to five letters never match
    with a typo: too many other words are that close. A phrase of several words matches
    consecutive words. A phrase holding ideographs matches as a substring of the
    normalized text. Overlapping hits keep the longest ("not urgent" wins over "urgent").
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        self._latin: dict[str, tuple[str, ...]] = {}
        self._cjk: dict[str, str] = {}
        for phrase in phrases:
            key = phrase_key(phrase)
            if not key:
                continue
            if has_ideograph(key):
                self._cjk.setdefault(key, phrase)
            else:
                self._latin.setdefault(phrase, tuple(key.split()))
        words = {word for parts in self._latin.values() for word in parts}
        self._words = frozenset(words)
        self._fuzzy = sorted(word for word in words if _allowed_edits(word) > 0)

    def find(self, text: str) -> list[PhraseHit]:
        """Every non-overlapping hit in ``text``, in text order."""
        cleaned = normalize(text).translate(_APOSTROPHES)
        hits: list[PhraseHit] = []
        if self._latin:
            hits.extend(self._find_latin(cleaned))
        for key, phrase in self._cjk.items():
            at = cleaned.find(key)
            while at >= 0:
                hits.append(PhraseHit(phrase, key, False, at, at + len(key)))
                at = cleaned.find(key, at + len(key))
        hits.sort(key=lambda h: (h.start - h.end, h.start, h.typo))
        kept: list[PhraseHit] = []
        claimed = bytearray(len(cleaned))
        for hit in hits:
            if 1 not in claimed[hit.start : hit.end]:
                kept.append(hit)
                claimed[hit.start : hit.end] = b"\x01" * (hit.end - hit.start)
        kept.sort(key=lambda h: (h.start, h.end))
        return kept

    def _find_latin(self, cleaned: str) -> list[PhraseHit]:
        tokens = [(m.group(), m.start(), m.end()) for m in _WORD.finditer(cleaned)]
        if not tokens:
            return []
        # For each keyword word: the token positions it matches and whether by a typo.
        positions: dict[str, dict[int, bool]] = {}
        matches_of: dict[str, list[tuple[str, bool]]] = {}
        for index, (token, _, _) in enumerate(tokens):
            found = matches_of.get(token)
            if found is None:
                found = matches_of[token] = self._word_matches(token)
            for word, typo in found:
                positions.setdefault(word, {})[index] = typo
        hits: list[PhraseHit] = []
        for phrase, words in self._latin.items():
            first = positions.get(words[0])
            if not first:
                continue
            for index, typo in first.items():
                end = index + len(words)
                if end > len(tokens):
                    continue
                typos = [typo]
                for offset, word in enumerate(words[1:], start=1):
                    seen = positions.get(word, {}).get(index + offset)
                    if seen is None:
                        break
                    typos.append(seen)
                else:
                    start, stop = tokens[index][1], tokens[end - 1][2]
                    hits.append(PhraseHit(phrase, cleaned[start:stop], any(typos), start, stop))
        return hits

    def _word_matches(self, token: str) -> list[tuple[str, bool]]:
        found: list[tuple[str, bool]] = []
        if token in self._words:
            found.append((token, False))
        for cut in range(max(4, len(token) - 3), len(token)):
            if token[:cut] in self._words:
                found.append((token[:cut], False))
        if (
            found
            or not self._fuzzy
            or len(token) < 5
            or token in _NOT_TYPOS
            or not _ASCII_LETTERS.fullmatch(token)
        ):
            return found
        for word, distance, _ in process.extract(
            token, self._fuzzy, scorer=OSA.distance, score_cutoff=2, limit=None
        ):
            if 0 < distance <= _allowed_edits(word):
                found.append((word, True))
        return found
