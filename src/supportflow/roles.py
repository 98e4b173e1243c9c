"""Who may do what at the desk: the permission table, by role and relation to the ticket.

Every desk call that names who acts (``agent_id=`` or ``actor=``) is checked against
:data:`PERMISSIONS` before anything is written; a refused call raises
:class:`~supportflow.errors.PermissionDenied` naming the actor, the action and the reason,
and stores nothing.

An actor is one of:

- an **agent** of the desk, with a role (``AgentRole``) and relations to the ticket;
- the **system** (``SYSTEM_ACTOR``, ``"system"``): the host's automation and the desk's own
  jobs (routing at intake, the queue, ``run_due_jobs``' SLA alerts and auto-closing);
- the ticket's **customer**: their customer id, or ``"customer:<customer id>"``, the form the
  desk records for the customer's own messages.

Any other actor is refused. The relations an agent can hold to a ticket:

- ``assignee``: the ticket is assigned to them;
- ``team_lead``: they are the ``lead_id`` of the ticket's team;
- ``escalation_target``: the ticket is escalated (``escalation_level`` of 1 or more) and
  they are a senior or lead of the ticket's team, or a member of the team that takes its
  team's escalations (``Team.escalation_team_id``), the agents escalation routes to;
- ``team_member``: they belong to the ticket's team (which grants nothing by itself).

The table. "Any ticket" roles may act on every ticket of the tenant; "relations" grant the
action to agents, seniors and leads who hold one of them. Quality and trainer roles are
read-mostly: they read everything, add internal notes and look up articles, and no
relation gives them more (not even being the assignee: route work to them and it stalls).

===================  ==========  ======================================  ======  ========
action               any ticket  relations (agent, senior, lead)         system  customer
===================  ==========  ======================================  ======  ========
acknowledge          --          assignee                                --      --
reply (public)       lead        assignee, team_lead, escalation_target  --      --
add_note (internal)  every role  --                                      --      --
request_info         lead        assignee, team_lead, escalation_target  --      --
hold, release        lead        assignee, team_lead, escalation_target  --      --
escalate             lead        assignee, team_lead, escalation_target  yes     --
resolve              lead        assignee, team_lead, escalation_target  --      --
reopen               lead        assignee, team_lead, escalation_target  --      yes
close                lead        assignee, team_lead, escalation_target  yes     --
assign               lead        assignee (hands it on), team_lead       yes     --
mark_solved          lead        assignee, team_lead, escalation_target  --      --
suggest_articles     every role  --                                      yes     --
override_tier        lead        -- (no ticket)                          --      --
override_sla_target  lead        team_lead                               --      --
take_next            working     -- (no ticket: pulls the next queued)   --      --
===================  ==========  ======================================  ======  ========

"lead" in the second column is the role ``AgentRole.LEAD``: a lead may act on every ticket
of the tenant; "working" is the working roles (agent, senior, lead), who may pull work from
the queue. Directory calls (``add_agent``, ``set_agent_status``, ...) and reads are not
checked: the host decides who may call them, as it decides who may construct a desk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum

import attrs

from .errors import PermissionDenied
from .models import Agent, AgentRole, Team, Ticket

__all__ = [
    "PERMISSIONS",
    "SYSTEM_ACTOR",
    "WORKING_ROLES",
    "DeskAction",
    "Permission",
    "Relation",
    "customer_actor",
    "permits",
    "relations_of",
    "require",
]

SYSTEM_ACTOR = "system"
"""The actor of automation: the desk's own jobs and the host's rules."""

WORKING_ROLES = frozenset({AgentRole.AGENT, AgentRole.SENIOR, AgentRole.LEAD})
"""The roles whose relations to a ticket grant actions (quality and trainer are read-mostly)."""


class DeskAction(StrEnum):
    """A desk action the permission table rules on."""

    ACKNOWLEDGE = "acknowledge"
    REPLY = "reply"
    ADD_NOTE = "add_note"
    REQUEST_INFO = "request_info"
    HOLD = "hold"
    RELEASE = "release"
    ESCALATE = "escalate"
    RESOLVE = "resolve"
    REOPEN = "reopen"
    CLOSE = "close"
    ASSIGN = "assign"
    MARK_SOLVED = "mark_solved"
    SUGGEST_ARTICLES = "suggest_articles"
    OVERRIDE_TIER = "override_tier"
    OVERRIDE_SLA_TARGET = "override_sla_target"
    TAKE_NEXT = "take_next"


class Relation(StrEnum):
    """How an agent stands to a ticket (an agent may hold several)."""

    ASSIGNEE = "assignee"
    TEAM_LEAD = "team_lead"
    ESCALATION_TARGET = "escalation_target"
    TEAM_MEMBER = "team_member"


@attrs.frozen(slots=True)
class Permission:
    """Who may take one action: roles on any ticket, relations for working roles, and
    whether the system or the ticket's customer may."""

    roles: frozenset[AgentRole] = frozenset()
    relations: frozenset[Relation] = frozenset()
    system: bool = False
    customer: bool = False

    def describe(self) -> str:
        """``"the assignee, the lead of the ticket's team or a lead"``: who may, in words."""
        who = [_SAID[r] for r in Relation if r in self.relations]
        if self.roles == frozenset(AgentRole):
            who.append("any agent")
        else:
            who += [_a(r.value) for r in AgentRole if r in self.roles]
        if self.system:
            who.append("the system")
        if self.customer:
            who.append("the ticket's customer")
        return " or ".join((", ".join(who[:-1]), who[-1])) if len(who) > 1 else who[0]


