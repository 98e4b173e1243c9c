"""The checked arguments of a search, shared by every index so they refuse alike."""

from __future__ import annotations

from collections.abc import Collection

import attrs

from .._validate import text
from ..errors import ValidationFailed
from .articles import ArticleStatus, Audience
from .search import MAX_QUERY_CHARS, FieldWeights
from .synonyms import Synonyms

__all__ = ["MAX_LIMIT", "SearchArgs", "check_index_options", "check_limit", "check_search_args"]

MAX_LIMIT = 1000
"""Most hits one search returns."""


@attrs.frozen
class SearchArgs:
    """A search's query (stripped) and filters, validated."""

    query: str
    limit: int
    language: str | None
    product: str | None
    audience: Audience | None
    statuses: frozenset[ArticleStatus]


def _label(field: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(field, "must be a non-blank string or None")
    return value.strip()


def check_limit(limit: object) -> int:
    """How many hits to return: an integer from 1 to ``MAX_LIMIT``."""
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed("limit", f"must be an integer from 1 to {MAX_LIMIT}")
    return limit


def check_search_args(
    query: object,
    limit: object,
    language: object,
    product: object,
    audience: object,
    statuses: object,
) -> SearchArgs:
    """The arguments of ``search``, or ``ValidationFailed`` naming the first bad one."""
    checked_query = text("query", query, required=False, limit=MAX_QUERY_CHARS).strip()
    limit = check_limit(limit)
    checked_audience: Audience | None = None
    if audience is not None:
        try:
            checked_audience = Audience(str(audience) if isinstance(audience, str) else "")
        except ValueError:
            choices = ", ".join(a.value for a in Audience)
            raise ValidationFailed("audience", f"must be one of {choices}") from None
    if isinstance(statuses, str) or not isinstance(statuses, Collection) or not statuses:
        raise ValidationFailed("statuses", "must be a non-empty collection of statuses")
    try:
        checked_statuses = frozenset(ArticleStatus(s) for s in statuses)
    except (ValueError, TypeError, RecursionError):
        choices = ", ".join(s.value for s in ArticleStatus)
        raise ValidationFailed("statuses", f"each must be one of {choices}") from None
    return SearchArgs(
        query=checked_query,
        limit=limit,
        language=_label("language", language),
        product=_label("product", product),
        audience=checked_audience,
        statuses=checked_statuses,
    )


def check_index_options(
    field_weights: object,
    synonyms: object,
    typo_tolerance: object,
    candidates: object,
    posting_budget: object,
) -> None:
    """Refuse an index's constructor arguments that are not what they say."""
    if not isinstance(field_weights, FieldWeights):
        raise ValidationFailed("field_weights", "must be a FieldWeights")
    if not isinstance(synonyms, Synonyms):
        raise ValidationFailed("synonyms", "must be a Synonyms")
    if not isinstance(typo_tolerance, bool):
        raise ValidationFailed("typo_tolerance", "must be True or False")
    for name, value in (("candidates", candidates), ("posting_budget", posting_budget)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValidationFailed(name, "must be a positive integer")
