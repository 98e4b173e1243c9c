"""SlaPolicy: loading, validation, precedence, explain, the default policy, and properties."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import product
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportflow.errors import SupportflowError, ValidationFailed
from supportflow.models import (
    Channel,
    ComplaintCategory,
    CustomerTier,
    Priority,
    Ticket,
    TicketEvent,
    TicketStatus,
    event_id,
)
from supportflow.sla.calendar import WEEKDAYS, BusinessCalendar, CalendarSpec
from supportflow.sla.clock import SlaClock
from supportflow.sla.policy import (
    ALWAYS_OPEN,
    DEFAULT_TIER_TERMS,
    Conditions,
    EscalationStep,
    MetricSettings,
    SlaMetric,
    SlaPolicy,
    Target,
    TicketFacts,
    TierTerms,
    default_policy,
)
from supportflow.testing.strategies import sla_policies

SH = ZoneInfo("Asia/Shanghai")
FR, ACK, NR, RES = (
    SlaMetric.FIRST_RESPONSE,
    SlaMetric.ACKNOWLEDGEMENT,
    SlaMetric.NEXT_RESPONSE,
    SlaMetric.RESOLUTION,
)
H = timedelta(hours=1)
M = timedelta(minutes=1)
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# 2025-03-03 is a Monday; 2025-03-07 a Friday, 2025-03-08 a Saturday.


def sh(day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An instant in March 2025, Shanghai time."""
    return datetime(2025, 3, day, hour, minute, tzinfo=SH)


def office(**extra: Any) -> CalendarSpec:
    """Mon-Fri 09:00-12:00 and 13:00-18:00 in Shanghai, plus ``extra`` spec fields."""
    weekly = dict.fromkeys(WEEKDAYS[:5], ("09:00-12:00", "13:00-18:00"))
    return CalendarSpec.model_validate({"timezone": "Asia/Shanghai", "weekly": weekly, **extra})


def minimal_policy(**extra: Any) -> dict[str, Any]:
    """A valid policy as plain data, with ``extra`` top-level fields replacing its own."""
    return {
        "calendars": {"business": {"timezone": "UTC", "weekly": {"mon": ["09:00-17:00"]}}},
        "rules": [{"name": "all", "targets": {"first_response": "1h"}}],
        **extra,
    }


def rules(*found: dict[str, Any]) -> dict[str, Any]:
    return minimal_policy(rules=list(found))


def one_metric(**settings_: Any) -> dict[str, Any]:
    return minimal_policy(metrics={"resolution": settings_})


# -- loading ----------------------------------------------------------------------------

ACME_TOML = """
name = "acme"

[calendars.business]
timezone = "Asia/Shanghai"
weekly = { mon = ["09:00-12:00", "13:00-18:00"], tue = ["09:00-18:00"] }

[[rules]]
name = "vip"
when = { tier = "vip" }
targets = { first_response = "15m" }

[[rules]]
name = "hot"
when = { priority = ["urgent", "high"], complaint = false }
targets.first_response = { within = "PT30M", calendar = "24x7" }
targets.resolution = { within = 14400, calendar = "24x7" }

[[rules]]
name = "standard"
targets = { first_response = "1h30m", acknowledgement = "45m", resolution = "24h" }

[metrics.resolution]
pause_in = "on_hold"
warn_at = [0.5, 0.9]
escalation = [{ after = 0 }, { after = "2h" }]
"""


def test_a_policy_loads_from_toml_with_every_duration_spelling() -> None:
    policy = SlaPolicy.from_toml(ACME_TOML)
    assert policy.name == "acme"
    assert policy.calendars["business"].timezone == "Asia/Shanghai"
    vip, hot, standard = policy.rules
    assert vip.when == Conditions(tier=(CustomerTier.VIP,))
    assert vip.targets == {FR: Target(within=15 * M, calendar="business")}
    assert hot.when.priority == (Priority.URGENT, Priority.HIGH)
    assert hot.when.complaint is False
    assert hot.targets == {
        FR: Target(within=30 * M, calendar="24x7"),
        RES: Target(within=4 * H, calendar="24x7"),
    }
    assert standard.when == Conditions()
    assert standard.targets == {
        FR: Target(within=90 * M, calendar="business"),
        ACK: Target(within=45 * M, calendar="business"),
        RES: Target(within=24 * H, calendar="business"),
    }
    assert policy.metrics[RES] == MetricSettings(
        pause_in=(TicketStatus.ON_HOLD,),
        warn_at=(0.5, 0.9),
        escalation=(EscalationStep(after=timedelta(0)), EscalationStep(after=2 * H)),
    )


