"""The trainable classifier on both backends: learning, corrections, JSON persistence."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from supportflow import (
    Channel,
    OptionalDependencyMissing,
    SupportflowError,
    Ticket,
    ValidationFailed,
)
from supportflow.routing import TrainableClassifier, trainable

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

EXAMPLES: list[tuple[str, str]] = [
    ("I was charged twice for my subscription", "billing"),
    ("Please refund the payment from last week", "billing"),
    ("The invoice amount is wrong", "billing"),
    ("Why is there an extra fee on my bill", "billing"),
    ("Can I get my money back for the renewal", "billing"),
    ("我要退款，扣费两次", "billing"),
    ("发票金额不对", "billing"),
    ("上个月的账单有问题，多收了钱", "billing"),
    ("The app crashes when I open settings", "technical"),
    ("Error 500 when uploading a file", "technical"),
    ("The page freezes and never loads", "technical"),
    ("Sync stopped working on my phone", "technical"),
    ("The export button shows an error message", "technical"),
    ("软件打开就闪退", "technical"),
    ("上传文件时报错", "technical"),
    ("页面一直加载不出来，卡死了", "technical"),
    ("I forgot my password", "account"),
    ("How do I change the email on my account", "account"),
    ("My account is locked after too many login attempts", "account"),
    ("I want to delete my profile", "account"),
    ("The verification code never arrives when I sign in", "account"),
    ("忘记密码了，怎么找回", "account"),
    ("账号被锁定，无法登录", "account"),
    ("收不到验证码，登录不了账户", "account"),
]
TEXTS = [text for text, _ in EXAMPLES]
LABELS = [label for _, label in EXAMPLES]

needs_sklearn = pytest.importorskip  # the guard; scikit-learn is in the dev extra


@pytest.fixture(scope="module", params=["linear", "naive_bayes"])
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "linear":
        needs_sklearn("sklearn")
    return str(request.param)


@pytest.fixture(scope="module")
def trained(backend: str) -> TrainableClassifier:
    return TrainableClassifier(backend).fit(TEXTS, LABELS)  # type: ignore[arg-type]


def _ticket(body: str, ticket_id: str = "t-1") -> Ticket:
    return Ticket(
        id=ticket_id,
        channel=Channel.EMAIL,
        customer_id="c-1",
        subject="",
        body=body,
        created_at=AT,
        updated_at=AT,
    )


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("there is a double charge on my subscription bill", "billing"),
        ("the app crashes with an error", "technical"),
        ("reset my password please, the login fails", "account"),
        ("请帮我退款", "billing"),
        ("打开就闪退，报错", "technical"),
        ("密码忘了，登录不了", "account"),
    ],
)
def test_it_learns_categories_in_english_and_chinese(
    trained: TrainableClassifier, text: str, label: str
) -> None:
    result = trained.classify(_ticket(text))
    assert result is not None
    assert result.category == label
    assert result.labels[0] == (result.category, result.confidence)


def test_a_typo_does_not_lose_the_category(trained: TrainableClassifier) -> None:
    assert trained.predict(["the app crahses with an eror"]) == ["technical"]


def test_labels_are_ranked_and_confidences_sum_to_at_most_one(
    trained: TrainableClassifier,
) -> None:
    result = trained.classify_text("refund my invoice")
    assert result is not None
    confidences = [c for _, c in result.labels]
    assert confidences == sorted(confidences, reverse=True)
    assert len(result.labels) == 3  # top_k 5, but only 3 labels exist
    assert 0.99 < sum(confidences) <= 1.0 + 1e-9
    assert result.source == f"trained:{trained.backend}"


def test_top_k_limits_the_labels_kept() -> None:
    classifier = TrainableClassifier("naive_bayes", top_k=2).fit(TEXTS, LABELS)
    result = classifier.classify_text("refund")
    assert result is not None
    assert len(result.labels) == 2


def test_an_untrained_classifier_abstains_and_refuses_to_predict(backend: str) -> None:
    classifier = TrainableClassifier(backend)  # type: ignore[arg-type]
    assert not classifier.is_trained
    assert classifier.classify(_ticket("refund")) is None
    with pytest.raises(ValidationFailed) as info:
        classifier.predict(["refund"])
    assert info.value.field == "texts"


def test_tickets_train_with_their_subject_and_body(backend: str) -> None:
    tickets = [_ticket(text, f"t-{n}") for n, text in enumerate(TEXTS)]
    classifier = TrainableClassifier(backend).fit(tickets, LABELS)  # type: ignore[arg-type]
    assert classifier.labels == ("account", "billing", "technical")
    assert classifier.example_count == len(TEXTS)


def test_a_correction_teaches_a_new_label(backend: str) -> None:
    classifier = TrainableClassifier(backend).fit(TEXTS, LABELS)  # type: ignore[arg-type]
    for n, text in enumerate(["where is my parcel", "the parcel has not arrived", "包裹还没到"]):
        classifier.correct(_ticket(text, f"p-{n}"), "shipping")
    assert "shipping" in classifier.labels
    assert classifier.predict(["my parcel is late"]) == ["shipping"]


def test_correcting_a_ticket_twice_keeps_the_last_label(backend: str) -> None:
    classifier = TrainableClassifier(backend).fit(TEXTS, LABELS)  # type: ignore[arg-type]
    ticket = _ticket("where is my parcel", "t-parcel")
    classifier.correct(ticket, "billing")
    classifier.correct(ticket, "shipping")
    classifier.correct(_ticket("my parcel is lost", "t-2"), "shipping")
    assert classifier.example_count == len(TEXTS) + 2
    fresh = TrainableClassifier(backend).fit(  # type: ignore[arg-type]
        [*TEXTS, "where is my parcel", "my parcel is lost"], [*LABELS, "shipping", "shipping"]
    )
    probes = ["parcel", "refund", "密码", "crash"]
    assert [classifier.classify_text(p) for p in probes] == [fresh.classify_text(p) for p in probes]


def test_linear_corrections_can_wait_for_retrain() -> None:
    needs_sklearn("sklearn")
    classifier = TrainableClassifier("linear").fit(TEXTS, LABELS)
    before = classifier.classify_text("parcel")
    classifier.correct("where is my parcel", "shipping", refit=False)
    assert classifier.classify_text("parcel") == before
    classifier.retrain()
    assert "shipping" in classifier.labels


def test_corrections_alone_start_the_model_once_two_labels_exist(backend: str) -> None:
    classifier = TrainableClassifier(backend)  # type: ignore[arg-type]
    classifier.correct("refund please", "billing")
    assert not classifier.is_trained
    classifier.correct("the app crashes", "technical")
    assert classifier.is_trained
    assert classifier.predict(["refund"]) == ["billing"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    corrections=st.lists(
        st.tuples(
            st.sampled_from(["t-1", "t-2", "t-3", None]),
            st.sampled_from([*TEXTS[:4], "parcel late", "包裹没到", ""]),
            st.sampled_from(["billing", "technical", "account", "shipping"]),
        ),
        max_size=8,
    )
)
def test_naive_bayes_updates_exactly_as_if_retrained(
    corrections: list[tuple[str | None, str, str]],
) -> None:
    """Incremental counts give the very same answers as training from scratch."""
    incremental = TrainableClassifier("naive_bayes").fit(TEXTS, LABELS)
    examples: dict[object, tuple[str, str]] = dict(enumerate(EXAMPLES))
    for n, (example_id, text, label) in enumerate(corrections):
        incremental.correct(text, label, example_id=example_id)
        examples[example_id if example_id is not None else f"anon-{n}"] = (text, label)
    scratch = TrainableClassifier("naive_bayes").fit(
        [t for t, _ in examples.values()], [lb for _, lb in examples.values()]
    )
    probes = ["refund", "crash error", "密码", "parcel", ""]
    assert [incremental.classify_text(p) for p in probes] == [
        scratch.classify_text(p) for p in probes
    ]


def test_training_is_deterministic(backend: str) -> None:
    first = TrainableClassifier(backend).fit(TEXTS, LABELS)  # type: ignore[arg-type]
    second = TrainableClassifier(backend).fit(TEXTS, LABELS)  # type: ignore[arg-type]
    assert first.to_json() == second.to_json()


def test_the_linear_backend_predicts_as_scikit_learn_does() -> None:
    """The numpy prediction path reproduces TfidfVectorizer + LinearSVC's decisions."""
    needs_sklearn("sklearn")
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    analyzer = trainable._analyzer()
    vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True)
    svc = LinearSVC(random_state=0).fit(vectorizer.fit_transform(TEXTS), LABELS)
    probes = ["refund my invoice", "crash on upload", "密码找回", "hello", "账单错误 error"]
    expected = svc.decision_function(vectorizer.transform(probes))
    model = TrainableClassifier("linear").fit(TEXTS, LABELS)._model
    assert model is not None
    for probe, row in zip(probes, expected, strict=True):
        assert model.scores(probe) == pytest.approx(row, abs=0.01)  # type: ignore[attr-defined]


