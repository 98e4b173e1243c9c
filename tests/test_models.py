"""The boundary models: validation, limits, immutability, JSON Schema and JSON round trips."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel, ValidationError

from supportflow.errors import ValidationFailed
from supportflow.models import (
    MAX_BODY_CHARS,
    MAX_SUBJECT_CHARS,
    Agent,
    AgentRole,
    AgentStatus,
    AuthorKind,
    Channel,
    ComplaintCategory,
    Contact,
    Customer,
    CustomerEvent,
    CustomerTier,
    Message,
    Priority,
    Team,
    Ticket,
    TicketEvent,
    TicketStatus,
    json_schemas,
)

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NAIVE = datetime(2026, 3, 2, 9, 0)
SHANGHAI = datetime(2026, 3, 2, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def ticket_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "t-1",
        "channel": "email",
        "customer_id": "c-1",
        "subject": "Router drops",
        "body": "My router keeps dropping the connection.",
        "created_at": AT,
        "updated_at": AT,
    }
    fields.update(changes)
    return fields


def message_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "m-1",
        "ticket_id": "t-1",
        "author_kind": "agent",
        "author_id": "a-1",
        "body": "Please restart it.",
        "created_at": AT,
    }
    fields.update(changes)
    return fields


def event_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "t-1#1",
        "ticket_id": "t-1",
        "seq": 1,
        "type": "ticket.created",
        "at": AT,
        "actor": "system",
    }
    fields.update(changes)
    return fields


def customer_event_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "id": "c-1#1",
        "customer_id": "c-1",
        "seq": 1,
        "type": "customer.tier_changed",
        "at": AT,
        "actor": "a-1",
        "data": {"from": "regular", "to": "vip", "reason": "annual spend over 100k"},
    }
    fields.update(changes)
    return fields


def refused_fields(model: type[BaseModel], fields: dict[str, Any]) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationFailed) as caught:
        model.model_validate(fields)
    return [
        tuple(int(part) if part.isdigit() else part for part in field.split("."))
        for field, _ in caught.value.errors
    ]


# -- enums -------------------------------------------------------------------------------


def test_channels_cover_the_issue_list() -> None:
    assert {c.value for c in Channel} >= {
        "phone",
        "email",
        "chat",
        "web_form",
        "social_media",
        "portal",
    }


def test_priorities_are_urgent_high_normal_low() -> None:
    assert [p.value for p in Priority] == ["urgent", "high", "normal", "low"]


def test_ticket_statuses_are_the_lifecycle_states() -> None:
    assert [s.value for s in TicketStatus] == [
        "new",
        "assigned",
        "in_progress",
        "waiting_on_customer",
        "on_hold",
        "resolved",
        "closed",
    ]


def test_customer_tiers_are_vip_key_regular_prospect() -> None:
    assert [t.value for t in CustomerTier] == ["vip", "key", "regular", "prospect"]


def test_agent_roles_match_the_issue() -> None:
    assert [r.value for r in AgentRole] == ["agent", "senior", "lead", "quality", "trainer"]


def test_agent_statuses_are_available_away_offline() -> None:
    assert [s.value for s in AgentStatus] == ["available", "away", "offline"]


def test_author_kinds_are_customer_agent_system() -> None:
    assert [k.value for k in AuthorKind] == ["customer", "agent", "system"]


def test_complaint_categories_match_the_documents() -> None:
    assert [c.value for c in ComplaintCategory] == [
        "product_quality",
        "service_attitude",
        "functional_problem",
        "other",
    ]


# -- Ticket ------------------------------------------------------------------------------


def test_ticket_defaults_are_new_normal_version_one() -> None:
    ticket = Ticket.model_validate(ticket_fields())
    assert (ticket.status, ticket.priority, ticket.version, ticket.escalation_level) == (
        TicketStatus.NEW,
        Priority.NORMAL,
        1,
        0,
    )


def test_ticket_accepts_enum_values_as_strings() -> None:
    ticket = Ticket.model_validate(ticket_fields(channel="chat", priority="urgent"))
    assert (ticket.channel, ticket.priority) == (Channel.CHAT, Priority.URGENT)


@pytest.mark.parametrize(
    "field",
    ["created_at", "updated_at", "assigned_at", "acknowledged_at", "resolved_at", "closed_at"],
)
def test_ticket_naive_datetime_is_refused_naming_the_field(field: str) -> None:
    assert refused_fields(Ticket, ticket_fields(**{field: NAIVE})) == [(field,)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("channel", "fax"),
        ("priority", "critical"),
        ("status", "pending"),
        ("complaint_category", "rudeness"),
    ],
)
def test_ticket_unknown_enum_value_is_refused(field: str, value: str) -> None:
    assert refused_fields(Ticket, ticket_fields(**{field: value})) == [(field,)]


def test_ticket_body_at_the_limit_is_accepted() -> None:
    ticket = Ticket.model_validate(ticket_fields(body="x" * MAX_BODY_CHARS))
    assert len(ticket.body) == MAX_BODY_CHARS


def test_ticket_body_over_the_limit_is_refused() -> None:
    assert refused_fields(Ticket, ticket_fields(body="x" * (MAX_BODY_CHARS + 1))) == [("body",)]


def test_ticket_subject_over_the_limit_is_refused() -> None:
    fields = ticket_fields(subject="s" * (MAX_SUBJECT_CHARS + 1))
    assert refused_fields(Ticket, fields) == [("subject",)]


def test_ticket_resolution_over_the_limit_is_refused() -> None:
    fields = ticket_fields(resolution="r" * (MAX_BODY_CHARS + 1))
    assert refused_fields(Ticket, fields) == [("resolution",)]


def test_body_limit_is_one_hundred_thousand_characters() -> None:
    assert MAX_BODY_CHARS == 100_000


def test_subject_limit_is_five_hundred_characters() -> None:
    assert MAX_SUBJECT_CHARS == 500


@pytest.mark.parametrize("value", ["", "   "])
def test_ticket_blank_id_is_refused(value: str) -> None:
    assert refused_fields(Ticket, ticket_fields(id=value)) == [("id",)]


def test_ticket_id_is_stripped() -> None:
    assert Ticket.model_validate(ticket_fields(id="  t-1  ")).id == "t-1"


def test_ticket_negative_escalation_level_is_refused() -> None:
    assert refused_fields(Ticket, ticket_fields(escalation_level=-1)) == [("escalation_level",)]


def test_ticket_version_zero_is_refused() -> None:
    assert refused_fields(Ticket, ticket_fields(version=0)) == [("version",)]


def test_ticket_blank_tag_is_refused_naming_its_position() -> None:
    assert refused_fields(Ticket, ticket_fields(tags=["billing", " "])) == [("tags", 1)]


def test_ticket_unknown_field_is_refused() -> None:
    assert refused_fields(Ticket, ticket_fields(colour="red")) == [("colour",)]


@pytest.mark.parametrize("field", ["id", "channel", "customer_id", "created_at", "updated_at"])
def test_ticket_required_field_missing_is_refused(field: str) -> None:
    fields = ticket_fields()
    del fields[field]
    assert refused_fields(Ticket, fields) == [(field,)]


def test_ticket_is_frozen() -> None:
    ticket = Ticket.model_validate(ticket_fields())
    with pytest.raises(ValidationFailed, match="frozen"):
        ticket.status = TicketStatus.CLOSED  # type: ignore[misc]
    assert ticket.status is TicketStatus.NEW


def test_ticket_keeps_the_time_zone_it_was_given() -> None:
    ticket = Ticket.model_validate(ticket_fields(created_at=SHANGHAI))
    assert ticket.created_at.utcoffset() == timedelta(hours=8)


# -- Customer, Contact, Team, Agent ------------------------------------------------------


def test_customer_defaults_to_regular_tier() -> None:
    assert Customer(id="c-1", name="Li").tier is CustomerTier.REGULAR


@pytest.mark.parametrize("field", ["first_purchase_at", "last_purchase_at"])
def test_customer_naive_datetime_is_refused_naming_the_field(field: str) -> None:
    assert refused_fields(Customer, {"id": "c-1", "name": "Li", field: NAIVE}) == [(field,)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tier", "gold"),
        ("purchase_count", -1),
        ("total_spend", Decimal("-0.01")),
        ("name", ""),
        ("id", " "),
        ("version", 0),
    ],
)
def test_customer_invalid_field_is_refused(field: str, value: Any) -> None:
    fields = {"id": "c-1", "name": "Li", field: value}
    assert refused_fields(Customer, fields) == [(field,)]


def test_customer_contact_email_over_limit_is_refused_with_nested_path() -> None:
    fields = {"id": "c-1", "name": "Li", "contact": {"email": "a" * 321}}
    assert refused_fields(Customer, fields) == [("contact", "email")]


def test_contact_fields_are_optional() -> None:
    assert Contact() == Contact(email=None, phone=None, handle=None)


def test_team_requires_a_name() -> None:
    assert refused_fields(Team, {"id": "t-1"}) == [("name",)]


def test_agent_defaults() -> None:
    agent = Agent(id="a-1", name="Ann")
    assert (agent.role, agent.status, agent.capacity, agent.languages) == (
        AgentRole.AGENT,
        AgentStatus.AVAILABLE,
        10,
        ("en",),
    )


@pytest.mark.parametrize("capacity", [0, -1, 10_001])
def test_agent_capacity_outside_limits_is_refused(capacity: int) -> None:
    fields = {"id": "a-1", "name": "Ann", "capacity": capacity}
    assert refused_fields(Agent, fields) == [("capacity",)]


def test_agent_capacity_at_upper_limit_is_accepted() -> None:
    assert Agent(id="a-1", name="Ann", capacity=10_000).capacity == 10_000


@pytest.mark.parametrize(("field", "value"), [("role", "intern"), ("status", "busy")])
def test_agent_unknown_enum_value_is_refused(field: str, value: str) -> None:
    assert refused_fields(Agent, {"id": "a-1", "name": "Ann", field: value}) == [(field,)]


def test_agent_blank_skill_is_refused_naming_its_position() -> None:
    fields = {"id": "a-1", "name": "Ann", "skills": ["billing", ""]}
    assert refused_fields(Agent, fields) == [("skills", 1)]


def test_agent_is_frozen() -> None:
    agent = Agent(id="a-1", name="Ann")
    with pytest.raises(ValidationFailed, match="frozen"):
        agent.capacity = 3  # type: ignore[misc]


# -- Message, TicketEvent ----------------------------------------------------------------


def test_message_defaults_to_public() -> None:
    assert Message.model_validate(message_fields()).internal is False


def test_message_empty_body_is_refused() -> None:
    assert refused_fields(Message, message_fields(body="")) == [("body",)]


def test_message_body_over_the_limit_is_refused() -> None:
    fields = message_fields(body="x" * (MAX_BODY_CHARS + 1))
    assert refused_fields(Message, fields) == [("body",)]


def test_message_naive_created_at_is_refused() -> None:
    assert refused_fields(Message, message_fields(created_at=NAIVE)) == [("created_at",)]


def test_message_unknown_author_kind_is_refused() -> None:
    assert refused_fields(Message, message_fields(author_kind="bot")) == [("author_kind",)]


def test_event_seq_starts_at_one() -> None:
    assert refused_fields(TicketEvent, event_fields(seq=0)) == [("seq",)]


def test_event_naive_time_is_refused() -> None:
    assert refused_fields(TicketEvent, event_fields(at=NAIVE)) == [("at",)]


def test_event_empty_type_is_refused() -> None:
    assert refused_fields(TicketEvent, event_fields(type="")) == [("type",)]


def test_event_id_is_its_stream_position() -> None:
    """An event's id is "{ticket_id}#{seq}"; any other id is refused."""
    assert TicketEvent.model_validate(event_fields(id="t-1#1")).id == "t-1#1"
    assert refused_fields(TicketEvent, event_fields(id="e-1")) == [("model",)]
    assert refused_fields(TicketEvent, event_fields(seq=2)) == [("model",)]


