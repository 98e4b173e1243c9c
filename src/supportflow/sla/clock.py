"""SLA clocks: where each commitment on a ticket stands, kept up to date event by event.

:class:`SlaClock` follows a ticket's event stream. Each metric runs in *cycles*: first
response and resolution start when the ticket is created; acknowledgement starts at every
(re)assignment; next response at every customer message that arrives after the ticket was
answered. A cycle keeps only its running segments, so applying one more event costs the
same however long the history is, and every figure (consumed time, due time, the instant a
warning or breach fell due) is a few calendar look-ups over those segments.

When a clock runs: a cycle stops at the event that meets it (a public reply or request for
information meets first and next response; acknowledgement meets acknowledgement; resolution
meets resolution) and at resolution or closing for every metric; it is paused in the
statuses its metric's ``pause_in`` lists. Reopening resumes the resolution clock with the
time it had already used. A cycle whose consumed open time exceeds its target is breached;
one stopped at or before its due instant is met. Targets are looked up from the policy with
the ticket's current facts, so a priority change moves the due time at once. An
``sla.target_overridden`` event (``data["metric"]``, ``data["target"]``, ``None`` to clear)
replaces one metric's target for the ticket, whatever the rules say; its rule reads
``"override"``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import attrs

from .._validate import aware, enum_value
from ..errors import ValidationFailed
from ..models import Channel, CustomerTier, Priority, TicketEvent, TicketStatus
from .calendar import BusinessCalendar
from .policy import SlaMetric, SlaPolicy, Target, TicketFacts

__all__ = [
    "AlertKind",
    "ClockStatus",
    "Deadline",
    "MetricClock",
    "SlaAlert",
    "SlaClock",
    "SlaState",
]

_ZERO = timedelta(0)
_STOPPING = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})
# Event types, spelled out here so the domain layer does not import the desk's vocabulary.
_CREATED = "ticket.created"
_RESPONDED = frozenset({"ticket.replied", "ticket.info_requested"})
_ACKNOWLEDGED = "ticket.acknowledged"
_CUSTOMER_REPLIED = "ticket.customer_replied"
_SLA_PREFIX = "sla."
_TARGET_OVERRIDDEN = "sla.target_overridden"
OVERRIDE_RULE = "override"
"""The rule name a clock reports for a target set by hand (``SupportDesk.override_sla_target``)."""


class ClockStatus(StrEnum):
    """Where a metric's current cycle stands."""

    RUNNING = "running"
    PAUSED = "paused"
    MET = "met"
    BREACHED = "breached"


class AlertKind(StrEnum):
    """What an SLA alert says; its event type is ``sla.<kind>``."""

    WARNING = "warning"
    BREACHED = "breached"
    ESCALATED = "escalated"


@attrs.frozen(slots=True)
class Deadline:
    """One running commitment on a ticket: ``metric`` due at ``due_at``."""

    metric: SlaMetric
    due_at: datetime


@attrs.frozen(slots=True)
class MetricClock:
    """A snapshot of one metric's current cycle at ``SlaState.at``."""

    metric: SlaMetric
    status: ClockStatus
    target: Target
    rule: str
    """The policy rule that chose ``target`` (see ``SlaPolicy.explain``)."""
    cycle: int
    """``seq`` of the event that started the cycle; alerts name it."""
    started_at: datetime
    due_at: datetime | None
    """When a running cycle falls due, or when a stopped one was due; ``None`` while paused."""
    consumed: timedelta
    """Open time used so far, on the target's calendar."""
    remaining: timedelta
    """``target.within - consumed``: negative once breached."""
    paused: tuple[tuple[datetime, datetime | None], ...]
    """Intervals in which the cycle did not run (the last one open while paused)."""
    stopped_at: datetime | None
    breached_at: datetime | None


