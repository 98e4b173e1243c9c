"""Importing an existing help center: JSON, JSON Lines, CSV or a folder of Markdown files.

Hosts rarely start with an empty knowledge base; they arrive with an export from another
help desk. These loaders read the usual export shapes as they are, mapping common field
names onto :class:`~supportflow.kb.articles.Article` fields; where a record has several,
the first non-empty one in this order wins:

===================  =====================================================
Article field        keys read
===================  =====================================================
``id``               ``id``, ``article_id``, ``slug``
``title``            ``title``, ``question``, ``name``
``body``             ``body``, ``content``, ``answer``; then, as HTML,
                     ``html_body``, ``body_html``
``tags``             ``tags``, ``labels``, ``keywords``, ``label_names``
``language``         ``language``, ``locale``, ``lang``
``product``          ``product``, ``section``, ``category``
``audience``         ``audience``, ``visibility``; ``internal`` (true/false)
``status``           ``status``, ``state``; ``draft`` (true/false)
``owner_id``         ``owner_id``, ``owner``, ``author``, ``author_id``
the rest             their own names (``created_at``, ``review_interval``, ...)
===================  =====================================================

Keys are matched case-insensitively, with spaces and hyphens read as underscores
(``"Last Reviewed At"``); other keys are ignored, since real exports carry many fields
supportflow has no use for.

How a record becomes an article:

- ``id`` as given (a number is read as its decimal string); without one, ``kb-`` and the
  first 12 hex digits of the SHA-256 of the normalised title (NFKC, case-folded, spaces
  collapsed), so importing the same export twice gives the same ids.
- ``body`` is kept verbatim, except under an HTML key (``html_body``, ``body_html``):
  tags are dropped, entities unescaped, and paragraphs, line breaks and list items kept as
  newlines.
- ``language`` is lower-cased to its primary subtag (``zh-CN``, ``zh_Hans``, ``zh-TW`` →
  ``zh``; ``en-US`` → ``en``). Without one it is detected from the title and body with
  :func:`supportflow.text.detect_language`: ``zh``, ``en`` or ``mixed`` as detected, and
  ``en`` when the text has no letters at all (``und``).
- ``status`` from ``status``, or ``draft: true`` → draft, else the loader's ``status``
  argument (published by default). ``audience`` from ``audience``/``visibility``
  (``public``/``internal``) or ``internal: true``.
- Timestamps must be ISO 8601 with a UTC offset; a naive one is refused, never assumed
  UTC. A missing ``created_at`` is ``now`` (or ``updated_at`` when that is earlier); a
  missing ``updated_at`` is ``now`` (or ``created_at`` when that is later).
  ``last_reviewed_at`` stays empty unless given, so imported published articles count as
  due for review (:func:`~supportflow.kb.articles.is_stale`) until someone confirms them;
  pass ``defaults={"last_reviewed_at": now}`` to count the import as a review.
- ``version`` is always 1: the article's history in supportflow starts at the import.
  supportflow's own fields (``review_interval``, votes, ``solved_ticket_ids``) are kept
  when present, so a ``model_dump(mode="json")`` export reads back as it was written
  (but for the version and a language tag's subtags).
- ``defaults`` fill fields a record leaves empty (e.g. ``{"product": "billing"}``).

Every refusal is a :class:`~supportflow.errors.ValidationFailed` naming where it is:
``articles[3].title`` (JSON), ``line 4: title`` (JSON Lines), ``row 5: title`` (CSV, as a
spreadsheet counts rows: the header is row 1) or ``billing/refunds.md: title``
(Markdown). Nothing is returned unless every record is valid, and two records with the
same id are refused, naming both.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from .._validate import aware, enum_value
from ..errors import ValidationFailed
from ..text import detect_language
from .articles import Article, ArticleStatus, Audience

__all__ = [
    "articles_from_csv",
    "articles_from_json",
    "articles_from_jsonl",
    "articles_from_markdown",
    "load_articles",
]

_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "article_id", "slug"),
    "title": ("title", "question", "name"),
    "body": ("body", "content", "answer"),
    "html_body": ("html_body", "body_html"),
    "tags": ("tags", "labels", "keywords", "label_names"),
    "language": ("language", "locale", "lang"),
    "product": ("product", "section", "category"),
    "audience": ("audience", "visibility"),
    "internal": ("internal",),
    "status": ("status", "state"),
    "draft": ("draft",),
    "owner_id": ("owner_id", "owner", "author", "author_id"),
    "created_at": ("created_at",),
    "updated_at": ("updated_at",),
    "last_reviewed_at": ("last_reviewed_at",),
    "review_interval": ("review_interval",),
    "helpful_votes": ("helpful_votes",),
    "unhelpful_votes": ("unhelpful_votes",),
    "solved_ticket_ids": ("solved_ticket_ids",),
}
"""Article field (or import-only flag) → the keys read for it, first non-empty one wins."""

_DEFAULTABLE = (
    "audience",
    "body",
    "created_at",
    "language",
    "last_reviewed_at",
    "owner_id",
    "product",
    "review_interval",
    "tags",
    "updated_at",
)
"""Fields ``defaults`` may fill; ids, titles and status (an argument of its own) may not."""

_FRONT_MATTER = "front matter key"
_TAG_SEPARATORS = re.compile("[,;，；、]")
_CSV_TAG_SEPARATORS = re.compile("[,;|，；、]")
_HTML_SPACE = re.compile("[ \t\n\r\f]+")
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_LANGUAGE = re.compile(r"^[a-z]{1,8}(?:-[a-z0-9]{1,8})*$")

Locate = Callable[[str], str]
"""Where a field of one record is, for error messages: ``"title"`` → ``"row 5: title"``."""


# -- public loaders ---------------------------------------------------------------------


def load_articles(
    path: str | os.PathLike[str],
    *,
    now: datetime,
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    defaults: Mapping[str, Any] | None = None,
) -> list[Article]:
    """The articles of a help-center export at ``path``, chosen by what the path is.

    A ``.json``, ``.jsonl``, ``.csv`` or ``.md`` file (UTF-8, a byte-order mark allowed),
    or a directory whose ``.md`` files are read recursively in order of their relative
    paths (hidden files and directories skipped; an empty directory gives ``[]``). Errors
    in a Markdown file name its path relative to the directory; a path that does not exist,
    cannot be read or is of another kind is refused on field ``path``. See the module docstring for
    how records map to articles.
    """
    if not isinstance(path, str | os.PathLike):
        raise ValidationFailed("path", f"must be a path, not {type(path).__name__}")
    target = Path(path)
    try:
        is_dir, exists = target.is_dir(), target.exists()
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte
        raise ValidationFailed("path", f"cannot be looked up ({exc.__class__.__name__})") from None
    if is_dir:
        return _load_directory(target, now=now, status=status, defaults=defaults)
    if not exists:
        raise ValidationFailed("path", f"{str(target)!r} does not exist")
    loaders = {
        ".json": articles_from_json,
        ".jsonl": articles_from_jsonl,
        ".csv": articles_from_csv,
    }
    suffix = target.suffix.lower()
    if suffix == ".md":
        record = _markdown_record(_read(target, "path"), target.name)
        options = _Options.of(now, status, defaults)
        return _build_all([record], options, key_kind=_FRONT_MATTER, tag_separators=_TAG_SEPARATORS)
    loader = loaders.get(suffix)
    if loader is None:
        raise ValidationFailed(
            "path", f"{str(target)!r} must be a .json, .jsonl, .csv or .md file or a directory"
        )
    return loader(_read(target, "path"), now=now, status=status, defaults=defaults)


def articles_from_json(
    text: str | bytes,
    *,
    now: datetime,
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    defaults: Mapping[str, Any] | None = None,
) -> list[Article]:
    """The articles of a JSON export: a list of objects, or an object with an ``articles`` list.

    Errors name the record by its index: ``articles[3].title``.
    """
    options = _Options.of(now, status, defaults)
    content = _decode(text, "json")
    try:
        data = json.loads(content)
    except RecursionError:
        raise ValidationFailed("json", "is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, and numbers too long to convert
        raise ValidationFailed("json", f"is not valid JSON: {exc}") from None
    if isinstance(data, Mapping):
        if "articles" not in data:
            raise ValidationFailed("json", 'must be a list of articles or have an "articles" list')
        data = data["articles"]
        if not isinstance(data, list):
            raise ValidationFailed("articles", "must be a list of objects")
    elif not isinstance(data, list):
        raise ValidationFailed("json", 'must be a list of articles or have an "articles" list')
    records = ((f"articles[{i}]", _dotted(f"articles[{i}]"), item) for i, item in enumerate(data))
    return _build_all(records, options, key_kind="key", tag_separators=_TAG_SEPARATORS)


def articles_from_jsonl(
    text: str | bytes,
    *,
    now: datetime,
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    defaults: Mapping[str, Any] | None = None,
) -> list[Article]:
    """The articles of a JSON Lines export: one object per line, blank lines skipped.

    Errors name the line as an editor counts it: ``line 4: title``.
    """
    options = _Options.of(now, status, defaults)
    parsed: list[tuple[str, Locate, Any]] = []
    for number, line in enumerate(_decode(text, "jsonl").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"line {number}"
        try:
            parsed.append((where, _labelled(where), json.loads(line)))
        except RecursionError:
            raise ValidationFailed(where, "is nested too deeply") from None
        except ValueError as exc:
            raise ValidationFailed(where, f"is not valid JSON: {exc}") from None
    return _build_all(parsed, options, key_kind="key", tag_separators=_TAG_SEPARATORS)


def articles_from_csv(
    text: str | bytes,
    *,
    now: datetime,
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    defaults: Mapping[str, Any] | None = None,
) -> list[Article]:
    """The articles of a CSV export: a header row of field names, then one article per row.

    The delimiter is the one of ``,``, ``;`` and tab that the header row uses most (a
    comma on a tie), as spreadsheets in different locales write them. Tags may be
    separated by ``,``, ``;`` or ``|``. Empty cells count as absent and rows of empty
    cells are skipped. Errors name the row as a spreadsheet counts it (the header is row
    1): ``row 5: title``.
    """
    options = _Options.of(now, status, defaults)
    content = _decode(text, "csv")
    if not content.strip():
        return []
    first_line = content.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=first_line.count)
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=True)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise ValidationFailed("csv", f"line {reader.line_num}: {exc}") from None
    header = [_key(cell) for cell in rows[0]]
    seen: dict[str, int] = {}
    for column, name in enumerate(header, start=1):
        if name and name in seen:
            raise ValidationFailed(
                "row 1", f"column {column} repeats column {seen[name]} ({rows[0][column - 1]!r})"
            )
        seen[name] = column
    records: list[tuple[str, Locate, Any]] = []
    for number, cells in enumerate(rows[1:], start=2):
        where = f"row {number}"
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header) :]):
            raise ValidationFailed(
                where, f"has {len(cells)} cells but the header row names {len(header)} columns"
            )
        record = {name: cell for name, cell in zip(header, cells, strict=False) if name}
        records.append((where, _labelled(where), record))
    return _build_all(records, options, key_kind="column", tag_separators=_CSV_TAG_SEPARATORS)


def articles_from_markdown(
    text: str | bytes,
    *,
    source_name: str,
    now: datetime,
    status: ArticleStatus = ArticleStatus.PUBLISHED,
    defaults: Mapping[str, Any] | None = None,
) -> list[Article]:
    """The one article a Markdown file holds (a list, like every ``articles_from_*``).

    Optional front matter between ``---`` lines holds flat ``key: value`` lines, ``key:
    [a, b]`` lists and ``key:`` followed by ``- item`` lines; it is not YAML, and anything
    else there is refused with its line named. The title is the front matter's, else the
    first ``# `` heading (outside code fences; its line leaves the body), else
    ``source_name``'s file name. The body is the rest, kept as Markdown (leading blank
    lines and trailing whitespace dropped).
    Errors name ``source_name``: ``billing/refunds.md: title``.
    """
    if not isinstance(source_name, str):
        raise ValidationFailed(
            "source_name", f"must be a file name (str), not {type(source_name).__name__}"
        )
    options = _Options.of(now, status, defaults)
    records = [_markdown_record(text, source_name)]
    return _build_all(records, options, key_kind=_FRONT_MATTER, tag_separators=_TAG_SEPARATORS)


def _markdown_record(text: str | bytes, source_name: str) -> tuple[str, Locate, Any]:
    """A Markdown file as a record like a JSON object's, for the shared field mapping."""
    content = _decode(text, source_name).replace("\r\n", "\n")
    front, body = _front_matter(content, source_name)
    record: dict[str, Any] = dict(front)
    title_keys = _ALIASES["title"]
    if not any(_present(record.get(key)) for key in title_keys):
        heading, body = _take_heading(body)
        stem = Path(source_name).stem.replace("_", " ").replace("-", " ").strip()
        record["title"] = heading if heading is not None else stem
    if not any(_present(record.get(key)) for key in (*_ALIASES["body"], *_ALIASES["html_body"])):
        record["body"] = re.sub(r"\A(?:[ \t]*\n)+", "", body).rstrip()
    return source_name, _labelled(source_name), record


