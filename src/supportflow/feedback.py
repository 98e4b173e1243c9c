"""Satisfaction surveys after resolution, and the CSAT and NPS scores computed from them.

Resolving a ticket asks the customer once per resolution (:func:`request_survey`); the
answer carries CSAT 1–5 and/or NPS 0–10. :func:`accept_response` keeps exactly one answer
per survey, so a retried submission is harmless and a different second answer is refused.
A low score raises a :class:`FollowUp`: the documents want dissatisfaction investigated at
once, by the team lead.

Scores come with a 95% confidence interval so that a team of five surveys is not ranked
against a team of five hundred (:func:`compare`). Everything here is pure: no storage, no
desk. :class:`Tally` holds the counts, so scores can be computed in one streaming pass and
tallies of groups add up to the tally of the whole.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable
from typing import Annotated, Self, TypeVar

import attrs
from pydantic import AwareDatetime, Field, StringConstraints, model_validator

from .errors import SurveyAlreadyAnswered, ValidationFailed
from .models import Channel, SupportflowModel, Ticket, TicketStatus

__all__ = [
    "MAX_COMMENT_CHARS",
    "FollowUp",
    "Score",
    "SurveyRequest",
    "SurveyResponse",
    "Tally",
    "accept_response",
    "compare",
    "csat",
    "follow_up",
    "group_scores",
    "group_tallies",
    "needs_follow_up",
    "nps",
    "request_survey",
    "survey_id",
    "tally",
]

MAX_COMMENT_CHARS = 5_000
"""Longest survey comment accepted, in characters; longer text is refused, not truncated."""

Z_95 = 1.959963984540054
"""The standard normal quantile for a two-sided 95% interval."""

Id = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
# A survey id is a ticket id plus a suffix, so it may run past the 200 characters of an id.
SurveyId = Annotated[str, StringConstraints(min_length=1, max_length=240, strip_whitespace=True)]
CsatValue = Annotated[int, Field(strict=True, ge=1, le=5)]
NpsValue = Annotated[int, Field(strict=True, ge=0, le=10)]
Comment = Annotated[str, StringConstraints(max_length=MAX_COMMENT_CHARS)]

K = TypeVar("K", bound=Hashable)


def survey_id(ticket_id: str, resolution: int) -> str:
    """The id of the survey for the ``resolution``-th resolution of a ticket.

    Derived, not random, so asking twice for the same resolution is the same survey, and a
    ticket reopened and resolved again gets a new one.
    """
    return f"{ticket_id}/survey/{resolution}"


class SurveyRequest(SupportflowModel):
    """The customer was asked about one resolution of a ticket.

    ``id`` is always ``survey_id(ticket_id, resolution)``. ``team_id`` and ``agent_id`` are
    who resolved it, the keys scores are grouped by.
    """

    id: SurveyId
    ticket_id: Id
    resolution: int = Field(ge=1)
    customer_id: Id
    team_id: Id | None = None
    agent_id: Id | None = None
    requested_at: AwareDatetime
    channel: Channel

    @model_validator(mode="after")
    def _id_is_derived(self) -> Self:
        expected = survey_id(self.ticket_id, self.resolution)
        if self.id != expected:
            raise ValueError(f"id: must be {expected!r} (ticket_id/survey/resolution)")
        return self


class SurveyResponse(SupportflowModel):
    """A customer's answer: CSAT 1–5 and/or NPS 0–10, an optional comment, how it came in.

    Scores must be real integers (``"5"`` and ``True`` are refused): a score silently
    coerced from a form field is how a 0 becomes a 10.
    """

    survey_id: SurveyId
    csat: CsatValue | None = None
    nps: NpsValue | None = None
    comment: Comment = ""
    channel: Channel
    responded_at: AwareDatetime

    @model_validator(mode="after")
    def _has_a_score(self) -> Self:
        if self.csat is None and self.nps is None:
            raise ValueError("csat: give csat (1-5), nps (0-10) or both")
        return self

    def same_answer(self, other: SurveyResponse) -> bool:
        """Whether ``other`` says the same thing (its time may differ: a retry is late)."""
        return (
            self.survey_id == other.survey_id
            and self.csat == other.csat
            and self.nps == other.nps
            and self.comment == other.comment
            and self.channel == other.channel
        )


def request_survey(ticket: Ticket) -> SurveyRequest:
    """The survey to send for a resolved ticket's latest resolution.

    The resolution number is ``reopen_count + 1``, so the request is the same however often
    it is built for one resolution.
    """
    if ticket.status is not TicketStatus.RESOLVED or ticket.resolved_at is None:
        raise ValidationFailed("ticket.status", f"must be resolved, not {ticket.status.value}")
    resolution = ticket.reopen_count + 1
    return SurveyRequest(
        id=survey_id(ticket.id, resolution),
        ticket_id=ticket.id,
        resolution=resolution,
        customer_id=ticket.customer_id,
        team_id=ticket.team_id,
        agent_id=ticket.assignee_id,
        requested_at=ticket.resolved_at,
        channel=ticket.channel,
    )


def accept_response(
    request: SurveyRequest, existing: SurveyResponse | None, response: SurveyResponse
) -> SurveyResponse | None:
    """The response to store, or ``None`` when it repeats the stored one.

    Exactly one response per survey: the same answer again (a retried webhook, a double
    click) is idempotent and returns ``None``; a different one raises
    :class:`SurveyAlreadyAnswered`. A response to another survey, or dated before the
    request, is ``ValidationFailed``.
    """
    if response.survey_id != request.id:
        raise ValidationFailed("survey_id", f"must be {request.id!r}, the survey asked")
    if existing is not None and existing.survey_id != request.id:
        raise ValidationFailed("existing.survey_id", f"must be {request.id!r}")
    if response.responded_at < request.requested_at:
        raise ValidationFailed("responded_at", "must not be before the survey was requested")
    if existing is None:
        return response
    if existing.same_answer(response):
        return None
    raise SurveyAlreadyAnswered(request.id)


class FollowUp(SupportflowModel):
    """A low score to investigate at once; the desk routes it to the team's lead."""

    survey_id: SurveyId
    ticket_id: Id
    customer_id: Id
    team_id: Id | None = None
    agent_id: Id | None = None
    csat: CsatValue | None = None
    nps: NpsValue | None = None
    reason: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    raised_at: AwareDatetime


