"""SLA policies as data: which target each commitment gets, why, and what happens around it.

A :class:`SlaPolicy` names its calendars and lists :class:`Rule` s in precedence order.
For each metric the first rule whose conditions all hold and that sets a target for that
metric wins; then the customer's tier may shorten it (:class:`TierTerms`, the policy's
``tiers``). ``explain`` says which rule chose each target, why each rule before it was
passed over, and what the tier changed. Per-metric :class:`MetricSettings` hold the pause
rules, the warning thresholds (as fractions of the target) and the escalation ladder after
a breach. Everything loads from JSON or TOML; durations may be written ``"1h30m"``,
``"45m"``, ISO 8601 or seconds.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import time, timedelta
from enum import StrEnum
from functools import cached_property
from itertools import pairwise
from types import MappingProxyType
from typing import Annotated, Any, Self

import attrs
from pydantic import BeforeValidator, Field, field_validator, model_validator

from ..errors import ValidationFailed
from ..models import (
    Channel,
    CustomerTier,
    Priority,
    SupportflowModel,
    Ticket,
    TicketStatus,
)
from ._documents import from_json_text, from_toml_text
from .calendar import WEEKDAYS, BusinessCalendar, CalendarSpec, Hours, WorkingDay

__all__ = [
    "ALWAYS_OPEN",
    "DEFAULT_TIER_TERMS",
    "Conditions",
    "EscalationStep",
    "Explanation",
    "MetricSettings",
    "Rule",
    "Selection",
    "SlaMetric",
    "SlaPolicy",
    "Target",
    "TicketFacts",
    "TierTerms",
    "default_policy",
]

ALWAYS_OPEN = "24x7"
"""The calendar name every policy knows without defining it: open around the clock, UTC."""


class SlaMetric(StrEnum):
    """The commitments an SLA clock measures."""

    FIRST_RESPONSE = "first_response"
    """From the request to the first public reply (or request for information)."""
    ACKNOWLEDGEMENT = "acknowledgement"
    """From each (re)assignment to the assignee's acknowledgement."""
    NEXT_RESPONSE = "next_response"
    """From each customer message awaiting a reply to the next public reply."""
    RESOLUTION = "resolution"
    """From the request to its resolution."""


_DURATION = re.compile(
    r"^\s*(?:(?P<h>\d+(?:\.\d+)?)\s*h)?\s*(?:(?P<m>\d+(?:\.\d+)?)\s*m)?"
    r"\s*(?:(?P<s>\d+(?:\.\d+)?)\s*s)?\s*$"
)


def _duration(value: Any) -> Any:
    """``"1h30m"``, ``"45m"``, ``"90s"``, ``"5400"`` (seconds) as a timedelta.

    Anything else is left to pydantic (ISO 8601, numbers of seconds); booleans are refused.
    """
    if isinstance(value, bool):
        raise ValueError("must be a duration, not a boolean")
    if isinstance(value, str) and value.strip().isdigit():
        return timedelta(seconds=int(value))
    if isinstance(value, str):
        found = _DURATION.match(value)
        if found and any(found.groupdict().values()):
            parts = {k: float(v) for k, v in found.groupdict().items() if v}
            return timedelta(
                hours=parts.get("h", 0), minutes=parts.get("m", 0), seconds=parts.get("s", 0)
            )
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _one_or_many(value: Any) -> Any:
    """A single condition value (``tier = "vip"``) as a one-element tuple."""
    return (value,) if isinstance(value, str) else value


Many = BeforeValidator(_one_or_many)
Label = Annotated[str, Field(min_length=1, max_length=100)]


