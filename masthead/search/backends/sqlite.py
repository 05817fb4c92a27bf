"""Masthead's SQLite backend: modelsearch's FTS5 backend, plus typo tolerance, news ranking and speed.

What it changes, and why:

- **Columns.** modelsearch's FTS5 table has three columns (``autocomplete``,
  ``body``, ``title``). The headline stays in ``title``; SearchFields boosted
  above 1 (standfirst, tag, section and author names) join the
  AutocompleteFields in the ``autocomplete`` column, the "lead"; the rest is
  ``body``. ``bm25()`` then weighs the columns headline > lead > body.
- **Ranking.** score = bm25 × recency × phrase bonus, where recency is
  ``1 + weight × h / (h + age_days)`` (half the boost at the half-life ``h``)
  and an exact phrase of the query inside the headline multiplies by
  ``PHRASE_BONUS``. modelsearch ranks with a correlated subquery per result,
  which re-runs the MATCH for every row; here one statement joins the MATCH to
  the caller's queryset and sorts once.
- **Typo tolerance.** ``Fuzzy`` leaves (modelsearch's SQLite backend rejects
  them) become the word OR its corrections from the vocabulary, found through
  an FTS5 ``trigram`` table over the words (migration 0002) and a prefix scan.
- **Escaping.** Every term is quoted for FTS5 (``"term"``, ``""`` for a quote
  inside, ``"term"*`` for a prefix) and the whole MATCH expression is one
  SQL parameter, so reader text never becomes FTS5 or SQL syntax.
- **Indexing.** Entries are written with one DELETE and one INSERT per batch
  instead of an UPDATE per object, and ``title_norm`` is not maintained
  (bm25 already normalises by column length); the vocabulary is updated in
  the same transaction.
"""

import sqlite3
from collections import Counter
from functools import cached_property

from django.db import connections
from django.db.models import F
from django.db.models.expressions import RawSQL
from modelsearch.backends.database.sqlite.query import AndNot, normalize
from modelsearch.backends.database.sqlite.sqlite import (
    IndexEntry,
    ObjectIndexer,
    SQLiteFTSIndexEntry,
    SQLiteIndex,
    SQLiteSearchAtomicRebuilder,
    SQLiteSearchBackend,
    SQLiteSearchQueryCompiler,
    SQLiteSearchRebuilder,
    SQLiteSearchResults,
)
from modelsearch.index import AutocompleteField, SearchField
from modelsearch.query import And, MatchAll, Not, Or, Phrase, PlainText
from modelsearch.utils import get_content_type_pk, get_descendants_content_types_pks

from masthead.search import vocabulary
from masthead.search.backends.base import (
    LEAD_BOOST,
    MastheadSearchMixin,
    drop_empty,
    expand_fuzzy,
    fuzzy_words,
    headline_phrase,
    indexer_texts,
)

TRIGRAM_TABLE = "masthead_search_word_trigram"
TRIGRAM_CANDIDATES = 200  # words fetched by shared trigrams, best bm25 first
PREFIX_CANDIDATES = 300  # words fetched by shared first letters, commonest first
INSERT_BATCH = 150  # entries per INSERT statement (5 parameters each, under 999)
RECENCY_FIELD = "first_published_at"


def fts_quote(text: str, *, prefix: bool = False) -> str:
    """Return ``text`` as one FTS5 string ("…", inner quotes doubled), with * for a prefix query."""
    quoted = '"' + text.replace('"', '""') + '"'
    return quoted + "*" if prefix else quoted


