"""The built-in search index: pure Python plus rapidfuzz, for up to about 20,000 articles.

**Scoring.** Each field (title, tags, body) becomes a vector of its features
(:mod:`~supportflow.kb.analysis`: words, character n-grams, CJK grams), weighted
``1 + log(count)`` and normalised to length 1. The query's vector weighs each feature by
``idf²``, so rare features decide and common ones barely count, and is normalised too.
An article's score is the weighted mean of its fields' dot products with the query
(:class:`~supportflow.kb.search.FieldWeights`), a number in [0, 1]. An article's vectors
do not depend on the rest of the collection, so adding, changing or removing one article
never touches another's postings: updates are exact without a rebuild.

**Speed.** A posting list per feature holds its articles' slots in arrival order (a list
sharing one int object per article) and their weights (a float32 ``array``). A query
does not score every posting of every feature: it walks its features rarest first,
accumulating scores until a budget of postings is spent, takes the best candidates so
far, and adds the remaining (common, low-idf) features to those candidates only, looking
each up by bisection, largest possible contribution first, until what is left could not
move a score by 1% of the best. What the budget can cost is an article that matches
nothing but very common features, which scores near zero anyway
(``docs/performance.md`` measures the agreement with exact scoring).

**Typos.** A query word the index has never seen is corrected to the nearest indexed
word (:class:`~supportflow.kb.query.WordCorrector`) and both are searched; the character
trigrams already tolerate most typos, the correction recovers the word feature.
"""

from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_left
from collections.abc import Collection, Iterable

from ..errors import ValidationFailed
from .analysis import WORD, features
from .articles import Article, ArticleStatus, Audience
from .query import WordCorrector, make_hit, prepare_query, query_vector
from .search import DEFAULT_FIELD_WEIGHTS, DEFAULT_STATUSES, FieldWeights, SearchHit
from .search_args import SearchArgs, check_index_options, check_search_args
from .synonyms import NO_SYNONYMS, Synonyms

__all__ = ["BuiltinIndex"]

_Postings = tuple[list[int], "array[float]"]


def _field_vector(counts: dict[str, float]) -> dict[str, float]:
    """Sublinear counts normalised to length 1."""
    weighted = {key: 1.0 + math.log(count) for key, count in counts.items()}
    norm = math.sqrt(sum(w * w for w in weighted.values()))
    return {key: w / norm for key, w in weighted.items()} if norm else {}