def test_event_data_defaults_to_empty() -> None:
    assert TicketEvent.model_validate(event_fields()).data == {}


# -- CustomerEvent -------------------------------------------------------------------------


def test_customer_event_id_is_its_stream_position() -> None:
    assert CustomerEvent.model_validate(customer_event_fields()).id == "c-1#1"
    assert refused_fields(CustomerEvent, customer_event_fields(id="e-1")) == [("model",)]
    assert refused_fields(CustomerEvent, customer_event_fields(seq=2)) == [("model",)]
    assert refused_fields(CustomerEvent, customer_event_fields(customer_id="c-2")) == [("model",)]


@pytest.mark.parametrize(
    ("field", "value"),
    [("seq", 0), ("at", NAIVE), ("type", ""), ("actor", " "), ("customer_id", "")],
)
def test_customer_event_invalid_field_is_refused(field: str, value: Any) -> None:
    assert (field,) in refused_fields(CustomerEvent, customer_event_fields(**{field: value}))


def test_customer_event_data_defaults_to_empty() -> None:
    fields = customer_event_fields()
    del fields["data"]
    assert CustomerEvent.model_validate(fields).data == {}


def test_customer_event_is_frozen() -> None:
    event = CustomerEvent.model_validate(customer_event_fields())
    with pytest.raises(ValidationFailed):
        event.type = "customer.updated"  # type: ignore[misc]


