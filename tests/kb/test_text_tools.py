"""The search's text tools: features, synonyms and snippets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from supportflow.errors import ValidationFailed
from supportflow.kb.analysis import CJK, WORD, features, normalize, runs, words
from supportflow.kb.snippets import QueryTerms, make_snippet
from supportflow.kb.synonyms import MAX_SYNONYM_RULES, Synonyms


def test_normalize_folds_case_and_full_width() -> None:
    assert normalize("ＲＥＦＵＮＤ Straße") == "refund strasse"
    assert normalize("ABC") == "abc"


def test_latin_words_give_the_word_and_padded_trigrams() -> None:
    found = features("Card")
    assert found == {WORD + "card": 1.0, " ca": 1.0, "car": 1.0, "ard": 1.0, "rd ": 1.0}


def test_cjk_runs_give_grams_without_spaces() -> None:
    found = features("无法登录")
    assert found[CJK + "无"] == 1.0
    assert found[CJK + "登录"] == 1.0
    assert found[CJK + "法登录"] == 1.0
    assert CJK + "无法登录" not in found  # at most trigrams
    assert not any(key.startswith(WORD) for key in found)


def test_mixed_text_splits_scripts() -> None:
    found = features("VPN无法连接")
    assert WORD + "vpn" in found
    assert CJK + "无法" in found
    assert words("VPN无法连接 now") == ["vpn", "now"]


def test_counts_add_up_and_accumulate() -> None:
    counts = features("card card")
    assert counts[WORD + "card"] == 2.0
    features("card", counts)
    assert counts[WORD + "card"] == 3.0


def padded_each(text: str) -> dict[str, float]:
    """The features as the module docstring defines them, word by word (slow, plain)."""
    found: dict[str, float] = {}
    for run in runs(normalize(text)):
        if run.cjk:
            grams = [
                CJK + run.text[i : i + n] for n in (1, 2, 3) for i in range(len(run.text) - n + 1)
            ]
        else:
            padded = f" {run.text} "
            grams = [WORD + run.text] + [padded[i : i + 3] for i in range(len(padded) - 2)]
        for gram in grams:
            found[gram] = found.get(gram, 0.0) + 1.0
    return found


@settings(max_examples=80)
@given(st.text(max_size=120) | st.text(alphabet="ab 无法,登x", max_size=60))
def test_fast_counting_equals_padding_each_word(text: str) -> None:
    assert features(text) == padded_each(text)


@settings(max_examples=40)
@given(st.text(max_size=60))
def test_features_are_positive_counts_of_short_grams(text: str) -> None:
    for key, count in features(text).items():
        assert count >= 1.0
        assert key.startswith((WORD, CJK)) or len(key) == 3


def test_synonym_groups_find_each_other() -> None:
    synonyms = Synonyms.from_groups([["refund", "money back", "reimbursement"]])
    assert synonyms.expand("i want my money back") == ["refund", "reimbursement"]
    assert synonyms.expand("refund please") == ["money back", "reimbursement"]
    assert synonyms.expand("refunds") == []  # whole words only


def test_one_way_rules_only_rewrite_rightwards() -> None:
    synonyms = Synonyms.parse("# comment\n\npwd => password\n登录, 登入\n")
    assert synonyms.expand("reset pwd") == ["password"]
    assert synonyms.expand("reset password") == []
    assert synonyms.expand("无法登入") == ["登录"]  # Chinese matches without word boundaries
    assert len(synonyms) == 3


def test_from_mapping_and_normalisation() -> None:
    synonyms = Synonyms.from_mapping({"ＰＷＤ": ["Password"]})
    assert synonyms.expand("forgot pwd") == ["password"]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("a => b => c", "line 1"),
        ("lonely", "line 1"),
        ("ok, fine\n => x", "line 2"),
    ],
)
def test_bad_synonym_files_name_the_line(text: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        Synonyms.parse(text)
    assert caught.value.field == field


def test_bad_synonym_groups_name_the_group() -> None:
    with pytest.raises(ValidationFailed) as caught:
        Synonyms.from_groups([["a", "b"], ["c", "  "]])
    assert caught.value.field == "groups[1][1]"
    with pytest.raises(ValidationFailed) as caught:
        Synonyms.from_groups(["ab"])  # type: ignore[list-item]
    assert caught.value.field == "groups[0]"
    with pytest.raises(ValidationFailed):
        Synonyms.from_mapping({"a": "b"})  # type: ignore[dict-item]


def test_too_many_rules_are_refused() -> None:
    groups = [[f"w{i}", f"v{i}"] for i in range(MAX_SYNONYM_RULES // 2 + 1)]
    with pytest.raises(ValidationFailed) as caught:
        Synonyms.from_groups(groups)
    assert caught.value.field == "synonyms"


def test_snippet_marks_query_words_in_the_original_text() -> None:
    text = "Refunds take 5 days. If your REFUND has not arrived, contact us."
    snippet, spans = make_snippet(text, QueryTerms.of("refund not received"))
    assert [snippet[s:e] for s, e in spans] == ["REFUND", "not"]


def test_snippet_marks_chinese_bigrams() -> None:
    snippet, spans = make_snippet("如果您无法登录账户，请重置密码。", QueryTerms.of("最近无法登录"))
    assert [snippet[s:e] for s, e in spans] == ["无法登录"]


def test_snippet_picks_the_window_with_most_matches() -> None:
    text = "refund " + "filler " * 60 + "refund not received here"
    snippet, spans = make_snippet(text, QueryTerms.of("refund not received"), width=60)
    assert snippet.startswith("…")
    assert [snippet[s:e] for s, e in spans] == ["refund", "not", "received"]


def test_snippet_without_match_is_the_start() -> None:
    snippet, spans = make_snippet("alpha beta gamma " * 30, QueryTerms.of("zeta"), width=40)
    assert snippet.startswith("alpha beta")
    assert snippet.endswith("…")
    assert spans == ()


@settings(max_examples=60)
@given(
    st.text(alphabet="ab 无法登录x", max_size=300),
    st.text(alphabet="ab 无法登录", max_size=20),
    st.integers(min_value=10, max_value=120),
)
def test_highlights_are_ordered_and_inside_the_snippet(text: str, query: str, width: int) -> None:
    snippet, spans = make_snippet(text, QueryTerms.of(query), width=width)
    last = 0
    for start, end in spans:
        assert last <= start < end <= len(snippet)
        last = end
    assert len(snippet) <= width + 2  # two ellipses at most