class MastheadSQLiteObjectIndexer(ObjectIndexer):
    """Put boosted SearchFields into the lead (``autocomplete``) column instead of the body.

    Each field's value is read once (modelsearch reads every field three times,
    once per column), which matters for values that cost a query or a parse.
    """

    @cached_property
    def prepared(self) -> list[tuple[object, str]]:
        return [
            (current_field, value)
            for field in self.search_fields
            for current_field, value in self.prepare_field(self.obj, field)
            if value
        ]

    @staticmethod
    def _is_lead(field) -> bool:
        return isinstance(field, SearchField) and (field.boost or 0) > LEAD_BOOST

    def _join(self, wanted) -> str:
        return " ".join(value for field, value in self.prepared if wanted(field))

    @cached_property
    def title(self):
        return self._join(lambda f: isinstance(f, SearchField) and f.field_name == "title")

    @cached_property
    def body(self):
        return self._join(
            lambda f: (
                isinstance(f, SearchField) and f.field_name != "title" and not self._is_lead(f)
            )
        )

    @cached_property
    def autocomplete(self):
        return self._join(
            lambda f: (
                isinstance(f, AutocompleteField) or (self._is_lead(f) and f.field_name != "title")
            )
        )


class MastheadSQLiteIndex(SQLiteIndex):
    def __init__(self, backend):
        super().__init__(backend)
        self.rebuild_counts: Counter | None = None  # set while a full rebuild collects words

    def _refresh_title_norms(self, full=False):
        """Do nothing: Masthead ranks with bm25, which normalises by column length itself."""

    def add_items(self, model, objs):
        """Index ``objs`` (replacing their old entries) and add their words to the vocabulary."""
        if not model.get_search_fields():
            return
        indexers = [MastheadSQLiteObjectIndexer(obj, self.backend) for obj in objs]
        if not indexers:
            return
        content_type_pk = get_content_type_pk(model)
        rows = {}
        counts: Counter = Counter()
        for indexer in indexers:
            rows[indexer.id] = (indexer.title, indexer.autocomplete, indexer.body)
            counts.update(vocabulary.document_words(indexer_texts(indexer)))
        table = IndexEntry._meta.db_table
        ids = list(rows)
        with self.write_connection.cursor() as cursor:
            for i in range(0, len(ids), 900):
                chunk = ids[i : i + 900]
                cursor.execute(
                    f"DELETE FROM {table} WHERE content_type_id = %s AND object_id IN "  # noqa: S608
                    f"({', '.join(['%s'] * len(chunk))})",
                    [content_type_pk, *chunk],
                )
            for i in range(0, len(ids), INSERT_BATCH):
                chunk = ids[i : i + INSERT_BATCH]
                values = ", ".join(["(%s, %s, %s, %s, %s, 1.0)"] * len(chunk))
                params = []
                for object_id in chunk:
                    params.extend([content_type_pk, object_id, *rows[object_id]])
                cursor.execute(
                    f"INSERT INTO {table} "  # noqa: S608
                    "(content_type_id, object_id, title, autocomplete, body, title_norm) "
                    f"VALUES {values}",
                    params,
                )
        if self.rebuild_counts is not None:
            self.rebuild_counts.update(counts)
        else:
            self.backend.add_words(counts)


class MastheadSQLiteRebuilder(SQLiteSearchRebuilder):
    """Rebuild the entries, then replace the vocabulary with the words they hold."""

    def start(self):
        index = super().start()
        index.rebuild_counts = Counter()
        return index

    def finish(self):
        self.index.backend.replace_words(self.index.rebuild_counts or Counter())
        self.index.rebuild_counts = None


class MastheadSQLiteAtomicRebuilder(SQLiteSearchAtomicRebuilder):
    def start(self):
        index = super().start()
        index.rebuild_counts = Counter()
        return index

    def finish(self):
        self.index.backend.replace_words(self.index.rebuild_counts or Counter())
        self.index.rebuild_counts = None
        super().finish()


