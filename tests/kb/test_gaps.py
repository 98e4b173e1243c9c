"""Knowledge gaps: which resolved tickets no article covers, and how they are grouped."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportflow.errors import ValidationFailed
from supportflow.kb.articles import Article, ArticleStatus
from supportflow.kb.gaps import (
    DEFAULT_SIMILARITY,
    DEFAULT_THRESHOLD,
    DEFAULT_THRESHOLDS,
    GapReport,
    find_gaps,
)
from supportflow.kb.index import BuiltinIndex
from supportflow.models import Ticket, TicketStatus

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def ticket(
    ticket_id: str, subject: str, body: str = "", status: TicketStatus = TicketStatus.RESOLVED
) -> Ticket:
    """A ticket with the given text and status."""
    return Ticket(
        id=ticket_id,
        channel="email",
        customer_id="c-1",
        subject=subject,
        body=body,
        status=status,
        created_at=NOW,
        updated_at=NOW,
    )


def published(article_id: str, title: str, body: str) -> Article:
    """A published article."""
    return Article(
        id=article_id,
        title=title,
        body=body,
        status=ArticleStatus.PUBLISHED,
        created_at=NOW,
        updated_at=NOW,
    )


def password_index() -> BuiltinIndex:
    """A knowledge base of one article, about resetting a password."""
    index = BuiltinIndex()
    index.add(
        published(
            "kb-pw",
            "Reset a forgotten password",
            "If you forgot your password, open the sign-in page and choose Forgot password."
            " We email you a reset link.",
        )
    )
    return index


INVOICES = [
    ticket(
        "T-101", "Cannot download invoice", "The download button on the billing page does nothing."
    ),
    ticket("T-102", "Invoice download fails", "I get an error when I try to download my invoice."),
    ticket("T-103", "Where can I download my invoice?", "I need the invoice PDF for accounting."),
    ticket("T-104", "Invoice PDF will not download", "Downloading the invoice gives a blank page."),
    ticket("T-105", "Unable to download invoice for March", "The invoice download link is broken."),
]
LOGINS = [
    ticket("T-201", "无法登录账户", "最近一直无法登录，提示网络错误"),
    ticket("T-202", "登录失败", "App 登录失败，一直转圈"),
    ticket("T-203", "手机上登录不了", "登录时提示验证码错误，无法登录"),
]
PASSWORDS = [
    ticket("T-301", "Forgot my password", "How do I reset my password? I forgot it."),
    ticket("T-302", "Password reset", "I forgot my password and need a reset link."),
]


def desk_tickets() -> list[Ticket]:
    """The invoice, login and password tickets, interleaved as they arrived."""
    inv, log, pwd = INVOICES, LOGINS, PASSWORDS
    return [inv[0], log[0], inv[1], pwd[0], inv[2], log[1], inv[3], pwd[1], inv[4], log[2]]


def reported_ids(report: GapReport) -> list[str]:
    """Every ticket id the report lists, clusters first, then singletons."""
    found = [ticket_id for cluster in report.clusters for ticket_id in cluster.ticket_ids]
    return found + [single.ticket_id for single in report.singletons]


# -- what is reported -------------------------------------------------------------------


def test_two_topics_cluster_and_covered_tickets_are_not_reported() -> None:
    """5 invoice tickets and 3 登录 tickets cluster apart; the 2 the article covers are absent."""
    report = find_gaps(desk_tickets(), password_index())
    assert (report.examined, report.uncovered, report.clustered) == (10, 8, 8)
    assert report.singletons == ()
    assert [c.ticket_ids for c in report.clusters] == [
        ("T-101", "T-102", "T-103", "T-104", "T-105"),
        ("T-201", "T-202", "T-203"),
    ]
    assert [c.count for c in report.clusters] == [5, 3]
    assert [c.terms for c in report.clusters] == [
        ("download", "invoice", "page"),
        ("登录", "提示", "错误"),
    ]
    assert "T-301" not in reported_ids(report)
    assert "T-302" not in reported_ids(report)


def test_describe_says_how_many_tickets_about_what() -> None:
    """One summary line, then a line per cluster quoting its most central ticket."""
    report = find_gaps(desk_tickets(), password_index())
    assert report.describe().splitlines() == [
        "10 resolved tickets examined, 8 with no article scoring their language's"
        " threshold or more (en 0.20, mixed 0.15, zh 0.10): 8 in clusters, 0 on their own",
        "5 tickets about download, invoice, page have no article"
        " (e.g. T-104 'Invoice PDF will not download')",
        "3 tickets about 登录, 提示, 错误 have no article (e.g. T-201 '无法登录账户')",
    ]
    assert str(report) == report.describe()


def test_examples_are_the_members_most_like_the_rest() -> None:
    """The examples are medoid-like: most similar to the rest of the cluster first."""
    report = find_gaps(desk_tickets(), password_index())
    invoices, logins = report.clusters
    assert [e.ticket_id for e in invoices.examples] == ["T-104", "T-103", "T-105"]
    assert [e.ticket_id for e in logins.examples] == ["T-201", "T-203", "T-202"]
    one = find_gaps(desk_tickets(), password_index(), examples=1)
    assert [len(c.examples) for c in one.clusters] == [1, 1]


def test_an_outlier_is_not_an_example() -> None:
    """Of four near-identical tickets and a rambling one, the rambling one is shown last."""
    tickets = [
        ticket("A", "Cannot download invoice"),
        ticket("B", "Cannot download invoice", "Cannot download the invoice."),
        ticket("C", "Cannot download invoice", "Invoice download is not possible"),
        ticket("D", "Cannot download invoice", "Invoice cannot be downloaded"),
        ticket("E", "Invoice", "My accountant in Lyon asks for last year's invoice by Monday"),
    ]
    report = find_gaps(tickets, BuiltinIndex(), similarity=0.1, examples=4)
    (cluster,) = report.clusters
    assert cluster.count == 5
    assert "E" not in [e.ticket_id for e in cluster.examples]


def test_best_article_of_a_cluster_is_the_nearest_miss() -> None:
    """A cluster carries the best score any member got, and that article's id."""
    index = password_index()
    report = find_gaps(desk_tickets(), index)
    invoices = report.clusters[0]
    scores = [index.search(f"{t.subject}\n{t.body}", limit=1)[0].score for t in INVOICES]
    assert invoices.best_score == max(scores)
    assert 0 < invoices.best_score < DEFAULT_THRESHOLD
    assert invoices.best_article_id == "kb-pw"


