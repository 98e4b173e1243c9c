"""Customer tiers from purchase history, and what each tier is entitled to.

Pure domain code: no storage, no desk. A :class:`TierPolicy` grades a customer's
:class:`CustomerFacts` into VIP / key / regular / prospect with ordered rules, each decision
carrying a reason that names the rule and the figures; a :class:`TierOverride` set by a
person wins until it expires. :func:`assess_all` recomputes many customers and returns only
the changes (what the desk records as ``customer.tier_changed``). :func:`entitlements_for`
is the one interface through which the SLA policy and routing learn what a tier gets: the
SLA reads :meth:`Entitlements.sla_terms` (put into a policy with
``SlaPolicy.with_tier_terms(table.sla_terms())``), routing reads ``routing_priority`` and
``dedicated_account_manager``.

Rules apply in this order, first match wins:

1. **prospect**: no purchase yet (nothing else is looked at);
2. **vip** when *any* enabled VIP criterion holds;
3. **key** when *any* enabled key criterion holds;
4. **regular** otherwise.

A criterion set to ``None`` (or ``False`` for the strategic contract) is off. Because the
rules only ever ask "at least", more spend (or purchases, contracts, tickets) never lowers
a tier.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, NamedTuple, Self

from pydantic import AwareDatetime, BeforeValidator, Field, StringConstraints, model_validator

from . import _validate
from .errors import ValidationFailed
from .models import Channel, Customer, CustomerTier, SupportflowModel
from .sla import SlaMetric, SlaPolicy, Target
from .sla._documents import from_json_text, from_toml_text
from .sla.policy import DEFAULT_TIER_TERMS, TierTerms

__all__ = [
    "DEFAULT_ENTITLEMENTS",
    "TIER_RANK",
    "CustomerFacts",
    "Entitlements",
    "KeyRule",
    "Purchase",
    "PurchaseTotals",
    "TierChange",
    "TierDecision",
    "TierEntitlements",
    "TierOverride",
    "TierPolicy",
    "VipRule",
    "assess",
    "assess_all",
    "effective_tier",
    "entitlements_for",
]

Id = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=500, strip_whitespace=True)]
Explained = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
Money = Annotated[Decimal, Field(ge=0, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=10_000_000)]

TIER_RANK = {
    CustomerTier.PROSPECT: 0,
    CustomerTier.REGULAR: 1,
    CustomerTier.KEY: 2,
    CustomerTier.VIP: 3,
}
"""Tiers from lowest to highest, for comparisons (``TIER_RANK[a] < TIER_RANK[b]``)."""


def _money(value: Decimal) -> str:
    """``120,000`` or ``120,000.50``: figures in reasons read like the documents."""
    return f"{value.normalize():,f}" if value == value.to_integral_value() else f"{value:,f}"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


# -- facts -----------------------------------------------------------------------------


class Purchase(NamedTuple):
    """One purchase: when, and how much (in the host's currency)."""

    at: AwareDatetime
    amount: Money


class PurchaseTotals(SupportflowModel):
    """Lifetime totals, for a host that keeps no itemized purchase history."""

    count: Count = 0
    spend: Money = Decimal(0)
    first_at: AwareDatetime | None = None
    last_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.count == 0 and (self.spend or self.first_at or self.last_at):
            raise ValueError("count: is 0 but spend or purchase dates are set")
        if self.count and (self.first_at is None or self.last_at is None):
            raise ValueError("last_at: purchases need first_at and last_at")
        if self.first_at and self.last_at and self.first_at > self.last_at:
            raise ValueError("first_at: must not be after last_at")
        return self


class CustomerFacts(SupportflowModel):
    """What tiering looks at for one customer.

    ``tier`` is the tier recorded now (so :func:`assess_all` can report changes).
    ``purchases`` is the itemized history; a host that only keeps totals passes ``totals``
    instead (see :meth:`from_customer`), and spend over the window is then estimated from
    them. ``tickets`` and ``complaints`` count the customer's tickets and complaints over the
    policy's ``service_window_days``; the host counts them.
    """

    customer_id: Id
    tier: CustomerTier = CustomerTier.REGULAR
    purchases: tuple[Purchase, ...] = ()
    totals: PurchaseTotals | None = None
    active_contracts: Count = 0
    strategic_contract: bool = False
    tickets: Count = 0
    complaints: Count = 0

    @model_validator(mode="after")
    def _one_history(self) -> Self:
        if self.purchases and self.totals is not None:
            raise ValueError("totals: give itemized purchases or totals, not both")
        return self

    @classmethod
    def from_customer(
        cls,
        customer: Customer,
        *,
        active_contracts: int = 0,
        strategic_contract: bool = False,
        tickets: int = 0,
        complaints: int = 0,
    ) -> CustomerFacts:
        """Facts from a stored ``Customer`` alone, using its lifetime totals."""
        if not isinstance(customer, Customer):
            raise ValidationFailed("customer", f"must be a Customer, not {type(customer).__name__}")
        try:
            totals = PurchaseTotals(
                count=customer.purchase_count,
                spend=customer.total_spend,
                first_at=customer.first_purchase_at,
                last_at=customer.last_purchase_at,
            )
        except ValidationFailed as exc:
            raise exc.prefixed("customer") from None
        return cls(
            customer_id=customer.id,
            tier=customer.tier,
            totals=totals,
            active_contracts=active_contracts,
            strategic_contract=strategic_contract,
            tickets=tickets,
            complaints=complaints,
        )

    @property
    def purchase_count(self) -> int:
        """Purchases ever made (a prospect has none)."""
        return len(self.purchases) if self.totals is None else self.totals.count


def _bought_by(facts: CustomerFacts, now: datetime) -> bool:
    """Whether any purchase was made by ``now`` (a purchase dated later does not count yet)."""
    if facts.totals is None:
        return any(p.at <= now for p in facts.purchases)
    return facts.totals.first_at is not None and facts.totals.first_at <= now


class _Window(NamedTuple):
    """Purchases and spend in the policy window; ``estimated`` when from lifetime totals."""

    purchases: int
    spend: Decimal
    estimated: bool


def _window(facts: CustomerFacts, start: datetime, now: datetime) -> _Window:
    """The window's figures: exact from itemized purchases, else bounded from totals.

    With totals only: nothing if the last purchase is before the window, everything if the
    first is inside it, and otherwise the lifetime totals (an upper bound, marked estimated).
    """
    totals = facts.totals
    if totals is None:
        inside = [p for p in facts.purchases if start <= p.at <= now]
        return _Window(len(inside), sum((p.amount for p in inside), Decimal(0)), False)
    if totals.last_at is None or totals.last_at < start:
        return _Window(0, Decimal(0), False)
    exact = totals.first_at is not None and totals.first_at >= start
    return _Window(totals.count, totals.spend, not exact)


# -- policy ----------------------------------------------------------------------------


class VipRule(SupportflowModel):
    """VIP when any enabled criterion holds: top spend, a strategic contract, many contracts."""

    min_spend: Money | None = Decimal(100_000)
    strategic_contract: bool = True
    min_active_contracts: Annotated[int, Field(ge=1)] | None = None


class KeyRule(SupportflowModel):
    """Key when any enabled criterion holds: sustained purchases, spend, contracts, needs.

    ``min_tickets`` and ``min_complaints`` grade by service needs; the documents name them
    without figures, so they are off by default.
    """

    min_purchases: Annotated[int, Field(ge=1)] | None = 4
    min_spend: Money | None = Decimal(20_000)
    min_active_contracts: Annotated[int, Field(ge=1)] | None = 1
    min_tickets: Annotated[int, Field(ge=1)] | None = None
    min_complaints: Annotated[int, Field(ge=1)] | None = None


def _duration(value: Any) -> Any:
    """``"15m"``, ``"1h30m"``, ISO 8601 or seconds, parsed as SLA targets parse them."""
    if isinstance(value, timedelta):
        return value
    try:
        return Target(within=value).within
    except ValidationFailed as exc:
        raise ValueError(exc.reason) from None


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class Entitlements(SupportflowModel):
    """What customers of one tier get; read by the SLA policy, routing and the host.

    SLA: an explicit ``sla_targets`` entry for a metric, else the rule's target times
    ``sla_multiplier``, counted on the rule's calendar; entitlements only ever make a
    target faster, never slower (see :meth:`apply_to_target`). ``hotline_24x7``: the
    around-the-clock phone line, so the tier's phone tickets get their responses (first
    response, acknowledgement, next response) around the clock. The SLA policy reads all
    three as :meth:`sla_terms`.

    Routing: ``routing_priority`` orders the desk's queue among tickets of the same
    priority (higher first); ``dedicated_account_manager`` sends the tier's tickets to the
    customer's account manager, else to the senior pool (``TierAware``).

    ``channels``: where the host offers this tier support (:meth:`allows`), for its own
    pages and phone menus. Intake never refuses a ticket for its channel: a customer who
    writes on a channel their tier is not offered still gets a ticket, on the same terms.
    """

    sla_multiplier: float = Field(default=1.0, gt=0, le=1, allow_inf_nan=False)
    sla_targets: dict[SlaMetric, Duration] = Field(default_factory=dict)
    routing_priority: int = Field(default=0, ge=0, le=1000)
    dedicated_account_manager: bool = False
    channels: frozenset[Channel] = frozenset(Channel)
    hotline_24x7: bool = False

    @model_validator(mode="after")
    def _checks(self) -> Self:
        for metric, within in self.sla_targets.items():
            if within <= timedelta(0):
                raise ValueError(f"sla_targets.{metric.value}: must be positive")
        if self.hotline_24x7 and Channel.PHONE not in self.channels:
            raise ValueError("hotline_24x7: needs the phone channel")
        return self

    def sla_terms(self) -> TierTerms:
        """The SLA part, as the SLA policy's :class:`~supportflow.sla.policy.TierTerms`."""
        return TierTerms(
            multiplier=self.sla_multiplier,
            targets=self.sla_targets,
            around_the_clock=(Channel.PHONE,) if self.hotline_24x7 else (),
        )

    def allows(self, channel: Channel | str) -> bool:
        """Whether the host offers this tier support on ``channel`` (intake accepts all)."""
        return _validate.enum_value("channel", Channel, channel) in self.channels

    def apply_to_target(self, metric: SlaMetric, target: timedelta) -> timedelta:
        """``target`` (chosen without regard to tier) as this tier is entitled to it.

        The explicit target for ``metric`` if there is one, else ``target`` times the
        multiplier rounded to whole seconds (at least one); never longer than ``target``.
        The SLA policy shortens its targets the same way (``TierTerms.shorten``).
        """
        metric = _validate.enum_value("metric", SlaMetric, metric)
        if not isinstance(target, timedelta):
            raise ValidationFailed("target", f"must be a timedelta, not {type(target).__name__}")
        if target <= timedelta(0):
            raise ValidationFailed("target", "must be positive")
        return self.sla_terms().shorten(metric, target)


def _sla_defaults(tier: CustomerTier) -> dict[str, Any]:
    """The SLA part of ``tier``'s defaults: the terms the default SLA policy carries."""
    terms = DEFAULT_TIER_TERMS.get(tier)
    if terms is None:
        return {}
    return {"sla_multiplier": terms.multiplier, "sla_targets": dict(terms.targets)}


_TIER_DEFAULTS: dict[str, dict[str, Any]] = {
    "vip": {
        **_sla_defaults(CustomerTier.VIP),
        "routing_priority": 30,
        "dedicated_account_manager": True,
        "hotline_24x7": True,
    },
    "key": {
        **_sla_defaults(CustomerTier.KEY),
        "routing_priority": 20,
        "dedicated_account_manager": True,
    },
    "regular": {"routing_priority": 10},
    "prospect": {"routing_priority": 0},
}
_SLA_FIELDS = ("sla_multiplier", "sla_targets")


class TierEntitlements(SupportflowModel):
    """Entitlements for every tier; the defaults follow the documents.

    ======== =========================== ======== =============== ============
    tier     SLA targets (fr/ack/nr/res) priority account manager 24x7 hotline
    ======== =========================== ======== =============== ============
    vip      15m / 10m / 30m / 12h       30       yes             yes
    key      30m / 15m / 1h / 18h        20       yes             no
    regular  as the rules say            10       no              no
    prospect as the rules say            0        no              no
    ======== =========================== ======== =============== ============

    The SLA targets are the ones the default SLA policy gave VIP and key customers with
    rules of their own before entitlements existed (``DEFAULT_TIER_TERMS``), so a default
    desk keeps its targets. Every tier may use every channel by default. A tier given in
    part keeps that tier's defaults for the fields it leaves out, except that the SLA
    terms go together: giving ``sla_multiplier`` or ``sla_targets`` replaces both (the one
    left out starts at ``x1`` / none), so ``[vip] sla_multiplier = 0.4`` means what it says.
    """

    vip: Entitlements = Entitlements.model_validate(_TIER_DEFAULTS["vip"])
    key: Entitlements = Entitlements.model_validate(_TIER_DEFAULTS["key"])
    regular: Entitlements = Entitlements.model_validate(_TIER_DEFAULTS["regular"])
    prospect: Entitlements = Entitlements.model_validate(_TIER_DEFAULTS["prospect"])

    @model_validator(mode="before")
    @classmethod
    def _over_defaults(cls, value: Any) -> Any:
        """A partial table (``[entitlements.vip] hotline_24x7 = false``) keeps the rest."""
        if not isinstance(value, Mapping):
            return value
        merged = dict(value)
        for tier, given in value.items():
            if tier in _TIER_DEFAULTS and isinstance(given, Mapping):
                base = _TIER_DEFAULTS[tier]
                if any(name in given for name in _SLA_FIELDS):
                    base = {k: v for k, v in base.items() if k not in _SLA_FIELDS}
                merged[tier] = {**base, **given}
        return merged

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        ladder = [self.prospect, self.regular, self.key, self.vip]
        names = ["prospect", "regular", "key", "vip"]
        for i in range(1, len(ladder)):
            if ladder[i].routing_priority < ladder[i - 1].routing_priority:
                raise ValueError(f"{names[i]}.routing_priority: must not be below {names[i - 1]}'s")
        return self

    def sla_terms(self) -> dict[CustomerTier, TierTerms]:
        """Every tier's SLA terms, for ``SlaPolicy.with_tier_terms``.

        Tiers whose terms change nothing are left out, so the default table gives exactly
        the default SLA policy's ``tiers``.
        """
        found = {tier: entitlements_for(tier, self).sla_terms() for tier in CustomerTier}
        return {tier: terms for tier, terms in found.items() if not terms.neutral}

    def apply_to(self, policy: SlaPolicy) -> SlaPolicy:
        """``policy`` with this table's SLA terms in place of its own (what a desk runs)."""
        if not isinstance(policy, SlaPolicy):
            raise ValidationFailed("policy", f"must be an SlaPolicy, not {type(policy).__name__}")
        return policy.with_tier_terms(self.sla_terms())


DEFAULT_ENTITLEMENTS = TierEntitlements()
"""The documented default entitlements (see :class:`TierEntitlements`)."""


def entitlements_for(
    tier: CustomerTier | str, table: TierEntitlements = DEFAULT_ENTITLEMENTS
) -> Entitlements:
    """What customers of ``tier`` get: the one interface the SLA policy and routing use.

    ``table`` is usually ``TierPolicy.entitlements``; by default the documented defaults.
    """
    tier = _validate.enum_value("tier", CustomerTier, tier)
    if not isinstance(table, TierEntitlements):
        raise ValidationFailed("table", f"must be TierEntitlements, not {type(table).__name__}")
    entitled: Entitlements = getattr(table, tier.value)
    return entitled


class TierPolicy(SupportflowModel):
    """How tiers are computed, and what each tier gets; loadable from JSON or TOML.

    Defaults (from the documents: VIP by top spend or a strategic contract, key by sustained
    purchases): spend and purchases count over the last ``window_days`` (365); VIP at
    100,000 spent or a strategic contract; key at 4 purchases, 20,000 spent or one active
    contract; regular otherwise; prospect before the first purchase.
    """

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] = "default"
    window_days: int = Field(default=365, ge=1, le=3650)
    service_window_days: int = Field(default=90, ge=1, le=3650)
    vip: VipRule = VipRule()
    key: KeyRule = KeyRule()
    entitlements: TierEntitlements = DEFAULT_ENTITLEMENTS

    @model_validator(mode="after")
    def _vip_above_key(self) -> Self:
        if (
            self.vip.min_spend is not None
            and self.key.min_spend is not None
            and self.vip.min_spend < self.key.min_spend
        ):
            raise ValueError("vip.min_spend: must not be below key.min_spend")
        return self

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TierPolicy:
        """A policy from plain data (as parsed from JSON or TOML)."""
        if not isinstance(data, Mapping):
            raise ValidationFailed("data", f"must be a mapping, not {type(data).__name__}")
        return cls.model_validate(dict(data))

    @classmethod
    def from_json(cls, text: str | bytes) -> TierPolicy:
        """A policy from a JSON document."""
        return cls.from_dict(from_json_text(text))

    @classmethod
    def from_toml(cls, text: str) -> TierPolicy:
        """A policy from a TOML document."""
        return cls.from_dict(from_toml_text(text))


