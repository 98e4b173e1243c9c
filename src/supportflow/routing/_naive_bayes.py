"""The dependency-free backend: multinomial naive Bayes over character n-grams."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable
from operator import add
from typing import Any

__all__ = ["NaiveBayesModel"]

Analyzer = Callable[[str], list[str]]
DENSE_AT = 8
"""An n-gram seen under this many labels or more keeps a full row (summed in C by map)."""


class NaiveBayesModel:
    """Counts of n-grams per label; updated in place, exactly as if retrained.

    Scores are log-posteriors with additive smoothing ``alpha``; n-grams never seen in
    training are ignored. Confidences are a softmax of the scores divided by the number
    of known n-grams and multiplied by ``scale`` (raw naive Bayes posteriors are near 0
    or 1 whatever the evidence, because overlapping n-grams are far from independent).
    """

    def __init__(self, analyzer: Analyzer, *, alpha: float, scale: float) -> None:
        self._analyzer = analyzer
        self.alpha = alpha
        self.scale = scale
        self._docs: dict[str, int] = {}
        self._totals: dict[str, int] = {}
        self._counts: dict[str, dict[str, int]] = {}
        self._labels: tuple[str, ...] = ()
        self._index: dict[str, int] = {}
        # Per n-gram: a full row of log-ratios (a list), or sparse (label index, log-ratio).
        self._table: dict[str, list[float] | tuple[tuple[int, float], ...]] = {}

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels with at least one example, sorted."""
        return self._labels

    @classmethod
    def fit(
        cls,
        analyzer: Analyzer,
        examples: Iterable[tuple[str, str]],
        *,
        alpha: float,
        scale: float,
    ) -> NaiveBayesModel:
        """Count every ``(text, label)`` example, then build the scoring table once."""
        model = cls(analyzer, alpha=alpha, scale=scale)
        for text, label in examples:
            model._count(text, label, 1)
        model._rebuild()
        return model

    def add(self, text: str, label: str, sign: int = 1) -> None:
        """Count one example (``sign=-1`` takes back one counted before)."""
        touched = self._count(text, label, sign)
        if self._labels != tuple(sorted(self._docs)):
            self._rebuild()
            return
        for gram in touched:
            per_label = self._counts.get(gram)
            if per_label is None:
                self._table.pop(gram, None)
            else:
                self._table[gram] = self._entry(per_label)

    def _count(self, text: str, label: str, sign: int) -> list[str]:
        grams = Counter(self._analyzer(text))
        self._docs[label] = self._docs.get(label, 0) + sign
        self._totals[label] = self._totals.get(label, 0) + sign * sum(grams.values())
        if self._docs[label] <= 0:
            del self._docs[label], self._totals[label]
        for gram, count in grams.items():
            per_label = self._counts.setdefault(gram, {})
            per_label[label] = per_label.get(label, 0) + sign * count
            if per_label[label] <= 0:
                del per_label[label]
            if not per_label:
                del self._counts[gram]
        return list(grams)

    def _rebuild(self) -> None:
        self._labels = tuple(sorted(self._docs))
        self._index = {label: n for n, label in enumerate(self._labels)}
        self._table = {gram: self._entry(per) for gram, per in self._counts.items()}

    def _entry(self, per_label: dict[str, int]) -> list[float] | tuple[tuple[int, float], ...]:
        base = math.log(self.alpha)
        pairs = sorted(
            (self._index[label], math.log(n + self.alpha) - base) for label, n in per_label.items()
        )
        if len(pairs) < DENSE_AT:
            return tuple(pairs)
        row = [0.0] * len(self._labels)
        for n, weight in pairs:
            row[n] = weight
        return row

    def scores(self, text: str) -> tuple[list[float], int]:
        """The log-posterior of every label (``labels`` order, up to a constant), and how
        many n-grams of ``text`` the model knows."""
        table = self._table
        grams = Counter(g for g in self._analyzer(text) if g in table)
        known = sum(grams.values())
        all_docs = sum(self._docs.values())
        smoothing = self.alpha * len(table)
        scores = [
            math.log(self._docs[label] / all_docs)
            - known * math.log(self._totals[label] + smoothing)
            for label in self._labels
        ]
        for gram, count in grams.items():
            entry = table[gram]
            if isinstance(entry, list):
                if count != 1:
                    entry = [count * weight for weight in entry]
                scores = list(map(add, scores, entry))
            else:
                for n, weight in entry:
                    scores[n] += count * weight
        return scores, known

    def rank(self, text: str, top_k: int) -> tuple[tuple[str, float], ...]:
        """The ``top_k`` labels with confidences, best first (ties in label order)."""
        scores, known = self.scores(text)
        factor = self.scale / max(known, 1)
        top = max(scores)
        exps = [math.exp((score - top) * factor) for score in scores]
        total = sum(exps)
        order = sorted(range(len(scores)), key=lambda n: -scores[n])  # stable: label order
        return tuple((self._labels[n], exps[n] / total) for n in order[:top_k])

    def best(self, text: str) -> str:
        """The best label for ``text`` (ties in label order)."""
        scores, _ = self.scores(text)
        return self._labels[scores.index(max(scores))]

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-ready data: labels, documents per label, n-gram counts."""
        labels = self._labels
        index = self._index
        grams = sorted(self._counts)
        return {
            "labels": list(labels),
            "documents": [self._docs[label] for label in labels],
            "vocabulary": grams,
            "counts": [
                sorted([index[label], n] for label, n in self._counts[gram].items())
                for gram in grams
            ],
        }

    @classmethod
    def from_counts(
        cls,
        analyzer: Analyzer,
        *,
        alpha: float,
        scale: float,
        labels: list[str],
        documents: list[int],
        vocabulary: list[str],
        counts: Iterable[list[list[int]]],
    ) -> NaiveBayesModel:
        """Rebuild a model from :meth:`to_dict` data (already checked by the caller)."""
        model = cls(analyzer, alpha=alpha, scale=scale)
        model._docs = dict(zip(labels, documents, strict=True))
        model._totals = dict.fromkeys(labels, 0)
        for gram, pairs in zip(vocabulary, counts, strict=True):
            per_label = {labels[i]: n for i, n in pairs}
            model._counts[gram] = per_label
            for label, n in per_label.items():
                model._totals[label] += n
        model._rebuild()
        return model
