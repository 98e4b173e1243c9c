"""Support figures computed in one streaming pass over the event log.

:func:`compute_metrics` reads events in time order (as ``EventLog.between`` yields them),
keeps a small slotted record per *open* ticket and drops it when the ticket closes, and
keeps each group's durations in a :class:`~supportflow.analytics.quantiles.Durations` (the values
themselves up to 2,048, then a fixed-size sketch), so its memory does not grow with the
number of events. Only ``event.type``, ``event.at``, ``event.ticket_id`` and
``event.data`` are read; nothing is validated per event.

Definitions (every figure, exactly):

- **Period**: ``[start, end)``. Events before ``start`` only build ticket state (pass
  events from early enough, ``log.between(start - lookback, end)``, so tickets resolved in
  the period have their ``ticket.created`` in the stream); events for a ticket whose
  ``ticket.created`` was not seen are counted in ``untracked_events`` and ignored. The
  stream stops at the first event at or after ``end``.
- **Volume**: tickets whose ``ticket.created`` is in the period.
- **First response**: the event that set ``first_response_at``, which the desk sets on the
  first public reply (``ticket.replied``) or request for information
  (``ticket.info_requested``); internal notes do not count. First-response time is that
  event's time minus ``created_at``, counted for tickets whose first response is in the
  period.
- **Resolution time**: ``resolved_at - created_at`` of the ticket's final resolution (a
  reopen clears it), counted for tickets whose final resolution is in the period.
- **Pauses**: not subtracted. Calendar time is wall time; business time
  (``calendar.elapsed``, only with a ``calendar``) excludes only the calendar's closed
  hours, not time waiting on the customer or on hold. SLA pause rules show in attainment.
- **Median / p90**: in seconds, ``None`` when there are no values. Exact (linear
  interpolation between order statistics, numpy's default method) while a group holds at
  most 2,048 durations; beyond that within 0.5% (a log-bucketed sketch,
  :mod:`supportflow.analytics.quantiles`). Minimum and maximum are always exact.
- **SLA attainment** per metric: among tickets created in the period whose due time for
  that metric was ever stamped (``<metric>_due_at`` set), the share with no
  ``sla.breached`` event for that metric in the stream; ``None`` without such tickets.
  Tickets created just before ``end`` have had little time to breach.
- **Rates** are over the tickets *resolved in the period* (at least one ``ticket.resolved``
  in the period): reopen rate, the share reopened at least once (``reopen_count`` raised);
  escalation rate, the share whose ``escalation_level`` was raised (``ticket.escalated`` or
  the SLA ladder's ``sla.escalated``); first-contact resolution, the share with exactly one
  agent message to the customer (public reply or request for information) and no reopen.
  ``None`` when no ticket was resolved.
- **Complaints**: tickets created in the period with a ``complaint_category``, by category;
  the rate is complaints over volume.
- **Resolution goal**: among the resolution times counted, those of at most
  ``resolution_goal`` (24 h by default; calendar time), for the documents' "resolved within
  24 hours".
- **Stages** (bottlenecks): a ticket's open time is split by status into *assignment*
  (``new``), *acknowledgement* (``assigned``), *first reply* (``in_progress`` before the
  first response), *customer* (``waiting_on_customer``), *on hold* (``on_hold``) and
  *handling* (``in_progress`` after the first response), in calendar time. Counted for the
  tickets whose resolution time is counted, from creation to their final resolution; for a
  ticket never reopened the stages add up to its resolution time (a reopened one also spent
  time resolved). A group's **bottleneck** is the stage with the most total time.
- **CSAT and NPS**: over the survey answers (``feedback.survey_answered``) received in the
  period, whenever their ticket was created or resolved; CSAT is the share of CSAT answers
  scoring 4 or 5, NPS percent promoters (9-10) minus percent detractors (0-6), each with a
  95% interval (:class:`~supportflow.feedback.Score`). An answer is grouped by the values
  recorded with it (the resolving team and agent, the ticket's channel and category, the
  customer's tier when it answered), else by its ticket's.
- **Backlog**: at each whole hour ``h`` (UTC hour boundaries) in the period, the tickets
  created in the stream before ``h`` whose status after every event before ``h`` is open
  (neither resolved nor closed).
- **Groups**: a ticket's figures all go to the group values it has when it leaves the
  stream (closes, or the period ends): ``team`` and ``channel`` and ``category`` as then,
  ``agent`` the assignee at its last resolution (else the current assignee), ``tier`` from
  ``tiers[customer_id]``, else ``customer_tier`` in the created event's data. A missing
  value is the group :data:`NONE`. So summing a figure's counts over one dimension's groups
  gives the total.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import attrs

from .. import _validate as check
from ..errors import ValidationFailed
from ..events import EventType
from ..feedback import Score, Tally
from ..models import CustomerTier, TicketEvent
from ..sla.calendar import BusinessCalendar
from .quantiles import Durations

__all__ = [
    "GROUP_DIMENSIONS",
    "NONE",
    "SLA_METRICS",
    "STAGES",
    "Attainment",
    "DurationStats",
    "GroupMetrics",
    "MetricsReport",
    "StageTime",
    "compute_metrics",
    "metrics_pass",
]

GROUP_DIMENSIONS = ("team", "agent", "channel", "category", "tier")
"""The names ``group_by`` accepts."""

NONE = "(none)"
"""The group of tickets without a value for a dimension (no team yet, no category)."""

SLA_METRICS = ("first_response", "acknowledgement", "next_response", "resolution")
"""The SLA metrics attainment is reported for (``SlaMetric`` values)."""

_DUE_KEYS = tuple((f"{metric}_due_at", 1 << i) for i, metric in enumerate(SLA_METRICS))
_DUE_BITS = dict(_DUE_KEYS)
_METRIC_BIT = {metric: 1 << i for i, metric in enumerate(SLA_METRICS)}
_HOUR = timedelta(hours=1)
_FAR = datetime.max.replace(tzinfo=UTC)
_CREATED = EventType.CREATED.value
_BREACHED = EventType.SLA_BREACHED.value
_RESOLVED = EventType.RESOLVED.value
_ANSWERED = EventType.SURVEY_ANSWERED.value
_AGENT_MESSAGES = frozenset({EventType.REPLIED.value, EventType.INFO_REQUESTED.value})
_CLOSED_STATUSES = frozenset({"resolved", "closed"})
_WATCHED = frozenset(
    {
        "status",
        "assignee_id",
        "team_id",
        "first_response_at",
        "resolved_at",
        "reopen_count",
        "escalation_level",
        *_DUE_BITS,
    }
)
"""The changed fields the pass follows; an event changing none of them costs one test."""

STAGES = ("assignment", "acknowledgement", "first_reply", "customer", "on_hold", "handling")
"""The lifecycle stages a ticket's open time is split into (see the module's definitions)."""

_STAGE_OF_STATUS = {
    "new": 0,
    "assigned": 1,
    "in_progress": 2,
    "waiting_on_customer": 3,
    "on_hold": 4,
}
_FIRST_REPLY = 2
_HANDLING = 5


# -- results ---------------------------------------------------------------------------


@attrs.frozen(slots=True)
class DurationStats:
    """Summary of a set of durations, in seconds (``None`` when ``count`` is 0)."""

    count: int
    median: float | None
    p90: float | None
    min: float | None
    max: float | None

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "count": self.count,
            "median": self.median,
            "p90": self.p90,
            "min": self.min,
            "max": self.max,
        }


@attrs.frozen(slots=True)
class Attainment:
    """How many tickets had an SLA commitment and how many breached it."""

    committed: int
    breached: int

    @property
    def rate(self) -> float | None:
        """Share met, in ``[0, 1]``; ``None`` without commitments."""
        if not self.committed:
            return None
        return (self.committed - self.breached) / self.committed

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"committed": self.committed, "breached": self.breached, "rate": self.rate}


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@attrs.frozen(slots=True)
class StageTime:
    """Time tickets spent in one lifecycle stage, in calendar seconds."""

    tickets: int
    """Tickets that spent any time in the stage."""
    seconds: float
    """Their total time in it."""

    @property
    def mean(self) -> float | None:
        """Mean seconds per ticket that was in the stage; ``None`` when none was."""
        return self.seconds / self.tickets if self.tickets else None

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"tickets": self.tickets, "seconds": self.seconds, "mean": self.mean}


@attrs.frozen(slots=True)
class GroupMetrics:
    """The figures of one group of tickets (or all of them); see the module's definitions."""

    volume: int
    first_response: DurationStats
    resolution: DurationStats
    first_response_business: DurationStats | None
    """``None`` when no calendar was given."""
    resolution_business: DurationStats | None
    sla: Mapping[str, Attainment]
    """By SLA metric name."""
    resolved: int
    """Tickets resolved in the period: the denominator of the rates."""
    reopened: int
    escalated: int
    first_contact_resolved: int
    complaints: Mapping[str, int]
    """Complaint volume by complaint category (only categories seen)."""
    resolved_within_goal: int
    """Resolution times counted that were at most the ``resolution_goal``."""
    stages: Mapping[str, StageTime]
    """Time in each of :data:`STAGES`, of the tickets whose resolution time is counted."""
    feedback: Tally
    """Survey answers received in the period."""

    @property
    def resolution_goal_rate(self) -> float | None:
        """Share of counted resolution times within the goal."""
        return _rate(self.resolved_within_goal, self.resolution.count)

    @property
    def bottleneck(self) -> str | None:
        """The stage with the most total time; ``None`` when no time was counted."""
        name, stage = max(self.stages.items(), key=lambda item: item[1].seconds)
        return name if stage.seconds > 0 else None

    @property
    def csat(self) -> Score:
        """CSAT percent with its 95% interval (:meth:`Tally.csat`)."""
        return self.feedback.csat()

    @property
    def nps(self) -> Score:
        """NPS with its 95% interval (:meth:`Tally.nps`)."""
        return self.feedback.nps()

    @property
    def reopen_rate(self) -> float | None:
        """Reopened / resolved."""
        return _rate(self.reopened, self.resolved)

    @property
    def escalation_rate(self) -> float | None:
        """Escalated / resolved."""
        return _rate(self.escalated, self.resolved)

    @property
    def first_contact_resolution_rate(self) -> float | None:
        """Resolved with one agent message and no reopen / resolved."""
        return _rate(self.first_contact_resolved, self.resolved)

    @property
    def complaint_volume(self) -> int:
        """Complaints of every category."""
        return sum(self.complaints.values())

    @property
    def complaint_rate(self) -> Mapping[str, float | None]:
        """Complaints / volume, by complaint category."""
        return {name: _rate(count, self.volume) for name, count in self.complaints.items()}

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form, rates included."""
        return {
            "volume": self.volume,
            "first_response": self.first_response.as_data(),
            "first_response_business": _data_or_none(self.first_response_business),
            "resolution": self.resolution.as_data(),
            "resolution_business": _data_or_none(self.resolution_business),
            "sla": {name: a.as_data() for name, a in self.sla.items()},
            "resolved": self.resolved,
            "reopen_rate": self.reopen_rate,
            "escalation_rate": self.escalation_rate,
            "first_contact_resolution_rate": self.first_contact_resolution_rate,
            "complaints": dict(self.complaints),
            "complaint_volume": self.complaint_volume,
            "complaint_rate": dict(self.complaint_rate),
            "complaint_volume_rate": _rate(self.complaint_volume, self.volume),
            "resolved_within_goal": self.resolved_within_goal,
            "resolution_goal_rate": self.resolution_goal_rate,
            "stages": {name: stage.as_data() for name, stage in self.stages.items()},
            "bottleneck": self.bottleneck,
            "feedback": attrs.asdict(self.feedback),
            "csat": attrs.asdict(self.csat),
            "nps": attrs.asdict(self.nps),
        }


def _data_or_none(stats: DurationStats | None) -> dict[str, Any] | None:
    return None if stats is None else stats.as_data()


@attrs.frozen(slots=True)
class MetricsReport:
    """Figures for a period: the total, each group, the backlog by hour."""

    start: datetime
    end: datetime
    total: GroupMetrics
    groups: Mapping[str, Mapping[str, GroupMetrics]]
    """``groups[dimension][value]``, for each ``group_by`` dimension."""
    backlog: tuple[tuple[datetime, int], ...]
    """``(hour, open tickets)`` at each whole hour in the period."""
    resolution_goal: timedelta
    """The resolution time ``resolved_within_goal`` counts against."""
    untracked_events: int
    """Events of tickets whose ``ticket.created`` was not in the stream (ignored)."""

    def as_data(self) -> dict[str, Any]:
        """JSON-ready form (datetimes as ISO 8601)."""
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "total": self.total.as_data(),
            "groups": {
                dim: {value: g.as_data() for value, g in by_value.items()}
                for dim, by_value in self.groups.items()
            },
            "backlog": [[hour.isoformat(), count] for hour, count in self.backlog],
            "resolution_goal_seconds": self.resolution_goal.total_seconds(),
            "untracked_events": self.untracked_events,
        }


# -- accumulation ----------------------------------------------------------------------


@attrs.define(slots=True)
class _Ticket:
    """What the pass remembers of one ticket until it closes."""

    created_at: datetime
    created_ts: float
    """``created_at`` as a POSIX timestamp: the pass compares and subtracts floats, as an
    aware datetime's comparison calls ``utcoffset`` on both sides."""
    customer_id: str | None
    channel: str | None
    category: str | None
    complaint: str | None
    team: str | None
    agent: str | None
    tier: str | None
    created_in: bool
    status: str
    since: float
    """When the current stage began (a timestamp)."""
    stages: list[float] | None = None
    open: bool = True
    agent_messages: int = 0
    reopened: bool = False
    escalated: bool = False
    resolved_in: bool = False
    resolved_at: datetime | None = None
    resolved_ts: float = 0.0
    resolver: str | None = None
    first_response_at: datetime | None = None
    first_ts: float = 0.0
    committed: int = 0
    breached: int = 0