def test_no_hit_is_uncovered_with_score_zero() -> None:
    """Against an empty knowledge base every resolved ticket is uncovered, scoring 0."""
    report = find_gaps(INVOICES, BuiltinIndex())
    (cluster,) = report.clusters
    assert cluster.ticket_ids == ("T-101", "T-102", "T-103", "T-104", "T-105")
    assert (cluster.best_score, cluster.best_article_id) == (0.0, None)
    assert all(e.best_article_id is None for e in cluster.examples)


def test_open_tickets_are_not_examined() -> None:
    """Only resolved and closed tickets have a known answer; the rest are skipped."""
    tickets = [
        ticket("N", "Cannot download invoice", status=TicketStatus.NEW),
        ticket("P", "Cannot download invoice", status=TicketStatus.IN_PROGRESS),
        ticket("R", "Cannot download invoice", status=TicketStatus.RESOLVED),
        ticket("C", "Cannot download invoice", status=TicketStatus.CLOSED),
    ]
    report = find_gaps(tickets, BuiltinIndex())
    assert (report.examined, report.uncovered) == (2, 2)
    assert report.clusters[0].ticket_ids == ("R", "C")


def test_threshold_zero_reports_only_tickets_without_any_hit() -> None:
    """At threshold 0 a ticket is uncovered only when no article matched at all."""
    report = find_gaps(desk_tickets(), password_index(), threshold=0.0)
    assert sorted(reported_ids(report)) == ["T-201", "T-202", "T-203"]


def test_clusters_smaller_than_min_cluster_become_singletons() -> None:
    """With min_cluster=4 the three 登录 tickets are listed alone, in input order, not dropped."""
    report = find_gaps(desk_tickets(), password_index(), min_cluster=4)
    assert [c.ticket_ids for c in report.clusters] == [
        ("T-101", "T-102", "T-103", "T-104", "T-105")
    ]
    assert [s.ticket_id for s in report.singletons] == ["T-201", "T-202", "T-203"]
    assert (report.uncovered, report.clustered) == (8, 5)
    assert report.describe().splitlines()[-1] == (
        "3 tickets have no article and no similar ticket (e.g. T-201 '无法登录账户')"
    )


