"""The agents a desk can route to, with their load, indexed so a decision does not scan them.

Every agent carries tags: ``team:<id>``, ``skill:<name>``, ``lang:<code>``,
``role:<role>``, and ``senior`` for seniors and leads. A pipeline asks for the agents that
carry a set of tags, in one of two orders: least loaded first, or by id starting after a
cursor (round-robin). The pool keeps one bucket per tag set asked for (a heap by load, a
sorted list of ids), built on the first request from an index of the agents by tag and
then maintained as loads and agents change, so a decision costs a few logarithmic heap
steps plus the candidates it inspects, not a pass over every agent. Buckets hold only
agents who could take a ticket now: online and below capacity.

The pool is the desk's cache of storage, kept current by the desk's own writes; the desk
still checks the chosen agent against storage before it commits an assignment.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable, Iterator, Mapping
from heapq import heapify, heappop, heappush, heapreplace
from math import fsum
from typing import Any

from ..errors import ValidationFailed
from ..models import Agent, AgentRole, AgentStatus, Channel, Priority, Ticket
from ..storage.protocols import OPEN_STATUSES
from .assignment import Candidate

__all__ = ["PRIORITY_WEIGHTS", "AgentPool", "agent_tags"]

PRIORITY_WEIGHTS: Mapping[Priority, float] = {
    Priority.URGENT: 3.0,
    Priority.HIGH: 2.0,
    Priority.NORMAL: 1.0,
    Priority.LOW: 0.5,
}
"""How much an open ticket of each priority weighs in an agent's load."""

_SENIOR_ROLES = frozenset({AgentRole.SENIOR, AgentRole.LEAD})
_STATUS_RANK = {AgentStatus.AVAILABLE: 0, AgentStatus.AWAY: 1, AgentStatus.OFFLINE: 2}

LoadKey = tuple[int, float, int, str]


def agent_tags(agent: Agent) -> frozenset[str]:
    """The tags the pool indexes ``agent`` under."""
    tags = {f"role:{agent.role.value}"}
    tags.update(f"team:{team}" for team in agent.teams)
    tags.update(f"skill:{skill.casefold()}" for skill in agent.skills)
    tags.update(f"lang:{language.casefold()}" for language in agent.languages)
    if agent.role in _SENIOR_ROLES:
        tags.add("senior")
    return frozenset(tags)


class _Seat:
    """One agent's mutable state in the pool."""

    __slots__ = (
        "agent",
        "buckets",
        "by_channel",
        "by_priority",
        "fits",
        "key",
        "open",
        "tags",
        "weighted",
        "weights",
    )

    def __init__(self, agent: Agent, weights: Mapping[Priority, float]) -> None:
        self.agent = agent
        self.weights = weights
        self.tags = agent_tags(agent)
        self.open = 0
        self.weighted = 0.0
        self.by_channel: dict[Channel, int] = {}
        self.by_priority: dict[Priority, int] = {}
        self.buckets: list[_Bucket] = []  # the buckets the agent is in now
        self.fits: list[_Bucket] = []  # the buckets whose tags the agent carries
        self.key: LoadKey = self.load_key()

    def load_key(self) -> LoadKey:
        agent = self.agent
        return (_STATUS_RANK[agent.status], self.weighted / agent.capacity, self.open, agent.id)

    def count(self, step: int, priority: Priority, channel: Channel) -> None:
        """Add (``step=1``) or remove (``-1``) one open ticket; the key is not updated."""
        self.open += step
        _bump(self.by_channel, channel, step)
        _bump(self.by_priority, priority, step)
        # From the counts, not a running sum: the same tickets give the same float
        # whatever order they came and went in.
        self.weighted = fsum(self.weights[p] * n for p, n in self.by_priority.items())

    @property
    def ready(self) -> bool:
        agent = self.agent
        return agent.status is not AgentStatus.OFFLINE and self.open < agent.capacity

    def candidate(self) -> Candidate:
        return Candidate(self.agent, self.open, self.weighted, dict(self.by_channel))


def _bump(counts: dict[Any, int], key: object, step: int) -> None:
    value = counts.get(key, 0) + step
    if value:
        counts[key] = value
    else:
        del counts[key]