def test_json_and_toml_describe_the_same_policy() -> None:
    document = {
        "name": "acme",
        "calendars": {
            "business": {
                "timezone": "Asia/Shanghai",
                "weekly": {"mon": ["09:00-12:00", "13:00-18:00"], "tue": ["09:00-18:00"]},
            }
        },
        "rules": [
            {"name": "vip", "when": {"tier": ["vip"]}, "targets": {"first_response": 900}},
            {
                "name": "hot",
                "when": {"priority": ["urgent", "high"], "complaint": False},
                "targets": {
                    "first_response": {"within": "30m", "calendar": "24x7"},
                    "resolution": {"within": "4h", "calendar": "24x7"},
                },
            },
            {
                "name": "standard",
                "targets": {
                    "first_response": "PT1H30M",
                    "acknowledgement": 2700,
                    "resolution": "P1D",
                },
            },
        ],
        "metrics": {
            "resolution": {
                "pause_in": ["on_hold"],
                "warn_at": [0.5, 0.9],
                "escalation": [{"after": "0s"}, {"after": 7200}],
            }
        },
    }
    assert SlaPolicy.from_json(json.dumps(document)) == SlaPolicy.from_toml(ACME_TOML)
    assert SlaPolicy.from_dict(document) == SlaPolicy.from_toml(ACME_TOML)


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("1h30m", 90 * M),
        ("1h 30m", 90 * M),
        ("45m", 45 * M),
        ("90s", timedelta(seconds=90)),
        ("1.5h", 90 * M),
        ("2h0m30s", 2 * H + timedelta(seconds=30)),
        ("PT1H30M", 90 * M),
        ("P2D", 48 * H),
        (5400, 90 * M),
        (2700.5, 45 * M + timedelta(milliseconds=500)),
    ],
)
def test_durations_may_be_written_several_ways(written: object, expected: timedelta) -> None:
    assert Target.model_validate({"within": written, "calendar": "24x7"}).within == expected


def test_a_bare_duration_is_a_target_on_the_business_calendar() -> None:
    assert Target.model_validate("2h") == Target(within=2 * H, calendar="business")
    assert str(Target(within=90 * M, calendar="24x7")) == "1h30m on 24x7"


def test_the_policy_round_trips_through_json() -> None:
    policy = SlaPolicy.from_toml(ACME_TOML)
    assert SlaPolicy.from_json(policy.model_dump_json()) == policy