class MastheadSQLiteSearchQueryCompiler(SQLiteSearchQueryCompiler):
    """Compile Wagtail's query classes to one FTS5 MATCH parameter and one ranked statement."""

    COLUMNS = "{autocomplete title body}"
    PREFIX_LAST = False
    CANDIDATE_LIMIT = None  # full search ranks every match

    def match_columns(self) -> str:
        # The index has a title column; every other SearchField lives in the lead or body.
        if self.fields and set(self.fields) <= {"title"}:
            return "{title}"
        return self.COLUMNS

    def match_string(self, query, *, last=True) -> str:
        """Return the FTS5 expression of a (normalized, Fuzzy-free) query; every term quoted."""
        if isinstance(query, PlainText):
            terms = query.query_string.split()
            joiner = " AND " if query.operator == "and" else " OR "
            quoted = [
                fts_quote(t, prefix=self.PREFIX_LAST and last and i == len(terms) - 1)
                for i, t in enumerate(terms)
            ]
            return "(" + joiner.join(quoted) + ")"
        if isinstance(query, Phrase):
            return fts_quote(query.query_string)
        if isinstance(query, AndNot):
            return (
                f"({self.match_string(query.subquery_a)} NOT "
                f"{self.match_string(query.subquery_b, last=False)})"
            )
        if isinstance(query, (And, Or)):
            subs = [q for q in query.subqueries if not isinstance(q, MatchAll)]
            joiner = " AND " if isinstance(query, And) else " OR "
            return (
                "("
                + joiner.join(
                    self.match_string(q, last=last and i == len(subs) - 1)
                    for i, q in enumerate(subs)
                )
                + ")"
            )
        raise NotImplementedError(f"{type(query).__name__} is not supported by this backend.")

    def prepared(self, backend):
        """Return (match, negated, phrase) for the query, or (None, False, "") for all / none."""
        query = self.query
        if backend is not None and fuzzy_words(query):
            query = expand_fuzzy(query, backend.corrections(fuzzy_words(query)))
        query = drop_empty(query)
        normalized = normalize(query) if query is not None else Not(MatchAll())
        if isinstance(normalized, MatchAll):
            return None, False, ""
        if isinstance(normalized, Not) and isinstance(normalized.subquery, MatchAll):
            return "", False, ""
        negated = isinstance(normalized, Not)
        if negated:
            normalized = normalized.subquery
        match = f"{self.match_columns()} : {self.match_string(normalized)}"
        return match, negated, headline_phrase(query) if not negated else ""

    def matched_ids_sql(self, match: str, *, rank: bool = True) -> tuple[str, list]:
        """Return SQL selecting (id, rank, title) of the index entries the MATCH finds.

        Without ``rank`` the bm25() call is left out (counting needs no score). With
        CANDIDATE_LIMIT set, only that many matches, most recently indexed first, are kept.
        """
        fts = SQLiteFTSIndexEntry._meta.db_table
        entries = IndexEntry._meta.db_table
        cts = get_descendants_content_types_pks(self.queryset.model)
        score = f"bm25({fts}, %s, %s, %s)" if rank else "0.0"
        sql = (
            f"SELECT CAST(ie.object_id AS INTEGER) AS id, "  # noqa: S608
            f"{score} AS rank, ie.title AS title "
            f"FROM {fts} CROSS JOIN {entries} ie ON ie.id = {fts}.rowid "
            f"WHERE {fts} MATCH %s AND ie.content_type_id IN ({', '.join(['%s'] * len(cts))})"
        )
        params = [*(self.rank_weights() if rank else ()), match, *cts]
        if self.CANDIDATE_LIMIT and rank:
            sql += f" ORDER BY {fts}.rowid DESC LIMIT %s"
            params.append(self.CANDIDATE_LIMIT)
        return sql, params

    def rank_weights(self):
        b = self.backend
        return (b.lead_weight, b.body_weight, b.title_weight)

    def ranked(self, start, stop, *, count=False):
        """Return [(pk, score)] of the page start:stop of results, or the count when ``count``."""
        match, negated, phrase = self.prepared(self.backend)
        model = self.queryset.model
        if match is None:
            queryset = self.queryset
            return queryset.count() if count else None
        if match == "":
            return 0 if count else []
        if negated:
            matched, params = self.matched_ids_sql(match)
            queryset = self.queryset.exclude(pk__in=RawSQL(f"SELECT id FROM ({matched})", params))
            return queryset.count() if count else None

        has_date = any(f.name == RECENCY_FIELD for f in model._meta.get_fields())
        order_fields = [] if self.order_by_relevance else _order_fields(self.queryset)
        # The caller's queryset (filters, permissions, live/public) joined as a subquery,
        # its columns given fixed aliases: q._pk, q._date, q._o0, q._o1…
        columns = {"_pk": F("pk")}
        if has_date:
            columns["_date"] = F(RECENCY_FIELD)
        for i, (name, _desc) in enumerate(order_fields):
            columns[f"_o{i}"] = F(name)
        inner_sql, inner_params = self.queryset.order_by().values(**columns).query.sql_with_params()
        matched, matched_params = self.matched_ids_sql(
            match, rank=self.order_by_relevance and not count
        )
        if count:
            sql = f"{_cte(matched)} SELECT COUNT(*) FROM m JOIN ({inner_sql}) q ON q._pk = m.id"
            with connections[self.queryset.db].cursor() as cursor:
                cursor.execute(sql, [*matched_params, *inner_params])
                return cursor.fetchone()[0]

        score, score_params = "-m.rank", []
        b = self.backend
        if has_date and b.recency_weight and b.recency_half_life_days > 0:
            age = "MAX(0.0, julianday('now') - julianday(q._date))"
            score += f" * (1.0 + %s * %s / (%s + COALESCE({age}, 36500.0)))"
            h = b.recency_half_life_days
            score_params += [b.recency_weight, h, h]
        if phrase and b.phrase_bonus != 1.0:
            score += " * (CASE WHEN instr(lower(m.title), %s) > 0 THEN %s ELSE 1.0 END)"
            score_params += [phrase, b.phrase_bonus]
        if self.order_by_relevance:
            order = "score DESC, q._pk DESC"
        else:
            order = ", ".join(
                [
                    f"q._o{i} {'DESC' if desc else 'ASC'}"
                    for i, (_n, desc) in enumerate(order_fields)
                ]
                + ["q._pk DESC"]
            )
        sql = (
            f"{_cte(matched)} SELECT q._pk, {score} AS score FROM m "
            f"JOIN ({inner_sql}) q ON q._pk = m.id ORDER BY {order}"
        )
        params = [*matched_params, *score_params, *inner_params]
        if stop is not None:
            sql += " LIMIT %s OFFSET %s"
            params += [stop - (start or 0), start or 0]
        elif start:
            sql += " LIMIT -1 OFFSET %s"
            params += [start]
        with connections[self.queryset.db].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def search(self, config, start, stop, score_field=None):
        """Return a queryset of the matches (used for facets and for negated queries)."""
        match, negated, _phrase = self.prepared(self.backend)
        if match is None:
            return self.queryset[start:stop]
        if match == "":
            return self.queryset.none()
        matched, params = self.matched_ids_sql(match)
        ids = RawSQL(f"SELECT id FROM ({matched})", params)
        queryset = (
            self.queryset.exclude(pk__in=ids) if negated else self.queryset.filter(pk__in=ids)
        )
        if not queryset.query.order_by:
            queryset = queryset.order_by("-pk")
        return queryset[start:stop]


