"""Suggested priority from urgency cues in the text, the customer's tier and the channel."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TypeVar

import attrs

from ..errors import ValidationFailed
from ..models import Channel, CustomerTier, Priority, Ticket
from ..text import detect_language
from ._matching import PhraseMatcher, phrase_key
from ._text import checked_text, ticket_text
from .protocols import Classification

__all__ = [
    "DEFAULT_CHANNEL_POINTS",
    "DEFAULT_TIER_POINTS",
    "URGENCY_CUES",
    "PriorityAssessment",
    "PriorityDetector",
    "UrgencyCue",
]

K = TypeVar("K", CustomerTier, Channel)


def _check_cue_phrase(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not phrase_key(value):
        raise ValidationFailed("phrase", "must be a string with at least one letter or ideograph")


def _check_points(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed("points", "must be an integer")


@attrs.frozen(slots=True)
class UrgencyCue:
    """A phrase that adds ``points`` to a ticket's urgency (negative points lower it).

    Phrases match like keyword rules: English with typo tolerance, Chinese as written.
    """

    phrase: str = attrs.field(validator=_check_cue_phrase)
    points: int = attrs.field(validator=_check_points)


def _cues(points: int, *phrases: str) -> tuple[UrgencyCue, ...]:
    return tuple(UrgencyCue(phrase, points) for phrase in phrases)


# fmt: off
URGENCY_CUES: tuple[UrgencyCue, ...] = (
    *_cues(
        5,
        "outage", "is down", "are down", "went down", "site down", "server down",
        "system down", "service down", "website down", "app down", "emergency", "data loss",
        "lost data", "security breach", "hacked", "fraud", "宕机", "瘫痪", "崩了",
        "服务中断", "数据丢失", "被盗", "被黑", "停机",
    ),
    *_cues(
        3,
        "cannot log in", "can't log in", "unable to log in", "cannot login", "can't login",
        "locked out", "cannot access", "can't access", "无法登录", "登录不了", "登不上",
        "无法访问", "进不去",
    ),
    *_cues(
        2,
        "urgent", "asap", "as soon as possible", "immediately", "right now", "critical",
        "blocker", "blocking", "紧急", "加急", "尽快", "马上", "立刻", "立即", "急需", "很急",
        "着急",
    ),
    *_cues(
        -2,
        "not urgent", "no rush", "no hurry", "whenever you can", "low priority",
        "when you have time", "不急", "不着急", "不紧急", "有空", "方便时",
    ),
)
"""Default cues: outages and breaches +5 (urgent whatever the tier), lock-outs +3,
"urgent"/"紧急" +2, "no rush"/"不急" -2."""
# fmt: on

DEFAULT_TIER_POINTS: Mapping[CustomerTier, int] = MappingProxyType(
    {CustomerTier.VIP: 2, CustomerTier.KEY: 1, CustomerTier.REGULAR: 0, CustomerTier.PROSPECT: -1}
)
"""VIP and key customers get priority response (the documents); prospects wait longest."""

DEFAULT_CHANNEL_POINTS: Mapping[Channel, int] = MappingProxyType(
    {Channel.PHONE: 1, Channel.CHAT: 1}
)
"""Live channels, where the customer is waiting on the line, count one point more."""


@attrs.frozen(slots=True)
class PriorityAssessment:
    """A suggested priority, the score it came from, and one reason per contribution."""

    priority: Priority
    score: int
    reasons: tuple[str, ...]


TierLookup = Mapping[str, CustomerTier] | Callable[[str], CustomerTier | str | None]


class PriorityDetector:
    """Suggests a priority by adding points: urgency cue, customer tier, channel.

    The text contributes its strongest positive cue plus its strongest negative one (a
    repeated "urgent" counts once; overlapping phrases keep the longest, so "not urgent"
    is not "urgent"). The customer's tier comes from ``tiers`` (a mapping or a function
    from customer id to tier, since tiers live on ``Customer``, not on the ticket); an
    unknown customer adds nothing. The total maps to a priority: ``urgent_at`` or more is
    urgent, ``high_at`` or more high, below 0 low, else normal. With the defaults, an
    outage is urgent for anyone, "urgent" from a VIP is urgent, a VIP is high on any
    channel, a prospect with no cue is low.

    It is a ``Classifier`` that answers only ``priority`` (``category`` stays ``None``),
    so it composes with the others in ``FirstConfident`` or ``Vote``.
    """

    def __init__(
        self,
        *,
        tiers: TierLookup | None = None,
        cues: Iterable[UrgencyCue] = URGENCY_CUES,
        tier_points: Mapping[CustomerTier, int] = DEFAULT_TIER_POINTS,
        channel_points: Mapping[Channel, int] = DEFAULT_CHANNEL_POINTS,
        urgent_at: int = 4,
        high_at: int = 2,
    ) -> None:
        if tiers is not None and not (isinstance(tiers, Mapping) or callable(tiers)):
            raise ValidationFailed("tiers", "must be a mapping or a function of customer id")
        if isinstance(cues, str) or not isinstance(cues, Iterable):
            raise ValidationFailed("cues", "must be a list of UrgencyCue")
        self._cues = tuple(cues)
        for index, cue in enumerate(self._cues):
            if not isinstance(cue, UrgencyCue):
                raise ValidationFailed(f"cues[{index}]", "must be an UrgencyCue")
        self._tier_points = _points("tier_points", tier_points, CustomerTier)
        self._channel_points = _points("channel_points", channel_points, Channel)
        for name, value in (("urgent_at", urgent_at), ("high_at", high_at)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValidationFailed(name, "must be an integer")
        if not 0 <= high_at <= urgent_at:
            raise ValidationFailed("high_at", "must be from 0 to urgent_at")
        self._tiers = tiers
        self._urgent_at = urgent_at
        self._high_at = high_at
        self._points_of = {phrase_key(c.phrase): c.points for c in self._cues}
        self._matcher = PhraseMatcher(c.phrase for c in self._cues)

    def assess(
        self, text: str, *, tier: CustomerTier | None = None, channel: Channel | None = None
    ) -> PriorityAssessment:
        """The priority for ``text`` from a customer of ``tier`` writing through ``channel``."""
        text = checked_text("text", text)
        if tier is not None and not isinstance(tier, CustomerTier):
            raise ValidationFailed("tier", "must be a CustomerTier or None")
        if channel is not None and not isinstance(channel, Channel):
            raise ValidationFailed("channel", "must be a Channel or None")
        reasons: list[str] = []
        score = 0
        found: dict[str, tuple[int, str]] = {}
        for hit in self._matcher.find(text):
            points = self._points_of[phrase_key(hit.phrase)]
            shown = f"{hit.phrase!r} (typed {hit.found!r})" if hit.typo else repr(hit.phrase)
            found.setdefault(shown, (points, shown))
        raised = max((p for p in found.values() if p[0] > 0), default=None)
        lowered = min((p for p in found.values() if p[0] < 0), default=None)
        for points, shown in [p for p in (raised, lowered) if p is not None]:
            score += points
            reasons.append(f"cue {shown} {points:+d}")
        if tier is not None:
            points = self._tier_points.get(tier, 0)
            score += points
            reasons.append(f"tier {tier.value} {points:+d}")
        if channel is not None and self._channel_points.get(channel, 0):
            points = self._channel_points[channel]
            score += points
            reasons.append(f"channel {channel.value} {points:+d}")
        priority = self._priority(score)
        reasons.append(f"score {score}: {priority.value}")
        return PriorityAssessment(priority, score, tuple(reasons))

    def classify(self, ticket: Ticket) -> Classification:
        """A classification carrying the suggested priority, its reasons and the language."""
        text = ticket_text(ticket)
        assessment = self.assess(
            text, tier=self._tier_of(ticket.customer_id), channel=ticket.channel
        )
        return Classification(
            priority=assessment.priority,
            language=detect_language(text),
            source="priority",
            evidence=assessment.reasons,
        )

    def _tier_of(self, customer_id: str) -> CustomerTier | None:
        if self._tiers is None:
            return None
        found = (
            self._tiers.get(customer_id)
            if isinstance(self._tiers, Mapping)
            else self._tiers(customer_id)
        )
        if found is None or isinstance(found, CustomerTier):
            return found
        try:
            return CustomerTier(found)
        except ValueError:
            raise ValidationFailed(
                "tiers", f"gave {found!r} for customer {customer_id!r}, not a CustomerTier"
            ) from None

    def _priority(self, score: int) -> Priority:
        if score >= self._urgent_at:
            return Priority.URGENT
        if score >= self._high_at:
            return Priority.HIGH
        return Priority.NORMAL if score >= 0 else Priority.LOW


def _points(field: str, value: Mapping[K, int], kind: type[K]) -> dict[K, int]:
    if not isinstance(value, Mapping):
        raise ValidationFailed(field, "must be a mapping")
    checked: dict[K, int] = {}
    for key, points in value.items():
        try:
            member = kind(key)
        except ValueError:
            raise ValidationFailed(field, f"{key!r} is not a {kind.__name__}") from None
        if isinstance(points, bool) or not isinstance(points, int | float):
            raise ValidationFailed(f"{field}[{key}]", "must be a whole number of points")
        if not math.isfinite(points) or points != int(points):
            raise ValidationFailed(f"{field}[{key}]", "must be a whole number of points")
        checked[member] = int(points)
    return checked