# -- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "field"),
    [
        pytest.param(
            rules({"name": "a", "targets": {"first_response": {"within": "1h", "calendar": "x"}}}),
            "rules.0.targets.first_response.calendar",
            id="unknown calendar in a target",
        ),
        pytest.param(
            minimal_policy(calendars={"24x7": {}}),
            "calendars",
            id="redefining 24x7",
        ),
        pytest.param(
            rules(
                {"name": "same", "targets": {"first_response": "1h"}},
                {"name": "same", "targets": {"resolution": "1h"}},
            ),
            "rules",
            id="duplicate rule names",
        ),
        pytest.param(
            one_metric(warn_at=[0.9, 0.5]),
            "metrics.resolution.warn_at",
            id="warn_at decreasing",
        ),
        pytest.param(
            one_metric(warn_at=[0.5, 0.5]), "metrics.resolution.warn_at", id="warn_at repeated"
        ),
        pytest.param(one_metric(warn_at=[0]), "metrics.resolution.warn_at", id="warn_at zero"),
        pytest.param(one_metric(warn_at=[1]), "metrics.resolution.warn_at", id="warn_at one"),
        pytest.param(
            one_metric(warn_at=[0.5, 1.5]), "metrics.resolution.warn_at", id="warn_at above one"
        ),
        pytest.param(
            one_metric(warn_at=[-0.1]), "metrics.resolution.warn_at", id="warn_at negative"
        ),
        pytest.param(
            one_metric(escalation=[{"after": "2h"}, {"after": "1h"}]),
            "metrics.resolution.escalation",
            id="ladder decreasing",
        ),
        pytest.param(
            one_metric(escalation=[{"after": 0}, {"after": 0}]),
            "metrics.resolution.escalation",
            id="ladder repeated",
        ),
        pytest.param(
            one_metric(escalation=[{"after": -60}]),
            "metrics.resolution.escalation.0.after",
            id="negative after",
        ),
        pytest.param(
            one_metric(pause_in=["resolved"]), "metrics.resolution.pause_in", id="pause resolved"
        ),
        pytest.param(
            one_metric(pause_in=["on_hold", "closed"]),
            "metrics.resolution.pause_in",
            id="pause closed",
        ),
        pytest.param(
            one_metric(pause_in=["on_hold", "on_hold"]),
            "metrics.resolution.pause_in",
            id="pause twice",
        ),
        pytest.param(minimal_policy(rules=[]), "rules", id="empty rules"),
        pytest.param({"calendars": {}}, "rules", id="no rules"),
        pytest.param(
            rules({"name": "a", "targets": {}}), "rules.0.targets", id="a rule without targets"
        ),
        pytest.param(
            rules({"name": "a", "targets": {"first_response": "0m"}}),
            "rules.0.targets.first_response.within",
            id="zero target",
        ),
        pytest.param(
            rules({"name": "a", "targets": {"resolution": {"within": -60, "calendar": "24x7"}}}),
            "rules.0.targets.resolution.within",
            id="negative target",
        ),
        pytest.param(
            rules({"name": "a", "targets": {"first_responze": "1h"}}),
            "rules.0.targets.first_responze.[key]",
            id="unknown metric",
        ),
        pytest.param(
            rules({"name": "a", "when": {"tier": "gold"}, "targets": {"first_response": "1h"}}),
            "rules.0.when.tier.0",
            id="unknown tier",
        ),
        pytest.param(
            rules({"name": "", "targets": {"first_response": "1h"}}), "rules.0.name", id="no name"
        ),
        pytest.param(minimal_policy(rulez=[]), "rulez", id="unknown field"),
    ],
)
def test_bad_policies_name_the_field(document: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        SlaPolicy.from_dict(document)
    assert info.value.field == field


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (
            rules({"name": "a", "targets": {"first_response": {"within": "1h", "calendar": "x"}}}),
            "unknown calendar 'x' (known: 24x7, business)",
        ),
        (minimal_policy(calendars={"24x7": {}}), "'24x7' is built in"),
        (
            rules(
                {"name": "same", "targets": {"first_response": "1h"}},
                {"name": "same", "targets": {"resolution": "1h"}},
            ),
            "names must be unique (same repeated)",
        ),
    ],
    ids=["unknown calendar", "redefining 24x7", "duplicate rule names"],
)
def test_cross_field_errors_give_the_reason(document: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        SlaPolicy.from_dict(document)
    assert reason in info.value.reason


def test_one_bad_rule_is_reported_once() -> None:
    with pytest.raises(ValidationFailed) as info:
        SlaPolicy.from_dict(rules({"name": "a", "targets": {"first_response": "0m"}}))
    assert [field for field, _ in info.value.errors] == ["rules.0.targets.first_response.within"]


def test_a_bare_duration_needs_a_business_calendar() -> None:
    with pytest.raises(ValidationFailed, match="unknown calendar 'business'"):
        SlaPolicy.from_dict({"rules": [{"name": "a", "targets": {"resolution": "8h"}}]})


def test_bad_toml_is_a_validation_error_on_toml() -> None:
    with pytest.raises(ValidationFailed) as info:
        SlaPolicy.from_toml('name = "unterminated\n[[rules]]')
    assert info.value.field == "toml"
    assert isinstance(info.value, SupportflowError)
    assert isinstance(info.value, ValueError)


def test_bad_json_is_a_validation_error_on_json() -> None:
    with pytest.raises(ValidationFailed) as info:
        SlaPolicy.from_json("{")
    assert info.value.field == "json"


def test_an_unknown_calendar_name_is_refused_by_name() -> None:
    with pytest.raises(ValidationFailed, match="'night'") as info:
        SlaPolicy.from_dict(minimal_policy()).calendar("night")
    assert info.value.field == "calendar"


def test_select_refuses_what_is_not_facts() -> None:
    with pytest.raises(ValidationFailed) as info:
        SlaPolicy.from_dict(minimal_policy()).select("vip")  # type: ignore[arg-type]
    assert info.value.field == "facts"


def test_select_refuses_a_mapping_with_a_validation_error() -> None:
    with pytest.raises(ValidationFailed):
        SlaPolicy.from_dict(minimal_policy()).select({"tier": "vip"})  # type: ignore[arg-type]


# -- precedence and explain --------------------------------------------------------------

LAYERED = SlaPolicy.from_dict(
    {
        "calendars": {"business": office().model_dump(mode="json")},
        "rules": [
            {"name": "vip", "when": {"tier": "vip"}, "targets": {"first_response": "15m"}},
            {
                "name": "hot",
                "when": {"priority": ["urgent", "high"]},
                "targets": {
                    "first_response": {"within": "30m", "calendar": "24x7"},
                    "resolution": {"within": "4h", "calendar": "24x7"},
                },
            },
            {
                "name": "billing complaints",
                "when": {"category": "billing", "complaint": True},
                "targets": {"resolution": "48h"},
            },
            {"name": "standard", "targets": {"first_response": "1h", "resolution": "24h"}},
        ],
    }
)


def chosen(policy: SlaPolicy, **facts: Any) -> dict[SlaMetric, tuple[str, Target]]:
    return {m: (s.rule, s.target) for m, s in policy.select(TicketFacts(**facts)).items()}


def test_the_first_matching_rule_wins_each_metric() -> None:
    """An urgent VIP ticket: VIP's first response (rule 1), urgent's resolution (rule 2)."""
    found = chosen(LAYERED, tier=CustomerTier.VIP, priority=Priority.URGENT)
    assert found == {
        FR: ("vip", Target(within=15 * M)),
        RES: ("hot", Target(within=4 * H, calendar="24x7")),
    }


def test_later_rules_fill_the_metrics_earlier_ones_leave_unset() -> None:
    found = chosen(LAYERED, tier=CustomerTier.VIP)
    assert found == {FR: ("vip", Target(within=15 * M)), RES: ("standard", Target(within=24 * H))}
    found = chosen(LAYERED, category="billing", complaint=True)
    assert found == {
        FR: ("standard", Target(within=H)),
        RES: ("billing complaints", Target(within=48 * H)),
    }


def test_a_rule_applies_only_when_every_condition_holds() -> None:
    assert chosen(LAYERED, category="billing")[RES][0] == "standard"
    assert chosen(LAYERED, complaint=True, category="service")[RES][0] == "standard"


def test_metrics_no_rule_sets_are_uncovered() -> None:
    explanation = LAYERED.explain(TicketFacts())
    assert explanation.uncovered == (ACK, NR)
    assert "acknowledgement: no commitment" in str(explanation)


def test_explain_names_the_rule_the_conditions_and_the_passed_over_rules() -> None:
    facts = TicketFacts(
        tier=CustomerTier.KEY, priority=Priority.HIGH, category="billing", complaint=True
    )
    explanation = LAYERED.explain(facts)
    first = explanation.selections[FR]
    assert (first.rule, first.rule_number) == ("hot", 2)
    assert first.because == ("priority is high",)
    assert first.passed_over == (("vip", "tier is key, not vip"),)
    resolution = explanation.selections[RES]
    assert (resolution.rule, resolution.rule_number) == ("hot", 2)
    text = str(explanation)
    assert "first_response: 30m on 24x7, rule 'hot' (#2): priority is high" in text
    assert "passed over 'vip': tier is key, not vip" in text


def test_explain_gives_each_failed_condition_as_the_reason() -> None:
    explanation = LAYERED.explain(TicketFacts(category=None, complaint=False))
    resolution = explanation.selections[RES]
    assert resolution.rule == "standard"
    assert resolution.because == ()
    assert resolution.passed_over == (
        ("hot", "priority is normal, not urgent or high"),
        ("billing complaints", "category is none, not billing; ticket is not a complaint"),
    )
    assert "rule 'standard' (#4): applies to every ticket" in str(explanation)


def test_ticket_facts_are_read_from_the_ticket() -> None:
    at = sh(3, 10)
    ticket = Ticket(
        id="t-1",
        channel=Channel.CHAT,
        customer_id="c-1",
        subject="s",
        body="b",
        category="billing",
        complaint_category=ComplaintCategory.SERVICE_ATTITUDE,
        priority=Priority.HIGH,
        team_id="team-1",
        created_at=at,
        updated_at=at,
    )
    assert TicketFacts.of(ticket, CustomerTier.KEY) == TicketFacts(
        tier=CustomerTier.KEY,
        priority=Priority.HIGH,
        channel=Channel.CHAT,
        category="billing",
        complaint=True,
        team_id="team-1",
    )


def test_unconfigured_metrics_use_the_documented_settings() -> None:
    policy = SlaPolicy.from_dict(minimal_policy())
    assert policy.settings(RES).pause_in == (TicketStatus.WAITING_ON_CUSTOMER,)
    assert policy.settings(FR).pause_in == ()
    assert policy.settings(FR).warn_at == (0.75, 0.9)
    assert policy.settings(FR).escalation == (EscalationStep(after=timedelta(0)),)


# -- the default policy -----------------------------------------------------------------

DEFAULT = default_policy(office())
BUSINESS, DAYS, ALWAYS = "business", "working_days", "24x7"

# The tables in default_policy's docstring, row by row: the rules' targets, and what the vip
# and key tier terms make of the standard rule's ("vip") and the urgent rule's ("urgent vip").
EXPECTED: dict[str, dict[SlaMetric, Target]] = {
    "urgent": {
        FR: Target(within=30 * M, calendar=ALWAYS),
        ACK: Target(within=15 * M, calendar=ALWAYS),
        NR: Target(within=30 * M, calendar=ALWAYS),
        RES: Target(within=24 * H, calendar=ALWAYS),
    },
    "vip": {
        FR: Target(within=15 * M, calendar=BUSINESS),
        ACK: Target(within=10 * M, calendar=BUSINESS),
        NR: Target(within=30 * M, calendar=BUSINESS),
        RES: Target(within=12 * H, calendar=DAYS),
    },
    "key": {
        FR: Target(within=30 * M, calendar=BUSINESS),
        ACK: Target(within=15 * M, calendar=BUSINESS),
        NR: Target(within=60 * M, calendar=BUSINESS),
        RES: Target(within=18 * H, calendar=DAYS),
    },
    "standard": {
        FR: Target(within=60 * M, calendar=BUSINESS),
        ACK: Target(within=30 * M, calendar=BUSINESS),
        NR: Target(within=4 * H, calendar=BUSINESS),
        RES: Target(within=24 * H, calendar=DAYS),
    },
    "urgent vip": {
        FR: Target(within=15 * M, calendar=ALWAYS),
        ACK: Target(within=10 * M, calendar=ALWAYS),
        NR: Target(within=30 * M, calendar=ALWAYS),
        RES: Target(within=12 * H, calendar=ALWAYS),
    },
    "urgent key": {
        FR: Target(within=30 * M, calendar=ALWAYS),
        ACK: Target(within=15 * M, calendar=ALWAYS),
        NR: Target(within=30 * M, calendar=ALWAYS),
        RES: Target(within=18 * H, calendar=ALWAYS),
    },
}


@pytest.mark.parametrize(
    ("tier", "priority", "complaint", "row", "resolution"),
    [
        (CustomerTier.REGULAR, Priority.NORMAL, False, "standard", None),
        (CustomerTier.PROSPECT, Priority.LOW, False, "standard", None),
        (
            CustomerTier.REGULAR,
            Priority.HIGH,
            True,
            "standard",
            Target(within=48 * H, calendar=DAYS),
        ),
        (CustomerTier.VIP, Priority.NORMAL, False, "vip", None),
        (CustomerTier.VIP, Priority.NORMAL, True, "vip", None),
        (CustomerTier.KEY, Priority.HIGH, True, "key", None),
        (CustomerTier.REGULAR, Priority.URGENT, True, "urgent", None),
        (CustomerTier.PROSPECT, Priority.URGENT, False, "urgent", None),
        # Faster than before tier terms: the urgent rule's targets, shortened by the tier's.
        (CustomerTier.VIP, Priority.URGENT, False, "urgent vip", None),
        (CustomerTier.KEY, Priority.URGENT, True, "urgent key", None),
    ],
)
def test_the_default_policy_follows_its_table(
    tier: CustomerTier, priority: Priority, complaint: bool, row: str, resolution: Target | None
) -> None:
    found = {
        m: s.target
        for m, s in DEFAULT.select(TicketFacts(tier, priority, complaint=complaint)).items()
    }
    expected = dict(EXPECTED[row])
    if resolution is not None:
        expected[RES] = resolution
    assert found == expected


def test_the_default_policy_settings() -> None:
    for metric in (FR, ACK, NR):
        assert DEFAULT.settings(metric) == MetricSettings(
            escalation=(EscalationStep(after=timedelta(0)), EscalationStep(after=H))
        )
    assert DEFAULT.settings(RES) == MetricSettings(
        pause_in=(TicketStatus.WAITING_ON_CUSTOMER,),
        warn_at=(0.75, 0.9),
        escalation=(EscalationStep(after=timedelta(0)), EscalationStep(after=4 * H)),
    )


def due(policy: SlaPolicy, facts: TicketFacts, metric: SlaMetric, start: datetime) -> datetime:
    target = policy.select(facts).get(metric)
    assert target is not None
    return policy.calendar(target.target.calendar).add(start, target.target.within)


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (sh(3, 10), sh(3, 11)),
        (sh(3, 11, 30), sh(3, 13, 30)),  # the lunch break does not count
        (sh(3, 17, 30), sh(4, 9, 30)),  # the night does not count
        (sh(7, 17, 30), sh(10, 9, 30)),  # nor the weekend
        (sh(8, 10), sh(10, 10)),  # a Saturday request starts on Monday morning
    ],
)
def test_regular_first_response_is_one_business_hour(start: datetime, expected: datetime) -> None:
    assert due(DEFAULT, TicketFacts(), FR, start) == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (sh(8, 3), sh(8, 3, 30)),  # Saturday night
        (sh(3, 17, 45), sh(3, 18, 15)),  # past the end of the working day
    ],
)
def test_urgent_first_response_is_thirty_minutes_around_the_clock(
    start: datetime, expected: datetime
) -> None:
    found = due(DEFAULT, TicketFacts(priority=Priority.URGENT), FR, start)
    assert found.astimezone(UTC) == expected.astimezone(UTC)


