"""Role checks on desk actions: the desk decides exactly as ``supportflow.roles`` says."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk_calls import POLICY, START, stored_rows
from supportflow import (
    Agent,
    AgentNotFound,
    AgentRole,
    AgentStatus,
    AssignmentFailed,
    Customer,
    MemoryStore,
    NotPermitted,
    PermissionDenied,
    SupportDesk,
    Team,
    Ticket,
    TicketStatus,
    ValidationFailed,
    roles,
)
from supportflow._build import evolve
from supportflow.roles import PERMISSIONS, WORKING_ROLES, DeskAction, Relation, permits
from supportflow.testing import FixedClock

S = TicketStatus
ACTOR = "a-actor"
"""The agent whose role and relation each test sets."""


class World:
    """A desk with team ``t-main`` (lead ``a-tl``, escalations to ``t-up``) and a lead ``boss``.

    ``a-bob`` and ``a-ann`` work in ``t-main``; ``a-up`` in ``t-up``. :meth:`ticket` puts a
    ticket where an action applies, with ``ACTOR`` holding exactly one relation to it.
    """

    def __init__(self) -> None:
        self.store = MemoryStore()
        self.clock = FixedClock(START)
        self.desk = SupportDesk(self.store, clock=self.clock, sla_policy=POLICY)
        desk = self.desk
        desk.add_team(Team(id="t-up", name="Seniors"))
        desk.add_team(Team(id="t-main", name="Main", lead_id="a-tl", escalation_team_id="t-up"))
        offline = AgentStatus.OFFLINE
        desk.add_agent(Agent(id="boss", name="Boss", role=AgentRole.LEAD, status=offline))
        desk.add_agent(Agent(id="a-tl", name="Tia", status=offline))
        desk.add_agent(Agent(id="a-bob", name="Bob", teams=("t-main",)))
        desk.add_agent(Agent(id="a-ann", name="Ann", teams=("t-main",)))
        desk.add_agent(Agent(id="a-up", name="Uma", teams=("t-up",), role=AgentRole.SENIOR))
        desk.add_customer(Customer(id="c-1", name="Carol"))
        desk.kb.create(
            {"id": "kb-1", "title": "Reset", "body": "Restart it.", "status": "published"},
            editor_id="boss",
        )

    def add_actor(self, teams: tuple[str, ...] = ()) -> None:
        self.desk.add_agent(Agent(id=ACTOR, name="Actor", teams=teams, status="offline"))

    def set_role(self, agent_id: str, role: AgentRole) -> None:
        """Change an agent's role as the host's directory would (straight in the store)."""
        with self.store.unit_of_work(self.desk.tenant_id) as uow:
            agent = uow.agents.get(agent_id)
            uow.agents.update(evolve(agent, {"role": role, "version": agent.version + 1}))
            uow.commit()

    def ticket(self, status: TicketStatus, relation: Relation | None) -> Ticket:
        """A ticket of ``t-main`` in ``status`` to which ``ACTOR`` holds only ``relation``."""
        desk = self.desk
        if relation is Relation.TEAM_MEMBER:
            self.add_actor(("t-main",))
        elif relation is Relation.ESCALATION_TARGET:
            self.add_actor(("t-up",))
        else:
            self.add_actor()
        if relation is Relation.TEAM_LEAD:
            with self.store.unit_of_work(desk.tenant_id) as uow:
                team = uow.teams.get("t-main")
                uow.teams.update(evolve(team, {"lead_id": ACTOR, "version": team.version + 1}))
                uow.commit()
        assignee = ACTOR if relation is Relation.ASSIGNEE else "a-bob"
        ticket = desk.intake(channel="email", customer_id="c-1", body="Broken", team_id="t-main")
        ticket = desk.assign(ticket.id, assignee, actor="boss")
        if relation is Relation.ESCALATION_TARGET:
            ticket = desk.escalate(ticket.id, actor="boss", reason="needs seniors")
        if status is not S.ASSIGNED:
            ticket = desk.acknowledge(ticket.id, agent_id=assignee)
        if status is S.ON_HOLD:
            ticket = desk.hold(ticket.id, agent_id=assignee, reason="waiting for a part")
        elif status is S.RESOLVED:
            ticket = desk.resolve(ticket.id, agent_id=assignee, resolution="Restarted")
        assert ticket.status is status
        return ticket


STATUS_FOR = {
    DeskAction.ACKNOWLEDGE: S.ASSIGNED,
    DeskAction.RELEASE: S.ON_HOLD,
    DeskAction.REOPEN: S.RESOLVED,
    DeskAction.CLOSE: S.RESOLVED,
}
"""Where each action applies (in progress for the rest)."""


def call_of(desk: SupportDesk, action: DeskAction, ticket_id: str, actor: str) -> Callable[[], Any]:
    """The desk call that takes ``action`` on the ticket as ``actor``."""
    calls: dict[DeskAction, Callable[[], Any]] = {
        DeskAction.ACKNOWLEDGE: lambda: desk.acknowledge(ticket_id, agent_id=actor),
        DeskAction.REPLY: lambda: desk.reply(ticket_id, agent_id=actor, body="Try this"),
        DeskAction.ADD_NOTE: lambda: desk.reply(
            ticket_id, agent_id=actor, body="Looks like the cable", internal=True
        ),
        DeskAction.REQUEST_INFO: lambda: desk.request_info(
            ticket_id, agent_id=actor, body="Model?"
        ),
        DeskAction.HOLD: lambda: desk.hold(ticket_id, agent_id=actor, reason="a part"),
        DeskAction.RELEASE: lambda: desk.release(ticket_id, agent_id=actor),
        DeskAction.ESCALATE: lambda: desk.escalate(ticket_id, actor=actor, reason="stuck"),
        DeskAction.RESOLVE: lambda: desk.resolve(ticket_id, agent_id=actor, resolution="Fixed"),
        DeskAction.REOPEN: lambda: desk.reopen(ticket_id, actor=actor, reason="not fixed"),
        DeskAction.CLOSE: lambda: desk.close(ticket_id, actor=actor),
        DeskAction.ASSIGN: lambda: desk.assign(ticket_id, "a-ann", actor=actor),
        DeskAction.MARK_SOLVED: lambda: desk.mark_solved(ticket_id, "kb-1", agent_id=actor),
        DeskAction.SUGGEST_ARTICLES: lambda: desk.suggest_articles(ticket_id, actor=actor),
        DeskAction.OVERRIDE_TIER: lambda: desk.set_tier_override(
            "c-1",
            {
                "tier": "vip",
                "reason": "strategic account",
                "set_by": actor,
                "expires_at": START + timedelta(days=30),
            },
            actor=actor,
        ),
        DeskAction.OVERRIDE_SLA_TARGET: lambda: desk.override_sla_target(
            ticket_id, "resolution", timedelta(hours=2), actor=actor, reason="promised"
        ),
        DeskAction.TAKE_NEXT: lambda: _pull(desk, actor),
    }
    return calls[action]


def _pull(desk: SupportDesk, actor: str) -> Ticket | None:
    """``take_next``, allowed whether or not the agent has room (a refusal for room is not
    one of permission)."""
    try:
        return desk.take_next(actor)
    except AssignmentFailed:
        return None


@pytest.fixture
def world() -> Iterator[World]:
    built = World()
    yield built
    built.store.close()


def attempt(world: World, action: DeskAction, actor: str, ticket: Ticket) -> bool:
    """Take the action; ``True`` if accepted, ``False`` if refused with nothing stored."""
    before = stored_rows(world.store, world.desk.tenant_id)
    refused: PermissionDenied | None = None
    try:
        call_of(world.desk, action, ticket.id, actor)()
    except PermissionDenied as exc:
        refused = exc
    if refused is None:
        return True
    assert (refused.actor, refused.action) == (actor, action.value)
    assert actor in str(refused)
    assert action.value in str(refused)
    assert stored_rows(world.store, world.desk.tenant_id) == before, "a refusal stored something"
    return False


# -- the table -------------------------------------------------------------------------------


def test_every_action_has_a_rule() -> None:
    assert set(PERMISSIONS) == set(DeskAction)


def _documented() -> dict[str, tuple[str, set[str], bool, bool]]:
    """The rows of the table in ``supportflow.roles``' docstring."""
    assert roles.__doc__ is not None
    rows: dict[str, tuple[str, set[str], bool, bool]] = {}
    for line in roles.__doc__.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) != 5 or cells[0] in ("action",) or set(line.strip()) <= {"=", " "}:
            continue
        names, anyone, relations, system, customer = cells
        related = {re.sub(r"\s*\(.*\)", "", r).strip() for r in relations.split(",")}
        for name in names.split(","):
            action = re.sub(r"\s*\(.*\)", "", name).strip()
            rows[action] = (anyone, related - {"--"}, system == "yes", customer == "yes")
    return rows


