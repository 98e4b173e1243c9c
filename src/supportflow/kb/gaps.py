"""Knowledge gaps: resolved tickets no article answers, grouped by what they are about.

A gap report tells the team what to write next. :func:`find_gaps` searches the knowledge
base with every resolved or closed ticket's subject and body; a ticket whose best
published article scores below ``threshold`` is *uncovered*. Uncovered tickets are then
grouped into clusters of similar tickets ("37 tickets about invoice, download have no
article"), largest first, each with representative examples and a label of its most
distinctive words (CJK bigrams for Chinese). A ticket with too few similar tickets is
listed on its own, never dropped.

**Similarity.** A ticket is the vector of the same features the index uses
(:func:`~supportflow.kb.analysis.features`: words, character n-grams, CJK grams), weighted
``(1 + log tf) * idf`` with the idf taken over the uncovered tickets, cut to its
:data:`TICKET_FEATURES` heaviest features and normalised to length 1. A cluster is the sum
of its members' vectors; a ticket's similarity to a cluster is the cosine between its
vector and that sum.

**Clustering** is one greedy *leader* pass in input order: each ticket joins the most
similar cluster when the cosine reaches ``similarity`` and starts a new cluster
otherwise. Candidate clusters come from an inverted index over each cluster's
:data:`CENTROID_FEATURES` heaviest features, walked rarest first within a budget of
postings; only the best few candidates are scored exactly, so no ticket is compared
with every cluster (on BANKING77 and MASSIVE the choice agrees with an exhaustive search
for 98 to 99% of tickets). A cluster is re-indexed when its size reaches 2, 4, 8, ...

**Cost**, with ``n`` uncovered tickets, ``M`` = :data:`TICKET_FEATURES`, ``B`` the posting
budget (1,000) and ``C`` the candidates scored (4): ``O(n * (B + C * M))`` to cluster,
``O(n * M)`` amortised for re-indexing (a cluster's sum has at most ``size * M``
features and is re-indexed ``log size`` times at doubling sizes), ``O(n * M)`` for the
examples, ``O(n log n)`` to order the clusters, ``O(n * M)`` memory, plus computing the
features of the text twice and one index search per resolved ticket: linear in ``n``
but for the sort, never ``O(n²)``. Bitext customer service's 6,410 tickets take 2 to 4 s,
search included (0.3 to 0.7 ms per ticket).

**Determinism.** Everything is decided in input order with explicit tie-breaks (weight,
then feature; score, then cluster number; size, then first member), never by set or
hash order, so the same tickets in the same order give the same report. Another order
may give other clusters: leader clustering depends on who comes first.

**Defaults**, chosen by ``benchmarks/kb_gaps.py`` on real data split by topic (half the
topics become articles, the other half's queries are tickets no article covers; the
built-in index): see :data:`DEFAULT_THRESHOLD` and :data:`DEFAULT_SIMILARITY`.
"""

from __future__ import annotations

import heapq
import math
import re
from array import array
from collections.abc import Iterable, Mapping, Sequence
from itertools import islice
from typing import Any

import attrs

from ..errors import ValidationFailed
from ..models import Ticket, TicketStatus
from ..text import detect_language
from .analysis import CJK, CJK_CLASS, WORD, features, normalize
from .search import DEFAULT_STATUSES, MAX_QUERY_CHARS, SearchIndex

__all__ = [
    "CENTROID_FEATURES",
    "DEFAULT_SIMILARITY",
    "DEFAULT_THRESHOLD",
    "DEFAULT_THRESHOLDS",
    "TICKET_FEATURES",
    "GapCluster",
    "GapReport",
    "GapTicket",
    "find_gaps",
]

