"""Bad input to every public SupportDesk call: a SupportflowError naming the field, no change.

Each call has one valid set of arguments (checked first: it is accepted); each case below
spoils one argument and expects the error, its field, and storage exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk_calls import ARTICLES, POLICY, START, VALID, S, Survey, T
from supportflow import (
    AgentNotFound,
    ArticleNotFound,
    Classification,
    CustomerNotFound,
    DuplicateEntity,
    InvalidTransition,
    MemoryStore,
    NotFound,
    Store,
    SupportDesk,
    SupportflowError,
    TeamNotFound,
    Ticket,
    TicketEvent,
    TicketNotFound,
    TicketStatus,
    ValidationFailed,
)
from supportflow.models import MAX_BODY_CHARS, MAX_SUBJECT_CHARS, Message
from supportflow.testing import FixedClock
from supportflow.tiering import CustomerFacts, TierPolicy

NAIVE = datetime(2026, 3, 2, 9, 0)
LONE_SURROGATE = "ok \ud800 then"
OVERSIZED = "x" * (MAX_BODY_CHARS + 1)

PUBLIC_METHODS = sorted(
    name
    for name in dir(SupportDesk)
    if not name.startswith("_") and callable(getattr(SupportDesk, name))
)


def test_every_public_method_is_covered() -> None:
    assert sorted(VALID) == PUBLIC_METHODS


def _fill(args: dict[str, Any], ticket_id: Callable[[TicketStatus], str]) -> dict[str, Any]:
    return {k: _filled(v, ticket_id) for k, v in args.items()}


def _filled(value: Any, ticket_id: Callable[[TicketStatus], str]) -> Any:
    if isinstance(value, Survey):
        return f"{ticket_id(value.status)}/survey/1"
    if isinstance(value, T):
        return ticket_id(value.status)
    return value


class _World:
    """A populated desk whose tickets are made on first use, one per status.

    Tests share it to stay fast; a test that changed it (or may have) sets ``dirty`` and
    the next test gets a fresh one.
    """

    def __init__(
        self,
        store_factory: Callable[[], Store],
        make_desk: Callable[..., SupportDesk],
        new_ticket: Callable[..., Ticket],
    ) -> None:
        self._store_factory = store_factory
        self._make_desk = make_desk
        self._new_ticket = new_ticket
        self._store: Store | None = None
        self.dirty = True

    def fresh(self) -> _World:
        if self.dirty:
            self.close()
            self._store = self._store_factory()
            self.desk = self._make_desk(self._store, FixedClock(START), sla_policy=POLICY)
            for article in ARTICLES:
                self.desk.kb.create(article, editor_id="a-sue")
            self.tickets: dict[TicketStatus, str] = {}
            self.dirty = False
        return self

    def ticket_id(self, status: TicketStatus) -> str:
        if status not in self.tickets:
            self.tickets[status] = self._new_ticket(self.desk, status).id
        return self.tickets[status]

    def args(self, method: str, **spoilt: Any) -> dict[str, Any]:
        """The valid arguments of ``method`` with ``spoilt`` ones swapped in."""
        args = _fill(VALID[method], self.ticket_id)
        args.update(_fill(spoilt, self.ticket_id))
        return args

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


@pytest.fixture(scope="module")
def shared_world(
    store_factory: Callable[[], Store],
    make_desk: Callable[..., SupportDesk],
    new_ticket: Callable[..., Ticket],
) -> Iterator[_World]:
    world = _World(store_factory, make_desk, new_ticket)
    yield world
    world.close()


@pytest.fixture
def world(shared_world: _World) -> _World:
    """The shared world, as no earlier test left it changed."""
    return shared_world.fresh()


@pytest.mark.parametrize("method", sorted(VALID))
def test_valid_call_is_accepted(world: _World, method: str) -> None:
    world.dirty = True
    getattr(world.desk, method)(**world.args(method))


# -- the cases --------------------------------------------------------------------------------

# (method, argument, bad value, expected error(s), the field a ValidationFailed must name)
Case = tuple[str, str, Any, type[SupportflowError] | tuple[type[SupportflowError], ...], str | None]

WRONG_TYPES: list[Any] = [42, b"bytes", ["a-bob"], object()]
BLANKS = ["", "   "]


def _id_cases(
    method: str,
    arg: str,
    *,
    required: bool,
    unknown: type[NotFound] | None,
    stored: bool = True,
) -> list[Case]:
    cases: list[Case] = [(method, arg, v, ValidationFailed, arg) for v in WRONG_TYPES]
    cases += [(method, arg, v, ValidationFailed, arg) for v in BLANKS]
    cases.append((method, arg, "x" * 201, ValidationFailed, arg))
    # An id that is only looked up may simply not be found; one that is stored must be
    # refused, since it could never be written as UTF-8 or JSON.
    if unknown is not None:
        cases.append((method, arg, LONE_SURROGATE, (unknown, ValidationFailed), arg))
    elif stored:
        cases.append((method, arg, LONE_SURROGATE, ValidationFailed, arg))
    if required:
        cases.append((method, arg, None, ValidationFailed, arg))
    if unknown is not None:
        cases.append((method, arg, "nobody-here", unknown, None))
    return cases


def _text_cases(method: str, arg: str) -> list[Case]:
    cases: list[Case] = [(method, arg, v, ValidationFailed, arg) for v in WRONG_TYPES]
    cases += [(method, arg, v, ValidationFailed, arg) for v in [*BLANKS, None, "\n\t "]]
    cases.append((method, arg, OVERSIZED, ValidationFailed, arg))
    cases.append((method, arg, LONE_SURROGATE, ValidationFailed, arg))
    return cases


def _time_cases(method: str, arg: str) -> list[Case]:
    values = [NAIVE, "2026-03-02T09:00:00+00:00", 1_772_442_000, date(2026, 3, 2), True]
    return [(method, arg, v, ValidationFailed, arg) for v in values]


def _enum_cases(method: str, arg: str, *, required: bool) -> list[Case]:
    values: list[Any] = ["carrier_pigeon", "", 3, ["email"], "EMAIL "]
    if required:
        values.append(None)
    return [(method, arg, v, ValidationFailed, arg) for v in values]


def _model_cases(method: str, arg: str, valid: dict[str, Any]) -> list[Case]:
    values: list[Any] = [
        42,
        "New",
        None,
        [valid],
        {},
        {**valid, "name": ""},
        {**valid, "version": 0},
        {**valid, "colour": "red"},
    ]
    return [(method, arg, v, ValidationFailed, arg) for v in values]


TICKET_METHODS = [
    "assign",
    "acknowledge",
    "reply",
    "request_info",
    "customer_replied",
    "hold",
    "release",
    "escalate",
    "resolve",
    "close",
    "reopen",
    "get_ticket",
    "history",
    "messages",
    "deadlines",
    "sla",
    "explain_sla",
    "suggest_articles",
    "mark_solved",
    "override_sla_target",
]
AGENT_METHODS = [
    "acknowledge",
    "reply",
    "request_info",
    "hold",
    "release",
    "resolve",
    "get_agent",
    "set_agent_status",
    "mark_solved",
]

CASES: list[Case] = []
for _method in TICKET_METHODS:
    CASES += _id_cases(_method, "ticket_id", required=True, unknown=TicketNotFound)
for _method in AGENT_METHODS:
    CASES += _id_cases(_method, "agent_id", required=True, unknown=AgentNotFound)
for _method in ["assign", "escalate", "close", "reopen", "suggest_articles", "override_sla_target"]:
    CASES += _id_cases(_method, "actor", required=True, unknown=None)
CASES += _enum_cases("override_sla_target", "metric", required=True)
CASES += _text_cases("override_sla_target", "reason")
CASES += [
    ("override_sla_target", "within", v, ValidationFailed, "within")
    for v in [timedelta(0), timedelta(minutes=-5), timedelta(days=367), "4h", 3600, True]
]
CASES += [
    ("override_sla_target", "calendar", v, ValidationFailed, "calendar") for v in ["nowhere", "", 7]
]
CASES += [
    # A resolved ticket's clocks have stopped: there is no target left to move.
    ("override_sla_target", "ticket_id", T(S.RESOLVED), InvalidTransition, None),
    ("add_agent", "agent", {"id": "system", "name": "Robot"}, ValidationFailed, "agent.id"),
    ("add_agent", "agent", {"id": "customer:c-reg", "name": "Rita"}, ValidationFailed, "agent.id"),
]
CASES += _id_cases("assign", "agent_id", required=False, unknown=AgentNotFound)
CASES += _id_cases("escalate", "to_agent_id", required=False, unknown=AgentNotFound)
CASES += _id_cases("escalate", "to_team_id", required=False, unknown=TeamNotFound)
CASES += _id_cases("customer_replied", "message_id", required=False, unknown=None)
CASES += _id_cases("mark_solved", "article_id", required=True, unknown=ArticleNotFound)
CASES += [
    ("suggest_articles", "limit", v, ValidationFailed, "limit")
    for v in [0, -1, 1001, True, 2.5, "5", None, [5]]
]
CASES += [
    # Only a published article can solve a ticket.
    ("mark_solved", "article_id", "kb-draft", ValidationFailed, "article_id"),
    # A closed ticket is final: nothing more is recorded on it.
    ("mark_solved", "ticket_id", T(S.CLOSED), InvalidTransition, None),
    ("suggest_articles", "ticket_id", T(S.CLOSED), InvalidTransition, None),
]
CASES += _id_cases("intake", "customer_id", required=True, unknown=CustomerNotFound)
CASES += _id_cases("intake", "team_id", required=False, unknown=TeamNotFound)
CASES += _id_cases("get_customer", "customer_id", required=True, unknown=CustomerNotFound)
CASES += _id_cases("list_tickets", "assignee_id", required=False, unknown=None, stored=False)
CASES += _id_cases("list_tickets", "customer_id", required=False, unknown=None, stored=False)
for _method, _arg in [
    ("reply", "body"),
    ("request_info", "body"),
    ("customer_replied", "body"),
    ("hold", "reason"),
    ("escalate", "reason"),
    ("reopen", "reason"),
    ("resolve", "resolution"),
]:
    CASES += _text_cases(_method, _arg)
CASES += _time_cases("intake", "received_at")
CASES += _time_cases("run_due_jobs", "now")
CASES += _time_cases("sla", "at")
CASES += _time_cases("what_if", "at")
CASES += [
    (method, "policy", v, ValidationFailed, "policy")
    for method in ("what_if", "set_sla_policy")
    for v in [None, {}, "default", object(), POLICY.model_dump()]
]
CASES += _enum_cases("intake", "channel", required=True)
CASES += _enum_cases("intake", "priority", required=False)
CASES += _enum_cases("list_tickets", "status", required=False)
CASES += _enum_cases("set_agent_status", "status", required=True)
CASES += _enum_cases("find_by_external_id", "channel", required=True)
CASES += [
    ("find_by_external_id", "external_id", v, ValidationFailed, "external_id")
    for v in [*WRONG_TYPES, None, *BLANKS, "x" * 501]
]
CASES += [("reply", "internal", v, ValidationFailed, "internal") for v in ["yes", 1, 0, None]]
CASES += [
    ("intake", "external_id", v, ValidationFailed, "external_id")
    for v in [*WRONG_TYPES, "", "x" * 501, LONE_SURROGATE]
]
CASES += [
    ("intake", arg, v, ValidationFailed, arg)
    for arg in ["category", "language"]
    for v in [*WRONG_TYPES, *BLANKS, "x" * 101, LONE_SURROGATE]
]
CASES += [
    ("intake", "tags", v, ValidationFailed, "tags")
    for v in ["billing", None, 5, [1], [""], ["  "], ["x" * 101], [None], [LONE_SURROGATE]]
]
CASES += [
    ("intake", "subject", v, ValidationFailed, "subject")
    for v in [*WRONG_TYPES, "s" * (MAX_SUBJECT_CHARS + 1), LONE_SURROGATE]
]
CASES += [
    ("intake", "body", v, ValidationFailed, "body")
    for v in [*WRONG_TYPES, None, OVERSIZED, LONE_SURROGATE]
]
CASES += [
    ("submit_feedback", "survey_id", v, ValidationFailed, "survey_id")
    for v in [
        *WRONG_TYPES,
        *BLANKS,
        None,
        "x" * 241,
        LONE_SURROGATE,
        # Unknown surveys: no such ticket, a ticket never resolved, a later resolution.
        "nobody-here",
        "t-missing/survey/1",
        Survey(S.IN_PROGRESS),
        Survey(S.NEW),
        "ticket/survey/",
    ]
]
CASES += [
    ("submit_feedback", "csat", v, ValidationFailed, "csat")
    for v in [0, 6, -1, "5", True, 4.5, None, [5]]
]
CASES += [
    ("submit_feedback", "nps", v, ValidationFailed, "nps") for v in [-1, 11, "9", True, 7.5, [9]]
]
CASES += [
    ("submit_feedback", "comment", v, ValidationFailed, "comment")
    for v in [*WRONG_TYPES, None, "x" * 5001, LONE_SURROGATE]
]
CASES += _enum_cases("submit_feedback", "channel", required=False)
CASES += [
    ("monthly_report", "month", v, ValidationFailed, "month")
    for v in [None, 202603, "2026-3", "2026-13", "2026-00", "03-2026", "", LONE_SURROGATE]
]
CASES += [
    ("monthly_report", "timezone", v, ValidationFailed, "timezone")
    for v in [None, 8, "", "Mars/Olympus", "../etc/passwd", LONE_SURROGATE]
]
CASES += [
    ("monthly_report", "goals", v, ValidationFailed, "goals")
    for v in ["strict", {"csat_at_least": 90}, 0.9]
]
CASES += [
    ("monthly_report", "group_by", v, ValidationFailed, "group_by")
    for v in ["team", ("team", "team"), ("planet",), None, 3]
]
CASES += [
    ("monthly_report", arg, v, ValidationFailed, arg)
    for arg in ("calendar", "surge_settings")
    for v in ["24x7", 7, {}]
]
for _method in ["recompute_tier", "set_tier_override"]:
    CASES += _id_cases(_method, "customer_id", required=True, unknown=CustomerNotFound)
CASES += _id_cases("set_tier_override", "actor", required=True, unknown=None)
CASES += [
    ("recompute_tier", "policy", v, ValidationFailed, "policy")
    for v in [None, {}, "default", object(), TierPolicy().model_dump()]
]
CASES += [
    ("recompute_tier", "facts", v, ValidationFailed, "facts")
    for v in [{}, "facts", 42, CustomerFacts(customer_id="c-vip")]
]
_OVERRIDE = VALID["set_tier_override"]["override"]
CASES += [
    ("set_tier_override", "override", v, ValidationFailed, "override")
    for v in [
        None,
        42,
        "vip",
        {},
        {**_OVERRIDE, "tier": "gold"},
        {**_OVERRIDE, "reason": ""},
        {**_OVERRIDE, "expires_at": NAIVE},
        {**_OVERRIDE, "expires_at": START},  # already expired
        {**_OVERRIDE, "colour": "red"},
    ]
]
CASES += _model_cases("add_customer", "customer", VALID["add_customer"]["customer"])
CASES += _model_cases("add_team", "team", VALID["add_team"]["team"])
CASES += _model_cases("add_agent", "agent", VALID["add_agent"]["agent"])
CASES += [
    (
        "add_customer",
        "customer",
        {"id": "c-new", "name": "New", "first_purchase_at": NAIVE},
        ValidationFailed,
        "customer.first_purchase_at",
    ),
    (
        "add_agent",
        "agent",
        {**VALID["add_agent"]["agent"], "teams": ["t-nowhere"]},
        TeamNotFound,
        None,
    ),
    (
        "add_agent",
        "agent",
        {**VALID["add_agent"]["agent"], "capacity": 0},
        ValidationFailed,
        "agent.capacity",
    ),
    ("add_customer", "customer", {"id": "c-reg", "name": "Twin"}, DuplicateEntity, None),
    ("add_team", "team", {"id": "t-support", "name": "Twin"}, DuplicateEntity, None),
    ("add_agent", "agent", {"id": "a-bob", "name": "Twin"}, DuplicateEntity, None),
]


def _case_id(case: Case) -> str:
    method, arg, value, _error, _field = case
    plain = value is None or isinstance(value, str | bytes | int | float | list | dict)
    shown = repr(value) if plain else type(value).__name__
    shown = shown if len(shown) <= 30 else shown[:27] + "..."
    return f"{method}-{arg}-{shown}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_bad_argument_is_refused_naming_the_field_and_changes_nothing(
    world: _World, snapshot: Callable[[SupportDesk], Any], case: Case
) -> None:
    method, arg, value, error, field = case
    args = world.args(method, **{arg: value})
    before = _stored(world.desk, snapshot)
    world.dirty = True
    with pytest.raises(error) as caught:
        getattr(world.desk, method)(**args)
    if isinstance(caught.value, ValidationFailed):
        assert field is not None
        assert caught.value.field.startswith(field), caught.value.field
        assert field in str(caught.value)
    assert _stored(world.desk, snapshot) == before
    world.dirty = False


def _stored(desk: SupportDesk, snapshot: Callable[[SupportDesk], Any]) -> Any:
    """The desk's snapshot and its knowledge base: every article with its revisions."""
    articles = [(a, desk.kb.revisions(a.id)) for a in desk.kb.list()]
    return snapshot(desk), articles