def test_naive_datetime_error_says_timezone() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Ticket.model_validate(ticket_fields(created_at=NAIVE))
    assert caught.value.field == "created_at"
    assert "timezone" in caught.value.reason.lower()


def test_pydantic_errors_never_escape_construction() -> None:
    """Direct construction and JSON validation raise ValidationFailed, not pydantic's error."""
    with pytest.raises(ValidationFailed) as caught:
        Customer(id="", name="Ann")
    assert not isinstance(caught.value, ValidationError)
    assert caught.value.field == "id"
    with pytest.raises(ValidationFailed):
        Customer.model_validate_json('{"id": "c-1"}')


# -- JSON Schema ---------------------------------------------------------------------------


def test_json_schemas_cover_every_boundary_model() -> None:
    assert set(json_schemas()) == {
        "Customer",
        "Team",
        "Agent",
        "Ticket",
        "Message",
        "TicketEvent",
        "CustomerEvent",
    }


def test_ticket_schema_requires_the_identifying_fields() -> None:
    required = set(json_schemas()["Ticket"]["required"])
    assert required == {
        "id",
        "channel",
        "customer_id",
        "subject",
        "body",
        "created_at",
        "updated_at",
    }


def test_ticket_schema_datetimes_are_date_time_strings() -> None:
    created = json_schemas()["Ticket"]["properties"]["created_at"]
    assert (created["type"], created["format"]) == ("string", "date-time")


