"""Rules and keywords per category, in English and Chinese, matched with typo tolerance.

The shipped rule sets follow the documents' taxonomies: request type (technical, billing,
account, service; anything else is "other") and complaint category (product quality,
service attitude, functional problem; a complaint matching none is "other"). Hosts pass
their own ``KeywordRule`` tuples to cover their products.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import attrs

from ..errors import ValidationFailed
from ..models import ComplaintCategory, Ticket
from ..text import detect_language
from ._matching import PhraseHit, PhraseMatcher, phrase_key
from ._text import checked_text, ticket_text
from .protocols import Classification

__all__ = [
    "COMPLAINT_CUES",
    "COMPLAINT_RULES",
    "REQUEST_TYPE_RULES",
    "KeywordClassifier",
    "KeywordRule",
]

TYPO_WEIGHT = 0.8
"""What a phrase matched through a typo counts, against 1 for an exact match."""


def _phrases(value: Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value) if isinstance(value, Iterable) else value


def _check_label(instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed("label", "must be a non-empty string")
    if len(value) > 100:
        raise ValidationFailed("label", "must be at most 100 characters (a ticket category)")


def _check_phrases(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, tuple) or not value:
        raise ValidationFailed("phrases", "must be a non-empty list of phrases")
    for index, phrase in enumerate(value):
        if not isinstance(phrase, str) or not phrase_key(phrase):
            raise ValidationFailed(
                f"phrases[{index}]", "must be a string with at least one letter, digit or ideograph"
            )


def _check_weight(instance: object, attribute: attrs.Attribute[float], value: object) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
        raise ValidationFailed("weight", "must be a finite number above 0")


@attrs.frozen(slots=True)
class KeywordRule:
    """A label and the phrases that point to it; ``weight`` scales what each hit counts.

    Phrases may be English (matched word by word, tolerating typos and inflections) or
    Chinese (matched as written, no word segmentation needed). Invalid fields raise
    ``ValidationFailed`` naming ``label``, ``phrases[i]`` or ``weight``.
    """

    label: str = attrs.field(validator=_check_label)
    phrases: tuple[str, ...] = attrs.field(converter=_phrases, validator=_check_phrases)
    weight: float = attrs.field(default=1.0, validator=_check_weight)


# fmt: off
REQUEST_TYPE_RULES: tuple[KeywordRule, ...] = (
    KeywordRule(
        "technical",
        (
            "error", "bug", "crash", "not working", "doesn't work", "does not work",
            "stopped working", "broken", "freeze", "frozen", "hangs", "glitch", "slow",
            "not loading", "won't load", "timeout", "timed out", "install", "update",
            "upgrade", "api", "sync", "connection", "cannot connect", "can't connect",
            "server", "outage", "is down", "blank screen", "报错", "错误", "故障", "闪退",
            "崩溃", "卡顿", "卡死", "死机", "打不开", "无法连接", "连不上", "加载", "宕机",
            "用不了", "不能用", "无法使用", "黑屏", "白屏", "安装失败", "升级", "网络",
        ),
    ),
    KeywordRule(
        "billing",
        (
            "invoice", "bill", "billing", "refund", "charge", "overcharged", "double charged",
            "payment", "pay", "paid", "price", "pricing", "subscription", "renewal", "receipt",
            "credit card", "fee", "discount", "coupon", "money back", "transaction", "top up",
            "发票", "账单", "退款", "扣费", "扣款", "收费", "付款", "支付", "价格", "费用",
            "充值", "续费", "订阅", "退钱", "多扣", "优惠", "报销",
        ),
    ),
    KeywordRule(
        "account",
        (
            "account", "login", "log in", "sign in", "cannot log in", "can't log in",
            "password", "reset password", "username", "locked out", "2fa", "two factor",
            "verification code", "verify", "email address", "profile", "sign up", "register",
            "registration", "账号", "帐号", "账户", "帐户", "登录", "登陆", "密码", "注册",
            "验证码", "注销", "绑定", "手机号", "实名", "个人信息", "找回",
        ),
    ),
    KeywordRule(
        "service",
        (
            "delivery", "shipping", "tracking", "return", "exchange", "warranty",
            "repair", "on-site", "onsite", "visit", "technician", "appointment", "installation",
            "opening hours", "speak to", "talk to", "发货", "物流", "快递", "订单", "退货",
            "换货", "保修", "维修", "上门", "预约", "安装", "咨询", "人工", "客服",
        ),
    ),
    KeywordRule(
        "service",
        ("order", "how do i", "how to", "question", "请问", "怎么", "如何", "服务"),
        weight=0.5,
    ),
)
"""The documents' request types. "other" has no rule: it is what matches none."""
# fmt: on

