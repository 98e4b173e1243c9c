"""Hostile documents for every loader: only SupportflowError subclasses escape.

Policies, calendars, tier policies and scenarios (from plain data, JSON and TOML text, and
a scenario file path) and the knowledge-base importers (JSON, JSON Lines, CSV, Markdown and
``load_articles`` on files and folders) are fed arbitrary JSON-like values, mutated valid
documents, JSON-ish and TOML-ish text and raw bytes.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportflow import BusinessCalendar, SlaPolicy, SupportflowError, TierPolicy
from supportflow.kb.importing import (
    articles_from_csv,
    articles_from_json,
    articles_from_jsonl,
    articles_from_markdown,
    load_articles,
)
from supportflow.simulate.scenario import Scenario, load_scenario
from supportflow.sla import CalendarSpec, default_policy

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CALENDAR = {
    "timezone": "Asia/Shanghai",
    "weekly": {day: ["09:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": [{"date": "2026-10-01", "name": "National Day"}],
}
VALID_DOCUMENTS: dict[str, dict[str, Any]] = {
    "sla": default_policy(CalendarSpec.model_validate(CALENDAR)).model_dump(mode="json"),
    "calendar": CALENDAR,
    "tier": TierPolicy().model_dump(mode="json"),
    "scenario": load_scenario("small").model_dump(mode="json"),
}
"""One accepted document per kind, for mutation: swapping parts reaches deeper checks."""

SQL_INJECTIONS = ["'; DROP TABLE tickets; --", '" OR 1=1 --', "Robert'); DROP TABLE x;--"]
TRICKY = ["", " ", "\x00", "a\x00b", "\ud800", "\u202eevil", "\ufeff", "工单", "NaN", "-0"]
KEYS = sorted(
    {
        *(k for doc in VALID_DOCUMENTS.values() for k in doc),
        *("id", "title", "body", "html_body", "tags", "language", "status", "draft"),
        *("internal", "audience", "owner_id", "created_at", "updated_at", "last_reviewed_at"),
        *("review_interval", "helpful_votes", "solved_ticket_ids", "Last Reviewed At"),
    }
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, -(2**63) - 1, 10**30, 0, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, 1e308]),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=15),
    st.sampled_from(SQL_INJECTIONS + TRICKY + KEYS),
    st.sampled_from(["09:00-18:00", "25:00-26:00", "18:00-09:00", "2026-03-02", "PT1H", "1h"]),
    st.sampled_from(["2026-03-02T09:00:00", "2026-03-02T09:00:00+00:00", "9999-12-31"]),
    st.sampled_from(["UTC", "Mars/Olympus", "../etc/passwd", "mon", "vip", "published"]),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(KEYS), st.text(max_size=6)), children, max_size=4
        ),
    ),
    max_leaves=10,
)
"""Arbitrary JSON-like data (with NaN and huge numbers), keys often ones the loaders read."""


@st.composite
def mutated(draw: st.DrawFn, value: Any, depth: int = 0) -> Any:
    """``value`` with some of its parts (at any depth) swapped for arbitrary data."""
    if depth > 6 or draw(st.integers(0, 9)) == 0:
        return draw(JSON_VALUES)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            choice = draw(st.integers(0, 9))
            if choice == 0:
                continue
            out[key] = draw(mutated(item, depth + 1)) if choice < 3 else item
        if draw(st.booleans()):
            out[draw(st.sampled_from(KEYS))] = draw(JSON_VALUES)
        return out
    if isinstance(value, list):
        return [draw(mutated(item, depth + 1)) if draw(st.booleans()) else item for item in value]
    return value


def _documents(kind: str) -> st.SearchStrategy[Any]:
    return st.one_of(JSON_VALUES, mutated(VALID_DOCUMENTS[kind]))


def _deep(n: int) -> str:
    return "[" * n + "]" * n


JSONISH_SNIPPETS = ['{"a": ', "[1, 2,", '"\\ud800"', '"\\u0000"', "NaN", "-Infinity", "{}", "[]"]
JSONISH = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from([*JSONISH_SNIPPETS, *SQL_INJECTIONS]), max_size=6).map("".join),
    st.binary(max_size=40),
    st.sampled_from([b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00", "\ufeff{}", "\x00"]),
)
"""Text that is JSON only sometimes, and bytes in several encodings."""


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return (
            "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
        )
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if value is None:
        return '""'
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return json.dumps(value)


def _toml(document: Any) -> str:
    """A TOML rendering of ``document`` (inline tables; JSON string escapes mostly agree)."""
    if not isinstance(document, dict):
        return f"value = {_toml_value(document)}"
    return "\n".join(f"{json.dumps(k)} = {_toml_value(v)}" for k, v in document.items())


TOML_SNIPPETS = ["[table]", "[[array]]", "a = ", "= 1", "a.b.c = 1", '"""', "'''", "\n", "#"]
TOMLISH = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from([*TOML_SNIPPETS, *SQL_INJECTIONS, "\x00"]), max_size=8).map("".join),
)

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
WRONG_TYPES = st.one_of(
    st.none(), st.integers(), st.lists(st.text(max_size=3), max_size=2), st.builds(object)
)