def test_vip_and_key_first_responses_are_faster() -> None:
    start = sh(3, 17, 30)
    assert due(DEFAULT, TicketFacts(tier=CustomerTier.VIP), FR, start) == sh(3, 17, 45)
    assert due(DEFAULT, TicketFacts(tier=CustomerTier.KEY), FR, start) == sh(3, 18)


# -- whole working days -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "start", "hours", "expected"),
    [
        pytest.param(office(), sh(7, 15), 24, sh(10, 15), id="Friday to Monday"),
        pytest.param(office(), sh(3, 15), 24, sh(4, 15), id="Monday to Tuesday"),
        pytest.param(office(), sh(7, 15), 48, sh(11, 15), id="complaint, Friday to Tuesday"),
        pytest.param(office(), sh(7, 15), 12, sh(10, 3), id="VIP, Friday to early Monday"),
        pytest.param(office(), sh(8, 10), 24, sh(11, 0), id="Saturday starts on Monday"),
        pytest.param(
            office(holidays=[{"date": "2025-03-10"}]),
            sh(7, 15),
            24,
            sh(11, 15),
            id="Monday holiday skipped",
        ),
        pytest.param(
            office(holidays=[{"date": "2025-03-10", "closed": ["13:00-18:00"]}]),
            sh(7, 15),
            24,
            sh(10, 15),
            id="a half-day closure is still a working day",
        ),
        pytest.param(
            office(working_days=[{"date": "2025-03-08"}]),
            sh(7, 15),
            24,
            sh(8, 15),
            id="make-up Saturday counts",
        ),
    ],
)
def test_of_working_days_counts_whole_working_days(
    spec: CalendarSpec, start: datetime, hours: int, expected: datetime
) -> None:
    policy = default_policy(spec)
    assert policy.calendar("working_days").add(start, hours * H) == expected


