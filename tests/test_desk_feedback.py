"""Feedback in the desk: a survey request at every resolution, one answer per survey.

``resolve`` records ``feedback.survey_requested`` beside ``ticket.resolved``;
``submit_feedback`` records ``feedback.survey_answered`` and, for a low score,
``feedback.follow_up_raised`` assigned to the lead of the ticket's team.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from supportflow import (
    Agent,
    InvalidTransition,
    SupportDesk,
    Team,
    Ticket,
    TicketStatus,
    ValidationFailed,
    replay,
)
from supportflow.errors import SurveyAlreadyAnswered
from supportflow.feedback import SurveyRequest, SurveyResponse, request_survey, survey_id
from supportflow.testing import FixedClock

S = TicketStatus
MakeTicket = Callable[..., Ticket]
Snapshot = Callable[[SupportDesk], Any]


@pytest.fixture
def led(desk: SupportDesk) -> SupportDesk:
    """The standard desk plus a team led by Ann, with Lee working in it."""
    desk.add_team(Team(id="t-led", name="Led team", lead_id="a-ann"))
    desk.add_agent(Agent(id="a-lee", name="Lee", teams=("t-led",), capacity=10))
    return desk


def resolved_in(desk: SupportDesk, make: MakeTicket, team_id: str | None) -> Ticket:
    agent = "a-lee" if team_id == "t-led" else "a-bob"
    return make(S.RESOLVED, agent_id=agent, team_id=team_id)


def types(desk: SupportDesk, ticket_id: str) -> list[str]:
    return [e.type for e in desk.history(ticket_id)]


def test_resolve_asks_for_feedback_in_the_same_unit(
    led: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = resolved_in(led, ticket_in, "t-led")
    history = led.history(ticket.id)
    assert [e.type for e in history[-2:]] == ["ticket.resolved", "feedback.survey_requested"]
    asked = history[-1]
    request = SurveyRequest.model_validate(asked.data["survey"])
    assert request == request_survey(ticket)
    assert (request.id, request.team_id, request.agent_id) == (
        survey_id(ticket.id, 1),
        "t-led",
        "a-lee",
    )
    assert asked.actor == "system"
    assert "status" not in asked.data["changes"]
    assert ticket.version == asked.seq == len(history)
    assert replay(history) == led.get_ticket(ticket.id) == ticket


def test_an_answer_is_recorded(led: SupportDesk, ticket_in: MakeTicket, clock: FixedClock) -> None:
    ticket = resolved_in(led, ticket_in, "t-led")
    clock.advance(timedelta(hours=3))
    response = led.submit_feedback(
        survey_id(ticket.id, 1), csat=5, nps=10, comment="Quick and kind."
    )
    assert isinstance(response, SurveyResponse)
    assert (response.csat, response.nps, response.comment) == (5, 10, "Quick and kind.")
    assert response.channel == ticket.channel  # by default, the channel the survey went on
    assert response.responded_at == clock.now()
    history = led.history(ticket.id)
    assert [e.type for e in history[-2:]] == [
        "feedback.survey_requested",
        "feedback.survey_answered",
    ]
    assert history[-1].data["response"] == response.model_dump(mode="json")
    stored = led.get_ticket(ticket.id)
    assert (stored.status, stored.version) == (S.RESOLVED, len(history))
    assert replay(history) == stored


def test_an_identical_repeat_is_idempotent(
    led: SupportDesk, ticket_in: MakeTicket, clock: FixedClock, snapshot: Snapshot
) -> None:
    ticket = resolved_in(led, ticket_in, "t-led")
    sid = survey_id(ticket.id, 1)
    assert led.submit_feedback(sid, csat=4, comment="ok", channel="portal") is not None
    before = snapshot(led)
    clock.advance(timedelta(minutes=5))  # a retried webhook arrives late
    assert led.submit_feedback(sid, csat=4, comment="ok", channel="portal") is None
    assert snapshot(led) == before


@pytest.mark.parametrize(
    "change",
    [{"csat": 3}, {"nps": 9}, {"comment": "changed my mind"}, {"channel": "email"}],
)
def test_a_conflicting_answer_is_refused_and_stores_nothing(
    led: SupportDesk, ticket_in: MakeTicket, snapshot: Snapshot, change: dict[str, Any]
) -> None:
    ticket = resolved_in(led, ticket_in, "t-led")
    sid = survey_id(ticket.id, 1)
    first: dict[str, Any] = {"csat": 4, "comment": "ok", "channel": "portal"}
    led.submit_feedback(sid, **first)
    before = snapshot(led)
    with pytest.raises(SurveyAlreadyAnswered) as caught:
        led.submit_feedback(sid, **{**first, **change})
    assert caught.value.survey_id == sid
    assert snapshot(led) == before


def test_a_low_score_raises_a_follow_up_for_the_team_lead(
    led: SupportDesk, ticket_in: MakeTicket
) -> None:
    ticket = resolved_in(led, ticket_in, "t-led")
    response = led.submit_feedback(survey_id(ticket.id, 1), csat=1, comment="Rude.")
    assert response is not None
    history = led.history(ticket.id)
    assert [e.type for e in history[-2:]] == [
        "feedback.survey_answered",
        "feedback.follow_up_raised",
    ]
    raised = history[-1].data
    assert raised["assignee_id"] == "a-ann"
    assert raised["follow_up"]["survey_id"] == survey_id(ticket.id, 1)
    assert (raised["follow_up"]["team_id"], raised["follow_up"]["agent_id"]) == ("t-led", "a-lee")
    assert "CSAT 1/5" in raised["follow_up"]["reason"]
    stored = led.get_ticket(ticket.id)
    assert (stored.status, stored.version) == (S.RESOLVED, len(history))
    assert replay(history) == stored


@pytest.mark.parametrize("team_id", ["t-support", None])
def test_a_follow_up_without_a_lead_is_unassigned(
    led: SupportDesk, ticket_in: MakeTicket, team_id: str | None
) -> None:
    ticket = resolved_in(led, ticket_in, team_id)
    led.submit_feedback(survey_id(ticket.id, 1), nps=2)
    last = led.history(ticket.id)[-1]
    assert last.type == "feedback.follow_up_raised"
    assert last.data["assignee_id"] is None


def test_a_good_score_raises_no_follow_up(led: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = resolved_in(led, ticket_in, "t-led")
    led.submit_feedback(survey_id(ticket.id, 1), csat=4, nps=7)
    assert types(led, ticket.id)[-1] == "feedback.survey_answered"


def test_feedback_is_taken_after_closing(led: SupportDesk, ticket_in: MakeTicket) -> None:
    ticket = ticket_in(S.CLOSED)
    assert types(led, ticket.id)[-3:] == [
        "ticket.resolved",
        "feedback.survey_requested",
        "ticket.closed",
    ]
    response = led.submit_feedback(survey_id(ticket.id, 1), csat=5)
    assert response is not None
    stored = led.get_ticket(ticket.id)
    assert stored.status is S.CLOSED
    assert types(led, ticket.id)[-1] == "feedback.survey_answered"


def test_a_reopened_ticket_takes_no_feedback_until_resolved_again(
    led: SupportDesk, ticket_in: MakeTicket, snapshot: Snapshot
) -> None:
    ticket = ticket_in(S.RESOLVED)
    led.reopen(ticket.id, actor="c-reg", reason="still broken")
    before = snapshot(led)
    with pytest.raises(InvalidTransition):
        led.submit_feedback(survey_id(ticket.id, 1), csat=2)
    assert snapshot(led) == before
    with pytest.raises(ValidationFailed) as caught:
        led.submit_feedback(survey_id(ticket.id, 2), csat=2)
    assert caught.value.field == "survey_id"
    again = led.resolve(ticket.id, agent_id="a-bob", resolution="New cable")
    assert led.history(ticket.id)[-1].data["survey"]["id"] == survey_id(ticket.id, 2)
    assert led.submit_feedback(survey_id(ticket.id, 2), csat=5) is not None
    # The first resolution's survey is a survey of its own, still answerable once.
    assert led.submit_feedback(survey_id(ticket.id, 1), csat=3) is not None
    assert replay(led.history(ticket.id)) == led.get_ticket(ticket.id)
    assert again.status is S.RESOLVED


def test_an_unknown_survey_is_refused_naming_the_survey(
    led: SupportDesk, ticket_in: MakeTicket
) -> None:
    for unknown in ["nobody", "t-missing/survey/1", f"{ticket_in(S.NEW).id}/survey/1"]:
        with pytest.raises(ValidationFailed) as caught:
            led.submit_feedback(unknown, csat=5)
        assert caught.value.field == "survey_id"
        assert unknown in str(caught.value)


def test_feedback_on_a_desk_with_sla_clocks(
    make_desk: Callable[..., SupportDesk],
    store_factory: Callable[[], Any],
    clock: FixedClock,
    new_ticket: MakeTicket,
) -> None:
    from supportflow.sla import CalendarSpec, default_policy

    policy = default_policy(
        CalendarSpec.model_validate({"weekly": {"mon": ["09:00-18:00"], "tue": ["09:00-18:00"]}})
    )
    store = store_factory()
    try:
        desk = make_desk(store, clock, sla_policy=policy)
        ticket = new_ticket(desk, S.RESOLVED)
        clock.advance(timedelta(days=1))
        assert desk.submit_feedback(survey_id(ticket.id, 1), csat=1) is not None
        assert replay(desk.history(ticket.id)) == desk.get_ticket(ticket.id)
        clock.advance(timedelta(days=5))
        assert desk.run_due_jobs().closed == (ticket.id,)
    finally:
        store.close()