def _call(loader: str, call: Callable[[], Any]) -> None:
    """Run a loader: it may accept the input or refuse it; anything else escapes the test."""
    with contextlib.suppress(SupportflowError):
        call()


# -- policies, calendars, tier policies and scenarios --------------------------------------

DICT_LOADERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "SlaPolicy.from_dict": ("sla", SlaPolicy.from_dict),
    "BusinessCalendar.from_dict": ("calendar", BusinessCalendar.from_dict),
    "TierPolicy.from_dict": ("tier", TierPolicy.from_dict),
    "Scenario.from_dict": ("scenario", Scenario.from_dict),
}
TEXT_LOADERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "SlaPolicy.from_json": ("sla", SlaPolicy.from_json),
    "BusinessCalendar.from_json": ("calendar", BusinessCalendar.from_json),
    "TierPolicy.from_json": ("tier", TierPolicy.from_json),
    "SlaPolicy.from_toml": ("sla", SlaPolicy.from_toml),
    "BusinessCalendar.from_toml": ("calendar", BusinessCalendar.from_toml),
    "TierPolicy.from_toml": ("tier", TierPolicy.from_toml),
    "Scenario.from_toml": ("scenario", Scenario.from_toml),
}


@pytest.mark.parametrize("loader", sorted(DICT_LOADERS))
@FUZZ
@given(data=st.data())
def test_from_dict_raises_only_supportflow_errors(loader: str, data: st.DataObject) -> None:
    kind, load = DICT_LOADERS[loader]
    document = data.draw(st.one_of(_documents(kind), WRONG_TYPES), label="document")
    _call(loader, lambda: load(document))


@pytest.mark.parametrize("loader", sorted(TEXT_LOADERS))
@FUZZ
@given(data=st.data())
def test_from_text_raises_only_supportflow_errors(loader: str, data: st.DataObject) -> None:
    kind, load = TEXT_LOADERS[loader]
    as_toml = loader.endswith("toml")
    rendered = _documents(kind).map(_toml if as_toml else json.dumps)
    text = data.draw(
        st.one_of(
            rendered,
            rendered.map(lambda t: t.encode("utf-8", "surrogatepass")),
            TOMLISH if as_toml else JSONISH,
            st.sampled_from([_deep(sys.getrecursionlimit() + 10), "1" * 5000]),
            st.just(f"a = {'1' * 5000}" if as_toml else '{"a": ' + "1" * 5000 + "}"),
            WRONG_TYPES,
        ),
        label="text",
    )
    _call(loader, lambda: load(text))


@FUZZ
@given(data=st.data())
def test_load_scenario_raises_only_supportflow_errors(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("scenario")
    path = folder / "scenario.toml"
    content = data.draw(
        st.one_of(
            _documents("scenario").map(lambda d: _toml(d).encode("utf-8", "surrogatepass")),
            TOMLISH.map(lambda t: t.encode("utf-8", "surrogatepass")),
            st.binary(max_size=60),
        ),
        label="content",
    )
    path.write_bytes(content)
    target = data.draw(
        st.one_of(
            st.sampled_from([path, str(path), folder, str(folder / "missing.toml"), "small"]),
            st.sampled_from(["", "\x00", "nowhere\ud800", "x" * 5000, "/dev/null", b"small"]),
            WRONG_TYPES,
        ),
        label="path",
    )
    _call("load_scenario", lambda: load_scenario(target))


# -- knowledge-base importers ----------------------------------------------------------------

ARTICLE_KEYS = [
    *("id", "article_id", "slug", "title", "question", "name", "body", "content", "answer"),
    *("html_body", "body_html", "tags", "labels", "keywords", "language", "locale", "product"),
    *("audience", "visibility", "internal", "status", "state", "draft", "owner_id", "author"),
    *("created_at", "updated_at", "last_reviewed_at", "review_interval", "helpful_votes"),
    *("unhelpful_votes", "solved_ticket_ids", "Last Reviewed At", "TITLE", "version"),
]
RECORD = st.one_of(
    st.fixed_dictionaries(
        {"title": st.one_of(st.just("Reset the router"), SCALARS)},
        optional={k: st.one_of(SCALARS, JSON_VALUES) for k in ARTICLE_KEYS if k != "title"},
    ),
    JSON_VALUES,
)
"""An article record as an export holds it: usually an object, its fields often hostile."""
OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "now": st.one_of(
            st.just(NOW),
            st.datetimes(),
            st.sampled_from([datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC)]),
            SCALARS,
        ),
        "status": st.one_of(st.sampled_from(["draft", "published", "archived"]), SCALARS),
        "defaults": st.one_of(
            st.dictionaries(st.sampled_from(ARTICLE_KEYS), st.one_of(SCALARS, JSON_VALUES)),
            WRONG_TYPES,
            st.just({"review_interval": timedelta.max, "created_at": NOW}),
        ),
    },
)
"""Keyword arguments of every importer: ``now`` defaults to a valid instant below."""


