"""The shipped pipeline steps: team scope, filters, preferences and orders."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from routing_world import MONDAY_10, MONDAY_20
from routing_world import held_by as _held
from routing_world import make_ticket as _ticket

from supportflow.errors import ValidationFailed
from supportflow.models import (
    Agent,
    AgentRole,
    AgentStatus,
    Channel,
    Customer,
    CustomerTier,
    Team,
    Ticket,
    TicketStatus,
)
from supportflow.routing.assignment import Candidate, Decision, RecentAgent, RoutingRequest
from supportflow.routing.pipeline import Pipeline
from supportflow.routing.pool import AgentPool
from supportflow.routing.steps import (
    Availability,
    LanguageMatch,
    LeastLoaded,
    RoundRobin,
    SkillMatch,
    Sticky,
    TeamRouting,
    TierAware,
    WithinCapacity,
    standard_pipeline,
)
from supportflow.sla.calendar import WEEKDAYS, BusinessCalendar
from supportflow.tiering import TierEntitlements

OFFICE = BusinessCalendar.from_dict(
    {"timezone": "UTC", "weekly": dict.fromkeys(WEEKDAYS[:5], ("09:00-18:00",))}
)
TEAMS = {
    "t1": Team(id="t1", name="Support", escalation_team_id="t2"),
    "t2": Team(id="t2", name="Second line", escalation_team_id="t3"),
    "t3": Team(id="t3", name="Engineering", escalation_team_id="t1"),
}
SENIOR = AgentRole.SENIOR


def _agent(agent_id: str, *teams: str, **fields: Any) -> Agent:
    return Agent(id=agent_id, name=agent_id, teams=teams, **fields)


def _request(ticket: Ticket, **fields: Any) -> RoutingRequest:
    fields.setdefault("now", MONDAY_10)
    fields.setdefault("teams", TEAMS)
    return RoutingRequest(ticket=ticket, **fields)


def _customer(tier: CustomerTier, manager: str | None = "a-am") -> Customer:
    return Customer(id="c-1", name="Customer", tier=tier, account_manager_id=manager)


def _candidate(agent: Agent, open_: int = 0, **by_channel: int) -> Candidate:
    return Candidate(agent, open_, float(open_), {Channel(k): v for k, v in by_channel.items()})


# -- TeamRouting -------------------------------------------------------------------------


def test_team_scope_keeps_a_ticket_in_its_team() -> None:
    assert TeamRouting().scope(_request(_ticket(team_id="t1"))) == (
        "t1",
        frozenset({"team:t1"}),
        [],
    )
    assert TeamRouting().scope(_request(_ticket())) == (None, frozenset(), [])


def test_level_one_needs_a_senior_of_the_same_team() -> None:
    pool = AgentPool(
        [_agent("a-1", "t1"), _agent("a-sen", "t1", role=SENIOR), _agent("a-x", "t2", role=SENIOR)],
        _held("a-sen", 5),
    )
    decision = Pipeline().decide(_request(_ticket(team_id="t1", escalation_level=1)), pool)
    assert decision.agent_id == "a-sen"
    assert decision.reason.startswith("level 1 → senior, team t1 ✓")
    assert decision.team_id is None


def test_a_lead_counts_as_a_senior() -> None:
    pool = AgentPool([_agent("a-1", "t1"), _agent("a-lead", "t1", role=AgentRole.LEAD)])
    decision = Pipeline().decide(_request(_ticket(team_id="t1", escalation_level=1)), pool)
    assert decision.agent_id == "a-lead"


def test_level_one_without_a_senior_queues() -> None:
    pool = AgentPool([_agent("a-1", "t1")])
    decision = Pipeline().decide(_request(_ticket(team_id="t1", escalation_level=1)), pool)
    assert decision.queued
    assert decision.reason == "queued: no agent with team t1 can take it now (level 1 → senior)"


def test_level_two_follows_the_escalation_team_and_moves_the_ticket() -> None:
    pool = AgentPool([_agent("a-sen1", "t1", role=SENIOR), _agent("a-sen2", "t2", role=SENIOR)])
    request = _request(_ticket(team_id="t1", escalation_level=2), escalating=True)
    decision = Pipeline().decide(request, pool)
    assert decision.agent_id == "a-sen2"
    assert decision.team_id == "t2"
    assert decision.reason.startswith("level 2 → team t2, level 2 → senior, team t2 ✓")


def test_each_escalation_goes_one_team_further_up_the_chain() -> None:
    scope = TeamRouting().scope(
        _request(_ticket(team_id="t2", escalation_level=3), escalating=True)
    )
    assert scope[:2] == ("t3", frozenset({"team:t3", "senior"}))


def test_the_chain_stops_at_a_cycle_or_an_unknown_team() -> None:
    loop = {
        "t1": Team(id="t1", name="a", escalation_team_id="t2"),
        "t2": Team(id="t2", name="b", escalation_team_id="t1"),
    }
    ticket = _ticket(team_id="t1", escalation_level=5)
    assert TeamRouting().scope(_request(ticket, teams=loop, escalating=True))[0] == "t2"
    assert TeamRouting().scope(_request(ticket, teams={}, escalating=True))[0] == "t1"


def test_only_an_escalation_handover_moves_the_team() -> None:
    """Reassigning or dequeuing an escalated ticket keeps it where it is: no second hop."""
    pool = AgentPool([_agent("a-sen1", "t1", role=SENIOR), _agent("a-sen2", "t2", role=SENIOR)])
    request = _request(_ticket(team_id="t1", escalation_level=2))
    decision = Pipeline().decide(request, pool)
    assert decision.agent_id == "a-sen1"
    assert decision.team_id is None


def test_rungs_can_be_moved_or_turned_off() -> None:
    ticket = _ticket(team_id="t1", escalation_level=1)
    off = TeamRouting(senior_from_level=None, escalation_team_from_level=None)
    assert off.scope(_request(ticket)) == ("t1", frozenset({"team:t1"}), [])
    early = TeamRouting(senior_from_level=None, escalation_team_from_level=1)
    assert early.scope(_request(ticket, escalating=True)) == (
        "t2",
        frozenset({"team:t2"}),
        ["level 1 → team t2"],
    )


@pytest.mark.parametrize("field", ["senior_from_level", "escalation_team_from_level"])
@pytest.mark.parametrize("value", [0, -1, True, 1.5, "2"])
def test_bad_levels_are_refused_naming_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        TeamRouting(**{field: value})  # type: ignore[arg-type]
    assert caught.value.field == field


# -- SkillMatch and LanguageMatch --------------------------------------------------------


def test_skill_comes_from_the_category_without_case() -> None:
    skill = SkillMatch()
    request = _request(_ticket(category="Billing"))
    assert skill.skill(request) == "billing"
    assert skill.tags(request) == {"skill:billing"}
    assert skill.describe(request) == "skill billing"
    assert skill.admits(_candidate(_agent("a-1", skills=("BILLING",))), request)
    assert not skill.admits(_candidate(_agent("a-2", skills=("tech",))), request)


def test_skill_map_renames_or_drops_the_skill() -> None:
    skill = SkillMatch({"Refund": "billing", "greeting": None})
    assert skill.skill(_request(_ticket(category="refund"))) == "billing"
    assert skill.skill(_request(_ticket(category="greeting"))) is None


def test_triage_and_uncategorised_tickets_need_no_skill() -> None:
    skill = SkillMatch()
    for category in (None, "other", "OTHER"):
        request = _request(_ticket(category=category))
        assert skill.describe(request) is None
        assert skill.tags(request) == frozenset()
        assert skill.admits(_candidate(_agent("a-1")), request)


def test_mixed_language_needs_both_languages() -> None:
    language = LanguageMatch()
    request = _request(_ticket(language="mixed"))
    assert language.describe(request) == "language en+zh"
    assert language.tags(request) == {"lang:en", "lang:zh"}
    assert language.admits(_candidate(_agent("a-1", languages=("ZH", "en"))), request)
    assert not language.admits(_candidate(_agent("a-2", languages=("en",))), request)


def test_undetermined_language_needs_none() -> None:
    language = LanguageMatch()
    for code in (None, "und", "UND"):
        request = _request(_ticket(language=code))
        assert language.languages(request) == frozenset()
        assert language.admits(_candidate(_agent("a-1", languages=())), request)


def test_language_filter_routes_to_a_speaker() -> None:
    pool = AgentPool([_agent("a-en", languages=("en",)), _agent("a-zh", languages=("zh",))])
    decision = Pipeline((LanguageMatch(),)).decide(_request(_ticket(language="zh")), pool)
    assert decision.agent_id == "a-zh"
    assert "language zh ✓" in decision.reason


# -- Availability and WithinCapacity -----------------------------------------------------


def test_an_agent_off_shift_by_their_calendar_is_not_chosen() -> None:
    pool = AgentPool([_agent("a-day", calendar="office"), _agent("a-busy")], _held("a-busy", 5))
    pipeline = Pipeline((Availability({"office": OFFICE}),))
    assert pipeline.decide(_request(_ticket()), pool).agent_id == "a-day"
    assert pipeline.decide(_request(_ticket(), now=MONDAY_20), pool).agent_id == "a-busy"


def test_an_agent_naming_an_unknown_calendar_is_refused() -> None:
    pool = AgentPool([_agent("a-typo", calendar="ofice")])
    decision = Pipeline((Availability({"office": OFFICE}),)).decide(_request(_ticket()), pool)
    assert decision.queued
    assert "(1 not on shift)" in decision.reason


def test_away_agents_are_admitted_unless_refused() -> None:
    away = _candidate(_agent("a-1", status=AgentStatus.AWAY))
    offline = _candidate(_agent("a-2", status=AgentStatus.OFFLINE))
    request = _request(_ticket())
    assert Availability().admits(away, request)
    assert not Availability(allow_away=False).admits(away, request)
    assert not Availability().admits(offline, request)
    assert Availability().describe(request) == "on shift"


@pytest.mark.parametrize(
    ("args", "kwargs", "field"),
    [
        (({"office": "09:00-18:00"},), {}, "calendars.office"),
        ((OFFICE,), {}, "calendars"),
        ((["office"],), {}, "calendars"),
        ((), {"allow_away": "yes"}, "allow_away"),
    ],
)
def test_availability_refuses_what_is_not_a_calendar(
    args: tuple[Any, ...], kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Availability(*args, **kwargs)
    assert caught.value.field == field


def test_within_capacity_respects_the_channel_limit() -> None:
    agent = _agent("a-1", channel_capacity={Channel.CHAT: 2})
    chat, email = _request(_ticket(channel=Channel.CHAT)), _request(_ticket())
    assert WithinCapacity().admits(_candidate(agent, 1, chat=1), chat)
    assert not WithinCapacity().admits(_candidate(agent, 2, chat=2), chat)
    assert WithinCapacity().admits(_candidate(agent, 2, chat=2), email)
    assert not WithinCapacity().admits(_candidate(agent, 10, email=10), email)
    assert WithinCapacity().describe(chat) == "room on chat"


def test_an_agent_at_their_chat_limit_is_skipped_for_chats_only() -> None:
    pool = AgentPool(
        [_agent("a-1", channel_capacity={Channel.CHAT: 1}), _agent("a-2")],
        [*_held("a-1", 1, channel=Channel.CHAT), *_held("a-2", 3)],
    )
    pipeline = Pipeline((WithinCapacity(),))
    assert pipeline.decide(_request(_ticket(channel=Channel.CHAT)), pool).agent_id == "a-2"
    assert pipeline.decide(_request(_ticket()), pool).agent_id == "a-1"


# -- TierAware ---------------------------------------------------------------------------


def _tier_pool(*, manager_load: int = 0, **manager: Any) -> AgentPool:
    """Account manager outside team and skill, an idle agent, and a busy senior in t1."""
    return AgentPool(
        [
            _agent("a-am", "t9", capacity=2, **manager),
            _agent("a-agent", "t1", skills=("billing",)),
            _agent("a-senior", "t1", skills=("billing",), role=SENIOR),
        ],
        [*_held("a-am", manager_load), *_held("a-senior", 4)],
    )


BILLING_T1 = _ticket(team_id="t1", category="billing")


def test_vip_goes_to_their_account_manager_even_outside_team_and_skill() -> None:
    request = _request(BILLING_T1, customer=_customer(CustomerTier.VIP))
    decision = standard_pipeline().decide(request, _tier_pool())
    assert decision.agent_id == "a-am"
    assert decision.reason.startswith("VIP → account manager, ")
    assert decision.reason.endswith("load 0/2")


def test_an_escalated_vip_ticket_goes_up_the_ladder_not_to_the_account_manager() -> None:
    ticket = _ticket(team_id="t1", category="billing", escalation_level=1)
    request = _request(ticket, customer=_customer(CustomerTier.VIP))
    decision = standard_pipeline().decide(request, _tier_pool())
    assert decision.agent_id == "a-senior"
    assert "account manager" not in decision.reason


def test_key_customer_goes_to_their_account_manager_too() -> None:
    request = _request(BILLING_T1, customer=_customer(CustomerTier.KEY))
    decision = standard_pipeline().decide(request, _tier_pool())
    assert decision.agent_id == "a-am"
    assert decision.reason.startswith("key → account manager")


@pytest.mark.parametrize(
    "manager",
    [
        {"manager_load": 2},
        {"status": AgentStatus.OFFLINE},
        {"calendar": "office"},
    ],
    ids=["full", "offline", "off shift"],
)
def test_vip_without_their_manager_goes_to_the_senior_pool(manager: dict[str, Any]) -> None:
    request = _request(BILLING_T1, now=MONDAY_20, customer=_customer(CustomerTier.VIP))
    decision = standard_pipeline(calendars={"office": OFFICE}).decide(
        request, _tier_pool(**manager)
    )
    assert decision.agent_id == "a-senior"
    assert decision.reason.startswith("VIP → senior pool, team t1 ✓, skill billing ✓")


def test_vip_without_manager_or_senior_goes_to_the_general_pool() -> None:
    pool = AgentPool([_agent("a-agent", "t1")])
    request = _request(_ticket(team_id="t1"), customer=_customer(CustomerTier.VIP, None))
    decision = standard_pipeline().decide(request, pool)
    assert decision.agent_id == "a-agent"
    assert decision.reason.startswith("team t1 ✓")


def test_senior_only_vip_waits_for_a_senior() -> None:
    pool = AgentPool([_agent("a-agent", "t1")])
    request = _request(_ticket(team_id="t1"), customer=_customer(CustomerTier.VIP, "a-gone"))
    decision = Pipeline(preferences=(TierAware(senior_only=True),)).decide(request, pool)
    assert decision.queued
    assert decision.reason == (
        "queued: no agent with team t1 can take it now "
        "(VIP → account manager: a-gone is not an agent here; VIP → senior pool: nobody free)"
    )


def test_regular_customers_get_no_preference() -> None:
    request = _request(BILLING_T1, customer=_customer(CustomerTier.REGULAR))
    assert TierAware().prefer(request, _tier_pool()) == ()
    assert TierAware().prefer(_request(BILLING_T1), _tier_pool()) == ()
    decision = standard_pipeline().decide(request, _tier_pool())
    assert decision.agent_id == "a-agent"


def test_the_tiers_served_come_from_the_entitlements_table() -> None:
    """Only tiers whose entitlements grant an account manager get the preference."""
    key_request = _request(BILLING_T1, customer=_customer(CustomerTier.KEY))
    vip_only = TierEntitlements(key={"dedicated_account_manager": False})
    assert TierAware(vip_only).prefer(key_request, _tier_pool()) == ()
    assert standard_pipeline(entitlements=vip_only).decide(key_request, _tier_pool()).agent_id == (
        "a-agent"
    )
    regular_request = _request(BILLING_T1, customer=_customer(CustomerTier.REGULAR))
    managed = TierEntitlements(regular={"dedicated_account_manager": True})
    decision = standard_pipeline(entitlements=managed).decide(regular_request, _tier_pool())
    assert decision.agent_id == "a-am"
    assert decision.reason.startswith("regular → account manager")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"entitlements": ("vip",)}, "entitlements"),
        ({"entitlements": {"vip": {}}}, "entitlements"),
        ({"senior_only": "yes"}, "senior_only"),
    ],
)
def test_tier_aware_refuses_bad_arguments(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        TierAware(**kwargs)
    assert caught.value.field == field


# -- Sticky ------------------------------------------------------------------------------


def _sticky_request(agent_id: str, days_ago: float, **ticket: Any) -> RoutingRequest:
    recent = (
        RecentAgent(agent_id, "t-old", MONDAY_10 - timedelta(days=days_ago)),
        RecentAgent("a-idle", "t-older", MONDAY_10 - timedelta(days=days_ago + 1)),
    )
    return _request(_ticket(team_id="t1", **ticket), recent=lambda: recent)


def _sticky_pool(*, idle: bool = True, **recent_agent: Any) -> AgentPool:
    """``a-prev`` (t1, billing, 3 open tickets, changed by ``recent_agent``) and ``a-idle``."""
    fields: dict[str, Any] = {"teams": ("t1",), "skills": ("billing",), **recent_agent}
    agents = [Agent(id="a-prev", name="Prev", **fields)]
    if idle:
        agents.append(_agent("a-idle", "t1", skills=("billing",)))
    return AgentPool(agents, _held("a-prev", 3))


def test_a_returning_customer_gets_their_recent_agent() -> None:
    pipeline = Pipeline((SkillMatch(),), preferences=(Sticky(),))
    decision = pipeline.decide(_sticky_request("a-prev", 29, category="billing"), _sticky_pool())
    assert decision.agent_id == "a-prev"
    assert decision.reason == "returning customer → a-prev, team t1 ✓, skill billing ✓, load 3/10"
    assert decision.cursor is None


def test_the_recent_agent_outside_the_window_does_not_count() -> None:
    pipeline = Pipeline(preferences=(Sticky(timedelta(days=7)),))
    decision = pipeline.decide(_sticky_request("a-prev", 8), _sticky_pool())
    assert decision.agent_id == "a-idle"
    assert "returning" not in decision.reason


@pytest.mark.parametrize(
    ("recent_agent", "refusal"),
    [
        ({"skills": ("tech",)}, "not skill billing"),
        ({"status": AgentStatus.OFFLINE}, "offline"),
        ({"capacity": 3}, "at capacity (load 3/3)"),
        ({"teams": ("t2",)}, "not in team t1"),
    ],
    ids=["no skill", "offline", "full", "other team"],
)
def test_the_recent_agent_must_pass_the_filters(recent_agent: dict[str, Any], refusal: str) -> None:
    """A recent agent from another team was chosen: sticky skipped the team scope."""
    pipeline = Pipeline((SkillMatch(),), preferences=(Sticky(),))
    request = _sticky_request("a-prev", 1, category="billing")
    decision = pipeline.decide(request, _sticky_pool(**recent_agent))
    assert decision.agent_id == "a-idle"
    queued = pipeline.decide(request, _sticky_pool(idle=False, **recent_agent))
    assert queued.queued
    assert f"returning customer → a-prev: a-prev {refusal}" in queued.reason


def test_regression_escalated_ticket_does_not_stick_to_a_non_senior() -> None:
    pipeline = Pipeline(preferences=(Sticky(),))
    request = _sticky_request("a-prev", 1, escalation_level=1)
    pool = AgentPool([_agent("a-prev", "t1"), _agent("a-sen", "t1", role=SENIOR)])
    assert pipeline.decide(request, pool).agent_id == "a-sen"


def test_sticky_skips_the_ticket_itself_and_stops_at_the_first_other() -> None:
    recent = (
        RecentAgent("a-self", "t-new", MONDAY_10),
        RecentAgent("a-prev", "t-old", MONDAY_10 - timedelta(days=1)),
    )
    request = _request(_ticket(), recent=lambda: recent)
    (option,) = Sticky().prefer(request, AgentPool())
    assert option.agent_id == "a-prev"
    assert Sticky().prefer(_request(_ticket()), AgentPool()) == ()


@pytest.mark.parametrize("window", [timedelta(0), timedelta(days=-1), 30, None])
def test_bad_windows_are_refused(window: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Sticky(window)
    assert caught.value.field == "window"


# -- orders ------------------------------------------------------------------------------


def test_least_loaded_remembers_nothing() -> None:
    pool = AgentPool([_agent("a-1")])
    decision = Pipeline(order=LeastLoaded()).decide(_request(_ticket()), pool)
    assert decision.cursor is None


def test_round_robin_continues_after_the_team_cursor() -> None:
    pool = AgentPool([_agent(i, "t1") for i in ("a", "b", "c")])
    cursors = {"round_robin:t1": "b", "round_robin:*": "a"}
    pipeline = Pipeline(order=RoundRobin())
    request = _request(_ticket(team_id="t1"), cursor=cursors.get)
    assert pipeline.decide(request, pool) == Decision(
        "c",
        "team t1 ✓, round-robin, load 0/10",
        strategy="pipeline",
        cursor=("round_robin:t1", "c"),
    )
    teamless = pipeline.decide(_request(_ticket(), cursor=cursors.get), pool)
    assert teamless.cursor == ("round_robin:*", "b")


def test_round_robin_skips_a_full_agent_without_losing_the_place() -> None:
    pool = AgentPool([_agent("a", "t1"), _agent("b", "t1", capacity=1), _agent("c", "t1")])
    pool.track(_ticket("t-b", assignee_id="b", status=TicketStatus.ASSIGNED))
    request = _request(_ticket(team_id="t1"), cursor={"round_robin:t1": "a"}.get)
    assert Pipeline(order=RoundRobin()).decide(request, pool).agent_id == "c"


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 6),
    k=st.integers(1, 3),
    extra=st.integers(0, 7),
    start=st.none() | st.sampled_from(("a0", "a3", "a9", "", "zz", "a2x")),
    others=st.integers(0, 3),
)
def test_round_robin_is_fair_over_any_window(
    n: int, k: int, extra: int, start: str | None, others: int
) -> None:
    """n equal agents share k*n consecutive tickets k each, from any starting cursor."""
    total = k * n + extra
    team = [_agent(f"a{i}", "t1", capacity=total + 1) for i in range(n)]
    elsewhere = [_agent(f"b{i}", "t2", capacity=total + 1) for i in range(others)]
    pool = AgentPool([*elsewhere, *team])
    cursors: dict[str, str] = {} if start is None else {"round_robin:t1": start}
    pipeline = standard_pipeline(round_robin=True)
    chosen: list[str] = []
    for number in range(total):
        ticket = _ticket(f"t{number}", team_id="t1")
        decision = pipeline.decide(_request(ticket, cursor=cursors.get), pool)
        assert decision.agent_id is not None
        assert decision.cursor is not None
        name, position = decision.cursor
        assert name == "round_robin:t1"
        assert position == decision.agent_id
        cursors[name] = position
        chosen.append(decision.agent_id)
        assigned = ticket.model_copy(
            update={"assignee_id": decision.agent_id, "status": TicketStatus.ASSIGNED}
        )
        pool.track(assigned)
    assert set(chosen) <= {a.id for a in team}
    for begin in range(total - k * n + 1):
        counts = Counter(chosen[begin : begin + k * n])
        shares = [counts[a.id] for a in team]
        assert max(shares) - min(shares) <= 1
