"""What a knowledge-base search index does, and what a search returns.

Two implementations keep this protocol and pass the same tests: the built-in
:class:`~supportflow.kb.index.BuiltinIndex` (pure Python plus rapidfuzz, for knowledge
bases up to about 20,000 articles) and :class:`~supportflow.kb.tantivy_index.TantivyIndex`
(the ``supportflow[search]`` extra, on the tantivy search engine, for larger ones). A host
may bring its own: any object with these methods.

An index holds every article given to it, whatever its status; a search returns only
published articles unless asked for others, so an article moving through review needs
one ``add`` after each change, no rebuild.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Iterable
from typing import Protocol

import attrs

from ..errors import ValidationFailed
from .articles import Article, ArticleStatus, Audience

__all__ = [
    "DEFAULT_FIELD_WEIGHTS",
    "DEFAULT_STATUSES",
    "MAX_QUERY_CHARS",
    "FieldWeights",
    "SearchHit",
    "SearchIndex",
]

MAX_QUERY_CHARS = 10_000
"""Longest query accepted, in characters; a ticket's subject and body are cut to this."""

DEFAULT_STATUSES: frozenset[ArticleStatus] = frozenset({ArticleStatus.PUBLISHED})
"""What a search returns unless asked otherwise: published articles only."""


def _positive(_instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
        raise ValidationFailed(f"field_weights.{attribute.name}", "must be a number >= 0")


@attrs.frozen
class FieldWeights:
    """How much a match in each field counts.

    Each field is compared with the query on its own (cosine similarity of their
    character n-grams and words) and the weights mix the three. A field's vector is
    normalised by its length, so a word matched in a five-word title lifts an article
    far more than the same word in a long body, even at equal weights. The defaults were
    chosen on BANKING77 and the COVID FAQ (docs/kb.md): a title match ranks above a tag
    match, which ranks above a body match.
    """

    title: float = attrs.field(default=0.5, validator=_positive)
    tags: float = attrs.field(default=0.4, validator=_positive)
    body: float = attrs.field(default=1.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.title + self.tags + self.body <= 0:
            raise ValidationFailed("field_weights", "at least one weight must be above 0")

    @property
    def total(self) -> float:
        """The sum of the weights: scores are divided by it, so they fall in [0, 1]."""
        return self.title + self.tags + self.body


DEFAULT_FIELD_WEIGHTS = FieldWeights()
"""Title 0.5, tags 0.4, body 1.0: see :class:`FieldWeights` for why the title's is lower."""


@attrs.frozen
class SearchHit:
    """One article a search found.

    ``score`` is in [0, 1] (1: every field is the query itself) and comparable across
    queries in one language, which is what the knowledge-gap threshold relies on;
    Chinese paraphrases share fewer character grams than English ones and score lower,
    so the gap report holds each language to its own threshold. ``snippet`` is plain
    text from the body (or the title when the body has no match) and ``highlights`` the
    ``(start, end)`` spans of the query's words in it; :meth:`marked` renders them.
    """

    article_id: str
    score: float
    title: str
    snippet: str
    highlights: tuple[tuple[int, int], ...] = ()

    def marked(self, open_tag: str = "<mark>", close_tag: str = "</mark>") -> str:
        """The snippet, HTML-escaped, with each highlight wrapped in the given tags."""
        parts: list[str] = []
        last = 0
        for start, end in self.highlights:
            parts.append(html.escape(self.snippet[last:start]))
            parts.append(open_tag + html.escape(self.snippet[start:end]) + close_tag)
            last = end
        parts.append(html.escape(self.snippet[last:]))
        return "".join(parts)


class SearchIndex(Protocol):
    """A searchable set of articles, kept up to date one article at a time."""

    def add(self, article: Article) -> None:
        """Index ``article``, replacing the version indexed under its id, if any."""
        ...

    def remove(self, article_id: str) -> bool:
        """Drop the article; whether it was indexed."""
        ...

    def rebuild(self, articles: Iterable[Article]) -> None:
        """Replace everything indexed with ``articles`` (after a bulk import, say)."""
        ...

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
        """The best ``limit`` matches, best first (ties by article id), after filtering.

        An empty or blank query finds nothing. Filters are exact: ``language``,
        ``product`` and ``audience`` must equal the article's; ``statuses`` lists the
        statuses returned (published only by default).
        """
        ...

    def __len__(self) -> int:
        """How many articles are indexed."""
        ...

    def __contains__(self, article_id: object) -> bool:
        """Whether an article with this id is indexed."""
        ...
