"""The plugin registry: registration checks, lookups, factories, entry-point discovery."""

from __future__ import annotations

import importlib
import importlib.metadata
import pickle
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from supportflow import (
    Agent,
    Channel,
    NotFound,
    SupportflowError,
    Ticket,
    ValidationFailed,
)
from supportflow.routing import (
    AgentPool,
    Classification,
    Decision,
    KeywordClassifier,
    LanguageOnlyClassifier,
    Pipeline,
    PriorityDetector,
    RoutingRequest,
    SkillMatch,
    TrainableClassifier,
)
from supportflow.routing import registry as registry_module
from supportflow.routing.registry import PluginNotFound, PluginRegistry

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TICKET = Ticket(
    id="t-1",
    channel=Channel.EMAIL,
    customer_id="c-1",
    subject="Invoice",
    body="Where is the invoice for March?",
    language="en",
    created_at=AT,
    updated_at=AT,
)
POOL_AGENTS = (Agent(id="ann", name="Ann"), Agent(id="bob", name="Bob"))


class Quiet:
    """A classifier that always abstains."""

    def classify(self, ticket: Ticket) -> Classification | None:
        return None


class First:
    """A strategy that picks the first agent by id who has room, with options."""

    def __init__(self, *, note: str = "first") -> None:
        self.note = note

    def decide(self, request: RoutingRequest, pool: AgentPool) -> Decision:
        for candidate in pool:
            if candidate.online and candidate.has_room:
                return Decision(candidate.id, self.note)
        return Decision(None, "queued: nobody")


def first_factory(note: str = "made") -> First:
    return First(note=note)


def making(product: object) -> Callable[[], Any]:
    """A factory making ``product``, which need not be a plugin (for tests of the checks)."""
    return lambda: product


def decide(strategy: Any) -> Decision:
    decision: Decision = strategy.decide(RoutingRequest(TICKET, AT), AgentPool(POOL_AGENTS))
    return decision


@pytest.fixture
def plugins() -> PluginRegistry:
    """An empty registry of the test's own."""
    return PluginRegistry(builtins=False)


# -- the shipped plugins -----------------------------------------------------------------


def test_a_new_registry_holds_the_shipped_plugins() -> None:
    plugins = PluginRegistry()
    assert plugins.names("classifier") == ("keywords", "language-only", "priority", "trainable")
    assert plugins.names("assignment") == ("default", "round-robin", "standard")


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("keywords", KeywordClassifier),
        ("language-only", LanguageOnlyClassifier),
        ("priority", PriorityDetector),
        ("trainable", TrainableClassifier),
    ],
)
def test_shipped_classifiers_resolve_to_working_classifiers(name: str, kind: type) -> None:
    made = PluginRegistry().classifier(name)
    assert isinstance(made, kind)
    made.classify(TICKET)  # answers (or abstains) without raising


def test_the_keywords_classifier_classifies() -> None:
    result = PluginRegistry().classifier("keywords").classify(TICKET)
    assert result is not None
    assert result.category == "billing"


def test_shipped_classifiers_take_their_constructor_options() -> None:
    made = PluginRegistry().classifier("trainable", backend="naive_bayes", top_k=2)
    assert isinstance(made, TrainableClassifier)
    assert made.backend == "naive_bayes"


@pytest.mark.parametrize(
    ("name", "pipeline_name", "order"),
    [
        ("default", "default", "least loaded"),
        ("standard", "standard", "least loaded"),
        ("round-robin", "standard", "round-robin"),
    ],
)
def test_shipped_strategies_resolve_to_working_pipelines(
    name: str, pipeline_name: str, order: str
) -> None:
    made = PluginRegistry().assignment(name)
    assert isinstance(made, Pipeline)
    assert (made.name, made.order.name) == (pipeline_name, order)
    assert decide(made).agent_id == "ann"


def test_the_standard_strategy_forwards_its_options() -> None:
    made = PluginRegistry().assignment("standard", round_robin=True)
    assert isinstance(made, Pipeline)
    assert made.order.name == "round-robin"


def test_an_empty_registry_when_asked() -> None:
    plugins = PluginRegistry(builtins=False)
    assert plugins.names("classifier") == plugins.names("assignment") == ()


# -- registering -------------------------------------------------------------------------


