"""Text to search features: words and character n-grams, with CJK needing no spaces.

Text is NFKC-normalised and case-folded (full-width ``ＡＢＣ`` is ``abc``), then cut into
runs: a run of CJK ideographs, or a run of other letters and digits (a word). A word
gives itself and its character trigrams with a space at each end (``" re"``, ``"ref"``,
..., ``"nd "``), so a typo breaks only the three trigrams around it and the rest still
match (2- to 4-grams were measured too: no better on BANKING77, the COVID FAQ or
MASSIVE, and two and a half times the postings). A CJK run gives its characters, bigrams
and trigrams: "最近无法登录账户" and "无法登录怎么办" share 无法, 法登, 登录 without any
dictionary. Features are plain strings;
words carry a ``"\\x01"`` prefix and CJK grams a ``"\\x02"`` prefix so they never collide
with the Latin n-grams.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from itertools import pairwise
from typing import cast

__all__ = [
    "CJK_CLASS",
    "Run",
    "count_runs",
    "features",
    "normalize",
    "runs",
    "split_runs",
    "words",
]

CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
"""The CJK ideograph ranges, as a regular-expression class body."""

_RUN = re.compile(rf"([{CJK_CLASS}]+)|[^\W_{CJK_CLASS}]+")
WORD = "\x01"
CJK = "\x02"


def normalize(text: str) -> str:
    """``text`` compatibility-normalised and case-folded: the form every feature comes from."""
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKC", text).casefold()


class Run:
    """A run of one script in normalised text: its text and whether it is CJK."""

    __slots__ = ("cjk", "text")

    def __init__(self, text: str, cjk: bool) -> None:
        self.text = text
        self.cjk = cjk


def runs(normalized: str) -> Iterator[Run]:
    """The word and CJK runs of already normalised text, in order."""
    for match in _RUN.finditer(normalized):
        yield Run(match.group(0), match.group(1) is not None)


def words(text: str) -> list[str]:
    """The non-CJK words of ``text``, normalised, in order (repeats kept)."""
    return [run.text for run in runs(normalize(text)) if not run.cjk]


_LATIN_RUN = re.compile(rf"[^\W_{CJK_CLASS}]+")
_CJK_RUN = re.compile(rf"[{CJK_CLASS}]+")


def split_runs(text: str) -> tuple[list[str], list[str]]:
    """The word runs and the CJK runs of ``text``, normalised, each in order."""
    normalized = normalize(text)
    cjk = [] if normalized.isascii() else _CJK_RUN.findall(normalized)
    return _LATIN_RUN.findall(normalized), cjk


def count_runs(words: list[str], cjk: list[str]) -> Counter[str]:
    """The features of these word and CJK runs, counted.

    The words joined by single spaces and padded give every padded trigram of every word
    plus one gram per gap between two words (a space in the middle, which no word's own
    trigram has); dropping those is about twice as fast as padding each word.
    """
    found: Counter[str] = Counter()
    if words:
        joined = " " + " ".join(words) + " "
        found.update([joined[i : i + 3] for i in range(len(joined) - 2)])
        for before, after in pairwise(words):
            found.pop(before[-1] + " " + after[0], None)
        found.update([WORD + word for word in words])
    for run in cjk:
        size = len(run)
        found.update([CJK + run[i : i + n] for n in (1, 2, 3) for i in range(size - n + 1)])
    return found


def features(text: str, counts: dict[str, float] | None = None) -> dict[str, float]:
    """Feature counts of ``text`` (added into ``counts`` when given)."""
    found = count_runs(*split_runs(text))
    if counts is None:
        return cast(dict[str, float], found)  # int counts are what the callers need
    get = counts.get
    for key, count in found.items():
        counts[key] = get(key, 0.0) + count
    return counts
