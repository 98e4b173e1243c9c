"""The tantivy search backend (the ``supportflow[search]`` extra), for large knowledge bases.

It ranks and scores like :class:`~supportflow.kb.index.BuiltinIndex` (the same scores,
to rounding): tantivy only picks which articles are worth scoring.

**Candidates.** Each field (title, tags, body) is indexed with tantivy's own tokenizers
into the features of :mod:`~supportflow.kb.analysis`: words, padded character trigrams,
CJK 1–3-grams. A query asks for its rarest features until ``posting_budget`` postings are
spent, each term boosted by the field's weight times the feature's query weight, divided
by tantivy's idf and by the square root of the field's mean length: BM25, which
normalises each field by its length much as a cosine does, then approximates the exact
score, and its best ``max(candidates, limit) + limit`` matches are scored.

**Scores.** A candidate is scored exactly, in Python, with the built-in index's model:
each field a unit vector of ``1 + log(count)`` weights, the query weighted ``idf²`` and
normalised, the fields mixed by :class:`~supportflow.kb.search.FieldWeights`, a number in
[0, 1]. A field is stored with its words spaced apart and its vector's length, so a
query feature is counted with ``str.count`` and nothing is re-analysed per query.
Document frequencies are kept for live articles (tantivy counts deleted documents until
their segment merges), so after ``add``, ``remove`` or both in turn the scores are those
a rebuild would give.

**Writes.** ``add`` deletes the id's document and adds the new one in one commit, and the
searcher is reloaded before it returns. The writer is opened on the first write and held,
with tantivy's lock on the directory, until :meth:`TantivyIndex.close`; another index on
the same path can search meanwhile but not write, and sees the articles as they were
when it opened. Like the built-in index it is not safe to write from several threads.
"""

from __future__ import annotations

import importlib
import json
import math
import os
from collections import Counter
from collections.abc import Collection, Iterable
from itertools import pairwise
from types import TracebackType
from typing import Any

from ..errors import OptionalDependencyMissing, StorageError, ValidationFailed
from .analysis import CJK, WORD, count_runs, split_runs
from .articles import Article, ArticleStatus, Audience
from .query import WordCorrector, make_hit, prepare_query, query_vector
from .search import DEFAULT_FIELD_WEIGHTS, DEFAULT_STATUSES, FieldWeights, SearchHit
from .search_args import SearchArgs, check_index_options, check_search_args
from .synonyms import NO_SYNONYMS, Synonyms

__all__ = ["TantivyIndex"]

_LATIN = "supportflow_trigrams"
_HAN = "supportflow_cjk"
_WORDS = "supportflow_words"
_KINDS = {"w": _WORDS, "g": _LATIN, "c": _HAN}
_FIELDS = ("title", "tags", "body")
# Part of the schema: a directory written with another layout is refused, not misread.
# Bump it whenever what is indexed or stored changes (analysis.features included).
_LAYOUT = "layout_1"
_WRITER_HEAP = 128_000_000
_LONG_QUERY = 400  # features; past this a field is counted, not searched per feature
_ALL_STATUSES = frozenset(ArticleStatus)
_SUBLINEAR = [0.0, *(1.0 + math.log(n) for n in range(1, 64))]


def _tantivy() -> Any:
    """The tantivy module, or ``OptionalDependencyMissing`` naming the ``search`` extra."""
    try:
        return importlib.import_module("tantivy")
    except ImportError:
        raise OptionalDependencyMissing("search", "tantivy") from None


def _sublinear(count: float) -> float:
    n = int(count)
    return _SUBLINEAR[n] if n < len(_SUBLINEAR) else 1.0 + math.log(count)


def _squares(counts: Counter[Any]) -> float:
    """The sum of squared ``1 + log(count)`` weights: a field vector's length, squared."""
    total = float(len(counts))
    for count, times in Counter(counts.values()).items():
        if count > 1:
            total += times * (_sublinear(count) ** 2 - 1.0)
    return total


