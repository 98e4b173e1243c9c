"""Hostile values in every argument of every public SupportDesk call, on both stores.

A call either succeeds or raises a ``SupportflowError``; a refused call leaves every stored
row (tickets, events, messages, customers and their events, agents, teams, articles and
their revisions) exactly as it was.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from desk_calls import ARTICLES, POLICY, START, VALID, S, Survey, T, stored_rows
from supportflow import (
    KnowledgeBase,
    MemoryStore,
    SqliteStore,
    Store,
    SupportDesk,
    SupportflowError,
    ValidationFailed,
)
from supportflow.testing import FixedClock

STATUSES = (S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.WAITING_ON_CUSTOMER, S.ON_HOLD, S.RESOLVED)
"""One accepted set of arguments per public method; the fuzz swaps hostile values in."""


class ImportFile:
    """The path of a valid JSON export in the world's folder."""


_KB_EDIT = {"editor_id": "a-sue", "note": "", "expected_version": None}
VALID_KB: dict[str, dict[str, Any]] = {
    "get": {"article_id": "kb-router"},
    "revisions": {"article_id": "kb-router"},
    "list": {"status": None},
    "create": {
        "article": {"id": "kb-new", "title": "New", "body": "Body"},
        "editor_id": "a-sue",
        "note": "",
    },
    "edit": {"article_id": "kb-router", "changes": {"body": "New body"}, **_KB_EDIT},
    "submit_for_review": {"article_id": "kb-draft", **_KB_EDIT},
    "publish": {"article_id": "kb-draft", **_KB_EDIT},
    "archive": {"article_id": "kb-router", **_KB_EDIT},
    "revive": {"article_id": "kb-router", **_KB_EDIT},
    "confirm_review": {"article_id": "kb-router", **_KB_EDIT},
    "vote": {"article_id": "kb-router", "helpful": True},
    "import_articles": {
        "path": ImportFile(),
        "editor_id": "a-sue",
        "status": "published",
        "defaults": None,
    },
    "search": {
        "query": "router",
        "limit": 10,
        "language": None,
        "product": None,
        "audience": None,
        "statuses": ("published",),
    },
    "gaps": {"since": START - timedelta(days=30), "until": START},
    "stale_report": {"suggestion_window": timedelta(days=90)},
    "rebuild_index": {},
}
"""The same for the desk's knowledge base (``desk.kb``), whose calls share its storage."""
KB_METHODS = sorted(
    name
    for name in dir(KnowledgeBase)
    if not name.startswith("_") and callable(getattr(KnowledgeBase, name))
)

PUBLIC_METHODS = sorted(
    name
    for name in dir(SupportDesk)
    if not name.startswith("_") and callable(getattr(SupportDesk, name))
)


# -- hostile values ------------------------------------------------------------------------


class Booby(Exception):
    """Raised by the booby-trapped objects below; must never escape a desk call."""


class _RaisingStr:
    def __str__(self) -> str:
        raise Booby("__str__")

    def __repr__(self) -> str:
        return "_RaisingStr()"


class _RaisingEq:
    def __eq__(self, other: object) -> bool:
        raise Booby("__eq__")

    def __hash__(self) -> int:
        raise Booby("__hash__")


