"""Durations whose median and p90 are wanted, in memory that stops growing.

A report over a month of events measures one duration per ticket per group; keeping every
value makes memory grow with the number of tickets. :class:`Durations` keeps the values
themselves while there are at most :data:`EXACT_LIMIT` (so small groups and tests get
exact quantiles), then folds them into a log-bucketed sketch (the DDSketch idea): bucket
``i`` counts the values in ``(γ^(i-1), γ^i]`` with ``γ = (1 + α) / (1 - α)``, and a
quantile is answered with its bucket's midpoint, within a relative error of
:data:`RELATIVE_ACCURACY` (α, 0.5%). Durations from a second to a year need at most about
1,700 buckets, whatever the number of values. Count, minimum and maximum stay exact.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable

__all__ = ["EXACT_LIMIT", "RELATIVE_ACCURACY", "Durations", "bucket_of"]

EXACT_LIMIT = 2048
"""Values kept as they are before the sketch takes over."""

RELATIVE_ACCURACY = 0.005
"""Largest relative error of a quantile once the sketch holds the values."""

_GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY)
_LOG_GAMMA = math.log(_GAMMA)


def bucket_of(value: float) -> int:
    """The sketch bucket of a duration: ``ceil(log_γ(value))`` (0 for zero or less)."""
    return math.ceil(math.log(value) / _LOG_GAMMA) if value > 0.0 else 0


def _quantile(ordered: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default method)."""
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class Durations:
    """Non-negative durations in seconds: count, min, max, and quantiles."""

    __slots__ = ("_buckets", "_count", "_max", "_min", "_values", "_zeros")

    def __init__(self, *, exact: bool = True) -> None:
        """Empty; with ``exact=False`` the sketch holds values from the first one."""
        self._values: array[float] | None = array("d") if exact else None
        self._buckets: dict[int, int] = {}
        self._zeros = 0
        self._count = 0
        self._min = math.inf
        self._max = -math.inf

    def __len__(self) -> int:
        return self._count

    @property
    def exact(self) -> bool:
        """Whether quantiles are still computed from the values themselves."""
        return self._values is not None

    def append(self, value: float, bucket: int | None = None) -> None:
        """Add one duration (negative counts as 0); ``bucket``: its :func:`bucket_of`.

        A report adds each ticket's duration to several groups; working the bucket out
        once (it takes a logarithm) and passing it saves that work for the others.
        """
        if value < 0.0:
            value = 0.0
        self._count += 1
        if value < self._min:
            self._min = value
        if value > self._max:
            self._max = value
        values = self._values
        if values is not None:
            values.append(value)
            if len(values) > EXACT_LIMIT:
                self._to_sketch()
            return
        self._bucket(value, bucket_of(value) if bucket is None else bucket)

    def _bucket(self, value: float, bucket: int) -> None:
        if value <= 0.0:
            self._zeros += 1
            return
        buckets = self._buckets
        buckets[bucket] = buckets.get(bucket, 0) + 1

    @classmethod
    def merged(cls, parts: Iterable[Durations]) -> Durations:
        """All of ``parts``' durations in one: exact while they are few, as ``append`` keeps.

        The result is what appending every part's values one by one would give: the
        sketch's buckets add up, and exact values are re-bucketed once they exceed the
        limit.
        """
        whole = cls()
        for part in parts:
            if part._values is not None:
                for value in part._values:
                    whole.append(value)
                continue
            if whole._values is not None:
                whole._to_sketch()
            whole._count += part._count
            whole._zeros += part._zeros
            whole._min = min(whole._min, part._min)
            whole._max = max(whole._max, part._max)
            buckets = whole._buckets
            for bucket, count in part._buckets.items():
                buckets[bucket] = buckets.get(bucket, 0) + count
        return whole

    def _to_sketch(self) -> None:
        values = self._values
        self._values = None
        for kept in values or ():
            self._bucket(kept, bucket_of(kept))

    @property
    def min(self) -> float | None:
        """The smallest duration (``None`` when empty)."""
        return self._min if self._count else None

    @property
    def max(self) -> float | None:
        """The largest duration (``None`` when empty)."""
        return self._max if self._count else None

    def quantile(self, q: float) -> float | None:
        """The ``q``-quantile (0 to 1): exact, or within 0.5% once sketched."""
        if not self._count:
            return None
        if self._values is not None:
            return _quantile(sorted(self._values), q)
        rank = q * (self._count - 1)
        seen = self._zeros
        if rank < seen:
            return 0.0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if rank < seen:
                estimate = 2.0 * _GAMMA**index / (_GAMMA + 1.0)
                return min(max(estimate, self._min), self._max)
        return self._max
