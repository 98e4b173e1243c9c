"""Assignment as a pipeline: team scope, preferences, filters, then an order.

A :class:`Pipeline` decides in this sequence and writes each step into the reason:

1. **Team scope** (:class:`~supportflow.routing.steps.TeamRouting`): the ticket's team,
   seniors from an escalation level on, and the team's escalation team further up.
2. **Preferences** in order (the customer's account manager, their recent agent, the
   senior pool): each names an agent or a narrower pool to try first.
3. **Filters**: every candidate must pass all of them (skill, language, availability,
   per-channel capacity, or the host's own).
4. **Order** (least loaded, round-robin): the first candidate in that order who passes
   the filters gets the ticket; when nobody does, the ticket is queued and the reason says
   which requirement nobody met.

Whatever the steps, the pipeline never picks an agent who is offline, at capacity, or
the ticket's current assignee. Candidates come from the pool's index by the tags the
team scope and the filters require, so a decision inspects a handful of agents, not all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol, runtime_checkable

import attrs

from ..errors import ValidationFailed
from .assignment import Candidate, Decision, Filter, RoutingRequest
from .pool import AgentPool, agent_tags

__all__ = ["Order", "Pipeline", "Preference", "Preferred"]


@attrs.frozen(slots=True)
class Preferred:
    """One option a preference offers: an agent, or a narrower pool (extra tags).

    ``note`` starts the reason when the option wins (``"VIP → account manager"``). A
    ``strict`` option must pass every filter and stay within the team scope (a named
    agent must carry its team and seniority tags); otherwise the team scope and the
    ``fit`` filters (skill, language) do not apply, only the others, so a VIP's account
    manager takes their ticket whatever its team or category, and the reason marks ``✓``
    only the requirements they meet. ``exclusive`` stops the pipeline here: when this
    option finds nobody the ticket is queued rather than offered to the general pool.
    """

    note: str
    agent_id: str | None = None
    tags: frozenset[str] = frozenset()
    strict: bool = True
    exclusive: bool = False


@runtime_checkable
class Preference(Protocol):
    """A pipeline step offering agents or pools to try before the general pool."""

    def prefer(self, request: RoutingRequest, pool: AgentPool) -> Sequence[Preferred]:
        """The options for ``request``, best first (empty when it has none)."""
        ...


@runtime_checkable
class Order(Protocol):
    """The order candidates are tried in."""

    name: str

    def arrange(
        self, pool: AgentPool, tags: frozenset[str], request: RoutingRequest
    ) -> Iterator[Candidate]:
        """The ready agents carrying ``tags``, in the order to try them."""
        ...

    def cursor_for(
        self, tags: frozenset[str], chosen: Candidate, request: RoutingRequest
    ) -> tuple[str, str] | None:
        """The named position to persist after ``chosen`` was picked, if any."""
        ...


class TeamScope(Protocol):
    """The team-scoping step (``TeamRouting``)."""

    def scope(self, request: RoutingRequest) -> tuple[str | None, frozenset[str], list[str]]:
        """The team the ticket belongs with, the tags its agent needs, and the notes."""
        ...


class Pipeline:
    """An assignment strategy built from a team scope, preferences, filters and an order.

    Args:
        filters: every candidate must pass all of them.
        order: how candidates are tried (default: least loaded).
        preferences: options tried first, in order (account manager, sticky agent...).
        team: the team scope (default: ``TeamRouting()``; ``None`` ignores teams).
        name: recorded with each decision, so the event log says which strategy decided.
    """

    def __init__(
        self,
        filters: Sequence[Filter] = (),
        *,
        order: Order | None = None,
        preferences: Sequence[Preference] = (),
        team: TeamScope | str | None = "default",
        name: str = "pipeline",
    ) -> None:
        from .steps import LeastLoaded, TeamRouting

        for position, step in enumerate(filters):
            if not isinstance(step, Filter):
                raise ValidationFailed(
                    f"filters.{position}", "must have admits(candidate, request) and describe()"
                )
        for position, preference in enumerate(preferences):
            if not isinstance(preference, Preference):
                raise ValidationFailed(f"preferences.{position}", "must have prefer(request, pool)")
        if order is not None and not isinstance(order, Order):
            raise ValidationFailed("order", "must have name, arrange() and cursor_for()")
        if isinstance(team, str):
            if team != "default":
                raise ValidationFailed("team", "must be a TeamRouting or None")
            team = TeamRouting()
        elif team is not None and not callable(getattr(team, "scope", None)):
            raise ValidationFailed("team", "must have scope(request)")
        if not isinstance(name, str) or not name.strip():
            raise ValidationFailed("name", "must be a non-empty name")
        self.filters: tuple[Filter, ...] = tuple(filters)
        self.order: Order = order if order is not None else LeastLoaded()
        self.preferences: tuple[Preference, ...] = tuple(preferences)
        self.team: TeamScope | None = team
        self.name = name
        self._essential = [f for f in self.filters if not getattr(f, "fit", False)]
        self._indexed = _tag_sources(self.filters)
        self._essential_indexed = _tag_sources(self._essential)

    def __repr__(self) -> str:
        return f"Pipeline(name={self.name!r}, order={self.order.name!r})"

    def decide(self, request: RoutingRequest, pool: AgentPool) -> Decision:
        """The agent for ``request.ticket`` with the reason, or the queue with the reason."""
        team_id: str | None = None
        scope: frozenset[str] = frozenset()
        notes: list[str] = []
        if self.team is not None:
            team_id, scope, notes = self.team.scope(request)
        tags = scope.union(*(tags_of(request) for tags_of in self._indexed))
        loose_tags = frozenset().union(*(tags_of(request) for tags_of in self._essential_indexed))
        team_required = [f"team {team_id}"] if team_id else []
        required = [*team_required, *_described(self.filters, request)]
        misses: list[str] = []
        for preference in self.preferences:
            for option in preference.prefer(request, pool):
                if option.strict:
                    found = self._try(option, pool, scope, tags, self.filters, request, misses)
                else:
                    found = self._try(
                        option, pool, frozenset(), loose_tags, self._essential, request, misses
                    )
                if found is not None:
                    met = required if option.strict else self._met(found, team_id, request)
                    return self._chosen(found, [*notes, option.note], met, team_id, request)
                if option.exclusive:
                    return self._queued(notes, required, misses)
        found = self._first(pool, tags, request, self.filters, misses)
        if found is not None:
            return self._chosen(found, notes, required, team_id, request, ordered=tags)
        return self._queued(notes, required, misses)

    def _try(
        self,
        option: Preferred,
        pool: AgentPool,
        scope: frozenset[str],
        tags: frozenset[str],
        filters: Sequence[Filter],
        request: RoutingRequest,
        misses: list[str],
    ) -> Candidate | None:
        """The option's agent, or the first of its pool, who may take the ticket.

        ``scope`` holds the team-scope tags a named agent must carry (the pool lookup
        asks for them through ``tags``).
        """
        if option.agent_id is None:
            found = self._first(pool, tags | option.tags, request, filters, [])
            if found is None:
                misses.append(f"{option.note}: nobody free")
            return found
        candidate = pool.get(option.agent_id)
        if candidate is None:
            misses.append(f"{option.note}: {option.agent_id} is not an agent here")
            return None
        refusal = self._refusal(candidate, request, filters)
        if refusal is None:
            refusal = _outside(candidate, scope | option.tags)
        if refusal is not None:
            misses.append(f"{option.note}: {candidate.id} {refusal}")
            return None
        return candidate

    def _met(self, candidate: Candidate, team_id: str | None, request: RoutingRequest) -> list[str]:
        """The requirements ``candidate`` meets, for a pick that did not have to meet all."""
        met = [f"team {team_id}"] if team_id and team_id in candidate.agent.teams else []
        met.extend(
            _described(
                [f for f in self.filters if f in self._essential or f.admits(candidate, request)],
                request,
            )
        )
        return met

    def _first(
        self,
        pool: AgentPool,
        tags: frozenset[str],
        request: RoutingRequest,
        filters: Sequence[Filter],
        misses: list[str],
    ) -> Candidate | None:
        holder = request.ticket.assignee_id
        refused: dict[str, int] = {}
        for candidate in self.order.arrange(pool, tags, request):
            if candidate.id == holder:
                continue
            refusal = self._refusal(candidate, request, filters)
            if refusal is None:
                return candidate
            refused[refusal] = refused.get(refusal, 0) + 1
        misses.extend(f"{count} {what}" for what, count in refused.items())
        return None

    @staticmethod
    def _refusal(
        candidate: Candidate, request: RoutingRequest, filters: Sequence[Filter]
    ) -> str | None:
        """Why ``candidate`` may not take the ticket, or ``None`` when they may."""
        if not candidate.online:
            return "offline"
        if not candidate.has_room:
            return f"at capacity ({candidate.load_text})"
        if candidate.id == request.ticket.assignee_id:
            return "already holds it"
        for step in filters:
            if not step.admits(candidate, request):
                return f"not {step.describe(request) or type(step).__name__}"
        return None

    def _chosen(
        self,
        candidate: Candidate,
        notes: list[str],
        required: list[str],
        team_id: str | None,
        request: RoutingRequest,
        *,
        ordered: frozenset[str] | None = None,
    ) -> Decision:
        """The decision for ``candidate``; ``ordered`` holds the tags the order was given
        when the general pool (not a preference) found them."""
        steps = [*notes, *(f"{what} ✓" for what in required)]
        cursor = None
        if ordered is not None:
            steps.append(self.order.name)
            cursor = self.order.cursor_for(ordered, candidate, request)
        steps.append(candidate.load_text)
        return Decision(
            candidate.id,
            ", ".join(steps),
            strategy=self.name,
            cursor=cursor,
            team_id=team_id if team_id != request.ticket.team_id else None,
        )

    def _queued(self, notes: list[str], required: list[str], misses: list[str]) -> Decision:
        wanted = f" with {', '.join(required)}" if required else ""
        text = f"queued: no agent{wanted} can take it now"
        details = [*notes, *misses]
        if details:
            text += f" ({'; '.join(details)})"
        return Decision(None, text, strategy=self.name)


def _tag_sources(filters: Sequence[Filter]) -> list[Callable[[RoutingRequest], frozenset[str]]]:
    sources = [getattr(f, "tags", None) for f in filters]
    return [tags for tags in sources if callable(tags)]


def _described(filters: Sequence[Filter], request: RoutingRequest) -> list[str]:
    return [d for f in filters if (d := f.describe(request))]


def _outside(candidate: Candidate, tags: frozenset[str]) -> str | None:
    """Why ``candidate`` falls outside the team scope ``tags``, or ``None``."""
    if not tags:
        return None
    missing = sorted(tags - agent_tags(candidate.agent))
    if not missing:
        return None
    return ", ".join(
        f"not in team {tag[5:]}" if tag.startswith("team:") else f"not {tag}" for tag in missing
    )
