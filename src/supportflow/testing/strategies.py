"""Hypothesis strategies for property-testing SLA rules, ticket histories and stores.

Importing this module requires hypothesis, a test dependency that supportflow itself does
not install (``supportflow.testing`` does not import it). Hosts use these strategies to
property-test their own calendar rules::

    from hypothesis import given

    from supportflow.testing.strategies import aware_datetimes, business_durations, calendars

    @given(calendars(), aware_datetimes(), business_durations(max_hours=24))
    def test_due_is_never_before_start(calendar, start, duration):
        assert calendar.add(start, duration) >= start

What they generate (see each function):

- :func:`aware_datetimes`: timezone-aware datetimes in one IANA zone, with extra weight
  on the hours around the zone's DST transitions (both readings of a repeated hour).
- :func:`business_durations`: non-negative timedeltas on a grid, zero included.
- :func:`calendar_specs` and :func:`calendars`: random
  :class:`~supportflow.sla.calendar.CalendarSpec` /
  :class:`~supportflow.sla.calendar.BusinessCalendar` with several intervals per weekday,
  overnight intervals, sometimes 24x7, whole-day and partial holidays, extra working days
  and dated overrides, all dated within a few bounded years so each builds fast.
- :func:`sla_policies`: random valid :class:`~supportflow.sla.policy.SlaPolicy` values
  on one or two of those calendars, with conditional rules, targets on some metrics,
  pause rules, warnings and escalation ladders; by default a last unconditional rule
  covers every metric, so every ticket has every commitment.
- :func:`ticket_histories`: one ticket's event stream as the desk records it, walking the
  lifecycle from ``ticket.created``: ``supportflow.events.replay`` rebuilds the ticket
  from it and ``SlaClock.replay`` follows it.
- :func:`articles`: valid knowledge-base :class:`~supportflow.kb.articles.Article` values
  with Chinese, English and mixed text, in every status and audience, for round-tripping
  through a store or feeding a search index.
- :func:`customer_events`: valid :class:`~supportflow.models.CustomerEvent` values (tier
  changes and overrides with their reason), for round-tripping through a store's
  customer event log.

Every strategy shrinks towards the simple end: UTC, one short interval on Monday, no
holidays, the earliest datetime, a zero duration, one unconditional rule, a history of
just ``ticket.created``, a short English draft article, a first tier change at the epoch.

Comparing aware datetimes: two datetimes with the *same* ``tzinfo`` compare by wall clock,
ignoring ``fold`` (PEP 495), so within a repeated DST hour a later instant can compare as
earlier. Compare instants with ``.astimezone(UTC)`` when the zone observes DST.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hypothesis import strategies as st

from ..errors import ValidationFailed
from ..events import EventType, json_value, replay
from ..feedback import request_survey
from ..kb.articles import MAX_ARTICLE_BODY_CHARS, Article, ArticleStatus, Audience
from ..lifecycle import TRANSITIONS, LifecycleEvent
from ..models import (
    Channel,
    ComplaintCategory,
    CustomerEvent,
    CustomerTier,
    Priority,
    Ticket,
    TicketEvent,
    TicketStatus,
    event_id,
)
from ..sla.calendar import (
    WEEKDAYS,
    BusinessCalendar,
    CalendarSpec,
    Holiday,
    Hours,
    Override,
    WorkingDay,
)
from ..sla.policy import (
    ALWAYS_OPEN,
    Conditions,
    EscalationStep,
    MetricSettings,
    Rule,
    SlaMetric,
    SlaPolicy,
    Target,
)

__all__ = [
    "DEFAULT_ZONES",
    "articles",
    "aware_datetimes",
    "business_durations",
    "calendar_specs",
    "calendars",
    "customer_events",
    "sla_policies",
    "ticket_histories",
]

DEFAULT_ZONES: tuple[str, ...] = ("UTC", "Asia/Shanghai", "America/New_York", "Europe/Berlin")
"""The zones :func:`calendar_specs` draws from by default: none, one and two DST rules."""

_QUARTERS = 96  # intervals sit on a quarter-hour grid: 96 points per day
_NEAR_TRANSITION = 3 * 3600  # seconds either side of a DST transition
_DAY = timedelta(days=1)
_ALL_DAY = Hours(start=time(0), end=time(0))


def _zone(zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationFailed("zone", f"unknown IANA time zone {zone!r}") from None


def _naive(field: str, value: datetime) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is not None:
        raise ValidationFailed(field, "must be a naive datetime (a wall-clock time in the zone)")
    return value


@lru_cache(maxsize=64)
def _transitions(zone: str, lo: datetime, hi: datetime) -> tuple[datetime, ...]:
    """The UTC instants in ``[lo, hi]`` (UTC) where ``zone``'s offset changes."""
    tz = ZoneInfo(zone)
    found: list[datetime] = []
    step = timedelta(hours=6)
    t = lo
    offset = t.astimezone(tz).utcoffset()
    while t < hi:
        nxt = min(t + step, hi)
        nxt_offset = nxt.astimezone(tz).utcoffset()
        if nxt_offset != offset:
            a, b = t, nxt  # the change happens in (a, b]
            while b - a > timedelta(seconds=1):
                mid = a + (b - a) / 2
                if mid.astimezone(tz).utcoffset() == offset:
                    a = mid
                else:
                    b = mid
            found.append(b.replace(microsecond=0))
        t, offset = nxt, nxt_offset
    return tuple(found)