DEFAULT_THRESHOLD = 0.2
"""Best-article score below which a resolved ticket counts as uncovered.

The threshold with the best Youden's J (share of uncovered tickets reported minus share
of covered ones reported) on BANKING77 (J 0.33: 71% against 38%; AUC 0.73), Bitext
customer service (J 0.50: 81% against 31%; AUC 0.83) and the COVID FAQ (J 0.34: 94%
against 61%; AUC 0.71), and the best mean J (0.31) with MASSIVE zh-CN added. Short
Chinese tickets score far lower in the built-in index (median best score of a covered
MASSIVE ticket 0.07, against 0.23 to 0.25 in English): alone, MASSIVE would want 0.10,
and at 0.2 it reports nearly every Chinese ticket. Separation is weak where topics are
near neighbours (an uncovered "card delivery" ticket scores well on "card arrival").
Another index, or a knowledge base written differently, may want its own threshold."""

DEFAULT_THRESHOLDS: dict[str, float] = {"en": DEFAULT_THRESHOLD, "mixed": 0.15, "zh": 0.10}
"""The threshold by the ticket's language: Chinese text scores lower (see above).

``zh`` 0.10 is MASSIVE zh-CN's best J on its own (0.24); ``mixed`` sits halfway, not
measured (no mixed data set with topics). Any other language uses ``DEFAULT_THRESHOLD``."""

DEFAULT_SIMILARITY = 0.15
"""Cosine a ticket needs with a cluster's sum to join the cluster.

The best mean F0.5 of purity and completeness (purity counting double: a mixed cluster
misleads, a split topic only repeats) over BANKING77 (purity 0.48, completeness 0.62),
Bitext customer service (0.91, 0.76) and MASSIVE zh-CN (0.84, 0.32): 0.669, against
0.668 at 0.2 and 0.646 at 0.1 and 0.25. Short Chinese tickets share fewer grams than
English ones and would cluster best lower (0.05); BANKING77's near-neighbour intents
want higher (0.3)."""

TICKET_FEATURES = 64
"""Features kept per ticket (the heaviest by tf-idf): bounds memory and the cost of a
comparison whatever the ticket's length."""

CENTROID_FEATURES = 64
"""Features of each cluster kept in the inverted index that finds candidate clusters."""

_POSTING_BUDGET = 1000  # postings walked per ticket, rarest features first
_CANDIDATES = 4  # candidate clusters scored exactly per ticket
_LABEL_TERMS = 3
_MAX_CJK_TERM = 4  # characters a CJK label term may grow to (most words have 2 to 4)
_CJK_CHAR = re.compile(f"[{CJK_CLASS}]")
# Function characters: a CJK label term neither starts nor ends with one (的灯, 提醒我).
_CJK_FUNCTION = frozenset("的了吗呢吧啊呀哦嗯是有我你您他她它们在把给从和跟与也都就还这那个么什怎")
_SUBJECT_CHARS = 80
_RESOLVED = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})

