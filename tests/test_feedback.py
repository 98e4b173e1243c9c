"""Surveys, one response each, follow-ups on low scores, and CSAT / NPS with their intervals."""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from supportflow.errors import ConflictError, SurveyAlreadyAnswered, ValidationFailed
from supportflow.feedback import (
    MAX_COMMENT_CHARS,
    FollowUp,
    Score,
    SurveyRequest,
    SurveyResponse,
    Tally,
    accept_response,
    compare,
    csat,
    follow_up,
    group_scores,
    group_tallies,
    needs_follow_up,
    nps,
    request_survey,
    survey_id,
    tally,
)
from supportflow.models import Channel, Ticket, TicketStatus

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LATER = AT + timedelta(hours=2)


def resolved_ticket(**fields: Any) -> Ticket:
    """Ticket ``t-1`` of customer ``c-1``, resolved at ``AT`` by ``a-1`` of team ``tm-1``."""
    values: dict[str, Any] = {
        "id": "t-1",
        "channel": Channel.CHAT,
        "customer_id": "c-1",
        "subject": "",
        "body": "help",
        "status": TicketStatus.RESOLVED,
        "assignee_id": "a-1",
        "team_id": "tm-1",
        "created_at": AT - timedelta(hours=1),
        "updated_at": AT,
        "resolved_at": AT,
    }
    values.update(fields)
    return Ticket(**values)


def request(**fields: Any) -> SurveyRequest:
    """The survey for ``resolved_ticket(**fields)``."""
    return request_survey(resolved_ticket(**fields))


def answer(csat_value: int | None = None, nps_value: int | None = None, **fields: Any) -> Any:
    """A response to ``t-1``'s first survey, two hours after it was asked."""
    values: dict[str, Any] = {
        "survey_id": survey_id("t-1", 1),
        "csat": csat_value,
        "nps": nps_value,
        "channel": Channel.EMAIL,
        "responded_at": LATER,
    }
    values.update(fields)
    return SurveyResponse(**values)


def answers(csat_scores: Sequence[int] = (), nps_scores: Sequence[int] = ()) -> list[Any]:
    """One response per CSAT score, then one per NPS score."""
    return [answer(c) for c in csat_scores] + [answer(None, n) for n in nps_scores]


# -- survey requests -----------------------------------------------------------------


def test_request_describes_the_resolution() -> None:
    survey = request()
    assert survey.id == "t-1/survey/1"
    assert (survey.ticket_id, survey.customer_id, survey.team_id, survey.agent_id) == (
        "t-1",
        "c-1",
        "tm-1",
        "a-1",
    )
    assert survey.requested_at == AT
    assert survey.channel is Channel.CHAT


def test_request_for_the_same_resolution_is_the_same_survey() -> None:
    assert request() == request()


def test_reopened_and_resolved_again_gets_a_new_survey() -> None:
    assert request(reopen_count=1).id == "t-1/survey/2"
    assert request(reopen_count=1).id != request().id


def test_request_refuses_an_unresolved_ticket() -> None:
    with pytest.raises(ValidationFailed) as info:
        request(status=TicketStatus.IN_PROGRESS, resolved_at=None)
    assert info.value.field == "ticket.status"


def test_request_id_must_be_derived() -> None:
    with pytest.raises(ValidationFailed) as info:
        SurveyRequest(
            id="other",
            ticket_id="t-1",
            resolution=1,
            customer_id="c-1",
            requested_at=AT,
            channel=Channel.CHAT,
        )
    assert info.value.field == "id"


# -- responses -----------------------------------------------------------------------


def test_response_needs_a_score() -> None:
    with pytest.raises(ValidationFailed) as info:
        answer(comment="no scores")
    assert info.value.field == "csat"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"csat": 0}, "csat"),
        ({"csat": 6}, "csat"),
        ({"csat": "5"}, "csat"),
        ({"csat": True}, "csat"),
        ({"nps": -1}, "nps"),
        ({"nps": 11}, "nps"),
        ({"csat": 5, "comment": "x" * (MAX_COMMENT_CHARS + 1)}, "comment"),
        ({"csat": 5, "responded_at": datetime(2026, 3, 2, 11)}, "responded_at"),
        ({"csat": 5, "channel": "pigeon"}, "channel"),
    ],
)
def test_response_validation_names_the_field(fields: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        answer(**fields)
    assert info.value.field == field


def test_response_accepts_either_or_both_scores_and_a_long_comment() -> None:
    assert answer(5).nps is None
    assert answer(None, 0).csat is None
    assert answer(1, 10, comment="慢" * MAX_COMMENT_CHARS).comment == "慢" * MAX_COMMENT_CHARS


def test_first_response_is_stored() -> None:
    response = answer(4, 9)
    assert accept_response(request(), None, response) is response


def test_identical_resubmission_is_idempotent() -> None:
    first = answer(4, 9, comment="thanks")
    retry = answer(4, 9, comment="thanks", responded_at=LATER + timedelta(minutes=5))
    assert accept_response(request(), first, retry) is None


@pytest.mark.parametrize(
    "fields",
    [
        {"csat_value": 2, "nps_value": 9},
        {"csat_value": 4, "nps_value": 3},
        {"csat_value": 4, "nps_value": None},
        {"csat_value": 4, "nps_value": 9, "comment": "changed my mind"},
        {"csat_value": 4, "nps_value": 9, "channel": Channel.PHONE},
    ],
)
def test_conflicting_resubmission_is_refused(fields: dict[str, Any]) -> None:
    first = answer(4, 9)
    with pytest.raises(SurveyAlreadyAnswered) as info:
        accept_response(request(), first, answer(**fields))
    assert isinstance(info.value, ConflictError)
    assert info.value.survey_id == "t-1/survey/1"
    assert "t-1/survey/1" in str(info.value)


def test_survey_already_answered_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(SurveyAlreadyAnswered("s-1")))
    assert (error.survey_id, str(error)) == ("s-1", str(SurveyAlreadyAnswered("s-1")))