def _kwargs(data: st.DataObject) -> dict[str, Any]:
    return {"now": NOW, **data.draw(OPTIONS, label="options")}


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _csv(records: list[Any], delimiter: str) -> str:
    header = sorted({k for r in records if isinstance(r, dict) for k in r}) or ["title"]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(header)
    for record in records:
        row = record if isinstance(record, dict) else {}
        writer.writerow([_cell(row.get(k, "")) for k in header])
    return out.getvalue()


def _markdown(record: Any) -> str:
    if not isinstance(record, dict):
        return _cell(record)
    body = _cell(record.pop("body", ""))
    lines = [f"{k}: {_cell(v)}" for k, v in record.items()]
    return "---\n" + "\n".join(lines) + "\n---\n# Heading\n" + body


MARKDOWNISH = st.lists(
    st.sampled_from(["---\n", "# ", "```\n", "- item\n", "key: [a, b]\n", "key:\n", ": x\n"]),
    max_size=8,
).map("".join)


def _encoded(text: st.SearchStrategy[str]) -> st.SearchStrategy[str | bytes]:
    return st.one_of(
        text,
        text.map(lambda t: t.encode("utf-8", "surrogatepass")),
        text.map(lambda t: "\ufeff" + t),
        st.binary(max_size=60),
    )


RECORDS = st.lists(RECORD, max_size=4)
JSON_EXPORTS = _encoded(
    st.one_of(
        RECORDS.map(json.dumps),
        RECORDS.map(lambda r: json.dumps({"articles": r})),
        JSON_VALUES.map(json.dumps),
        JSONISH.filter(lambda t: isinstance(t, str)),
        st.just(_deep(sys.getrecursionlimit() + 10)),
        st.just('[{"title": "x", "helpful_votes": ' + "1" * 5000 + "}]"),
    )
)
JSONL_EXPORTS = _encoded(
    st.one_of(
        RECORDS.map(lambda rs: "\n".join(json.dumps(r) for r in rs)),
        st.lists(
            st.one_of(JSONISH.filter(lambda t: isinstance(t, str)), st.just("")), max_size=4
        ).map("\n".join),
        st.just(_deep(sys.getrecursionlimit() + 10)),
    )
)
CSV_EXPORTS = _encoded(
    st.one_of(
        st.builds(_csv, RECORDS, st.sampled_from([",", ";", "\t"])),
        st.text(alphabet=st.sampled_from(',;\t"\n\r x\x00'), max_size=40),
    )
)
MARKDOWN_EXPORTS = _encoded(st.one_of(RECORD.map(_markdown), MARKDOWNISH, st.text(max_size=60)))

IMPORTERS: dict[str, tuple[st.SearchStrategy[Any], Callable[..., Any]]] = {
    "articles_from_json": (JSON_EXPORTS, articles_from_json),
    "articles_from_jsonl": (JSONL_EXPORTS, articles_from_jsonl),
    "articles_from_csv": (CSV_EXPORTS, articles_from_csv),
}


@pytest.mark.parametrize("importer", sorted(IMPORTERS))
@FUZZ
@given(data=st.data())
def test_importer_raises_only_supportflow_errors(importer: str, data: st.DataObject) -> None:
    exports, load = IMPORTERS[importer]
    text = data.draw(st.one_of(exports, WRONG_TYPES), label="text")
    kwargs = _kwargs(data)
    _call(importer, lambda: load(text, **kwargs))


@FUZZ
@given(data=st.data())
def test_markdown_importer_raises_only_supportflow_errors(data: st.DataObject) -> None:
    text = data.draw(st.one_of(MARKDOWN_EXPORTS, WRONG_TYPES), label="text")
    source_name = data.draw(
        st.one_of(st.sampled_from(["billing/refunds.md", "", "\ud800.md", "a\x00.md"]), SCALARS),
        label="source_name",
    )
    kwargs = _kwargs(data)
    _call(
        "articles_from_markdown",
        lambda: articles_from_markdown(text, source_name=source_name, **kwargs),
    )


