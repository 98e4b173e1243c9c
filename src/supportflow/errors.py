"""The exceptions supportflow raises on purpose, all under one root.

A host catches :class:`SupportflowError` to handle everything the library refuses; no
exception of a dependency (pydantic, python-statemachine, sqlite3) escapes a public call
unwrapped. Every refused call leaves storage as it was.

::

    SupportflowError
    ├── ValidationFailed (ValueError)           bad input: names the field and the reason
    ├── NotFound (LookupError)
    │   ├── TicketNotFound
    │   ├── CustomerNotFound
    │   ├── AgentNotFound
    │   ├── TeamNotFound
    │   └── ArticleNotFound
    ├── InvalidTransition                       the lifecycle refuses an event
    │   ├── ReopenWindowExpired
    │   └── ArticleMoveRefused                  an article's review lifecycle refuses a move
    ├── PermissionDenied (PermissionError)      the actor's role may not do this
    │                                           (``NotPermitted`` is the same class)
    ├── AssignmentFailed                        no agent can take the ticket
    ├── OptionalDependencyMissing (ImportError) a feature needs an extra installed
    ├── ConflictError
    │   ├── ConcurrencyConflict                 a stale write (optimistic concurrency)
    │   ├── DuplicateEntity                     an id that already exists
    │   └── SurveyAlreadyAnswered               a second, different answer to a survey
    └── StorageError                            the store failed for another reason
        └── SchemaVersionError                  the database is newer than this library

Test helpers add one of their own: ``supportflow.testing.postgres.PostgresUnavailable``
(also a ``RuntimeError``), when a throwaway PostgreSQL server cannot be started.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from .masking import mask_emails

__all__ = [
    "AgentNotFound",
    "ArticleMoveRefused",
    "ArticleNotFound",
    "AssignmentFailed",
    "ConcurrencyConflict",
    "ConflictError",
    "CustomerNotFound",
    "DuplicateEntity",
    "InvalidTransition",
    "NotFound",
    "NotPermitted",
    "OptionalDependencyMissing",
    "PermissionDenied",
    "ReopenWindowExpired",
    "SchemaVersionError",
    "StorageError",
    "SupportflowError",
    "SurveyAlreadyAnswered",
    "TeamNotFound",
    "TicketNotFound",
    "ValidationFailed",
]


class SupportflowError(Exception):
    """Root of every exception supportflow raises on purpose.

    Its ``str()`` and ``repr()`` mask every email-shaped part of the message
    (``a***@e***.com``, ``supportflow.masking``), so an error can be logged or shown even
    when a host uses email addresses as ids; the attributes (``object_id``, ``field``, ...)
    keep the values whole for the program.
    """

    def __str__(self) -> str:
        return mask_emails(super().__str__())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take context arguments, not the message; rebuild without __init__ so
        # errors survive pickling across worker processes.
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[SupportflowError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ValidationFailed(SupportflowError, ValueError):
    """Input was refused. ``errors`` lists every ``(field, reason)`` found."""

    def __init__(self, field: str, reason: str, *, errors: Sequence[tuple[str, str]] = ()) -> None:
        self.field = field
        self.reason = reason
        self.errors: tuple[tuple[str, str], ...] = tuple(errors) or ((field, reason),)
        detail = "; ".join(f"{f}: {r}" for f, r in self.errors)
        super().__init__(f"invalid input: {detail}")

    def prefixed(self, prefix: str) -> ValidationFailed:
        """The same error with every field path under ``prefix`` (``customer.id``)."""
        errors = [(f"{prefix}.{field}", reason) for field, reason in self.errors]
        return type(self)(errors[0][0], errors[0][1], errors=errors)

    @classmethod
    def from_pydantic(cls, exc: Any, *, prefix: str = "") -> ValidationFailed:
        """Wrap a pydantic ``ValidationError`` keeping each field path and message."""
        found: list[tuple[str, str]] = []
        for err in exc.errors():
            loc = ".".join(str(part) for part in err.get("loc", ()))
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            # A check across fields names its own path: "rules.0.targets.x.calendar: ...".
            named = _NAMED_PATH.match(msg)
            if named:
                loc = f"{loc}.{named[1]}" if loc else named[1]
                msg = named[2]
            field = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "model")
            found.append((field, msg))
        if not found:
            found.append((prefix or "value", str(exc)))
        return cls(found[0][0], found[0][1], errors=found)


_NAMED_PATH = re.compile(r"^([A-Za-z_][\w]*(?:\.[\w]+)*): (.+)$", re.DOTALL)


class NotFound(SupportflowError, LookupError):
    """Something was looked up by id and is not stored (in this tenant)."""

    kind = "object"

    def __init__(self, object_id: str) -> None:
        self.object_id = object_id
        super().__init__(f"{self.kind} {object_id!r} not found")


class TicketNotFound(NotFound):
    """No ticket with this id."""

    kind = "ticket"


class CustomerNotFound(NotFound):
    """No customer with this id."""

    kind = "customer"


class AgentNotFound(NotFound):
    """No agent with this id."""

    kind = "agent"


class TeamNotFound(NotFound):
    """No team with this id."""

    kind = "team"


class ArticleNotFound(NotFound):
    """No knowledge-base article with this id."""

    kind = "article"


class InvalidTransition(SupportflowError):
    """The ticket lifecycle refuses ``event`` in ``status``; nothing was changed."""

    def __init__(self, ticket_id: str, event: str, status: str, allowed: Iterable[str]) -> None:
        self.ticket_id = ticket_id
        self.event = event
        self.status = status
        self.allowed: tuple[str, ...] = tuple(allowed)
        allowed_text = ", ".join(self.allowed) or "none (the ticket is final)"
        super().__init__(
            f"ticket {ticket_id!r}: cannot {event} while {status}; allowed: {allowed_text}"
        )


class ReopenWindowExpired(InvalidTransition):
    """A resolved ticket can be reopened only within the desk's reopen window."""

    def __init__(self, ticket_id: str, status: str, allowed: Iterable[str], window: Any) -> None:
        self.window = window
        super().__init__(ticket_id, "reopen", status, allowed)
        self.args = (f"ticket {ticket_id!r}: the reopen window of {window} has passed",)


