"""Knowledge-base articles: the record, its review lifecycle and its version history.

An article moves ``draft → in_review → published → archived`` (a review can send it back
to draft, an archived article can be revived as a draft). Every edit and every move is a
new version: the store keeps an :class:`ArticleRevision` for it (who, when, which fields
changed, and the article as it then was), so nothing written is ever lost. Votes and
ticket links are counters, not edits: they bump ``version`` (so concurrent writers are
checked) without a revision. Articles are frozen
pydantic models like the rest of the boundary; the functions here return the next
version and its revision, and the desk stores both in one unit of work.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from ..errors import ArticleMoveRefused, ValidationFailed
from ..models import Id, Label, SupportflowModel

__all__ = [
    "ARTICLE_FIELDS_EDITABLE",
    "MAX_ARTICLE_BODY_CHARS",
    "MAX_REVIEW_INTERVAL",
    "MAX_TITLE_CHARS",
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

MAX_TITLE_CHARS = 500
"""Longest article title accepted, in characters."""

MAX_ARTICLE_BODY_CHARS = 200_000
"""Longest article body accepted, in characters (about 50 pages)."""

MAX_REVIEW_INTERVAL = timedelta(days=3660)
"""Longest review interval accepted: ten years."""

Title = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_TITLE_CHARS, strip_whitespace=True)
]
ArticleBody = Annotated[str, StringConstraints(max_length=MAX_ARTICLE_BODY_CHARS)]


class ArticleStatus(StrEnum):
    """Where an article stands in review; only ``PUBLISHED`` articles are searched by default."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class Audience(StrEnum):
    """Who may read an article: customers (``PUBLIC``) or only agents (``INTERNAL``)."""

    PUBLIC = "public"
    INTERNAL = "internal"


_MOVES: dict[ArticleStatus, frozenset[ArticleStatus]] = {
    ArticleStatus.DRAFT: frozenset({ArticleStatus.IN_REVIEW, ArticleStatus.ARCHIVED}),
    ArticleStatus.IN_REVIEW: frozenset(
        {ArticleStatus.DRAFT, ArticleStatus.PUBLISHED, ArticleStatus.ARCHIVED}
    ),
    ArticleStatus.PUBLISHED: frozenset({ArticleStatus.IN_REVIEW, ArticleStatus.ARCHIVED}),
    ArticleStatus.ARCHIVED: frozenset({ArticleStatus.DRAFT}),
}

ARTICLE_FIELDS_EDITABLE = frozenset(
    {"title", "body", "tags", "language", "product", "audience", "owner_id", "review_interval"}
)
"""The fields :func:`edit_article` changes; status, votes and links have their own calls."""


class Article(SupportflowModel):
    """One knowledge-base article.

    ``version`` counts edits, status moves, votes and links alike (stores check it like a
    ticket's). ``last_reviewed_at`` is set when the article is published and when a
    reviewer confirms it; the article is stale once ``review_interval`` has passed since
    then. ``solved_ticket_ids`` are the tickets an agent marked as solved by it.
    """

    id: Id
    title: Title
    body: ArticleBody = ""
    tags: tuple[Label, ...] = ()
    language: Label = "en"
    product: Label | None = None
    audience: Audience = Audience.PUBLIC
    status: ArticleStatus = ArticleStatus.DRAFT
    owner_id: Id | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
    last_reviewed_at: AwareDatetime | None = None
    review_interval: timedelta = Field(
        default=timedelta(days=180), gt=timedelta(0), le=MAX_REVIEW_INTERVAL
    )
    helpful_votes: int = Field(default=0, ge=0)
    unhelpful_votes: int = Field(default=0, ge=0)
    solved_ticket_ids: tuple[Id, ...] = ()
    version: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _updated_after_created(self) -> Self:
        if self.updated_at < self.created_at:
            raise ValueError("updated_at must not be before created_at")
        return self