def _thresholds(csat_at_most: int, nps_at_most: int) -> None:
    if isinstance(csat_at_most, bool) or not isinstance(csat_at_most, int):
        raise ValidationFailed("csat_at_most", "must be an int")
    if isinstance(nps_at_most, bool) or not isinstance(nps_at_most, int):
        raise ValidationFailed("nps_at_most", "must be an int")
    if not 0 <= csat_at_most <= 5:
        raise ValidationFailed("csat_at_most", "must be between 0 (never) and 5")
    if not -1 <= nps_at_most <= 10:
        raise ValidationFailed("nps_at_most", "must be between -1 (never) and 10")


def _low_scores(response: SurveyResponse, csat_at_most: int, nps_at_most: int) -> list[str]:
    _thresholds(csat_at_most, nps_at_most)
    low = []
    if response.csat is not None and response.csat <= csat_at_most:
        low.append(f"CSAT {response.csat}/5 (at most {csat_at_most})")
    if response.nps is not None and response.nps <= nps_at_most:
        low.append(f"NPS {response.nps}/10 (at most {nps_at_most})")
    return low


def needs_follow_up(
    response: SurveyResponse, *, csat_at_most: int = 2, nps_at_most: int = 6
) -> bool:
    """Whether either score is low enough to investigate (defaults: CSAT ≤ 2, NPS ≤ 6).

    NPS 6 is the top of the detractors; pass ``csat_at_most=0`` or ``nps_at_most=-1`` to
    never follow up on that score.
    """
    return bool(_low_scores(response, csat_at_most, nps_at_most))


def follow_up(
    request: SurveyRequest,
    response: SurveyResponse,
    *,
    csat_at_most: int = 2,
    nps_at_most: int = 6,
) -> FollowUp | None:
    """The follow-up a response raises, naming the low score, or ``None`` if it raises none."""
    if response.survey_id != request.id:
        raise ValidationFailed("survey_id", f"must be {request.id!r}, the survey asked")
    low = _low_scores(response, csat_at_most, nps_at_most)
    if not low:
        return None
    return FollowUp(
        survey_id=request.id,
        ticket_id=request.ticket_id,
        customer_id=request.customer_id,
        team_id=request.team_id,
        agent_id=request.agent_id,
        csat=response.csat,
        nps=response.nps,
        reason="low score: " + ", ".join(low),
        raised_at=response.responded_at,
    )


# -- scores -----------------------------------------------------------------------------


@attrs.frozen(slots=True)
class Score:
    """A score with its 95% confidence interval, from ``n`` answers.

    CSAT is a percentage in [0, 100], NPS a number in [-100, 100]. With no answers
    ``value``, ``low`` and ``high`` are ``None``: no data is not a score of zero.
    """

    value: float | None
    low: float | None
    high: float | None
    n: int

    @classmethod
    def empty(cls) -> Score:
        """The score of no answers."""
        return cls(None, None, None, 0)


def compare(a: Score, b: Score) -> int:
    """``1`` if ``a`` is clearly above ``b``, ``-1`` if clearly below, else ``0``.

    Clearly means the two 95% intervals do not overlap, a deliberately cautious test: a
    team of five surveys is not ranked against a team of five hundred. A score without
    answers compares as ``0`` with anything. The result is truthy exactly when they differ.
    """
    if a.low is None or a.high is None or b.low is None or b.high is None:
        return 0
    if a.low > b.high:
        return 1
    if a.high < b.low:
        return -1
    return 0