def _norm_of(words: list[str], cjk: list[str]) -> float:
    """The length of the vector of ``count_runs(words, cjk)``, without building it.

    Trigrams are counted as character triples and words without their prefix: keys of
    separate counters never collide, and only how often each occurs matters here.
    """
    squares = 0.0
    if words:
        joined = " " + " ".join(words) + " "
        grams = Counter(zip(joined, joined[1:], joined[2:], strict=False))
        for before, after in pairwise(words):
            grams.pop((before[-1], " ", after[0]), None)
        squares += _squares(grams) + _squares(Counter(words))
    if cjk:
        squares += _squares(
            Counter(
                [run[i : i + n] for run in cjk for n in (1, 2, 3) for i in range(len(run) - n + 1)]
            )
        )
    return math.sqrt(squares)


def _features_of(*texts: str) -> set[str]:
    """Every feature of the texts: what an article adds to document frequencies."""
    found: set[str] = set()
    for text in texts:
        found.update(count_runs(*split_runs(text)))
    return found


def _term(key: str) -> tuple[str, str]:
    """The tantivy field kind and term holding feature ``key``."""
    if key[0] == WORD:
        return "w", key[1:]
    if key[0] == CJK:
        return "c", key[1:]
    return "g", key


def _feature_of(kind: str, term: str) -> str | None:
    """The feature a tantivy term stands for; ``None`` for a gram spanning two runs.

    Runs are indexed joined by spaces, so the n-gram tokenizers also emit grams with a
    space inside; no feature has one (a padded trigram has spaces only at its ends).
    """
    if kind == "w":
        return WORD + term
    if kind == "c":
        return None if " " in term else CJK + term
    return None if len(term) != 3 or term[1] == " " else term


def _occurrences(text: str, part: str) -> int:
    """How often ``part`` occurs in ``text``, overlaps included (``str.count`` skips them)."""
    found = 0
    at = text.find(part)
    while at >= 0:
        found += 1
        at = text.find(part, at + 1)
    return found


class _Field:
    """One field as stored for scoring: its words spaced apart, its CJK runs, its length.

    In ``spaced`` every word stands as ``" word "`` with two spaces between words, so a
    word feature is counted as ``" word "`` and a trigram as itself, neither across words.
    ``norm`` is the length of the field's vector of ``1 + log(count)`` weights.
    """

    __slots__ = ("han", "norm", "spaced")

    def __init__(self, spaced: str, han: str, norm: float) -> None:
        self.spaced = spaced
        self.han = han
        self.norm = norm

    @classmethod
    def of(cls, text: str) -> tuple[_Field, int]:
        """The field for ``text`` and how many features it has, repeats included."""
        words, cjk = split_runs(text)
        size = sum(map(len, words)) + len(words)
        size += sum(3 * len(run) - 3 if len(run) > 1 else 1 for run in cjk)
        spaced = " " + "  ".join(words) + " " if words else ""
        return cls(spaced, "  ".join(cjk), _norm_of(words, cjk)), size


def _matched(
    text: str, plain: list[tuple[str, float]], overlapping: list[tuple[str, float]]
) -> float:
    """The sum of ``weight · (1 + log count)`` over the parts found in ``text``."""
    count = text.count
    total = 0.0
    for part, weight in plain:
        found = count(part)
        if found:
            total += weight if found == 1 else weight * _sublinear(found)
    for part, weight in overlapping:
        found = _occurrences(text, part)
        if found:
            total += weight * _sublinear(found)
    return total