# -- reading ----------------------------------------------------------------------------


def _read(path: Path, field: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValidationFailed(field, f"{str(path)!r} cannot be read: {exc.strerror}") from None


def _decode(text: str | bytes, field: str) -> str:
    """The text, decoded as UTF-8 when bytes, without a leading byte-order mark."""
    if isinstance(text, bytes | bytearray):
        try:
            return bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationFailed(
                field, f"is not UTF-8 text (byte {exc.start}: {exc.reason})"
            ) from None
    if not isinstance(text, str):
        raise ValidationFailed(field, f"must be text or bytes, not {type(text).__name__}")
    return text.removeprefix("\ufeff")


def _load_directory(
    root: Path, *, now: datetime, status: ArticleStatus, defaults: Mapping[str, Any] | None
) -> list[Article]:
    options = _Options.of(now, status, defaults)
    found: list[tuple[str, Path]] = []
    for folder, dirs, files in os.walk(root, onerror=_walk_error):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.startswith(".") or not name.lower().endswith(".md"):
                continue
            full = Path(folder, name)
            found.append((full.relative_to(root).as_posix(), full))
    found.sort()
    records: list[tuple[str, Locate, Any]] = []
    for relative, full in found:
        records.append(_markdown_record(_read(full, relative), relative))
    return _build_all(records, options, key_kind=_FRONT_MATTER, tag_separators=_TAG_SEPARATORS)


def _walk_error(exc: OSError) -> None:
    raise ValidationFailed("path", f"{exc.filename!r} cannot be read: {exc.strerror}") from None


def _front_matter(content: str, source: str) -> tuple[dict[str, Any], str]:
    """The front matter's keys and values, and the text after it."""
    lines = content.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return {}, content
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].rstrip() in ("---", "..."))
    except StopIteration:
        raise ValidationFailed(
            f"{source}: line 1", "front matter has no closing '---' line"
        ) from None
    found: dict[str, Any] = {}
    list_key: str | None = None
    for number in range(2, end + 1):
        line = lines[number - 1].rstrip()
        where = f"{source}: line {number}"
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("- ") or stripped == "-":
            if list_key is None:
                raise ValidationFailed(where, "a '- item' line must follow a 'key:' line")
            found[list_key].append(_unquote(stripped[1:].strip()))
            continue
        key, colon, value = line.partition(":")
        if not colon or not key.strip() or line[:1].isspace():
            raise ValidationFailed(where, "front matter lines must read 'key: value'")
        name = _key(key)
        if name in found:
            raise ValidationFailed(where, f"repeats the front matter key {key.strip()!r}")
        value = value.strip()
        if not value:
            found[name] = []
            list_key = name
            continue
        list_key = None
        if value.startswith("[") and value.endswith("]"):
            inner = value[1:-1].strip()
            found[name] = [_unquote(item.strip()) for item in inner.split(",")] if inner else []
        else:
            found[name] = _unquote(value)
    return found, "\n".join(lines[end + 1 :])


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _take_heading(body: str) -> tuple[str | None, str]:
    """The first ``# `` heading outside code fences, and the body without its line."""
    lines = body.split("\n")
    fence: str | None = None
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(("```", "~~~")):
            marker = stripped[:3]
            fence = None if fence == marker else (fence or marker)
            continue
        if fence is None and line.startswith("# ") and line[2:].strip():
            title = line[2:].strip().rstrip("#").strip() or line[2:].strip()
            after = i + 2 if i + 1 < len(lines) and not lines[i + 1].strip() else i + 1
            return title, "\n".join(lines[:i] + lines[after:])
    return None, body