def aware_datetimes(
    zone: str = "UTC",
    *,
    min_value: datetime = datetime(2025, 1, 1),
    max_value: datetime = datetime(2025, 12, 31, 23, 59, 59),
    allow_imaginary: bool = False,
) -> st.SearchStrategy[datetime]:
    """Timezone-aware datetimes in the IANA ``zone``, between two wall-clock times.

    ``min_value`` and ``max_value`` are naive wall-clock times in ``zone`` (as for
    ``hypothesis.strategies.datetimes``). Every value has ``tzinfo == ZoneInfo(zone)``.
    When the zone changes offset within the range, about half the values fall within three
    hours of a transition, on whole seconds, including both readings of a repeated hour
    (``fold=0`` and ``fold=1``) and the instants just before and after a skipped one.
    Wall times that do not exist (inside a DST gap) are left out unless
    ``allow_imaginary``. Values shrink towards ``min_value``.

    Raises :class:`~supportflow.errors.ValidationFailed` for an unknown zone, aware or
    misordered bounds.
    """
    tz = _zone(zone)
    lo, hi = _naive("min_value", min_value), _naive("max_value", max_value)
    if hi < lo:
        raise ValidationFailed("max_value", "must not be before min_value")
    anywhere = st.datetimes(lo, hi, timezones=st.just(tz), allow_imaginary=allow_imaginary)
    # Widen by a day in UTC so transitions near either bound are found; filter below.
    transitions = _transitions(zone, lo.replace(tzinfo=UTC) - _DAY, hi.replace(tzinfo=UTC) + _DAY)
    if not transitions:
        return anywhere

    def near(pair: tuple[datetime, int]) -> datetime:
        instant, seconds = pair
        return (instant + timedelta(seconds=seconds)).astimezone(tz)

    def in_range(value: datetime) -> bool:
        return lo <= value.replace(tzinfo=None) <= hi

    around = (
        st.tuples(
            st.sampled_from(transitions),
            st.integers(-_NEAR_TRANSITION, _NEAR_TRANSITION),
        )
        .map(near)
        .filter(in_range)
    )
    return st.one_of(anywhere, around)


def business_durations(
    max_hours: float = 72,
    *,
    resolution: timedelta = timedelta(minutes=1),
) -> st.SearchStrategy[timedelta]:
    """Timedeltas from zero to ``max_hours`` inclusive, in whole multiples of ``resolution``.

    Zero is included (``add(t, 0)`` has its own rule); values shrink towards zero.
    """
    if resolution <= timedelta(0):
        raise ValidationFailed("resolution", "must be positive")
    if max_hours < 0:
        raise ValidationFailed("max_hours", "must not be negative")
    steps = timedelta(hours=max_hours) // resolution
    return st.integers(0, steps).map(lambda n: n * resolution)


