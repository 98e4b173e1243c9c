"""The exception tree: one root, honest builtin mixins, and context in every message."""

from __future__ import annotations

import pickle
from datetime import timedelta

import pytest
from pydantic import BaseModel, ValidationError

import supportflow
from supportflow import errors
from supportflow.errors import (
    AgentNotFound,
    ArticleMoveRefused,
    ArticleNotFound,
    AssignmentFailed,
    ConcurrencyConflict,
    ConflictError,
    CustomerNotFound,
    DuplicateEntity,
    InvalidTransition,
    NotFound,
    NotPermitted,
    ReopenWindowExpired,
    SchemaVersionError,
    StorageError,
    SupportflowError,
    SurveyAlreadyAnswered,
    TeamNotFound,
    TicketNotFound,
    ValidationFailed,
)

ERROR_CLASSES = [getattr(errors, name) for name in errors.__all__]


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_subclasses_the_root(cls: type[Exception]) -> None:
    assert issubclass(cls, SupportflowError)


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_is_exported_from_the_package(cls: type[Exception]) -> None:
    assert getattr(supportflow, cls.__name__) is cls


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_is_drawn_in_the_module_tree(cls: type[Exception]) -> None:
    assert errors.__doc__ is not None
    assert cls.__name__ in errors.__doc__


def test_root_is_a_plain_exception() -> None:
    assert SupportflowError.__bases__ == (Exception,)


@pytest.mark.parametrize(
    ("cls", "parent"),
    [
        (ValidationFailed, ValueError),
        (NotFound, LookupError),
        (TicketNotFound, NotFound),
        (CustomerNotFound, NotFound),
        (AgentNotFound, NotFound),
        (TeamNotFound, NotFound),
        (ArticleNotFound, NotFound),
        (TicketNotFound, LookupError),
        (NotPermitted, PermissionError),
        (ReopenWindowExpired, InvalidTransition),
        (ArticleMoveRefused, InvalidTransition),
        (SurveyAlreadyAnswered, ConflictError),
        (ConcurrencyConflict, ConflictError),
        (DuplicateEntity, ConflictError),
        (SchemaVersionError, StorageError),
    ],
)
def test_error_has_its_documented_parent(cls: type[Exception], parent: type[Exception]) -> None:
    assert issubclass(cls, parent)


@pytest.mark.parametrize(
    "cls",
    [InvalidTransition, AssignmentFailed, ConflictError, StorageError],
    ids=lambda c: c.__name__,
)
def test_errors_without_an_honest_builtin_do_not_mix_one_in(cls: type[Exception]) -> None:
    assert not issubclass(cls, ValueError | LookupError | PermissionError)


def test_not_found_is_caught_as_lookup_error() -> None:
    with pytest.raises(LookupError):
        raise TicketNotFound("t-1")


# -- messages and context ------------------------------------------------------------------


def test_invalid_transition_keeps_its_context() -> None:
    exc = InvalidTransition("t-42", "resolve", "new", ["assign", "escalate"])
    assert (exc.ticket_id, exc.event, exc.status, exc.allowed) == (
        "t-42",
        "resolve",
        "new",
        ("assign", "escalate"),
    )


@pytest.mark.parametrize("part", ["t-42", "resolve", "new", "assign", "escalate"])
def test_invalid_transition_message_names_ticket_event_status_and_allowed(part: str) -> None:
    assert part in str(InvalidTransition("t-42", "resolve", "new", ["assign", "escalate"]))


def test_invalid_transition_from_a_final_status_says_so() -> None:
    assert "final" in str(InvalidTransition("t-42", "reopen", "closed", ()))


def test_reopen_window_expired_names_ticket_and_window() -> None:
    exc = ReopenWindowExpired("t-42", "resolved", ["close", "reopen"], timedelta(days=7))
    assert (exc.ticket_id, exc.event, exc.status, exc.window) == (
        "t-42",
        "reopen",
        "resolved",
        timedelta(days=7),
    )
    assert "t-42" in str(exc)
    assert str(timedelta(days=7)) in str(exc)


@pytest.mark.parametrize(
    ("cls", "kind"),
    [
        (TicketNotFound, "ticket"),
        (CustomerNotFound, "customer"),
        (AgentNotFound, "agent"),
        (TeamNotFound, "team"),
        (ArticleNotFound, "article"),
    ],
)
def test_not_found_names_kind_and_id(cls: type[NotFound], kind: str) -> None:
    exc = cls("x-7")
    assert exc.object_id == "x-7"
    assert str(exc) == f"{kind} 'x-7' not found"


