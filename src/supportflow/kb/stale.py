"""The stale-article report: published articles that need a writer's attention.

A knowledge base rots quietly: nobody reviews old articles, customers keep voting an
article unhelpful, and some articles are never suggested for any ticket. The documents
name this as a root cause of slow support, so :func:`stale_articles` lists every
published article with at least one of three problems, most urgent first:

- **unhelpful**: at least ``min_votes`` votes and an unhelpful share of at least
  ``unhelpful_ratio``. Customers are reading it now and it does not help them.
- **review overdue**: its scheduled review has passed (:func:`~supportflow.kb.articles.
  is_stale`); a published article never reviewed counts as overdue since it was created.
- **never suggested**: given ``suggested_counts`` (how often each article was suggested
  for a ticket, over whatever period the host counts), an article suggested zero times
  though created more than ``never_suggested_after`` ago. Without counts this reason is
  not checked.

**Urgency** orders the report: more reasons first; then an unhelpful article before the
rest, the higher unhelpful share (then more unhelpful votes) first; then more days
overdue first; then the older article; then the article id. Pure domain code: the caller
passes the articles and the counts, nothing is read from storage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import attrs

from .._validate import aware
from ..errors import ValidationFailed
from .articles import Article, ArticleStatus, is_stale, review_due_at

__all__ = ["StaleArticle", "StaleReason", "StaleReport", "stale_articles"]

_DAY = timedelta(days=1)


class StaleReason(StrEnum):
    """Why an article is in the stale report."""

    UNHELPFUL = "unhelpful"
    REVIEW_OVERDUE = "review_overdue"
    NEVER_SUGGESTED = "never_suggested"


_ORDER = (StaleReason.UNHELPFUL, StaleReason.REVIEW_OVERDUE, StaleReason.NEVER_SUGGESTED)


@attrs.frozen
class StaleArticle:
    """One published article in the stale report and every reason that applies.

    ``review_due_at`` is when its review fell due (None: never reviewed);
    ``days_overdue`` counts whole days since then (since creation when never reviewed),
    set only with the ``REVIEW_OVERDUE`` reason. ``unhelpful_ratio`` is the unhelpful share
    of its votes (None without votes). ``suggested`` is its suggestion count (None when
    the report had no counts). ``reasons`` are in the order of :class:`StaleReason`.
    """

    article_id: str
    title: str
    reasons: tuple[StaleReason, ...]
    review_due_at: datetime | None
    days_overdue: int | None
    helpful_votes: int
    unhelpful_votes: int
    unhelpful_ratio: float | None
    suggested: int | None
    created_at: datetime

    def describe(self) -> str:
        """One line: ``kb-7 'Reset your password': 8 of 10 votes unhelpful (80%); ...``."""
        parts: list[str] = []
        for reason in self.reasons:
            if reason is StaleReason.UNHELPFUL:
                votes = self.helpful_votes + self.unhelpful_votes
                share = self.unhelpful_ratio or 0.0
                parts.append(f"{self.unhelpful_votes} of {votes} votes unhelpful ({share:.0%})")
            elif reason is StaleReason.REVIEW_OVERDUE:
                days = self.days_overdue or 0
                unit = "day" if days == 1 else "days"
                if self.review_due_at is None:
                    parts.append(f"never reviewed ({days} {unit} since created)")
                else:
                    parts.append(f"review {days} {unit} overdue")
            else:
                parts.append("never suggested")
        return f"{self.article_id} {self.title!r}: " + "; ".join(parts)

    def as_data(self) -> dict[str, Any]:
        """JSON-ready: ids, reasons as strings, datetimes as ISO 8601."""
        return {
            "article_id": self.article_id,
            "title": self.title,
            "reasons": [reason.value for reason in self.reasons],
            "review_due_at": None if self.review_due_at is None else self.review_due_at.isoformat(),
            "days_overdue": self.days_overdue,
            "helpful_votes": self.helpful_votes,
            "unhelpful_votes": self.unhelpful_votes,
            "unhelpful_ratio": self.unhelpful_ratio,
            "suggested": self.suggested,
            "created_at": self.created_at.isoformat(),
        }


@attrs.frozen
class StaleReport:
    """What :func:`stale_articles` found: ``entries`` most urgent first.

    ``examined`` counts the published articles checked (others are skipped);
    ``suggestions_checked`` says whether suggestion counts were given, so whether
    "never suggested" could apply at all.
    """

    entries: tuple[StaleArticle, ...]
    examined: int
    now: datetime
    suggestions_checked: bool

    def counts(self) -> dict[StaleReason, int]:
        """How many entries have each reason (an entry may count under several)."""
        return {reason: sum(reason in entry.reasons for entry in self.entries) for reason in _ORDER}

    def describe(self) -> str:
        """A summary line, then one line per article, most urgent first."""
        counts = self.counts()
        summary = (
            f"{len(self.entries)} of {self.examined} published articles need attention:"
            f" {counts[StaleReason.UNHELPFUL]} unhelpful,"
            f" {counts[StaleReason.REVIEW_OVERDUE]} review overdue"
        )
        if self.suggestions_checked:
            summary += f", {counts[StaleReason.NEVER_SUGGESTED]} never suggested"
        return "\n".join([summary, *(entry.describe() for entry in self.entries)])

    def __str__(self) -> str:
        return self.describe()

    def as_data(self) -> dict[str, Any]:
        """JSON-ready: totals per reason and the entries, most urgent first."""
        return {
            "now": self.now.isoformat(),
            "examined": self.examined,
            "suggestions_checked": self.suggestions_checked,
            "counts": {reason.value: count for reason, count in self.counts().items()},
            "entries": [entry.as_data() for entry in self.entries],
        }


def _counts(value: object) -> dict[str, int] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationFailed("suggested_counts", "must be a mapping of article id to count")
    checked: dict[str, int] = {}
    for key, count in value.items():
        if not isinstance(key, str):
            raise ValidationFailed("suggested_counts", f"keys must be article ids, got {key!r}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValidationFailed(f"suggested_counts[{key!r}]", "must be an integer >= 0")
        checked[key] = count
    return checked


def _urgency(entry: StaleArticle) -> tuple[Any, ...]:
    unhelpful = StaleReason.UNHELPFUL in entry.reasons
    return (
        -len(entry.reasons),
        not unhelpful,
        -(entry.unhelpful_ratio or 0.0) if unhelpful else 0.0,
        -entry.unhelpful_votes if unhelpful else 0,
        -(entry.days_overdue or 0),
        entry.created_at,
        entry.article_id,
    )


def stale_articles(
    articles: Iterable[Article],
    *,
    now: datetime,
    suggested_counts: Mapping[str, int] | None = None,
    min_votes: int = 5,
    unhelpful_ratio: float = 0.5,
    never_suggested_after: timedelta = timedelta(days=30),
) -> StaleReport:
    """The published articles that are unhelpful, overdue for review or never suggested.

    See the module docstring for the three reasons and the order. Drafts, articles in
    review and archived articles are skipped: they are not in front of anyone.

    Raises ``ValidationFailed`` naming the argument for a naive ``now``, ``min_votes``
    below 1, ``unhelpful_ratio`` outside [0, 1], a negative ``never_suggested_after``, a
    negative or non-integer suggestion count, something other than an article, or an
    article id given twice.
    """
    now = aware("now", now)
    counts = _counts(suggested_counts)
    if not isinstance(min_votes, int) or isinstance(min_votes, bool) or min_votes < 1:
        raise ValidationFailed("min_votes", f"must be an integer >= 1, got {min_votes!r}")
    if (
        not isinstance(unhelpful_ratio, (int, float))
        or isinstance(unhelpful_ratio, bool)
        or not 0 <= unhelpful_ratio <= 1
    ):
        raise ValidationFailed("unhelpful_ratio", f"must be from 0 to 1, got {unhelpful_ratio!r}")
    if not isinstance(never_suggested_after, timedelta) or never_suggested_after < timedelta(0):
        raise ValidationFailed("never_suggested_after", "must be a timedelta >= 0")
    if isinstance(articles, (str, bytes)) or not isinstance(articles, Iterable):
        raise ValidationFailed("articles", "must be an iterable of articles")

    seen: set[str] = set()
    examined = 0
    entries: list[StaleArticle] = []
    for position, article in enumerate(articles):
        if not isinstance(article, Article):
            raise ValidationFailed(
                f"articles[{position}]", f"must be an Article, not {type(article).__name__}"
            )
        if article.id in seen:
            raise ValidationFailed(
                f"articles[{position}]", f"article {article.id!r} is given twice"
            )
        seen.add(article.id)
        if article.status is not ArticleStatus.PUBLISHED:
            continue
        examined += 1
        reasons: list[StaleReason] = []
        votes = article.helpful_votes + article.unhelpful_votes
        ratio = article.unhelpful_votes / votes if votes else None
        if ratio is not None and votes >= min_votes and ratio >= unhelpful_ratio:
            reasons.append(StaleReason.UNHELPFUL)
        due = review_due_at(article)
        days_overdue: int | None = None
        if is_stale(article, now):
            reasons.append(StaleReason.REVIEW_OVERDUE)
            since = article.created_at if due is None else due
            days_overdue = max(0, (now - since) // _DAY)
        suggested = None if counts is None else counts.get(article.id, 0)
        if suggested == 0 and now - article.created_at > never_suggested_after:
            reasons.append(StaleReason.NEVER_SUGGESTED)
        if reasons:
            entries.append(
                StaleArticle(
                    article_id=article.id,
                    title=article.title,
                    reasons=tuple(reasons),
                    review_due_at=due,
                    days_overdue=days_overdue,
                    helpful_votes=article.helpful_votes,
                    unhelpful_votes=article.unhelpful_votes,
                    unhelpful_ratio=ratio,
                    suggested=suggested,
                    created_at=article.created_at,
                )
            )
    entries.sort(key=_urgency)
    return StaleReport(
        entries=tuple(entries),
        examined=examined,
        now=now,
        suggestions_checked=counts is not None,
    )