def test_a_ready_object_is_returned_as_registered(plugins: PluginRegistry) -> None:
    quiet, first = Quiet(), First()
    plugins.register_classifier("quiet", quiet)
    plugins.register_assignment("first", first)
    assert plugins.classifier("quiet") is quiet
    assert plugins.assignment("first") is first


def test_a_ready_object_takes_no_options(plugins: PluginRegistry) -> None:
    plugins.register_assignment("first", First())
    with pytest.raises(ValidationFailed, match="ready object and takes no options") as caught:
        plugins.assignment("first", note="x")
    assert caught.value.field == "options"


def test_a_class_is_a_factory_called_with_the_options(plugins: PluginRegistry) -> None:
    plugins.register_assignment("first", First)
    made = plugins.assignment("first", note="chosen")
    assert isinstance(made, First)
    assert made.note == "chosen"
    assert plugins.assignment("first") is not plugins.assignment("first")
    assert decide(plugins.assignment("first")) == Decision("ann", "first")


def test_a_function_is_a_factory_called_with_the_options(plugins: PluginRegistry) -> None:
    plugins.register_assignment("first", first_factory)
    made = plugins.assignment("first", note="from a function")
    assert isinstance(made, First)
    assert made.note == "from a function"


def test_options_a_factory_does_not_take_are_refused_naming_those_it_does(
    plugins: PluginRegistry,
) -> None:
    plugins.register_assignment("first", First)
    with pytest.raises(ValidationFailed, match=r"'first' refused the options") as caught:
        plugins.assignment("first", colour="red")
    assert caught.value.field == "options"
    assert "it takes: note" in caught.value.reason


def test_a_factory_product_without_the_method_is_refused_naming_the_plugin(
    plugins: PluginRegistry,
) -> None:
    plugins.register_assignment("filter-only", making(SkillMatch()))
    plugins.register_classifier("not-a-classifier", making(First()))
    with pytest.raises(ValidationFailed, match=r"'filter-only' returned a SkillMatch object"):
        plugins.assignment("filter-only")
    with pytest.raises(ValidationFailed, match=r"'not-a-classifier' .* no classify\(ticket\)"):
        plugins.classifier("not-a-classifier")


def test_a_factory_returning_a_class_is_refused(plugins: PluginRegistry) -> None:
    plugins.register_assignment("class-maker", making(First))
    with pytest.raises(ValidationFailed) as caught:
        plugins.assignment("class-maker")
    assert caught.value.field == "plugin"


def test_a_factory_refusing_its_options_raises_its_own_error() -> None:
    with pytest.raises(ValidationFailed) as caught:
        PluginRegistry().assignment("standard", sticky_window=0)
    assert caught.value.field == "window"


@pytest.mark.parametrize(
    "name", ["", "Round-Robin", "-x", ".x", "two words", "naïve", "x" * 101, 3, None]
)
def test_bad_names_are_refused(plugins: PluginRegistry, name: Any) -> None:
    with pytest.raises(ValidationFailed, match="lowercase letter or digit") as caught:
        plugins.register_assignment(name, First)
    assert caught.value.field == "name"
    assert plugins.names("assignment") == ()


@pytest.mark.parametrize("name", ["a", "0", "round-robin", "acme.vip_first", "x" * 100])
def test_good_names_are_accepted(plugins: PluginRegistry, name: str) -> None:
    plugins.register_assignment(name, First)
    assert plugins.names("assignment") == (name,)


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (object(), "object has no decide(request, pool) method and is not a factory"),
        (Quiet, "class Quiet has no decide() method"),
        (Quiet(), "Quiet has no decide(request, pool) method"),
        (SkillMatch(), "a filter is a pipeline step"),
        (SkillMatch, "a filter is a pipeline step"),
    ],
)
def test_assignment_plugins_without_decide_are_refused(
    plugins: PluginRegistry, plugin: Any, message: str
) -> None:
    with pytest.raises(ValidationFailed, match=re.escape(message)) as caught:
        plugins.register_assignment("bad", plugin)
    assert caught.value.field == "plugin"
    assert plugins.names("assignment") == ()