# -- decisions -------------------------------------------------------------------------


class TierDecision(SupportflowModel):
    """A customer's tier and why: ``rule`` names the criterion (``vip.min_spend``)."""

    customer_id: Id
    tier: CustomerTier
    rule: Id
    reason: Explained


def _check_facts(facts: object, field: str = "facts") -> CustomerFacts:
    if not isinstance(facts, CustomerFacts):
        raise ValidationFailed(field, f"must be CustomerFacts, not {type(facts).__name__}")
    return facts


def _check_policy(policy: object) -> TierPolicy:
    if not isinstance(policy, TierPolicy):
        raise ValidationFailed("policy", f"must be a TierPolicy, not {type(policy).__name__}")
    return policy


def assess(facts: CustomerFacts, policy: TierPolicy, *, now: datetime) -> TierDecision:
    """The tier ``policy`` gives ``facts`` at ``now``, with the rule and figures that decided.

    Deterministic: the same facts, policy and instant always give the same decision.
    """
    facts = _check_facts(facts)
    policy = _check_policy(policy)
    now = _validate.aware("now", now)
    return _assess(facts, policy, now)


def _assess(facts: CustomerFacts, policy: TierPolicy, now: datetime) -> TierDecision:
    def decide(tier: CustomerTier, rule: str, reason: str) -> TierDecision:
        return TierDecision(
            customer_id=facts.customer_id, tier=tier, rule=rule, reason=f"{tier.value}: {reason}"
        )

    if not _bought_by(facts, now):
        return decide(CustomerTier.PROSPECT, "prospect", "no purchase yet")
    days = policy.window_days
    seen = _window(facts, now - timedelta(days=days), now)
    over = f"over {days} days" + (" (estimated from lifetime totals)" if seen.estimated else "")
    spend = f"spend {_money(seen.spend)} {over}"
    bought = f"{_plural(seen.purchases, 'purchase')} {over}"
    contracts = _plural(facts.active_contracts, "active contract")
    service = f"over {policy.service_window_days} days"

    vip, key = policy.vip, policy.key
    if vip.strategic_contract and facts.strategic_contract:
        return decide(CustomerTier.VIP, "vip.strategic_contract", "strategic contract")
    if vip.min_spend is not None and seen.spend >= vip.min_spend:
        return decide(CustomerTier.VIP, "vip.min_spend", f"{spend} ≥ {_money(vip.min_spend)}")
    if vip.min_active_contracts is not None and facts.active_contracts >= vip.min_active_contracts:
        return decide(
            CustomerTier.VIP,
            "vip.min_active_contracts",
            f"{contracts} ≥ {vip.min_active_contracts}",
        )
    if key.min_spend is not None and seen.spend >= key.min_spend:
        return decide(CustomerTier.KEY, "key.min_spend", f"{spend} ≥ {_money(key.min_spend)}")
    if key.min_purchases is not None and seen.purchases >= key.min_purchases:
        return decide(CustomerTier.KEY, "key.min_purchases", f"{bought} ≥ {key.min_purchases}")
    if key.min_active_contracts is not None and facts.active_contracts >= key.min_active_contracts:
        return decide(
            CustomerTier.KEY,
            "key.min_active_contracts",
            f"{contracts} ≥ {key.min_active_contracts}",
        )
    if key.min_tickets is not None and facts.tickets >= key.min_tickets:
        tickets = f"{_plural(facts.tickets, 'ticket')} {service}"
        return decide(CustomerTier.KEY, "key.min_tickets", f"{tickets} ≥ {key.min_tickets}")
    if key.min_complaints is not None and facts.complaints >= key.min_complaints:
        complaints = f"{_plural(facts.complaints, 'complaint')} {service}"
        return decide(
            CustomerTier.KEY, "key.min_complaints", f"{complaints} ≥ {key.min_complaints}"
        )
    below = []
    if key.min_spend is not None:
        below.append(f"{spend} < {_money(key.min_spend)}")
    if key.min_purchases is not None:
        below.append(f"{bought} < {key.min_purchases}")
    detail = "; ".join(below) or "no vip or key criterion holds"
    return decide(CustomerTier.REGULAR, "regular", detail)