def test_not_found_error_names_the_unknown_id(desk: SupportDesk) -> None:
    with pytest.raises(TicketNotFound) as caught:
        desk.reply("t-missing", agent_id="a-bob", body="hi")
    assert caught.value.object_id == "t-missing"


def test_enum_error_lists_the_accepted_values(desk: SupportDesk) -> None:
    with pytest.raises(ValidationFailed) as caught:
        desk.intake(channel="fax", customer_id="c-reg", body="Hi")
    assert all(c in str(caught.value) for c in ("email", "phone", "portal"))


def test_naive_datetime_error_says_timezone(desk: SupportDesk) -> None:
    with pytest.raises(ValidationFailed) as caught:
        desk.run_due_jobs(NAIVE)
    assert "timezone" in caught.value.reason


@pytest.mark.parametrize(("subject", "body"), [("", ""), ("  ", " \n\t"), ("", "   ")])
def test_intake_with_empty_subject_and_body_is_refused(
    desk: SupportDesk, snapshot: Callable[[SupportDesk], Any], subject: str, body: str
) -> None:
    before = snapshot(desk)
    with pytest.raises(ValidationFailed) as caught:
        desk.intake(channel="email", customer_id="c-reg", subject=subject, body=body)
    assert caught.value.field in {"subject", "body"}
    assert snapshot(desk) == before


