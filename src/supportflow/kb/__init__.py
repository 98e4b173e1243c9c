"""The knowledge base: articles, the search index, suggestions and knowledge gaps.

Pure domain code: nothing here touches storage. :class:`supportflow.KnowledgeBase` (and
``SupportDesk.kb``) stores articles and keeps an index up to date; the optional tantivy
backend is imported from its own module, ``supportflow.kb.tantivy_index``, so that this
package never needs the ``supportflow[search]`` extra.
"""

from __future__ import annotations

from .articles import (
    ARTICLE_FIELDS_EDITABLE,
    MAX_ARTICLE_BODY_CHARS,
    MAX_REVIEW_INTERVAL,
    MAX_TITLE_CHARS,
    Article,
    ArticleRevision,
    ArticleStatus,
    Audience,
    edit_article,
    first_revision,
    is_stale,
    move_article,
    record_vote,
    review_due_at,
)
from .gaps import (
    CENTROID_FEATURES,
    DEFAULT_SIMILARITY,
    DEFAULT_THRESHOLD,
    TICKET_FEATURES,
    GapCluster,
    GapReport,
    GapTicket,
    find_gaps,
)
from .importing import (
    articles_from_csv,
    articles_from_json,
    articles_from_jsonl,
    articles_from_markdown,
    load_articles,
)
from .index import BuiltinIndex
from .search import (
    DEFAULT_FIELD_WEIGHTS,
    DEFAULT_STATUSES,
    MAX_QUERY_CHARS,
    FieldWeights,
    SearchHit,
    SearchIndex,
)
from .snippets import QueryTerms, make_snippet
from .stale import StaleArticle, StaleReason, StaleReport, stale_articles
from .synonyms import MAX_SYNONYM_RULES, NO_SYNONYMS, Synonyms

__all__ = [
    "ARTICLE_FIELDS_EDITABLE",
    "CENTROID_FEATURES",
    "DEFAULT_FIELD_WEIGHTS",
    "DEFAULT_SIMILARITY",
    "DEFAULT_STATUSES",
    "DEFAULT_THRESHOLD",
    "MAX_ARTICLE_BODY_CHARS",
    "MAX_QUERY_CHARS",
    "MAX_REVIEW_INTERVAL",
    "MAX_SYNONYM_RULES",
    "MAX_TITLE_CHARS",
    "NO_SYNONYMS",
    "TICKET_FEATURES",
    "Article",
    "ArticleRevision",
    "ArticleStatus",
    "Audience",
    "BuiltinIndex",
    "FieldWeights",
    "GapCluster",
    "GapReport",
    "GapTicket",
    "QueryTerms",
    "SearchHit",
    "SearchIndex",
    "StaleArticle",
    "StaleReason",
    "StaleReport",
    "Synonyms",
    "articles_from_csv",
    "articles_from_json",
    "articles_from_jsonl",
    "articles_from_markdown",
    "edit_article",
    "find_gaps",
    "first_revision",
    "is_stale",
    "load_articles",
    "make_snippet",
    "move_article",
    "record_vote",
    "review_due_at",
    "stale_articles",
]