# Function words never make a label on their own: a label says what tickets are about.
_STOPWORD_TEXT = """
a about after again all also am an and any are as at be been before being but by can cannot
could did do does doing don done for from get got had has have having he her here hi hello his
how i if in into is it its just me more my no not now of on once only or other our out please
she so some still than thank thanks that the their them then there these they this those to
too up us very was we were what when where which while who why will with would yes yet you
your
我的 你的 我们 你们 他们 什么 怎么 为什 可以 一下 一个 这个 那个 就是 还是 但是 因为 所以 如果
已经 没有 不是 请问 您好 你好 谢谢 的话 了吗 了一 是不 不了 怎样 如何 能不 不能 时候 现在 一直
还没 我想 想要 需要 问题 帮我
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@attrs.frozen
class GapTicket:
    """An uncovered ticket: its id, a short subject, and the best article the index found.

    ``subject`` is the ticket's subject, or the start of its body when it has none, cut to
    80 characters. ``best_score`` is 0.0 and ``best_article_id`` None when nothing matched.
    """

    ticket_id: str
    subject: str
    best_score: float
    best_article_id: str | None

    def as_data(self) -> dict[str, Any]:
        """JSON-ready: ``ticket_id``, ``subject``, ``best_score``, ``best_article_id``."""
        return {
            "ticket_id": self.ticket_id,
            "subject": self.subject,
            "best_score": self.best_score,
            "best_article_id": self.best_article_id,
        }

    def cited(self) -> str:
        """``T-102 'Cannot download invoice'``: how a report quotes the ticket."""
        return f"{self.ticket_id} {self.subject!r}" if self.subject else self.ticket_id


@attrs.frozen
class GapCluster:
    """Similar uncovered tickets: a topic the knowledge base has no article for.

    ``ticket_ids`` are in input order; ``examples`` are the members most similar to the
    rest of the cluster, most similar first; ``terms`` are its most distinctive words, or
    for Chinese its bigrams grown into the longer run the members share (登录 → 无法登录),
    most distinctive first (none when nothing stands out); ``best_score`` is the best
    article score any member got, and ``best_article_id`` that article, the nearest thing
    the knowledge base has.
    """

    ticket_ids: tuple[str, ...]
    examples: tuple[GapTicket, ...]
    terms: tuple[str, ...]
    best_score: float
    best_article_id: str | None

    @property
    def count(self) -> int:
        """How many tickets the cluster holds."""
        return len(self.ticket_ids)

    @property
    def label(self) -> str:
        """The terms joined with commas (``"invoice, download"``); empty when none stand out."""
        return ", ".join(self.terms)

    def describe(self) -> str:
        """One line: ``37 tickets about invoice, download have no article (e.g. ...)``."""
        one = self.count == 1
        about = f" about {self.label}" if self.terms else ""
        noun = "ticket" if one else ("tickets" if self.terms else "similar tickets")
        line = f"{self.count} {noun}{about} {'has' if one else 'have'} no article"
        if self.examples:
            line += f" (e.g. {self.examples[0].cited()})"
        return line

    def as_data(self) -> dict[str, Any]:
        """JSON-ready: count, ticket ids, examples, terms, label and the best article."""
        return {
            "count": self.count,
            "ticket_ids": list(self.ticket_ids),
            "examples": [example.as_data() for example in self.examples],
            "terms": list(self.terms),
            "label": self.label,
            "best_score": self.best_score,
            "best_article_id": self.best_article_id,
        }


@attrs.frozen
class GapReport:
    """What :func:`find_gaps` found.

    ``examined`` resolved or closed tickets were searched; ``uncovered`` of them had no
    article scoring ``threshold`` or more. Of those, ``clustered`` are in clusters of at
    least ``min_cluster`` tickets and the rest are listed in ``singletons`` (input order),
    so ``uncovered == clustered + len(singletons)``. ``clusters`` lists the clusters
    largest first (ties: the one whose first ticket came first), at most ``limit`` of
    them; ``omitted_clusters`` counts those left out by the limit (their tickets still
    count in ``clustered``).
    """

    clusters: tuple[GapCluster, ...]
    singletons: tuple[GapTicket, ...]
    examined: int
    uncovered: int
    clustered: int
    omitted_clusters: int
    thresholds: tuple[tuple[str, float], ...]
    similarity: float

    def describe(self) -> str:
        """The report as lines of text: a summary, then one line per cluster."""
        lines = [
            f"{self.examined} resolved tickets examined, {self.uncovered} with no article"
            f" scoring {_thresholds_text(self.thresholds)}: {self.clustered} in clusters,"
            f" {len(self.singletons)} on their own"
        ]
        lines.extend(cluster.describe() for cluster in self.clusters)
        if self.omitted_clusters:
            more = self.omitted_clusters
            lines.append(f"... and {more} smaller cluster{'s' if more > 1 else ''} not listed")
        if self.singletons:
            count = len(self.singletons)
            noun = "ticket has" if count == 1 else "tickets have"
            lines.append(
                f"{count} {noun} no article and no similar ticket"
                f" (e.g. {self.singletons[0].cited()})"
            )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.describe()

    def as_data(self) -> dict[str, Any]:
        """JSON-ready: the totals, the settings, the clusters and the singletons."""
        return {
            "examined": self.examined,
            "uncovered": self.uncovered,
            "clustered": self.clustered,
            "singleton_count": len(self.singletons),
            "omitted_clusters": self.omitted_clusters,
            "thresholds": dict(self.thresholds),
            "similarity": self.similarity,
            "clusters": [cluster.as_data() for cluster in self.clusters],
            "singletons": [ticket.as_data() for ticket in self.singletons],
        }


# -- arguments --------------------------------------------------------------------------


def _thresholds_text(thresholds: tuple[tuple[str, float], ...]) -> str:
    if len(thresholds) == 1 and thresholds[0][0] == "*":
        return f"{thresholds[0][1]:.2f} or more"
    named = ", ".join(f"{lang} {value:.2f}" for lang, value in thresholds)
    return f"their language's threshold or more ({named})"


def _thresholds(value: object) -> dict[str, float]:
    """A threshold for every language (``"*"``: the rest), checked."""
    if isinstance(value, Mapping):
        found: dict[str, float] = {}
        for language, number in value.items():
            if not isinstance(language, str) or not language.strip():
                raise ValidationFailed("threshold", "languages must be non-blank strings")
            found[language.strip().lower()] = _unit(f"threshold[{language!r}]", number)
        if not found:
            raise ValidationFailed("threshold", "must name at least one language")
        return found
    return {"*": _unit("threshold", value)}


def _language(ticket: Ticket, query: str) -> str:
    language = (ticket.language or detect_language(query)).lower()
    if language.startswith("zh"):
        return "zh"
    return "en" if language.startswith("en") or language == "und" else language


def _unit(field: str, value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value <= 1:
        raise ValidationFailed(field, f"must be a number from 0 to 1, got {value!r}")
    return float(value)


def _count(field: str, value: object, minimum: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValidationFailed(field, f"must be an integer >= {minimum}, got {value!r}")
    return value


# -- vectors ----------------------------------------------------------------------------

_Vector = tuple["array[int]", "array[float]"]  # feature numbers and weights, heaviest first


def _query(ticket: Ticket) -> str:
    """What the index is asked: subject and body, cut to the longest query accepted."""
    text = f"{ticket.subject}\n{ticket.body}" if ticket.subject.strip() else ticket.body
    return text[:MAX_QUERY_CHARS].strip()


def _subject(ticket: Ticket) -> str:
    text = " ".join((ticket.subject.strip() or ticket.body).split())
    return text if len(text) <= _SUBJECT_CHARS else text[: _SUBJECT_CHARS - 1] + "…"


def _label_terms(counts: dict[str, float]) -> set[str]:
    """The features of a text that may label a cluster: content words and CJK bigrams."""
    found: set[str] = set()
    for key in counts:
        if key[0] == WORD:
            word = key[1:]
            if len(word) > 1 and not word.isdigit() and word not in _STOPWORDS:
                found.add(key)
        elif (
            key[0] == CJK
            and len(key) == 3
            and key[1] not in _CJK_FUNCTION
            and key[2] not in _CJK_FUNCTION
            and key[1:] not in _STOPWORDS
        ):
            found.add(key)
    return found


class _Vectors:
    """The uncovered tickets' tf-idf vectors and label terms, idf taken over them.

    Features are computed twice (once for document frequencies, once for the vectors)
    rather than held for every ticket at once: a ticket keeps only its
    :data:`TICKET_FEATURES` heaviest, numbered in the order first met.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        df: dict[str, int] = {}
        for text in texts:
            for key in features(text):
                df[key] = df.get(key, 0) + 1
        self.df = df
        self.total = len(texts)
        self.numbers: dict[str, int] = {}
        self.vectors: list[_Vector] = []
        self.terms: list[set[str]] = []
        for text in texts:
            counts = features(text)
            self.vectors.append(self._vector(counts))
            self.terms.append(_label_terms(counts))

    def _vector(self, counts: dict[str, float]) -> _Vector:
        df = self.df
        top = math.log(1 + self.total)
        log = math.log
        weighted = [
            ((1.0 + log(count)) * (top - log(1 + df[key]) + 1.0), key)
            for key, count in counts.items()
        ]
        kept = heapq.nsmallest(TICKET_FEATURES, weighted, key=lambda pair: (-pair[0], pair[1]))
        norm = math.sqrt(sum(weight * weight for weight, _ in kept))
        ids = array("l")
        weights = array("d")
        if not norm:
            return ids, weights
        numbers = self.numbers
        for weight, key in kept:
            number = numbers.setdefault(key, len(numbers))
            ids.append(number)
            weights.append(weight / norm)
        return ids, weights