def test_refused_model_is_not_stored(desk: SupportDesk) -> None:
    with pytest.raises(ValidationFailed):
        desk.add_customer({"id": "c-new", "name": "New", "last_purchase_at": NAIVE})
    with pytest.raises(CustomerNotFound):
        desk.get_customer("c-new")


# -- the constructor and injected collaborators -------------------------------------------------


@pytest.mark.parametrize("tenant_id", ["", "   ", 42, None, "x" * 201])
def test_desk_refuses_a_bad_tenant_id(tenant_id: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        SupportDesk(MemoryStore(), tenant_id=tenant_id)
    assert caught.value.field == "tenant_id"


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("store", None),
        ("store", "sqlite:///support.db"),
        ("clock", object()),
        ("clock", START),
        ("classifier", object()),
        ("assignment", object()),
        ("sla_policy", object()),
        ("settings", "weekly"),
        ("settings", {"reopen_window": timedelta(days=1)}),
        ("new_id", "not callable"),
    ],
    ids=[
        "store-none",
        "store-url",
        "clock-object",
        "clock-datetime",
        "classifier-object",
        "assignment-object",
        "sla_policy-object",
        "settings-str",
        "settings-dict",
        "new_id-str",
    ],
)
def test_desk_refuses_collaborators_of_the_wrong_kind(argument: str, value: Any) -> None:
    """A misconfigured desk fails where it is built, not at its first call."""
    kwargs: dict[str, Any] = {"store": MemoryStore(), argument: value}
    store = kwargs.pop("store")
    with pytest.raises(ValidationFailed) as caught:
        SupportDesk(store, **kwargs)
    assert caught.value.field == argument