SQL_INJECTIONS = [
    "'; DROP TABLE tickets; --",
    '" OR 1=1 --',
    "' OR '1'='1",
    "Robert'); DROP TABLE customers;--",
    "1; DELETE FROM events WHERE 1=1",
    "%' UNION SELECT * FROM sqlite_master --",
    "\\'; ATTACH DATABASE '/tmp/x.db' AS x; --",
]
TRICKY_STRINGS = [
    "",
    " ",
    "\t\n\r",
    "\x00",
    "a\x00b",
    "\ud800",
    "ok \udfff then",
    "\u202eevil\u202c",  # RTL override
    "\u200f\u200e",
    "\ufeffBOM",
    "é",  # combining accent
    "Ａ－ｂｏｂ",  # fullwidth
    "工单 ticket 测试",
    "🙂" * 50,
    "NULL",
    "None",
    "../../etc/passwd",
    "%s%s%n",
    "{0}{1}",
    "<script>alert(1)</script>",
]
ENUM_LIKE = [
    "email",
    "EMAIL",
    " email",
    "new",
    "resolved",
    "closed",
    "urgent",
    "vip",
    "away",
    "published",
    "team",
    "tier",
    "a-bob",
    "c-reg",
    "t-support",
    "kb-router",
    "2026-03",
    "UTC",
]
ZONES = st.sampled_from(
    [
        UTC,
        timezone(timedelta(hours=14)),
        timezone(-timedelta(hours=23, minutes=59)),
        ZoneInfo("America/New_York"),
        ZoneInfo("Asia/Shanghai"),
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, -1, 2**31, 2**63, -(2**63) - 1, 10**400, sys.maxsize]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -0.0, 1e308, 5e-324]),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=20),
    st.sampled_from(SQL_INJECTIONS + TRICKY_STRINGS + ENUM_LIKE),
    st.sampled_from([1_001, 100_001, 1_000_001]).map(lambda n: "x" * n),
    st.binary(max_size=12),
    st.just(b"\xff\xfe\x00"),
    st.datetimes(),
    st.datetimes(timezones=ZONES),
    st.sampled_from([datetime.min, datetime.max, datetime.max.replace(tzinfo=UTC)]),
    st.dates(),
    st.times(),
    st.timedeltas(),
    st.sampled_from([timedelta.max, timedelta.min, timedelta(0)]),
    st.complex_numbers(),
    st.just(object()),
    st.builds(_RaisingStr),
    st.builds(_RaisingEq),
    st.just(Ellipsis),
    st.just(int),
    st.just(lambda: None),
)
HOSTILE = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.lists(children, max_size=3).map(tuple),
        st.frozensets(st.sampled_from(ENUM_LIKE), max_size=3),
        st.dictionaries(
            st.one_of(st.sampled_from(ENUM_LIKE + SQL_INJECTIONS), st.text(max_size=5)),
            children,
            max_size=3,
        ),
    ),
    max_leaves=6,
)
"""Hostile values: scalars of every kind, booby-trapped objects, and nested containers."""


def _deeply_nested() -> Any:
    value: Any = "x"
    for _ in range(sys.getrecursionlimit() + 100):
        value = [value]
    return value


HOSTILE_OR_DEEP = st.one_of(HOSTILE, st.builds(_deeply_nested))


def _near(valid: Any) -> st.SearchStrategy[Any]:
    """Values derived from a valid one: its dict with fields swapped, its str decorated."""
    if isinstance(valid, dict):
        return st.fixed_dictionaries(
            {k: st.one_of(st.just(v), HOSTILE) for k, v in valid.items()},
            optional={
                k: HOSTILE for k in ("version", "tier", "teams", "extra", "id") if k not in valid
            },
        )
    if isinstance(valid, str):
        return st.sampled_from([f"{valid}{s}" for s in ("'; --", "\x00", "\ud800", " ")])
    return st.just(valid)


# -- the world -----------------------------------------------------------------------------


def _memory_store(_tmp: Path) -> Store:
    return MemoryStore()


def _sqlite_file_store(tmp: Path) -> Store:
    return SqliteStore(str(tmp / "fuzz.db"))


class _World:
    """A populated desk with one ticket per status, rebuilt only after a call changed it."""

    def __init__(
        self,
        store_factory: Callable[[Path], Store],
        tmp: Path,
        make_desk: Callable[..., SupportDesk],
        new_ticket: Callable[..., Any],
    ) -> None:
        self._store_factory = store_factory
        self._tmp = tmp
        self._make_desk = make_desk
        self._new_ticket = new_ticket
        self._store: Store | None = None
        self._builds = 0
        self.dirty = True

    @property
    def store(self) -> Store:
        assert self._store is not None
        return self._store

    def fresh(self) -> _World:
        if self.dirty:
            self.close()
            self._builds += 1
            folder = self._tmp / str(self._builds)
            folder.mkdir()
            self._store = self._store_factory(folder)
            self.import_file = folder / "import.json"
            self.import_file.write_text(json.dumps([{"title": "Imported", "body": "Text"}]))
            self.desk = self._make_desk(self._store, FixedClock(START), sla_policy=POLICY)
            for article in ARTICLES:
                self.desk.kb.create(article, editor_id="a-sue")
            self.tickets = {status: self._new_ticket(self.desk, status).id for status in STATUSES}
            self.dirty = False
        return self

    def args(self, method: str) -> dict[str, Any]:
        return {name: self._filled(value) for name, value in VALID[method].items()}

    def kb_args(self, method: str) -> dict[str, Any]:
        return {name: self._filled(value) for name, value in VALID_KB[method].items()}

    def _filled(self, value: Any) -> Any:
        if isinstance(value, ImportFile):
            return self.import_file
        if isinstance(value, Survey):
            return f"{self.tickets[value.status]}/survey/1"
        if isinstance(value, T):
            return self.tickets[value.status]
        return value

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