class _Query:
    """A query vector split by where each feature is counted in a stored field.

    A part that can overlap itself (``"aba"``, ``"哈哈"``) is counted with
    :func:`_occurrences`, everything else with the faster ``str.count``.
    """

    __slots__ = ("han", "han_overlapping", "latin", "latin_overlapping", "weights")

    def __init__(self, weights: dict[str, float]) -> None:
        self.weights = weights
        self.latin: list[tuple[str, float]] = []
        self.latin_overlapping: list[tuple[str, float]] = []
        self.han: list[tuple[str, float]] = []
        self.han_overlapping: list[tuple[str, float]] = []
        for key, weight in weights.items():
            if key[0] == WORD:
                self.latin.append((" " + key[1:] + " ", weight))
            elif key[0] == CJK:
                gram = key[1:]
                overlaps = len(gram) > 1 and gram[0] == gram[-1]
                (self.han_overlapping if overlaps else self.han).append((gram, weight))
            else:
                overlaps = key[0] == key[-1]
                (self.latin_overlapping if overlaps else self.latin).append((key, weight))

    def dot(self, field: _Field) -> float:
        """The dot product with the field's unit vector."""
        if not field.norm:
            return 0.0
        total = 0.0
        if len(self.weights) > _LONG_QUERY:
            # Cheaper to count the field's features once than to look for each query's.
            get = self.weights.get
            for key, count in count_runs(field.spaced.split(), field.han.split()).items():
                weight = get(key)
                if weight is not None:
                    total += weight * _sublinear(count)
            return total / field.norm
        if field.spaced:
            total += _matched(field.spaced, self.latin, self.latin_overlapping)
        if field.han:
            total += _matched(field.han, self.han, self.han_overlapping)
        return total / field.norm


def _bm25_idf(documents: int, frequency: int) -> float:
    """tantivy's BM25 idf, which the candidate query divides out of its boosts."""
    frequency = min(frequency, documents)
    return math.log(1.0 + (documents - frequency + 0.5) / (frequency + 0.5))