def test_min_cluster_one_reports_every_ticket_in_a_cluster() -> None:
    """With min_cluster=1 a lone ticket is a cluster of one."""
    tickets = [*INVOICES, ticket("X", "Printer is on fire")]
    report = find_gaps(tickets, BuiltinIndex(), min_cluster=1)
    assert report.singletons == ()
    assert [c.count for c in report.clusters] == [5, 1]
    assert report.clusters[1].terms == ()
    assert report.clusters[1].describe() == "1 ticket has no article (e.g. X 'Printer is on fire')"


def test_limit_lists_the_largest_clusters_and_counts_the_rest() -> None:
    """A limit cuts the listing, not the totals."""
    report = find_gaps(desk_tickets(), password_index(), limit=1)
    assert [c.count for c in report.clusters] == [5]
    assert (report.clustered, report.omitted_clusters) == (8, 1)
    assert report.describe().splitlines()[-1] == "... and 1 smaller cluster not listed"


def test_ticket_without_text_is_alone() -> None:
    """A ticket with no subject and no body cannot be searched or compared: a singleton."""
    report = find_gaps([*INVOICES, ticket("E", "", "")], password_index())
    assert [s.ticket_id for s in report.singletons] == ["E"]
    assert report.singletons[0].subject == ""
    assert report.singletons[0].cited() == "E"


def test_subject_falls_back_to_the_start_of_the_body() -> None:
    """Without a subject a ticket is quoted by its body, whitespace collapsed, cut to 80."""
    body = "Invoice   download\nfails " + "again and again " * 10
    report = find_gaps([ticket("B", "", body)], BuiltinIndex())
    (single,) = report.singletons
    assert single.subject.startswith("Invoice download fails again")
    assert len(single.subject) == 80
    assert single.subject.endswith("…")


# -- languages --------------------------------------------------------------------------


def test_chinese_tickets_cluster_by_topic() -> None:
    """Unspaced Chinese clusters on shared bigrams; labels are CJK words."""
    tickets = [
        ticket("Z1", "退款还没到账", "申请退款一周了，退款还没有到账"),
        ticket("Z2", "发票下载不了", "电子发票无法下载"),
        ticket("Z3", "退款什么时候到账", "退款已经批准，钱什么时候退回"),
        ticket("Z4", "下载发票失败", "开具的发票点下载没反应"),
        ticket("Z5", "退款没收到", "订单退款一直没收到"),
        ticket("Z6", "发票下载", "怎么下载增值税发票"),
    ]
    report = find_gaps(tickets, BuiltinIndex())
    assert [c.ticket_ids for c in report.clusters] == [("Z1", "Z3", "Z5"), ("Z2", "Z4", "Z6")]
    assert [c.terms for c in report.clusters] == [("退款", "到账"), ("下载", "发票")]


def test_mixed_chinese_and_english_tickets_cluster_by_topic() -> None:
    """English words inside Chinese text count as words; labels mix both."""
    tickets = [
        ticket("M1", "App 闪退", "打开 app 就闪退，iPhone 15"),
        ticket("M2", "refund 还没到账", "我的 refund 申请了一周还没到账"),
        ticket("M3", "app 一打开就 crash", "iOS 上 app 闪退"),
        ticket("M4", "refund 没到账", "refund 已批准但没到账"),
        ticket("M5", "闪退问题", "Android app 启动后闪退"),
    ]
    report = find_gaps(tickets, BuiltinIndex())
    assert [c.ticket_ids for c in report.clusters] == [("M1", "M3", "M5"), ("M2", "M4")]
    assert [c.terms for c in report.clusters] == [("app", "闪退", "打开"), ("refund", "没到账")]


def test_label_skips_word_forms_already_chosen() -> None:
    """``rate`` and ``rates`` make one label term, not two."""
    tickets = [
        ticket("R1", "Exchange rate is wrong"),
        ticket("R2", "Which exchange rates do you use"),
        ticket("R3", "Exchange rate too high"),
    ]
    (cluster,) = find_gaps(tickets, BuiltinIndex()).clusters
    assert cluster.terms == ("exchange", "rate")


# -- data and determinism ---------------------------------------------------------------