class MastheadSQLiteAutocompleteQueryCompiler(MastheadSQLiteSearchQueryCompiler):
    """Prefix search on the headline: what the reader has typed so far."""

    COLUMNS = "{title}"
    PREFIX_LAST = True
    # A two-letter prefix matches a fifth of all headlines; the typeahead ranks the
    # newest-indexed matches only (FTS5 reads them in rowid order and stops).
    CANDIDATE_LIMIT = 500
    LAST_TERM_IS_PREFIX = True
    TARGET_SEARCH_FIELD_TYPE = AutocompleteField
    FTS_TABLE_FIELDS = ["autocomplete"]

    def get_config(self, backend):
        return backend.autocomplete_config

    def get_search_fields_for_model(self):
        return self.queryset.model.get_autocomplete_search_fields()

    def rank_weights(self):
        return (0.0, 0.0, 1.0)


class MastheadSQLiteSearchResults(SQLiteSearchResults):
    def _do_search(self):
        compiler = self.query_compiler
        compiler.backend = self.backend
        rows = compiler.ranked(self.start, self.stop)
        if rows is None:
            # Everything matched, or a purely negative query: modelsearch's queryset path.
            return list(compiler.search(None, self.start, self.stop))
        pks = [row[0] for row in rows]
        objects = compiler.queryset.in_bulk(pks) if pks else {}
        results = []
        for pk, score in rows:
            obj = objects.get(pk)
            if obj is None:
                continue
            if self._score_field:
                setattr(obj, self._score_field, score)
            results.append(obj)
        return results

    def _do_count(self):
        compiler = self.query_compiler
        compiler.backend = self.backend
        return compiler.ranked(None, None, count=True)

    def facet(self, field_name):
        self.query_compiler.backend = self.backend
        return super().facet(field_name)