def test_the_documented_table_is_the_table() -> None:
    documented = _documented()
    assert set(documented) == {a.value for a in DeskAction}
    for action, rule in PERMISSIONS.items():
        anyone, related, system, customer = documented[action.value]
        expected_roles = {
            "lead": {AgentRole.LEAD},
            "working": set(WORKING_ROLES),
            "every role": set(AgentRole),
            "--": set(),
        }[anyone]
        assert set(rule.roles) == expected_roles, action
        assert {r.value for r in rule.relations} == related, action
        assert (rule.system, rule.customer) == (system, customer), action


def test_quality_and_trainer_may_only_take_notes_and_look_up_articles() -> None:
    for role in (AgentRole.QUALITY, AgentRole.TRAINER):
        allowed = {a for a in DeskAction if permits(a, role, set(Relation))}
        assert allowed == {DeskAction.ADD_NOTE, DeskAction.SUGGEST_ARTICLES}


# -- the desk follows the table (property) ----------------------------------------------------


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    role=st.sampled_from(AgentRole),
    relation=st.none() | st.sampled_from(Relation),
    action=st.sampled_from(DeskAction),
)
def test_the_desk_decides_as_the_table_says(
    role: AgentRole, relation: Relation | None, action: DeskAction
) -> None:
    world = World()
    try:
        ticket = world.ticket(STATUS_FOR.get(action, S.IN_PROGRESS), relation)
        world.set_role(ACTOR, role)
        held = set() if relation is None or action is DeskAction.OVERRIDE_TIER else {relation}
        assert attempt(world, action, ACTOR, ticket) is permits(action, role, held)
    finally:
        world.store.close()


