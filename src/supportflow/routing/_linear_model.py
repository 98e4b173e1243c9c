"""The recommended backend: TF-IDF over character n-grams and linear SVMs (scikit-learn).

scikit-learn trains (``TfidfVectorizer`` with sublinear tf, then ``LinearSVC``, one
label against the rest); prediction needs only numpy: the message's n-grams pick rows of the
weight matrix, so one message costs microseconds, not a sparse-matrix round trip.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import OptionalDependencyMissing

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["LinearModel", "numpy_module"]

Analyzer = Callable[[str], list[str]]
DECIMALS = 4
"""Weights are rounded to this many decimals when trained, so JSON holds them exactly."""


def numpy_module() -> Any:
    """numpy, or ``OptionalDependencyMissing`` naming the ``ml`` extra."""
    try:
        return importlib.import_module("numpy")
    except ImportError:
        raise OptionalDependencyMissing("ml", "numpy") from None


class LinearModel:
    """Label scores as ``intercept + tfidf(text) @ weights``; confidences by softmax.

    ``weights`` is one row per vocabulary n-gram, one column per label. The TF-IDF is
    scikit-learn's: ``(1 + log count) * idf`` per n-gram, scaled to unit length.
    """

    def __init__(
        self,
        analyzer: Analyzer,
        *,
        scale: float,
        labels: Sequence[str],
        vocabulary: Sequence[str],
        idf: Sequence[float],
        coefficients: Sequence[Sequence[float]],
        intercepts: Sequence[float],
    ) -> None:
        np_ = numpy_module()
        self._np = np_
        self._analyzer = analyzer
        self.scale = scale
        self.labels = tuple(labels)
        self.vocabulary = tuple(vocabulary)
        self._index = {gram: n for n, gram in enumerate(self.vocabulary)}
        self._idf: npt.NDArray[np.float64] = np_.asarray(idf, dtype=np_.float64)
        self._coefficients: npt.NDArray[np.float64] = np_.asarray(
            coefficients, dtype=np_.float64
        ).reshape(len(self.labels), len(self.vocabulary))
        self._weights: npt.NDArray[np.float64] = np_.ascontiguousarray(self._coefficients.T)
        self._intercepts: npt.NDArray[np.float64] = np_.asarray(intercepts, dtype=np_.float64)

    @classmethod
    def fit(
        cls,
        analyzer: Analyzer,
        texts: Sequence[str],
        labels: Sequence[str],
        *,
        scale: float,
        c: float,
    ) -> LinearModel:
        """Train on ``texts`` (at least two distinct ``labels``; checked by the caller)."""
        try:
            text_module = importlib.import_module("sklearn.feature_extraction.text")
            svm = importlib.import_module("sklearn.svm")
        except ImportError:
            raise OptionalDependencyMissing("ml", "scikit-learn") from None
        np_ = numpy_module()
        vectorizer = text_module.TfidfVectorizer(
            analyzer=analyzer, sublinear_tf=True, dtype=np_.float64
        )
        matrix = vectorizer.fit_transform(texts)
        svc = svm.LinearSVC(C=c, random_state=0).fit(matrix, np_.asarray(labels))
        classes = [str(label) for label in svc.classes_]  # sorted
        if len(classes) == 2:
            row, bias = svc.coef_[0], svc.intercept_[0]
            coefficients = np_.vstack([-row, row])
            intercepts = np_.array([-bias, bias])
        else:
            coefficients, intercepts = svc.coef_, svc.intercept_
        return cls(
            analyzer,
            scale=scale,
            labels=classes,
            vocabulary=list(vectorizer.get_feature_names_out()),
            idf=vectorizer.idf_.tolist(),
            coefficients=np_.round(coefficients, DECIMALS),
            intercepts=np_.round(intercepts, DECIMALS).tolist(),
        )

    def scores(self, text: str) -> npt.NDArray[np.float64]:
        """The decision value of every label for ``text``."""
        np_ = self._np
        index = self._index
        found = [(index[g], n) for g, n in Counter(self._analyzer(text)).items() if g in index]
        if not found:
            return self._intercepts.copy()
        rows = [row for row, _ in found]
        counts = np_.array([n for _, n in found], dtype=np_.float64)
        values = (1.0 + np_.log(counts)) * self._idf[rows]
        values /= np_.sqrt(values @ values)
        result: npt.NDArray[np.float64] = self._intercepts + values @ self._weights[rows]
        return result

    def rank(self, text: str, top_k: int) -> tuple[tuple[str, float], ...]:
        """The ``top_k`` labels with confidences, best first (ties in label order)."""
        np_ = self._np
        scores = self.scores(text)
        exps = np_.exp((scores - scores.max()) * self.scale)
        confidences = exps / exps.sum()
        order = np_.argsort(-scores, kind="stable")[:top_k]
        return tuple((self.labels[i], float(confidences[i])) for i in order)

    def best(self, text: str) -> str:
        """The best label for ``text`` (ties in label order)."""
        return self.labels[int(self.scores(text).argmax())]

    def to_dict(self) -> dict[str, Any]:
        """Vocabulary, idf, coefficients (one row per label) and intercepts, as JSON data."""
        return {
            "labels": list(self.labels),
            "vocabulary": list(self.vocabulary),
            "idf": self._idf.tolist(),
            "coefficients": self._coefficients.tolist(),
            "intercepts": self._intercepts.tolist(),
        }