class _NaiveClock:
    def now(self) -> datetime:
        return datetime(2026, 3, 2, 9, 0)


def test_naive_clock_is_refused_and_nothing_stored(
    open_desk: Callable[..., Any], snapshot: Callable[[SupportDesk], Any]
) -> None:
    with open_desk(_NaiveClock()) as desk:
        before = snapshot(desk)
        with pytest.raises(ValidationFailed) as caught:
            desk.intake(channel="email", customer_id="c-reg", body="Hi")
        assert caught.value.field == "clock"
        assert snapshot(desk) == before


class _BadClassifier:
    def __init__(self, result: Classification) -> None:
        self.result = result

    def classify(self, ticket: Ticket) -> Classification | None:
        return self.result


@pytest.mark.parametrize(
    ("result", "field"),
    [
        (Classification(category=""), "classification.category"),
        (Classification(category="c" * 101), "classification.category"),
        (Classification(priority="whenever"), "classification.priority"),  # type: ignore[arg-type]
        (Classification(complaint_category="mood"), "classification.complaint_category"),  # type: ignore[arg-type]
        (Classification(language=""), "classification.language"),
    ],
)
def test_bad_classifier_output_is_refused_and_nothing_stored(
    open_desk: Callable[..., Any],
    snapshot: Callable[[SupportDesk], Any],
    result: Classification,
    field: str,
) -> None:
    with open_desk(classifier=_BadClassifier(result)) as desk:
        before = snapshot(desk)
        with pytest.raises(ValidationFailed) as caught:
            desk.intake(channel="email", customer_id="c-reg", body="Hi")
        assert caught.value.field == field
        assert snapshot(desk) == before