# -- persistence -------------------------------------------------------------------------


def test_the_json_holds_vocabulary_and_coefficients_not_pickle() -> None:
    needs_sklearn("sklearn")
    saved = json.loads(TrainableClassifier("linear").fit(TEXTS, LABELS).to_json())
    assert saved["format"] == "supportflow.trainable-classifier"
    assert saved["backend"] == "linear"
    model = saved["model"]
    assert model["labels"] == ["account", "billing", "technical"]
    assert len(model["coefficients"]) == 3
    assert all(len(row) == len(model["vocabulary"]) for row in model["coefficients"])
    assert len(saved["examples"]) == len(TEXTS)


ANY_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(st.characters(categories=["Cs", "So", "Lo"]), max_size=100),
    st.text(alphabet="refund crash 退款 密码 ", max_size=100),
)


@settings(max_examples=60, deadline=None)
@given(text=ANY_TEXT)
@example(text="")
@example(text="🙂" * 500)
@example(text="refund 退款 " * 9_000)
@example(text="x" * 100_000)
def test_json_round_trip_gives_identical_answers(trained: TrainableClassifier, text: str) -> None:
    loaded = TrainableClassifier.from_json(trained.to_json())
    assert loaded.backend == trained.backend
    assert loaded.classify_text(text) == trained.classify_text(text)