# -- the rules the issue names ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("relation", "role", "allowed"),
    [
        (Relation.ASSIGNEE, AgentRole.AGENT, True),
        (None, AgentRole.LEAD, True),
        (Relation.ESCALATION_TARGET, AgentRole.SENIOR, True),
        (Relation.ESCALATION_TARGET, AgentRole.AGENT, True),
        (Relation.TEAM_LEAD, AgentRole.AGENT, True),
        (Relation.TEAM_MEMBER, AgentRole.SENIOR, False),
        (None, AgentRole.SENIOR, False),
        (Relation.ASSIGNEE, AgentRole.TRAINER, False),
        (Relation.ASSIGNEE, AgentRole.QUALITY, False),
    ],
)
def test_only_the_assignee_a_lead_or_the_escalation_target_may_resolve(
    world: World, relation: Relation | None, role: AgentRole, allowed: bool
) -> None:
    ticket = world.ticket(S.IN_PROGRESS, relation)
    world.set_role(ACTOR, role)
    assert attempt(world, DeskAction.RESOLVE, ACTOR, ticket) is allowed


def test_a_refusal_names_actor_action_and_reason(world: World) -> None:
    ticket = world.ticket(S.IN_PROGRESS, Relation.TEAM_MEMBER)
    with pytest.raises(PermissionDenied) as caught:
        world.desk.resolve(ticket.id, agent_id=ACTOR, resolution="Fixed")
    assert isinstance(caught.value, PermissionError)
    assert (caught.value.actor, caught.value.action) == (ACTOR, "resolve")
    assert "the assignee" in caught.value.reason
    assert "a member of the ticket's team" in caught.value.reason


def test_a_senior_of_the_team_is_an_escalation_target_once_escalated(world: World) -> None:
    ticket = world.ticket(S.IN_PROGRESS, Relation.TEAM_MEMBER)
    world.set_role(ACTOR, AgentRole.SENIOR)
    assert not attempt(world, DeskAction.RESOLVE, ACTOR, ticket)
    world.desk.escalate(ticket.id, actor="a-bob", reason="needs a senior")
    assert attempt(world, DeskAction.RESOLVE, ACTOR, world.desk.get_ticket(ticket.id))


@pytest.mark.parametrize("role", [AgentRole.QUALITY, AgentRole.TRAINER])
def test_read_mostly_roles_add_notes_but_do_not_reply(world: World, role: AgentRole) -> None:
    ticket = world.ticket(S.IN_PROGRESS, Relation.TEAM_MEMBER)
    world.set_role(ACTOR, role)
    assert attempt(world, DeskAction.ADD_NOTE, ACTOR, ticket)
    assert not attempt(world, DeskAction.REPLY, ACTOR, world.desk.get_ticket(ticket.id))
    assert world.desk.messages(ticket.id)[-1].internal