@attrs.frozen(slots=True)
class SlaState:
    """Every covered metric's clock on one ticket at instant ``at``."""

    at: datetime
    clocks: Mapping[SlaMetric, MetricClock]

    def __getitem__(self, metric: SlaMetric | str) -> MetricClock:
        return self.clocks[SlaMetric(metric)]

    def __iter__(self) -> Iterator[MetricClock]:
        return iter(self.clocks.values())

    @property
    def breached(self) -> tuple[SlaMetric, ...]:
        """Metrics whose current cycle is breached."""
        return tuple(m for m, c in self.clocks.items() if c.status is ClockStatus.BREACHED)


@attrs.frozen(slots=True)
class SlaAlert:
    """A warning, breach or escalation that falls due at ``at`` for one metric's cycle."""

    kind: AlertKind
    metric: SlaMetric
    cycle: int
    at: datetime
    due_at: datetime | None
    """The cycle's due instant (``None`` while paused short of it)."""
    threshold: float | None = None
    """For a warning: the fraction of the target used."""
    level: int | None = None
    """For an escalation: the rung of the ladder (1 at the breach)."""
    rule: str = ""

    @property
    def key(self) -> tuple[str, str]:
        """Identity within its cycle: ``("warning", "0.75")``, ``("escalated", "2")``, ..."""
        return _alert_key(self.kind, self.threshold, self.level)

    def event_data(self) -> dict[str, Any]:
        """What the ``sla.<kind>`` event records."""
        data: dict[str, Any] = {
            "metric": self.metric.value,
            "cycle": self.cycle,
            "fell_due_at": self.at.isoformat(),
            "due_at": None if self.due_at is None else self.due_at.isoformat(),
            "rule": self.rule,
        }
        if self.threshold is not None:
            data["threshold"] = self.threshold
        if self.level is not None:
            data["level"] = self.level
        return data


@attrs.define(slots=True)
class _Cycle:
    """One run of a metric's clock: its closed running segments and whether it runs now."""

    start_seq: int
    started_at: datetime
    runs: list[tuple[datetime, datetime]] = attrs.Factory(list)
    running_since: datetime | None = None
    stopped_at: datetime | None = None
    emitted: set[tuple[str, str]] = attrs.Factory(set)
    last_start: datetime | None = None
    """Where the run in progress at the stop began (``None``: paused when it stopped)."""

    def copy(self) -> _Cycle:
        return _Cycle(
            self.start_seq,
            self.started_at,
            list(self.runs),
            self.running_since,
            self.stopped_at,
            set(self.emitted),
            self.last_start,
        )

    def pause(self, at: datetime) -> None:
        if self.running_since is not None:
            if at > self.running_since:
                self.runs.append((self.running_since, at))
            self.running_since = None

    def resume(self, at: datetime) -> None:
        if self.running_since is None and self.stopped_at is None:
            self.running_since = at

    def stop(self, at: datetime) -> None:
        if self.stopped_at is None:
            self.last_start = self.running_since
            self.stopped_at = at
        self.pause(at)

    def restart(self) -> None:
        """Undo a stop (a reopened ticket's resolution clock); it resumes at the next sync."""
        self.stopped_at = None
        self.last_start = None

    def consumed(self, calendar: BusinessCalendar, now: datetime) -> timedelta:
        used = sum((calendar.elapsed(a, b) for a, b in self.runs), _ZERO)
        if self.running_since is not None and now > self.running_since:
            used += calendar.elapsed(self.running_since, now)
        return used

    def instant_at(self, amount: timedelta, calendar: BusinessCalendar) -> datetime | None:
        """When consumed time reaches ``amount`` (projected if running; ``None`` if never)."""
        used = _ZERO
        for a, b in self.runs:
            span = calendar.elapsed(a, b)
            if used + span >= amount:
                return calendar.add(a, amount - used)
            used += span
        if self.running_since is not None:
            return calendar.add(self.running_since, amount - used)
        return None

    def live_after(self, instant: datetime, now: datetime) -> bool:
        """Whether the cycle ran at some moment after ``instant`` (up to ``now``)."""
        if any(b > instant for _, b in self.runs):
            return True
        return self.running_since is not None and now > instant

    def projected_due(self, amount: timedelta, calendar: BusinessCalendar) -> datetime | None:
        """The due instant a stopped cycle had when it stopped (``None`` if it was paused)."""
        reached = self.instant_at(amount, calendar)
        if reached is not None or self.last_start is None or self.stopped_at is None:
            return reached
        used = sum((calendar.elapsed(a, b) for a, b in self.runs), _ZERO)
        before = used - calendar.elapsed(self.last_start, self.stopped_at)
        return calendar.add(self.last_start, amount - before)

    def gaps(self, now: datetime) -> tuple[tuple[datetime, datetime | None], ...]:
        found: list[tuple[datetime, datetime | None]] = []
        edge = self.started_at
        for a, b in self.runs:
            if a > edge:
                found.append((edge, a))
            edge = b
        if self.running_since is not None:
            if self.running_since > edge:
                found.append((edge, self.running_since))
        elif self.stopped_at is None and now >= edge:
            found.append((edge, None))
        return tuple(found)