_DURATIONS = 4
"""first response, its business time, resolution, its business time: each group's order."""


@attrs.define(slots=True)
class _Acc:
    """Running counts of one cell (one combination of group values), or a group's sum."""

    volume: int = 0
    committed: list[int] = attrs.Factory(lambda: [0] * len(SLA_METRICS))
    breached: list[int] = attrs.Factory(lambda: [0] * len(SLA_METRICS))
    resolved: int = 0
    reopened: int = 0
    escalated: int = 0
    first_contact_resolved: int = 0
    complaints: dict[str, int] = attrs.Factory(dict)
    resolved_within_goal: int = 0
    stage_tickets: list[int] = attrs.Factory(lambda: [0] * len(STAGES))
    stage_seconds: list[float] = attrs.Factory(lambda: [0.0] * len(STAGES))
    feedback: list[int] = attrs.Factory(lambda: [0] * 5)
    """csat answers, satisfied, nps answers, promoters, detractors (``Tally``'s order)."""

    def add(self, other: _Acc) -> None:
        """Add ``other``'s counts to these."""
        self.volume += other.volume
        self.resolved += other.resolved
        self.reopened += other.reopened
        self.escalated += other.escalated
        self.first_contact_resolved += other.first_contact_resolved
        self.resolved_within_goal += other.resolved_within_goal
        for mine, theirs in (
            (self.committed, other.committed),
            (self.breached, other.breached),
            (self.stage_tickets, other.stage_tickets),
            (self.feedback, other.feedback),
        ):
            for i, value in enumerate(theirs):
                mine[i] += value
        for i, seconds in enumerate(other.stage_seconds):
            self.stage_seconds[i] += seconds
        for name, count in other.complaints.items():
            self.complaints[name] = self.complaints.get(name, 0) + count

    def result(self, durations: list[Durations], business: bool) -> GroupMetrics:
        first, first_business, resolution, resolution_business = durations
        return GroupMetrics(
            volume=self.volume,
            first_response=_stats(first),
            resolution=_stats(resolution),
            first_response_business=_stats(first_business) if business else None,
            resolution_business=_stats(resolution_business) if business else None,
            sla=MappingProxyType(
                {
                    metric: Attainment(self.committed[i], self.breached[i])
                    for i, metric in enumerate(SLA_METRICS)
                }
            ),
            resolved=self.resolved,
            reopened=self.reopened,
            escalated=self.escalated,
            first_contact_resolved=self.first_contact_resolved,
            complaints=MappingProxyType(dict(sorted(self.complaints.items()))),
            resolved_within_goal=self.resolved_within_goal,
            stages=MappingProxyType(
                {
                    name: StageTime(self.stage_tickets[i], self.stage_seconds[i])
                    for i, name in enumerate(STAGES)
                }
            ),
            feedback=Tally(*self.feedback),
        )