class ArticleRevision(SupportflowModel):
    """Version ``version`` of an article: who made it, when, what changed, and the result."""

    article_id: Id
    version: int = Field(ge=1)
    editor_id: Id
    at: AwareDatetime
    changed: tuple[str, ...]
    note: Annotated[str, StringConstraints(max_length=1000)] = ""
    article: Article

    @model_validator(mode="after")
    def _is_the_article_at_that_version(self) -> Self:
        if self.article.id != self.article_id or self.article.version != self.version:
            raise ValueError("article must be the article_id's article at this version")
        return self


def _next(
    article: Article, changes: dict[str, Any], editor_id: str, at: datetime, note: str
) -> tuple[Article, ArticleRevision]:
    data = article.model_dump()
    data.update(changes, updated_at=at, version=article.version + 1)
    updated = Article.model_validate(data)
    changed = tuple(sorted(k for k in changes if getattr(updated, k) != getattr(article, k)))
    revision = ArticleRevision(
        article_id=article.id,
        version=updated.version,
        editor_id=editor_id,
        at=at,
        changed=changed,
        note=note,
        article=updated,
    )
    return updated, revision


def first_revision(article: Article, editor_id: str, note: str = "") -> ArticleRevision:
    """The revision that records an article as first written."""
    return ArticleRevision(
        article_id=article.id,
        version=article.version,
        editor_id=editor_id,
        at=article.created_at,
        changed=("created",),
        note=note,
        article=article,
    )


def edit_article(
    article: Article, changes: dict[str, Any], editor_id: str, at: datetime, note: str = ""
) -> tuple[Article, ArticleRevision]:
    """The article with ``changes`` applied, and the revision recording them.

    Only :data:`ARTICLE_FIELDS_EDITABLE` may change; anything else is refused with the
    field named, as is an edit that changes nothing.
    """
    for field in changes:
        if field not in ARTICLE_FIELDS_EDITABLE:
            raise ValidationFailed(field, "cannot be edited (not an editable article field)")
    updated, revision = _next(article, dict(changes), editor_id, at, note)
    if not revision.changed:
        raise ValidationFailed("changes", "the edit changes nothing")
    return updated, revision


def move_article(
    article: Article, to: ArticleStatus, editor_id: str, at: datetime, note: str = ""
) -> tuple[Article, ArticleRevision]:
    """The article moved to status ``to`` (publishing also marks it reviewed)."""
    allowed = _MOVES[article.status]
    if to not in allowed:
        raise ArticleMoveRefused(
            article.id, to.value, article.status.value, (s.value for s in allowed)
        )
    changes: dict[str, Any] = {"status": to}
    if to is ArticleStatus.PUBLISHED:
        changes["last_reviewed_at"] = at
    return _next(article, changes, editor_id, at, note)


def record_vote(article: Article, *, helpful: bool, ticket_id: str | None = None) -> Article:
    """The article with one more vote; a helpful vote for a ticket also links the ticket.

    A ticket already linked is not linked (or counted) twice.
    """
    if ticket_id is not None and ticket_id in article.solved_ticket_ids:
        return article
    update: dict[str, Any] = {"version": article.version + 1}
    if helpful:
        update["helpful_votes"] = article.helpful_votes + 1
    else:
        update["unhelpful_votes"] = article.unhelpful_votes + 1
    if ticket_id is not None and helpful:
        update["solved_ticket_ids"] = (*article.solved_ticket_ids, ticket_id)
    return article.model_copy(update=update)


def review_due_at(article: Article) -> datetime | None:
    """When the article's next review falls due (``None``: never reviewed, not published)."""
    if article.last_reviewed_at is None:
        return None
    return article.last_reviewed_at + article.review_interval


def is_stale(article: Article, now: datetime) -> bool:
    """Whether a published article's review is overdue (never reviewed counts as overdue)."""
    if article.status is not ArticleStatus.PUBLISHED:
        return False
    due = review_due_at(article)
    return due is None or due <= now