@pytest.mark.parametrize("plugin", [object(), First, First(), "keywords"])
def test_classifier_plugins_without_classify_are_refused(
    plugins: PluginRegistry, plugin: Any
) -> None:
    with pytest.raises(ValidationFailed, match=r"classify") as caught:
        plugins.register_classifier("bad", plugin)
    assert caught.value.field == "plugin"


def test_a_name_registered_again_is_refused(plugins: PluginRegistry) -> None:
    plugins.register_assignment("first", First)
    with pytest.raises(ValidationFailed, match=r"already registered .* replace=True") as caught:
        plugins.register_assignment("first", first_factory)
    assert caught.value.field == "name"
    assert isinstance(plugins.assignment("first"), First)
    assert plugins.assignment("first").note == "first"  # type: ignore[attr-defined]


def test_a_shipped_name_is_refused_too() -> None:
    with pytest.raises(ValidationFailed, match="shipped with supportflow"):
        PluginRegistry().register_assignment("default", First)


def test_replace_replaces(plugins: PluginRegistry) -> None:
    plugins.register_assignment("first", First)
    plugins.register_assignment("first", first_factory, replace=True)
    assert plugins.assignment("first").note == "made"  # type: ignore[attr-defined]


def test_the_same_name_may_name_a_classifier_and_a_strategy(plugins: PluginRegistry) -> None:
    plugins.register_classifier("acme", Quiet)
    plugins.register_assignment("acme", First)
    assert isinstance(plugins.classifier("acme"), Quiet)
    assert isinstance(plugins.assignment("acme"), First)


# -- looking up --------------------------------------------------------------------------


def test_an_unknown_name_lists_the_registered_names_sorted() -> None:
    with pytest.raises(PluginNotFound) as caught:
        PluginRegistry().assignment("rr")
    assert str(caught.value) == (
        "unknown assignment plugin 'rr'; registered: default, round-robin, standard"
    )
    assert caught.value.registered == ("default", "round-robin", "standard")
    assert caught.value.object_id == "rr"


def test_an_unknown_name_in_an_empty_registry_says_none(plugins: PluginRegistry) -> None:
    with pytest.raises(PluginNotFound, match="unknown classifier plugin 'x'; registered: none"):
        plugins.classifier("x")


def test_plugin_not_found_is_a_lookup_error_under_the_root() -> None:
    error = PluginNotFound("classifier", "x", ["b", "a"])
    assert isinstance(error, NotFound)
    assert isinstance(error, LookupError)
    assert isinstance(error, SupportflowError)
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.registered) == (str(error), ("a", "b"))


def test_a_lookup_by_a_name_that_is_not_a_string_is_refused(plugins: PluginRegistry) -> None:
    with pytest.raises(ValidationFailed) as caught:
        plugins.assignment(None)  # type: ignore[arg-type]
    assert caught.value.field == "name"


def test_names_refuses_an_unknown_kind(plugins: PluginRegistry) -> None:
    with pytest.raises(ValidationFailed) as caught:
        plugins.names("classifiers")  # type: ignore[arg-type]
    assert caught.value.field == "kind"


# -- isolation and the default registry ------------------------------------------------


def test_registries_are_isolated() -> None:
    one, two = PluginRegistry(), PluginRegistry()
    one.register_assignment("first", First)
    assert "first" in one.names("assignment")
    assert "first" not in two.names("assignment")
    assert "first" not in registry_module.default_registry.names("assignment")


def test_a_copy_is_isolated_from_its_original() -> None:
    original = PluginRegistry()
    original.register_assignment("first", First)
    copy = original.copy()
    copy.register_assignment("second", First)
    original.register_assignment("third", First)
    assert copy.names("assignment") == ("default", "first", "round-robin", "second", "standard")
    assert "second" not in original.names("assignment")


@pytest.fixture
def default_registry(monkeypatch: pytest.MonkeyPatch) -> PluginRegistry:
    """The module functions' registry, replaced for the test by a fresh one."""
    fresh = PluginRegistry()
    monkeypatch.setattr(registry_module, "default_registry", fresh)
    return fresh


def test_the_module_functions_use_the_default_registry(default_registry: PluginRegistry) -> None:
    registry_module.register_assignment("first", First)
    registry_module.register_classifier("quiet", Quiet())
    assert "first" in default_registry.names("assignment")
    assert isinstance(registry_module.assignment("first", note="x"), First)
    assert isinstance(registry_module.classifier("quiet"), Quiet)
    assert registry_module.names("classifier") == default_registry.names("classifier")
    with pytest.raises(PluginNotFound):
        registry_module.assignment("missing")