def _clip(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def _csat_score(satisfied: int, n: int) -> Score:
    """Share satisfied with the Wilson interval, which stays inside [0, 1] for small n."""
    if n == 0:
        return Score.empty()
    p = satisfied / n
    z2 = Z_95 * Z_95
    denominator = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denominator
    half = Z_95 / denominator * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # The Wilson interval always contains p; the clips only absorb rounding.
    low = _clip(centre - half, 0.0, p)
    high = _clip(centre + half, p, 1.0)
    return Score(100 * p, 100 * low, 100 * high, n)


def _nps_score(promoters: int, detractors: int, n: int) -> Score:
    """Promoters minus detractors, with the normal interval of that trinomial difference.

    The variance is taken from shares with one pseudo-answer in each of the three groups
    (promoter, passive, detractor), so ten promoters out of ten get an interval, not
    [100, 100]: a small team is never ranked with more certainty than its count allows.
    The score itself is the plain share.
    """
    if n == 0:
        return Score.empty()
    value = (promoters - detractors) / n
    p_prom = (promoters + 1) / (n + 3)
    p_det = (detractors + 1) / (n + 3)
    spread = p_prom - p_det
    variance = max(p_prom + p_det - spread * spread, 0.0) / n
    half = Z_95 * math.sqrt(variance)
    return Score(
        100 * value,
        _clip(100 * (value - half), -100.0, 100 * value),
        _clip(100 * (value + half), 100 * value, 100.0),
        n,
    )


@attrs.frozen(slots=True)
class Tally:
    """The counts the scores come from; tallies add, so groups merge into their total.

    ``csat_n`` counts answers with a CSAT score and ``satisfied`` those scoring 4 or 5;
    ``nps_n`` counts answers with an NPS score, ``promoters`` those scoring 9–10 and
    ``detractors`` those scoring 0–6.
    """

    csat_n: int = 0
    satisfied: int = 0
    nps_n: int = 0
    promoters: int = 0
    detractors: int = 0

    def __add__(self, other: Tally) -> Tally:
        """The tally of both groups together."""
        return Tally(
            self.csat_n + other.csat_n,
            self.satisfied + other.satisfied,
            self.nps_n + other.nps_n,
            self.promoters + other.promoters,
            self.detractors + other.detractors,
        )

    def csat(self) -> Score:
        """The share of CSAT answers scoring 4 or 5, in percent, with its Wilson interval."""
        return _csat_score(self.satisfied, self.csat_n)

    def nps(self) -> Score:
        """Percent promoters minus percent detractors, with its 95% interval."""
        return _nps_score(self.promoters, self.detractors, self.nps_n)


class _Counter:
    """A mutable tally for one streaming pass; frozen :class:`Tally` objects come out."""

    __slots__ = ("csat_n", "detractors", "nps_n", "promoters", "satisfied")

    def __init__(self) -> None:
        self.csat_n = self.satisfied = self.nps_n = self.promoters = self.detractors = 0

    def add(self, response: SurveyResponse) -> None:
        if response.csat is not None:
            self.csat_n += 1
            self.satisfied += response.csat >= 4
        if response.nps is not None:
            self.nps_n += 1
            self.promoters += response.nps >= 9
            self.detractors += response.nps <= 6

    def freeze(self) -> Tally:
        return Tally(self.csat_n, self.satisfied, self.nps_n, self.promoters, self.detractors)


def tally(responses: Iterable[SurveyResponse]) -> Tally:
    """Count ``responses`` in one pass."""
    counter = _Counter()
    for response in responses:
        counter.add(response)
    return counter.freeze()


def csat(responses: Iterable[SurveyResponse]) -> Score:
    """CSAT: the percentage of CSAT answers scoring 4 or 5, with a Wilson 95% interval."""
    return tally(responses).csat()


def nps(responses: Iterable[SurveyResponse]) -> Score:
    """NPS: percent promoters (9–10) minus percent detractors (0–6), with a 95% interval."""
    return tally(responses).nps()


def group_tallies(pairs: Iterable[tuple[K, SurveyResponse]]) -> dict[K, Tally]:
    """The tally of each key's responses, in one pass (keys in first-seen order)."""
    counters: dict[K, _Counter] = {}
    for key, response in pairs:
        counter = counters.get(key)
        if counter is None:
            counter = counters[key] = _Counter()
        counter.add(response)
    return {key: counter.freeze() for key, counter in counters.items()}


def group_scores(pairs: Iterable[tuple[K, SurveyResponse]]) -> dict[K, tuple[Score, Score]]:
    """``(csat, nps)`` for each key (team, agent, channel, ...), in one pass over ``pairs``."""
    return {key: (t.csat(), t.nps()) for key, t in group_tallies(pairs).items()}