class _TextFromHtml(HTMLParser):
    """Collects an HTML fragment's text: blocks become paragraphs, ``<br>`` a newline."""

    _PARAGRAPHS = frozenset(
        {"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "ul", "ol"}
        | {"hr", "section", "article", "header", "footer", "dl", "figure"}
    )
    _LINES = frozenset({"div", "li", "tr", "dt", "dd", "br", "caption"})
    _HIDDEN = frozenset({"script", "style", "head", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._owed = 0  # newlines to write before the next text
        self._hidden = 0
        self._pre = 0
        self._bullet = False

    def _block(self, tag: str) -> None:
        if tag in self._PARAGRAPHS:
            self._owed = max(self._owed, 2)
        elif tag in self._LINES:
            self._owed = max(self._owed, 1)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self._owed = min(self._owed + 1, 2) if self.parts else 0
        else:
            self._block(tag)
            self._pre += tag == "pre"
            self._bullet = self._bullet or tag == "li"

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            return
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden = max(self._hidden - 1, 0)
        elif tag != "br":
            self._block(tag)
            if tag == "pre":
                self._pre = max(self._pre - 1, 0)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        data = data.replace("\xa0", " ")  # &nbsp; is layout; a plain space reads and searches
        if not self._pre:
            data = _HTML_SPACE.sub(" ", data)
        at_line_start = not self.parts or self._owed > 0 or self.parts[-1].endswith("\n")
        if at_line_start:
            data = data.lstrip(" ")
        if not data:
            return
        if self._owed and self.parts:
            self.parts.append("\n" * self._owed)
        self._owed = 0
        if self._bullet:
            self.parts.append("- ")
            self._bullet = False
        self.parts.append(data)

    def text(self) -> str:
        lines = "".join(self.parts).split("\n")
        return "\n".join(line.rstrip() for line in lines).strip()


def _html_to_text(field: str, html: str) -> str:
    parser = _TextFromHtml()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError) as exc:  # _markupbase asserts on odd declarations
        raise ValidationFailed(field, f"is not readable HTML: {exc}") from None
    return parser.text()


# -- records to articles ----------------------------------------------------------------


class _Options:
    """The loader's arguments, checked once per import."""

    __slots__ = ("defaults", "now", "status")

    def __init__(self, now: datetime, status: ArticleStatus, defaults: dict[str, Any]) -> None:
        self.now = now
        self.status = status
        self.defaults = defaults

    @classmethod
    def of(
        cls, now: datetime, status: ArticleStatus | str, defaults: Mapping[str, Any] | None
    ) -> _Options:
        moment = aware("now", now)
        chosen = enum_value("status", ArticleStatus, status)
        given: dict[str, Any] = {}
        if defaults is not None:
            if not isinstance(defaults, Mapping):
                raise ValidationFailed("defaults", "must be a mapping of field to value")
            for name, value in defaults.items():
                if name not in _DEFAULTABLE:
                    raise ValidationFailed(
                        f"defaults.{name}", f"cannot be defaulted; use one of {_DEFAULTABLE}"
                    )
                given[name] = value
            parsed = _fields(given, _dotted("defaults"), {}, "key", _TAG_SEPARATORS, html=False)
            given = {name: parsed[name] for name in given if name in parsed}
        return cls(moment, chosen, given)


def _dotted(prefix: str) -> Locate:
    return lambda field: f"{prefix}.{field}"


def _labelled(prefix: str) -> Locate:
    return lambda field: f"{prefix}: {field}"


def _key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip()).lower()


def _present(value: object) -> bool:
    """Whether a record gives a value: ``None``, ``""`` and ``[]`` are left for aliases."""
    return value is not None and value != "" and value != []


def _build_all(
    records: Iterable[tuple[str, Locate, Any]],
    options: _Options,
    *,
    key_kind: str,
    tag_separators: re.Pattern[str],
) -> list[Article]:
    articles: list[Article] = []
    positions: dict[str, str] = {}
    for where, locate, record in records:
        if not isinstance(record, Mapping):
            raise ValidationFailed(where, f"must be an object, not {_kind(record)}")
        article, derived = _article(record, locate, options, key_kind, tag_separators)
        _check_unique(article, derived, where, locate, positions)
        articles.append(article)
    return articles


def _check_unique(
    article: Article, derived: bool, where: str, locate: Locate, positions: dict[str, str]
) -> None:
    earlier = positions.setdefault(article.id, where)
    if earlier != where:
        why = "derived from a title equal to theirs" if derived else "ids must be unique"
        raise ValidationFailed(locate("id"), f"{article.id!r} is also the id of {earlier} ({why})")


def _article(
    raw: Mapping[str, Any],
    locate: Locate,
    options: _Options,
    key_kind: str,
    tag_separators: re.Pattern[str],
) -> tuple[Article, bool]:
    """The record's article, and whether its id was derived from the title."""
    record = {_key(str(k)): v for k, v in raw.items()}
    sources: dict[str, str] = {}
    data = _fields(record, locate, sources, key_kind, tag_separators, html=True)
    for name, value in options.defaults.items():
        data.setdefault(name, value)

    if "title" not in data:
        names = ", ".join(_ALIASES["title"])
        raise ValidationFailed(locate("title"), f"is required (give one of: {names})")
    derived = "id" not in data
    if derived:
        data["id"] = _derived_id(data["title"])
    data.setdefault("body", "")
    if "language" not in data:
        detected = detect_language(f"{data['title']}\n{data['body']}")
        data["language"] = "en" if detected == "und" else detected
    data.setdefault("status", options.status)
    created, updated = data.get("created_at"), data.get("updated_at")
    if created is None:
        created = updated if updated is not None and updated < options.now else options.now
    if updated is None:
        updated = max(created, options.now)
    if updated < created:
        raise ValidationFailed(locate("updated_at"), "must not be before created_at")
    data["created_at"], data["updated_at"] = created, updated
    data["version"] = 1
    try:
        return Article.model_validate(data), derived
    except ValidationFailed as exc:
        errors = []
        for field, reason in exc.errors:
            top = field.split(".", 1)[0]
            source = sources.get(top, top)
            note = f" ({key_kind} {source!r})" if source != top else ""
            errors.append((locate(field), reason + note))
        raise ValidationFailed(errors[0][0], errors[0][1], errors=errors) from None


def _derived_id(title: str) -> str:
    """A stable id for an article exported without one: re-imports give the same id."""
    normal = " ".join(unicodedata.normalize("NFKC", title).casefold().split())
    return "kb-" + hashlib.sha256(normal.encode("utf-8")).hexdigest()[:12]


def _fields(
    record: Mapping[str, Any],
    locate: Locate,
    sources: dict[str, str],
    key_kind: str,
    tag_separators: re.Pattern[str],
    *,
    html: bool,
) -> dict[str, Any]:
    """The article fields a record gives, parsed; absent or empty ones are left out.

    ``sources`` learns which key gave each field, so errors can say ``(column 'question')``.
    """

    def parse(name: str, parser: Callable[[str, Any], Any], field: str | None = None) -> Any:
        field = field or name
        for key in _ALIASES[name]:
            if _present(record.get(key)):
                sources[field] = key
                try:
                    return parser(locate(field), record[key])
                except ValidationFailed as exc:
                    raise _noted(exc, key_kind, key, field) from None
        return None

    def tags(field: str, value: object) -> tuple[str, ...]:
        return _tags(field, value, tag_separators)

    def listed(field: str, value: object) -> object:
        _check_unicode(field, value)
        return _split(value, tag_separators) if isinstance(value, str) else value

    def passed(field: str, value: object) -> object:
        _check_unicode(field, value)
        return value

    parsers: dict[str, Callable[[str, Any], Any]] = {
        "id": _identifier,
        "title": lambda field, value: _string(field, value).strip(),
        "body": _string,
        "tags": tags,
        "language": _language,
        "product": lambda field, value: _string(field, value).strip(),
        "owner_id": _identifier,
        "audience": lambda field, value: _enum(field, Audience, value),
        "status": lambda field, value: _enum(field, ArticleStatus, value),
        "created_at": _timestamp,
        "updated_at": _timestamp,
        "last_reviewed_at": _timestamp,
        "review_interval": passed,
        "helpful_votes": passed,
        "unhelpful_votes": passed,
        "solved_ticket_ids": listed,
    }
    found = {name: parse(name, parser) for name, parser in parsers.items()}
    data = {name: value for name, value in found.items() if value is not None}
    if html and "body" not in data:
        text = parse("html_body", lambda f, v: _html_to_text(f, _string(f, v)), field="body")
        if text is not None:
            data["body"] = text
    internal = parse("internal", _flag)
    if internal is not None:
        flagged = Audience.INTERNAL if internal else Audience.PUBLIC
        if data.setdefault("audience", flagged) is not flagged:
            raise ValidationFailed(locate("internal"), f"contradicts audience {data['audience']}")
    if parse("draft", _flag) and data.setdefault("status", ArticleStatus.DRAFT) is not (
        ArticleStatus.DRAFT
    ):
        raise ValidationFailed(locate("draft"), f"contradicts status {data['status']}")
    return data


def _noted(exc: ValidationFailed, key_kind: str, key: str, field: str) -> ValidationFailed:
    """``exc`` with the export's own key named when it is an alias: ``(column 'question')``."""
    if key == field:
        return exc
    errors = [(f, f"{reason} ({key_kind} {key!r})") for f, reason in exc.errors]
    return ValidationFailed(errors[0][0], errors[0][1], errors=errors)


def _enum(field: str, enum: type[Any], value: object) -> Any:
    return enum_value(field, enum, _key(_string(field, value)))


def _kind(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean"}.get(
        type(value), "number" if isinstance(value, int | float) else type(value).__name__
    )


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_unicode(field: str, value: object) -> None:
    """Refuse lone surrogates (JSON's ``"\\ud800"``): no UTF-8 store can keep them."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationFailed(field, "must be valid Unicode (no lone surrogates)") from None
    elif isinstance(value, list | tuple):
        for item in value:
            _check_unicode(field, item)


def _string(field: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValidationFailed(field, f"must be a string, not {_kind(value)}")
    _check_unicode(field, value)
    return value


def _identifier(field: str, value: object) -> str:
    """An id as text; help desks often export numeric ids."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return _string(field, value).strip()


def _split(value: str, separators: re.Pattern[str]) -> list[str]:
    return [part.strip() for part in separators.split(value) if part.strip()]


def _tags(field: str, value: object, separators: re.Pattern[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        items = _split(_string(field, value), separators)
    elif isinstance(value, list | tuple):
        items = [_string(f"{field}[{i}]", item).strip() for i, item in enumerate(value)]
    else:
        raise ValidationFailed(field, f"must be a list or a separated string, not {_kind(value)}")
    return tuple(dict.fromkeys(item for item in items if item))


def _language(field: str, value: object) -> str:
    code = _string(field, value).strip().lower().replace("_", "-")
    if not _LANGUAGE.match(code):
        raise ValidationFailed(field, f"must be a language tag such as en or zh-CN, got {code!r}")
    return code.split("-", 1)[0]


def _flag(field: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise ValidationFailed(field, f"must be true or false, got {_show(value)}")


def _timestamp(field: str, value: object) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationFailed(
                field, f"must be an ISO 8601 timestamp, got {_show(value)}"
            ) from None
    else:
        raise ValidationFailed(field, f"must be an ISO 8601 timestamp, not {_kind(value)}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationFailed(
            field, "must include a UTC offset such as Z or +08:00 (a naive time is ambiguous)"
        )
    return moment
