"""A text classifier trained on the host's own labelled tickets and corrected by agents.

Two backends read the same character n-grams (2-4 letters inside each word, 1-2
ideographs in Chinese runs, so Chinese needs no word segmentation and a typo spoils only
the n-grams it touches):

- ``"linear"`` (recommended; the ``supportflow[ml]`` extra): scikit-learn's TF-IDF with
  sublinear tf and one linear SVM per label; confidences are a softmax of the decision
  values. Prediction needs only numpy.
- ``"naive_bayes"`` (no dependency): multinomial naive Bayes over the same n-grams. A few
  points less accurate (see docs/classification.md), and updated exactly in place.

``backend="auto"`` picks ``"linear"`` when scikit-learn is installed. The model is saved
as JSON (vocabulary, idf and coefficients, or n-gram counts, plus the labelled examples
that corrections retrain on), never pickle, so loading a model file runs no code.
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Iterable
from functools import partial
from typing import Any, Literal, Protocol

from ..errors import OptionalDependencyMissing, ValidationFailed
from ..models import Ticket
from ..text import detect_language
from ._linear_model import LinearModel, numpy_module
from ._naive_bayes import NaiveBayesModel
from ._text import char_ngrams, checked_text, ticket_text
from .protocols import Classification

__all__ = ["FORMAT", "TrainableClassifier"]

FORMAT = "supportflow.trainable-classifier"
"""The ``format`` field of a saved model; ``version`` 1 is the only one so far."""

Backend = Literal["auto", "linear", "naive_bayes"]
LATIN_NGRAMS = (2, 4)
CJK_NGRAMS = (1, 2)
LINEAR_C = 1.0
LINEAR_SCALE = 6.0
NB_ALPHA = 0.1
NB_SCALE = 8.0


class _Model(Protocol):
    @property
    def labels(self) -> tuple[str, ...]: ...

    def rank(self, text: str, top_k: int) -> tuple[tuple[str, float], ...]: ...

    def best(self, text: str) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


def _analyzer() -> partial[list[str]]:
    return partial(char_ngrams, latin=LATIN_NGRAMS, cjk=CJK_NGRAMS)


def sklearn_available() -> bool:
    """Whether scikit-learn (the ``ml`` extra) can be imported."""
    return importlib.util.find_spec("sklearn") is not None


class TrainableClassifier:
    """Learns categories from labelled tickets; agents' corrections teach it more.

    ``fit(texts, labels)`` trains on examples (texts or tickets, at least two distinct
    labels); ``correct(ticket, label)`` records an agent's correction and updates the
    model (the linear backend retrains on all examples, typically well under a second
    for a few thousand; ``refit=False`` defers that to ``retrain()``). Until trained it
    abstains. ``to_json()`` / ``from_json()`` save and load it; a loaded model predicts
    exactly as the saved one did.

    ``classify`` returns the best label as the category with its confidence and the
    ``top_k`` labels for the UI; it never raises for text a ticket can hold. Not safe for
    ``correct`` in one thread while another classifies.

    Example::

        classifier = TrainableClassifier().fit(
            ["I was charged twice", "the app crashes", ...], ["billing", "technical", ...]
        )
        classifier.correct(ticket, "account")  # an agent relabelled this ticket
    """

    def __init__(self, backend: Backend = "auto", *, top_k: int = 5) -> None:
        if backend not in ("auto", "linear", "naive_bayes"):
            raise ValidationFailed("backend", "must be 'auto', 'linear' or 'naive_bayes'")
        if backend == "auto":
            backend = "linear" if sklearn_available() else "naive_bayes"
        elif backend == "linear" and not sklearn_available():
            raise OptionalDependencyMissing("ml", "scikit-learn")
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ValidationFailed("top_k", "must be an integer of at least 1")
        self._backend: Literal["linear", "naive_bayes"] = backend
        self._top_k = top_k
        self._examples: list[tuple[str | None, str, str]] = []
        self._model: _Model | None = None

    @property
    def backend(self) -> Literal["linear", "naive_bayes"]:
        """The backend in use: ``"linear"`` (scikit-learn) or ``"naive_bayes"``."""
        return self._backend

    @property
    def labels(self) -> tuple[str, ...]:
        """The labels the trained model can give, sorted; empty until trained."""
        return self._model.labels if self._model is not None else ()

    @property
    def is_trained(self) -> bool:
        """Whether the model can classify (it has seen at least two labels)."""
        return self._model is not None

    @property
    def example_count(self) -> int:
        """How many labelled examples the model holds (corrections included)."""
        return len(self._examples)

    # -- training ----------------------------------------------------------------------

    def fit(self, texts: Iterable[str | Ticket], labels: Iterable[str]) -> TrainableClassifier:
        """Train on these examples only (earlier ones are dropped); returns ``self``.

        ``texts[i]`` (a string, or a ticket: its subject and body) has label ``labels[i]``.
        ``ValidationFailed`` names a bad entry, a length mismatch, or fewer than two labels.
        """
        examples = _examples(texts, labels)
        if len({label for _, _, label in examples}) < 2:
            raise ValidationFailed("labels", "must hold at least two different labels")
        self._examples = examples
        self._model = self._train()
        return self

    def retrain(self) -> None:
        """Train again on every example held (after ``correct(..., refit=False)``)."""
        self._model = self._train()

    def correct(
        self,
        ticket: Ticket | str,
        label: str,
        *,
        example_id: str | None = None,
        refit: bool = True,
    ) -> None:
        """Record that ``ticket`` (or a text) has ``label`` and learn from it.

        A ticket's id identifies the example (or pass ``example_id``), so correcting the
        same ticket twice keeps only the last label. The naive Bayes backend updates at
        once and exactly; the linear backend retrains unless ``refit`` is false.
        """
        text = _text("ticket", ticket)
        label = _label("label", label)
        if isinstance(ticket, Ticket) and example_id is None:
            example_id = ticket.id
        if example_id is not None and (not isinstance(example_id, str) or not example_id):
            raise ValidationFailed("example_id", "must be a non-empty string or None")
        replaced: tuple[str | None, str, str] | None = None
        example = (example_id, text, label)
        for index, (known_id, _, _) in enumerate(self._examples):
            if example_id is not None and known_id == example_id:
                replaced = self._examples[index]
                self._examples[index] = example
                break
        else:
            self._examples.append(example)
        if isinstance(self._model, NaiveBayesModel):
            if replaced is not None:
                self._model.add(replaced[1], replaced[2], sign=-1)
            self._model.add(text, label)
            if len(self._model.labels) < 2:
                self._model = None
        elif refit or self._model is None:
            self._model = self._train()

    def _train(self) -> _Model | None:
        if len({label for _, _, label in self._examples}) < 2:
            return None
        if self._backend == "naive_bayes":
            return NaiveBayesModel.fit(
                _analyzer(),
                ((text, label) for _, text, label in self._examples),
                alpha=NB_ALPHA,
                scale=NB_SCALE,
            )
        texts = [text for _, text, _ in self._examples]
        labels = [label for _, _, label in self._examples]
        if not any(_analyzer()(text) for text in texts):
            raise ValidationFailed("texts", "no example has any letter, digit or ideograph")
        return LinearModel.fit(_analyzer(), texts, labels, scale=LINEAR_SCALE, c=LINEAR_C)

    # -- classifying -------------------------------------------------------------------

    def classify(self, ticket: Ticket) -> Classification | None:
        """The trained model's answer for the ticket, or ``None`` while untrained."""
        return self.classify_text(ticket_text(ticket))

    def classify_text(self, text: str) -> Classification | None:
        """The trained model's answer for ``text``, or ``None`` while untrained."""
        text = checked_text("text", text)
        if self._model is None:
            return None
        labels = self._model.rank(text, self._top_k)
        category, confidence = labels[0]
        return Classification(
            category=category,
            confidence=confidence,
            labels=labels,
            language=detect_language(text),
            source=f"trained:{self._backend}",
            evidence=(f"trained {self._backend} model: {category} {confidence:.2f}",),
        )

    def predict(self, texts: Iterable[str]) -> list[str]:
        """The best label for each text, in order (``ValidationFailed`` while untrained)."""
        if isinstance(texts, str) or not isinstance(texts, Iterable):
            raise ValidationFailed("texts", "must be a list of strings")
        if self._model is None:
            raise ValidationFailed("texts", "the classifier is not trained yet (call fit)")
        rank = self._model.rank
        return [rank(checked_text(f"texts[{n}]", text), 1)[0][0] for n, text in enumerate(texts)]

    # -- persistence -------------------------------------------------------------------

    def to_json(self) -> str:
        """The classifier as JSON text: settings, examples and the trained model."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        """The classifier as JSON-ready data (what :meth:`to_json` writes)."""
        return {
            "format": FORMAT,
            "version": 1,
            "backend": self._backend,
            "ngrams": {"latin": list(LATIN_NGRAMS), "cjk": list(CJK_NGRAMS)},
            "top_k": self._top_k,
            "examples": [list(example) for example in self._examples],
            "model": self._model.to_dict() if self._model is not None else None,
        }

    @classmethod
    def from_json(cls, data: str | bytes) -> TrainableClassifier:
        """Load a classifier saved by :meth:`to_json` (``ValidationFailed`` if malformed)."""
        if not isinstance(data, str | bytes):
            raise ValidationFailed("data", "must be JSON text")
        try:
            parsed = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise ValidationFailed("data", f"is not JSON: {exc}") from None
        return cls.from_dict(parsed)

    @classmethod
    def from_dict(cls, data: object) -> TrainableClassifier:
        """Load a classifier from :meth:`to_dict` data (``ValidationFailed`` if malformed)."""
        data = _mapping("data", data)
        if data.get("format") != FORMAT or data.get("version") != 1:
            raise ValidationFailed("format", f"must be {FORMAT!r} version 1")
        backend = data.get("backend")
        if backend not in ("linear", "naive_bayes"):
            raise ValidationFailed("backend", "must be 'linear' or 'naive_bayes'")
        ngrams = data.get("ngrams")
        if ngrams != {"latin": list(LATIN_NGRAMS), "cjk": list(CJK_NGRAMS)}:
            raise ValidationFailed("ngrams", "was made by an incompatible version")
        top_k = data.get("top_k")
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ValidationFailed("top_k", "must be an integer of at least 1")
        raw_examples = data.get("examples")
        if not isinstance(raw_examples, list):
            raise ValidationFailed("examples", "must be a list")
        examples: list[tuple[str | None, str, str]] = []
        for n, item in enumerate(raw_examples):
            if not isinstance(item, list) or len(item) != 3:
                raise ValidationFailed(f"examples[{n}]", "must be [id or null, text, label]")
            if item[0] is not None and (not isinstance(item[0], str) or not item[0]):
                raise ValidationFailed(f"examples[{n}][0]", "must be a non-empty id or null")
            examples.append(
                (item[0], _text(f"examples[{n}][1]", item[1]), _label(f"examples[{n}][2]", item[2]))
            )
        classifier = cls.__new__(cls)
        classifier._backend = backend
        classifier._top_k = top_k
        classifier._examples = examples
        model = data.get("model")
        if model is None:
            classifier._model = None
        elif backend == "linear":
            classifier._model = _linear_from(_mapping("model", model))
        else:
            classifier._model = _naive_bayes_from(_mapping("model", model))
        return classifier


def _mapping(field: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationFailed(field, "must be a JSON object")
    return value


def _text(field: str, value: object) -> str:
    if isinstance(value, Ticket):
        return ticket_text(value)
    text = checked_text(field, value)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationFailed(field, "must be valid Unicode (no lone surrogates)") from None
    return text


def _label(field: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(field, "must be a non-empty label")
    if len(value) > 100:
        raise ValidationFailed(field, "must be at most 100 characters (a ticket category)")
    return value.strip()


def _examples(
    texts: Iterable[str | Ticket], labels: Iterable[str]
) -> list[tuple[str | None, str, str]]:
    for field, value in (("texts", texts), ("labels", labels)):
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise ValidationFailed(field, "must be a list")
    text_list = list(texts)
    label_list = list(labels)
    if len(text_list) != len(label_list):
        raise ValidationFailed(
            "labels", f"has {len(label_list)} entries for {len(text_list)} texts"
        )
    return [
        (
            item.id if isinstance(item, Ticket) else None,
            _text(f"texts[{n}]", item),
            _label(f"labels[{n}]", label),
        )
        for n, (item, label) in enumerate(zip(text_list, label_list, strict=True))
    ]


def _strings(field: str, value: object) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationFailed(field, "must be a list of strings")
    return value


def _numbers(field: str, value: object, length: int) -> list[float]:
    if (
        not isinstance(value, list)
        or len(value) != length
        or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in value
        )
    ):
        raise ValidationFailed(field, f"must be a list of {length} finite numbers")
    return value


def _linear_from(model: dict[str, Any]) -> LinearModel:
    numpy_module()  # the ml extra's error, before any checking
    labels = _strings("model.labels", model.get("labels"))
    vocabulary = _strings("model.vocabulary", model.get("vocabulary"))
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValidationFailed("model.labels", "must hold at least two distinct labels")
    idf = _numbers("model.idf", model.get("idf"), len(vocabulary))
    rows = model.get("coefficients")
    if not isinstance(rows, list) or len(rows) != len(labels):
        raise ValidationFailed("model.coefficients", f"must hold {len(labels)} rows")
    coefficients = [
        _numbers(f"model.coefficients[{n}]", row, len(vocabulary)) for n, row in enumerate(rows)
    ]
    intercepts = _numbers("model.intercepts", model.get("intercepts"), len(labels))
    return LinearModel(
        _analyzer(),
        scale=LINEAR_SCALE,
        labels=labels,
        vocabulary=vocabulary,
        idf=idf,
        coefficients=coefficients,
        intercepts=intercepts,
    )


def _naive_bayes_from(model: dict[str, Any]) -> NaiveBayesModel:
    labels = _strings("model.labels", model.get("labels"))
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise ValidationFailed("model.labels", "must hold at least two distinct labels")
    documents = model.get("documents")
    if (
        not isinstance(documents, list)
        or len(documents) != len(labels)
        or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in documents)
    ):
        raise ValidationFailed("model.documents", f"must be {len(labels)} positive integers")
    vocabulary = _strings("model.vocabulary", model.get("vocabulary"))
    counts = model.get("counts")
    if not isinstance(counts, list) or len(counts) != len(vocabulary):
        raise ValidationFailed("model.counts", f"must hold {len(vocabulary)} entries")
    for n, pairs in enumerate(counts):
        if not isinstance(pairs, list) or not pairs:
            raise ValidationFailed(f"model.counts[{n}]", "must be a non-empty list of pairs")
        for pair in pairs:
            if (
                not isinstance(pair, list)
                or len(pair) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in pair)
                or not 0 <= pair[0] < len(labels)
                or pair[1] < 1
            ):
                raise ValidationFailed(
                    f"model.counts[{n}]", "must hold [label index, positive count] pairs"
                )
    return NaiveBayesModel.from_counts(
        _analyzer(),
        alpha=NB_ALPHA,
        scale=NB_SCALE,
        labels=labels,
        documents=documents,
        vocabulary=vocabulary,
        counts=counts,
    )
