"""KnowledgeBase: the service layer for knowledge-base articles, their history and search.

Like :class:`~supportflow.desk.SupportDesk` (which holds one as ``desk.kb``) it sits in the
desk layer, where the domain code of :mod:`supportflow.kb` meets storage: each call
validates its arguments, opens one unit of work, stores the article's next version
together with the revision that records it (who, when, what changed), and commits; a
refused call raises a :class:`~supportflow.errors.SupportflowError` subclass and stores
nothing.

The search index is a cache of the store. It is built from the article repository on
first use and told about each article this knowledge base writes, but only after the
write has committed, so a rolled-back write is never searchable. Writes made elsewhere
(another process, the host's own SQL) reach it through :meth:`KnowledgeBase.rebuild_index`.

The two upkeep reports read the store and hand the domain functions what they need: the
gap report (:func:`~supportflow.kb.gaps.find_gaps`) the tickets resolved in a period, the
stale report (:func:`~supportflow.kb.stale.stale_articles`) the articles and how often
each was suggested.
"""

from __future__ import annotations

import builtins
import inspect
import os
import threading
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from . import _validate as check
from .clock import Clock, SystemClock
from .errors import ConcurrencyConflict, ValidationFailed
from .events import EventType
from .kb.articles import (
    Article,
    ArticleRevision,
    ArticleStatus,
    Audience,
    edit_article,
    first_revision,
    move_article,
    record_vote,
)
from .kb.gaps import GapReport, find_gaps
from .kb.importing import load_articles
from .kb.index import BuiltinIndex
from .kb.search import DEFAULT_STATUSES, SearchHit, SearchIndex
from .kb.stale import StaleReport, stale_articles
from .models import TicketStatus
from .storage.protocols import DEFAULT_TENANT, Store, UnitOfWork

__all__ = ["KnowledgeBase"]

MAX_NOTE_CHARS = 1000
"""Longest revision note accepted (``ArticleRevision.note``)."""

_INDEX_METHODS = ("add", "remove", "rebuild", "search")


