"""The monthly report: goals judged by hand on small logs, the month's bounds, renderings.

The logs here are built event by event (``ticket.created``, ``ticket.resolved``, survey
answers) so every figure the goals are judged on can be counted by hand.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from supportflow import ValidationFailed
from supportflow.analytics import STAGES
from supportflow.analytics.html import to_html
from supportflow.analytics.markdown import escape, to_markdown
from supportflow.analytics.report import (
    Goals,
    MonthlyReport,
    month_bounds,
    monthly_report,
    report_window,
)
from supportflow.analytics.surges import SurgeSettings
from supportflow.analytics.tables import STAGE_TITLES
from supportflow.models import TicketEvent

MARCH = datetime(2026, 3, 1, tzinfo=UTC)


class Log:
    """A time-ordered event log built ticket by ticket."""

    def __init__(self) -> None:
        self.events: list[TicketEvent] = []
        self.count = 0

    def ticket(
        self,
        created: datetime,
        *,
        resolve_after: timedelta | None = None,
        team: str = "billing",
        complaint: str | None = None,
        category: str = "billing",
        csat: int | None = None,
        nps: int | None = None,
    ) -> str:
        self.count += 1
        tid = f"t{self.count:05d}"
        snapshot = {
            "customer_id": "c1",
            "channel": "email",
            "team_id": team,
            "category": category,
            "complaint_category": complaint,
            "status": "new",
        }
        self._add(created, tid, 1, "ticket.created", {"ticket": snapshot})
        if resolve_after is not None:
            resolved = created + resolve_after
            changes = {"status": "resolved", "resolved_at": resolved.isoformat()}
            self._add(resolved, tid, 2, "ticket.resolved", {"changes": changes})
            if csat is not None or nps is not None:
                answer = {
                    "response": {"csat": csat, "nps": nps},
                    "context": {"team_id": team, "channel": "email", "category": category},
                }
                self._add(
                    resolved + timedelta(minutes=5), tid, 3, "feedback.survey_answered", answer
                )
        return tid

    def _add(self, at: datetime, tid: str, seq: int, kind: str, data: dict[str, Any]) -> None:
        self.events.append(
            TicketEvent.model_construct(
                id=f"{tid}#{seq}", ticket_id=tid, seq=seq, type=kind, at=at, actor="x", data=data
            )
        )

    def sorted(self) -> list[TicketEvent]:
        return sorted(self.events, key=lambda e: (e.at, e.ticket_id, e.seq))


def report_of(log: Log, **kwargs: Any) -> MonthlyReport:
    return monthly_report(log.sorted(), month="2026-03", **kwargs)


def goal(report: MonthlyReport, name: str) -> Any:
    return next(g for g in report.goals if g.name == name)


def test_goals_met_on_a_month_counted_by_hand() -> None:
    log = Log()
    # February: 10 complaints. March: 7 complaints (down 30%), 20 tickets in all.
    for n in range(10):
        log.ticket(datetime(2026, 2, 2 + n, 10, tzinfo=UTC), complaint="product_quality")
    for n in range(20):
        log.ticket(
            MARCH + timedelta(days=n, hours=9),
            resolve_after=timedelta(hours=2 if n < 18 else 30),  # 18 of 20 within 24 h
            complaint="service_attitude" if n < 7 else None,
            csat=5 if n < 18 else 2,  # 18 of 20 satisfied: 90%
            nps=10 if n < 10 else (8 if n < 15 else 3),  # 10 promoters, 5 detractors
        )
    report = report_of(log)
    csat = goal(report, "csat")
    assert (csat.actual, csat.met) == (90.0, True)
    within = goal(report, "resolution_within")
    assert (within.actual, within.met) == (0.9, True)
    complaints = goal(report, "complaint_reduction")
    assert complaints.actual == pytest.approx(-0.3)
    assert complaints.met is True
    assert report.previous_complaints == {"product_quality": 10}
    assert report.metrics.total.nps.value == pytest.approx(25.0)


def test_goals_missed_and_without_data() -> None:
    log = Log()
    log.ticket(datetime(2026, 2, 20, tzinfo=UTC), complaint="other")
    log.ticket(MARCH + timedelta(hours=1), complaint="other", resolve_after=timedelta(hours=25))
    log.ticket(MARCH + timedelta(hours=2), complaint="other")
    report = report_of(log)
    assert goal(report, "csat").met is None  # no survey answers
    assert goal(report, "csat").actual is None
    assert goal(report, "resolution_within").met is False  # 0 of 1 within 24 h
    assert goal(report, "complaint_reduction").met is False  # 2 against 1: +100%
    assert report.complaint_change == pytest.approx(1.0)
    quiet = report_of(Log())
    assert [g.met for g in quiet.goals] == [None, None, None]


def test_goals_can_be_set_by_the_host() -> None:
    log = Log()
    for n in range(10):
        log.ticket(MARCH + timedelta(hours=n), resolve_after=timedelta(hours=30), csat=4)
    strict = report_of(log, goals=Goals(csat_at_least=100.0, resolution_within=timedelta(days=2)))
    assert goal(strict, "csat").met is True
    assert goal(strict, "resolution_within").met is True
    assert strict.metrics.resolution_goal == timedelta(days=2)
    assert "100%" in goal(strict, "csat").target


def test_month_bounds_run_midnight_to_midnight_in_the_zone() -> None:
    previous, start, end = month_bounds("2026-01", "Asia/Shanghai")
    shanghai = ZoneInfo("Asia/Shanghai")
    assert previous == datetime(2025, 12, 1, tzinfo=shanghai)
    assert start == datetime(2026, 1, 1, tzinfo=shanghai)
    assert end == datetime(2026, 2, 1, tzinfo=shanghai)
    assert month_bounds("2026-12")[2] == datetime(2027, 1, 1, tzinfo=ZoneInfo("UTC"))
    # A month with the change to summer time is an hour short of its days.
    _, start, end = month_bounds("2026-03", "Europe/Berlin")
    assert (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() == 31 * 86400 - 3600


def test_the_window_reaches_back_for_the_previous_month_and_the_baseline() -> None:
    first, end = report_window("2026-03")
    assert end == datetime(2026, 4, 1, tzinfo=ZoneInfo("UTC"))
    assert first <= datetime(2026, 2, 1, tzinfo=ZoneInfo("UTC"))
    assert first <= datetime(2026, 3, 1, tzinfo=ZoneInfo("UTC")) - SurgeSettings().lookback


def test_events_of_the_month_before_only_count_as_the_previous_month() -> None:
    log = Log()
    log.ticket(datetime(2026, 2, 27, tzinfo=UTC), resolve_after=timedelta(days=3), csat=5)
    report = report_of(log)
    total = report.metrics.total
    assert total.volume == 0
    assert total.resolution.count == 1  # resolved on March 2: counted in March
    assert total.feedback.csat_n == 1


def test_a_surge_is_reported_with_its_evidence() -> None:
    log = Log()
    # Four quiet weeks of one shipping ticket an hour, then 40 in one hour.
    for hour in range(24 * 7 * 8):
        at = datetime(2026, 2, 1, tzinfo=UTC) + timedelta(hours=hour, minutes=7)
        log.ticket(at, category="shipping")
    burst = datetime(2026, 3, 20, 14, tzinfo=UTC)
    for n in range(40):
        log.ticket(burst + timedelta(seconds=60 * n + 30), category="shipping")
    report = report_of(log)
    keys = {(s.key, s.start) for s in report.surges}
    assert ("shipping", burst) in keys
    assert all(s.key == "shipping" for s in report.surges)
    data = json.loads(report.to_json())
    assert data["surges"][0]["key"] == "shipping"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"month": "2026-13"}, "month"),
        ({"month": "March"}, "month"),
        ({"month": "2026-03", "timezone": "Mars/Olympus"}, "timezone"),
        ({"month": "2026-03", "timezone": ""}, "timezone"),
        ({"month": "2026-03", "goals": {"csat_at_least": 90}}, "goals"),
        ({"month": "2026-03", "surge_settings": None}, "surge_settings"),
        ({"month": "2026-03", "group_by": ("shoe",)}, "group_by"),
    ],
)
def test_bad_arguments_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        monthly_report([], **kwargs)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"csat_at_least": 120.0}, "goals.csat_at_least"),
        ({"resolution_within": timedelta(0)}, "goals.resolution_within"),
        ({"resolution_share": 0.0}, "goals.resolution_share"),
        ({"complaint_reduction": 1.0}, "goals.complaint_reduction"),
    ],
)
def test_bad_goals_name_the_field(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as raised:
        Goals(**kwargs)
    assert raised.value.field == field


def test_events_must_be_an_iterable() -> None:
    with pytest.raises(ValidationFailed) as raised:
        monthly_report("events", month="2026-03")  # type: ignore[arg-type]
    assert raised.value.field == "events"


# -- renderings --------------------------------------------------------------------------

HOSTILE = '<script>alert("x")</script> | *bold* & co'


@pytest.fixture
def rich() -> MonthlyReport:
    """A month with two teams (one named to break markup), complaints and survey answers."""
    log = Log()
    for n in range(30):
        log.ticket(
            MARCH + timedelta(days=n % 28, hours=9 + n % 5),
            resolve_after=timedelta(hours=1 + n % 7),
            team=HOSTILE if n % 2 else "billing",
            complaint="product_quality" if n % 4 == 0 else None,
            csat=1 + n % 5,
            nps=n % 11,
        )
    return report_of(log)


def test_json_holds_every_section(rich: MonthlyReport) -> None:
    data = json.loads(rich.to_json())
    assert set(data) >= {"month", "goals", "metrics", "surges", "previous_complaints"}
    assert data["metrics"]["total"]["volume"] == 30
    assert [g["name"] for g in data["goals"]] == [
        "csat",
        "resolution_within",
        "complaint_reduction",
    ]
    assert data["metrics"]["groups"]["team"][HOSTILE]["volume"] == 15
    assert data["metrics"]["total"]["stages"]["first_reply"]["tickets"] == 0


def test_markdown_escapes_host_text_and_has_each_section(rich: MonthlyReport) -> None:
    text = to_markdown(rich)
    for heading in ("# Support report: 2026-03", "## Goals", "## Bottlenecks", "## Surges"):
        assert heading in text
    assert "## By team" in text
    assert "<script>" not in text
    team_rows = [line for line in text.splitlines() if "alert" in line]
    assert team_rows
    for row in team_rows:  # the name's "|" does not add a cell
        assert row.count("|") - row.count("\\|") == 10
    assert escape("a|b *c*\nd") == "a\\|b \\*c\\* d"


def test_html_is_self_contained_and_balanced(
    rich: MonthlyReport, html_tags: Callable[[str], dict[str, int]]
) -> None:
    page = to_html(rich)
    seen = html_tags(page)
    assert "script" not in seen  # the hostile team name stayed text
    assert "&lt;script&gt;" in page
    assert seen["svg"] >= 4  # backlog, stages by team, complaints, CSAT by team
    for forbidden in ("http://", "https://", "src=", "<link"):
        assert forbidden not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    for chart in page.split("<svg")[1:]:
        ET.fromstring("<svg" + chart.split("</svg>")[0] + "</svg>")  # each chart is XML


def test_html_without_data_still_renders() -> None:
    page = to_html(report_of(Log()))
    assert "No surges" in page
    assert "<table" in page


def test_every_stage_has_a_title() -> None:
    assert tuple(STAGE_TITLES) == STAGES