def test_the_default_registry_holds_the_shipped_plugins() -> None:
    names = registry_module.default_registry.names("assignment")
    assert {"default", "standard", "round-robin"} <= set(names)
    assert isinstance(registry_module.classifier("keywords"), KeywordClassifier)


# -- thread safety -----------------------------------------------------------------------


def run_together(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` for each i in ``count`` threads started together; the errors raised."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def target(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_registrations_all_land(plugins: PluginRegistry) -> None:
    errors = run_together(16, lambda i: plugins.register_assignment(f"p{i:02}", First))
    assert errors == []
    assert plugins.names("assignment") == tuple(f"p{i:02}" for i in range(16))


def test_concurrent_registrations_of_one_name_let_exactly_one_win(
    plugins: PluginRegistry,
) -> None:
    errors = run_together(16, lambda i: plugins.register_assignment("only", First))
    assert len(errors) == 15
    assert all(isinstance(e, ValidationFailed) for e in errors)


# -- entry points ------------------------------------------------------------------------

PLUGIN_MODULE = "supportflow_test_plugins"
PLUGIN_SOURCE = """
from supportflow.routing import Decision


class First:
    def __init__(self, note="from an entry point"):
        self.note = note

    def decide(self, request, pool):
        return Decision(None, "queued: " + self.note)


class Quiet:
    def classify(self, ticket):
        return None


def make_first(note="made by an entry point"):
    return First(note)


quiet = Quiet()
number = 42


class Filter:
    def admits(self, candidate, request):
        return True

    def describe(self, request):
        return None
"""


@pytest.fixture
def plugin_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A module on ``sys.path`` holding plugins (good and bad) for entry points to name."""
    (tmp_path / f"{PLUGIN_MODULE}.py").write_text(PLUGIN_SOURCE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield PLUGIN_MODULE
    sys.modules.pop(PLUGIN_MODULE, None)


def install(monkeypatch: pytest.MonkeyPatch, points: dict[str, list[tuple[str, str]]]) -> None:
    """Make ``importlib.metadata.entry_points(group=g)`` answer ``(name, value)`` pairs."""

    def entry_points(*, group: str) -> list[importlib.metadata.EntryPoint]:
        return [
            importlib.metadata.EntryPoint(name=name, value=value, group=group)
            for name, value in points.get(group, [])
        ]

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)


def test_discover_registers_entry_points_under_their_names(
    plugins: PluginRegistry, plugin_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(
        monkeypatch,
        {
            "supportflow.assignment": [
                ("first", f"{plugin_module}:First"),
                ("made", f"{plugin_module}:make_first"),
            ],
            "supportflow.classifiers": [("quiet", f"{plugin_module}:quiet")],
        },
    )
    found = plugins.discover()
    assert found == {"classifier": ("quiet",), "assignment": ("first", "made")}
    assert decide(plugins.assignment("first")).reason == "queued: from an entry point"
    assert decide(plugins.assignment("made", note="hello")).reason == "queued: hello"
    assert plugins.classifier("quiet").classify(TICKET) is None


def test_discover_again_is_harmless(
    plugins: PluginRegistry, plugin_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, {"supportflow.assignment": [("first", f"{plugin_module}:First")]})
    plugins.discover()
    assert plugins.discover() == {"classifier": (), "assignment": ()}
    assert plugins.names("assignment") == ("first",)


def test_discover_with_nothing_installed_registers_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install(monkeypatch, {})
    plugins = PluginRegistry()
    before = plugins.names("assignment"), plugins.names("classifier")
    assert plugins.discover() == {"classifier": (), "assignment": ()}
    assert (plugins.names("assignment"), plugins.names("classifier")) == before


def test_broken_entry_points_are_all_reported_and_nothing_is_registered(
    plugins: PluginRegistry, plugin_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(
        monkeypatch,
        {
            "supportflow.assignment": [
                ("good", f"{plugin_module}:First"),
                ("no-module", "supportflow_no_such_module:First"),
                ("no-attribute", f"{plugin_module}:Missing"),
                ("number", f"{plugin_module}:number"),
                ("filter", f"{plugin_module}:Filter"),
                ("Bad Name", f"{plugin_module}:First"),
            ],
            "supportflow.classifiers": [("strategy", f"{plugin_module}:First")],
        },
    )
    with pytest.raises(ValidationFailed) as caught:
        plugins.discover()
    failures = dict(caught.value.errors)
    assert set(failures) == {
        "supportflow.assignment:Bad Name",
        "supportflow.assignment:filter",
        "supportflow.assignment:no-attribute",
        "supportflow.assignment:no-module",
        "supportflow.assignment:number",
        "supportflow.classifiers:strategy",
    }
    assert (
        "cannot load 'supportflow_no_such_module:First': ModuleNotFoundError"
        in (failures["supportflow.assignment:no-module"])
    )
    assert "AttributeError" in failures["supportflow.assignment:no-attribute"]
    assert "int has no decide(request, pool)" in failures["supportflow.assignment:number"]
    assert "a filter is a pipeline step" in failures["supportflow.assignment:filter"]
    assert "lowercase letter or digit" in failures["supportflow.assignment:Bad Name"]
    assert "class First has no classify()" in failures["supportflow.classifiers:strategy"]
    assert all(r.endswith("from unknown distribution)") for r in failures.values())
    assert isinstance(caught.value.__cause__, AttributeError)  # the first failure's cause
    assert plugins.names("assignment") == plugins.names("classifier") == ()


def test_an_entry_point_taking_a_registered_name_is_refused(
    plugin_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(monkeypatch, {"supportflow.assignment": [("default", f"{plugin_module}:First")]})
    plugins = PluginRegistry()
    with pytest.raises(ValidationFailed, match=r"the name is taken \(shipped with supportflow"):
        plugins.discover()
    assert isinstance(plugins.assignment("default"), Pipeline)


def test_two_entry_points_of_one_name_are_refused(
    plugins: PluginRegistry, plugin_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    install(
        monkeypatch,
        {
            "supportflow.assignment": [
                ("first", f"{plugin_module}:First"),
                ("first", f"{plugin_module}:make_first"),
            ]
        },
    )
    with pytest.raises(ValidationFailed, match="the name is taken") as caught:
        plugins.discover()
    assert caught.value.field == "supportflow.assignment:first"
    assert plugins.names("assignment") == ()


def test_discover_skips_blocked_names(plugin_module: str, monkeypatch: pytest.MonkeyPatch) -> None:
    install(
        monkeypatch,
        {
            "supportflow.assignment": [
                ("default", f"{plugin_module}:First"),
                ("broken", "supportflow_no_such_module:First"),
                ("first", f"{plugin_module}:First"),
            ]
        },
    )
    plugins = PluginRegistry()
    assert plugins.discover(block=["default", "broken"]) == {
        "classifier": (),
        "assignment": ("first",),
    }
    assert isinstance(plugins.assignment("default"), Pipeline)


def test_block_must_be_a_list_of_names(plugins: PluginRegistry) -> None:
    with pytest.raises(ValidationFailed) as caught:
        plugins.discover(block="default")
    assert caught.value.field == "block"


def test_discover_names_the_distribution(
    plugins: PluginRegistry, plugin_module: str, tmp_path: Path
) -> None:
    """Through the real ``importlib.metadata``: a dist-info directory on ``sys.path``."""
    info = tmp_path / "acme_support-1.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: acme-support\nVersion: 1.2.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            f"""\
            [supportflow.assignment]
            acme-first = {plugin_module}:First
            acme-broken = {plugin_module}:number
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as caught:
        plugins.discover()
    assert caught.value.errors == (
        (
            "supportflow.assignment:acme-broken",
            "int has no decide(request, pool) method and is not a factory of one "
            f"(entry point {plugin_module}:number from acme-support 1.2.0)",
        ),
    )
    assert plugins.discover(block=["acme-broken"])["assignment"] == ("acme-first",)


def test_nothing_is_discovered_at_import() -> None:
    script = textwrap.dedent(
        """\
        import importlib.metadata as m

        read = m.entry_points

        def entry_points(**kw):
            assert not kw.get("group", "").startswith("supportflow."), "read at import"
            return read(**kw)

        m.entry_points = entry_points
        import supportflow.routing.registry
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