class KnowledgeBase:
    """Writes, reviews, searches and imports the articles of one tenant.

    Args:
        store: where articles and their revisions live (the desk's store).
        tenant_id: the company whose articles these are.
        clock: the source of "now" for edits, moves and reviews.
        search_index: any :class:`~supportflow.kb.search.SearchIndex` (default a
            :class:`~supportflow.kb.index.BuiltinIndex`; a ``TantivyIndex`` for large
            knowledge bases). It is filled from the store on first use: pass it empty.

    Every write returns the article as stored. ``expected_version`` (where accepted)
    refuses the write with :class:`~supportflow.errors.ConcurrencyConflict` unless the
    stored article is still at that version: the guard a review screen needs, so that
    what gets published is what the reviewer read.
    """

    def __init__(
        self,
        store: Store,
        *,
        tenant_id: str = DEFAULT_TENANT,
        clock: Clock | None = None,
        search_index: SearchIndex | None = None,
    ) -> None:
        if store is None or not callable(getattr(store, "unit_of_work", None)):
            raise ValidationFailed("store", "must be a Store (MemoryStore, SqliteStore or yours)")
        if isinstance(clock, datetime) or (
            clock is not None and not callable(getattr(clock, "now", None))
        ):
            raise ValidationFailed("clock", "must be a Clock with a now() method")
        if search_index is not None:
            missing = [m for m in _INDEX_METHODS if not callable(getattr(search_index, m, None))]
            if missing:
                raise ValidationFailed(
                    "search_index",
                    f"must be a SearchIndex ({type(search_index).__name__} has no "
                    f"{', '.join(missing)})",
                )
        self._store = store
        self._tenant_id = check.object_id("tenant_id", tenant_id)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._index: SearchIndex = search_index if search_index is not None else BuiltinIndex()
        # Guards the index, whether it is built, and the version of each article it holds.
        self._index_lock = threading.RLock()
        self._built = False
        self._indexed: dict[str, int] = {}

    @property
    def tenant_id(self) -> str:
        """The tenant whose articles these are."""
        return self._tenant_id

    @property
    def index(self) -> SearchIndex:
        """The search index, built from the store first if nothing has used it yet."""
        return self._ready_index()

    # -- reads -------------------------------------------------------------------------

    def get(self, article_id: str) -> Article:
        """The article, or ``ArticleNotFound``."""
        article_id = check.object_id("article_id", article_id)
        with self._unit() as uow:
            return uow.articles.get(article_id)

    def revisions(self, article_id: str) -> builtins.list[ArticleRevision]:
        """The article's history, oldest first: one revision per edit, move and review."""
        article_id = check.object_id("article_id", article_id)
        with self._unit() as uow:
            uow.articles.get(article_id)
            return uow.articles.revisions(article_id)

    def list(self, *, status: ArticleStatus | str | None = None) -> builtins.list[Article]:
        """Articles with ``status`` (all when ``None``), ordered by id."""
        wanted = None if status is None else check.enum_value("status", ArticleStatus, status)
        with self._unit() as uow:
            return uow.articles.list(status=wanted)

    # -- writes ------------------------------------------------------------------------

    def create(
        self, article: Article | Mapping[str, Any], *, editor_id: str, note: str = ""
    ) -> Article:
        """Store a new article and its first revision (``DuplicateEntity`` if the id is taken).

        Given as a model or its fields; a mapping without ``created_at`` and
        ``updated_at`` gets the clock's now (one of them given stands for both). A new
        article starts at version 1; any status is accepted, so a host can carry over
        articles already published elsewhere.
        """
        editor_id = check.object_id("editor_id", editor_id)
        note = _note(note)
        stored = self._new_article(article)
        with self._unit() as uow:
            uow.articles.add(stored)
            uow.articles.add_revision(first_revision(stored, editor_id, note))
            uow.commit()
        self._publish((stored,))
        return stored

    def edit(
        self,
        article_id: str,
        changes: Mapping[str, Any],
        *,
        editor_id: str,
        note: str = "",
        expected_version: int | None = None,
    ) -> Article:
        """Change the article's text or metadata; the revision records which fields changed.

        Only ``ARTICLE_FIELDS_EDITABLE`` may change (title, body, tags, language, product,
        audience, owner_id, review_interval); status, reviews and votes have their own
        calls. An edit that changes nothing is refused. A published article stays
        published: the edit is searchable at once.
        """
        article_id = check.object_id("article_id", article_id)
        wanted = _changes(changes)
        editor_id = check.object_id("editor_id", editor_id)
        note = _note(note)
        expected = _expected_version(expected_version)
        now = self._now()
        with self._unit() as uow:
            article = _at_version(uow.articles.get(article_id), expected)
            try:
                updated, revision = edit_article(article, wanted, editor_id, now, note)
            except ValidationFailed as exc:
                raise _under_changes(exc, wanted) from None
            uow.articles.update(updated)
            uow.articles.add_revision(revision)
            uow.commit()
        self._publish((updated,))
        return updated

    def submit_for_review(
        self,
        article_id: str,
        *,
        editor_id: str,
        note: str = "",
        expected_version: int | None = None,
    ) -> Article:
        """Send a draft (or a published article being reworked) to review."""
        return self._move(article_id, ArticleStatus.IN_REVIEW, editor_id, note, expected_version)

    def publish(
        self,
        article_id: str,
        *,
        editor_id: str,
        note: str = "",
        expected_version: int | None = None,
    ) -> Article:
        """Publish an article in review; it is searchable and counts as reviewed now."""
        return self._move(article_id, ArticleStatus.PUBLISHED, editor_id, note, expected_version)

    def archive(
        self,
        article_id: str,
        *,
        editor_id: str,
        note: str = "",
        expected_version: int | None = None,
    ) -> Article:
        """Withdraw an article from search; its history stays."""
        return self._move(article_id, ArticleStatus.ARCHIVED, editor_id, note, expected_version)

    def revive(
        self,
        article_id: str,
        *,
        editor_id: str,
        note: str = "",
        expected_version: int | None = None,
    ) -> Article:
        """Bring an archived article back as a draft, to be reviewed again."""
        return self._move(article_id, ArticleStatus.DRAFT, editor_id, note, expected_version)

    def confirm_review(
        self,
        article_id: str,
        *,
        editor_id: str,
        note: str = "",
        expected_version: int | None = None,
    ) -> Article:
        """Record that a published article was reviewed and is still right.

        Sets ``last_reviewed_at`` to now, which restarts its review interval, as a
        revision of its own. An article that is not published is refused (publishing
        marks it reviewed).
        """
        article_id = check.object_id("article_id", article_id)
        editor_id = check.object_id("editor_id", editor_id)
        note = _note(note)
        expected = _expected_version(expected_version)
        now = self._now()
        with self._unit() as uow:
            article = _at_version(uow.articles.get(article_id), expected)
            if article.status is not ArticleStatus.PUBLISHED:
                raise ValidationFailed(
                    "article_id",
                    f"article {article.id!r} is {article.status.value}: only a published "
                    "article's review can be confirmed (publishing marks it reviewed)",
                )
            data = article.model_dump()
            data.update(last_reviewed_at=now, updated_at=now, version=article.version + 1)
            updated = Article.model_validate(data)
            revision = ArticleRevision(
                article_id=article.id,
                version=updated.version,
                editor_id=editor_id,
                at=now,
                changed=("last_reviewed_at",),
                note=note,
                article=updated,
            )
            uow.articles.update(updated)
            uow.articles.add_revision(revision)
            uow.commit()
        self._publish((updated,))
        return updated

    def vote(self, article_id: str, *, helpful: bool) -> Article:
        """Count a reader's vote: was the article helpful?

        A vote is a counter, not an edit: it bumps ``version`` (concurrent writers are
        checked, so a vote can raise ``ConcurrencyConflict``; ``retry_on_conflict``
        redoes it) but adds no revision.
        """
        article_id = check.object_id("article_id", article_id)
        helpful = check.flag("helpful", helpful)
        with self._unit() as uow:
            updated = record_vote(uow.articles.get(article_id), helpful=helpful)
            uow.articles.update(updated)
            uow.commit()
        return updated

    def import_articles(
        self,
        path: str | os.PathLike[str],
        *,
        editor_id: str,
        status: ArticleStatus | str = ArticleStatus.PUBLISHED,
        defaults: Mapping[str, Any] | None = None,
    ) -> builtins.list[Article]:
        """Store every article of a help-center export, or none of them.

        ``path`` is a ``.json``, ``.jsonl``, ``.csv`` or ``.md`` file or a folder of
        Markdown files, read by :func:`~supportflow.kb.importing.load_articles` (which
        documents the field mapping; ``status`` and ``defaults`` are passed to it). Each
        article gets a first revision by ``editor_id`` noting the file. A record that is
        invalid, or whose id is already stored, refuses the whole import
        (``ValidationFailed`` naming the record, ``DuplicateEntity`` naming the id).
        """
        source = _path(path)
        editor_id = check.object_id("editor_id", editor_id)
        initial = check.enum_value("status", ArticleStatus, status)
        loaded = load_articles(source, now=self._now(), status=initial, defaults=defaults)
        note = f"imported from {source.name}"[:MAX_NOTE_CHARS]
        with self._unit() as uow:
            for article in loaded:
                uow.articles.add(article)
                uow.articles.add_revision(first_revision(article, editor_id, note))
            uow.commit()
        self._publish(loaded)
        return loaded

    # -- search ------------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        language: str | None = None,
        product: str | None = None,
        audience: Audience | str | None = None,
        statuses: Collection[ArticleStatus | str] = DEFAULT_STATUSES,
    ) -> builtins.list[SearchHit]:
        """The best ``limit`` articles for ``query``, best first, published ones by default.

        Filters are exact (see :meth:`SearchIndex.search
        <supportflow.kb.search.SearchIndex.search>`); ``audience="public"`` is what a
        customer-facing help center passes.
        """
        index = self._ready_index()
        with self._index_lock:
            return index.search(
                query,
                limit=limit,
                language=language,
                product=product,
                audience=audience,
                statuses=statuses,
            )

    # -- reports -----------------------------------------------------------------------

    def gaps(self, *, since: datetime, until: datetime, **options: Any) -> GapReport:
        """Tickets resolved in a period that no published article answers, clustered.

        The tickets resolved at ``since <= resolved_at < until`` (and still resolved, or
        closed since), in the order they were resolved, are searched in this knowledge
        base's index by :func:`~supportflow.kb.gaps.find_gaps`; ``options`` are its
        keyword arguments (``threshold``, ``min_cluster``, ``similarity``, ``examples``,
        ``limit``). One search per ticket, each taking the index's lock on its own, so
        searches by agents go on meanwhile.
        """
        start = check.aware("since", since)
        end = check.aware("until", until)
        if end <= start:
            raise ValidationFailed("until", "must be after since")
        _check_options("find_gaps", find_gaps, options, given=("tickets", "index"))
        with self._unit() as uow:
            tickets = [
                ticket
                for status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)
                for ticket in uow.tickets.list(status=status)
                if ticket.resolved_at is not None and start <= ticket.resolved_at < end
            ]
        tickets.sort(key=lambda t: (t.resolved_at or start, t.id))
        index = _Locked(self._ready_index(), self._index_lock)
        return find_gaps(tickets, index, **options)

    def stale_report(
        self, *, suggestion_window: timedelta = timedelta(days=90), **options: Any
    ) -> StaleReport:
        """Published articles that are unhelpful, overdue for review or never suggested.

        How often each article was suggested is counted from the ``kb.suggested`` events
        of the last ``suggestion_window`` (90 days by default); ``options`` are the
        keyword arguments of :func:`~supportflow.kb.stale.stale_articles`
        (``min_votes``, ``unhelpful_ratio``, ``never_suggested_after``). It reads every
        ticket event of the window: a report to run monthly, not on every request.
        """
        if not isinstance(suggestion_window, timedelta) or suggestion_window <= timedelta(0):
            raise ValidationFailed("suggestion_window", "must be a positive timedelta")
        _check_options(
            "stale_articles", stale_articles, options, given=("articles", "now", "suggested_counts")
        )
        now = self._now()
        suggested: Counter[str] = Counter()
        with self._unit() as uow:
            articles = uow.articles.list()
            # ``between`` excludes its end: one tick past now keeps events stamped now.
            for event in uow.events.between(now - suggestion_window, now + timedelta.resolution):
                if event.type == EventType.KB_SUGGESTED:
                    ids = event.data.get("article_ids")
                    if isinstance(ids, list):
                        suggested.update(i for i in ids if isinstance(i, str))
        return stale_articles(articles, now=now, suggested_counts=suggested, **options)

    def rebuild_index(self) -> int:
        """Refill the index from the store (after writes by other processes); the count."""
        with self._index_lock:
            with self._unit() as uow:
                articles = uow.articles.list()
            self._index.rebuild(articles)
            self._indexed = {a.id: a.version for a in articles}
            self._built = True
            return len(articles)

    # -- internals ---------------------------------------------------------------------

    def _move(
        self,
        article_id: str,
        to: ArticleStatus,
        editor_id: str,
        note: str,
        expected_version: int | None,
    ) -> Article:
        article_id = check.object_id("article_id", article_id)
        editor_id = check.object_id("editor_id", editor_id)
        note = _note(note)
        expected = _expected_version(expected_version)
        now = self._now()
        with self._unit() as uow:
            article = _at_version(uow.articles.get(article_id), expected)
            updated, revision = move_article(article, to, editor_id, now, note)
            uow.articles.update(updated)
            uow.articles.add_revision(revision)
            uow.commit()
        self._publish((updated,))
        return updated

    def _new_article(self, article: object) -> Article:
        if isinstance(article, Article):
            stored = article
        elif isinstance(article, Mapping):
            data = dict(article)
            created, updated = data.get("created_at"), data.get("updated_at")
            if created is None and updated is None:
                created = updated = self._now()
            data["created_at"] = updated if created is None else created
            data["updated_at"] = created if updated is None else updated
            try:
                stored = Article.model_validate(data)
            except ValidationFailed as exc:
                raise exc.prefixed("article") from None
        else:
            raise ValidationFailed("article", "must be an Article or a mapping of its fields")
        if stored.version != 1:
            raise ValidationFailed("article.version", "a new article starts at version 1")
        return stored

    def _ready_index(self) -> SearchIndex:
        """The index, filled from the store on first use."""
        with self._index_lock:
            if not self._built:
                self.rebuild_index()
            return self._index

    def _publish(self, articles: Iterable[Article]) -> None:
        """Tell a built index about committed articles; call only after the commit.

        A version older than the one indexed (a slower writer publishing late) is skipped.
        """
        with self._index_lock:
            if not self._built:
                return
            for article in articles:
                if self._indexed.get(article.id, 0) < article.version:
                    self._index.add(article)
                    self._indexed[article.id] = article.version

    def _unit(self) -> UnitOfWork:
        return self._store.unit_of_work(self._tenant_id)

    def _now(self) -> datetime:
        return check.aware("clock", self._clock.now())


