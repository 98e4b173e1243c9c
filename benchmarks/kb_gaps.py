"""Knowledge gaps on real data: where the defaults of ``supportflow.kb.gaps`` come from.

Data (``../shared/data``, each folder's README gives its license), each split by topic:

- **BANKING77**: the intents at even positions of ``categories.json`` are the knowledge
  base, one article each built as in ``benchmarks/kb.py`` (title = the intent name, body =
  its first 5 training rows); their remaining rows are *covered* tickets. Every row of
  the intents at odd positions is an *uncovered* ticket: no article answers it, and its
  intent is the topic a gap report should find.
- **Bitext customer service** (English, generic support requests): the same, intents in
  order of first appearance.
- **MASSIVE zh-CN** (Chinese): the same, but an article's title is its intent's first row
  (the intent names are English, which no Chinese ticket would match) and its body the
  next 5 rows.
- **COVID FAQ** (deepset), for the threshold only: the FAQ entries at even positions are
  the knowledge base; a ``similar=1`` dev paraphrase is covered when its entry is kept.

Figures:

1. **Threshold.** The best article score of covered and uncovered tickets (built-in
   index). For each threshold: the share of uncovered tickets reported (true gaps), the
   share of covered tickets reported (false gaps) and their difference (Youden's J); AUC
   is the chance that an uncovered ticket scores below a covered one.
   ``DEFAULT_THRESHOLD`` is the threshold with the best mean J over the four data sets.
2. **Similarity.** The uncovered tickets alone clustered by ``find_gaps`` (an empty
   index), against their intents: *purity* (share of clustered tickets in their
   cluster's majority intent), *completeness* (share of tickets in the cluster holding
   most of their intent; a singleton is its own cluster), F0.5 of the two (purity counts
   double: a mixed cluster misleads the team, a split topic only repeats), clusters,
   singletons, and intents *found* (one cluster holds at least half of the intent and is
   at least half that intent). ``DEFAULT_SIMILARITY`` maximises the mean F0.5 over
   BANKING77, Bitext and MASSIVE zh-CN.
3. **End to end**: ``find_gaps`` with the defaults over every Bitext ticket, covered or
   not, its time and the first lines of its report.

Usage: python benchmarks/kb_gaps.py  (about 30 s)
"""

from __future__ import annotations

import bisect
import csv
import json
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from supportflow.kb.articles import Article, ArticleStatus
from supportflow.kb.gaps import DEFAULT_SIMILARITY, DEFAULT_THRESHOLD, GapReport, find_gaps
from supportflow.kb.index import BuiltinIndex
from supportflow.models import Channel, Ticket, TicketStatus

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
THRESHOLDS = [round(0.10 + 0.02 * i, 2) for i in range(11)]
SIMILARITIES = [0.05, 0.1, 0.15, 0.2, 0.25, 0.3]

Labelled = list[tuple[str, str]]  # text, topic


class Split:
    """A data set split into a knowledge base, covered tickets and uncovered tickets."""

    def __init__(self, docs: list[tuple[str, str]], covered: Labelled, uncovered: Labelled):
        self.docs = docs
        self.covered = covered
        self.uncovered = uncovered


def _rows(path: Path, text: str, label: str) -> Labelled:
    with path.open(newline="", encoding="utf-8") as handle:
        return [(row[text], row[label]) for row in csv.DictReader(handle)]


def _by_intent(rows: Labelled, order: Sequence[str], *, titled: bool = False) -> Split:
    """Even intents as articles (title: the intent's name, or its first row when
    ``titled``; body: its next 5 rows), their other rows covered, odd intents uncovered."""
    texts: dict[str, list[str]] = {intent: [] for intent in order}
    for text, intent in rows:
        texts[intent].append(text)
    docs: list[tuple[str, str]] = []
    covered: Labelled = []
    uncovered: Labelled = []
    for number, intent in enumerate(order):
        if number % 2 == 0:
            own = texts[intent]
            if titled:
                title, body, rest = own[0], " ".join(own[1:6]), own[6:]
            else:
                name = intent.replace("_", " ")
                title, body, rest = name[:1].upper() + name[1:], " ".join(own[:5]), own[5:]
            docs.append((title, body))
            covered.extend((text, intent) for text in rest)
        else:
            uncovered.extend((text, intent) for text in texts[intent])
    return Split(docs, covered, uncovered)


def banking77() -> Split:
    folder = DATA / "banking77"
    order = json.loads((folder / "categories.json").read_text(encoding="utf-8"))
    return _by_intent(_rows(folder / "train.csv", "text", "category"), order)