class _Group:
    """One group's durations while they are exact, and the cells it is the sum of.

    Durations go to each ticket's *cell* (its combination of group values) as a sketch;
    a group keeps its own exact values only until it has more than the exact limit, after
    which its quantiles come from its cells' sketches merged. So a ticket costs one cell
    update, not one update per group, once groups are large.
    """

    __slots__ = ("cells", "exact", "open")

    def __init__(self) -> None:
        self.exact: list[Durations | None] = [Durations() for _ in range(_DURATIONS)]
        self.open = True
        """Whether any of ``exact`` still holds values."""
        self.cells: list[_Cell] = []

    def append(self, index: int, value: float) -> None:
        exact = self.exact[index]
        if exact is None:
            return
        exact.append(value)
        if not exact.exact:
            self.exact[index] = None
            self.open = any(d is not None for d in self.exact)

    def result(self, business: bool) -> GroupMetrics:
        counts = _Acc()
        for cell in self.cells:
            counts.add(cell.counts)
        durations = [
            exact
            if exact is not None
            else Durations.merged(cell.sketches[i] for cell in self.cells)
            for i, exact in enumerate(self.exact)
        ]
        return counts.result(durations, business)


class _Cell:
    """The counts and sketched durations of the tickets with one combination of values."""

    __slots__ = ("counts", "members", "sketches")

    def __init__(self, members: tuple[_Group, ...]) -> None:
        self.counts = _Acc()
        self.sketches = [Durations(exact=False) for _ in range(_DURATIONS)]
        self.members = members
        """The total and the group of each dimension this cell belongs to."""
        for group in members:
            group.cells.append(self)