# -- clustering -------------------------------------------------------------------------


class _Leader:
    """Leader clustering, candidates found through an inverted index over the clusters.

    ``postings[feature]`` maps each cluster whose indexed features include ``feature``
    to the feature's weight in the cluster's (normalised) sum when last indexed.
    """

    def __init__(self, vectors: Sequence[_Vector], similarity: float) -> None:
        self.vectors = vectors
        self.similarity = similarity - 1e-9  # the cosine of equal vectors may round below 1
        self.sums: list[dict[int, float]] = []
        self.norms2: list[float] = []
        self.sizes: list[int] = []
        self.indexed: list[list[int]] = []
        self.postings: dict[int, dict[int, float]] = {}

    def _index(self, cluster: int) -> None:
        """(Re)index the cluster's heaviest features; done when its size doubles."""
        postings = self.postings
        for key in self.indexed[cluster]:
            del postings[key][cluster]
        total = self.sums[cluster]
        norm = math.sqrt(self.norms2[cluster])
        top = heapq.nsmallest(CENTROID_FEATURES, total.items(), key=lambda kv: (-kv[1], kv[0]))
        for key, weight in top:
            postings.setdefault(key, {})[cluster] = weight / norm
        self.indexed[cluster] = [key for key, _ in top]

    def _nearest(self, ids: array[int], weights: array[float]) -> tuple[int, float, float]:
        """The most similar cluster (-1: none shares a feature), its cosine, the dot product."""
        postings = self.postings
        present = sorted((len(postings[key]), i) for i, key in enumerate(ids) if key in postings)
        partial: dict[int, float] = {}
        get = partial.get
        spent = 0
        for size, i in present:
            if spent + size > _POSTING_BUDGET:
                if spent:
                    break
                size = _POSTING_BUDGET  # even the rarest feature is common: walk part of it
            spent += size
            weight = weights[i]
            for cluster, value in islice(postings[ids[i]].items(), size):
                partial[cluster] = get(cluster, 0.0) + weight * value
        best, best_cosine, best_dot = -1, -1.0, 0.0
        if not partial:
            return best, best_cosine, best_dot
        candidates = heapq.nsmallest(_CANDIDATES, partial.items(), key=lambda kv: (-kv[1], kv[0]))
        for cluster, _ in sorted(candidates):
            total = self.sums[cluster].get
            dot = sum([w * total(key, 0.0) for key, w in zip(ids, weights, strict=True)])
            cosine = dot / math.sqrt(self.norms2[cluster])
            if cosine > best_cosine:
                best, best_cosine, best_dot = cluster, cosine, dot
        return best, best_cosine, best_dot

    def assign(self) -> list[int]:
        """Each ticket's cluster number, tickets taken in order."""
        chosen: list[int] = []
        for ids, weights in self.vectors:
            cluster, cosine, dot = self._nearest(ids, weights) if ids else (-1, 0.0, 0.0)
            if cluster >= 0 and cosine >= self.similarity:
                total = self.sums[cluster]
                get = total.get
                for key, weight in zip(ids, weights, strict=True):
                    total[key] = get(key, 0.0) + weight
                self.norms2[cluster] += 2.0 * dot + 1.0
                self.sizes[cluster] += 1
                size = self.sizes[cluster]
                if size & (size - 1) == 0:
                    self._index(cluster)
            else:
                cluster = len(self.sums)
                self.sums.append(dict(zip(ids, weights, strict=True)))
                self.norms2.append(1.0)
                self.sizes.append(1)
                self.indexed.append([])
                if ids:
                    self._index(cluster)
            chosen.append(cluster)
        return chosen