@settings(max_examples=60, deadline=None)
@given(text=ANY_TEXT)
def test_any_text_gets_a_deterministic_answer(trained: TrainableClassifier, text: str) -> None:
    first = trained.classify_text(text)
    assert first is not None
    assert first == trained.classify_text(text)
    assert first.category in trained.labels
    assert 0.0 <= first.confidence <= 1.0


@settings(max_examples=40, deadline=None)
@given(value=st.one_of(st.integers(), st.binary(), st.none(), st.lists(st.integers())))
def test_anything_but_text_raises_a_supportflow_error(
    trained: TrainableClassifier, value: object
) -> None:
    with pytest.raises(SupportflowError):
        trained.classify_text(value)  # type: ignore[arg-type]


def _saved(changes: dict[str, Any]) -> str:
    """The saved naive Bayes classifier with ``changes`` ("model.counts.0": value) applied."""
    data: Any = TrainableClassifier("naive_bayes").fit(TEXTS, LABELS).to_dict()
    for path, value in changes.items():
        target = data
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        for part in parents:
            target = target[part]
        target[last] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"format": "other"}, "format"),
        ({"version": 2}, "format"),
        ({"backend": "svm"}, "backend"),
        ({"ngrams": {"latin": [1, 3], "cjk": [1, 2]}}, "ngrams"),
        ({"top_k": 0}, "top_k"),
        ({"examples": {}}, "examples"),
        ({"examples": [["x", "text"]]}, "examples[0]"),
        ({"examples": [[None, "text", ""]]}, "examples[0][2]"),
        ({"model": {}}, "model.labels"),
        ({"model.labels": ["a"]}, "model.labels"),
        ({"model.documents": [1]}, "model.documents"),
        ({"model.counts": []}, "model.counts"),
        ({"model.counts.0": [[0, 0]]}, "model.counts[0]"),
        ({"model.counts.0": [[9, 1]]}, "model.counts[0]"),
    ],
)
def test_malformed_json_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        TrainableClassifier.from_json(_saved(changes))
    assert info.value.field == field


@pytest.mark.parametrize("text", ["not json", "[]", "{", "null"])
def test_text_that_is_not_a_saved_classifier_is_refused(text: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        TrainableClassifier.from_json(text)
    assert info.value.field == "data"


def test_malformed_linear_json_is_refused_naming_the_field() -> None:
    needs_sklearn("sklearn")
    data = TrainableClassifier("linear").fit(TEXTS, LABELS).to_dict()
    data["model"]["idf"] = data["model"]["idf"][:-1]
    with pytest.raises(ValidationFailed) as info:
        TrainableClassifier.from_dict(data)
    assert info.value.field == "model.idf"
    data["model"]["idf"] = [float("nan")] * len(data["model"]["vocabulary"])
    with pytest.raises(ValidationFailed) as info:
        TrainableClassifier.from_dict(data)
    assert info.value.field == "model.idf"


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("texts", "labels", "field"),
    [
        (["a", "b"], ["x"], "labels"),
        (["a", "b"], ["x", "x"], "labels"),
        ("ab", ["x", "y"], "texts"),
        ([1, "b"], ["x", "y"], "texts[0]"),
        (["a", "b"], ["x", " "], "labels[1]"),
        (["a", "b"], ["x", "y" * 101], "labels[1]"),
        (["a", "\ud800"], ["x", "y"], "texts[1]"),
    ],
)
def test_bad_training_data_is_refused(
    backend: str, texts: list[object], labels: list[object], field: str
) -> None:
    classifier = TrainableClassifier(backend)  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as info:
        classifier.fit(texts, labels)  # type: ignore[arg-type]
    assert info.value.field == field
    assert not classifier.is_trained


def test_linear_training_on_texts_without_letters_is_refused() -> None:
    needs_sklearn("sklearn")
    with pytest.raises(ValidationFailed) as info:
        TrainableClassifier("linear").fit(["", "  "], ["x", "y"])
    assert info.value.field == "texts"


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        TrainableClassifier("svm")  # type: ignore[arg-type]
    assert info.value.field == "backend"
    with pytest.raises(ValidationFailed) as info:
        TrainableClassifier(top_k=0)
    assert info.value.field == "top_k"
    with pytest.raises(ValidationFailed) as info:
        TrainableClassifier("naive_bayes").correct("text", "")
    assert info.value.field == "label"


def test_the_linear_backend_without_the_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trainable, "sklearn_available", lambda: False)
    with pytest.raises(OptionalDependencyMissing) as info:
        TrainableClassifier("linear")
    assert info.value.extra == "ml"
    assert TrainableClassifier().backend == "naive_bayes"  # auto falls back