class BuiltinIndex:
    """An in-memory :class:`~supportflow.kb.search.SearchIndex` with no server."""

    def __init__(
        self,
        *,
        field_weights: FieldWeights = DEFAULT_FIELD_WEIGHTS,
        synonyms: Synonyms = NO_SYNONYMS,
        typo_tolerance: bool = True,
        candidates: int = 32,
        posting_budget: int = 10_000,
    ) -> None:
        check_index_options(field_weights, synonyms, typo_tolerance, candidates, posting_budget)
        self.field_weights = field_weights
        self.synonyms = synonyms
        self.typo_tolerance = typo_tolerance
        self._candidates = candidates
        self._budget = posting_budget
        self._postings: dict[str, _Postings] = {}
        self._df: dict[str, int] = {}  # live articles per feature
        self._peak: dict[str, float] = {}  # highest weight ever posted per feature
        self._slot: dict[str, int] = {}  # article id -> slot
        self._articles: list[Article | None] = []  # by slot; None once removed
        self._dead = 0  # postings of removed articles still in the lists
        self._corrector = WordCorrector()

    # -- writing ------------------------------------------------------------------------

    def _vector(self, article: Article) -> dict[str, float]:
        weights = self.field_weights
        total = weights.total
        combined: dict[str, float] = {}
        fields = (
            (weights.title, article.title),
            (weights.tags, " ".join(article.tags)),
            (weights.body, article.body),
        )
        for weight, text in fields:
            if not text:
                continue
            # A field weighted 0 still counts in document frequencies (with weight 0),
            # so idf does not depend on the weights and agrees with other indexes.
            share = weight / total
            for key, value in _field_vector(features(text)).items():
                combined[key] = combined.get(key, 0.0) + share * value
        return combined

    def add(self, article: Article) -> None:
        """Index ``article``, replacing the version indexed under its id, if any."""
        if not isinstance(article, Article):
            raise ValidationFailed("article", f"must be an Article, not {type(article).__name__}")
        vector = self._vector(article)
        self.remove(article.id)
        slot = len(self._articles)
        self._articles.append(article)
        self._slot[article.id] = slot
        postings = self._postings
        df = self._df
        peak = self._peak
        for key, weight in vector.items():
            found = postings.get(key)
            if found is None:
                postings[key] = ([slot], array("f", (weight,)))
                peak[key] = weight
            else:
                found[0].append(slot)
                found[1].append(weight)
                if weight > peak[key]:
                    peak[key] = weight
            df[key] = df.get(key, 0) + 1
            if key[0] == WORD and df[key] == 1:
                self._corrector.forget()

    def remove(self, article_id: str) -> bool:
        """Drop the article; whether it was indexed."""
        slot = self._slot.pop(article_id, None) if isinstance(article_id, str) else None
        if slot is None:
            return False
        article = self._articles[slot]
        assert article is not None
        self._articles[slot] = None
        df = self._df
        vector = self._vector(article)
        for key in vector:
            left = df[key] - 1
            if left:
                df[key] = left
            else:
                del df[key]
                if key[0] == WORD:
                    self._corrector.forget()
        self._dead += len(vector)
        if self._dead > 10_000 and self._dead * 3 > sum(len(p[0]) for p in self._postings.values()):
            self._compact()
        return True

    def _compact(self) -> None:
        """Rewrite the posting lists without removed articles (slots are renumbered)."""
        live = [a for a in self._articles if a is not None]
        self.rebuild(live)

    def rebuild(self, articles: Iterable[Article]) -> None:
        """Replace everything indexed with ``articles``."""
        chosen: dict[str, Article] = {}
        for position, article in enumerate(articles):
            if not isinstance(article, Article):
                raise ValidationFailed(
                    f"articles[{position}]", f"must be an Article, not {type(article).__name__}"
                )
            chosen[article.id] = article
        self._postings = {}
        self._df = {}
        self._peak = {}
        self._slot = {}
        self._articles = []
        self._dead = 0
        self._corrector.forget()
        for article in chosen.values():
            self.add(article)

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and article_id in self._slot

    # -- searching ----------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        language: str | None = None,
        product: str | None = None,
        audience: Audience | str | None = None,
        statuses: Collection[ArticleStatus | str] = DEFAULT_STATUSES,
    ) -> list[SearchHit]:
        """The best ``limit`` published (by default) articles for ``query``, best first."""
        args = check_search_args(query, limit, language, product, audience, statuses)
        if not args.query or not self._slot:
            return []
        prepared = prepare_query(
            args.query, self.synonyms, self._corrector if self.typo_tolerance else None, self._df
        )
        hits: list[SearchHit] = []
        for score, slot in self._score(prepared.counts, args):
            article = self._articles[slot]
            assert article is not None
            hits.append(make_hit(article.id, score, article.title, article.body, prepared.terms))
        return hits

    def _score(self, counts: dict[str, float], args: SearchArgs) -> list[tuple[float, int]]:
        """The ``limit`` best ``(score, slot)`` pairs, best first, ties by article id."""
        postings = self._postings
        weights = query_vector(counts, self._df, len(self._slot))
        present = sorted((len(postings[key][0]), key) for key in weights if key in postings)
        if not present:
            return []
        accumulated: dict[int, float] = {}
        get = accumulated.get
        spent = 0
        rest: list[tuple[str, float]] = []
        for size, key in present:
            weight = weights[key]
            if spent and spent + size > self._budget:
                rest.append((key, weight))
                continue
            spent += size
            slots, values = postings[key]
            for slot, value in zip(slots, values, strict=True):
                accumulated[slot] = get(slot, 0.0) + weight * value
        visible = self._visibility(args)
        wanted = max(self._candidates, args.limit)
        if rest:
            pool = heapq.nlargest(wanted + args.limit, accumulated, key=accumulated.__getitem__)
            candidates = [(slot, accumulated[slot]) for slot in pool if visible(slot)]
            if len(candidates) < wanted < len(accumulated):
                candidates = [(s, v) for s, v in accumulated.items() if visible(s)]
            candidates.sort()
            order = [slot for slot, _ in candidates]
            totals = [score for _, score in candidates]
            # Largest possible contributions first; stop once what is left cannot move
            # any candidate by more than a hundredth of the best partial score.
            peak = self._peak
            bounded = sorted(((w * peak[k], k, w) for k, w in rest), reverse=True)
            left = sum(b for b, _, _ in bounded)
            tolerance = 0.01 * max(totals, default=0.0)
            for bound, key, weight in bounded:
                if left <= tolerance:
                    break
                left -= bound
                slots, values = postings[key]
                end = len(slots)
                at = 0
                for i, slot in enumerate(order):
                    at = bisect_left(slots, slot, at)
                    if at == end:
                        break
                    if slots[at] == slot:
                        totals[i] += weight * values[at]
            final = list(zip(order, totals, strict=True))
        else:
            final = [(slot, score) for slot, score in accumulated.items() if visible(slot)]
        articles = self._articles
        best = heapq.nsmallest(
            args.limit,
            final,
            key=lambda item: (-item[1], articles[item[0]].id),  # type: ignore[union-attr]
        )
        return [(min(1.0, score), slot) for slot, score in best]

    def _visibility(self, args: SearchArgs) -> _Visible:
        return _Visible(self._articles, args)


class _Visible:
    """Whether the article in a slot is live and passes the search's filters."""

    __slots__ = ("_args", "_articles")

    def __init__(self, articles: list[Article | None], args: SearchArgs) -> None:
        self._articles = articles
        self._args = args

    def __call__(self, slot: int) -> bool:
        article = self._articles[slot]
        if article is None:
            return False
        args = self._args
        return (
            article.status in args.statuses
            and (args.language is None or article.language == args.language)
            and (args.product is None or article.product == args.product)
            and (args.audience is None or article.audience is args.audience)
        )