# -- overrides -------------------------------------------------------------------------


class TierOverride(SupportflowModel):
    """A tier set by a person: it wins over the policy until ``expires_at`` (exclusive)."""

    tier: CustomerTier
    reason: Reason
    set_by: Id
    expires_at: AwareDatetime

    def active(self, now: datetime) -> bool:
        """Whether the override still applies at ``now``."""
        return _validate.aware("now", now) < self.expires_at


def effective_tier(
    decision: TierDecision, override: TierOverride | None, now: datetime
) -> TierDecision:
    """The decision that holds at ``now``: an active override's, else the policy's own."""
    if not isinstance(decision, TierDecision):
        raise ValidationFailed("decision", f"must be a TierDecision, not {type(decision).__name__}")
    if override is not None and not isinstance(override, TierOverride):
        raise ValidationFailed(
            "override", f"must be a TierOverride or None, not {type(override).__name__}"
        )
    now = _validate.aware("now", now)
    return decision if override is None else _apply(decision, override, now)


def _apply(decision: TierDecision, override: TierOverride, now: datetime) -> TierDecision:
    if not override.active(now):
        return decision
    until = override.expires_at.isoformat()
    return TierDecision(
        customer_id=decision.customer_id,
        tier=override.tier,
        rule="override",
        reason=(
            f"{override.tier.value}: override by {override.set_by} until {until}: "
            f"{override.reason} (policy says {decision.tier.value})"
        ),
    )