_SAID = {
    Relation.ASSIGNEE: "the assignee",
    Relation.TEAM_LEAD: "the lead of the ticket's team",
    Relation.ESCALATION_TARGET: "an escalation target",
    Relation.TEAM_MEMBER: "a member of the ticket's team",
}


def _a(noun: str) -> str:
    return f"an {noun}" if noun[:1] in "aeiou" else f"a {noun}"


_LEAD = frozenset({AgentRole.LEAD})
_WORK = frozenset({Relation.ASSIGNEE, Relation.TEAM_LEAD, Relation.ESCALATION_TARGET})
_ANYONE = frozenset(AgentRole)

PERMISSIONS: Mapping[DeskAction, Permission] = {
    DeskAction.ACKNOWLEDGE: Permission(relations=frozenset({Relation.ASSIGNEE})),
    DeskAction.REPLY: Permission(_LEAD, _WORK),
    DeskAction.ADD_NOTE: Permission(_ANYONE),
    DeskAction.REQUEST_INFO: Permission(_LEAD, _WORK),
    DeskAction.HOLD: Permission(_LEAD, _WORK),
    DeskAction.RELEASE: Permission(_LEAD, _WORK),
    DeskAction.ESCALATE: Permission(_LEAD, _WORK, system=True),
    DeskAction.RESOLVE: Permission(_LEAD, _WORK),
    DeskAction.REOPEN: Permission(_LEAD, _WORK, customer=True),
    DeskAction.CLOSE: Permission(_LEAD, _WORK, system=True),
    DeskAction.ASSIGN: Permission(
        _LEAD, frozenset({Relation.ASSIGNEE, Relation.TEAM_LEAD}), system=True
    ),
    DeskAction.MARK_SOLVED: Permission(_LEAD, _WORK),
    DeskAction.SUGGEST_ARTICLES: Permission(_ANYONE, system=True),
    DeskAction.OVERRIDE_TIER: Permission(_LEAD),
    DeskAction.OVERRIDE_SLA_TARGET: Permission(_LEAD, frozenset({Relation.TEAM_LEAD})),
    DeskAction.TAKE_NEXT: Permission(WORKING_ROLES),
}
"""The permission table (see the module docstring); one entry per :class:`DeskAction`."""


def permits(action: DeskAction, role: AgentRole, relations: Iterable[Relation]) -> bool:
    """Whether an agent of ``role`` holding ``relations`` to the ticket may take ``action``."""
    rule = PERMISSIONS[action]
    if role in rule.roles:
        return True
    return role in WORKING_ROLES and not rule.relations.isdisjoint(relations)


def relations_of(agent: Agent, ticket: Ticket, team: Team | None) -> frozenset[Relation]:
    """The relations ``agent`` holds to ``ticket``; ``team`` is the ticket's team, if any."""
    found: set[Relation] = set()
    if ticket.assignee_id == agent.id:
        found.add(Relation.ASSIGNEE)
    if ticket.team_id is not None and ticket.team_id in agent.teams:
        found.add(Relation.TEAM_MEMBER)
    if team is not None and team.lead_id == agent.id:
        found.add(Relation.TEAM_LEAD)
    if ticket.escalation_level > 0:
        senior_here = Relation.TEAM_MEMBER in found and agent.role in (
            AgentRole.SENIOR,
            AgentRole.LEAD,
        )
        above = team is not None and team.escalation_team_id in agent.teams
        if senior_here or above:
            found.add(Relation.ESCALATION_TARGET)
    return frozenset(found)


def customer_actor(actor: str, ticket: Ticket) -> bool:
    """Whether ``actor`` names the ticket's customer (their id or ``customer:<id>``)."""
    return actor in (ticket.customer_id, f"customer:{ticket.customer_id}")


def require(
    action: DeskAction, agent: Agent, relations: Iterable[Relation] = (), *, actor: str = ""
) -> None:
    """Raise :class:`PermissionDenied` unless ``agent`` may take ``action``."""
    held = frozenset(relations)
    if permits(action, agent.role, held):
        return
    rule = PERMISSIONS[action]
    stands = ", ".join(_SAID[r] for r in Relation if r in held) or "no relation to the ticket"
    if agent.role not in WORKING_ROLES and rule.relations & held:
        stands = f"{stands}, but the {agent.role.value} role is read-mostly"
    raise PermissionDenied(
        actor or agent.id,
        action.value,
        f"only {rule.describe()} may; they are {_a(agent.role.value)} ({stands})",
    )