def test_not_permitted_names_actor_action_and_reason() -> None:
    exc = NotPermitted("a-2", "acknowledge", "assigned to a-1")
    assert (exc.actor, exc.action, exc.reason) == ("a-2", "acknowledge", "assigned to a-1")
    assert all(part in str(exc) for part in ("a-2", "acknowledge", "assigned to a-1"))


def test_assignment_failed_names_ticket_and_reason() -> None:
    exc = AssignmentFailed("t-1", "everyone is at capacity")
    assert "t-1" in str(exc)
    assert "everyone is at capacity" in str(exc)


def test_assignment_failed_without_a_ticket_speaks_of_the_queue() -> None:
    exc = AssignmentFailed(None, "agent 'ana' is offline")
    assert exc.ticket_id is None
    assert str(exc) == "no ticket could be taken from the queue: agent 'ana' is offline"


def test_concurrency_conflict_names_both_versions() -> None:
    exc = ConcurrencyConflict("ticket", "t-1", 3, 4)
    assert (exc.kind, exc.object_id, exc.expected_version, exc.actual_version) == (
        "ticket",
        "t-1",
        3,
        4,
    )
    assert all(part in str(exc) for part in ("t-1", "3", "4"))


def test_duplicate_entity_names_kind_and_key() -> None:
    exc = DuplicateEntity("ticket", "email:msg-1")
    assert (exc.kind, exc.key) == ("ticket", "email:msg-1")
    assert "email:msg-1" in str(exc)


def test_schema_version_error_names_both_versions() -> None:
    exc = SchemaVersionError(found=9, supported=2)
    assert (exc.found, exc.supported) == (9, 2)
    assert "9" in str(exc)
    assert "2" in str(exc)


def test_validation_failed_names_field_and_reason() -> None:
    exc = ValidationFailed("body", "must not be empty")
    assert (exc.field, exc.reason, exc.errors) == (
        "body",
        "must not be empty",
        (("body", "must not be empty"),),
    )
    assert "body: must not be empty" in str(exc)


def test_validation_failed_lists_every_error_in_the_message() -> None:
    exc = ValidationFailed("a", "bad", errors=[("a", "bad"), ("b", "worse")])
    assert "a: bad" in str(exc)
    assert "b: worse" in str(exc)


# -- from_pydantic ---------------------------------------------------------------------------


class _Inner(BaseModel):
    count: int


class _Outer(BaseModel):
    name: str
    items: list[_Inner]


def _pydantic_error() -> ValidationError:
    try:
        _Outer.model_validate({"name": 5, "items": [{"count": 1}, {"count": "many"}]})
    except ValidationError as exc:
        return exc
    raise AssertionError("the payload was valid")


def test_from_pydantic_keeps_every_field_path() -> None:
    exc = ValidationFailed.from_pydantic(_pydantic_error())
    assert [field for field, _reason in exc.errors] == ["name", "items.1.count"]


def test_from_pydantic_first_error_becomes_field() -> None:
    assert ValidationFailed.from_pydantic(_pydantic_error()).field == "name"


def test_from_pydantic_prefixes_paths() -> None:
    exc = ValidationFailed.from_pydantic(_pydantic_error(), prefix="order")
    assert [field for field, _reason in exc.errors] == ["order.name", "order.items.1.count"]


def test_from_pydantic_keeps_pydantic_reasons() -> None:
    exc = ValidationFailed.from_pydantic(_pydantic_error())
    assert "integer" in dict(exc.errors)["items.1.count"]


def test_from_pydantic_gives_a_supportflow_error() -> None:
    assert isinstance(ValidationFailed.from_pydantic(_pydantic_error()), SupportflowError)


# -- errors cross process boundaries ---------------------------------------------------------

PICKLED = [
    ValidationFailed("body", "must not be empty"),
    TicketNotFound("t-1"),
    ArticleNotFound("kb-1"),
    ArticleMoveRefused("kb-1", "published", "draft", ["in_review", "archived"]),
    InvalidTransition("t-1", "resolve", "new", ["assign"]),
    ReopenWindowExpired("t-1", "resolved", ["close", "reopen"], timedelta(days=7)),
    NotPermitted("a-2", "acknowledge", "assigned to a-1"),
    AssignmentFailed("t-1", "no agent"),
    ConcurrencyConflict("ticket", "t-1", 3, 4),
    DuplicateEntity("ticket", "t-1"),
    SchemaVersionError(9, 2),
]


@pytest.mark.parametrize("exc", PICKLED, ids=lambda e: type(e).__name__)
def test_error_survives_pickling_with_its_message(exc: SupportflowError) -> None:
    """Worker pools (multiprocessing, task queues) pickle exceptions to report them."""
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is type(exc)
    assert str(again) == str(exc)
    assert vars(again) == vars(exc)
