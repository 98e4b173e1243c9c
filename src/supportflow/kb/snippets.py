"""Snippets: the part of an article that best shows why it matched, with the matches marked.

Both index implementations call :func:`make_snippet` so they highlight alike. A word is
highlighted when its normalised form is one of the query's words (or a correction or
synonym the index searched for); Chinese is highlighted where a query bigram occurs. The
snippet is the window of the text holding the most highlights, cut at spaces where it
can be, with an ellipsis where text was left out. Positions refer to the original text,
so the host can mark them in whatever markup it renders.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import attrs

from .analysis import CJK_CLASS, normalize, runs

__all__ = ["SNIPPET_CHARS", "QueryTerms", "make_snippet"]

SNIPPET_CHARS = 200
"""How long a snippet is, in characters, before its ellipses."""

_SCAN_CHARS = 50_000  # a snippet is looked for in the first 50,000 characters only
_ORIGINAL_RUN = re.compile(rf"([{CJK_CLASS}]+)|[^\W_{CJK_CLASS}]+")


@attrs.frozen
class QueryTerms:
    """What to highlight: normalised words, and CJK bigrams (or single characters)."""

    words: frozenset[str] = frozenset()
    cjk: frozenset[str] = frozenset()

    @classmethod
    def of(cls, *texts: str, extra_words: Collection[str] = ()) -> QueryTerms:
        """The terms of ``texts`` (a query and its synonyms), plus corrected words."""
        found_words: set[str] = set(extra_words)
        found_cjk: set[str] = set()
        for text in texts:
            for run in runs(normalize(text)):
                if not run.cjk:
                    found_words.add(run.text)
                elif len(run.text) == 1:
                    found_cjk.add(run.text)
                else:
                    found_cjk.update(run.text[i : i + 2] for i in range(len(run.text) - 1))
        return cls(frozenset(found_words), frozenset(found_cjk))


def _spans(text: str, terms: QueryTerms) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for match in _ORIGINAL_RUN.finditer(text, 0, min(len(text), _SCAN_CHARS)):
        start, end = match.span()
        if match.group(1) is None:
            if terms.words and normalize(match.group(0)) in terms.words:
                spans.append((start, end))
            continue
        if not terms.cjk:
            continue
        run = normalize(match.group(0))
        covered = [False] * len(run)
        for size in (1, 2):
            for i in range(len(run) - size + 1):
                if run[i : i + size] in terms.cjk:
                    covered[i : i + size] = [True] * size
        i = 0
        while i < len(run):
            if covered[i]:
                j = i
                while j < len(run) and covered[j]:
                    j += 1
                spans.append((start + i, start + j))
                i = j
            else:
                i += 1
    return spans


def make_snippet(
    text: str, terms: QueryTerms, width: int = SNIPPET_CHARS
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The best window of ``text`` for ``terms`` and the highlight spans within it.

    Without a match the snippet is the start of the text and there are no highlights.
    """
    spans = _spans(text, terms)
    if not spans:
        start, end = 0, min(len(text), width)
    else:
        # The window starting at some match that covers the most matches.
        reach = width - width // 5
        best, best_count, j = 0, 0, 0
        for i, (first, _) in enumerate(spans):
            j = max(j, i)
            while j < len(spans) and spans[j][1] <= first + reach:
                j += 1
            if j - i > best_count:
                best, best_count = i, j - i
        first = spans[best][0]
        lead = min(first, width // 5)
        start = first - lead
        if start > 0:
            space = text.rfind(" ", start, first)
            start = space + 1 if space >= 0 else start
        end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start + width // 2, end)
        end = space if space > 0 else end
    window = text[start:end]
    stripped_left = len(window) - len(window.lstrip())
    window = window.strip()
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(text) else ""
    shift = len(prefix) - start - stripped_left
    inside = tuple(
        (s + shift, e + shift)
        for s, e in spans
        if s >= start + stripped_left and e <= start + stripped_left + len(window)
    )
    return prefix + window + suffix, inside