def test_response_to_another_survey_is_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        accept_response(request(), None, answer(5, survey_id="t-1/survey/2"))
    assert info.value.field == "survey_id"


def test_response_before_the_request_is_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        accept_response(request(), None, answer(5, responded_at=AT - timedelta(seconds=1)))
    assert info.value.field == "responded_at"


# -- follow-ups ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("csat_value", "nps_value", "expected"),
    [
        (1, None, True),
        (2, None, True),
        (3, None, False),
        (5, None, False),
        (None, 6, True),
        (None, 7, False),
        (None, 0, True),
        (5, 6, True),
        (2, 10, True),
        (3, 7, False),
    ],
)
def test_follow_up_thresholds(
    csat_value: int | None, nps_value: int | None, expected: bool
) -> None:
    assert needs_follow_up(answer(csat_value, nps_value)) is expected


def test_thresholds_can_be_moved_or_switched_off() -> None:
    assert needs_follow_up(answer(3), csat_at_most=3)
    assert not needs_follow_up(answer(1), csat_at_most=0)
    assert not needs_follow_up(answer(None, 0), nps_at_most=-1)


@pytest.mark.parametrize(
    ("name", "value"), [("csat_at_most", 6), ("nps_at_most", 11), ("csat_at_most", True)]
)
def test_bad_threshold_is_refused(name: str, value: int) -> None:
    with pytest.raises(ValidationFailed) as info:
        needs_follow_up(answer(3), **{name: value})
    assert info.value.field == name


def test_follow_up_names_the_low_score_and_who_to_ask() -> None:
    raised = follow_up(request(), answer(1, 8, comment="rude"))
    assert isinstance(raised, FollowUp)
    assert (raised.survey_id, raised.ticket_id, raised.team_id, raised.agent_id) == (
        "t-1/survey/1",
        "t-1",
        "tm-1",
        "a-1",
    )
    assert "CSAT 1/5" in raised.reason
    assert "NPS" not in raised.reason
    assert raised.raised_at == LATER


def test_no_follow_up_for_a_good_answer() -> None:
    assert follow_up(request(), answer(4, 8)) is None


# -- scores, checked by hand (z = 1.959964, z² = 3.841459) --------------------------


def test_csat_counts_four_and_five_with_the_wilson_interval() -> None:
    # 8 of 10 score 4 or 5: p = 0.8.
    # centre = (0.8 + z²/20) / (1 + z²/10) = 0.992073 / 1.384146 = 0.716740
    # half = z / 1.384146 * sqrt(0.16/10 + z²/400) = 1.416009 * 0.160012 = 0.226578
    # so [0.490162, 0.943318]
    score = csat(answers([5, 5, 4, 4, 4, 4, 5, 4, 3, 1]))
    assert score.n == 10
    assert score.value == pytest.approx(80.0)
    assert score.low == pytest.approx(49.0162, abs=1e-3)
    assert score.high == pytest.approx(94.3318, abs=1e-3)


def test_csat_of_none_satisfied_starts_at_zero() -> None:
    # 0 of 5: centre = (z²/10) / (1 + z²/5) = 0.384146 / 1.768292 = 0.217240
    # half = z / 1.768292 * sqrt(z²/100) = 1.108393 * 0.195996 = 0.217240, so [0, 0.434481]
    score = csat(answers([1, 2, 3, 3, 2]))
    assert (score.value, score.low) == (0.0, 0.0)
    assert score.high == pytest.approx(43.4481, abs=1e-3)


def test_csat_ignores_answers_without_csat() -> None:
    assert csat(answers([5], [0, 10])).n == 1


def test_nps_is_promoters_minus_detractors_with_the_trinomial_interval() -> None:
    # 5 promoters, 3 passives, 2 detractors of 10: NPS = 50 - 20 = 30.
    # Variance from shares with one pseudo-answer per group: 6/13 and 3/13, difference
    # 3/13; var = (9/13 - (3/13)²) / 10 = 0.0639053; half = z * 0.252795 = 0.495469,
    # so [-19.5469, 79.5469]
    score = nps(answers(nps_scores=[10, 9, 9, 10, 9, 7, 8, 8, 6, 0]))
    assert score.n == 10
    assert score.value == pytest.approx(30.0)
    assert score.low == pytest.approx(-19.5469, abs=1e-3)
    assert score.high == pytest.approx(79.5469, abs=1e-3)