def _clock(quarter: int) -> time:
    quarter %= _QUARTERS
    return time(quarter // 4, quarter % 4 * 15)


@st.composite
def _day_hours(draw: st.DrawFn, min_size: int, max_size: int, overnight: bool) -> tuple[Hours, ...]:
    """Non-overlapping quarter-hour intervals of one day, the last maybe past midnight."""
    k = draw(st.integers(min_size, max_size))
    points = sorted(draw(st.sets(st.integers(0, _QUARTERS), min_size=2 * k, max_size=2 * k)))
    spans = [(points[2 * i], points[2 * i + 1]) for i in range(k)]
    if spans and overnight and draw(st.booleans()):
        start = spans[-1][0]
        # Up to the first interval's start on the next day (a full 24 hours when k == 1).
        spans[-1] = (start, draw(st.integers(start + 1, points[0] + _QUARTERS)))
    return tuple(Hours(start=_clock(a), end=_clock(b)) for a, b in spans)


@st.composite
def _weekly(
    draw: st.DrawFn, max_intervals: int, overnight: bool, allow_24x7: bool, open_time: bool
) -> dict[str, tuple[Hours, ...]]:
    if allow_24x7 and draw(st.integers(0, 7)) == 7:
        return dict.fromkeys(WEEKDAYS, (_ALL_DAY,))
    opened = draw(st.sampled_from(WEEKDAYS)) if open_time else None
    return {
        day: draw(_day_hours(1 if day == opened else 0, max_intervals, overnight))
        for day in WEEKDAYS
    }


def calendar_specs(
    *,
    zones: Sequence[str] = DEFAULT_ZONES,
    min_date: date = date(2025, 1, 1),
    max_date: date = date(2025, 12, 31),
    max_intervals: int = 3,
    allow_overnight: bool = True,
    allow_24x7: bool = True,
    max_holidays: int = 4,
    max_working_days: int = 2,
    max_overrides: int = 1,
    open_time: bool = True,
    bounded: bool = False,
) -> st.SearchStrategy[CalendarSpec]:
    """Random valid :class:`~supportflow.sla.calendar.CalendarSpec` values.

    - ``timezone`` is drawn from ``zones`` (shrinking to the first).
    - Each weekday has up to ``max_intervals`` non-overlapping intervals on a quarter-hour
      grid; with ``allow_overnight`` the last may cross midnight (or last 24 hours). With
      ``allow_24x7`` about one schedule in eight is open around the clock.
    - Up to ``max_holidays`` holidays (whole-day or partial closures) and
      ``max_working_days`` extra working days (the Monday hours, or their own), on distinct
      dates in ``[min_date, max_date]``; up to ``max_overrides`` non-overlapping overrides
      with their own weekly schedule, starting in that range (the last may be open-ended).
    - With ``open_time`` (the default) every weekly schedule, regular or override, has at
      least one open interval, so ``add`` never runs out of open time: holidays close only
      finitely many days. With ``open_time=False`` any schedule may be empty.
    - A calendar costs a few milliseconds to build per year of dates a test touches.
    - With ``bounded``, ``first_year``/``last_year`` are the years of ``min_date`` and
      ``max_date``: the calendar is built whole at once and refuses instants outside them.
      Otherwise it extends lazily, a year at a time, only over the years a test touches.
    """
    if not zones:
        raise ValidationFailed("zones", "must name at least one zone")
    for zone in zones:
        _zone(zone)
    if max_date < min_date:
        raise ValidationFailed("max_date", "must not be before min_date")
    if max_intervals < 1:
        raise ValidationFailed("max_intervals", "must be at least 1")
    return _calendar_specs(
        tuple(zones),
        min_date,
        max_date,
        max_intervals,
        allow_overnight,
        allow_24x7,
        max_holidays,
        max_working_days,
        max_overrides,
        open_time,
        bounded,
    )


@st.composite
def _calendar_specs(
    draw: st.DrawFn,
    zones: tuple[str, ...],
    min_date: date,
    max_date: date,
    max_intervals: int,
    allow_overnight: bool,
    allow_24x7: bool,
    max_holidays: int,
    max_working_days: int,
    max_overrides: int,
    open_time: bool,
    bounded: bool,
) -> CalendarSpec:
    timezone = draw(st.sampled_from(tuple(zones)))
    weekly = _weekly(max_intervals, allow_overnight, allow_24x7, open_time)
    partial = _day_hours(1, max_intervals, allow_overnight)
    days = st.dates(min_date, max_date)
    dated = draw(st.lists(days, max_size=max_holidays + max_working_days, unique=True))
    split = draw(st.integers(max(0, len(dated) - max_working_days), min(len(dated), max_holidays)))
    holidays = tuple(Holiday(date=day, closed=draw(st.just(()) | partial)) for day in dated[:split])
    working_days = tuple(
        WorkingDay(date=day, hours=draw(st.none() | partial)) for day in dated[split:]
    )
    n = draw(st.integers(0, max_overrides))
    bounds = sorted(draw(st.lists(days, min_size=2 * n, max_size=2 * n, unique=True)))
    overrides = []
    for i in range(n):
        start, end = bounds[2 * i], bounds[2 * i + 1]
        open_ended = i == n - 1 and draw(st.booleans())
        overrides.append(
            Override(start=start, end=None if open_ended else end, weekly=draw(weekly))
        )
    return CalendarSpec(
        timezone=timezone,
        weekly=draw(weekly),
        holidays=holidays,
        working_days=working_days,
        overrides=tuple(overrides),
        first_year=min_date.year if bounded else None,
        last_year=max_date.year if bounded else None,
    )


def calendars(
    *,
    zones: Sequence[str] = DEFAULT_ZONES,
    min_date: date = date(2025, 1, 1),
    max_date: date = date(2025, 12, 31),
    max_intervals: int = 3,
    allow_overnight: bool = True,
    allow_24x7: bool = True,
    max_holidays: int = 4,
    max_working_days: int = 2,
    max_overrides: int = 1,
    open_time: bool = True,
    bounded: bool = False,
) -> st.SearchStrategy[BusinessCalendar]:
    """Random :class:`~supportflow.sla.calendar.BusinessCalendar` values.

    Built from :func:`calendar_specs` with the same arguments; ``calendar.spec`` is the
    spec drawn, and what an independent oracle should read. A calendar's ``repr`` does not
    show its spec, so to see the spec in a failing example's report draw
    :func:`calendar_specs` and build the calendar in the test.
    """
    return calendar_specs(
        zones=zones,
        min_date=min_date,
        max_date=max_date,
        max_intervals=max_intervals,
        allow_overnight=allow_overnight,
        allow_24x7=allow_24x7,
        max_holidays=max_holidays,
        max_working_days=max_working_days,
        max_overrides=max_overrides,
        open_time=open_time,
        bounded=bounded,
    ).map(BusinessCalendar)


# -- SLA policies -----------------------------------------------------------------------

# Shared by both strategies so that generated conditions match generated tickets.
_CATEGORIES: tuple[str, ...] = ("billing", "technical", "service")
_TEAMS: tuple[str, ...] = ("team-1", "team-2")

_PAUSABLE = (
    TicketStatus.NEW,
    TicketStatus.ASSIGNED,
    TicketStatus.IN_PROGRESS,
    TicketStatus.WAITING_ON_CUSTOMER,
    TicketStatus.ON_HOLD,
)
_CONDITION_FIELDS = ("tier", "priority", "channel", "category", "team", "complaint")
_COVERING_RULE = "every ticket"


def sla_policies(
    *,
    covering: bool = True,
    max_rules: int = 4,
    max_calendars: int = 2,
    max_target: timedelta = timedelta(hours=48),
    categories: Sequence[str] = _CATEGORIES,
    teams: Sequence[str] = _TEAMS,
    zones: Sequence[str] = DEFAULT_ZONES,
    min_date: date = date(2025, 1, 1),
    max_date: date = date(2025, 12, 31),
) -> st.SearchStrategy[SlaPolicy]:
    """Random valid :class:`~supportflow.sla.policy.SlaPolicy` values.

    - One to ``max_calendars`` calendars from :func:`calendar_specs` (``zones``, holidays
      dated in ``[min_date, max_date]``), named ``"business"``, ``"business-2"``, ...;
      every weekly schedule has open time, so every target falls due.
    - One to ``max_rules`` rules ``"rule-1"``, ... whose conditions constrain a few of
      tier, priority, channel, category (from ``categories``), team (from ``teams``) and
      the complaint flag, each setting targets for some metrics: whole minutes from one to
      ``max_target``, on a policy calendar or ``"24x7"``.
    - Settings for some metrics: ``pause_in`` a subset of the statuses a clock runs in,
      ``warn_at`` strictly increasing fractions in (0, 1) (whole percent), and an
      escalation ladder strictly increasing in whole minutes up to a day.
    - With ``covering`` (the default) a last rule ``"every ticket"`` without conditions
      sets every metric, so every ticket gets a target for every metric.

    Shrinks towards one UTC calendar and one unconditional rule with a one-minute target
    (then the covering rule), and no settings.
    """
    if max_rules < 1:
        raise ValidationFailed("max_rules", "must be at least 1")
    if max_calendars < 1:
        raise ValidationFailed("max_calendars", "must be at least 1")
    if max_target < timedelta(minutes=1):
        raise ValidationFailed("max_target", "must be at least one minute")
    specs = calendar_specs(zones=zones, min_date=min_date, max_date=max_date)
    return _sla_policies(
        covering,
        max_rules,
        max_calendars,
        max_target // timedelta(minutes=1),
        tuple(categories),
        tuple(teams),
        specs,
    )


def _some(values: Sequence[object]) -> st.SearchStrategy[tuple[object, ...]]:
    """One or two distinct values (a condition that constrains)."""
    return st.lists(st.sampled_from(tuple(values)), min_size=1, max_size=2, unique=True).map(tuple)


@st.composite
def _conditions(draw: st.DrawFn, categories: tuple[str, ...], teams: tuple[str, ...]) -> Conditions:
    pools: dict[str, Sequence[object]] = {
        "tier": tuple(CustomerTier),
        "priority": tuple(Priority),
        "channel": tuple(Channel),
        "category": categories,
        "team": teams,
    }
    usable = [f for f in _CONDITION_FIELDS if f == "complaint" or pools[f]]
    chosen = draw(st.lists(st.sampled_from(usable), max_size=3, unique=True))
    given: dict[str, object] = {}
    for name in chosen:
        given[name] = draw(st.booleans()) if name == "complaint" else draw(_some(pools[name]))
    return Conditions.model_validate(given)


@st.composite
def _targets(
    draw: st.DrawFn, metrics: Sequence[SlaMetric], max_minutes: int, calendars: tuple[str, ...]
) -> dict[SlaMetric, Target]:
    return {
        metric: Target(
            within=timedelta(minutes=draw(st.integers(1, max_minutes))),
            calendar=draw(st.sampled_from(calendars)),
        )
        for metric in metrics
    }


@st.composite
def _settings(draw: st.DrawFn) -> MetricSettings:
    pause_in = draw(st.lists(st.sampled_from(_PAUSABLE), unique=True))
    percents = sorted(draw(st.lists(st.integers(1, 99), unique=True, max_size=3)))
    ladder = sorted(draw(st.lists(st.integers(0, 24 * 60), unique=True, max_size=3)))
    return MetricSettings(
        pause_in=tuple(pause_in),
        warn_at=tuple(p / 100 for p in percents),
        escalation=tuple(EscalationStep(after=timedelta(minutes=m)) for m in ladder),
    )


@st.composite
def _sla_policies(
    draw: st.DrawFn,
    covering: bool,
    max_rules: int,
    max_calendars: int,
    max_minutes: int,
    categories: tuple[str, ...],
    teams: tuple[str, ...],
    specs: st.SearchStrategy[CalendarSpec],
) -> SlaPolicy:
    count = draw(st.integers(1, max_calendars))
    names = ["business", *(f"business-{i}" for i in range(2, count + 1))]
    calendars = {name: draw(specs) for name in names}
    usable = (*names, ALWAYS_OPEN)
    some_metrics = st.lists(st.sampled_from(tuple(SlaMetric)), min_size=1, unique=True)
    rules = [
        Rule(
            name=f"rule-{i}",
            when=draw(_conditions(categories, teams)),
            targets=draw(_targets(draw(some_metrics), max_minutes, usable)),
        )
        for i in range(1, draw(st.integers(1, max_rules)) + 1)
    ]
    if covering:
        every = draw(_targets(tuple(SlaMetric), max_minutes, usable))
        rules.append(Rule(name=_COVERING_RULE, targets=every))
    configured = draw(st.lists(st.sampled_from(tuple(SlaMetric)), unique=True))
    return SlaPolicy(
        calendars=calendars,
        rules=tuple(rules),
        metrics={metric: draw(_settings()) for metric in configured},
    )


# -- ticket histories -------------------------------------------------------------------

_EVENT_TYPES: dict[LifecycleEvent, EventType] = {
    LifecycleEvent.ASSIGN: EventType.ASSIGNED,
    LifecycleEvent.REASSIGN: EventType.REASSIGNED,
    LifecycleEvent.ACKNOWLEDGE: EventType.ACKNOWLEDGED,
    LifecycleEvent.REPLY: EventType.REPLIED,
    LifecycleEvent.REQUEST_INFO: EventType.INFO_REQUESTED,
    LifecycleEvent.CUSTOMER_REPLIED: EventType.CUSTOMER_REPLIED,
    LifecycleEvent.HOLD: EventType.HELD,
    LifecycleEvent.RELEASE: EventType.RELEASED,
    LifecycleEvent.ESCALATE: EventType.ESCALATED,
    LifecycleEvent.RESOLVE: EventType.RESOLVED,
    LifecycleEvent.CLOSE: EventType.CLOSED,
    LifecycleEvent.REOPEN: EventType.REOPENED,
}
# Commands in the order histories shrink towards: the happy path first.
_COMMANDS = (
    LifecycleEvent.ASSIGN,
    LifecycleEvent.ACKNOWLEDGE,
    LifecycleEvent.RESOLVE,
    LifecycleEvent.CLOSE,
    LifecycleEvent.REPLY,
    LifecycleEvent.REQUEST_INFO,
    LifecycleEvent.CUSTOMER_REPLIED,
    LifecycleEvent.HOLD,
    LifecycleEvent.RELEASE,
    LifecycleEvent.ESCALATE,
    LifecycleEvent.REASSIGN,
    LifecycleEvent.REOPEN,
)
_PRIORITIES = (Priority.NORMAL, Priority.LOW, Priority.HIGH, Priority.URGENT)
_SUBJECTS = ("Cannot log in", "发票抬头错误", "打印机 offline after update", "Refund?")
# SupportDesk's default reopen window: later customer messages open a follow-up ticket.
_REOPEN_WINDOW = timedelta(days=7)
_SYSTEM = "system"


def ticket_histories(
    *,
    start: st.SearchStrategy[datetime] | datetime | None = None,
    min_events: int = 1,
    max_events: int = 12,
    max_gap: timedelta = timedelta(days=3),
    ticket_id: str = "ticket-1",
    customer_id: str = "c-1",
    agents: Sequence[str] = ("a-1", "a-2", "a-3"),
    categories: Sequence[str] = _CATEGORIES,
    teams: Sequence[str] = _TEAMS,
) -> st.SearchStrategy[list[TicketEvent]]:
    """One ticket's event stream, ``min_events`` to ``max_events`` long, as the desk records it.

    Event 1 is ``ticket.created`` at ``start`` (a datetime, a strategy, by default
    :func:`aware_datetimes` in UTC over 2025) carrying the new ticket with a random channel,
    priority, category, complaint category and team. Each later event is a command the
    lifecycle allows in the ticket's current status (``lifecycle.TRANSITIONS``), recorded
    under the desk's event type with the ``data["changes"]`` the desk writes: the status
    when it changes, ``updated_at``, ``version`` (= ``seq``) and the command's own fields
    (assignment, acknowledgement, first response, resolution, reopening, closing,
    escalation level). A ``ticket.resolved`` event is followed, at the same instant, by the
    ``feedback.survey_requested`` event the desk records with it (actor ``"system"``, no
    status change, ``data["survey"]`` the ``SurveyRequest``). Event ``seq`` runs 1..n with
    ids ``event_id(ticket_id, seq)``.

    Times are non-decreasing as instants, ``max_gap`` apart at most (whole minutes, often
    under two hours), all in ``start``'s zone; a resolved ticket is reopened within the
    desk's default seven-day window. A history stops early only when the ticket is closed,
    never before ``min_events``. Agents come from ``agents`` (reassignment picks another
    one) and the assignee acts; the customer acts as ``"customer:<customer_id>"``, the desk
    as ``"system"`` (assigning, closing, and escalating a ticket nobody holds yet), so every
    actor is one the permission table of ``supportflow.roles`` allows.

    ``supportflow.events.replay`` rebuilds the ticket from the result and
    ``SlaClock.replay`` follows it. Shrinks towards a lone ``ticket.created``, then the
    happy path: assigned, acknowledged, resolved (with its survey request), closed.
    """
    if start is None:
        start = aware_datetimes("UTC")
    elif isinstance(start, datetime):
        if start.tzinfo is None or start.utcoffset() is None:
            raise ValidationFailed("start", "must be timezone-aware")
        start = st.just(start)
    elif not isinstance(start, st.SearchStrategy):
        raise ValidationFailed("start", "must be an aware datetime or a strategy of them")
    if min_events < 1:
        raise ValidationFailed("min_events", "must be at least 1")
    if max_events < min_events:
        raise ValidationFailed("max_events", "must not be below min_events")
    if max_gap < timedelta(0):
        raise ValidationFailed("max_gap", "must not be negative")
    if len(set(agents)) < 2:
        raise ValidationFailed("agents", "must name at least two agents (to reassign)")
    return _ticket_histories(
        start,
        min_events,
        max_events,
        max_gap // timedelta(minutes=1),
        ticket_id,
        customer_id,
        tuple(dict.fromkeys(agents)),
        tuple(categories),
        tuple(teams),
    )


def _maybe(values: tuple[str, ...]) -> st.SearchStrategy[str | None]:
    return st.none() | st.sampled_from(values) if values else st.none()


@st.composite
def _ticket_histories(
    draw: st.DrawFn,
    start: st.SearchStrategy[datetime],
    min_events: int,
    max_events: int,
    max_minutes: int,
    ticket_id: str,
    customer_id: str,
    agents: tuple[str, ...],
    categories: tuple[str, ...],
    teams: tuple[str, ...],
) -> list[TicketEvent]:
    created = draw(start)
    ticket = Ticket(
        id=ticket_id,
        channel=draw(st.sampled_from(tuple(Channel))),
        customer_id=customer_id,
        subject=draw(st.sampled_from(_SUBJECTS)),
        body="Please help.",
        category=draw(_maybe(categories)),
        complaint_category=draw(st.none() | st.sampled_from(tuple(ComplaintCategory))),
        priority=draw(st.sampled_from(_PRIORITIES)),
        team_id=draw(_maybe(teams)),
        created_at=created,
        updated_at=created,
    )
    customer = f"customer:{customer_id}"
    events = [
        TicketEvent(
            id=event_id(ticket_id, 1),
            ticket_id=ticket_id,
            seq=1,
            type=EventType.CREATED.value,
            at=created,
            actor=customer,
            data={"ticket": ticket.model_dump(mode="json")},
        )
    ]
    status = TicketStatus.NEW
    assignee: str | None = None
    answered = False
    level = 0
    reopens = 0
    now = created.astimezone(UTC)
    length = draw(st.integers(min_events, max_events))
    seq = 1
    while seq < length:
        seq += 1
        allowed = [
            e
            for e in _COMMANDS
            if (status, e) in TRANSITIONS
            and (e is not LifecycleEvent.CLOSE or seq >= min_events)
            # A resolution also records its survey request: it needs room for two events.
            and (e is not LifecycleEvent.RESOLVE or seq < length)
        ]
        if not allowed:
            break
        command = draw(st.sampled_from(allowed))
        limit = max_minutes
        if status is TicketStatus.RESOLVED and command is not LifecycleEvent.CLOSE:
            limit = min(limit, _REOPEN_WINDOW // timedelta(minutes=1))
        gap = draw(st.integers(0, min(limit, 120)) | st.integers(0, limit))
        now += timedelta(minutes=gap)
        at = now.astimezone(created.tzinfo)
        # Who acts as the permission table allows (supportflow.roles): the assignee, or the
        # system for a ticket nobody holds yet (only an escalation can come then).
        actor = assignee or _SYSTEM
        changes: dict[str, object] = {}
        extra: dict[str, object] = {}
        if command in (LifecycleEvent.ASSIGN, LifecycleEvent.REASSIGN):
            chosen = draw(st.sampled_from([a for a in agents if a != assignee]))
            changes = {"assignee_id": chosen, "assigned_at": at, "acknowledged_at": None}
            extra = {"previous_assignee_id": assignee, "reason": f"chosen by {_SYSTEM}"}
            actor, assignee = _SYSTEM, chosen
        elif command is LifecycleEvent.ACKNOWLEDGE:
            changes = {"acknowledged_at": at}
        elif command in (LifecycleEvent.REPLY, LifecycleEvent.REQUEST_INFO):
            if not answered:
                changes, answered = {"first_response_at": at}, True
            extra = {"message_id": f"{ticket_id}-m{seq}"}
        elif command is LifecycleEvent.CUSTOMER_REPLIED:
            actor = customer
            extra = {"message_id": f"{ticket_id}-m{seq}"}
            if status is TicketStatus.RESOLVED:
                reopens += 1
                changes = {"resolved_at": None, "resolution": None, "reopen_count": reopens}
        elif command is LifecycleEvent.HOLD:
            extra = {"reason": "waiting on a supplier"}
        elif command is LifecycleEvent.ESCALATE:
            level += 1
            changes = {"escalation_level": level}
            extra = {"reason": "needs senior support", "previous_assignee_id": assignee}
        elif command is LifecycleEvent.RESOLVE:
            changes = {"resolution": "Fixed in settings.", "resolved_at": at}
        elif command is LifecycleEvent.CLOSE:
            actor = _SYSTEM
            changes = {"closed_at": at}
        elif command is LifecycleEvent.REOPEN:
            actor = customer
            reopens += 1
            changes = {"resolved_at": None, "resolution": None, "reopen_count": reopens}
            extra = {"reason": "still broken"}
        after = TRANSITIONS[(status, command)]
        if after is not status:
            changes["status"] = after
        changes["updated_at"] = at
        changes["version"] = seq
        status = after
        events.append(
            TicketEvent(
                id=event_id(ticket_id, seq),
                ticket_id=ticket_id,
                seq=seq,
                type=_EVENT_TYPES[command].value,
                at=at,
                actor=actor,
                data={"changes": {k: json_value(v) for k, v in changes.items()}, **extra},
            )
        )
        if command is LifecycleEvent.RESOLVE:
            seq += 1
            survey = request_survey(replay(events)).model_dump(mode="json")
            events.append(
                TicketEvent(
                    id=event_id(ticket_id, seq),
                    ticket_id=ticket_id,
                    seq=seq,
                    type=EventType.SURVEY_REQUESTED.value,
                    at=at,
                    actor=_SYSTEM,
                    data={
                        "changes": {"updated_at": json_value(at), "version": seq},
                        "survey": survey,
                    },
                )
            )
    # Drawn last, so adding it left every earlier draw (and shrinking) as it was.
    events[0].data["customer_tier"] = draw(st.sampled_from(CustomerTier)).value
    return events


# -- knowledge-base articles ------------------------------------------------------------

_EN_WORDS = (
    "printer",
    "offline",
    "refund",
    "invoice",
    "password",
    "reset",
    "login",
    "failed",
    "VPN",
    "update",
    "v2.3",
    "error",
)
_ZH_WORDS = (
    "打印机",
    "离线",
    "退款",
    "发票",
    "密码",
    "重置",
    "登录",
    "失败",
    "网络",
    "订单",
    "发货",
    "更新",
)
_PUNCTUATION = (" ", " ", "，", "。", "！", ", ", ". ", "\n", "？")
_LABELS = ("billing", "printer", "network", "退款", "打印机", "账户 account", "VPN")
_LANGUAGES = ("en", "zh", "zh-Hans", "ja", "mixed")
_ARTICLE_IDS = ("kb-1", "kb-2", "KB-1", "kb-10", "知识-1")
_ID_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:#知识库文章工单"
_ARTICLE_ZONES: tuple[ZoneInfo, ...] = (
    ZoneInfo("UTC"),
    ZoneInfo("Asia/Shanghai"),
    ZoneInfo("America/New_York"),
    ZoneInfo("Asia/Kathmandu"),
)
_ARTICLE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_ARTICLE_SPAN_US = 10 * 365 * 24 * 3600 * 10**6  # ten years of microseconds
_ANY_CHARACTER = st.characters(codec="utf-8")
"""Any character a store must keep: no lone surrogates, which no UTF-8 database holds."""


@st.composite
def _mixed_text(draw: st.DrawFn, min_words: int, max_words: int) -> str:
    """Chinese, English or both: Chinese words unspaced, English words apart, punctuated."""
    pools = draw(st.sampled_from((_EN_WORDS, _ZH_WORDS, _EN_WORDS + _ZH_WORDS)))
    words = draw(st.lists(st.sampled_from(pools), min_size=min_words, max_size=max_words))
    parts: list[str] = []
    for word in words:
        if parts and not (word in _ZH_WORDS and parts[-1] in _ZH_WORDS):
            parts.append(draw(st.sampled_from(_PUNCTUATION)))
        parts.append(word)
    return "".join(parts)


def _article_text(max_chars: int) -> st.SearchStrategy[str]:
    """Mixed-language prose, or any characters at all, at most ``max_chars`` long."""
    words = _mixed_text(0, 40).map(lambda text: text[:max_chars])
    anything = st.text(_ANY_CHARACTER, max_size=min(max_chars, 200))
    return words | anything


def _title() -> st.SearchStrategy[str]:
    """Titles as the model keeps them: no surrounding whitespace, 1 to 500 characters."""
    anything = st.text(_ANY_CHARACTER, min_size=1, max_size=80).map(str.strip).filter(bool)
    return _mixed_text(1, 12).map(str.strip).filter(bool) | anything


def _unambiguous(moment: datetime) -> bool:
    """Whether the wall time names one instant (not in a DST gap or fold): only then is a
    datetime equal, by ``==``, to the same instant in another zone (PEP 495)."""
    return moment.replace(fold=1 - moment.fold).utcoffset() == moment.utcoffset()


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    """``instant`` in ``zone``, or in UTC where the zone's wall time is ambiguous."""
    moment = instant.astimezone(zone)
    return moment if _unambiguous(moment) else instant.astimezone(UTC)


def articles(
    *,
    ids: st.SearchStrategy[str] | None = None,
    statuses: Sequence[ArticleStatus] = tuple(ArticleStatus),
    max_body_chars: int = 2000,
) -> st.SearchStrategy[Article]:
    """Random valid :class:`~supportflow.kb.articles.Article` values.

    - ``id`` from ``ids`` (by default a few fixed ids such as ``"kb-1"`` and ``"知识-1"``,
      or short ids of letters, digits, punctuation and Chinese characters).
    - ``title`` and ``body``: Chinese, English or mixed prose (Chinese words unspaced, as
      customers write them), or any characters but lone surrogates; the body is empty
      sometimes and at most ``max_body_chars`` long.
    - ``tags``, ``language``, ``product``: labels in both languages; every audience;
      ``status`` from ``statuses``; sometimes an owner, votes and solved tickets.
    - Datetimes are aware, to the microsecond, in UTC, Asia/Shanghai, America/New_York or
      Asia/Kathmandu (+05:45), never inside a DST gap or fold, so an article read back
      from JSON compares equal; ``created_at <= last_reviewed_at <= updated_at``, and a
      published article always has ``last_reviewed_at``, as ``move_article`` sets it.
    - ``review_interval`` from a microsecond to ten years; ``version`` from 1 to a million.

    Shrinks towards a short draft with an English title, an empty body and no tags.
    Raises :class:`~supportflow.errors.ValidationFailed` for no statuses or a
    ``max_body_chars`` outside 0 to ``MAX_ARTICLE_BODY_CHARS``.
    """
    chosen = tuple(dict.fromkeys(statuses))
    if not chosen:
        raise ValidationFailed("statuses", "must name at least one status")
    if not 0 <= max_body_chars <= MAX_ARTICLE_BODY_CHARS:
        raise ValidationFailed("max_body_chars", f"must be between 0 and {MAX_ARTICLE_BODY_CHARS}")
    if ids is None:
        ids = st.sampled_from(_ARTICLE_IDS) | st.text(_ID_CHARS, min_size=1, max_size=20)
    return _articles(ids, chosen, max_body_chars)


@st.composite
def _articles(
    draw: st.DrawFn,
    ids: st.SearchStrategy[str],
    statuses: tuple[ArticleStatus, ...],
    max_body_chars: int,
) -> Article:
    status = draw(st.sampled_from(statuses))
    zone = draw(st.sampled_from(_ARTICLE_ZONES))
    start = _ARTICLE_EPOCH + timedelta(microseconds=draw(st.integers(0, _ARTICLE_SPAN_US)))
    span = draw(st.timedeltas(timedelta(0), timedelta(days=400)))
    reviewed: datetime | None = None
    if status is ArticleStatus.PUBLISHED or draw(st.booleans()):
        reviewed = _local(start + draw(st.timedeltas(timedelta(0), span)), zone)
    created, updated = _local(start, zone), _local(start + span, zone)
    labels = st.sampled_from(_LABELS)
    votes = st.integers(0, 10**9)
    return Article(
        id=draw(ids),
        title=draw(_title()),
        body=draw(st.just("") | _article_text(max_body_chars)),
        tags=tuple(draw(st.lists(labels, max_size=4, unique=True))),
        language=draw(st.sampled_from(_LANGUAGES)),
        product=draw(st.none() | labels),
        audience=draw(st.sampled_from(tuple(Audience))),
        status=status,
        owner_id=draw(st.none() | st.sampled_from(("a-1", "坐席-2"))),
        created_at=created,
        updated_at=updated,
        last_reviewed_at=reviewed,
        review_interval=draw(st.timedeltas(timedelta(microseconds=1), timedelta(days=3650))),
        helpful_votes=draw(votes),
        unhelpful_votes=draw(votes),
        solved_ticket_ids=tuple(
            draw(st.lists(st.sampled_from(("t-1", "t-2", "工单-3")), max_size=3, unique=True))
        ),
        version=draw(st.integers(1, 10**6)),
    )


# -- customer events ----------------------------------------------------------------------

_CUSTOMER_IDS = ("c-1", "c-2", "C-1", "客户-张三")
_CUSTOMER_EVENT_TYPES = (
    "customer.tier_changed",
    "customer.tier_override_set",
    "customer.tier_override_cleared",
)


def customer_events(
    *,
    customer_ids: st.SearchStrategy[str] | None = None,
    seqs: st.SearchStrategy[int] | None = None,
    types: Sequence[str] = _CUSTOMER_EVENT_TYPES,
) -> st.SearchStrategy[CustomerEvent]:
    """Random valid :class:`~supportflow.models.CustomerEvent` values.

    - ``customer_id`` from ``customer_ids`` (by default a few fixed ids, one Chinese, or
      short ids like :func:`articles`' ids); ``seq`` from ``seqs`` (by default 1 to 1,000);
      ``id`` is always ``event_id(customer_id, seq)``.
    - ``type`` from ``types``; ``data`` holds the tier change (``from``, ``to``) and a
      ``reason`` in Chinese, English, both or any characters, sometimes more JSON values
      (strings, integers, booleans, ``None``: nothing that would not compare equal).
    - ``at`` is aware, to the microsecond, in the zones :func:`articles` uses, never in a
      DST gap or fold, so an event read back compares equal.

    Shrinks towards the first ``customer.tier_changed`` of ``"c-1"`` at 2020-01-01 UTC.
    Raises :class:`~supportflow.errors.ValidationFailed` for no types.
    """
    chosen = tuple(dict.fromkeys(types))
    if not chosen:
        raise ValidationFailed("types", "must name at least one event type")
    if customer_ids is None:
        customer_ids = st.sampled_from(_CUSTOMER_IDS) | st.text(_ID_CHARS, min_size=1, max_size=20)
    if seqs is None:
        seqs = st.integers(1, 1000)
    return _customer_events(customer_ids, seqs, chosen)


@st.composite
def _customer_events(
    draw: st.DrawFn,
    customer_ids: st.SearchStrategy[str],
    seqs: st.SearchStrategy[int],
    types: tuple[str, ...],
) -> CustomerEvent:
    customer_id = draw(customer_ids).strip() or "c-1"
    seq = draw(seqs)
    zone = draw(st.sampled_from(_ARTICLE_ZONES))
    at = _local(
        _ARTICLE_EPOCH + timedelta(microseconds=draw(st.integers(0, _ARTICLE_SPAN_US))), zone
    )
    tiers = st.sampled_from([tier.value for tier in CustomerTier])
    data: dict[str, object] = {
        "from": draw(tiers),
        "to": draw(tiers),
        "reason": draw(_mixed_text(0, 12) | st.text(_ANY_CHARACTER, max_size=50)),
    }
    extra = st.none() | st.booleans() | st.integers(-(2**53), 2**53) | _mixed_text(0, 4)
    data |= draw(st.dictionaries(st.sampled_from(("spend", "expires", "override", "备注")), extra))
    return CustomerEvent(
        id=event_id(customer_id, seq),
        customer_id=customer_id,
        seq=seq,
        type=draw(st.sampled_from(types)),
        at=at,
        actor=draw(st.sampled_from(("a-1", "system", "坐席-2"))),
        data=data,
    )