def _groups(assignment: Sequence[int]) -> list[list[int]]:
    """Members of each cluster in input order; clusters largest first, then first member."""
    by_cluster: dict[int, list[int]] = {}
    for ticket, cluster in enumerate(assignment):
        by_cluster.setdefault(cluster, []).append(ticket)
    return sorted(by_cluster.values(), key=lambda members: (-len(members), members[0]))


def _medoids(members: Sequence[int], vectors: Sequence[_Vector], count: int) -> list[int]:
    """The ``count`` members most similar to the rest of the cluster, most similar first.

    A member's closeness is the sum of its cosines with the other members, its vector's
    dot product with the cluster's sum less itself: ``O(size * TICKET_FEATURES)``.
    """
    total: dict[int, float] = {}
    get = total.get
    for ticket in members:
        ids, weights = vectors[ticket]
        for key, weight in zip(ids, weights, strict=True):
            total[key] = get(key, 0.0) + weight

    def closeness(ticket: int) -> float:
        ids, weights = vectors[ticket]
        return sum(w * (total[key] - w) for key, w in zip(ids, weights, strict=True))

    return sorted(members, key=lambda ticket: (-closeness(ticket), ticket))[:count]


# -- labels -----------------------------------------------------------------------------


def _label(members: Sequence[int], vectors: _Vectors, texts: Sequence[str]) -> tuple[str, ...]:
    """The cluster's most distinctive terms: frequent inside it, rare outside it.

    A term found in ``c`` of the cluster's ``C`` tickets and in ``o`` tickets outside it
    scores ``c / C * log((N - C + 2) / (o + 1))`` (``N`` uncovered tickets in all) and
    needs ``c >= 2``. A CJK bigram grows into the longer run its tickets share (登录 →
    无法登录); a term overlapping one already chosen (``rates`` after ``rate``) is skipped.
    """
    size = len(members)
    inside: dict[str, int] = {}
    for ticket in members:
        for term in vectors.terms[ticket]:
            inside[term] = inside.get(term, 0) + 1
    room = vectors.total - size + 2
    df = vectors.df
    ranked = sorted(
        (-(count / size) * math.log(room / (df[term] - count + 1)), term)
        for term, count in inside.items()
        if count >= 2
    )
    chosen: list[str] = []
    member_texts: list[str] | None = None
    for _, term in ranked[: 4 * _LABEL_TERMS]:
        if len(chosen) == _LABEL_TERMS:
            break
        text = term[1:]
        if term[0] == CJK:
            if member_texts is None:
                member_texts = [normalize(texts[ticket]) for ticket in members]
            text = _grow(text, member_texts)
            if any(text in other or other in text for other in chosen):
                continue
        elif any(_variant(text, other) for other in chosen):
            continue
        chosen.append(text)
    return tuple(chosen)


