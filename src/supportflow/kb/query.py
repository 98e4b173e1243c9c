"""A search query made ready for scoring, and a scored article made into a hit.

Both indexes call these, so a query is read the same way everywhere: normalised, expanded
with the host's synonyms, its unknown words corrected to the nearest indexed word, turned
into features weighted ``(1 + log count) · idf²`` and normalised to length 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import attrs
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from .analysis import WORD, features, normalize, runs
from .search import SearchHit
from .snippets import QueryTerms, make_snippet
from .synonyms import Synonyms

__all__ = ["PreparedQuery", "WordCorrector", "make_hit", "prepare_query", "query_vector"]


class WordCorrector:
    """Corrects a query word the index has never seen to its nearest indexed word.

    Candidates are indexed words of five letters or more with the same first letter; the
    nearest by normalised Levenshtein similarity wins if it reaches 0.6, ties going to the
    first in alphabetical order, so the choice never depends on the order of indexing.
    The candidate lists are built on first use and dropped by :meth:`forget` whenever a
    word enters or leaves the index.
    """

    def __init__(self) -> None:
        self._by_initial: dict[str, list[str]] | None = None

    def forget(self) -> None:
        """The indexed words changed: rebuild the candidate lists on next use."""
        self._by_initial = None

    def corrections(self, query_words: Iterable[str], df: Mapping[str, int]) -> list[str]:
        """The nearest indexed word of each unknown query word of four letters or more."""
        unknown = [w for w in query_words if len(w) >= 4 and WORD + w not in df]
        if not unknown:
            return []
        if self._by_initial is None:
            by_initial: dict[str, list[str]] = {}
            for key in df:
                if key[0] == WORD and len(key) > 4:
                    by_initial.setdefault(key[1], []).append(key[1:])
            for choices in by_initial.values():
                choices.sort()
            self._by_initial = by_initial
        found: list[str] = []
        for word in unknown:
            best = process.extractOne(
                word,
                self._by_initial.get(word[0], []),
                scorer=Levenshtein.normalized_similarity,
                score_cutoff=0.6,
            )
            if best is not None and best[0] not in found:
                found.append(best[0])
        return found


@attrs.frozen
class PreparedQuery:
    """A query's feature counts (synonyms and corrections included) and what to highlight."""

    counts: dict[str, float]
    terms: QueryTerms


def prepare_query(
    text: str, synonyms: Synonyms, corrector: WordCorrector | None, df: Mapping[str, int]
) -> PreparedQuery:
    """``text`` expanded with synonyms and (with a corrector) typo corrections."""
    normalized = normalize(text)
    expansions = synonyms.expand(normalized)
    corrections: list[str] = []
    if corrector is not None:
        query_words = [run.text for run in runs(normalized) if not run.cjk]
        corrections = corrector.corrections(query_words, df)
    counts = features(normalized)
    for extra in (*expansions, *corrections):
        features(extra, counts)
    return PreparedQuery(counts, QueryTerms.of(text, *expansions, extra_words=corrections))


def query_vector(counts: Mapping[str, float], df: Mapping[str, int], live: int) -> dict[str, float]:
    """The features weighted ``(1 + log count) · idf²`` over ``live`` articles, to length 1.

    Features no article has keep their (highest) idf: a query full of unknown words
    scores low everywhere, which is what the gap report wants to see.
    """
    weights: dict[str, float] = {}
    for key, count in counts.items():
        idf = math.log((1 + live) / (1 + df.get(key, 0))) + 1.0
        weights[key] = (1.0 + math.log(count)) * idf * idf
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {key: w / norm for key, w in weights.items()} if norm else {}


def make_hit(article_id: str, score: float, title: str, body: str, terms: QueryTerms) -> SearchHit:
    """A hit with its snippet from the body, or from the title when the body has no match."""
    snippet, spans = make_snippet(body, terms)
    if not spans:
        title_snippet, title_spans = make_snippet(title, terms)
        if title_spans:
            snippet, spans = title_snippet, title_spans
    return SearchHit(article_id, score, title, snippet, spans)