def massive_zh() -> Split:
    rows = _rows(DATA / "massive_zh_cn" / "train.csv", "text", "label_text")
    return _by_intent(rows, list(dict.fromkeys(intent for _, intent in rows)), titled=True)


def bitext() -> Split:
    rows = _rows(DATA / "bitext_customer_service" / "train.csv", "utterance", "intent")
    return _by_intent(rows, list(dict.fromkeys(intent for _, intent in rows)))


def covid_faq() -> Split:
    folder = DATA / "covid_faq_deepset"
    faq = _rows(folder / "faq_covidbert.csv", "question", "answer")
    number = {question.strip(): i for i, (question, _) in enumerate(faq)}
    with (folder / "pairs_dev.csv").open(newline="", encoding="utf-8") as handle:
        pairs = [
            (row["question_2"], number[row["question_1"].strip()])
            for row in csv.DictReader(handle)
            if row["similar"] == "1" and row["question_1"].strip() in number
        ]
    docs = [(question.strip(), answer) for i, (question, answer) in enumerate(faq) if i % 2 == 0]
    covered = [(text, str(gold)) for text, gold in pairs if gold % 2 == 0]
    uncovered = [(text, str(gold)) for text, gold in pairs if gold % 2 == 1]
    return Split(docs, covered, uncovered)


def index_of(docs: Sequence[tuple[str, str]]) -> BuiltinIndex:
    index = BuiltinIndex()
    index.rebuild(
        Article(
            id=f"a{i:05d}",
            title=title,
            body=body,
            status=ArticleStatus.PUBLISHED,
            created_at=NOW,
            updated_at=NOW,
        )
        for i, (title, body) in enumerate(docs)
    )
    return index


def tickets(texts: Sequence[str], prefix: str = "t") -> list[Ticket]:
    """Resolved tickets with ``texts`` as bodies, ids ``t00000``, ``t00001``, ..."""
    return [
        Ticket(
            id=f"{prefix}{i:05d}",
            channel=Channel.EMAIL,
            customer_id="c-1",
            subject="",
            body=text,
            status=TicketStatus.RESOLVED,
            created_at=NOW,
            updated_at=NOW,
        )
        for i, text in enumerate(texts)
    ]


# -- 1. threshold -----------------------------------------------------------------------


def best_scores(index: BuiltinIndex, texts: Sequence[str]) -> list[float]:
    found = []
    for text in texts:
        hits = index.search(text, limit=1)
        found.append(hits[0].score if hits else 0.0)
    return found


def auc(uncovered: Sequence[float], covered: Sequence[float]) -> float:
    """P(an uncovered ticket scores below a covered one), ties counting half."""
    ordered = sorted(covered)
    wins = 0.0
    for score in uncovered:
        low = bisect.bisect_left(ordered, score)
        high = bisect.bisect_right(ordered, score)
        wins += len(ordered) - high + 0.5 * (high - low)
    return wins / (len(uncovered) * len(covered))


def threshold_table(name: str, split: Split) -> dict[float, float]:
    """Prints the score separation of one data set; returns J by threshold."""
    index = index_of(split.docs)
    covered = best_scores(index, [text for text, _ in split.covered])
    uncovered = best_scores(index, [text for text, _ in split.uncovered])
    print(
        f"\n{name}: {len(split.docs)} articles, {len(split.covered)} covered and"
        f" {len(split.uncovered)} uncovered tickets; median best score covered"
        f" {statistics.median(covered):.3f}, uncovered {statistics.median(uncovered):.3f};"
        f" AUC {auc(uncovered, covered):.3f}"
    )
    print(f"  {'threshold':>9} {'true gaps':>9} {'false gaps':>10} {'J':>6}")
    found: dict[float, float] = {}
    for threshold in THRESHOLDS:
        hit = sum(score < threshold for score in uncovered) / len(uncovered)
        false = sum(score < threshold for score in covered) / len(covered)
        found[threshold] = hit - false
        print(f"  {threshold:9.2f} {hit:9.3f} {false:10.3f} {hit - false:6.3f}")
    best = max(found, key=lambda t: (found[t], -t))
    print(f"  best J at threshold {best:.2f}")
    return found


# -- 2. similarity ----------------------------------------------------------------------