@pytest.mark.parametrize("role", [AgentRole.SENIOR, AgentRole.AGENT, AgentRole.QUALITY])
def test_only_a_lead_may_override_a_tier(world: World, role: AgentRole) -> None:
    ticket = world.ticket(S.IN_PROGRESS, Relation.ASSIGNEE)
    world.set_role(ACTOR, role)
    assert not attempt(world, DeskAction.OVERRIDE_TIER, ACTOR, ticket)
    world.set_role(ACTOR, AgentRole.LEAD)
    assert attempt(world, DeskAction.OVERRIDE_TIER, ACTOR, ticket)
    assert world.desk.get_customer("c-1").tier == "vip"


def test_only_a_lead_may_override_an_sla_target(world: World) -> None:
    ticket = world.ticket(S.IN_PROGRESS, Relation.ASSIGNEE)
    assert not attempt(world, DeskAction.OVERRIDE_SLA_TARGET, ACTOR, ticket)
    assert world.desk.get_ticket(ticket.id).resolution_due_at == ticket.resolution_due_at
    assert attempt(world, DeskAction.OVERRIDE_SLA_TARGET, "a-tl", ticket)  # the team's lead
    assert attempt(world, DeskAction.OVERRIDE_SLA_TARGET, "boss", world.desk.get_ticket(ticket.id))


def test_assign_is_for_leads_the_system_and_the_assignee_handing_on(world: World) -> None:
    ticket = world.ticket(S.IN_PROGRESS, Relation.TEAM_MEMBER)
    assert not attempt(world, DeskAction.ASSIGN, ACTOR, ticket)
    assert not attempt(world, DeskAction.ASSIGN, "a-ann", ticket)  # not theirs to take
    assert attempt(world, DeskAction.ASSIGN, "a-bob", ticket)  # the assignee hands it on
    ticket = world.desk.assign(ticket.id, "a-bob")  # the system (the default actor)
    assert ticket.assignee_id == "a-bob"


# -- the system and the customer ----------------------------------------------------------------


def test_the_system_runs_the_automated_paths(world: World) -> None:
    ticket = world.ticket(S.RESOLVED, None)
    assert attempt(world, DeskAction.CLOSE, "system", ticket)
    other = world.desk.intake(channel="chat", customer_id="c-1", body="Hi", team_id="t-main")
    assert attempt(world, DeskAction.ESCALATE, "system", other)
    assert world.desk.assign(other.id).assignee_id is not None  # routing, as the system


def test_the_system_may_not_reopen_or_resolve(world: World) -> None:
    ticket = world.ticket(S.RESOLVED, None)
    assert not attempt(world, DeskAction.REOPEN, "system", ticket)
    working = world.desk.intake(channel="chat", customer_id="c-1", body="Hi", team_id="t-main")
    working = world.desk.assign(working.id, "a-bob")
    working = world.desk.acknowledge(working.id, agent_id="a-bob")
    with pytest.raises(AgentNotFound):  # an agent_id names an agent, never the system
        world.desk.resolve(working.id, agent_id="system", resolution="x")


@pytest.mark.parametrize("actor", ["c-1", "customer:c-1"])
def test_the_customer_may_reopen_their_ticket_but_not_close_it(world: World, actor: str) -> None:
    ticket = world.ticket(S.RESOLVED, None)
    assert not attempt(world, DeskAction.CLOSE, actor, ticket)
    assert attempt(world, DeskAction.REOPEN, actor, ticket)
    assert world.desk.history(ticket.id)[-1].actor == actor


def test_another_customer_or_a_stranger_is_refused(world: World) -> None:
    world.desk.add_customer(Customer(id="c-2", name="Dan"))
    ticket = world.ticket(S.RESOLVED, None)
    working = world.desk.intake(channel="chat", customer_id="c-1", body="Hi", team_id="t-main")
    for actor in ("c-2", "customer:c-2", "nobody"):
        assert not attempt(world, DeskAction.REOPEN, actor, ticket)
        assert not attempt(world, DeskAction.ESCALATE, actor, working)


@pytest.mark.parametrize("agent_id", ["system", "customer:c-1"])
def test_the_ids_of_the_other_actors_are_reserved(world: World, agent_id: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        world.desk.add_agent(Agent(id=agent_id, name="Impostor", role=AgentRole.LEAD))
    assert caught.value.field == "agent.id"


def test_not_permitted_is_the_old_name_of_permission_denied() -> None:
    assert NotPermitted is PermissionDenied
