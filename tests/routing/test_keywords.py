"""The keyword classifier: default rule sets in English and Chinese, typos, complaints."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from supportflow import Channel, ComplaintCategory, SupportflowError, Ticket, ValidationFailed
from supportflow.routing import KeywordClassifier, KeywordRule

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CLASSIFIER = KeywordClassifier()

ANY_TEXT = st.one_of(
    st.text(max_size=300),
    st.text(st.characters(categories=["Cs", "So", "Lo", "Zs"]), max_size=200),
    st.text(alphabet="refund 退款 登录 urgent", max_size=200),
)


def _ticket(body: str, subject: str = "") -> Ticket:
    return Ticket(
        id="t-1",
        channel=Channel.EMAIL,
        customer_id="c-1",
        subject=subject,
        body=body,
        created_at=AT,
        updated_at=AT,
    )


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("I was charged twice, please send the invoice", "billing"),
        ("The app crashes with an error when I upload", "technical"),
        ("I forgot my password and my account is locked out", "account"),
        ("When will the technician visit for the installation?", "service"),
        ("我要退款，上个月多扣了费用", "billing"),
        ("软件一打开就闪退，还报错", "technical"),
        ("账号密码忘了，收不到验证码", "account"),
        ("请安排上门维修", "service"),
    ],
)
def test_default_rules_find_the_request_type(text: str, category: str) -> None:
    result = CLASSIFIER.classify(_ticket(text))
    assert result is not None
    assert result.category == category
    assert result.confidence > 0.5


def test_a_typo_still_finds_the_keyword() -> None:
    result = CLASSIFIER.classify_text("I want a refnud")
    assert result.category == "billing"
    assert any("refnud" in line for line in result.evidence)


def test_inflections_match_the_keyword() -> None:
    assert CLASSIFIER.classify_text("It was refunded twice").category == "billing"


def test_short_words_do_not_match_through_a_typo() -> None:
    """ "bill" is 4 letters: "will" or "pill" must not count as billing."""
    assert CLASSIFIER.classify_text("will you pill it").category is None


def test_common_near_words_are_not_typos() -> None:
    """ "change" is one edit from "charge" but is not billing."""
    assert CLASSIFIER.classify_text("please change it").category is None


def test_the_subject_counts_too() -> None:
    result = CLASSIFIER.classify(_ticket("see above", subject="Refund request"))
    assert result is not None
    assert result.category == "billing"


def test_competing_hits_lower_the_confidence() -> None:
    alone = CLASSIFIER.classify_text("refund")
    mixed = CLASSIFIER.classify_text("refund password")
    assert mixed.confidence < alone.confidence
    assert {label for label, _ in mixed.labels} == {"billing", "account"}


def test_no_hit_means_no_opinion_on_the_category() -> None:
    result = CLASSIFIER.classify_text("hello there")
    assert result.category is None
    assert result.confidence == 0.0
    assert result.labels == ()


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("The agent was rude and hung up on me", ComplaintCategory.SERVICE_ATTITUDE),
        ("Unacceptable: the item arrived damaged and defective", ComplaintCategory.PRODUCT_QUALITY),
        (
            "I'm disappointed, the export feature fails every time",
            ComplaintCategory.FUNCTIONAL_PROBLEM,
        ),
        ("客服态度太差了，我要投诉", ComplaintCategory.SERVICE_ATTITUDE),
        ("质量太差，收到就坏了，差评", ComplaintCategory.PRODUCT_QUALITY),
        ("This is the worst company ever", ComplaintCategory.OTHER),
    ],
)
def test_complaints_get_a_complaint_category(text: str, complaint: ComplaintCategory) -> None:
    assert CLASSIFIER.classify_text(text).complaint_category is complaint


def test_a_request_without_complaint_cue_is_not_a_complaint() -> None:
    assert CLASSIFIER.classify_text("The export feature fails").complaint_category is None


def test_language_is_detected() -> None:
    assert CLASSIFIER.classify_text("我要退款").language == "zh"
    assert CLASSIFIER.classify_text("refund").language == "en"


def test_host_rules_replace_the_defaults() -> None:
    classifier = KeywordClassifier(
        [KeywordRule("shipping", ("parcel", "包裹")), KeywordRule("returns", ("send back",))]
    )
    assert classifier.classify_text("where is my parcel").category == "shipping"
    assert classifier.classify_text("我的包裹呢").category == "shipping"
    assert classifier.classify_text("can I send back the shoes").category == "returns"
    assert classifier.classify_text("refund").category is None


def test_rule_weight_breaks_a_draw() -> None:
    classifier = KeywordClassifier(
        [KeywordRule("a", ("alpha",)), KeywordRule("b", ("bravo",), weight=2.0)]
    )
    assert classifier.classify_text("alpha bravo").category == "b"


def test_equal_scores_go_to_the_rule_listed_first() -> None:
    classifier = KeywordClassifier([KeywordRule("a", ("alpha",)), KeywordRule("b", ("bravo",))])
    assert classifier.classify_text("bravo alpha").category == "a"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"label": "", "phrases": ("x",)}, "label"),
        ({"label": "x" * 101, "phrases": ("x",)}, "label"),
        ({"label": "a", "phrases": ()}, "phrases"),
        ({"label": "a", "phrases": ("ok", "  ")}, "phrases[1]"),
        ({"label": "a", "phrases": ("ok", "!!")}, "phrases[1]"),
        ({"label": "a", "phrases": ("ok",), "weight": 0}, "weight"),
        ({"label": "a", "phrases": ("ok",), "weight": float("nan")}, "weight"),
    ],
)
def test_bad_rules_are_refused(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        KeywordRule(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_bad_classifier_arguments_are_refused() -> None:
    with pytest.raises(ValidationFailed) as info:
        KeywordClassifier(["billing"])  # type: ignore[list-item]
    assert info.value.field == "request_rules[0]"
    with pytest.raises(ValidationFailed) as info:
        KeywordClassifier(complaint_rules=[KeywordRule("mood", ("sad",))])
    assert info.value.field == "complaint_rules[0].label"
    with pytest.raises(ValidationFailed) as info:
        KeywordClassifier(top_k=0)
    assert info.value.field == "top_k"


def test_bad_text_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ValidationFailed) as info:
        CLASSIFIER.classify_text(42)  # type: ignore[arg-type]
    assert info.value.field == "text"
    with pytest.raises(ValidationFailed) as info:
        CLASSIFIER.classify_text("x" * 200_000)
    assert info.value.field == "text"
    with pytest.raises(ValidationFailed) as info:
        CLASSIFIER.classify("refund")  # type: ignore[arg-type]
    assert info.value.field == "ticket"


@settings(max_examples=150, deadline=None)
@given(text=ANY_TEXT)
@example(text="")
@example(text="🙂" * 1000)
@example(text="refund 退款 " * 9_000)
@example(text="x" * 100_000)
def test_any_text_classifies_deterministically(text: str) -> None:
    """Any Unicode text gets an answer (no exception), the same one twice."""
    first = CLASSIFIER.classify_text(text)
    assert first == CLASSIFIER.classify_text(text)
    assert 0.0 <= first.confidence <= 1.0
    assert [c for _, c in first.labels] == sorted((c for _, c in first.labels), reverse=True)


@settings(max_examples=50, deadline=None)
@given(value=st.one_of(st.integers(), st.binary(), st.none(), st.lists(st.text())))
def test_anything_but_text_raises_only_validation_failed(value: object) -> None:
    with pytest.raises(SupportflowError):
        CLASSIFIER.classify_text(value)  # type: ignore[arg-type]