def cluster_figures(report: GapReport, gold: dict[str, str]) -> dict[str, float]:
    """Purity, completeness, F0.5, clusters, singletons and intents found."""
    groups = [cluster.ticket_ids for cluster in report.clusters]
    groups += [(ticket.ticket_id,) for ticket in report.singletons]
    clustered = report.clustered
    majority = [Counter(gold[t] for t in group).most_common(1)[0] for group in groups]
    purity = sum(count for _, count in majority[: len(report.clusters)]) / max(1, clustered)
    by_topic: dict[str, Counter[int]] = {}
    for number, group in enumerate(groups):
        for ticket in group:
            by_topic.setdefault(gold[ticket], Counter())[number] += 1
    completeness = sum(c.most_common(1)[0][1] for c in by_topic.values()) / len(gold)
    found = 0
    for counts in by_topic.values():
        number, count = counts.most_common(1)[0]
        big = number < len(report.clusters)
        if big and 2 * count >= sum(counts.values()) and 2 * count >= len(groups[number]):
            found += 1
    f05 = 1.25 * purity * completeness / (0.25 * purity + completeness or 1.0)
    return {
        "purity": purity,
        "completeness": completeness,
        "f05": f05,
        "clusters": len(report.clusters),
        "singletons": len(report.singletons),
        "found": found,
        "topics": len(by_topic),
    }


def similarity_table(name: str, split: Split) -> dict[float, float]:
    """Prints clustering figures of one data set; returns F0.5 by similarity."""
    made = tickets([text for text, _ in split.uncovered])
    gold = {ticket.id: topic for ticket, (_, topic) in zip(made, split.uncovered, strict=True)}
    print(f"\n{name}: {len(made)} uncovered tickets of {len(set(gold.values()))} intents")
    print(
        f"  {'similarity':>10} {'purity':>6} {'compl.':>6} {'F0.5':>6} {'clusters':>8}"
        f" {'alone':>6} {'found':>6} {'time s':>7}"
    )
    found: dict[float, float] = {}
    for similarity in SIMILARITIES:
        started = time.perf_counter()
        report = find_gaps(made, BuiltinIndex(), similarity=similarity)
        elapsed = time.perf_counter() - started
        f = cluster_figures(report, gold)
        found[similarity] = f["f05"]
        print(
            f"  {similarity:10.2f} {f['purity']:6.3f} {f['completeness']:6.3f} {f['f05']:6.3f}"
            f" {f['clusters']:8.0f} {f['singletons']:6.0f}"
            f" {f['found']:3.0f}/{f['topics']:<2.0f} {elapsed:7.2f}"
        )
    return found


# -- 3. end to end ----------------------------------------------------------------------


def end_to_end(name: str, split: Split) -> None:
    index = index_of(split.docs)
    made = tickets([text for text, _ in split.covered + split.uncovered])
    started = time.perf_counter()
    report = find_gaps(made, index, limit=8)
    elapsed = time.perf_counter() - started
    uncovered_ids = {ticket.id for ticket in made[len(split.covered) :]}
    reported = [t for c in report.clusters for t in c.ticket_ids]
    reported += [t.ticket_id for t in report.singletons]
    true_gaps = sum(t in uncovered_ids for t in reported)
    print(
        f"\nend to end, {name} with the defaults: {len(made)} tickets in {elapsed:.1f} s"
        f" ({elapsed / len(made) * 1000:.2f} ms per ticket); {report.uncovered} uncovered,"
        f" of which listed {len(reported)}, {true_gaps} truly uncovered"
    )
    for line in report.describe().splitlines():
        print(f"  {line}")


def main() -> None:
    started = time.perf_counter()
    sets = {
        "BANKING77": banking77(),
        "Bitext customer service": bitext(),
        "COVID FAQ": covid_faq(),
        "MASSIVE zh-CN": massive_zh(),
    }
    print("== 1. threshold: best article score, covered vs uncovered tickets")
    js = [threshold_table(name, split) for name, split in sets.items()]
    mean_j = {t: statistics.fmean(j[t] for j in js) for t in THRESHOLDS}
    best_t = max(mean_j, key=lambda t: (mean_j[t], -t))
    print(
        f"\nmean J best at threshold {best_t:.2f}: {mean_j[best_t]:.3f}"
        f" (DEFAULT_THRESHOLD {DEFAULT_THRESHOLD})"
    )
    print("\n== 2. similarity: clusters of uncovered tickets against their intents")
    fs = [similarity_table(name, split) for name, split in sets.items() if "FAQ" not in name]
    mean_f = {s: statistics.fmean(f[s] for f in fs) for s in SIMILARITIES}
    best_s = max(mean_f, key=lambda s: (mean_f[s], -s))
    print(
        f"\nmean F0.5 best at similarity {best_s:.2f}: {mean_f[best_s]:.3f}"
        f" (DEFAULT_SIMILARITY {DEFAULT_SIMILARITY})"
    )
    print("\n== 3. end to end")
    end_to_end("Bitext customer service", sets["Bitext customer service"])
    print(f"\ntotal {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