def _stats(values: Durations) -> DurationStats:
    return DurationStats(
        count=len(values),
        median=values.quantile(0.5),
        p90=values.quantile(0.9),
        min=values.min,
        max=values.max,
    )


class _Pass:
    """One streaming pass: ticket state in, group totals out."""

    def __init__(
        self,
        start: datetime,
        end: datetime,
        group_by: tuple[str, ...],
        calendar: BusinessCalendar | None,
        tiers: Mapping[str, str],
        resolution_goal: timedelta,
    ) -> None:
        self.start = start
        self.end = end
        self.on_created: OnCreated | None = None
        self.start_ts = start.timestamp()
        self.end_ts = end.timestamp()
        self.group_by = group_by
        self.calendar = calendar
        self.tiers = tiers
        self.resolution_goal = resolution_goal
        self.goal_seconds = resolution_goal.total_seconds()
        self.tickets: dict[str, _Ticket] = {}
        self.total = _Group()
        self.groups: dict[str, dict[str, _Group]] = {dim: {} for dim in group_by}
        self.cells: dict[tuple[str, ...], _Cell] = {}
        self.backlog: list[tuple[datetime, int]] = []
        self.open_count = 0
        self.untracked = 0

    def run(self, events: Iterable[TicketEvent]) -> None:
        start_ts, end_ts = self.start_ts, self.end_ts
        tickets = self.tickets
        # Hours step in UTC: a zone's wall clock skips or repeats an hour at DST changes.
        zone = self.start.tzinfo
        next_hour = _first_hour(self.start)
        next_ts = next_hour.timestamp()
        if next_ts >= end_ts:
            next_ts = math.inf
        last = -math.inf
        last_at: datetime | None = None
        for event in events:
            at = event.at
            ts = at.timestamp()
            if ts < last:
                assert last_at is not None
                raise ValidationFailed(
                    "events", f"not in time order: {at.isoformat()} after {last_at.isoformat()}"
                )
            last, last_at = ts, at
            if ts >= end_ts:
                break
            while ts >= next_ts:
                self.backlog.append((next_hour.astimezone(zone), self.open_count))
                next_hour += _HOUR
                next_ts = next_hour.timestamp()
                if next_ts >= end_ts:
                    next_ts = math.inf
            kind = event.type
            data = event.data
            if kind == _CREATED:
                self._created(event.ticket_id, at, ts, data)
                continue
            state = tickets.get(event.ticket_id)
            if kind == _ANSWERED:
                if ts >= start_ts:
                    self._answered(state, data)
                continue
            if state is None:
                self.untracked += 1
                continue
            if kind == _BREACHED:
                state.breached |= _METRIC_BIT.get(data.get("metric", ""), 0)
            elif kind in _AGENT_MESSAGES:
                state.agent_messages += 1
            changes = data.get("changes")
            if changes:
                self._changed(event.ticket_id, state, kind, at, ts, changes)
        while next_hour < self.end:
            self.backlog.append((next_hour.astimezone(zone), self.open_count))
            next_hour += _HOUR
        for state in tickets.values():
            self._flush(state)
        tickets.clear()

    def _created(self, ticket_id: str, at: datetime, ts: float, data: Mapping[str, Any]) -> None:
        ticket = data.get("ticket") or {}
        if self.on_created is not None:
            self.on_created(at, ticket)
        customer_id = ticket.get("customer_id")
        tier = self.tiers.get(customer_id) if customer_id is not None else None
        if tier is None:
            tier = data.get("customer_tier") or ticket.get("customer_tier")
        state = _Ticket(
            created_at=at,
            created_ts=ts,
            customer_id=customer_id,
            channel=ticket.get("channel"),
            category=ticket.get("category"),
            complaint=ticket.get("complaint_category"),
            team=ticket.get("team_id"),
            agent=ticket.get("assignee_id"),
            tier=tier,
            created_in=ts >= self.start_ts,
            status=ticket.get("status") or "new",
            since=ts,
        )
        for key, bit in _DUE_KEYS:
            if ticket.get(key) is not None:
                state.committed |= bit
        previous = self.tickets.get(ticket_id)
        if previous is not None:
            self._drop(ticket_id, previous)
        self.tickets[ticket_id] = state
        self.open_count += 1

    def _changed(
        self,
        ticket_id: str,
        state: _Ticket,
        kind: str,
        at: datetime,
        ts: float,
        changes: Mapping[str, Any],
    ) -> None:
        present = changes.keys() & _WATCHED
        if not present:
            if kind == _RESOLVED and ts >= self.start_ts:
                state.resolved_in = True
            return
        status = changes.get("status") if "status" in present else None
        replied = "first_response_at" in present and state.first_response_at is None
        if status is not None or replied:
            _end_stage(state, ts)
        if "assignee_id" in present:
            state.agent = changes["assignee_id"]
        if "team_id" in present:
            state.team = changes["team_id"]
        if replied:
            state.first_response_at = at
            state.first_ts = ts
        if "resolved_at" in present:
            if changes["resolved_at"] is None:
                state.resolved_at = None
            else:
                state.resolved_at = at
                state.resolved_ts = ts
                state.resolver = state.agent
                if ts >= self.start_ts:
                    state.resolved_in = True
        elif kind == _RESOLVED and ts >= self.start_ts:
            state.resolved_in = True
        if "reopen_count" in present and changes["reopen_count"]:
            state.reopened = True
        if "escalation_level" in present and changes["escalation_level"]:
            state.escalated = True
        if not present.isdisjoint(_DUE_BITS):
            for key in present & _DUE_BITS.keys():
                if changes[key] is not None:
                    state.committed |= _DUE_BITS[key]
        if status is not None:
            state.status = status
            is_open = status not in _CLOSED_STATUSES
            if is_open != state.open:
                state.open = is_open
                self.open_count += 1 if is_open else -1
            if status == "closed":
                self._drop(ticket_id, state)

    def _answered(self, state: _Ticket | None, data: Mapping[str, Any]) -> None:
        """Count a survey answer in the groups recorded with it (else the ticket's own)."""
        response = data.get("response")
        if not isinstance(response, Mapping):
            return
        context = data.get("context")
        if isinstance(context, Mapping):
            keys = [_context_value(context, dim, self.tiers) for dim in self.group_by]
        else:
            keys = [None if state is None else _group_value(state, dim) for dim in self.group_by]
        counts = self._cell(keys).counts.feedback
        csat, nps = response.get("csat"), response.get("nps")
        if isinstance(csat, int):
            counts[0] += 1
            counts[1] += csat >= 4
        if isinstance(nps, int):
            counts[2] += 1
            counts[3] += nps >= 9
            counts[4] += nps <= 6

    def _cell(self, keys: list[str | None]) -> _Cell:
        """The cell of one combination of group values (``None``: :data:`NONE`)."""
        key = tuple(value or NONE for value in keys)
        cell = self.cells.get(key)
        if cell is None:
            members = [self.total]
            for dim, value in zip(self.group_by, key, strict=True):
                by_value = self.groups[dim]
                group = by_value.get(value)
                if group is None:
                    group = by_value[value] = _Group()
                members.append(group)
            cell = self.cells[key] = _Cell(tuple(members))
        return cell

    def _drop(self, ticket_id: str, state: _Ticket) -> None:
        if state.open:
            self.open_count -= 1
        self._flush(state)
        del self.tickets[ticket_id]

    def _flush(self, state: _Ticket) -> None:
        """Add a ticket's figures to the total and its groups."""
        start, end = self.start_ts, self.end_ts
        first = state.first_response_at
        counted_first = first is not None and start <= state.first_ts < end
        resolved = state.resolved_at
        counted_resolution = resolved is not None and start <= state.resolved_ts < end
        if not (state.created_in or counted_first or counted_resolution or state.resolved_in):
            return
        created = state.created_at
        calendar = self.calendar
        first_values: tuple[float, float] | None = None
        if counted_first and first is not None:
            first_values = _durations(created, first, state.first_ts - state.created_ts, calendar)
        resolution_values: tuple[float, float] | None = None
        if counted_resolution and resolved is not None:
            wall = state.resolved_ts - state.created_ts
            resolution_values = _durations(created, resolved, wall, calendar)
        cell = self._cell([_group_value(state, dim) for dim in self.group_by])
        counts = cell.counts
        if state.created_in:
            counts.volume += 1
            if state.complaint is not None:
                counts.complaints[state.complaint] = counts.complaints.get(state.complaint, 0) + 1
            if state.committed:
                for i in range(len(SLA_METRICS)):
                    bit = 1 << i
                    if state.committed & bit:
                        counts.committed[i] += 1
                        if state.breached & bit:
                            counts.breached[i] += 1
        sketches = cell.sketches
        values: list[tuple[int, float]] = []
        if first_values is not None:
            wall, business = first_values
            sketches[0].append(wall)
            values.append((0, wall))
            if calendar is not None:
                sketches[1].append(business)
                values.append((1, business))
        if resolution_values is not None:
            wall, business = resolution_values
            sketches[2].append(wall)
            values.append((2, wall))
            if calendar is not None:
                sketches[3].append(business)
                values.append((3, business))
            counts.resolved_within_goal += wall <= self.goal_seconds
            stages = state.stages
            if stages is not None:
                for i, seconds in enumerate(stages):
                    if seconds:
                        counts.stage_tickets[i] += 1
                        counts.stage_seconds[i] += seconds
        if state.resolved_in:
            counts.resolved += 1
            counts.reopened += state.reopened
            counts.escalated += state.escalated
            counts.first_contact_resolved += state.agent_messages == 1 and not state.reopened
        if values:
            for group in cell.members:
                if group.open:
                    for index, value in values:
                        group.append(index, value)

    def report(self) -> MetricsReport:
        business = self.calendar is not None
        return MetricsReport(
            start=self.start,
            end=self.end,
            total=self.total.result(business),
            groups=MappingProxyType(
                {
                    dim: MappingProxyType(
                        {value: g.result(business) for value, g in sorted(by_value.items())}
                    )
                    for dim, by_value in self.groups.items()
                }
            ),
            backlog=tuple(self.backlog),
            resolution_goal=self.resolution_goal,
            untracked_events=self.untracked,
        )