def test_the_regular_resolution_clock_falls_due_on_monday_afternoon() -> None:
    """From Friday 15:00 the clock of a created ticket runs to Monday 15:00."""
    at = sh(7, 15)
    ticket = Ticket(
        id="t-1",
        channel="email",
        customer_id="c",
        subject="s",
        body="b",
        created_at=at,
        updated_at=at,
    )
    created = TicketEvent(
        id=event_id("t-1", 1),
        ticket_id="t-1",
        seq=1,
        type="ticket.created",
        at=at,
        actor="customer:c",
        data={"ticket": ticket.model_dump(mode="json")},
    )
    clock = SlaClock.replay(DEFAULT, [created])
    assert clock.due_at(RES) == sh(10, 15)
    assert clock.due_at(FR) == sh(7, 16)


def test_the_default_policy_takes_a_built_calendar() -> None:
    assert default_policy(BusinessCalendar(office())) == DEFAULT
    with pytest.raises(ValidationFailed) as info:
        default_policy("Asia/Shanghai")  # type: ignore[arg-type]
    assert info.value.field == "calendar"


def test_vip_targets_are_never_longer_than_regular_ones() -> None:
    """Every combination of the other facts but the phone: VIP <= key <= regular, same calendar."""
    for priority, channel, category, complaint, team in product(
        Priority, set(Channel) - {Channel.PHONE}, (None, "billing"), (False, True), (None, "team-1")
    ):
        picked = {
            tier: DEFAULT.select(TicketFacts(tier, priority, channel, category, complaint, team))
            for tier in (CustomerTier.VIP, CustomerTier.KEY, CustomerTier.REGULAR)
        }
        for metric in SlaMetric:
            vip, key, regular = (picked[t][metric].target for t in picked)
            assert vip.calendar == key.calendar == regular.calendar
            assert vip.within <= key.within <= regular.within, (priority, complaint, metric)