class SlaClock:
    """A ticket's SLA clocks under ``policy``, advanced one event at a time.

    Feed the ticket's events in ``seq`` order to :meth:`apply` (or build with
    :meth:`replay`); ask :meth:`state` for the snapshot at any instant and
    :meth:`pending_alerts` for what has fallen due and was not yet recorded (the clock
    learns what was recorded from ``sla.*`` events in the stream). ``tier`` is the
    customer's tier, which target selection uses (the rules' conditions and the policy's
    tier terms); set it again if it changes.
    """

    __slots__ = (
        "_cycles",
        "_fields",
        "_last_at",
        "_overrides",
        "_seq",
        "_status",
        "policy",
        "ticket_id",
        "tier",
    )

    def __init__(self, policy: SlaPolicy, *, tier: CustomerTier = CustomerTier.REGULAR) -> None:
        if not isinstance(policy, SlaPolicy):
            raise ValidationFailed("policy", f"must be an SlaPolicy, not {type(policy).__name__}")
        self.policy = policy
        self.tier = enum_value("tier", CustomerTier, tier)
        self.ticket_id: str | None = None
        self._seq = 0
        self._last_at: datetime | None = None
        self._status = TicketStatus.NEW
        self._fields: dict[str, Any] = {}
        self._cycles: dict[SlaMetric, _Cycle] = {}
        self._overrides: dict[SlaMetric, Target] = {}

    @classmethod
    def replay(
        cls,
        policy: SlaPolicy,
        events: Iterable[TicketEvent],
        *,
        tier: CustomerTier = CustomerTier.REGULAR,
    ) -> SlaClock:
        """A clock that has applied ``events`` (a ticket's stream, in any order)."""
        clock = cls(policy, tier=tier)
        for event in sorted(events, key=lambda e: e.seq):
            clock.apply(event)
        return clock

    def copy(self) -> SlaClock:
        """An independent clock in the same state (cheap: cycles hold a few segments)."""
        other = SlaClock(self.policy, tier=self.tier)
        other.ticket_id = self.ticket_id
        other._seq = self._seq
        other._last_at = self._last_at
        other._status = self._status
        other._fields = dict(self._fields)
        other._cycles = {m: c.copy() for m, c in self._cycles.items()}
        other._overrides = dict(self._overrides)
        return other

    @property
    def seq(self) -> int:
        """``seq`` of the last event applied (0 before any)."""
        return self._seq

    @property
    def facts(self) -> TicketFacts:
        """What target selection sees now."""
        f = self._fields
        category = f.get("category")
        return TicketFacts(
            tier=self.tier,
            priority=Priority(f.get("priority", Priority.NORMAL)),
            channel=Channel(f.get("channel", Channel.EMAIL)),
            category=category,
            complaint=f.get("complaint_category") is not None,
            team_id=f.get("team_id"),
        )

    # -- advancing ---------------------------------------------------------------------

    def apply(self, event: TicketEvent) -> None:
        """Advance the clock by the ticket's next event (``seq`` one past the last)."""
        if not isinstance(event, TicketEvent):
            raise ValidationFailed("event", f"must be a TicketEvent, not {type(event).__name__}")
        if event.seq != self._seq + 1:
            raise ValidationFailed(
                "event.seq", f"expected {self._seq + 1}, got {event.seq}: apply events in order"
            )
        if self.ticket_id is not None and event.ticket_id != self.ticket_id:
            raise ValidationFailed(
                "event.ticket_id", f"clock follows {self.ticket_id!r}, not {event.ticket_id!r}"
            )
        at = event.at.astimezone(UTC)  # instants, not wall clocks: a DST fold compares right
        kind = event.type
        if kind == _TARGET_OVERRIDDEN:
            self._override(event)
        elif kind.startswith(_SLA_PREFIX):
            self._record_alert(event)
        elif event.seq == 1:
            if kind != _CREATED:
                raise ValidationFailed("event.type", f"a stream starts with {_CREATED!r}")
            self._start(event, at)
        else:
            self._advance(event, at)
        self.ticket_id = event.ticket_id
        self._seq = event.seq
        if self._last_at is None or at > self._last_at:
            self._last_at = at

    def _start(self, event: TicketEvent, at: datetime) -> None:
        ticket = event.data.get("ticket")
        if not isinstance(ticket, Mapping):
            raise ValidationFailed("event.data.ticket", "ticket.created must carry the ticket")
        self._fields = {k: ticket.get(k) for k in _FACT_FIELDS}
        self._status = TicketStatus(ticket.get("status", TicketStatus.NEW))
        for metric in (SlaMetric.FIRST_RESPONSE, SlaMetric.RESOLUTION):
            self._cycles[metric] = _Cycle(event.seq, at)
        self._sync(at)

    def _advance(self, event: TicketEvent, at: datetime) -> None:
        changes = event.data.get("changes") or {}
        for name in _FACT_FIELDS:
            if name in changes:
                self._fields[name] = changes[name]
        previous = self._status
        if "status" in changes:
            self._status = TicketStatus(changes["status"])
        cycles = self._cycles
        kind = event.type
        if kind in _RESPONDED:
            for metric in (SlaMetric.FIRST_RESPONSE, SlaMetric.NEXT_RESPONSE):
                if metric in cycles:
                    cycles[metric].stop(at)
        elif kind == _ACKNOWLEDGED and SlaMetric.ACKNOWLEDGEMENT in cycles:
            cycles[SlaMetric.ACKNOWLEDGEMENT].stop(at)
        elif kind == _CUSTOMER_REPLIED:
            answered = cycles[SlaMetric.FIRST_RESPONSE].stopped_at is not None
            waiting = cycles.get(SlaMetric.NEXT_RESPONSE)
            if answered and (waiting is None or waiting.stopped_at is not None):
                cycles[SlaMetric.NEXT_RESPONSE] = _Cycle(event.seq, at)
        if changes.get("assigned_at") is not None:
            current = cycles.get(SlaMetric.ACKNOWLEDGEMENT)
            if current is not None:
                current.stop(at)
            cycles[SlaMetric.ACKNOWLEDGEMENT] = _Cycle(event.seq, at)
        if self._status in _STOPPING:
            for cycle in cycles.values():
                cycle.stop(at)
        elif previous is TicketStatus.RESOLVED:
            cycles[SlaMetric.RESOLUTION].restart()
        self._sync(at)

    def _sync(self, at: datetime) -> None:
        """Run or pause every live cycle as the current status requires."""
        status = self._status
        for metric, cycle in self._cycles.items():
            if cycle.stopped_at is not None:
                continue
            if status in self.policy.settings(metric).pause_in:
                cycle.pause(at)
            else:
                cycle.resume(at)

    def _override(self, event: TicketEvent) -> None:
        """Set (``data["target"]``) or clear (``None``) one metric's target for this ticket."""
        try:
            metric = SlaMetric(event.data["metric"])
        except (KeyError, ValueError, TypeError):
            raise ValidationFailed(
                "event.data.metric", f"{_TARGET_OVERRIDDEN} must name an SLA metric"
            ) from None
        given = event.data.get("target")
        if given is None:
            self._overrides.pop(metric, None)
        else:
            self._overrides[metric] = Target.model_validate(given)

    def _targets(self) -> dict[SlaMetric, tuple[Target, str]]:
        """Each covered metric's target and the rule that set it, overrides applied.

        An override whose calendar the policy does not have (the policy changed since) is
        ignored: the policy's own target applies.
        """
        chosen = {m: (s.target, s.rule) for m, s in self.policy.select(self.facts).items()}
        for metric, target in self._overrides.items():
            try:
                self.policy.calendar(target.calendar)
            except ValidationFailed:
                continue
            chosen[metric] = (target, OVERRIDE_RULE)
        return chosen

    def _record_alert(self, event: TicketEvent) -> None:
        data = event.data
        try:
            metric = SlaMetric(data["metric"])
            cycle_seq = int(data["cycle"])
            kind = AlertKind(event.type.removeprefix(_SLA_PREFIX))
        except (KeyError, ValueError, TypeError):
            return  # an sla.* event this clock does not track (a host's own, say)
        cycle = self._cycles.get(metric)
        if cycle is None or cycle.start_seq != cycle_seq:
            return
        threshold = data.get("threshold")
        level = data.get("level")
        cycle.emitted.add(
            _alert_key(
                kind,
                float(threshold) if isinstance(threshold, (int, float)) else None,
                level if isinstance(level, int) else None,
            )
        )

    # -- reading -----------------------------------------------------------------------

    def state(self, now: datetime) -> SlaState:
        """Every covered metric's clock at ``now``.

        The clock holds the present, not the past: a ``now`` before the last event applied
        reads as that event's time (replay a prefix of the stream to look back).
        """
        now = aware("now", now).astimezone(UTC)
        if self._last_at is not None and now < self._last_at:
            now = self._last_at
        chosen = self._targets()
        clocks: dict[SlaMetric, MetricClock] = {}
        for metric, cycle in self._cycles.items():
            selection = chosen.get(metric)
            if selection is None:
                continue
            clocks[metric] = self._snapshot(metric, cycle, selection[0], selection[1], now)
        return SlaState(at=now, clocks={m: clocks[m] for m in SlaMetric if m in clocks})

    def _snapshot(
        self, metric: SlaMetric, cycle: _Cycle, target: Target, rule: str, now: datetime
    ) -> MetricClock:
        calendar = self.policy.calendar(target.calendar)
        end = now if cycle.stopped_at is None else min(now, cycle.stopped_at)
        consumed = cycle.consumed(calendar, end)
        reached = cycle.instant_at(target.within, calendar)
        breached = reached is not None and cycle.live_after(reached, end)
        breached_at = reached if breached else None
        if cycle.stopped_at is not None:
            status = ClockStatus.BREACHED if breached else ClockStatus.MET
            due_at = cycle.projected_due(target.within, calendar)
        elif cycle.running_since is None:
            status = ClockStatus.BREACHED if breached else ClockStatus.PAUSED
            due_at = None
        else:
            status = ClockStatus.BREACHED if breached else ClockStatus.RUNNING
            due_at = reached
        return MetricClock(
            metric=metric,
            status=status,
            target=target,
            rule=rule,
            cycle=cycle.start_seq,
            started_at=cycle.started_at,
            due_at=due_at,
            consumed=consumed,
            remaining=target.within - consumed,
            paused=cycle.gaps(end),
            stopped_at=cycle.stopped_at,
            breached_at=breached_at,
        )

    def deadlines(self) -> tuple[Deadline, ...]:
        """Running cycles' due times, soonest first (paused and stopped cycles have none)."""
        return self.schedule()[0]

    def schedule(self) -> tuple[tuple[Deadline, ...], datetime | None]:
        """:meth:`deadlines` and :meth:`next_alert_at` in one pass (what the desk stamps).

        Each live cycle's due instant is computed once, and only its first unrecorded
        alert is looked at.
        """
        found: list[Deadline] = []
        next_at: datetime | None = None
        chosen = self._targets()
        for metric, cycle in self._cycles.items():
            selection = chosen.get(metric)
            if selection is None or cycle.stopped_at is not None:
                continue
            target, rule = selection
            due = cycle.instant_at(target.within, self.policy.calendar(target.calendar))
            if due is not None and cycle.running_since is not None:
                found.append(Deadline(metric, due))
            first = next(self._alerts_of(metric, cycle, target, rule, due), None)
            if first is not None and (next_at is None or first.at < next_at):
                next_at = first.at
        return tuple(sorted(found, key=lambda d: d.due_at)), next_at

    def due_at(self, metric: SlaMetric) -> datetime | None:
        """When ``metric``'s running cycle falls due (``None`` if not running or uncovered)."""
        for deadline in self.deadlines():
            if deadline.metric is metric:
                return deadline.due_at
        return None

    def alerts(self) -> tuple[SlaAlert, ...]:
        """Every alert not yet recorded, in the order they fall due.

        Running cycles list all their alerts, the future ones projected; paused cycles
        only those already reached; stopped cycles none.
        """
        found: list[SlaAlert] = []
        chosen = self._targets()
        for metric, cycle in self._cycles.items():
            selection = chosen.get(metric)
            if selection is None or cycle.stopped_at is not None:
                continue
            target, rule = selection
            due = cycle.instant_at(target.within, self.policy.calendar(target.calendar))
            found.extend(self._alerts_of(metric, cycle, target, rule, due))
        return tuple(sorted(found, key=lambda a: (a.at, _KIND_ORDER[a.kind], a.metric.value)))

    def pending_alerts(self, now: datetime) -> tuple[SlaAlert, ...]:
        """Alerts that have fallen due by ``now`` and are not yet recorded.

        A warning falls due at the instant its share of the target is used up; a breach
        and each escalation rung strictly after their instant (a reply exactly at the due
        time meets it). Instants that fall at the end of an open interval stay there: a
        target due at 18:00 is breached at 18:00, not at the next opening.
        """
        now = aware("now", now).astimezone(UTC)
        return tuple(
            a for a in self.alerts() if a.at < now or (a.kind is AlertKind.WARNING and a.at == now)
        )

    def next_alert_at(self) -> datetime | None:
        """When the next unrecorded alert falls due, if any cycle is running."""
        return self.schedule()[1]

    def _alerts_of(
        self, metric: SlaMetric, cycle: _Cycle, target: Target, rule: str, due: datetime | None
    ) -> Iterator[SlaAlert]:
        """The cycle's unrecorded alerts in the order they fall due (``due``: its due instant)."""
        settings = self.policy.settings(metric)
        calendar = self.policy.calendar(target.calendar)
        wanted: list[tuple[AlertKind, timedelta, float | None, int | None]] = [
            (AlertKind.WARNING, target.within * f, f, None) for f in settings.warn_at
        ]
        wanted.append((AlertKind.BREACHED, target.within, None, None))
        wanted += [
            (AlertKind.ESCALATED, target.within + step.after, None, level)
            for level, step in enumerate(settings.escalation, start=1)
        ]
        for kind, amount, threshold, level in wanted:
            if _alert_key(kind, threshold, level) in cycle.emitted:
                continue
            at = due if amount == target.within else cycle.instant_at(amount, calendar)
            if at is None:
                return  # later thresholds are not reached either
            yield SlaAlert(kind, metric, cycle.start_seq, at, due, threshold, level, rule)


def _alert_key(kind: AlertKind, threshold: float | None, level: int | None) -> tuple[str, str]:
    if threshold is not None:
        return (kind.value, f"{threshold:.6g}")
    return (kind.value, "" if level is None else str(level))


_KIND_ORDER = {AlertKind.WARNING: 0, AlertKind.BREACHED: 1, AlertKind.ESCALATED: 2}
_FACT_FIELDS = ("priority", "channel", "category", "complaint_category", "team_id")