def test_as_data_is_json_ready() -> None:
    """The report survives a JSON round trip, with totals, clusters and singletons."""
    report = find_gaps(desk_tickets(), password_index(), min_cluster=4)
    data = report.as_data()
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert {k: data[k] for k in ("examined", "uncovered", "clustered", "singleton_count")} == {
        "examined": 10,
        "uncovered": 8,
        "clustered": 5,
        "singleton_count": 3,
    }
    assert (data["thresholds"], data["similarity"]) == (DEFAULT_THRESHOLDS, DEFAULT_SIMILARITY)
    first = data["clusters"][0]
    assert first["count"] == 5
    assert first["label"] == "download, invoice, page"
    assert first["examples"][0]["ticket_id"] == "T-104"
    assert [s["ticket_id"] for s in data["singletons"]] == ["T-201", "T-202", "T-203"]


def test_same_input_gives_the_same_report() -> None:
    """Two runs over the same tickets in the same order agree exactly."""
    assert find_gaps(desk_tickets(), password_index()) == find_gaps(
        desk_tickets(), password_index()
    )


_SCRIPT = """
import json, sys
from supportflow.kb.articles import Article
from supportflow.kb.gaps import find_gaps
from supportflow.kb.index import BuiltinIndex
from supportflow.models import Ticket
given = json.load(sys.stdin)
index = BuiltinIndex()
index.rebuild(Article.model_validate(a) for a in given["articles"])
tickets = [Ticket.model_validate(t) for t in given["tickets"]]
print(json.dumps(find_gaps(tickets, index, min_cluster=1).as_data()))
"""


def test_report_does_not_depend_on_hash_order() -> None:
    """Different string hash seeds (so different set and dict orders) give the same report."""
    articles = [published("kb-pw", "Reset a forgotten password", "Forgot password?")]
    data = json.dumps(
        {
            "articles": [a.model_dump(mode="json") for a in articles],
            "tickets": [t.model_dump(mode="json") for t in desk_tickets()],
        }
    )
    outputs = []
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", _SCRIPT],
            input=data,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]
    assert len(outputs[0]["clusters"]) >= 2


# -- bad arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"threshold": -0.01}, "threshold"),
        ({"threshold": 1.01}, "threshold"),
        ({"threshold": "0.5"}, "threshold"),
        ({"threshold": True}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"similarity": -1}, "similarity"),
        ({"similarity": 2}, "similarity"),
        ({"similarity": None}, "similarity"),
        ({"min_cluster": 0}, "min_cluster"),
        ({"min_cluster": 2.5}, "min_cluster"),
        ({"min_cluster": True}, "min_cluster"),
        ({"examples": 0}, "examples"),
        ({"limit": 0}, "limit"),
        ({"limit": "3"}, "limit"),
    ],
)
def test_bad_options_are_refused_by_name(options: dict[str, Any], field: str) -> None:
    """Each bad option raises ValidationFailed naming it."""
    with pytest.raises(ValidationFailed) as caught:
        find_gaps(desk_tickets(), password_index(), **options)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("tickets", "field"),
    [
        ("T-101", "tickets"),
        (42, "tickets"),
        ([INVOICES[0], {"id": "T-9"}], "tickets[1]"),
        ([INVOICES[0], LOGINS[0], INVOICES[0]], "tickets[2]"),
    ],
)
def test_bad_tickets_are_refused(tickets: Any, field: str) -> None:
    """Not an iterable, not a ticket, or the same id twice: refused with the position."""
    with pytest.raises(ValidationFailed) as caught:
        find_gaps(tickets, password_index())
    assert caught.value.field == field


def test_an_index_without_search_is_refused() -> None:
    """The index must have a search method."""
    with pytest.raises(ValidationFailed) as caught:
        find_gaps(desk_tickets(), object())  # type: ignore[arg-type]
    assert caught.value.field == "index"


# -- properties -------------------------------------------------------------------------

_PHRASES = (
    "Cannot download invoice",
    "invoice PDF is blank",
    "refund not received",
    "where is my refund",
    "forgot my password",
    "reset password link expired",
    "无法登录账户",
    "登录失败",
    "退款还没到账",
    "发票下载不了",
    "App 闪退",
    "refund 还没到账",
    "",
)
_STATUSES = tuple(TicketStatus)
_INDEX = password_index()
_INDEX.add(published("kb-refund", "Refund not received", "Refunds reach your card in 5 days."))