# -- properties on random policies --------------------------------------------------------

facts_st = st.builds(
    TicketFacts,
    tier=st.sampled_from(CustomerTier),
    priority=st.sampled_from(Priority),
    channel=st.sampled_from(Channel),
    category=st.none() | st.sampled_from(("billing", "technical", "service", "sales")),
    complaint=st.booleans(),
    team_id=st.none() | st.sampled_from(("team-1", "team-2", "team-9")),
)


def holds(when: Conditions, facts: TicketFacts) -> bool:
    """An independent reading of Conditions: every given condition holds."""
    return (
        (not when.tier or facts.tier in when.tier)
        and (not when.priority or facts.priority in when.priority)
        and (not when.channel or facts.channel in when.channel)
        and (not when.category or facts.category in when.category)
        and (not when.team or facts.team_id in when.team)
        and (when.complaint is None or when.complaint == facts.complaint)
    )


@PROPERTY
@given(sla_policies(covering=False), facts_st)
def test_selection_is_deterministic(policy: SlaPolicy, facts: TicketFacts) -> None:
    first = policy.select(facts)
    assert policy.select(facts) == first
    fresh = SlaPolicy.from_json(policy.model_dump_json())
    assert fresh.select(facts) == first
    assert str(fresh.explain(facts)) == str(policy.explain(facts))


@PROPERTY
@given(sla_policies(covering=False), facts_st)
def test_each_metric_takes_the_first_rule_that_matches_and_sets_it(
    policy: SlaPolicy, facts: TicketFacts
) -> None:
    selections = policy.select(facts)
    for metric in SlaMetric:
        setting = [(n, r) for n, r in enumerate(policy.rules, start=1) if metric in r.targets]
        matching = [(n, r) for n, r in setting if holds(r.when, facts)]
        if not matching:
            assert metric not in selections
            assert metric in policy.explain(facts).uncovered
            continue
        number, rule = matching[0]
        selection = selections[metric]
        assert (selection.rule, selection.rule_number) == (rule.name, number)
        assert selection.target == rule.targets[metric]
        assert [name for name, _ in selection.passed_over] == [
            r.name for n, r in setting if n < number
        ]


@PROPERTY
@given(sla_policies(), facts_st)
def test_covering_policies_select_every_metric_once(policy: SlaPolicy, facts: TicketFacts) -> None:
    selections = policy.select(facts)
    assert list(selections) == list(SlaMetric)
    for metric, selection in selections.items():
        rule = policy.rules[selection.rule_number - 1]
        assert holds(rule.when, facts)
        assert not any(
            metric in earlier.targets and holds(earlier.when, facts)
            for earlier in policy.rules[: selection.rule_number - 1]
        )


@PROPERTY
@given(facts_st)
def test_the_default_policy_covers_every_ticket(facts: TicketFacts) -> None:
    assert DEFAULT.explain(facts).uncovered == ()


@pytest.mark.parametrize(
    ("written", "meant"), [("5400", timedelta(minutes=90)), (5400, timedelta(minutes=90))]
)
def test_seconds_may_be_written_as_text_or_a_number(written: Any, meant: timedelta) -> None:
    assert Target.model_validate({"within": written, "calendar": "24x7"}).within == meant


@pytest.mark.parametrize("written", [True, False])
def test_a_boolean_is_not_a_duration(written: bool) -> None:
    with pytest.raises(ValidationFailed) as info:
        Target.model_validate({"within": written})
    assert info.value.field == "within"


# -- tier terms ---------------------------------------------------------------------------

OFFICE_POLICY = {
    "calendars": {"business": office().model_dump(mode="json")},
    "rules": [
        {"name": "vip rule", "when": {"tier": "vip"}, "targets": {"first_response": "20m"}},
        {"name": "standard", "targets": {"first_response": "1h", "resolution": "24h"}},
    ],
}

