"""Text helpers: telling Chinese from English, and subjects taken from a body."""

from __future__ import annotations

import pytest

from supportflow.text import detect_language, has_cjk, subject_from_body


@pytest.mark.parametrize(
    "text",
    ["我的订单还没有到", "请帮我重置密码，谢谢！", "退款什么时候到账?"],
)
def test_detect_language_chinese(text: str) -> None:
    assert detect_language(text) == "zh"


@pytest.mark.parametrize(
    "text",
    ["My order has not arrived", "Pls reset my pasword, thx!!", "Refund ETA? order #8812"],
)
def test_detect_language_english(text: str) -> None:
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    ["我的 order 还没有 arrive, please check", "VPN 连不上了, error code 809 again"],
)
def test_detect_language_mixed(text: str) -> None:
    assert detect_language(text) == "mixed"


@pytest.mark.parametrize("text", ["", "   \n\t", "12345 !!!", "🙂🙂"])
def test_detect_language_without_letters_is_undetermined(text: str) -> None:
    assert detect_language(text) == "und"


def test_detect_language_english_with_one_chinese_name_is_english() -> None:
    assert detect_language("Please forward this invoice to our accountant 王 today") == "en"


def test_detect_language_chinese_with_one_english_brand_is_chinese() -> None:
    assert detect_language("我的iPhone屏幕碎了，需要维修，请问多少钱") == "zh"


def test_detect_language_counts_extension_b_ideographs() -> None:
    assert detect_language("𠀀𠀁𠀂") == "zh"


def test_detect_language_reads_fullwidth_latin_as_english() -> None:
    """Chinese keyboards often type Latin letters full width."""
    assert detect_language("ｍｙ ｏｒｄｅｒ ｉｓ ｌａｔｅ") == "en"


def test_has_cjk_finds_one_ideograph() -> None:
    assert has_cjk("order 8812 号")


def test_has_cjk_false_for_latin_and_punctuation() -> None:
    assert not has_cjk("order #8812, thanks!，。")


def test_subject_from_body_takes_the_first_non_blank_line() -> None:
    assert subject_from_body("\n   \n  Printer offline  \nIt shows error 5") == "Printer offline"


def test_subject_from_body_keeps_a_line_at_the_limit() -> None:
    line = "x" * 80
    assert subject_from_body(line) == line


def test_subject_from_body_shortens_a_long_line_with_an_ellipsis() -> None:
    subject = subject_from_body("word " * 40)
    assert len(subject) <= 80
    assert subject.endswith("…")
    assert subject.startswith("word word")


def test_subject_from_body_respects_a_custom_limit() -> None:
    assert subject_from_body("abcdefghij", limit=5) == "abcd…"


def test_subject_from_body_of_chinese_text() -> None:
    assert subject_from_body("打印机离线\n错误代码5") == "打印机离线"


@pytest.mark.parametrize("body", ["", "  \n \t\n"])
def test_subject_from_blank_body_is_empty(body: str) -> None:
    assert subject_from_body(body) == ""