@attrs.frozen(slots=True)
class TicketFacts:
    """What target selection looks at: the ticket's fields and its customer's tier."""

    tier: CustomerTier = CustomerTier.REGULAR
    priority: Priority = Priority.NORMAL
    channel: Channel = Channel.EMAIL
    category: str | None = None
    complaint: bool = False
    team_id: str | None = None

    @classmethod
    def of(cls, ticket: Ticket, tier: CustomerTier = CustomerTier.REGULAR) -> TicketFacts:
        """The facts of ``ticket`` for a customer of ``tier``."""
        return cls(
            tier=tier,
            priority=ticket.priority,
            channel=ticket.channel,
            category=ticket.category,
            complaint=ticket.complaint_category is not None,
            team_id=ticket.team_id,
        )


def _listed(values: tuple[Any, ...]) -> str:
    return " or ".join(str(v) for v in values)


class Conditions(SupportflowModel):
    """When a rule applies: every condition given must hold; no conditions match every ticket.

    Each list condition holds when the ticket's value is one of those listed; ``complaint``
    holds when the ticket is (``true``) or is not (``false``) a complaint.
    """

    tier: Annotated[tuple[CustomerTier, ...], Many] = ()
    priority: Annotated[tuple[Priority, ...], Many] = ()
    channel: Annotated[tuple[Channel, ...], Many] = ()
    category: Annotated[tuple[Label, ...], Many] = ()
    team: Annotated[tuple[Label, ...], Many] = ()
    complaint: bool | None = None

    def verdicts(self, facts: TicketFacts) -> tuple[tuple[bool, str], ...]:
        """Each condition as ``(holds, "tier is vip")``, in field order."""
        found: list[tuple[bool, str]] = []
        pairs: tuple[tuple[str, tuple[Any, ...], Any], ...] = (
            ("tier", self.tier, facts.tier),
            ("priority", self.priority, facts.priority),
            ("channel", self.channel, facts.channel),
            ("category", self.category, facts.category),
            ("team", self.team, facts.team_id),
        )
        for name, wanted, actual in pairs:
            if wanted:
                shown = "none" if actual is None else str(actual)
                if actual in wanted:
                    found.append((True, f"{name} is {shown}"))
                else:
                    found.append((False, f"{name} is {shown}, not {_listed(wanted)}"))
        if self.complaint is not None:
            kind = "a complaint" if facts.complaint else "not a complaint"
            found.append((facts.complaint == self.complaint, f"ticket is {kind}"))
        return tuple(found)

    def matches(self, facts: TicketFacts) -> bool:
        """Whether every condition holds for ``facts``."""
        return all(holds for holds, _ in self.verdicts(facts))


class Target(SupportflowModel):
    """A commitment: ``within`` this much open time on the named ``calendar``.

    Written in full (``{within = "30m", calendar = "24x7"}``) or as the duration alone, which
    takes the calendar named ``"business"``.
    """

    within: Duration
    calendar: Label = "business"

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return value if isinstance(value, Mapping) else {"within": value}

    @field_validator("within")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be positive")
        return value

    def __str__(self) -> str:
        return f"{_show(self.within)} on {self.calendar}"


def _show(value: timedelta) -> str:
    """``1h30m``-style text for a duration."""
    seconds = int(value.total_seconds())
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    text = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s else "")
    return text or "0s"


_ANSWERING = (SlaMetric.FIRST_RESPONSE, SlaMetric.ACKNOWLEDGEMENT, SlaMetric.NEXT_RESPONSE)
"""The metrics a hotline answers: every one but resolution."""