TIERS_TOML = """
[calendars.business]
timezone = "Asia/Shanghai"
weekly = { mon = ["09:00-18:00"] }

[[rules]]
name = "standard"
targets = { first_response = "1h", acknowledgement = "30m", resolution = "24h" }

[tiers.vip]
targets = { first_response = "15m", resolution = "12h" }
around_the_clock = "phone"

[tiers.key]
multiplier = 0.75
"""


def test_the_default_policy_speaks_of_tiers_only_through_its_terms() -> None:
    """One source of truth: no rule names a tier; the terms are the documented ones."""
    assert all(not rule.when.tier for rule in DEFAULT.rules)
    assert [rule.name for rule in DEFAULT.rules] == ["urgent", "complaint", "standard"]
    assert DEFAULT.tiers == DEFAULT_TIER_TERMS
    assert set(DEFAULT.tiers) == {CustomerTier.VIP, CustomerTier.KEY}


def test_tier_terms_load_from_toml() -> None:
    policy = SlaPolicy.from_toml(TIERS_TOML)
    assert policy.tiers[CustomerTier.VIP] == TierTerms(
        targets={FR: 15 * M, RES: 12 * H}, around_the_clock=(Channel.PHONE,)
    )
    assert policy.tiers[CustomerTier.KEY].multiplier == 0.75
    assert SlaPolicy.from_json(policy.model_dump_json()) == policy


def test_explicit_targets_and_multipliers_shorten_the_rules_targets() -> None:
    policy = SlaPolicy.from_toml(TIERS_TOML)
    vip = chosen(policy, tier=CustomerTier.VIP)
    assert vip == {
        FR: ("standard", Target(within=15 * M)),
        ACK: ("standard", Target(within=30 * M)),  # no explicit target, multiplier 1
        RES: ("standard", Target(within=12 * H)),
    }
    key = chosen(policy, tier=CustomerTier.KEY)
    assert key == {
        FR: ("standard", Target(within=45 * M)),
        ACK: ("standard", Target(within=22 * M + 30 * timedelta(seconds=1))),
        RES: ("standard", Target(within=18 * H)),
    }
    assert chosen(policy, tier=CustomerTier.REGULAR) == {
        FR: ("standard", Target(within=H)),
        ACK: ("standard", Target(within=30 * M)),
        RES: ("standard", Target(within=24 * H)),
    }


def test_terms_never_lengthen_a_target() -> None:
    terms = TierTerms(targets={FR: 2 * H}, multiplier=0.5)
    assert terms.shorten(FR, H) == H
    assert terms.shorten(RES, timedelta(seconds=1)) == timedelta(seconds=1)
    assert terms.shorten(RES, 3 * timedelta(seconds=1)) == 2 * timedelta(seconds=1)


def test_the_hotline_runs_the_responses_of_phone_tickets_around_the_clock() -> None:
    policy = SlaPolicy.from_toml(TIERS_TOML)
    phone = chosen(policy, tier=CustomerTier.VIP, channel=Channel.PHONE)
    assert phone[FR] == ("standard", Target(within=15 * M, calendar=ALWAYS_OPEN))
    assert phone[ACK] == ("standard", Target(within=30 * M, calendar=ALWAYS_OPEN))
    assert phone[RES] == ("standard", Target(within=12 * H)), "resolution keeps its calendar"
    email = chosen(policy, tier=CustomerTier.VIP, channel=Channel.EMAIL)
    assert email[FR] == ("standard", Target(within=15 * M))
    key_phone = chosen(policy, tier=CustomerTier.KEY, channel=Channel.PHONE)
    assert key_phone[FR] == ("standard", Target(within=45 * M))


def test_explain_shows_what_the_tier_changed() -> None:
    policy = SlaPolicy.from_toml(TIERS_TOML)
    explanation = policy.explain(TicketFacts(tier=CustomerTier.VIP, channel=Channel.PHONE))
    first = explanation.selections[FR]
    assert first.rule_target == Target(within=H)
    assert first.target == Target(within=15 * M, calendar=ALWAYS_OPEN)
    assert first.tier_note == "vip terms: 1h on business → 15m on 24x7 (phone around the clock)"
    text = str(explanation)
    assert (
        "first_response: 15m on 24x7, rule 'standard' (#1): applies to every ticket\n"
        "  vip terms: 1h on business → 15m on 24x7 (phone around the clock)"
    ) in text
    assert "resolution: 12h on business, rule 'standard' (#1)" in text
    assert "  vip terms: 24h on business → 12h on business" in text
    regular = policy.explain(TicketFacts(tier=CustomerTier.REGULAR))
    assert all(s.tier_note == "" and s.rule_target is None for s in regular.selections.values())
    assert "terms" not in str(regular)


def test_explain_says_when_the_rule_is_already_as_fast() -> None:
    explanation = DEFAULT.explain(TicketFacts(tier=CustomerTier.VIP, priority=Priority.URGENT))
    assert explanation.selections[NR].tier_note == "vip terms: 30m on 24x7 already as fast"
    assert explanation.selections[NR].rule_target is None