def test_ticket_schema_states_the_body_limit() -> None:
    assert json_schemas()["Ticket"]["properties"]["body"]["maxLength"] == 100_000


def test_ticket_schema_lists_channels() -> None:
    schema = json_schemas()["Ticket"]
    assert set(schema["$defs"]["Channel"]["enum"]) == {
        "phone",
        "email",
        "chat",
        "web_form",
        "social_media",
        "portal",
    }


def test_schemas_forbid_unknown_fields() -> None:
    assert all(schema["additionalProperties"] is False for schema in json_schemas().values())


# -- JSON round trip -----------------------------------------------------------------------

FULL_TICKET = Ticket(
    id="t-1",
    channel=Channel.SOCIAL_MEDIA,
    external_id="weibo-889",
    customer_id="c-1",
    subject="订单没到",
    body="我的订单还没有到, order #889",
    language="mixed",
    category="shipping",
    complaint_category=ComplaintCategory.SERVICE_ATTITUDE,
    priority=Priority.HIGH,
    status=TicketStatus.RESOLVED,
    assignee_id="a-1",
    team_id="t-support",
    escalation_level=2,
    tags=("vip", "shipping"),
    resolution="Re-shipped",
    follow_up_of="t-0",
    reopen_count=1,
    created_at=SHANGHAI,
    updated_at=SHANGHAI + timedelta(hours=3),
    assigned_at=SHANGHAI + timedelta(minutes=5),
    acknowledged_at=SHANGHAI + timedelta(minutes=9),
    first_response_at=SHANGHAI + timedelta(minutes=20),
    resolved_at=SHANGHAI + timedelta(hours=3),
    closed_at=None,
    version=7,
)

ROUND_TRIP = [
    FULL_TICKET,
    Customer(
        id="c-1",
        name="Li Wei",
        contact=Contact(email="li@example.com", phone="+86 10 5555 0100"),
        tier=CustomerTier.VIP,
        account_manager_id="a-9",
        purchase_count=12,
        total_spend=Decimal("12999.50"),
        first_purchase_at=SHANGHAI,
        last_purchase_at=AT,
        language="zh",
    ),
    Team(id="t-support", name="Support", lead_id="a-1", escalation_team_id="t-senior"),
    Agent(
        id="a-1",
        name="Ann",
        teams=("t-support",),
        skills=("billing", "network"),
        languages=("en", "zh"),
        role=AgentRole.SENIOR,
        capacity=7,
        status=AgentStatus.AWAY,
    ),
    Message.model_validate(message_fields(internal=True, created_at=SHANGHAI)),
    TicketEvent.model_validate(
        event_fields(data={"changes": {"status": "assigned", "tags": ["a"]}, "n": 1.5})
    ),
    CustomerEvent.model_validate(customer_event_fields(at=SHANGHAI)),
]


@pytest.mark.parametrize("model", ROUND_TRIP, ids=lambda m: type(m).__name__)
def test_json_round_trip_gives_an_equal_model(model: BaseModel) -> None:
    assert type(model).model_validate_json(model.model_dump_json()) == model


def test_json_round_trip_keeps_the_utc_offset() -> None:
    again = Ticket.model_validate_json(FULL_TICKET.model_dump_json())
    assert again.created_at.utcoffset() == timedelta(hours=8)


def test_json_round_trip_keeps_decimal_spend_exact() -> None:
    customer = Customer(id="c-1", name="Li", total_spend=Decimal("0.10"))
    again = Customer.model_validate_json(customer.model_dump_json())
    assert again.total_spend == Decimal("0.10")
