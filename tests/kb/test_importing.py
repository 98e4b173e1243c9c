"""Importing a help center: JSON, JSON Lines, CSV and Markdown exports, aliases, errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supportflow.errors import SupportflowError, ValidationFailed
from supportflow.kb.articles import Article, ArticleStatus, Audience
from supportflow.kb.importing import (
    articles_from_csv,
    articles_from_json,
    articles_from_jsonl,
    articles_from_markdown,
    load_articles,
)
from supportflow.testing.strategies import articles

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HELP_CENTER = Path(__file__).parent / "data" / "help_center"
PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def one(record: dict[str, Any], **options: Any) -> Article:
    """The single article a one-record JSON export gives."""
    (article,) = articles_from_json(json.dumps([record]), now=NOW, **options)
    return article


def refusal(call: Any, *args: Any, **kwargs: Any) -> ValidationFailed:
    """The ``ValidationFailed`` a call raises."""
    with pytest.raises(ValidationFailed) as caught:
        call(*args, now=NOW, **kwargs)
    return caught.value


# -- the fixture help center ------------------------------------------------------------


def test_json_export_loads_a_zendesk_style_help_center() -> None:
    """The fixture JSON has an "articles" list, HTML bodies, numeric ids and locales."""
    loaded = load_articles(HELP_CENTER / "export.json", now=NOW)
    assert [a.id for a in loaded] == ["360001001", "360001002", "360001003", "360001004"]
    billing = loaded[0]
    assert billing.title == "How am I billed for my subscription?"
    assert billing.body.startswith("Billing cycle\n\nCloudpad bills your subscription in advance")
    assert "- Monthly plans renew on the signup day.\n- Annual plans" in billing.body
    assert billing.tags == ("billing", "subscription")
    assert (billing.language, billing.product, billing.owner_id) == ("en", "billing", "9001")
    assert billing.created_at == datetime(2024, 2, 1, 9, 30, tzinfo=UTC)
    assert billing.updated_at == datetime(2025, 6, 18, 14, 5, tzinfo=UTC)
    refund = loaded[2]
    assert (refund.title, refund.language, refund.tags) == (
        "如何申请退款？",
        "zh",
        ("退款", "账单"),
    )
    assert "「账户设置 > 账单」" in refund.body
    assert [a.status for a in loaded] == [ArticleStatus.PUBLISHED] * 3 + [ArticleStatus.DRAFT]
    assert all(a.version == 1 and a.last_reviewed_at is None for a in loaded)


def test_csv_export_loads_with_aliased_columns_and_multiline_answers() -> None:
    loaded = load_articles(HELP_CENTER / "export.csv", now=NOW)
    assert [a.id for a in loaded] == [
        "faq-upgrade",
        "faq-invoice-email",
        "faq-refund-window",
        "faq-locked-account",
    ]
    upgrade = loaded[0]
    assert upgrade.title == "How do I upgrade or downgrade my plan?"
    assert upgrade.body.count("\n") == 1
    assert upgrade.tags == ("billing", "plan", "upgrade")
    assert (upgrade.language, upgrade.product, upgrade.owner_id) == ("en", "billing", "a-lin")
    assert loaded[1].tags == ("invoice", "billing")
    assert loaded[2].language == "zh"
    assert loaded[2].updated_at == datetime(2025, 5, 12, 1, 0, tzinfo=UTC)
    assert loaded[3].audience is Audience.INTERNAL


def test_markdown_folder_loads_recursively_in_path_order() -> None:
    loaded = load_articles(HELP_CENTER / "markdown", now=NOW)
    assert [a.title for a in loaded] == [
        "Setting up two-factor authentication",
        "Updating your payment method",
        "退款多久能到账？",
    ]
    two_factor, payment, refund = loaded
    assert two_factor.id == "md-2fa"
    assert two_factor.tags == ("login", "security", "2fa")
    assert two_factor.body.startswith("Two-factor authentication (2FA) protects")
    assert two_factor.created_at == two_factor.updated_at == datetime(2025, 8, 14, 9, tzinfo=UTC)
    assert payment.body.startswith("Cloudpad accepts Visa")
    assert "# Updating" not in payment.body
    assert (payment.language, payment.created_at) == ("en", NOW)
    assert (refund.language, refund.tags, refund.product) == ("zh", ("退款", "支付"), "refunds")
    assert refund.id.startswith("kb-")


def test_the_fixture_formats_load_together_without_clashing_ids() -> None:
    """The three exports describe one small help center, in English and Chinese."""
    ids = [
        a.id for part in ("export.json", "export.csv", "markdown")
        for a in load_articles(HELP_CENTER / part, now=NOW)
    ]  # fmt: skip
    assert len(ids) == len(set(ids)) == 11


# -- formats ----------------------------------------------------------------------------


def test_json_accepts_a_bare_list() -> None:
    (article,) = articles_from_json('[{"title": "Reset your password"}]', now=NOW)
    assert article.title == "Reset your password"


def test_json_accepts_bytes_with_a_byte_order_mark() -> None:
    text = '{"articles": [{"title": "发票"}]}'.encode("utf-8-sig")
    (article,) = articles_from_json(text, now=NOW)
    assert article.title == "发票"


def test_jsonl_reads_one_object_per_line_skipping_blank_ones() -> None:
    text = '{"title": "Login help"}\n\n{"question": "如何退款？"}\n'
    loaded = articles_from_jsonl(text, now=NOW)
    assert [a.title for a in loaded] == ["Login help", "如何退款？"]


def test_jsonl_file_is_loaded_by_suffix(tmp_path: Path) -> None:
    path = tmp_path / "export.JSONL"
    path.write_text('{"title": "Invoices"}\n', encoding="utf-8")
    assert [a.title for a in load_articles(path, now=NOW)] == ["Invoices"]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_delimiter_is_the_one_the_header_uses(delimiter: str) -> None:
    text = f"title{delimiter}tags\nRefunds{delimiter}billing|refund\n"
    (article,) = articles_from_csv(text, now=NOW)
    assert (article.title, article.tags) == ("Refunds", ("billing", "refund"))


def test_csv_skips_empty_rows_and_empty_cells_count_as_absent() -> None:
    text = "title,product,lang\nBilling FAQ,,\n,,\n"
    (article,) = articles_from_csv(text, now=NOW)
    assert (article.product, article.language) == (None, "en")


def test_csv_with_only_a_header_or_nothing_gives_no_articles() -> None:
    assert articles_from_csv("title,body\n", now=NOW) == []
    assert articles_from_csv("", now=NOW) == []


def test_markdown_title_falls_back_to_the_file_name() -> None:
    (article,) = articles_from_markdown(
        "Click *Forgot password*.", source_name="account/reset_password.md", now=NOW
    )
    assert (article.title, article.body) == ("reset password", "Click *Forgot password*.")


def test_markdown_heading_inside_a_code_fence_is_not_the_title() -> None:
    text = "```bash\n# not a title\n```\n\n# Using the API\n\nCall it."
    (article,) = articles_from_markdown(text, source_name="api.md", now=NOW)
    assert article.title == "Using the API"
    assert article.body == "```bash\n# not a title\n```\n\nCall it."


def test_markdown_front_matter_title_keeps_the_whole_body() -> None:
    text = "---\ntitle: 登录失败怎么办？\n---\n# 登录\n\n请先重置密码。\n"
    (article,) = articles_from_markdown(text, source_name="login.md", now=NOW)
    assert (article.title, article.body) == ("登录失败怎么办？", "# 登录\n\n请先重置密码。")
    assert article.language == "zh"


@pytest.mark.parametrize(
    "tags",
    [
        "tags: [billing, 'refund', \"发票\"]",
        "tags:\n  - billing\n  - refund\n  - 发票",
        "keywords: billing, refund; 发票",
    ],
)
def test_markdown_front_matter_lists(tags: str) -> None:
    text = f"---\n# comments are skipped\ntitle: Refunds\n{tags}\n---\nBody"
    (article,) = articles_from_markdown(text, source_name="r.md", now=NOW)
    assert article.tags == ("billing", "refund", "发票")


def test_markdown_front_matter_reads_flags_and_quoted_values() -> None:
    text = "---\ntitle: 'Unlock: admin only'\ndraft: yes\ninternal: true\n---\nSteps."
    (article,) = articles_from_markdown(text, source_name="unlock.md", now=NOW)
    assert article.title == "Unlock: admin only"
    assert (article.status, article.audience) == (ArticleStatus.DRAFT, Audience.INTERNAL)


def test_markdown_windows_line_endings() -> None:
    text = "---\r\ntitle: Invoices\r\n---\r\nLine one\r\nLine two\r\n"
    (article,) = articles_from_markdown(text, source_name="i.md", now=NOW)
    assert (article.title, article.body) == ("Invoices", "Line one\nLine two")


def test_single_markdown_file_is_loaded_by_suffix(tmp_path: Path) -> None:
    path = tmp_path / "billing.md"
    path.write_text("# Billing\n\nMonthly.", encoding="utf-8")
    assert [a.title for a in load_articles(path, now=NOW)] == ["Billing"]


def test_empty_directory_gives_no_articles(tmp_path: Path) -> None:
    assert load_articles(tmp_path, now=NOW) == []


def test_directory_skips_hidden_and_other_files(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "x.md").write_text("# Hidden", encoding="utf-8")
    (tmp_path / ".draft.md").write_text("# Hidden too", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not markdown", encoding="utf-8")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "a.md").write_text("# Second", encoding="utf-8")
    (tmp_path / "a.MD").write_text("# First", encoding="utf-8")
    assert [a.title for a in load_articles(str(tmp_path), now=NOW)] == ["First", "Second"]


# -- aliases ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "field", "expected"),
    [
        ("id", "kb-7", "id", "kb-7"),
        ("article_id", 42, "id", "42"),
        ("slug", "reset-password", "id", "reset-password"),
        ("body", "Plain <b>kept</b>", "body", "Plain <b>kept</b>"),
        ("content", "Content", "body", "Content"),
        ("answer", "Answer", "body", "Answer"),
        ("html_body", "<p>A &amp; B</p>", "body", "A & B"),
        ("body_html", "<p>x</p><p>y</p>", "body", "x\n\ny"),
        ("tags", ["a", " b ", "a"], "tags", ("a", "b")),
        ("labels", "a, b;c", "tags", ("a", "b", "c")),
        ("keywords", "退款，发票、账单", "tags", ("退款", "发票", "账单")),
        ("label_names", ["billing"], "tags", ("billing",)),
        ("language", "EN", "language", "en"),
        ("locale", "zh-CN", "language", "zh"),
        ("lang", "zh_Hans", "language", "zh"),
        ("locale", "zh-TW", "language", "zh"),
        ("locale", "en-US", "language", "en"),
        ("product", "billing", "product", "billing"),
        ("section", "Account", "product", "Account"),
        ("category", "退款", "product", "退款"),
        ("audience", "Internal", "audience", Audience.INTERNAL),
        ("visibility", "public", "audience", Audience.PUBLIC),
        ("internal", True, "audience", Audience.INTERNAL),
        ("internal", "false", "audience", Audience.PUBLIC),
        ("status", "in review", "status", ArticleStatus.IN_REVIEW),
        ("state", "archived", "status", ArticleStatus.ARCHIVED),
        ("draft", True, "status", ArticleStatus.DRAFT),
        ("draft", False, "status", ArticleStatus.PUBLISHED),
        ("owner", "a-lin", "owner_id", "a-lin"),
        ("author", "a-wang", "owner_id", "a-wang"),
        ("author_id", 9001, "owner_id", "9001"),
        ("last_reviewed_at", "2025-01-02T03:04:05+08:00", "last_reviewed_at",
         datetime(2025, 1, 1, 19, 4, 5, tzinfo=UTC)),
        ("review_interval", "P90D", "review_interval", timedelta(days=90)),
        ("helpful_votes", 3, "helpful_votes", 3),
        ("solved_ticket_ids", ["t-1"], "solved_ticket_ids", ("t-1",)),
    ],
)  # fmt: skip
def test_json_alias(key: str, value: object, field: str, expected: object) -> None:
    article = one({"title": "Refunds", key: value})
    assert getattr(article, field) == expected


@pytest.mark.parametrize(("key", "title"), [("question", "Q?"), ("name", "N"), ("Title", "T")])
def test_title_aliases_and_key_case(key: str, title: str) -> None:
    assert one({key: title}).title == title


def test_keys_match_with_spaces_hyphens_and_case() -> None:
    article = one({"Title": "x", "Last Reviewed At": "2025-01-01T00:00:00Z", "HTML-Body": "<p>y"})
    assert article.last_reviewed_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert article.body == "y"


def test_canonical_key_wins_over_its_aliases() -> None:
    """Zendesk exports carry both title and name; the first listed alias wins."""
    article = one({"name": "Old name", "title": "Title", "body": "plain", "html_body": "<p>h"})
    assert (article.title, article.body) == ("Title", "plain")


def test_empty_values_fall_through_to_the_next_alias() -> None:
    assert one({"title": None, "question": "", "name": "Named"}).title == "Named"


def test_unknown_keys_and_given_versions_are_ignored() -> None:
    article = one({"title": "x", "html_url": "https://example.com", "vote_sum": 3, "version": 9})
    assert article.version == 1


def test_csv_headers_take_the_same_aliases() -> None:
    text = (
        "Slug,Question,Answer,Section,Labels,Locale,Visibility,Author,Created At\n"
        "refund-window,Can I get a refund?,Within 14 days.,refunds,billing;refund,en-GB,"
        "internal,a-ops,2025-03-01T08:00:00+08:00\n"
    )
    (article,) = articles_from_csv(text, now=NOW)
    assert article.id == "refund-window"
    assert (article.title, article.body) == ("Can I get a refund?", "Within 14 days.")
    assert (article.product, article.tags, article.language) == (
        "refunds",
        ("billing", "refund"),
        "en",
    )
    assert (article.audience, article.owner_id) == (Audience.INTERNAL, "a-ops")
    assert article.created_at == datetime(2025, 3, 1, tzinfo=UTC)


def test_csv_html_body_column_is_stripped() -> None:
    text = 'title,html_body\nInvoices,"<p>Download&nbsp;PDF</p><ul><li>one</li><li>two</li></ul>"\n'
    (article,) = articles_from_csv(text, now=NOW)
    assert article.body == "Download PDF\n\n- one\n- two"


def test_defaults_fill_what_records_leave_empty() -> None:
    defaults = {"product": "billing", "tags": "imported", "last_reviewed_at": NOW}
    loaded = articles_from_json(
        '[{"title": "a"}, {"title": "b", "product": "refunds"}]', now=NOW, defaults=defaults
    )
    assert [(a.product, a.tags) for a in loaded] == [
        ("billing", ("imported",)),
        ("refunds", ("imported",)),
    ]
    assert loaded[0].last_reviewed_at == NOW


def test_status_argument_applies_when_a_record_has_none() -> None:
    loaded = articles_from_json(
        '[{"title": "a"}, {"title": "b", "status": "published"}]',
        now=NOW,
        status=ArticleStatus.IN_REVIEW,
    )
    assert [a.status for a in loaded] == [ArticleStatus.IN_REVIEW, ArticleStatus.PUBLISHED]


# -- derived fields ---------------------------------------------------------------------


def test_missing_id_is_derived_from_the_normalised_title() -> None:
    first = one({"title": "Reset  your Password"})
    assert first.id.startswith("kb-")
    assert len(first.id) == 15
    assert one({"title": " reset your password "}).id == first.id
    assert one({"title": "Reset your email"}).id != first.id


def test_cjk_titles_get_stable_ids_and_chinese_language() -> None:
    first = one({"title": "如何下载发票？", "body": "在账单页面下载。"})
    assert first.id == one({"title": "如何下载发票？"}).id
    assert first.id != one({"title": "如何申请退款？"}).id
    assert first.language == "zh"


@pytest.mark.parametrize(
    ("title", "body", "language"),
    [
        ("Refund policy", "Refunds within 14 days.", "en"),
        ("退款政策", "购买后十四天内可以申请退款。", "zh"),
        ("VPN 连接失败", "VPN client error after update 更新", "mixed"),
        ("123", "", "en"),
    ],
)
def test_missing_language_is_detected(title: str, body: str, language: str) -> None:
    assert one({"title": title, "body": body}).language == language


def test_missing_times_default_to_now() -> None:
    article = one({"title": "x"})
    assert article.created_at == article.updated_at == NOW


def test_only_updated_at_given_sets_created_at_no_later() -> None:
    article = one({"title": "x", "updated_at": "2025-01-01T00:00:00Z"})
    assert article.created_at == article.updated_at == datetime(2025, 1, 1, tzinfo=UTC)


def test_only_created_at_given_in_the_future_keeps_updated_at_after_it() -> None:
    article = one({"title": "x", "created_at": "2027-01-01T00:00:00+08:00"})
    assert article.updated_at == article.created_at


def test_html_is_stripped_with_paragraphs_and_breaks_kept() -> None:
    html = (
        "<h1>Invoices</h1>\n<p>Open   <em>Billing</em>&nbsp;&gt; Invoices.<br>Choose a month."
        "<br/><br/>Done.</p><script>track()</script><style>p{}</style>"
        "<pre>line 1\n  line 2</pre><p>&#20320;&#22909; &lt;3 caf&eacute;</p>"
    )
    assert one({"title": "x", "html_body": html}).body == (
        "Invoices\n\nOpen Billing > Invoices.\nChoose a month.\n\nDone.\n\n"
        "line 1\n  line 2\n\n你好 <3 café"
    )


# -- refusals ---------------------------------------------------------------------------


def test_json_error_names_the_record_index() -> None:
    text = json.dumps([{"title": "ok"}, {"title": "ok 2"}, {"title": "x", "tags": 3}])
    error = refusal(articles_from_json, text)
    assert error.field == "articles[2].tags"


def test_json_missing_title_names_the_field_and_aliases() -> None:
    error = refusal(articles_from_json, '{"articles": [{"title": "a"}, {"body": "b"}]}')
    assert error.field == "articles[1].title"
    assert "question" in error.reason


def test_error_reason_names_the_alias_the_export_used() -> None:
    error = refusal(articles_from_json, '[{"title": "x", "visibility": "secret"}]')
    assert error.field == "articles[0].audience"
    assert "(key 'visibility')" in error.reason


def test_model_errors_are_located_too() -> None:
    error = refusal(articles_from_json, json.dumps([{"title": "x" * 501}]))
    assert error.field == "articles[0].title"
    error = refusal(articles_from_json, '[{"title": "x", "helpful_votes": -1}]')
    assert error.field == "articles[0].helpful_votes"


def test_jsonl_error_names_the_line() -> None:
    text = '{"title": "a"}\n\n{"title": "b", "created_at": "2025-01-01T00:00:00"}\n'
    error = refusal(articles_from_jsonl, text)
    assert error.field == "line 3: created_at"


def test_jsonl_bad_line_is_named() -> None:
    assert refusal(articles_from_jsonl, '{"title": "a"}\n{oops\n').field == "line 2"
    assert refusal(articles_from_jsonl, '["not an object"]\n').field == "line 1"


def test_csv_error_names_the_row_as_a_spreadsheet_counts_it() -> None:
    """A quoted multi-line cell is still one row; the header is row 1."""
    text = 'question,answer\nFirst,"two\nlines"\nSecond,ok\n,no title\n'
    error = refusal(articles_from_csv, text)
    assert error.field == "row 4: title"


def test_csv_blank_title_names_the_column_used() -> None:
    error = refusal(articles_from_csv, "question,answer\n   ,text\n")
    assert error.field == "row 2: title"
    assert "(column 'question')" in error.reason


def test_csv_row_with_too_many_cells_is_refused() -> None:
    error = refusal(articles_from_csv, "title\nOne,extra\n")
    assert error.field == "row 2"


def test_csv_repeated_header_is_refused() -> None:
    error = refusal(articles_from_csv, "Title,title\na,b\n")
    assert error.field == "row 1"


def test_csv_with_broken_quoting_is_refused() -> None:
    error = refusal(articles_from_csv, 'title,body\n"a"b,c\n')
    assert error.field == "csv"


def test_csv_unterminated_quote_is_refused() -> None:
    assert refusal(articles_from_csv, 'title,body\na,"never closed\n').field == "csv"


def test_markdown_error_names_the_file_and_field() -> None:
    text = "---\nlanguage: not a tag!\n---\n# Title\n"
    error = refusal(articles_from_markdown, text, source_name="billing/refunds.md")
    assert error.field == "billing/refunds.md: language"


def test_markdown_error_in_a_directory_names_the_relative_path(tmp_path: Path) -> None:
    (tmp_path / "billing").mkdir()
    (tmp_path / "billing" / "refunds.md").write_text(
        "---\nupdated_at: 2025-01-01 10:00\n---\n# Refunds\n", encoding="utf-8"
    )
    error = refusal(load_articles, tmp_path)
    assert error.field == "billing/refunds.md: updated_at"
    assert "UTC offset" in error.reason


@pytest.mark.parametrize(
    ("front", "line"),
    [
        ("title: a\nnot a pair", 3),
        ("title: a\n  indented: b", 3),
        ("title: a\ntitle: b", 3),
        ("- orphan item", 2),
    ],
)
def test_markdown_bad_front_matter_line_is_named(front: str, line: int) -> None:
    error = refusal(articles_from_markdown, f"---\n{front}\n---\nBody", source_name="a.md")
    assert error.field == f"a.md: line {line}"


def test_markdown_unclosed_front_matter_is_refused() -> None:
    error = refusal(articles_from_markdown, "---\ntitle: a\n\nBody", source_name="a.md")
    assert error.field == "a.md: line 1"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("2025-01-01T10:00:00", "UTC offset"),
        ("2025-01-01", "UTC offset"),
        ("yesterday", "ISO 8601"),
        (1735725600, "ISO 8601"),
    ],
)
def test_timestamps_must_be_iso_with_an_offset(value: object, reason: str) -> None:
    error = refusal(articles_from_json, json.dumps([{"title": "x", "updated_at": value}]))
    assert error.field == "articles[0].updated_at"
    assert reason in error.reason


def test_updated_before_created_is_refused_on_updated_at() -> None:
    text = json.dumps(
        [{"title": "x", "created_at": "2025-02-01T00:00Z", "updated_at": "2025-01-01T00:00Z"}]
    )
    assert refusal(articles_from_json, text).field == "articles[0].updated_at"


def test_duplicate_ids_are_refused_naming_both_positions() -> None:
    text = json.dumps([{"id": "kb-1", "title": "a"}, {"title": "b"}, {"id": "kb-1", "title": "c"}])
    error = refusal(articles_from_json, text)
    assert error.field == "articles[2].id"
    assert "articles[0]" in error.reason


def test_duplicate_derived_ids_say_the_titles_match() -> None:
    error = refusal(articles_from_csv, "title\nReset password\nreset  PASSWORD\n")
    assert error.field == "row 3: id"
    assert "row 2" in error.reason
    assert "title" in error.reason


def test_duplicate_ids_across_markdown_files(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("---\nid: kb-1\n---\n# A", encoding="utf-8")
    (tmp_path / "b.md").write_text("---\nid: kb-1\n---\n# B", encoding="utf-8")
    error = refusal(load_articles, tmp_path)
    assert (error.field, "a.md" in error.reason) == ("b.md: id", True)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("", "json"),
        ("{not json", "json"),
        ("[" * 100_000, "json"),
        ("1" * 5000, "json"),
        ('"a string"', "json"),
        ('{"items": []}', "json"),
        ('{"articles": {"title": "x"}}', "articles"),
        ("[1]", "articles[0]"),
        ('[{"title": "\\ud800"}]', "articles[0].title"),
        ('[{"title": "x", "tags": ["ok", "\\udfff"]}]', "articles[0].tags[1]"),
        ('[{"title": "x", "draft": "maybe"}]', "articles[0].draft"),
        ('[{"title": "x", "draft": true, "status": "published"}]', "articles[0].draft"),
        ('[{"title": "x", "internal": true, "audience": "public"}]', "articles[0].internal"),
        ('[{"title": "x", "html_body": "<![foo bar]>"}]', "articles[0].body"),
        ('[{"title": ["x"]}]', "articles[0].title"),
        ('[{"title": "x", "review_interval": "soon"}]', "articles[0].review_interval"),
    ],
)
def test_invalid_json_is_refused_with_the_field_named(text: str, field: str) -> None:
    assert refusal(articles_from_json, text).field == field


@pytest.mark.parametrize(
    "call",
    [articles_from_json, articles_from_jsonl, articles_from_csv],
)
def test_non_utf8_bytes_are_refused(call: Any) -> None:
    error = refusal(call, b"title\n\xff\xfe broken")
    assert "UTF-8" in error.reason


def test_non_utf8_markdown_file_names_it(tmp_path: Path) -> None:
    (tmp_path / "gbk.md").write_bytes("# 退款".encode("gbk"))
    error = refusal(load_articles, tmp_path)
    assert (error.field, "UTF-8" in error.reason) == ("gbk.md", True)


def test_missing_path_and_unknown_suffix_are_refused(tmp_path: Path) -> None:
    assert refusal(load_articles, tmp_path / "nope.json").field == "path"
    (tmp_path / "export.xml").write_text("<xml/>", encoding="utf-8")
    assert refusal(load_articles, tmp_path / "export.xml").field == "path"


def test_unreadable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "export.json"
    path.write_text("[]", encoding="utf-8")

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    error = refusal(load_articles, path)
    assert (error.field, "Permission denied" in error.reason) == ("path", True)


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"now": datetime(2026, 1, 1)}, "now"),
        ({"status": "gone"}, "status"),
        ({"defaults": {"title": "x"}}, "defaults.title"),
        ({"defaults": {"language": 3}}, "defaults.language"),
        ({"defaults": ["product"]}, "defaults"),
    ],
)
def test_bad_loader_arguments_are_refused(options: dict[str, Any], field: str) -> None:
    arguments = {"now": NOW, **options}
    with pytest.raises(ValidationFailed) as caught:
        articles_from_json("[]", **arguments)
    assert caught.value.field == field


def test_errors_are_supportflow_errors_and_value_errors() -> None:
    error = refusal(articles_from_json, "nope")
    assert isinstance(error, SupportflowError)
    assert isinstance(error, ValueError)


# -- round trip -------------------------------------------------------------------------


def _as_imported(article: Article) -> Article:
    """What importing keeps: everything but the version (1) and the language's subtags."""
    language = article.language.lower().replace("_", "-").split("-")[0]
    return article.model_copy(update={"version": 1, "language": language})


@PROPERTY
@given(st.lists(articles(), max_size=4, unique_by=lambda a: a.id))
def test_json_dump_of_articles_imports_as_they_were(originals: list[Article]) -> None:
    text = json.dumps([a.model_dump(mode="json") for a in originals], ensure_ascii=False)
    imported = articles_from_json(text, now=NOW, status=ArticleStatus.ARCHIVED)
    assert imported == [_as_imported(a) for a in originals]


@PROPERTY
@given(articles())
def test_jsonl_dump_of_an_article_imports_as_it_was(original: Article) -> None:
    text = json.dumps({"article": 1} | original.model_dump(mode="json"))
    assert articles_from_jsonl(text + "\n", now=NOW) == [_as_imported(original)]


def test_offsets_are_kept_as_instants() -> None:
    article = one({"title": "x", "created_at": "2025-01-01T08:00:00+08:00"})
    assert article.created_at == datetime(2025, 1, 1, tzinfo=UTC)
    assert article.created_at.utcoffset() == timezone(timedelta(hours=8)).utcoffset(None)