@pytest.fixture(
    scope="module",
    params=[
        pytest.param(_memory_store, id="memory"),
        pytest.param(_sqlite_file_store, id="sqlite-file"),
        pytest.param(None, id="postgres"),
    ],
)
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    make_desk: Callable[..., SupportDesk],
    new_ticket: Callable[..., Any],
) -> Iterator[_World]:
    factory: Callable[[Path], Store] | None = request.param
    if factory is None:
        from supportflow.storage.postgres import PostgresStore

        databases = request.getfixturevalue("postgres_databases")

        def factory(_folder: Path) -> Store:
            return PostgresStore(databases.new_dsn())

    built = _World(factory, tmp_path_factory.mktemp("fuzz-desk"), make_desk, new_ticket)
    yield built
    built.close()


FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


def test_every_public_method_is_fuzzed() -> None:
    assert sorted(VALID) == PUBLIC_METHODS


def _fuzz_once(
    world: _World,
    call: Callable[..., Any],
    method: str,
    args: dict[str, Any],
    data: st.DataObject,
) -> None:
    if args and data.draw(st.booleans(), label="spoil one argument"):
        # One bad argument among valid ones reaches further into the call than several.
        names = [data.draw(st.sampled_from(sorted(args)), label="spoilt")]
    else:
        names = list(args)
    for name in names:
        value = args[name]
        args[name] = data.draw(st.one_of(HOSTILE_OR_DEEP, _near(value), st.just(value)), name)
    before = stored_rows(world.store, world.desk.tenant_id)
    world.dirty = True
    try:
        call(**args)
    except SupportflowError:
        assert stored_rows(world.store, world.desk.tenant_id) == before, (
            "a refused call changed storage"
        )
        world.dirty = False


@pytest.mark.parametrize("method", PUBLIC_METHODS)
@FUZZ
@given(data=st.data())
def test_hostile_arguments_raise_only_supportflow_errors_and_change_nothing(
    world: _World, method: str, data: st.DataObject
) -> None:
    world.fresh()
    _fuzz_once(world, getattr(world.desk, method), method, world.args(method), data)


def test_every_knowledge_base_method_is_fuzzed() -> None:
    assert sorted(VALID_KB) == KB_METHODS


@pytest.mark.parametrize("method", KB_METHODS)
@FUZZ
@given(data=st.data())
def test_hostile_knowledge_base_arguments_raise_only_supportflow_errors_and_change_nothing(
    world: _World, method: str, data: st.DataObject
) -> None:
    world.fresh()
    _fuzz_once(world, getattr(world.desk.kb, method), f"kb.{method}", world.kb_args(method), data)


# -- bugs the fuzz found, kept as regressions ------------------------------------------------


DEEP_REPR_BUGS = [
    ("find_by_external_id", "channel"),
    ("intake", "channel"),
    ("intake", "priority"),
    ("list_tickets", "status"),
    ("monthly_report", "month"),
    ("monthly_report", "group_by"),
    ("set_agent_status", "status"),
    ("submit_feedback", "channel"),
    ("kb.import_articles", "status"),
    ("kb.list", "status"),
    ("kb.search", "statuses"),
]
"""Arguments whose error message ``repr``ed the value: a list nested deeper than the
recursion limit made a RecursionError escape (``enum_value`` called ``Enum(value)``, whose
own message is ``%r``; ``monthly_report`` formatted ``{name!r}``). Fixed with a cut-short
``repr`` (``supportflow._validate.shown``)."""


@pytest.mark.parametrize(("method", "argument"), DEEP_REPR_BUGS)
def test_deeply_nested_value_is_refused_not_a_recursion_error(
    world: _World, method: str, argument: str
) -> None:
    world.fresh()
    if method.startswith("kb."):
        call, args = getattr(world.desk.kb, method[3:]), world.kb_args(method[3:])
    else:
        call, args = getattr(world.desk, method), world.args(method)
    args[argument] = _deeply_nested()
    with pytest.raises(SupportflowError):
        call(**args)


def test_run_due_jobs_at_the_first_instant_is_refused_not_an_overflow(world: _World) -> None:
    world.fresh()
    with pytest.raises(SupportflowError):
        world.desk.run_due_jobs(datetime.min.replace(tzinfo=UTC))


@pytest.mark.parametrize("year", [1, 1900, 9999])
def test_an_instant_no_calendar_can_reach_is_refused_at_once(world: _World, year: int) -> None:
    """The year 1 used to build the SLA calendar back year by year for minutes (a hang)."""
    world.fresh()
    args = world.args("intake") | {"received_at": datetime(year, 6, 1, tzinfo=UTC)}
    with pytest.raises(ValidationFailed) as raised:
        world.desk.intake(**args)
    assert raised.value.field == "received_at"
    with pytest.raises(ValidationFailed) as raised:
        world.desk.run_due_jobs(datetime(year, 6, 1, tzinfo=UTC))
    assert raised.value.field == "now"