def test_a_rule_that_names_the_tier_is_not_shortened_again() -> None:
    """No double counting: a rule with a tier condition already says what the tier gets."""
    policy = SlaPolicy.from_dict(
        {**OFFICE_POLICY, "tiers": {"vip": {"multiplier": 0.5, "around_the_clock": ["phone"]}}}
    )
    selections = policy.select(TicketFacts(tier=CustomerTier.VIP, channel=Channel.PHONE))
    assert selections[FR].target == Target(within=20 * M)
    assert selections[FR].tier_note == "vip terms not applied: rule 'vip rule' names the tier"
    assert selections[RES].target == Target(within=12 * H)  # from the standard rule, halved


def test_with_tier_terms_replaces_the_terms_and_keeps_the_rest() -> None:
    key_only = {CustomerTier.KEY: TierTerms(multiplier=0.5)}
    replaced = DEFAULT.with_tier_terms(key_only)
    assert replaced.tiers == key_only
    assert (replaced.rules, replaced.calendars, replaced.metrics) == (
        DEFAULT.rules,
        DEFAULT.calendars,
        DEFAULT.metrics,
    )
    assert DEFAULT.tiers == DEFAULT_TIER_TERMS, "the original is unchanged"
    vip = TicketFacts(tier=CustomerTier.VIP)
    assert replaced.select(vip)[FR].target == Target(within=H, calendar=BUSINESS)
    assert DEFAULT.select(vip)[FR].target == Target(within=15 * M, calendar=BUSINESS)
    assert DEFAULT.with_tier_terms({}).tiers == {}


@pytest.mark.parametrize(
    ("tiers", "field"),
    [
        ({"vip": {"multiplier": 0}}, "tiers.vip.multiplier"),
        ({"vip": {"multiplier": 1.5}}, "tiers.vip.multiplier"),
        ({"vip": {"multiplier": "fast"}}, "tiers.vip.multiplier"),
        ({"key": {"targets": {"first_response": "0m"}}}, "tiers.key.targets.first_response"),
        ({"key": {"targets": {"first_response": "soon"}}}, "tiers.key.targets.first_response"),
        ({"key": {"targets": {"lunch": "1h"}}}, "tiers.key.targets.lunch.[key]"),
        ({"vip": {"around_the_clock": ["phone", "phone"]}}, "tiers.vip.around_the_clock"),
        ({"vip": {"around_the_clock": ["pigeon"]}}, "tiers.vip.around_the_clock.0"),
        ({"gold": {}}, "tiers.gold.[key]"),
        ({"vip": {"faster": True}}, "tiers.vip.faster"),
    ],
)
def test_bad_tier_terms_name_the_field(tiers: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        SlaPolicy.from_dict(minimal_policy(tiers=tiers))
    assert info.value.field == field
    with pytest.raises(ValidationFailed) as info:
        SlaPolicy.from_dict(minimal_policy()).with_tier_terms(tiers)  # type: ignore[arg-type]
    assert info.value.field == field


def test_with_tier_terms_refuses_what_is_not_a_mapping() -> None:
    with pytest.raises(ValidationFailed) as info:
        DEFAULT.with_tier_terms([TierTerms()])  # type: ignore[arg-type]
    assert info.value.field == "terms"


tier_terms_st = st.builds(
    TierTerms,
    multiplier=st.sampled_from((1.0, 0.9, 0.75, 0.5, 0.33, 0.01)),
    targets=st.dictionaries(
        st.sampled_from(SlaMetric), st.integers(1, 72 * 60).map(lambda n: n * M), max_size=4
    ),
    around_the_clock=st.lists(st.sampled_from(Channel), unique=True, max_size=3).map(tuple),
)
starts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2025, 12, 1), timezones=st.just(UTC)
)


def due_of(policy: SlaPolicy, target: Target, start: datetime) -> datetime:
    return policy.calendar(target.calendar).add(start, target.within)


@PROPERTY
@given(sla_policies(covering=False), tier_terms_st, facts_st, starts)
def test_an_entitled_target_is_never_longer_nor_later_than_the_rules(
    policy: SlaPolicy, terms: TierTerms, facts: TicketFacts, start: datetime
) -> None:
    entitled = policy.with_tier_terms({facts.tier: terms})
    plain, found = policy.select(facts), entitled.select(facts)
    assert list(found) == list(plain), "terms never add or drop a commitment"
    for metric, selection in found.items():
        rule = plain[metric]
        assert (selection.rule, selection.rule_number) == (rule.rule, rule.rule_number)
        assert selection.target.within <= rule.target.within
        assert selection.target.calendar in {rule.target.calendar, ALWAYS_OPEN}
        assert due_of(entitled, selection.target, start) <= due_of(policy, rule.target, start)


@PROPERTY
@given(sla_policies(covering=False), tier_terms_st, facts_st)
def test_other_tiers_are_untouched_by_a_tiers_terms(
    policy: SlaPolicy, terms: TierTerms, facts: TicketFacts
) -> None:
    other = next(t for t in CustomerTier if t != facts.tier)
    assert policy.with_tier_terms({other: terms}).select(facts) == policy.select(facts)