# fmt: off
COMPLAINT_RULES: tuple[KeywordRule, ...] = (
    KeywordRule(
        ComplaintCategory.PRODUCT_QUALITY.value,
        (
            "quality", "poor quality", "defective", "defect", "broken", "damaged", "faulty",
            "fell apart", "scratched", "leaking", "not as described", "fake", "counterfeit",
            "质量", "坏了", "破损", "瑕疵", "次品", "假货", "做工", "掉漆", "漏水", "不耐用",
            "与描述不符",
        ),
    ),
    KeywordRule(
        ComplaintCategory.SERVICE_ATTITUDE.value,
        (
            "rude", "impolite", "unprofessional", "attitude", "ignored", "hung up", "yelled",
            "shouted", "unhelpful", "condescending", "arrogant", "nobody replied",
            "no response", "never responded", "kept waiting", "态度", "不耐烦", "敷衍",
            "不理", "挂电话", "没人回复", "不回复", "推诿", "踢皮球", "傲慢",
        ),
    ),
    KeywordRule(
        ComplaintCategory.FUNCTIONAL_PROBLEM.value,
        (
            "not working", "doesn't work", "does not work", "error", "bug", "crash",
            "feature", "function", "cannot", "can't", "unable", "fails", "failed", "missing",
            "功能", "无法", "不能", "失败", "报错", "闪退", "故障", "用不了", "不好用",
        ),
    ),
)
"""The documents' complaint categories; a complaint matching none is ``other``."""
# fmt: on

# fmt: off
COMPLAINT_CUES: tuple[str, ...] = (
    "complaint", "complain", "unacceptable", "disappointed", "terrible", "awful", "worst",
    "ridiculous", "fed up", "angry", "furious", "not happy", "unhappy", "poor service",
    "rude", "impolite", "unprofessional", "disgusted", "投诉", "不满", "差评", "失望",
    "太差", "气愤", "生气", "恶劣", "垃圾", "态度差", "态度恶劣", "不满意",
)
# fmt: on
"""Phrases that make a ticket a complaint; only then is a complaint category set."""