SUFFIXED_EXPORTS = {".json": JSON_EXPORTS, ".jsonl": JSONL_EXPORTS, ".csv": CSV_EXPORTS}


@FUZZ
@given(data=st.data())
def test_load_articles_raises_only_supportflow_errors(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    folder = tmp_path_factory.mktemp("export")
    suffix = data.draw(st.sampled_from([".json", ".jsonl", ".csv", ".md", ".txt", ""]))
    exports = SUFFIXED_EXPORTS.get(suffix, MARKDOWN_EXPORTS)
    content = data.draw(exports, label="content")
    file = folder / f"export{suffix}"
    file.write_bytes(
        content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    )
    for number, page in enumerate(data.draw(st.lists(MARKDOWN_EXPORTS, max_size=3), label="pages")):
        nested = folder / "pages" / f"sub{number % 2}"
        nested.mkdir(parents=True, exist_ok=True)
        encoded = page if isinstance(page, bytes) else page.encode("utf-8", "surrogatepass")
        (nested / f"page{number}.md").write_bytes(encoded)
    target = data.draw(
        st.one_of(
            st.sampled_from([file, str(file), folder / "pages", folder / "missing.json"]),
            st.sampled_from(["", "\x00", "nowhere\ud800.json", "x" * 5000 + ".json", b"x.json"]),
            WRONG_TYPES,
        ),
        label="path",
    )
    kwargs = _kwargs(data)
    _call("load_articles", lambda: load_articles(target, **kwargs))


# -- the bugs, one minimal example each ------------------------------------------------------

BUGS: list[tuple[str, Callable[[], Any]]] = [
    ("SlaPolicy.from_json-deep", lambda: SlaPolicy.from_json(_deep(5000))),
    ("BusinessCalendar.from_json-deep", lambda: BusinessCalendar.from_json(_deep(5000))),
    ("TierPolicy.from_json-deep", lambda: TierPolicy.from_json(_deep(5000))),
    ("SlaPolicy.from_json-huge-int", lambda: SlaPolicy.from_json("1" * 5000)),
    ("BusinessCalendar.from_json-huge-int", lambda: BusinessCalendar.from_json("1" * 5000)),
    ("TierPolicy.from_json-huge-int", lambda: TierPolicy.from_json('{"a": ' + "1" * 5000 + "}")),
    ("SlaPolicy.from_json-None", lambda: SlaPolicy.from_json(None)),  # type: ignore[arg-type]
    ("BusinessCalendar.from_json-42", lambda: BusinessCalendar.from_json(42)),  # type: ignore[arg-type]
    ("SlaPolicy.from_toml-huge-int", lambda: SlaPolicy.from_toml("a = " + "1" * 5000)),
    (
        "BusinessCalendar.from_toml-huge-int",
        lambda: BusinessCalendar.from_toml("a = " + "1" * 5000),
    ),
    ("TierPolicy.from_toml-huge-int", lambda: TierPolicy.from_toml("a = " + "1" * 5000)),
    ("Scenario.from_toml-huge-int", lambda: Scenario.from_toml("a = " + "1" * 5000)),
    ("SlaPolicy.from_toml-bytes", lambda: SlaPolicy.from_toml(b"a = 1")),  # type: ignore[arg-type]
    ("BusinessCalendar.from_toml-42", lambda: BusinessCalendar.from_toml(42)),  # type: ignore[arg-type]
    ("Scenario.from_toml-None", lambda: Scenario.from_toml(None)),  # type: ignore[arg-type]
    ("load_scenario-None", lambda: load_scenario(None)),  # type: ignore[arg-type]
    ("load_scenario-bytes", lambda: load_scenario(b"small")),  # type: ignore[arg-type]
    ("load_scenario-NUL", lambda: load_scenario("a\x00.toml")),
    ("load_scenario-lone-surrogate", lambda: load_scenario("nowhere\ud800.toml")),
    ("load_articles-None", lambda: load_articles(None, now=NOW)),  # type: ignore[arg-type]
    ("load_articles-bytes", lambda: load_articles(b"x.json", now=NOW)),  # type: ignore[arg-type]
    ("load_articles-long-name", lambda: load_articles("x" * 5000 + ".json", now=NOW)),
    (
        "articles_from_markdown-source_name-None",
        lambda: articles_from_markdown("# Hi", source_name=None, now=NOW),  # type: ignore[arg-type]
    ),
]


@pytest.mark.parametrize("call", [call for _name, call in BUGS], ids=[name for name, _ in BUGS])
def test_bad_document_raises_a_supportflow_error(call: Callable[[], Any]) -> None:
    try:
        call()
    except SupportflowError:
        return
    except Exception:
        raise
    pytest.fail("accepted")