class TierTerms(SupportflowModel):
    """What one customer tier gets from the SLA beyond the rules: faster targets.

    After the rules choose a target, the customer's tier shortens it: the explicit duration
    in ``targets`` for that metric if there is one, else the rule's duration times
    ``multiplier`` (whole seconds, at least one). The result is counted on the rule's
    calendar and is never longer than the rule's target: terms only ever make a target
    faster. ``around_the_clock`` lists channels (a 24x7 ``phone`` hotline) on which the
    tier's first response, acknowledgement and next response run on the ``"24x7"``
    calendar: the line promises that someone answers at any hour, not that every fix is
    made at night, so resolution keeps the rule's calendar.

    Terms are not applied to a target chosen by a rule with a ``tier`` condition: such a
    rule already says what those tiers get, and applying both would count the tier twice.

    This is the SLA's own data type rather than a protocol the entitlements satisfy, so a
    policy stays whole data (it loads from TOML, compares, explains itself and runs in an
    ``SlaClock`` without a desk) and ``sla`` needs nothing from ``tiering``, which sits
    above it: ``supportflow.tiering.Entitlements.sla_terms()`` produces these terms, and a
    desk given an entitlements table puts the table's in its policy. In a policy's TOML::

        [tiers.vip]
        targets = { first_response = "15m", resolution = "12h" }
        around_the_clock = ["phone"]

        [tiers.key]
        multiplier = 0.75
    """

    multiplier: float = Field(default=1.0, gt=0, le=1, allow_inf_nan=False)
    targets: dict[SlaMetric, Duration] = Field(default_factory=dict)
    around_the_clock: Annotated[tuple[Channel, ...], Many] = ()

    @field_validator("targets")
    @classmethod
    def _positive(cls, value: dict[SlaMetric, timedelta]) -> dict[SlaMetric, timedelta]:
        for metric, within in value.items():
            if within <= timedelta(0):
                raise ValueError(f"{metric.value}: must be positive")
        return value

    @field_validator("around_the_clock")
    @classmethod
    def _once(cls, value: tuple[Channel, ...]) -> tuple[Channel, ...]:
        if len(set(value)) != len(value):
            raise ValueError("lists a channel twice")
        return value

    @property
    def neutral(self) -> bool:
        """Whether these terms change no target (``x1``, no explicit targets, no hotline)."""
        return self.multiplier == 1 and not self.targets and not self.around_the_clock

    def shorten(self, metric: SlaMetric, within: timedelta) -> timedelta:
        """``within`` (a rule's duration for ``metric``) as the tier is entitled to it."""
        explicit = self.targets.get(metric)
        if explicit is not None:
            return min(explicit, within)
        if self.multiplier == 1:
            return within
        seconds = max(1, round(within.total_seconds() * self.multiplier))
        return min(timedelta(seconds=seconds), within)

    def apply(self, metric: SlaMetric, target: Target, channel: Channel) -> Target:
        """A rule's ``target`` for ``metric`` as the tier gets it on ``channel``."""
        calendar = target.calendar
        if channel in self.around_the_clock and metric in _ANSWERING:
            calendar = ALWAYS_OPEN
        within = self.shorten(metric, target.within)
        if within == target.within and calendar == target.calendar:
            return target
        return Target(within=within, calendar=calendar)

    def concerns(self, metric: SlaMetric, channel: Channel) -> bool:
        """Whether the terms say anything about ``metric`` on ``channel``."""
        return (
            metric in self.targets
            or self.multiplier != 1
            or (channel in self.around_the_clock and metric in _ANSWERING)
        )


DEFAULT_TIER_TERMS: Mapping[CustomerTier, TierTerms] = MappingProxyType(
    {
        CustomerTier.VIP: TierTerms(
            targets={
                SlaMetric.FIRST_RESPONSE: timedelta(minutes=15),
                SlaMetric.ACKNOWLEDGEMENT: timedelta(minutes=10),
                SlaMetric.NEXT_RESPONSE: timedelta(minutes=30),
                SlaMetric.RESOLUTION: timedelta(hours=12),
            },
            around_the_clock=(Channel.PHONE,),
        ),
        CustomerTier.KEY: TierTerms(
            targets={
                SlaMetric.FIRST_RESPONSE: timedelta(minutes=30),
                SlaMetric.ACKNOWLEDGEMENT: timedelta(minutes=15),
                SlaMetric.NEXT_RESPONSE: timedelta(hours=1),
                SlaMetric.RESOLUTION: timedelta(hours=18),
            }
        ),
    }
)
"""The documented tiers' SLA terms: VIP 15m / 10m / 30m / 12h with a 24x7 phone hotline, key
30m / 15m / 1h / 18h; regular and prospect get the rules' targets. :func:`default_policy`
carries them, and ``supportflow.tiering.DEFAULT_ENTITLEMENTS`` is built from them."""