class TantivyIndex:
    """A :class:`~supportflow.kb.search.SearchIndex` on tantivy, in memory or on disk.

    ``path=None`` keeps the index in memory; a directory path persists it, and a later
    ``TantivyIndex(path=...)`` sees the same articles (a directory of another layout is
    refused, naming ``path``). ``candidates`` and ``posting_budget`` trade speed for
    recall: each search scores ``max(candidates, limit) + limit`` articles that tantivy
    found with the query's rarest features, up to ``posting_budget`` postings of them.
    Without tantivy installed, constructing one raises ``OptionalDependencyMissing``.
    Example::

        with TantivyIndex(path="kb-index") as index:  # close() releases the directory
            index.rebuild(store_articles)
            hits = index.search("退款 not received", limit=5)
    """

    def __init__(
        self,
        *,
        field_weights: FieldWeights = DEFAULT_FIELD_WEIGHTS,
        synonyms: Synonyms = NO_SYNONYMS,
        typo_tolerance: bool = True,
        path: str | os.PathLike[str] | None = None,
        candidates: int = 32,
        posting_budget: int = 200_000,
    ) -> None:
        tantivy = _tantivy()
        check_index_options(field_weights, synonyms, typo_tolerance, candidates, posting_budget)
        self.field_weights = field_weights
        self.synonyms = synonyms
        self.typo_tolerance = typo_tolerance
        self._candidates = candidates
        self._budget = posting_budget
        self._tv = tantivy
        self._schema = self._build_schema()
        self._index = self._open(path)
        self._index.config_reader("Manual", 0)
        builder = tantivy.TextAnalyzerBuilder
        tokenizer = tantivy.Tokenizer
        self._index.register_tokenizer(_WORDS, builder(tokenizer.whitespace()).build())
        self._index.register_tokenizer(_LATIN, builder(tokenizer.ngram(3, 3)).build())
        self._index.register_tokenizer(_HAN, builder(tokenizer.ngram(1, 3)).build())
        self._writer: Any = None
        self._ids: set[str] = set()
        self._df: dict[str, int] = {}
        self._mean_sizes: list[float] | None = None  # per field, read again after writes
        self._corrector = WordCorrector()
        self._load()

    # -- setting up ---------------------------------------------------------------------

    def _build_schema(self) -> Any:
        builder = self._tv.SchemaBuilder()
        builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
        builder.add_bytes_field("stored", stored=True)
        builder.add_unsigned_field(_LAYOUT)
        for name in ("status", "language", "product", "audience"):
            builder.add_text_field(name, tokenizer_name="raw", index_option="basic")
        for field in _FIELDS:
            builder.add_unsigned_field(f"{field}_size", fast=True)
        for field in (*_FIELDS, "all"):
            option = "basic" if field == "all" else "freq"
            for kind, tokenizer in _KINDS.items():
                builder.add_text_field(
                    f"{field}_{kind}", tokenizer_name=tokenizer, index_option=option
                )
        return builder.build()

    def _open(self, path: str | os.PathLike[str] | None) -> Any:
        if path is None:
            return self._tv.Index(self._schema)
        if not isinstance(path, str | os.PathLike):
            raise ValidationFailed("path", f"must be a path or None, not {type(path).__name__}")
        where = os.fspath(path)
        try:
            os.makedirs(where, exist_ok=True)
            return self._tv.Index(self._schema, path=where, reuse=True)
        except ValueError as exc:
            if "schema does not match" in str(exc):
                raise ValidationFailed(
                    "path",
                    f"{where!r} holds a tantivy index of another layout (another program's, "
                    "or an older supportflow's): remove it and rebuild",
                ) from None
            raise StorageError(f"cannot open the search index at {where!r}: {exc}") from exc
        except OSError as exc:
            raise StorageError(f"cannot open the search index at {where!r}: {exc}") from exc

    def _load(self) -> None:
        """Read the live ids and document frequencies back from the index."""
        self._index.reload()
        searcher = self._index.searcher()
        every = self._tv.Query.all_query()
        terms = searcher.terms_with_prefix
        self._ids = {term for term, count in terms("id", "", filter_query=every) if count}
        df: dict[str, int] = {}
        for kind in _KINDS:
            for term, count in terms(f"all_{kind}", "", filter_query=every):
                key = _feature_of(kind, term)
                if key is not None and count:
                    df[key] = count
        self._df = df
        self._corrector.forget()

    def _document(self, article: Article) -> Any:
        """The tantivy document for ``article``: filters, features, what scoring reads."""
        document = self._tv.Document()
        document.add_text("id", article.id)
        document.add_text("status", article.status.value)
        document.add_text("language", article.language)
        if article.product is not None:
            document.add_text("product", article.product)
        document.add_text("audience", article.audience.value)
        stored: list[Any] = [article.title, list(article.tags), article.body]
        every_word: list[str] = []
        every_han: list[str] = []
        texts = (article.title, " ".join(article.tags), article.body)
        for name, text in zip(_FIELDS, texts, strict=True):
            field, size = _Field.of(text)
            document.add_unsigned(f"{name}_size", size)
            stored += [field.spaced, field.han, field.norm]
            if field.spaced:
                document.add_text(f"{name}_w", field.spaced)
                document.add_text(f"{name}_g", field.spaced)
                every_word.append(field.spaced)
            if field.han:
                document.add_text(f"{name}_c", field.han)
                every_han.append(field.han)
        if every_word:
            spaced = " ".join(every_word)
            document.add_text("all_w", spaced)
            document.add_text("all_g", spaced)
        if every_han:
            document.add_text("all_c", "  ".join(every_han))
        document.add_bytes("stored", json.dumps(stored, ensure_ascii=False).encode())
        return document

    # -- writing ------------------------------------------------------------------------

    def _writable(self) -> Any:
        """The writer, opened on first use; what others wrote before is read back then."""
        if self._writer is None:
            try:
                self._writer = self._index.writer(_WRITER_HEAP, 0)
            except ValueError as exc:
                raise StorageError(
                    f"cannot write the search index (is another index open on it?): {exc}"
                ) from exc
            self._load()
        return self._writer

    def _commit(self, writer: Any, what: str) -> None:
        try:
            writer.commit()
        except (ValueError, OSError) as exc:
            writer.rollback()
            raise StorageError(f"tantivy could not {what}: {exc}") from exc
        self._index.reload()
        self._mean_sizes = None

    def _stored(self, article_id: str) -> list[Any] | None:
        searcher = self._index.searcher()
        query = self._tv.Query.term_query(self._schema, "id", article_id)
        hits = searcher.search(query, 1, count=False).hits
        if not hits:
            return None
        stored: list[Any] = json.loads(searcher.doc(hits[0][1]).get_first("stored"))
        return stored

    def _indexed_features(self, article_id: str) -> set[str]:
        """The features the indexed version of the article added to the index."""
        stored = self._stored(article_id)
        return set() if stored is None else _features_of(stored[0], " ".join(stored[1]), stored[2])

    def _count(self, keys: Iterable[str], step: int) -> None:
        df = self._df
        for key in keys:
            left = df.get(key, 0) + step
            if left > 0:
                df[key] = left
            else:
                df.pop(key, None)
            if key[0] == WORD and left in (0, 1):
                self._corrector.forget()

    def add(self, article: Article) -> None:
        """Index ``article``, replacing the version indexed under its id, if any."""
        if not isinstance(article, Article):
            raise ValidationFailed("article", f"must be an Article, not {type(article).__name__}")
        document = self._document(article)
        found = _features_of(article.title, " ".join(article.tags), article.body)
        writer = self._writable()
        old = self._indexed_features(article.id) if article.id in self._ids else set()
        writer.delete_documents_by_term("id", article.id)
        writer.add_document(document)
        self._commit(writer, f"index article {article.id!r}")
        self._count(old, -1)
        self._count(found, +1)
        self._ids.add(article.id)

    def remove(self, article_id: str) -> bool:
        """Drop the article; whether it was indexed."""
        if not isinstance(article_id, str):
            return False
        writer = self._writable()
        if article_id not in self._ids:
            return False
        old = self._indexed_features(article_id)
        writer.delete_documents_by_term("id", article_id)
        self._commit(writer, f"remove article {article_id!r}")
        self._count(old, -1)
        self._ids.discard(article_id)
        return True

    def rebuild(self, articles: Iterable[Article]) -> None:
        """Replace everything indexed with ``articles`` (the last of a repeated id wins).

        One commit: searches see the old articles until the new ones are all in.
        """
        if isinstance(articles, str | bytes) or not isinstance(articles, Iterable):
            raise ValidationFailed("articles", "must be an iterable of Article")
        chosen: dict[str, Article] = {}
        for i, article in enumerate(articles):
            if not isinstance(article, Article):
                raise ValidationFailed(
                    f"articles[{i}]", f"must be an Article, not {type(article).__name__}"
                )
            chosen[article.id] = article
        writer = self._writable()
        writer.delete_all_documents()
        try:
            for article in chosen.values():
                writer.add_document(self._document(article))
        except BaseException:
            writer.rollback()
            raise
        self._commit(writer, "rebuild the index")
        self._load()

    def close(self) -> None:
        """Let merges finish and release the writer (and its lock on the directory)."""
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.wait_merging_threads()

    def __enter__(self) -> TantivyIndex:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and article_id in self._ids

    # -- searching ----------------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        limit: int = 10,
        language: str | None = None,
        product: str | None = None,
        audience: Audience | str | None = None,
        statuses: Collection[ArticleStatus | str] = DEFAULT_STATUSES,
    ) -> list[SearchHit]:
        """The best ``limit`` published (by default) articles for ``query``, best first."""
        args = check_search_args(query, limit, language, product, audience, statuses)
        if not args.query or not self._ids:
            return []
        prepared = prepare_query(
            args.query, self.synonyms, self._corrector if self.typo_tolerance else None, self._df
        )
        weights = query_vector(prepared.counts, self._df, len(self._ids))
        if not weights:
            return []
        return [
            make_hit(article_id, score, stored[0], stored[2], prepared.terms)
            for score, article_id, stored in self._score(weights, args)
        ]

    def _candidate_query(
        self, searcher: Any, weights: dict[str, float], args: SearchArgs
    ) -> Any | None:
        """tantivy's query for the candidates: the rarest features, then the filters.

        Each feature is looked for in each weighted field, boosted by the field's share
        times the feature's query weight over tantivy's own idf, so BM25 (length
        normalised per field, like a cosine) approximates the exact score.
        """
        tv = self._tv
        schema = self._schema
        df = self._df
        present = sorted((df[key], key) for key in weights if key in df)
        if not present:
            return None
        documents = searcher.num_docs
        fw = self.field_weights
        sizes = self._field_sizes(searcher)
        shares = [
            (name, share / fw.total / math.sqrt(size))
            for name, share, size in zip(_FIELDS, (fw.title, fw.tags, fw.body), sizes, strict=True)
            if share and size
        ]
        should = tv.Occur.Should
        must = tv.Occur.Must
        clauses: list[tuple[Any, Any]] = []
        spent = 0
        for size, key in present:
            if spent and spent + size > self._budget:
                break
            spent += size
            kind, term = _term(key)
            for name, share in shares:
                field = f"{name}_{kind}"
                frequency = searcher.doc_freq(field, term)
                if frequency:
                    boost = share * weights[key] / _bm25_idf(documents, frequency)
                    found = tv.Query.term_query(schema, field, term, "freq")
                    clauses.append((should, tv.Query.boost_query(found, boost)))
        wanted = [(must, tv.Query.boolean_query(clauses))]
        for name, value in (
            ("language", args.language),
            ("product", args.product),
            ("audience", args.audience.value if args.audience else None),
        ):
            if value is not None:
                wanted.append((must, tv.Query.term_query(schema, name, value, "basic")))
        if args.statuses != _ALL_STATUSES:
            either = [
                (should, tv.Query.term_query(schema, "status", status.value, "basic"))
                for status in sorted(args.statuses)
            ]
            wanted.append((must, tv.Query.boolean_query(either)))
        return tv.Query.boolean_query(wanted)

    def _field_sizes(self, searcher: Any) -> list[float]:
        """Each field's mean number of features: what a unit vector's entries scale with."""
        if self._mean_sizes is None:
            documents = max(1, searcher.num_docs)
            every = self._tv.Query.all_query()
            sums = {name: {"sum": {"field": f"{name}_size"}} for name in _FIELDS}
            found = searcher.aggregate(every, sums)
            self._mean_sizes = [float(found[name]["value"] or 0.0) / documents for name in _FIELDS]
        return self._mean_sizes

    def _score(
        self, weights: dict[str, float], args: SearchArgs
    ) -> list[tuple[float, str, list[Any]]]:
        """The ``limit`` best candidates, exactly scored, best first, ties by article id."""
        searcher = self._index.searcher()
        query = self._candidate_query(searcher, weights, args)
        if query is None:
            return []
        wanted = max(self._candidates, args.limit) + args.limit
        hits = searcher.search(query, wanted, count=False).hits
        fw = self.field_weights
        shares = [
            (3 + 3 * i, share / fw.total)
            for i, share in enumerate((fw.title, fw.tags, fw.body))
            if share
        ]
        vector = _Query({key: w for key, w in weights.items() if key in self._df})
        scored: list[tuple[float, str, list[Any]]] = []
        for _, address in hits:
            document = searcher.doc(address)
            stored = json.loads(document.get_first("stored"))
            score = 0.0
            for at, share in shares:
                score += share * vector.dot(_Field(stored[at], stored[at + 1], stored[at + 2]))
            scored.append((min(1.0, score), document.get_first("id"), stored))
        scored.sort(key=lambda item: (-item[0], item[1]))
        return scored[: args.limit]
