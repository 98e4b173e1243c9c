"""The knowledge base: articles, the search index, suggestions and knowledge gaps."""

from __future__ import annotations

from .articles import (
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

__all__ = [
    "Article",
    "ArticleRevision",
    "ArticleStatus",
    "Audience",
    "edit_article",
    "first_revision",
    "is_stale",
    "move_article",
    "record_vote",
    "review_due_at",
]