def _end_stage(state: _Ticket, ts: float) -> None:
    """Add the time since the stage began to the stage the ticket was in."""
    index = _STAGE_OF_STATUS.get(state.status)
    if index is not None:
        if index == _FIRST_REPLY and state.first_response_at is not None:
            index = _HANDLING
        seconds = ts - state.since
        if seconds > 0:
            stages = state.stages
            if stages is None:
                stages = state.stages = [0.0] * len(STAGES)
            stages[index] += seconds
    state.since = ts


_CONTEXT_KEYS = {
    "team": "team_id",
    "agent": "agent_id",
    "channel": "channel",
    "category": "category",
}


def _context_value(context: Mapping[str, Any], dim: str, tiers: Mapping[str, str]) -> str | None:
    """A survey answer's group value for ``dim`` from the context recorded with it."""
    if dim == "tier":
        customer_id = context.get("customer_id")
        tier = tiers.get(customer_id) if isinstance(customer_id, str) else None
        value = tier or context.get("customer_tier")
    else:
        value = context.get(_CONTEXT_KEYS[dim])
    return value if isinstance(value, str) else None


def _group_value(state: _Ticket, dim: str) -> str | None:
    if dim == "team":
        return state.team
    if dim == "agent":
        return state.resolver if state.resolved_at is not None else state.agent
    if dim == "channel":
        return state.channel
    if dim == "category":
        return state.category
    return state.tier