class _Locked:
    """An index whose every call holds a lock: a long report shares it with live searches."""

    def __init__(self, index: SearchIndex, lock: threading.RLock) -> None:
        self._index = index
        self._lock = lock

    def add(self, article: Article) -> None:
        with self._lock:
            self._index.add(article)

    def remove(self, article_id: str) -> bool:
        with self._lock:
            return self._index.remove(article_id)

    def rebuild(self, articles: Iterable[Article]) -> None:
        with self._lock:
            self._index.rebuild(articles)

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        language: str | None = None,
        product: str | None = None,
        audience: Audience | str | None = None,
        statuses: Collection[ArticleStatus | str] = DEFAULT_STATUSES,
    ) -> builtins.list[SearchHit]:
        with self._lock:
            return self._index.search(
                query,
                limit=limit,
                language=language,
                product=product,
                audience=audience,
                statuses=statuses,
            )

    def __len__(self) -> int:
        with self._lock:
            return len(self._index)

    def __contains__(self, article_id: object) -> bool:
        with self._lock:
            return article_id in self._index


def _check_options(
    name: str, function: Callable[..., Any], options: Mapping[str, Any], *, given: tuple[str, ...]
) -> None:
    """Refuse an option ``function`` does not take, naming the ones it does."""
    allowed = [p for p in inspect.signature(function).parameters if p not in given]
    for option in options:
        if option not in allowed:
            raise ValidationFailed(
                option, f"is not an option of {name}; use one of: {', '.join(allowed)}"
            )