@st.composite
def ticket_lists(draw: st.DrawFn) -> list[Ticket]:
    """Up to 25 tickets made of the phrases above, in any status, ids unique."""
    count = draw(st.integers(0, 25))
    made = []
    for i in range(count):
        subject = draw(st.sampled_from(_PHRASES))
        body = " ".join(draw(st.lists(st.sampled_from(_PHRASES), max_size=3)))
        made.append(ticket(f"t-{i}", subject, body, draw(st.sampled_from(_STATUSES))))
    return made


def _uncovered(report: GapReport) -> list[str]:
    return reported_ids(report)


@PROPERTY
@given(
    tickets=ticket_lists(),
    threshold=st.floats(0, 1),
    similarity=st.floats(0, 1),
    min_cluster=st.integers(1, 4),
    examples=st.integers(1, 4),
)
def test_every_uncovered_ticket_is_listed_exactly_once(
    tickets: Sequence[Ticket], threshold: float, similarity: float, min_cluster: int, examples: int
) -> None:
    """Clusters and singletons partition the uncovered tickets; the counts add up."""
    report = find_gaps(
        tickets,
        _INDEX,
        threshold=threshold,
        similarity=similarity,
        min_cluster=min_cluster,
        examples=examples,
    )
    listed = _uncovered(report)
    assert len(listed) == len(set(listed)) == report.uncovered
    assert report.uncovered == report.clustered + len(report.singletons)
    assert report.clustered == sum(c.count for c in report.clusters)
    resolved = [t for t in tickets if t.status in (TicketStatus.RESOLVED, TicketStatus.CLOSED)]
    assert report.examined == len(resolved)
    assert set(listed) <= {t.id for t in resolved}
    assert [c.count for c in report.clusters] == sorted(
        (c.count for c in report.clusters), reverse=True
    )
    for cluster in report.clusters:
        assert cluster.count >= min_cluster
        shown = [e.ticket_id for e in cluster.examples]
        assert len(shown) == len(set(shown)) == min(examples, cluster.count)
        assert set(shown) <= set(cluster.ticket_ids)
        assert cluster.best_score < threshold or cluster.best_article_id is None
    assert report.omitted_clusters == 0


@PROPERTY
@given(tickets=ticket_lists(), low=st.floats(0, 1), high=st.floats(0, 1))
def test_raising_the_threshold_never_uncovers_fewer_tickets(
    tickets: Sequence[Ticket], low: float, high: float
) -> None:
    """Every ticket uncovered at a threshold stays uncovered at a higher one."""
    low, high = sorted((low, high))
    at_low = find_gaps(tickets, _INDEX, threshold=low)
    at_high = find_gaps(tickets, _INDEX, threshold=high)
    assert at_low.uncovered <= at_high.uncovered
    assert set(_uncovered(at_low)) <= set(_uncovered(at_high))


@PROPERTY
@given(tickets=ticket_lists(), similarity=st.floats(0, 1))
def test_the_same_tickets_give_the_same_report(
    tickets: Sequence[Ticket], similarity: float
) -> None:
    """Deterministic: two runs agree, whatever the similarity."""
    first = find_gaps(tickets, _INDEX, similarity=similarity)
    assert find_gaps(iter(tickets), _INDEX, similarity=similarity) == first


def test_thresholds_follow_the_ticket_language() -> None:
    """Chinese tickets are held to the Chinese threshold; one number applies to all."""
    tickets = desk_tickets()

    def uncovered(report: Any) -> set[str]:
        clustered = {t for cluster in report.clusters for t in cluster.ticket_ids}
        return clustered | {single.ticket_id for single in report.singletons}

    no_hit_at_all = uncovered(find_gaps(tickets, password_index(), threshold=0.0))
    strict_zh = find_gaps(tickets, password_index(), threshold={"zh": 1.0, "*": 0.0})
    assert uncovered(strict_zh) == no_hit_at_all | {"T-201", "T-202", "T-203"}
    assert find_gaps(tickets, password_index(), threshold=0.0).as_data()["thresholds"] == {"*": 0.0}
    with pytest.raises(ValidationFailed) as caught:
        find_gaps(tickets, password_index(), threshold={"zh": 2.0})
    assert caught.value.field == "threshold['zh']"
    with pytest.raises(ValidationFailed) as caught:
        find_gaps(tickets, password_index(), threshold={})
    assert caught.value.field == "threshold"