def _durations(
    start: datetime, end: datetime, wall: float, calendar: BusinessCalendar | None
) -> tuple[float, float]:
    """``wall`` seconds, and the business seconds between ``start`` and ``end``."""
    business = calendar.elapsed(start, end).total_seconds() if calendar is not None else math.nan
    return wall, business


def _first_hour(start: datetime) -> datetime:
    """The first whole UTC hour at or after ``start``, in UTC."""
    utc = start.astimezone(UTC)
    floor = utc.replace(minute=0, second=0, microsecond=0)
    return floor if floor == utc else floor + _HOUR


# -- entry point -----------------------------------------------------------------------


def compute_metrics(
    events: Iterable[TicketEvent],
    *,
    start: datetime,
    end: datetime,
    group_by: Sequence[str] = GROUP_DIMENSIONS,
    calendar: BusinessCalendar | None = None,
    tiers: Mapping[str, CustomerTier | str] | None = None,
    resolution_goal: timedelta = timedelta(hours=24),
) -> MetricsReport:
    """The figures of ``[start, end)`` from ``events`` in time order, in one pass.

    Definitions are in the module docstring. Memory holds one small record per ticket still
    open (dropped at ``ticket.closed``) plus the duration values, not the events. Events
    out of time order, naive or reversed bounds and unknown ``group_by`` names raise
    :class:`~supportflow.errors.ValidationFailed` naming the argument.
    """
    return metrics_pass(
        events,
        start=start,
        end=end,
        group_by=group_by,
        calendar=calendar,
        tiers=tiers,
        resolution_goal=resolution_goal,
        on_created=None,
    )