def _variant(word: str, other: str) -> bool:
    """Whether two words look like forms of one (``rate``/``rates``, ``charge``/``charged``)."""
    short, long = sorted((word, other), key=len)
    return len(short) >= 3 and long.startswith(short) and len(long) - len(short) <= 3


def _grows(char: str) -> bool:
    return char not in _CJK_FUNCTION and _CJK_CHAR.match(char) is not None


def _grow(term: str, texts: Sequence[str]) -> str:
    """``term`` extended one CJK character at a time while 80% of its texts share it."""
    holders = [text for text in texts if term in text]
    need = 0.8 * len(holders)
    while len(term) < _MAX_CJK_TERM:
        options: dict[str, int] = {}
        for text in holders:
            seen: set[str] = set()
            start = text.find(term)
            while start >= 0:
                end = start + len(term)
                if start > 0 and _grows(text[start - 1]):
                    seen.add(text[start - 1 : end])
                if end < len(text) and _grows(text[end]):
                    seen.add(text[start : end + 1])
                start = text.find(term, start + 1)
            for longer in seen:
                options[longer] = options.get(longer, 0) + 1
        best = max(options.items(), key=lambda kv: (kv[1], kv[0]), default=None)
        if best is None or best[1] < need:
            break
        term = best[0]
    return term


# -- the report -------------------------------------------------------------------------


