"""Plugins by name: classifiers and assignment strategies, registered in code or discovered.

A host (or a configuration file) names a plugin instead of importing it::

    from supportflow.routing import registry

    desk = SupportDesk(
        store,
        classifier=registry.classifier("keywords"),
        assignment=registry.assignment("round-robin", calendars=calendars),
    )

A plugin is registered as a ready object (anything with ``classify(ticket)``, or with
``decide(request, pool)``) or as a factory: a class defining that method, or a function
returning such an object. ``classifier(name, **options)`` and ``assignment(name,
**options)`` call a factory with the options each time (a new object per call) and
return a ready object as it is (shared; it takes no options). Registration is checked on
the spot: the name, the plugin's method, a name already taken (``replace=True`` to
replace it). What a factory returns is checked when it is called.

Names are lowercase: a letter or digit, then letters, digits, ``_``, ``.`` or ``-``
(``round-robin``, ``acme.vip_first``). An unknown name raises :class:`PluginNotFound`
listing the names registered; every other refusal is a
:class:`~supportflow.errors.ValidationFailed` naming the field.

Third-party packages publish plugins as entry points in the groups
``supportflow.classifiers`` and ``supportflow.assignment``. Nothing is loaded until the
host calls :func:`discover` (never at import): every entry point is loaded and checked
first, and if any fails the error lists them all and nothing is registered.

Shipped: classifiers ``keywords`` (``KeywordClassifier``), ``language-only``
(``LanguageOnlyClassifier``), ``priority`` (``PriorityDetector``) and ``trainable``
(``TrainableClassifier``, untrained: it abstains until fitted); strategies ``default``
(``default_strategy()``), ``standard`` (``standard_pipeline(**options)``) and
``round-robin`` (``standard_pipeline(round_robin=True, **options)``).

The module functions use one process-wide :data:`default_registry`; a
:class:`PluginRegistry` of one's own (``PluginRegistry()``, or ``default_registry.copy()``)
is isolated from it, which is what tests want.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, Literal, TypeGuard

import attrs

from ..errors import NotFound, ValidationFailed
from .assignment import AssignmentStrategy
from .defaults import LanguageOnlyClassifier, default_strategy
from .keywords import KeywordClassifier
from .priority import PriorityDetector
from .protocols import Classifier
from .steps import standard_pipeline
from .trainable import TrainableClassifier

__all__ = [
    "ENTRY_POINT_GROUPS",
    "AssignmentPlugin",
    "ClassifierPlugin",
    "PluginKind",
    "PluginNotFound",
    "PluginRegistry",
    "assignment",
    "classifier",
    "default_registry",
    "discover",
    "names",
    "register_assignment",
    "register_classifier",
]

PluginKind = Literal["classifier", "assignment"]
"""The kinds of plugin the registry keeps."""

ClassifierPlugin = Classifier | Callable[..., Classifier]
"""A classifier, or a class or function that makes one."""

AssignmentPlugin = AssignmentStrategy | Callable[..., AssignmentStrategy]
"""An assignment strategy, or a class or function that makes one."""

ENTRY_POINT_GROUPS: Mapping[PluginKind, str] = {
    "classifier": "supportflow.classifiers",
    "assignment": "supportflow.assignment",
}
"""The entry-point group :func:`discover` reads for each kind."""

_NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,99}")
_NAME_RULE = "must be 1-100 characters: a lowercase letter or digit, then a-z, 0-9, _ . -"

_METHOD: Mapping[PluginKind, str] = {"classifier": "classify", "assignment": "decide"}
_SIGNATURE: Mapping[PluginKind, str] = {
    "classifier": "classify(ticket)",
    "assignment": "decide(request, pool)",
}


class PluginNotFound(NotFound):
    """No plugin of this kind is registered under the name; ``registered`` lists those that are.

    The message reads ``unknown assignment plugin 'rr'; registered: default, round-robin,
    standard``.
    """

    kind = "plugin"

    def __init__(self, plugin_kind: PluginKind, name: str, registered: Iterable[str]) -> None:
        self.plugin_kind = plugin_kind
        self.registered: tuple[str, ...] = tuple(sorted(registered))
        super().__init__(name)
        listed = ", ".join(self.registered) or "none"
        self.args = (f"unknown {plugin_kind} plugin {name!r}; registered: {listed}",)


@attrs.frozen(slots=True)
class _Entry:
    """One registration: the plugin, whether it is a factory, and where it came from."""

    plugin: Any
    factory: bool
    origin: str


class PluginRegistry:
    """Classifiers and assignment strategies by name, for one process or one test.

    ``PluginRegistry()`` starts with the shipped plugins (``builtins=False``: empty).
    Registering and looking up are safe from several threads. See the module docstring
    for what a plugin is and how names are checked.
    """

    def __init__(self, *, builtins: bool = True) -> None:
        self._lock = threading.RLock()
        self._entries: dict[PluginKind, dict[str, _Entry]] = {"classifier": {}, "assignment": {}}
        if builtins:
            for kind, name, plugin in _BUILTINS:
                self._register(kind, name, plugin, replace=False, origin="shipped with supportflow")

    def __repr__(self) -> str:
        with self._lock:
            counts = {kind: len(found) for kind, found in self._entries.items()}
        return (
            f"PluginRegistry(classifiers={counts['classifier']}, assignment={counts['assignment']})"
        )

    def copy(self) -> PluginRegistry:
        """An isolated registry holding the same registrations as this one, now."""
        twin = PluginRegistry(builtins=False)
        with self._lock:
            for kind, found in self._entries.items():
                twin._entries[kind] = dict(found)
        return twin

    # -- registering -------------------------------------------------------------------

    def register_classifier(
        self, name: str, plugin: ClassifierPlugin, *, replace: bool = False
    ) -> None:
        """Register a classifier (or a factory of one) under ``name``.

        ``ValidationFailed`` for a bad name, a plugin without ``classify``, or a name
        already registered (unless ``replace``).
        """
        self._register("classifier", name, plugin, replace=replace, origin="registered in code")

    def register_assignment(
        self, name: str, plugin: AssignmentPlugin, *, replace: bool = False
    ) -> None:
        """Register an assignment strategy (or a factory of one) under ``name``.

        ``ValidationFailed`` for a bad name, a plugin without ``decide``, or a name
        already registered (unless ``replace``).
        """
        self._register("assignment", name, plugin, replace=replace, origin="registered in code")

    def _register(
        self, kind: PluginKind, name: object, plugin: object, *, replace: bool, origin: str
    ) -> None:
        checked = _checked_name(name)
        entry = _Entry(plugin, _is_factory(kind, plugin), origin)
        if not isinstance(replace, bool):
            raise ValidationFailed("replace", "must be true or false")
        with self._lock:
            found = self._entries[kind]
            if checked in found and not replace:
                raise ValidationFailed(
                    "name",
                    f"{kind} plugin {checked!r} is already registered ({found[checked].origin}); "
                    "pass replace=True to replace it",
                )
            found[checked] = entry

    # -- looking up --------------------------------------------------------------------

    def names(self, kind: PluginKind) -> tuple[str, ...]:
        """The names registered for ``kind`` (``"classifier"`` or ``"assignment"``), sorted."""
        with self._lock:
            return tuple(sorted(self._entries[_checked_kind(kind)]))

    def classifier(self, name: str, **options: Any) -> Classifier:
        """The classifier registered as ``name``, made with ``options`` if it is a factory.

        ``PluginNotFound`` for an unknown name; ``ValidationFailed`` for options a
        factory does not take, options given to a ready object, or a factory that
        returned something without ``classify``.
        """
        made = self._make("classifier", name, options)
        if not _is_classifier(made):
            raise ValidationFailed("plugin", _bad_product("classifier", name, made))
        return made

    def assignment(self, name: str, **options: Any) -> AssignmentStrategy:
        """The assignment strategy registered as ``name``, made with ``options`` if a factory.

        ``PluginNotFound`` for an unknown name; ``ValidationFailed`` for options a
        factory does not take, options given to a ready object, or a factory that
        returned something without ``decide``.
        """
        made = self._make("assignment", name, options)
        if not _is_strategy(made):
            raise ValidationFailed("plugin", _bad_product("assignment", name, made))
        return made

    def _make(self, kind: PluginKind, name: object, options: dict[str, Any]) -> object:
        if not isinstance(name, str):
            raise ValidationFailed("name", f"must be a string, not {type(name).__name__}")
        with self._lock:
            found = self._entries[kind]
            entry = found.get(name)
            if entry is None:
                raise PluginNotFound(kind, name, found)
        if not entry.factory:
            if options:
                raise ValidationFailed(
                    "options",
                    f"{kind} plugin {name!r} is a ready object and takes no options "
                    f"(got {', '.join(sorted(options))})",
                )
            return entry.plugin
        _check_options(kind, name, entry.plugin, options)
        return entry.plugin(**options)

    # -- entry points ------------------------------------------------------------------

    def discover(self, *, block: Iterable[str] = ()) -> dict[PluginKind, tuple[str, ...]]:
        """Register the plugins installed packages publish as entry points.

        Reads the groups ``supportflow.classifiers`` and ``supportflow.assignment``;
        each plugin is registered under its entry point's name. Names in ``block`` are
        skipped in both groups. Calling again is harmless: an entry point already
        registered from the same place is skipped. Returns the names newly registered,
        by kind.

        All or nothing: an entry point that cannot be imported, does not hold a plugin,
        has a bad name, or takes a name already registered from elsewhere raises one
        ``ValidationFailed`` listing every such entry point with its distribution, and
        nothing is registered.
        """
        if isinstance(block, str):
            raise ValidationFailed("block", "must be a list of plugin names, not one string")
        blocked = frozenset(block)
        loaded: list[tuple[PluginKind, str, _Entry]] = []
        failures: list[tuple[str, str]] = []
        first_cause: BaseException | None = None
        for kind, group in ENTRY_POINT_GROUPS.items():
            for point in sorted(importlib.metadata.entry_points(group=group), key=_point_key):
                if point.name in blocked:
                    continue
                origin = _origin(point)
                try:
                    name = _checked_name(point.name)
                    plugin = _load(point)
                    loaded.append((kind, name, _Entry(plugin, _is_factory(kind, plugin), origin)))
                except ValidationFailed as exc:
                    failures.append((f"{group}:{point.name}", f"{exc.reason} ({origin})"))
                    first_cause = first_cause or exc.__cause__
        with self._lock:
            added: dict[PluginKind, list[str]] = {"classifier": [], "assignment": []}
            taking: dict[tuple[PluginKind, str], _Entry] = {}
            for kind, name, entry in loaded:
                current = taking.get((kind, name)) or self._entries[kind].get(name)
                if current is None:
                    taking[(kind, name)] = entry
                    added[kind].append(name)
                elif current.origin != entry.origin:
                    failures.append(
                        (
                            f"{ENTRY_POINT_GROUPS[kind]}:{name}",
                            f"{entry.origin}: the name is taken ({current.origin}); "
                            "block it or remove one of them",
                        )
                    )
            if failures:
                error = ValidationFailed(failures[0][0], failures[0][1], errors=failures)
                raise error from first_cause
            for (kind, name), entry in taking.items():
                self._entries[kind][name] = entry
        return {kind: tuple(sorted(found)) for kind, found in added.items()}


# -- checks ----------------------------------------------------------------------------


def _checked_name(name: object) -> str:
    if not isinstance(name, str) or not _NAME_PATTERN.fullmatch(name):
        shown = f"{name!r} " if isinstance(name, str) else ""
        raise ValidationFailed("name", f"{shown}{_NAME_RULE}".strip())
    return name


def _checked_kind(kind: object) -> PluginKind:
    if kind == "classifier":
        return "classifier"
    if kind == "assignment":
        return "assignment"
    raise ValidationFailed("kind", "must be 'classifier' or 'assignment'")


def _is_factory(kind: PluginKind, plugin: object) -> bool:
    """Whether ``plugin`` is a factory (``False``: a ready object); refuses anything else."""
    method = _METHOD[kind]
    if isinstance(plugin, type):
        if callable(getattr(plugin, method, None)):
            return True
        problem = f"class {plugin.__name__} has no {method}() method"
    elif callable(getattr(plugin, method, None)):
        return False
    elif callable(plugin):
        return True
    else:
        problem = (
            f"{type(plugin).__name__} has no {_SIGNATURE[kind]} method and is not a factory of one"
        )
    if kind == "assignment" and callable(getattr(plugin, "admits", None)):
        problem += "; a filter is a pipeline step: register a factory returning Pipeline([...])"
    raise ValidationFailed("plugin", problem)


def _check_options(kind: PluginKind, name: str, factory: Any, options: dict[str, Any]) -> None:
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # some callables have no signature to read
        return
    try:
        signature.bind(**options)
    except TypeError as exc:
        takes = [
            p.name
            for p in signature.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        ]
        listed = ", ".join(takes) or "none"
        raise ValidationFailed(
            "options", f"{kind} plugin {name!r} refused the options: {exc} (it takes: {listed})"
        ) from None


def _is_classifier(value: object) -> TypeGuard[Classifier]:
    return not isinstance(value, type) and callable(getattr(value, "classify", None))


def _is_strategy(value: object) -> TypeGuard[AssignmentStrategy]:
    return not isinstance(value, type) and callable(getattr(value, "decide", None))


def _bad_product(kind: PluginKind, name: str, made: object) -> str:
    return (
        f"{kind} plugin {name!r} returned a {type(made).__name__} object, "
        f"which has no {_SIGNATURE[kind]} method"
    )


# -- entry points ----------------------------------------------------------------------


def _point_key(point: importlib.metadata.EntryPoint) -> tuple[str, str]:
    return (point.name, point.value)


def _origin(point: importlib.metadata.EntryPoint) -> str:
    dist = getattr(point, "dist", None)
    source = f"{dist.name} {dist.version}" if dist is not None else "unknown distribution"
    return f"entry point {point.value} from {source}"


def _load(point: importlib.metadata.EntryPoint) -> object:
    try:
        return point.load()
    except Exception as exc:
        raise ValidationFailed(
            "plugin", f"cannot load {point.value!r}: {type(exc).__name__}: {exc}"
        ) from exc


# -- the default registry --------------------------------------------------------------

_BUILTINS: tuple[tuple[PluginKind, str, object], ...] = (
    ("classifier", "keywords", KeywordClassifier),
    ("classifier", "language-only", LanguageOnlyClassifier),
    ("classifier", "priority", PriorityDetector),
    ("classifier", "trainable", TrainableClassifier),
    ("assignment", "default", default_strategy),
    ("assignment", "standard", standard_pipeline),
    ("assignment", "round-robin", partial(standard_pipeline, round_robin=True)),
)

default_registry = PluginRegistry()
"""The process-wide registry the module functions use, holding the shipped plugins."""


def register_classifier(name: str, plugin: ClassifierPlugin, *, replace: bool = False) -> None:
    """Register a classifier (or a factory of one) in the default registry."""
    default_registry.register_classifier(name, plugin, replace=replace)


def register_assignment(name: str, plugin: AssignmentPlugin, *, replace: bool = False) -> None:
    """Register an assignment strategy (or a factory of one) in the default registry."""
    default_registry.register_assignment(name, plugin, replace=replace)


def classifier(name: str, **options: Any) -> Classifier:
    """The classifier registered as ``name`` in the default registry."""
    return default_registry.classifier(name, **options)


def assignment(name: str, **options: Any) -> AssignmentStrategy:
    """The assignment strategy registered as ``name`` in the default registry."""
    return default_registry.assignment(name, **options)


def names(kind: PluginKind) -> tuple[str, ...]:
    """The names registered for ``kind`` in the default registry, sorted."""
    return default_registry.names(kind)


def discover(*, block: Iterable[str] = ()) -> dict[PluginKind, tuple[str, ...]]:
    """Register the entry-point plugins of installed packages in the default registry."""
    return default_registry.discover(block=block)
