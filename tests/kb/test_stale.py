"""The stale-article report: overdue reviews, unhelpful articles, articles never suggested."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportflow.errors import ValidationFailed
from supportflow.kb.articles import Article, ArticleStatus, is_stale
from supportflow.kb.stale import StaleReason, stale_articles
from supportflow.testing.strategies import articles

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])

OVERDUE = StaleReason.REVIEW_OVERDUE
UNHELPFUL = StaleReason.UNHELPFUL
NEVER = StaleReason.NEVER_SUGGESTED


def article(
    article_id: str,
    *,
    title: str = "An article",
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    age: timedelta = 10 * DAY,
    reviewed_ago: timedelta | None = 10 * DAY,
    interval: timedelta = 180 * DAY,
    helpful: int = 0,
    unhelpful: int = 0,
) -> Article:
    """An article created ``age`` ago and last reviewed ``reviewed_ago`` ago (None: never)."""
    return Article(
        id=article_id,
        title=title,
        status=status,
        created_at=NOW - age,
        updated_at=NOW - age,
        last_reviewed_at=None if reviewed_ago is None else NOW - reviewed_ago,
        review_interval=interval,
        helpful_votes=helpful,
        unhelpful_votes=unhelpful,
    )


# -- the three reasons ------------------------------------------------------------------


def test_overdue_review_counts_whole_days() -> None:
    """Reviewed 200 days ago on a 180-day interval: 20 days overdue."""
    stale = article("kb-1", age=400 * DAY, reviewed_ago=200 * DAY)
    fresh = article("kb-2", age=400 * DAY, reviewed_ago=179 * DAY)
    report = stale_articles([stale, fresh], now=NOW)
    (entry,) = report.entries
    assert (entry.article_id, entry.reasons, entry.days_overdue) == ("kb-1", (OVERDUE,), 20)
    assert entry.review_due_at == NOW - 20 * DAY
    assert report.examined == 2


def test_review_due_right_now_is_overdue_by_zero_days() -> None:
    """Due exactly now counts as overdue, as ``is_stale`` says."""
    report = stale_articles([article("kb-1", age=200 * DAY, reviewed_ago=180 * DAY)], now=NOW)
    (entry,) = report.entries
    assert (entry.reasons, entry.days_overdue) == ((OVERDUE,), 0)


def test_never_reviewed_article_is_overdue_since_created() -> None:
    """A published article with no review date is overdue, counted from its creation."""
    report = stale_articles([article("kb-1", age=45 * DAY, reviewed_ago=None)], now=NOW)
    (entry,) = report.entries
    assert (entry.reasons, entry.review_due_at, entry.days_overdue) == ((OVERDUE,), None, 45)
    assert entry.describe() == "kb-1 'An article': never reviewed (45 days since created)"


@pytest.mark.parametrize(
    ("helpful", "unhelpful", "flagged"),
    [
        (4, 6, True),
        (5, 5, True),  # exactly the ratio
        (6, 4, False),
        (0, 4, False),  # too few votes to judge
        (0, 5, True),
        (0, 0, False),
    ],
)
def test_unhelpful_needs_enough_votes_and_a_high_share(
    helpful: int, unhelpful: int, flagged: bool
) -> None:
    """At least ``min_votes`` votes and an unhelpful share of at least ``unhelpful_ratio``."""
    one = article("kb-1", helpful=helpful, unhelpful=unhelpful)
    report = stale_articles([one], now=NOW, min_votes=5, unhelpful_ratio=0.5)
    assert [e.reasons for e in report.entries] == ([(UNHELPFUL,)] if flagged else [])


def test_never_suggested_counts_zero_and_absent_alike() -> None:
    """Count 0 or no count means never suggested, once the article is old enough."""
    old = 40 * DAY
    report = stale_articles(
        [
            article("zero", age=old),
            article("absent", age=old),
            article("used", age=old),
            article("young", age=10 * DAY),
        ],
        now=NOW,
        suggested_counts={"zero": 0, "used": 3, "young": 0},
    )
    assert [(e.article_id, e.reasons, e.suggested) for e in report.entries] == [
        ("absent", (NEVER,), 0),
        ("zero", (NEVER,), 0),
    ]
    assert report.suggestions_checked


def test_without_counts_never_suggested_is_not_checked() -> None:
    """No counts, no "never suggested": the report says it could not check."""
    report = stale_articles([article("kb-1", age=400 * DAY)], now=NOW)
    assert report.entries == ()
    assert not report.suggestions_checked
    assert (
        report.describe()
        == "0 of 1 published articles need attention: 0 unhelpful, 0 review overdue"
    )


def test_only_published_articles_are_examined() -> None:
    """Drafts, articles in review and archived ones are in front of nobody."""
    bad: dict[str, Any] = {"age": 400 * DAY, "reviewed_ago": None, "helpful": 0, "unhelpful": 50}
    report = stale_articles(
        [
            article("draft", status=ArticleStatus.DRAFT, **bad),
            article("review", status=ArticleStatus.IN_REVIEW, **bad),
            article("archived", status=ArticleStatus.ARCHIVED, **bad),
            article("live", **bad),
        ],
        now=NOW,
        suggested_counts={},
    )
    assert [e.article_id for e in report.entries] == ["live"]
    assert report.entries[0].reasons == (UNHELPFUL, OVERDUE, NEVER)
    assert report.examined == 1


# -- order and text ---------------------------------------------------------------------


def test_most_urgent_first() -> None:
    """More reasons first; then unhelpful by share; then days overdue; then the oldest."""
    report = stale_articles(
        [
            article("never-new", age=40 * DAY),
            article("overdue-5", age=400 * DAY, reviewed_ago=185 * DAY),
            article("unhelpful-60", helpful=4, unhelpful=6),
            article("never-old", age=90 * DAY),
            article("two", age=400 * DAY, reviewed_ago=200 * DAY),
            article("unhelpful-90", helpful=1, unhelpful=9),
            article("overdue-50", age=400 * DAY, reviewed_ago=230 * DAY),
            article("fine", age=5 * DAY),
        ],
        now=NOW,
        suggested_counts={"overdue-5": 1, "unhelpful-60": 1, "unhelpful-90": 2, "overdue-50": 1},
    )
    assert [e.article_id for e in report.entries] == [
        "two",
        "unhelpful-90",
        "unhelpful-60",
        "overdue-50",
        "overdue-5",
        "never-old",
        "never-new",
    ]
    assert report.counts() == {UNHELPFUL: 2, OVERDUE: 3, NEVER: 3}


def test_equal_unhelpful_shares_put_more_unhelpful_votes_first() -> None:
    """At the same share, the article more customers found unhelpful comes first."""
    report = stale_articles(
        [article("few", helpful=3, unhelpful=3), article("many", helpful=30, unhelpful=30)],
        now=NOW,
    )
    assert [e.article_id for e in report.entries] == ["many", "few"]


def test_describe_lists_every_reason() -> None:
    """A summary line, then one line per article with its reasons."""
    report = stale_articles(
        [
            article(
                "kb-7",
                title="Reset your password",
                age=400 * DAY,
                reviewed_ago=181 * DAY,
                helpful=2,
                unhelpful=8,
            ),
            article("kb-8", title="重置密码", age=60 * DAY),
        ],
        now=NOW,
        suggested_counts={"kb-7": 4},
    )
    assert report.describe().splitlines() == [
        "2 of 2 published articles need attention: 1 unhelpful, 1 review overdue,"
        " 1 never suggested",
        "kb-7 'Reset your password': 8 of 10 votes unhelpful (80%); review 1 day overdue",
        "kb-8 '重置密码': never suggested",
    ]
    assert str(report) == report.describe()


def test_as_data_is_json_ready() -> None:
    """Reasons as strings, datetimes as ISO 8601, totals per reason."""
    report = stale_articles(
        [article("kb-1", age=400 * DAY, reviewed_ago=200 * DAY, helpful=1, unhelpful=9)],
        now=NOW,
        suggested_counts={"kb-1": 2},
    )
    data = report.as_data()
    assert json.loads(json.dumps(data)) == data
    assert data["counts"] == {"unhelpful": 1, "review_overdue": 1, "never_suggested": 0}
    (entry,) = data["entries"]
    assert entry["reasons"] == ["unhelpful", "review_overdue"]
    assert entry["review_due_at"] == "2026-02-10T09:00:00+00:00"
    assert (entry["days_overdue"], entry["unhelpful_ratio"], entry["suggested"]) == (20, 0.9, 2)


def test_now_in_another_zone_is_the_same_instant() -> None:
    """The same instant in Shanghai gives the same entries."""
    given = [article("kb-1", age=400 * DAY, reviewed_ago=200 * DAY)]
    shanghai = NOW.astimezone(ZoneInfo("Asia/Shanghai"))
    assert stale_articles(given, now=shanghai).entries == stale_articles(given, now=NOW).entries


# -- bad arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"now": datetime(2026, 3, 2, 9, 0)}, "now"),
        ({"now": "2026-03-02"}, "now"),
        ({"min_votes": 0}, "min_votes"),
        ({"min_votes": True}, "min_votes"),
        ({"min_votes": 2.5}, "min_votes"),
        ({"unhelpful_ratio": -0.1}, "unhelpful_ratio"),
        ({"unhelpful_ratio": 1.1}, "unhelpful_ratio"),
        ({"unhelpful_ratio": "0.5"}, "unhelpful_ratio"),
        ({"unhelpful_ratio": float("nan")}, "unhelpful_ratio"),
        ({"never_suggested_after": -DAY}, "never_suggested_after"),
        ({"never_suggested_after": 30}, "never_suggested_after"),
        ({"suggested_counts": [("kb-1", 1)]}, "suggested_counts"),
        ({"suggested_counts": {1: 1}}, "suggested_counts"),
        ({"suggested_counts": {"kb-1": -1}}, "suggested_counts['kb-1']"),
        ({"suggested_counts": {"kb-1": True}}, "suggested_counts['kb-1']"),
        ({"suggested_counts": {"kb-1": 1.0}}, "suggested_counts['kb-1']"),
    ],
)
def test_bad_options_are_refused_by_name(options: dict[str, Any], field: str) -> None:
    """Each bad option raises ValidationFailed naming it."""
    call: dict[str, Any] = {"now": NOW, **options}
    with pytest.raises(ValidationFailed) as caught:
        stale_articles([article("kb-1")], **call)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ("kb-1", "articles"),
        (None, "articles"),
        ([article("kb-1"), {"id": "kb-2"}], "articles[1]"),
        ([article("kb-1"), article("kb-2"), article("kb-1")], "articles[2]"),
    ],
)
def test_bad_articles_are_refused(given: Any, field: str) -> None:
    """Not an iterable, not an article, or the same id twice: refused with the position."""
    with pytest.raises(ValidationFailed) as caught:
        stale_articles(given, now=NOW)
    assert caught.value.field == field


# -- properties -------------------------------------------------------------------------


@PROPERTY
@given(
    batch=st.lists(articles(max_body_chars=50), max_size=12, unique_by=lambda a: a.id),
    counts=st.none() | st.dictionaries(st.sampled_from(("kb-1", "知识-1", "a")), st.integers(0, 3)),
    min_votes=st.integers(1, 10**6),
    ratio=st.floats(0, 1),
    after=st.timedeltas(timedelta(0), timedelta(days=4000)),
    now=st.datetimes(datetime(2019, 1, 1), datetime(2032, 1, 1), timezones=st.just(UTC)),
)
def test_report_matches_the_definitions(
    batch: list[Article],
    counts: dict[str, int] | None,
    min_votes: int,
    ratio: float,
    after: timedelta,
    now: datetime,
) -> None:
    """Every published article meeting a condition is listed with exactly those reasons."""
    report = stale_articles(
        batch,
        now=now,
        suggested_counts=counts,
        min_votes=min_votes,
        unhelpful_ratio=ratio,
        never_suggested_after=after,
    )
    live = [a for a in batch if a.status is ArticleStatus.PUBLISHED]
    assert report.examined == len(live)
    expected: dict[str, tuple[StaleReason, ...]] = {}
    for one in live:
        votes = one.helpful_votes + one.unhelpful_votes
        reasons = []
        if votes >= min_votes and one.unhelpful_votes / votes >= ratio:
            reasons.append(UNHELPFUL)
        if is_stale(one, now):
            reasons.append(OVERDUE)
        if counts is not None and counts.get(one.id, 0) == 0 and now - one.created_at > after:
            reasons.append(NEVER)
        if reasons:
            expected[one.id] = tuple(reasons)
    assert {e.article_id: e.reasons for e in report.entries} == expected
    assert len(report.entries) == len(expected)
    sizes = [len(e.reasons) for e in report.entries]
    assert sizes == sorted(sizes, reverse=True)
    for entry in report.entries:
        assert (entry.days_overdue is not None) == (OVERDUE in entry.reasons)
        assert entry.days_overdue is None or entry.days_overdue >= 0
    assert json.loads(json.dumps(report.as_data())) == report.as_data()