class _Bucket:
    """The ready agents carrying every tag of ``tags``: by id, and by load in a heap.

    The load order is a binary heap whose keys are never updated in place. A load change
    just notes the member in ``moved``; the next read puts their new key in the heap and
    leaves the old one behind, stale (a key is current while it is its seat's key and the
    seat is a member). Reads drop stale keys from the top (a moved member's new key takes
    the place of their stale one there) and skip them below. When stale keys outnumber the
    members, or a third of the members moved since the last read, rebuilding the heap
    from the members is cheaper, and the read does that instead. So a change costs a set
    insertion per bucket, and a read a few heap steps per member that moved since (at
    most one pass over the bucket's members), never a pass over the pool.
    """

    __slots__ = ("by_id", "heap", "members", "moved", "tags")

    def __init__(self, tags: frozenset[str]) -> None:
        self.tags = tags
        self.by_id: list[str] = []
        self.heap: list[LoadKey] = []
        self.members: dict[str, _Seat] = {}
        self.moved: set[_Seat] = set()

    def add(self, seat: _Seat) -> None:
        self.members[seat.agent.id] = seat
        insort(self.by_id, seat.agent.id)
        self.moved.add(seat)
        seat.buckets.append(self)

    def fill(self, seats: Iterable[_Seat]) -> None:
        """Add ``seats`` to an empty bucket."""
        for seat in seats:
            self.members[seat.agent.id] = seat
            seat.buckets.append(self)
        self.by_id = sorted(self.members)
        self.heap = [seat.key for seat in self.members.values()]
        heapify(self.heap)

    def remove(self, seat: _Seat) -> None:
        del self.members[seat.agent.id]
        del self.by_id[bisect_left(self.by_id, seat.agent.id)]
        self.moved.discard(seat)

    def ordered(self) -> Iterator[LoadKey]:
        """The members' keys, smallest first."""
        heap, members, moved = self.heap, self.members, self.moved
        if len(heap) > 2 * len(members) + 16 or len(moved) * 3 > len(members):
            heap[:] = [seat.key for seat in members.values()]
            heapify(heap)
            moved.clear()
        while heap:  # stale keys leave from the top, a moved member's new key replacing one
            key = heap[0]
            member = members.get(key[3])
            if member is None:
                heappop(heap)
            elif member.key is key:
                break
            elif member in moved:
                heapreplace(heap, member.key)
                moved.discard(member)
            else:
                heappop(heap)
        for seat in moved:
            heappush(heap, seat.key)
        moved.clear()
        if not heap:
            return
        yield heap[0]
        # The rest in order without disturbing the heap: a frontier of (key, position).
        size = len(heap)
        frontier = [(heap[i], i) for i in (1, 2) if i < size]
        heapify(frontier)
        while frontier:
            key, at = heappop(frontier)
            for child in (2 * at + 1, 2 * at + 2):
                if child < size:
                    heappush(frontier, (heap[child], child))
            member = members.get(key[3])
            if member is not None and member.key is key:
                yield key


