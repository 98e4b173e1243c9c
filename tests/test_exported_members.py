"""The root namespace is the public API: pinned here, importable, documented."""

from __future__ import annotations

import inspect
import types
from importlib.metadata import version

import pytest

import supportflow

PUBLIC_API = [
    "DEFAULT_TENANT",
    "Agent",
    "AgentNotFound",
    "AgentPool",
    "AgentRole",
    "AgentStatus",
    "ArticleMoveRefused",
    "ArticleNotFound",
    "AssignmentFailed",
    "AssignmentStrategy",
    "AuthorKind",
    "BusinessCalendar",
    "CalendarSpec",
    "Channel",
    "Classification",
    "Classifier",
    "Clock",
    "ComplaintCategory",
    "ConcurrencyConflict",
    "ConflictError",
    "Contact",
    "Customer",
    "CustomerEvent",
    "CustomerFacts",
    "CustomerNotFound",
    "CustomerTier",
    "Deadline",
    "Decision",
    "DeskSettings",
    "DueJobsReport",
    "DuplicateEntity",
    "EventType",
    "FirstConfident",
    "Goals",
    "InvalidTransition",
    "KeywordClassifier",
    "KnowledgeBase",
    "LifecycleEvent",
    "MemoryStore",
    "Message",
    "MonthlyReport",
    "NotFound",
    "NotPermitted",
    "OptionalDependencyMissing",
    "PermissionDenied",
    "Pipeline",
    "PluginNotFound",
    "Priority",
    "PriorityDetector",
    "ReopenWindowExpired",
    "RoutingRequest",
    "SchemaVersionError",
    "SlaImpact",
    "SlaMetric",
    "SlaPolicy",
    "SlaState",
    "SqliteStore",
    "StorageError",
    "Store",
    "SupportDesk",
    "SupportflowError",
    "SurveyAlreadyAnswered",
    "SurveyResponse",
    "SystemClock",
    "Team",
    "TeamNotFound",
    "Ticket",
    "TicketEvent",
    "TicketLifecycle",
    "TicketNotFound",
    "TicketStatus",
    "TierEntitlements",
    "TierOverride",
    "TierPolicy",
    "TrainableClassifier",
    "UnitOfWork",
    "ValidationFailed",
    "Vote",
    "__version__",
    "china_calendar",
    "default_policy",
    "replay",
    "retry_on_conflict",
    "standard_pipeline",
]
"""Adding a name is a decision: add it here too. Removing one breaks hosts."""


def _isort_key(name: str) -> tuple[int, str]:
    """ruff's RUF022 order: CONSTANTS, then Classes, then everything else."""
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def test_all_is_pinned() -> None:
    assert supportflow.__all__ == PUBLIC_API


def test_all_is_sorted() -> None:
    assert supportflow.__all__ == sorted(supportflow.__all__, key=_isort_key)


def test_all_has_no_duplicates() -> None:
    assert len(set(supportflow.__all__)) == len(supportflow.__all__)


@pytest.mark.parametrize("name", PUBLIC_API)
def test_public_name_is_importable(name: str) -> None:
    namespace: dict[str, object] = {}
    exec(f"from supportflow import {name}", namespace)
    assert namespace[name] is getattr(supportflow, name)


def test_every_public_looking_name_in_the_namespace_is_exported() -> None:
    """Nothing leaks into the root by accident (submodules aside)."""
    leaked = {
        name
        for name, value in vars(supportflow).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    } - set(supportflow.__all__)
    assert leaked == set()


def test_version_is_a_string() -> None:
    assert isinstance(supportflow.__version__, str)


def test_version_matches_the_installed_distribution() -> None:
    assert supportflow.__version__ == version("supportflow")


def test_package_has_a_docstring() -> None:
    assert inspect.getdoc(supportflow)


DOCUMENTED = [
    name
    for name in PUBLIC_API
    if inspect.isclass(getattr(supportflow, name)) or callable(getattr(supportflow, name))
]


@pytest.mark.parametrize("name", DOCUMENTED)
def test_public_name_has_its_own_docstring(name: str) -> None:
    obj = getattr(supportflow, name)
    assert obj.__dict__.get("__doc__") if inspect.isclass(obj) else obj.__doc__, name


def _public_members(cls: type) -> list[tuple[str, object]]:
    members: list[tuple[str, object]] = []
    for attr, value in vars(cls).items():
        if attr.startswith("_"):
            continue
        if isinstance(value, staticmethod | classmethod):
            value = value.__func__
        if inspect.isfunction(value) or isinstance(value, property):
            members.append((attr, value))
    return members


PUBLIC_METHODS = [
    (f"{name}.{attr}", member)
    for name in PUBLIC_API
    if inspect.isclass(getattr(supportflow, name))
    for attr, member in _public_members(getattr(supportflow, name))
]


@pytest.mark.parametrize(("qualname", "member"), PUBLIC_METHODS, ids=[q for q, _ in PUBLIC_METHODS])
def test_public_method_has_a_docstring(qualname: str, member: object) -> None:
    assert inspect.getdoc(member), qualname


def test_the_desk_has_public_methods_to_check() -> None:
    assert any(q.startswith("SupportDesk.") for q, _ in PUBLIC_METHODS)