class EscalationStep(SupportflowModel):
    """One rung of the ladder: escalate ``after`` this much open time past the breach.

    Measured on the breached target's calendar, and paused by the metric's pause rules
    like the clock itself. Rung *n* (from 1) raises the ticket to escalation level *n*.
    """

    after: Duration = timedelta(0)

    @field_validator("after")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must not be negative")
        return value


_CLOCK_STATUSES = frozenset(TicketStatus) - {TicketStatus.RESOLVED, TicketStatus.CLOSED}


class MetricSettings(SupportflowModel):
    """How one metric's clock behaves around its target.

    ``pause_in``: ticket statuses in which the clock stops running (it always stops at
    resolution). ``warn_at``: fractions of the target, strictly increasing in (0, 1), at
    which ``sla.warning`` is raised. ``escalation``: the ladder after a breach, ``after``
    strictly increasing.
    """

    pause_in: Annotated[tuple[TicketStatus, ...], Many] = ()
    warn_at: tuple[float, ...] = (0.75, 0.9)
    escalation: tuple[EscalationStep, ...] = (EscalationStep(),)

    @field_validator("pause_in")
    @classmethod
    def _pausable(cls, value: tuple[TicketStatus, ...]) -> tuple[TicketStatus, ...]:
        for status in value:
            if status not in _CLOCK_STATUSES:
                raise ValueError(f"{status.value} already stops every clock")
        if len(set(value)) != len(value):
            raise ValueError("lists a status twice")
        return value

    @field_validator("warn_at")
    @classmethod
    def _fractions(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(not 0 < f < 1 for f in value):
            raise ValueError("each threshold must be a fraction strictly between 0 and 1")
        if any(a >= b for a, b in pairwise(value)):
            raise ValueError("thresholds must be strictly increasing")
        return value

    @field_validator("escalation")
    @classmethod
    def _ladder(cls, value: tuple[EscalationStep, ...]) -> tuple[EscalationStep, ...]:
        if any(a.after >= b.after for a, b in pairwise(value)):
            raise ValueError("each step's after must be later than the one before")
        return value


DEFAULT_SETTINGS: Mapping[SlaMetric, MetricSettings] = {
    SlaMetric.FIRST_RESPONSE: MetricSettings(),
    SlaMetric.ACKNOWLEDGEMENT: MetricSettings(),
    SlaMetric.NEXT_RESPONSE: MetricSettings(),
    SlaMetric.RESOLUTION: MetricSettings(pause_in=(TicketStatus.WAITING_ON_CUSTOMER,)),
}
"""Settings of a metric a policy does not configure: resolution pauses while waiting on the
customer, warnings at 75% and 90%, one escalation at the breach."""


class Rule(SupportflowModel):
    """Targets for the tickets ``when`` matches; a rule may set any subset of the metrics."""

    name: Label
    when: Conditions = Conditions()
    targets: dict[SlaMetric, Target] = Field(min_length=1)


@attrs.frozen(slots=True)
class Selection:
    """The target a policy chose for one metric, the rule that chose it, and why."""

    metric: SlaMetric
    target: Target
    rule: str
    rule_number: int
    """1-based position of the rule in the policy."""
    because: tuple[str, ...]
    """The conditions that held (empty for a rule without conditions)."""
    passed_over: tuple[tuple[str, str], ...] = ()
    """Earlier rules with a target for this metric: ``(rule name, why it did not apply)``."""
    rule_target: Target | None = None
    """The rule's own target when the customer's tier changed it (``target`` is the tier's)."""
    tier_note: str = ""
    """What the tier's terms did to the rule's target (``"vip terms: 1h on business → 15m on
    business"``), or why they did not apply; empty when the tier has no terms for it."""

    def __str__(self) -> str:
        why = ", ".join(self.because) if self.because else "applies to every ticket"
        text = f"{self.metric}: {self.target}, rule {self.rule!r} (#{self.rule_number}): {why}"
        if self.tier_note:
            text += f"\n  {self.tier_note}"
        for name, reason in self.passed_over:
            text += f"\n  passed over {name!r}: {reason}"
        return text


@attrs.frozen(slots=True)
class Explanation:
    """Why a ticket gets the targets it gets, metric by metric."""

    facts: TicketFacts
    selections: Mapping[SlaMetric, Selection]
    uncovered: tuple[SlaMetric, ...]
    """Metrics no matching rule sets: the ticket has no commitment for them."""

    def __str__(self) -> str:
        lines = [str(s) for s in self.selections.values()]
        lines += [f"{m}: no commitment (no matching rule sets one)" for m in self.uncovered]
        return "\n".join(lines)


class SlaPolicy(SupportflowModel):
    """The SLA as data: named calendars, rules in precedence order, tier terms, settings.

    ``calendars`` maps names to :class:`~supportflow.sla.CalendarSpec`; ``"24x7"`` is
    always available and may not be redefined. ``tiers`` gives customer tiers
    :class:`TierTerms` that shorten the targets the rules choose (a tier left out gets the
    rules' targets). ``metrics`` may configure some metrics and leave the rest at
    :data:`DEFAULT_SETTINGS`.
    """

    name: Label = "sla"
    calendars: dict[Label, CalendarSpec] = Field(default_factory=dict)
    rules: tuple[Rule, ...]
    tiers: dict[CustomerTier, TierTerms] = Field(default_factory=dict)
    metrics: dict[SlaMetric, MetricSettings] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> Self:
        if not self.rules:
            raise ValueError("rules: a policy needs at least one rule")
        if ALWAYS_OPEN in self.calendars:
            raise ValueError(f"calendars: {ALWAYS_OPEN!r} is built in and cannot be redefined")
        names = [rule.name for rule in self.rules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"rules: names must be unique ({', '.join(twice)} repeated)")
        known = {*self.calendars, ALWAYS_OPEN}
        for i, rule in enumerate(self.rules):
            for metric, target in rule.targets.items():
                if target.calendar not in known:
                    raise ValueError(
                        f"rules.{i}.targets.{metric}.calendar: unknown calendar "
                        f"{target.calendar!r} (known: {', '.join(sorted(known))})"
                    )
        return self

    # -- loading -----------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicy:
        """A policy from plain data (as parsed from JSON or TOML)."""
        return cls.model_validate(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> SlaPolicy:
        """A policy from a JSON document."""
        return cls.from_dict(from_json_text(text))

    @classmethod
    def from_toml(cls, text: str) -> SlaPolicy:
        """A policy from a TOML document."""
        return cls.from_dict(from_toml_text(text))

    def with_tier_terms(self, terms: Mapping[CustomerTier, TierTerms]) -> SlaPolicy:
        """This policy with ``terms`` as its tier terms, in place of the ones it has.

        ``supportflow.tiering.TierEntitlements.sla_terms()`` gives an entitlements table's.
        """
        if not isinstance(terms, Mapping):
            raise ValidationFailed("terms", f"must be a mapping, not {type(terms).__name__}")
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        return SlaPolicy.model_validate({**fields, "tiers": dict(terms)})

    # -- queries -----------------------------------------------------------------------

    def settings(self, metric: SlaMetric) -> MetricSettings:
        """The pause rules, warnings and ladder of ``metric``."""
        return self.metrics.get(metric) or DEFAULT_SETTINGS[metric]

    def calendar(self, name: str) -> BusinessCalendar:
        """The calendar called ``name`` (``CalendarNotFound``-style ``ValidationFailed``)."""
        try:
            return self._calendars[name]
        except KeyError:
            known = ", ".join(sorted(self._calendars))
            raise ValidationFailed("calendar", f"unknown {name!r} (known: {known})") from None

    def select(self, facts: TicketFacts) -> Mapping[SlaMetric, Selection]:
        """The target of each metric the policy covers for ``facts``."""
        if not isinstance(facts, TicketFacts):
            raise ValidationFailed("facts", f"must be TicketFacts, not {type(facts).__name__}")
        cache = self._selections
        found = cache.get(facts)
        if found is None:
            found = self._select(facts)
            if len(cache) < 4096:
                cache[facts] = found
        return found

    def explain(self, facts: TicketFacts) -> Explanation:
        """Which rule chose each target for ``facts``, why earlier rules did not, and what
        the customer's tier changed."""
        chosen = self.select(facts)
        uncovered = tuple(m for m in SlaMetric if m not in chosen)
        return Explanation(facts=facts, selections=chosen, uncovered=uncovered)

    @cached_property
    def _calendars(self) -> dict[str, BusinessCalendar]:
        built = {name: BusinessCalendar(spec) for name, spec in self.calendars.items()}
        built[ALWAYS_OPEN] = BusinessCalendar.always_open()
        return built

    @cached_property
    def _selections(self) -> dict[TicketFacts, Mapping[SlaMetric, Selection]]:
        return {}

    def _select(self, facts: TicketFacts) -> Mapping[SlaMetric, Selection]:
        chosen: dict[SlaMetric, Selection] = {}
        passed: dict[SlaMetric, list[tuple[str, str]]] = {m: [] for m in SlaMetric}
        for number, rule in enumerate(self.rules, start=1):
            pending = [m for m in rule.targets if m not in chosen]
            if not pending:
                continue
            verdicts = rule.when.verdicts(facts)
            failed = [text for holds, text in verdicts if not holds]
            for metric in pending:
                if failed:
                    passed[metric].append((rule.name, "; ".join(failed)))
                else:
                    chosen[metric] = Selection(
                        metric=metric,
                        target=rule.targets[metric],
                        rule=rule.name,
                        rule_number=number,
                        because=tuple(text for _, text in verdicts),
                        passed_over=tuple(passed[metric]),
                    )
        terms = self.tiers.get(facts.tier)
        if terms is not None and not terms.neutral:
            for metric, selection in chosen.items():
                chosen[metric] = self._entitled(selection, terms, facts)
        return {m: chosen[m] for m in SlaMetric if m in chosen}

    def _entitled(self, selection: Selection, terms: TierTerms, facts: TicketFacts) -> Selection:
        """``selection`` with the tier's terms applied, and a note saying what they did."""
        metric, tier = selection.metric, str(facts.tier)
        if not terms.concerns(metric, facts.channel):
            return selection
        if self.rules[selection.rule_number - 1].when.tier:
            note = f"{tier} terms not applied: rule {selection.rule!r} names the tier"
            return attrs.evolve(selection, tier_note=note)
        given = selection.target
        target = terms.apply(metric, given, facts.channel)
        if target == given:
            note = f"{tier} terms: {given} already as fast"
            return attrs.evolve(selection, tier_note=note)
        note = f"{tier} terms: {given} → {target}"
        if target.calendar == ALWAYS_OPEN != given.calendar:
            note += f" ({facts.channel} around the clock)"
        return attrs.evolve(selection, target=target, rule_target=given, tier_note=note)


def _whole_days(spec: CalendarSpec) -> CalendarSpec:
    """``spec``'s working days, open all day: "within 24 hours" counting only working days."""
    day = (Hours(start=time(0), end=time(0)),)

    def whole(weekly: Mapping[Any, tuple[Hours, ...]]) -> dict[Any, tuple[Hours, ...]]:
        return {d: day for d in WEEKDAYS if weekly.get(d)}

    return spec.model_copy(
        update={
            "name": f"{spec.name or 'business'} (whole working days)",
            "weekly": whole(spec.weekly),
            "holidays": tuple(h for h in spec.holidays if not h.closed),
            "working_days": tuple(
                WorkingDay(date=d.date, name=d.name, hours=day if d.hours != () else ())
                for d in spec.working_days
            ),
            "overrides": tuple(
                o.model_copy(update={"weekly": whole(o.weekly)}) for o in spec.overrides
            ),
        }
    )


def default_policy(calendar: CalendarSpec | BusinessCalendar) -> SlaPolicy:
    """The commitments of DESIGN.md on the team's business ``calendar``.

    ========== ============== =============== ============== =====================
    rule        first response acknowledgement next response  resolution
    ========== ============== =============== ============== =====================
    urgent      30m, 24x7      15m, 24x7       30m, 24x7      24h, 24x7
    complaint   --             --              --             48h of working days
    standard    1h             30m             4h             24h of working days
    ========== ============== =============== ============== =====================

    Rules apply in that order, first match per metric. The customer's tier then shortens
    the target (:data:`DEFAULT_TIER_TERMS`, counted on the rule's calendar):

    ========== ============== =============== ============== =====================
    tier        first response acknowledgement next response  resolution
    ========== ============== =============== ============== =====================
    vip         15m            10m             30m            12h
    key         30m            15m             1h             18h
    ========== ============== =============== ============== =====================

    So a VIP ticket gets 15 business minutes for its first response, a VIP complaint 12
    hours of working days for its resolution, and an urgent VIP ticket 15 minutes around
    the clock; a VIP's phone tickets run their responses around the clock (the 24x7
    hotline). Plain durations are business hours on ``calendar`` ("business"); "of
    working days" counts whole working days of the same calendar ("working_days"), so
    "within 24 hours" received on a Friday falls due on Monday at the same time.
    Resolution pauses while waiting on the customer; warnings at 75% and 90%; escalation
    level 1 at the breach and level 2 after a further hour (four for resolution).
    """
    spec = calendar.spec if isinstance(calendar, BusinessCalendar) else calendar
    if not isinstance(spec, CalendarSpec):
        raise ValidationFailed(
            "calendar", f"must be a CalendarSpec or BusinessCalendar, not {type(spec).__name__}"
        )
    fr, ack, nr, res = (
        SlaMetric.FIRST_RESPONSE,
        SlaMetric.ACKNOWLEDGEMENT,
        SlaMetric.NEXT_RESPONSE,
        SlaMetric.RESOLUTION,
    )

    def days(hours: int) -> Target:
        return Target(within=timedelta(hours=hours), calendar="working_days")

    def around(minutes: int) -> Target:
        return Target(within=timedelta(minutes=minutes), calendar=ALWAYS_OPEN)

    def business(minutes: int) -> Target:
        return Target(within=timedelta(minutes=minutes))

    ladder = (EscalationStep(), EscalationStep(after=timedelta(hours=1)))
    return SlaPolicy(
        name="supportflow default",
        calendars={"business": spec, "working_days": _whole_days(spec)},
        rules=(
            Rule(
                name="urgent",
                when=Conditions(priority=(Priority.URGENT,)),
                targets={fr: around(30), ack: around(15), nr: around(30), res: around(24 * 60)},
            ),
            Rule(name="complaint", when=Conditions(complaint=True), targets={res: days(48)}),
            Rule(
                name="standard",
                targets={fr: business(60), ack: business(30), nr: business(240), res: days(24)},
            ),
        ),
        tiers=dict(DEFAULT_TIER_TERMS),
        metrics={
            fr: MetricSettings(escalation=ladder),
            ack: MetricSettings(escalation=ladder),
            nr: MetricSettings(escalation=ladder),
            res: MetricSettings(
                pause_in=(TicketStatus.WAITING_ON_CUSTOMER,),
                escalation=(EscalationStep(), EscalationStep(after=timedelta(hours=4))),
            ),
        },
    )