class MastheadSQLiteSearchBackend(MastheadSearchMixin, SQLiteSearchBackend):
    query_compiler_class = MastheadSQLiteSearchQueryCompiler
    autocomplete_query_compiler_class = MastheadSQLiteAutocompleteQueryCompiler
    index_class = MastheadSQLiteIndex
    results_class = MastheadSQLiteSearchResults
    rebuilder_class = MastheadSQLiteRebuilder
    plain_rebuilder_class = MastheadSQLiteRebuilder
    atomic_rebuilder_class = MastheadSQLiteAtomicRebuilder

    supports_typo_tolerance = True
    entry_text_field = "body"

    def __init__(self, params):
        super().__init__(params)
        if params.get("ATOMIC_REBUILD", True):
            self.rebuilder_class = self.atomic_rebuilder_class

    def word_candidates(self, word: str) -> list[tuple[str, int]]:
        """Return vocabulary words sharing trigrams or the first letters with ``word``."""
        from masthead.search.models import Word

        low, high = len(word) - vocabulary.max_distance(word), len(word) + 2
        found: dict[str, int] = {}
        table = Word._meta.db_table
        with self.word_connection.cursor() as cursor:
            grams = list(dict.fromkeys(word[i : i + 3] for i in range(len(word) - 2)))
            if grams and _has_trigram_table(self.word_connection):
                cursor.execute(
                    f"SELECT w.word, w.docs FROM {TRIGRAM_TABLE} t "  # noqa: S608
                    f"JOIN {table} w ON w.id = t.rowid "
                    f"WHERE {TRIGRAM_TABLE} MATCH %s AND length(w.word) BETWEEN %s AND %s "
                    f"ORDER BY bm25({TRIGRAM_TABLE}) LIMIT %s",
                    [" OR ".join(fts_quote(g) for g in grams), low, high, TRIGRAM_CANDIDATES],
                )
                found.update(cursor.fetchall())
            prefix = word[: vocabulary.PREFIX_LENGTH]
            cursor.execute(
                f"SELECT word, docs FROM {table} WHERE word >= %s AND word < %s "  # noqa: S608
                "AND length(word) BETWEEN %s AND %s ORDER BY docs DESC LIMIT %s",
                [prefix, prefix + "\uffff", low, high, PREFIX_CANDIDATES],
            )
            found.update(cursor.fetchall())
        return list(found.items())


def _cte(matched_sql: str) -> str:
    """Return ``WITH m AS (…)``: the MATCH runs once, first, whatever the planner thinks of the rest."""
    hint = "MATERIALIZED " if sqlite3.sqlite_version_info >= (3, 35) else ""
    return f"WITH m AS {hint}({matched_sql})"


def _has_trigram_table(connection) -> bool:
    """Return True when migration 0002 could create the FTS5 trigram table (SQLite ≥ 3.34)."""
    key = "_masthead_trigram_table"
    if not hasattr(connection, key):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [TRIGRAM_TABLE]
            )
            setattr(connection, key, cursor.fetchone() is not None)
    return getattr(connection, key)


def _order_fields(queryset) -> list[tuple[str, bool]]:
    """Return (field, descending) pairs of the queryset's plain field ordering, pk excluded."""
    fields = []
    for item in queryset.query.order_by:
        if isinstance(item, str):
            name = item.lstrip("-")
            if name != "pk":
                fields.append((name, item.startswith("-")))
    return fields