class ArticleMoveRefused(InvalidTransition):
    """An article cannot move to that status from where it stands; nothing was changed."""

    def __init__(self, article_id: str, to: str, status: str, allowed: Iterable[str]) -> None:
        super().__init__(article_id, f"move to {to}", status, sorted(allowed))
        self.article_id = article_id
        self.args = (
            f"article {article_id!r}: cannot move to {to} while {status}; "
            f"allowed: {', '.join(self.allowed) or 'none'}",
        )


class PermissionDenied(SupportflowError, PermissionError):
    """The actor is known but their role or relation to the ticket does not allow the action.

    ``actor``, ``action`` and ``reason`` are kept as given; the message masks an actor id
    that is an email address (``supportflow.masking``), so it can be logged. The table of
    who may do what is in ``supportflow.roles``.
    """

    def __init__(self, actor: str, action: str, reason: str) -> None:
        self.actor = actor
        self.action = action
        self.reason = reason
        super().__init__(f"{mask_emails(actor)!r} may not {action}: {mask_emails(reason)}")


NotPermitted = PermissionDenied
"""The name ``PermissionDenied`` had before roles were checked; the same class."""


class AssignmentFailed(SupportflowError):
    """No agent could take the ticket (none available, or all at capacity); with no
    ``ticket_id``, the agent pulling from the queue could take nothing (offline, full)."""

    def __init__(self, ticket_id: str | None, reason: str) -> None:
        self.ticket_id = ticket_id
        self.reason = reason
        if ticket_id is None:  # an agent pulling from the queue (``take_next``)
            super().__init__(f"no ticket could be taken from the queue: {reason}")
        else:
            super().__init__(f"ticket {ticket_id!r} could not be assigned: {reason}")


class OptionalDependencyMissing(SupportflowError, ImportError):
    """A feature needs an optional extra: ``pip install supportflow[<extra>]``."""

    def __init__(self, extra: str, module: str) -> None:
        self.extra = extra
        self.module = module
        super().__init__(f"this needs the {module!r} package: pip install 'supportflow[{extra}]'")


class ConflictError(SupportflowError):
    """A write collided with data already stored."""


class ConcurrencyConflict(ConflictError):
    """A write was based on a stale version; reload and retry (see ``retry_on_conflict``)."""

    def __init__(
        self, kind: str, object_id: str, expected_version: int | None, actual_version: int | None
    ) -> None:
        self.kind = kind
        self.object_id = object_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"{kind} {object_id!r} changed concurrently: expected version {expected_version}, "
            f"found {actual_version}"
        )


class DuplicateEntity(ConflictError):
    """An add used an id (or a unique key such as channel + external id) already stored."""

    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} already exists")


class SurveyAlreadyAnswered(ConflictError):
    """A survey already holds a different answer; each survey takes exactly one."""

    def __init__(self, survey_id: str) -> None:
        self.survey_id = survey_id
        super().__init__(
            f"survey {survey_id!r} was already answered differently; one response per survey"
        )


class StorageError(SupportflowError):
    """The store failed for a reason other than a conflict (I/O, corrupt data, ...)."""


class SchemaVersionError(StorageError):
    """The database schema is newer than this version of supportflow understands."""

    def __init__(self, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            f"database schema version {found} is newer than supported version {supported}; "
            "upgrade supportflow"
        )