def find_gaps(
    tickets: Iterable[Ticket],
    index: SearchIndex,
    *,
    threshold: float | Mapping[str, float] = DEFAULT_THRESHOLDS,
    min_cluster: int = 2,
    similarity: float = DEFAULT_SIMILARITY,
    examples: int = 3,
    limit: int | None = None,
) -> GapReport:
    """Resolved tickets no published article answers, in clusters of similar tickets.

    Each resolved or closed ticket's subject and body (cut to ``MAX_QUERY_CHARS``) is
    searched in ``index`` (published articles only); the ticket is uncovered when no
    article scores ``threshold`` or more: one number for every ticket, or a number per
    language (the ticket's ``language``, else detected from its text; ``"*"`` for the
    languages not named, else ``DEFAULT_THRESHOLD``). Tickets in other statuses are skipped (their
    answer is not known yet). Uncovered tickets are clustered as the module docstring
    says, with ``similarity`` the cosine needed to join a cluster; clusters smaller than
    ``min_cluster`` become singletons. Each cluster shows ``examples`` representative
    tickets; at most ``limit`` clusters are listed (all when None).

    Raises ``ValidationFailed`` naming the argument for a threshold or similarity outside
    [0, 1], a ``min_cluster``, ``examples`` or ``limit`` below 1, something other than a
    ticket, or a ticket id given twice.
    """
    thresholds = _thresholds(threshold)
    fallback = thresholds.get("*", DEFAULT_THRESHOLD)
    similarity = _unit("similarity", similarity)
    min_cluster = _count("min_cluster", min_cluster, 1)
    examples = _count("examples", examples, 1)
    if limit is not None:
        limit = _count("limit", limit, 1)
    if not callable(getattr(index, "search", None)):
        raise ValidationFailed("index", "must be a SearchIndex (an object with search())")
    if isinstance(tickets, (str, bytes)) or not isinstance(tickets, Iterable):
        raise ValidationFailed("tickets", "must be an iterable of tickets")

    seen: set[str] = set()
    examined = 0
    found: list[GapTicket] = []
    texts: list[str] = []
    for position, ticket in enumerate(tickets):
        if not isinstance(ticket, Ticket):
            raise ValidationFailed(
                f"tickets[{position}]", f"must be a Ticket, not {type(ticket).__name__}"
            )
        if ticket.id in seen:
            raise ValidationFailed(f"tickets[{position}]", f"ticket {ticket.id!r} is given twice")
        seen.add(ticket.id)
        if ticket.status not in _RESOLVED:
            continue
        examined += 1
        query = _query(ticket)
        hits = index.search(query, limit=1, statuses=DEFAULT_STATUSES) if query else []
        best = hits[0] if hits else None
        bar = thresholds.get(_language(ticket, query), fallback)
        if best is not None and best.score >= bar:
            continue
        found.append(
            GapTicket(
                ticket_id=ticket.id,
                subject=_subject(ticket),
                best_score=0.0 if best is None else float(best.score),
                best_article_id=None if best is None else best.article_id,
            )
        )
        texts.append(query)

    vectors = _Vectors(texts)
    groups = _groups(_Leader(vectors.vectors, similarity).assign())
    big = [members for members in groups if len(members) >= min_cluster]
    alone = sorted(ticket for members in groups if len(members) < min_cluster for ticket in members)
    listed = big if limit is None else big[:limit]
    clusters: list[GapCluster] = []
    for members in listed:
        nearest = max(members, key=lambda t: (found[t].best_score, -t))
        clusters.append(
            GapCluster(
                ticket_ids=tuple(found[t].ticket_id for t in members),
                examples=tuple(found[t] for t in _medoids(members, vectors.vectors, examples)),
                terms=_label(members, vectors, texts),
                best_score=found[nearest].best_score,
                best_article_id=found[nearest].best_article_id,
            )
        )
    return GapReport(
        clusters=tuple(clusters),
        singletons=tuple(found[t] for t in alone),
        examined=examined,
        uncovered=len(found),
        clustered=sum(len(members) for members in big),
        omitted_clusters=len(big) - len(listed),
        thresholds=tuple(sorted(thresholds.items())),
        similarity=similarity,
    )