def _note(note: object) -> str:
    return check.text("note", note, required=False, limit=MAX_NOTE_CHARS)


def _expected_version(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValidationFailed("expected_version", "must be None or an integer of at least 1")
    return value


def _at_version(article: Article, expected: int | None) -> Article:
    """``article``, or ``ConcurrencyConflict`` if it moved past the version the caller saw."""
    if expected is not None and article.version != expected:
        raise ConcurrencyConflict("article", article.id, expected, article.version)
    return article


def _changes(changes: object) -> dict[str, Any]:
    if not isinstance(changes, Mapping):
        raise ValidationFailed("changes", "must be a mapping of field to new value")
    if not changes:
        raise ValidationFailed("changes", "must name at least one field")
    for key in changes:
        if not isinstance(key, str):
            raise ValidationFailed("changes", f"field names must be strings, not {key!r}")
    return dict(changes)


def _under_changes(exc: ValidationFailed, changes: Mapping[str, Any]) -> ValidationFailed:
    """``exc`` with the fields the caller changed named under ``changes.``."""
    errors = [
        (f"changes.{field}" if field.split(".", 1)[0] in changes else field, reason)
        for field, reason in exc.errors
    ]
    return ValidationFailed(errors[0][0], errors[0][1], errors=errors)


def _path(path: object) -> Path:
    """An export's path, refused on ``path`` when it could not name a file."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise ValidationFailed("path", f"must be a path, not {type(path).__name__}")
    return Path(check.text("path", path, required=True, limit=4096))