# -- bulk ------------------------------------------------------------------------------


class TierChange(SupportflowModel):
    """A customer whose tier changes: the data of a ``customer.tier_changed`` event."""

    customer_id: Id
    old: CustomerTier
    new: CustomerTier
    rule: Id
    reason: Explained

    def event_data(self) -> dict[str, str]:
        """The change as plain strings, for the event's ``data``."""
        return {
            "customer_id": self.customer_id,
            "old": self.old.value,
            "new": self.new.value,
            "rule": self.rule,
            "reason": self.reason,
        }


def assess_all(
    facts: Iterable[CustomerFacts],
    policy: TierPolicy,
    *,
    now: datetime,
    overrides: Mapping[str, TierOverride] | None = None,
) -> list[TierChange]:
    """The customers whose effective tier differs from their recorded one, in input order.

    ``overrides`` maps customer ids to their override (expired ones are ignored). Every
    input is checked before any result is returned; a customer listed twice is refused.
    """
    policy = _check_policy(policy)
    now = _validate.aware("now", now)
    if isinstance(facts, str | bytes | Mapping) or not isinstance(facts, Iterable):
        raise ValidationFailed("facts", "must be an iterable of CustomerFacts")
    overrides = {} if overrides is None else overrides
    if not isinstance(overrides, Mapping):
        raise ValidationFailed("overrides", "must be a mapping of customer id to TierOverride")
    for key, value in overrides.items():
        if not isinstance(value, TierOverride):
            raise ValidationFailed(
                f"overrides[{key!r}]", f"must be a TierOverride, not {type(value).__name__}"
            )
    changes: list[TierChange] = []
    seen: set[str] = set()
    for i, item in enumerate(facts):
        item = _check_facts(item, f"facts[{i}]")
        if item.customer_id in seen:
            raise ValidationFailed(f"facts[{i}].customer_id", f"{item.customer_id!r} repeated")
        seen.add(item.customer_id)
        decision = _assess(item, policy, now)
        override = overrides.get(item.customer_id)
        if override is not None:
            decision = _apply(decision, override, now)
        if decision.tier is not item.tier:
            changes.append(
                TierChange(
                    customer_id=item.customer_id,
                    old=item.tier,
                    new=decision.tier,
                    rule=decision.rule,
                    reason=decision.reason,
                )
            )
    return changes