class KeywordClassifier:
    """Classifies by keyword rules: request type, and complaint category for complaints.

    Each rule scores the distinct phrases found in the subject and body: 1 per exact hit,
    0.8 per hit through a typo, times the rule's weight. A label's confidence is
    ``(1 - exp(-score)) * score / total``: one exact hit alone gives 0.63, two give 0.86,
    a hit for a competing label lowers both. The best label is the category (ties go to
    the rule listed first); with no hit the category is ``None`` (no opinion). A
    complaint cue makes the ticket a complaint: its category is the best complaint rule,
    else ``other``. The language is detected; priority is left to ``PriorityDetector``.
    ``evidence`` lists the phrases found, typos shown.
    """

    def __init__(
        self,
        request_rules: Iterable[KeywordRule] = REQUEST_TYPE_RULES,
        complaint_rules: Iterable[KeywordRule] = COMPLAINT_RULES,
        complaint_cues: Iterable[str] = COMPLAINT_CUES,
        *,
        top_k: int = 3,
    ) -> None:
        self._request_rules = _rules("request_rules", request_rules)
        self._complaint_rules = _rules("complaint_rules", complaint_rules)
        allowed = {c.value for c in ComplaintCategory}
        for index, rule in enumerate(self._complaint_rules):
            if rule.label not in allowed:
                raise ValidationFailed(
                    f"complaint_rules[{index}].label",
                    f"must be a complaint category: {', '.join(sorted(allowed))}",
                )
        if isinstance(complaint_cues, str) or not isinstance(complaint_cues, Iterable):
            raise ValidationFailed("complaint_cues", "must be a list of phrases")
        self._cues = tuple(complaint_cues)
        for index, cue in enumerate(self._cues):
            if not isinstance(cue, str) or not phrase_key(cue):
                raise ValidationFailed(f"complaint_cues[{index}]", "must be a non-empty phrase")
        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ValidationFailed("top_k", "must be an integer of at least 1")
        self._top_k = top_k
        self._request_keyed = _keyed(self._request_rules)
        self._complaint_keyed = _keyed(self._complaint_rules)
        self._request_matcher = PhraseMatcher(p for r in self._request_rules for p in r.phrases)
        self._complaint_matcher = PhraseMatcher(p for r in self._complaint_rules for p in r.phrases)
        self._cue_matcher = PhraseMatcher(self._cues)

    def classify(self, ticket: Ticket) -> Classification | None:
        """The keyword classification of the ticket's subject and body."""
        return self.classify_text(ticket_text(ticket))

    def classify_text(self, text: str) -> Classification:
        """The keyword classification of ``text`` (``ValidationFailed`` if not a string)."""
        text = checked_text("text", text)
        evidence: list[str] = []
        scored = _score(self._request_keyed, self._request_matcher.find(text), evidence)
        labels = _confidences(scored)[: self._top_k]
        complaint: ComplaintCategory | None = None
        cues = self._cue_matcher.find(text)
        if cues:
            evidence.append("complaint cue: " + ", ".join(_shown(hit) for hit in cues))
            kinds = _score(self._complaint_keyed, self._complaint_matcher.find(text), evidence)
            complaint = ComplaintCategory(kinds[0][0]) if kinds else ComplaintCategory.OTHER
        return Classification(
            category=labels[0][0] if labels else None,
            confidence=labels[0][1] if labels else 0.0,
            labels=tuple(labels),
            complaint_category=complaint,
            language=detect_language(text),
            source="keywords",
            evidence=tuple(evidence),
        )


def _rules(field: str, rules: Iterable[KeywordRule]) -> tuple[KeywordRule, ...]:
    if isinstance(rules, str) or not isinstance(rules, Iterable):
        raise ValidationFailed(field, "must be a list of KeywordRule")
    found = tuple(rules)
    for index, rule in enumerate(found):
        if not isinstance(rule, KeywordRule):
            raise ValidationFailed(
                f"{field}[{index}]", f"must be a KeywordRule, not {type(rule).__name__}"
            )
    return found


def _shown(hit: PhraseHit) -> str:
    return f"{hit.phrase} (typed {hit.found!r})" if hit.typo else hit.phrase


def _keyed(rules: tuple[KeywordRule, ...]) -> tuple[tuple[KeywordRule, tuple[str, ...]], ...]:
    """Each rule with its phrases in compared form, duplicates dropped."""
    return tuple(
        (rule, tuple(dict.fromkeys(phrase_key(p) for p in rule.phrases))) for rule in rules
    )


def _score(
    keyed: tuple[tuple[KeywordRule, tuple[str, ...]], ...],
    hits: list[PhraseHit],
    evidence: list[str],
) -> list[tuple[str, float]]:
    """Score per label, best first (rule order breaks ties); appends the evidence."""
    best_hit: dict[str, PhraseHit] = {}
    for hit in hits:
        key = phrase_key(hit.phrase)
        if key not in best_hit or (best_hit[key].typo and not hit.typo):
            best_hit[key] = hit
    totals: dict[str, float] = {}
    for rule, keys in keyed:
        found = [best_hit[key] for key in keys if key in best_hit]
        if not found:
            continue
        score = rule.weight * sum(TYPO_WEIGHT if h.typo else 1.0 for h in found)
        totals[rule.label] = totals.get(rule.label, 0.0) + score
        evidence.append(f"{rule.label}: " + ", ".join(_shown(h) for h in found))
    order = {label: n for n, label in enumerate(totals)}
    return sorted(totals.items(), key=lambda item: (-item[1], order[item[0]]))


def _confidences(scored: list[tuple[str, float]]) -> list[tuple[str, float]]:
    total = sum(score for _, score in scored)
    return [(label, (1 - math.exp(-score)) * score / total) for label, score in scored]