def test_new_id_repeating_an_id_is_refused_and_nothing_stored(
    open_desk: Callable[..., Any], snapshot: Callable[[SupportDesk], Any]
) -> None:
    with open_desk(new_id=lambda: "same-id") as desk:
        desk.intake(channel="email", customer_id="c-reg", body="first")
        before = snapshot(desk)
        with pytest.raises(DuplicateEntity):
            desk.intake(channel="email", customer_id="c-reg", body="second")
        assert snapshot(desk) == before


# -- arbitrary values ---------------------------------------------------------------------------

ZONES = st.sampled_from([UTC, timezone(timedelta(hours=8)), ZoneInfo("America/New_York")])
ANY_TEXT = st.text(alphabet=st.characters(exclude_categories=()), max_size=30)
ARBITRARY = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    ANY_TEXT,
    st.sampled_from(["", "   ", "a-bob", "t-support", "c-reg", "new", "email", "resolved"]),
    st.binary(max_size=10),
    st.lists(ANY_TEXT, max_size=3),
    st.dictionaries(ANY_TEXT, ANY_TEXT, max_size=2),
    st.datetimes(),
    st.datetimes(timezones=ZONES),
    st.dates(),
    st.just(OVERSIZED),
    st.just(LONE_SURROGATE),
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),
)

FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _stored_models(desk: SupportDesk) -> Iterator[Ticket | TicketEvent | Message]:
    for ticket in desk.list_tickets():
        yield ticket
        yield from desk.history(ticket.id)
        yield from desk.messages(ticket.id)


def _fuzz_once(
    world: _World, snapshot: Callable[[SupportDesk], Any], method: str, data: st.DataObject
) -> None:
    world.fresh()
    args = {
        name: data.draw(st.one_of(st.just(value), ARBITRARY), label=name)
        for name, value in world.args(method).items()
    }
    before = _stored(world.desk, snapshot)
    world.dirty = True
    try:
        getattr(world.desk, method)(**args)
    except SupportflowError:
        assert _stored(world.desk, snapshot) == before, "a refused call changed storage"
        world.dirty = False
    for model in _stored_models(world.desk):
        again = type(model).model_validate_json(model.model_dump_json())
        assert again == model, f"stored {type(model).__name__} does not survive JSON"


@pytest.mark.parametrize("method", sorted(VALID))
@FUZZ
@given(data=st.data())
def test_arbitrary_arguments_raise_only_supportflow_errors_and_store_only_valid_data(
    shared_world: _World,
    snapshot: Callable[[SupportDesk], Any],
    method: str,
    data: st.DataObject,
) -> None:
    _fuzz_once(shared_world, snapshot, method, data)