def test_nps_interval_is_clipped_to_its_range() -> None:
    # 1 promoter, 2 detractors of 3: NPS = -33.3; adjusted shares 2/6 and 3/6, difference
    # -1/6; var = (5/6 - 1/36) / 3 = 0.268519, half = z * 0.518188 = 1.015629, so the low
    # end -134.9 is clipped to -100 and the high end is 68.2296.
    score = nps(answers(nps_scores=[10, 0, 3]))
    assert score.value == pytest.approx(-100 / 3)
    assert score.low == -100.0
    assert score.high == pytest.approx(68.2296, abs=1e-3)


def test_an_all_promoter_team_of_ten_still_has_an_interval() -> None:
    # Shares 11/13 and 1/13; var = (12/13 - (10/13)²) / 10 = 0.0331361; half = 0.356781.
    score = nps(answers(nps_scores=[10] * 10))
    assert score.value == 100.0
    assert score.low == pytest.approx(64.3219, abs=1e-3)
    assert score.high == 100.0


def test_no_answers_is_no_score_not_zero() -> None:
    assert csat([]) == Score(None, None, None, 0)
    assert nps(answers([5, 4])) == Score.empty()


def test_compare_needs_intervals_apart() -> None:
    # 5 of 5 satisfied: [56.55, 100]; 400 of 500: [76.3, 83.3] overlaps it.
    small = csat(answers([5] * 5))
    big = Tally(csat_n=500, satisfied=400).csat()
    assert compare(small, big) == 0
    # 300 of 500 (60%): [55.6, 64.2], clearly below 400 of 500.
    worse = Tally(csat_n=500, satisfied=300).csat()
    assert compare(big, worse) == 1
    assert compare(worse, big) == -1
    assert compare(big, Score.empty()) == 0


def test_group_scores_per_key() -> None:
    pairs = [("a", answer(5, 10)), ("b", answer(1, 0)), ("a", answer(4, 7))]
    scores = group_scores(pairs)
    assert list(scores) == ["a", "b"]
    assert scores["a"][0].value == 100.0
    assert scores["a"][1].value == pytest.approx(50.0)
    assert scores["b"] == (Tally(1, 0, 1, 0, 1).csat(), Tally(1, 0, 1, 0, 1).nps())


# -- properties ----------------------------------------------------------------------

responses = st.builds(
    answer,
    st.one_of(st.none(), st.integers(1, 5)),
    st.integers(0, 10),
)
keyed = st.lists(st.tuples(st.sampled_from("abcd"), responses), max_size=60)


def _within(score: Score, lo: float, hi: float) -> None:
    if score.n == 0:
        assert (score.value, score.low, score.high) == (None, None, None)
        return
    assert score.value is not None
    assert score.low is not None
    assert score.high is not None
    assert lo <= score.low <= score.value <= score.high <= hi


@given(st.lists(responses, max_size=60))
def test_scores_stay_in_their_ranges(batch: list[SurveyResponse]) -> None:
    _within(csat(batch), 0.0, 100.0)
    _within(nps(batch), -100.0, 100.0)


@given(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50), st.integers(2, 20))
def test_intervals_narrow_as_n_grows(good: int, bad: int, passive: int, factor: int) -> None:
    small = Tally(good + bad, good, good + bad + passive, good, bad)
    large = Tally(*(factor * count for count in attrs.astuple(small)))
    for pick in (Tally.csat, Tally.nps):
        a, b = pick(small), pick(large)
        if a.n == 0:
            continue
        assert a.value == pytest.approx(b.value)
        assert b.low is not None
        assert b.high is not None
        assert a.low is not None
        assert a.high is not None
        assert b.high - b.low <= a.high - a.low + 1e-9


@given(keyed)
def test_grouping_then_merging_equals_the_total(pairs: list[tuple[str, SurveyResponse]]) -> None:
    total = sum(group_tallies(pairs).values(), Tally())
    assert total == tally(response for _, response in pairs)
    scores = group_scores(pairs)
    assert sum(c.n for c, _ in scores.values()) == total.csat_n
    assert sum(n.n for _, n in scores.values()) == total.nps_n


def test_response_round_trips_through_json() -> None:
    response = answer(5, 10, comment="很好, thanks")
    assert SurveyResponse.model_validate_json(response.model_dump_json()) == response


def test_request_and_follow_up_round_trip_through_json() -> None:
    survey = request()
    raised = follow_up(survey, answer(None, 2))
    assert raised is not None
    assert SurveyRequest.model_validate_json(survey.model_dump_json()) == survey
    assert FollowUp.model_validate_json(raised.model_dump_json()) == raised