class AgentPool:
    """The desk's agents and their open tickets, indexed by tags and load.

    Build it from agents and the open tickets they hold; then tell it every change with
    :meth:`put_agent`, :meth:`drop_agent` and :meth:`track`. Iterating yields every agent
    as a :class:`Candidate`, by id; :meth:`least_loaded` and :meth:`rotation` yield only
    agents who could take a ticket now, from the index. Do not change the pool while
    iterating it.
    """

    def __init__(
        self,
        agents: Iterable[Agent] = (),
        open_tickets: Iterable[Ticket] = (),
        *,
        weights: Mapping[Priority, float] = PRIORITY_WEIGHTS,
    ) -> None:
        missing = [p.value for p in Priority if p not in weights]
        if missing:
            raise ValidationFailed("weights", f"has no weight for {', '.join(missing)}")
        if any(not (w > 0) for w in weights.values()):
            raise ValidationFailed("weights", "every weight must be positive")
        self._weights = dict(weights)
        self._seats: dict[str, _Seat] = {}
        self._buckets: dict[frozenset[str], _Bucket] = {}
        # tag -> the seats carrying it, ready or not: a new bucket starts from these.
        self._tagged: dict[str, set[_Seat]] = {}
        # ticket id -> (agent id, priority, channel) of each open assigned ticket tracked,
        # and agent id -> those tickets' ids, counted whether or not the agent is here yet.
        self._held: dict[str, tuple[str, Priority, Channel]] = {}
        self._holding: dict[str, set[str]] = {}
        for agent in agents:
            self.put_agent(agent)
        for ticket in open_tickets:
            self.track(ticket)

    def __len__(self) -> int:
        return len(self._seats)

    def __iter__(self) -> Iterator[Candidate]:
        for agent_id in sorted(self._seats):
            yield self._seats[agent_id].candidate()

    def __contains__(self, agent_id: object) -> bool:
        return agent_id in self._seats

    def get(self, agent_id: str) -> Candidate | None:
        """The agent with their load, or ``None`` if the pool has no such agent."""
        seat = self._seats.get(agent_id)
        return None if seat is None else seat.candidate()

    def weight(self, priority: Priority) -> float:
        """What one open ticket of ``priority`` adds to an agent's weighted load."""
        return self._weights[priority]

    # -- lookups -----------------------------------------------------------------------

    def least_loaded(self, tags: frozenset[str] = frozenset()) -> Iterator[Candidate]:
        """Ready agents carrying ``tags``: available before away, then by weighted load
        over capacity, open tickets and id."""
        seats = self._seats
        for key in self._bucket(tags).ordered():
            yield seats[key[3]].candidate()

    def rotation(
        self, tags: frozenset[str] = frozenset(), after: str | None = None
    ) -> Iterator[Candidate]:
        """Ready agents carrying ``tags`` by id, starting after ``after`` and wrapping."""
        ids = self._bucket(tags).by_id
        start = 0 if after is None else bisect_right(ids, after)
        seats = self._seats
        for agent_id in ids[start:] + ids[:start]:
            yield seats[agent_id].candidate()

    def ready_count(self, tags: frozenset[str] = frozenset()) -> int:
        """How many ready agents carry ``tags``."""
        return len(self._bucket(tags).by_id)

    def _bucket(self, tags: frozenset[str]) -> _Bucket:
        bucket = self._buckets.get(tags)
        if bucket is None:
            bucket = self._buckets[tags] = _Bucket(tags)
            carrying = self._carrying(tags)
            for seat in carrying:
                seat.fits.append(bucket)
            bucket.fill(seat for seat in carrying if seat.ready)
        return bucket

    def _carrying(self, tags: frozenset[str]) -> list[_Seat]:
        """The seats whose agents carry every tag of ``tags``."""
        if not tags:
            return list(self._seats.values())
        smallest, *others = sorted((self._tagged.get(tag, set()) for tag in tags), key=len)
        return list(smallest.intersection(*others))

    # -- changes -----------------------------------------------------------------------

    def put_agent(self, agent: Agent) -> None:
        """Add an agent, or replace one with its new version (status, skills, capacity).

        A new agent's load counts the open tickets already tracked for them.
        """
        seat = self._seats.get(agent.id)
        if seat is None:
            seat = self._seats[agent.id] = _Seat(agent, self._weights)
            for ticket_id in self._holding.get(agent.id, ()):
                _, priority, channel = self._held[ticket_id]
                seat.count(1, priority, channel)
        else:
            self._leave_buckets(seat)
            self._untag(seat)
            seat.agent = agent
            seat.tags = agent_tags(agent)
        seat.key = seat.load_key()
        for tag in seat.tags:
            self._tagged.setdefault(tag, set()).add(seat)
        seat.fits = [bucket for tags, bucket in self._buckets.items() if tags <= seat.tags]
        self._join_buckets(seat)

    def drop_agent(self, agent_id: str) -> None:
        """Remove an agent; the tickets they hold stop counting."""
        seat = self._seats.pop(agent_id, None)
        if seat is None:
            return
        self._leave_buckets(seat)
        self._untag(seat)
        for ticket_id in self._holding.pop(agent_id, ()):
            del self._held[ticket_id]

    def track(self, ticket: Ticket) -> None:
        """Count ``ticket`` against its assignee while it is open; forget it otherwise."""
        before = self._held.pop(ticket.id, None)
        if before is not None:
            holding = self._holding[before[0]]
            holding.discard(ticket.id)
            if not holding:
                del self._holding[before[0]]
            self._add_load(before[0], -1, before[1], before[2])
        if ticket.assignee_id is not None and ticket.status in OPEN_STATUSES:
            self._held[ticket.id] = (ticket.assignee_id, ticket.priority, ticket.channel)
            self._holding.setdefault(ticket.assignee_id, set()).add(ticket.id)
            self._add_load(ticket.assignee_id, 1, ticket.priority, ticket.channel)

    def _add_load(self, agent_id: str, step: int, priority: Priority, channel: Channel) -> None:
        seat = self._seats.get(agent_id)
        if seat is None:
            return
        was_ready = seat.ready
        seat.count(step, priority, channel)
        seat.key = seat.load_key()
        if was_ready and seat.ready:
            for bucket in seat.buckets:
                bucket.moved.add(seat)
        elif was_ready:
            self._leave_buckets(seat)
        elif seat.ready:
            self._join_buckets(seat)

    def _leave_buckets(self, seat: _Seat) -> None:
        for bucket in seat.buckets:
            bucket.remove(seat)
        seat.buckets = []

    def _join_buckets(self, seat: _Seat) -> None:
        if not seat.ready:
            return
        for bucket in seat.fits:
            bucket.add(seat)

    def _untag(self, seat: _Seat) -> None:
        tagged = self._tagged
        for tag in seat.tags:
            carrying = tagged[tag]
            carrying.discard(seat)
            if not carrying:
                del tagged[tag]