def metrics_pass(
    events: Iterable[TicketEvent],
    *,
    start: datetime,
    end: datetime,
    group_by: Sequence[str],
    calendar: BusinessCalendar | None,
    tiers: Mapping[str, CustomerTier | str] | None,
    resolution_goal: timedelta,
    on_created: OnCreated | None,
) -> MetricsReport:
    """:func:`compute_metrics`, also calling ``on_created`` for every ticket created.

    The monthly report counts tickets per hour for surges on the same pass, without a
    generator between the store and the pass (a microsecond an event).
    """
    start = check.aware("start", start)
    end = check.aware("end", end)
    if end <= start:
        raise ValidationFailed("end", "must be after start")
    dims = _group_by(group_by)
    if calendar is not None and not isinstance(calendar, BusinessCalendar):
        raise ValidationFailed(
            "calendar", f"must be a BusinessCalendar, not {type(calendar).__name__}"
        )
    tier_of = _tiers(tiers)
    if not isinstance(resolution_goal, timedelta) or resolution_goal <= timedelta(0):
        raise ValidationFailed("resolution_goal", "must be a positive timedelta")
    if isinstance(events, (str, bytes)) or not isinstance(events, Iterable):
        raise ValidationFailed("events", "must be an iterable of TicketEvent")
    run = _Pass(start, end, dims, calendar, tier_of, resolution_goal)
    run.on_created = on_created
    run.run(events)
    return run.report()


OnCreated = Callable[[datetime, Mapping[str, Any]], None]
"""Called with each ``ticket.created`` event's time and ticket snapshot, in stream order."""


def _group_by(group_by: object) -> tuple[str, ...]:
    if isinstance(group_by, str) or not isinstance(group_by, Sequence):
        raise ValidationFailed("group_by", "must be a sequence of dimension names")
    dims: list[str] = []
    for name in group_by:
        if not isinstance(name, str) or name not in GROUP_DIMENSIONS:
            known = ", ".join(GROUP_DIMENSIONS)
            raise ValidationFailed(
                "group_by", f"unknown dimension {check.shown(name)}; known: {known}"
            )
        if name in dims:
            raise ValidationFailed("group_by", f"{name!r} is listed twice")
        dims.append(name)
    return tuple(dims)


def _tiers(tiers: object) -> dict[str, str]:
    if tiers is None:
        return {}
    if not isinstance(tiers, Mapping):
        raise ValidationFailed("tiers", "must map customer ids to tiers")
    return {
        str(customer): check.enum_value(f"tiers.{customer}", CustomerTier, tier).value
        for customer, tier in tiers.items()
    }
