"""Host-supplied synonyms: words a customer uses for what the articles call something else.

A group of equivalent phrases (``refund, money back, reimbursement``) makes any of them
find the others; a one-way rule (``pwd => password``) only rewrites towards the right.
Rules are written one per line as in Solr's and Elasticsearch's ``synonyms.txt``, so a
host can reuse the file it already has. Matching is on normalised text: Latin phrases at
word boundaries, Chinese phrases anywhere (Chinese has no spaces to anchor on).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence

import attrs

from ..errors import ValidationFailed
from .analysis import CJK_CLASS, normalize

__all__ = ["MAX_SYNONYM_RULES", "NO_SYNONYMS", "Synonyms"]

MAX_SYNONYM_RULES = 10_000
"""Most synonym rules one set may hold."""

_HAS_CJK = re.compile(f"[{CJK_CLASS}]")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


def _phrase(field: str, raw: object) -> str:
    if not isinstance(raw, str):
        raise ValidationFailed(field, f"must be a string, not {type(raw).__name__}")
    phrase = _SPACES.sub(" ", normalize(raw)).strip()
    if not phrase:
        raise ValidationFailed(field, "must not be blank")
    if len(phrase) > 200:
        raise ValidationFailed(field, "must be at most 200 characters")
    return phrase


@functools.lru_cache(maxsize=4096)
def _latin_pattern(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(phrase) + r"(?!\w)")


@attrs.frozen
class Synonyms:
    """Rules mapping a phrase to the phrases a search should also look for."""

    _rules: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Latin rules by their first word, so a query checks only rules that could match.
    _by_word: dict[str, tuple[int, ...]] = attrs.field(init=False, repr=False, eq=False)
    _cjk: tuple[int, ...] = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        by_word: dict[str, list[int]] = {}
        cjk: list[int] = []
        for i, (phrase, _) in enumerate(self._rules):
            if _HAS_CJK.search(phrase):
                cjk.append(i)
            else:
                first = _WORD.search(phrase)
                by_word.setdefault(first.group(0) if first else phrase, []).append(i)
        object.__setattr__(self, "_by_word", {w: tuple(ix) for w, ix in by_word.items()})
        object.__setattr__(self, "_cjk", tuple(cjk))

    @classmethod
    def from_groups(cls, groups: Iterable[Sequence[str]]) -> Synonyms:
        """Groups of equivalent phrases: each finds all the others."""
        rules: dict[str, list[str]] = {}
        for g, group in enumerate(groups):
            if isinstance(group, str):
                raise ValidationFailed(f"groups[{g}]", "must be a list of phrases, not a string")
            phrases = [_phrase(f"groups[{g}][{i}]", p) for i, p in enumerate(group)]
            if len(set(phrases)) < 2:
                raise ValidationFailed(f"groups[{g}]", "needs at least two different phrases")
            for phrase in phrases:
                targets = rules.setdefault(phrase, [])
                targets.extend(p for p in phrases if p != phrase and p not in targets)
        return cls._checked(rules)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Sequence[str]]) -> Synonyms:
        """One-way rules: each key also finds its listed phrases."""
        rules: dict[str, list[str]] = {}
        for key, values in mapping.items():
            phrase = _phrase("synonyms", key)
            if isinstance(values, str):
                raise ValidationFailed(f"synonyms[{key!r}]", "must be a list of phrases")
            targets = rules.setdefault(phrase, [])
            for i, value in enumerate(values):
                target = _phrase(f"synonyms[{key!r}][{i}]", value)
                if target != phrase and target not in targets:
                    targets.append(target)
        return cls._checked(rules)

    @classmethod
    def parse(cls, text: str) -> Synonyms:
        """Rules in ``synonyms.txt`` form: ``a, b, c`` (a group) or ``a, b => c`` (one way).

        Blank lines and lines starting with ``#`` are skipped; an error names the line.
        """
        rules: dict[str, list[str]] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            field = f"line {number}"
            if line.count("=>") > 1:
                raise ValidationFailed(field, "has more than one '=>'")
            left, arrow, right = line.partition("=>")
            sources = [_phrase(field, p) for p in left.split(",") if p.strip()]
            if arrow:
                targets = [_phrase(field, p) for p in right.split(",") if p.strip()]
                if not sources or not targets:
                    raise ValidationFailed(field, "needs phrases on both sides of '=>'")
            else:
                targets = sources
                if len(set(sources)) < 2:
                    raise ValidationFailed(field, "a group needs at least two phrases")
            for source in sources:
                found = rules.setdefault(source, [])
                found.extend(t for t in targets if t != source and t not in found)
        return cls._checked(rules)

    @classmethod
    def _checked(cls, rules: dict[str, list[str]]) -> Synonyms:
        if len(rules) > MAX_SYNONYM_RULES:
            raise ValidationFailed("synonyms", f"at most {MAX_SYNONYM_RULES} rules")
        return cls(tuple((k, tuple(v)) for k, v in sorted(rules.items()) if v))

    def __len__(self) -> int:
        return len(self._rules)

    def expand(self, normalized_query: str) -> list[str]:
        """The phrases to search for besides an already normalised query, in rule order."""
        if not self._rules:
            return []
        matched: set[int] = {i for i in self._cjk if self._rules[i][0] in normalized_query}
        for word in set(_WORD.findall(normalized_query)):
            for i in self._by_word.get(word, ()):
                if _latin_pattern(self._rules[i][0]).search(normalized_query) is not None:
                    matched.add(i)
        found: list[str] = []
        for i in sorted(matched):
            found.extend(t for t in self._rules[i][1] if t not in found)
        return found


NO_SYNONYMS = Synonyms()
"""The empty rule set, an index's default."""
