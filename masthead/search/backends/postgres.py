"""Masthead's PostgreSQL backend: modelsearch's, plus vocabulary typo tolerance and news ranking.

What it changes, and why:

- **Typo tolerance.** modelsearch compiles a top-level ``Fuzzy`` into
  ``word_similarity()`` against every entry's whole text: no index can serve
  that, so it reads the table. Here each ``Fuzzy`` leaf, wherever it sits in
  the query, becomes the word OR its likely corrections from the ``Word`` vocabulary,
  which ``pg_trgm`` indexes (``word % 'zelensly'``, migration 0002); the
  tsquery then uses the GIN indexes as any other search does.
- **Accents.** The ``masthead`` text search configuration (English stemming
  after ``unaccent``) is used when migration 0002 could create it.
- **Matching.** modelsearch filters pages on ``title || body @@ query``, which
  no index serves; here the index table is matched first through its GIN
  indexes (``NewsRankingMixin``) and pages are joined by id afterwards. The
  SQL is written by hand (``postgres_sql.SearchSql``): compiling it through the ORM cost
  more than running it. Phrases and exclusions are tested on each column, and
  for the candidates only in headline-rank order until enough have passed.
- **Ranking.** modelsearch's weighted ``ts_rank`` (headline, then SearchFields
  by boost: standfirst and names above the body) is multiplied by
  ``1 + weight × h / (h + age_days)`` and by ``PHRASE_BONUS`` when the
  headline holds the query's exact phrase — the same formula as on SQLite.
- **Typeahead.** It ranks the newest matches, as on SQLite.
- **Indexing.** One hand-written, set-based INSERT … SELECT FROM unnest(…)
  ON CONFLICT per batch (the texts as binary arrays bound on the server;
  PostgreSQL builds the tsvectors); a full rebuild writes a shadow table
  without indexes and swaps it in before it commits (``postgres_rebuild``), each
  batch's statement sent while the next batch is prepared (libpq pipeline mode);
  a rebuild reads rows of values, never page objects (``indexing.IndexRows``); field values are read once and fast
  (``indexing.FastIndexerMixin``); ``title_norm`` is not refreshed after every
  batch (that is an AVG over the whole table each time); the vocabulary is
  updated in the same transaction as the entries.
"""

import re
from collections import Counter
from contextlib import contextmanager
from functools import cached_property, reduce
from operator import and_, or_

from django.contrib.postgres.search import SearchRank, SearchVectorField
from django.db import connections
from django.db.models import F, Func, IntegerField, Q, Value
from django.db.models.expressions import CombinedExpression
from django.db.models.functions import Cast
from django.db.models.lookups import Exact
from modelsearch.backends.database.postgres.postgres import (
    EMPTY_VECTOR,  # noqa: F401  (re-exported for subclasses)
    IndexEntry,
    ObjectIndexer,
    PostgresAutocompleteQueryCompiler,
    PostgresIndex,
    PostgresSearchBackend,
    PostgresSearchQueryCompiler,
    PostgresSearchResults,
)
from modelsearch.backends.database.postgres.weights import get_weight
from modelsearch.index import AutocompleteField, SearchField
from modelsearch.query import And, Boost, MatchAll, Not, Or, Phrase, PlainText
from modelsearch.utils import get_content_type_pk, get_descendants_content_types_pks

from masthead.search import vocabulary
from masthead.search.backends.base import (
    LEAD_BOOST,
    CheckOnceMixin,
    CountAtMostMixin,
    MastheadSearchMixin,
    RankedResultsMixin,
    connection_flag,
    content_type_pks,
    count_joined,
    drop_empty,
    expand_fuzzy,
    fuzzy_words,
    headline_phrase,
    joined_queryset_sql,
    matches_at_most,
    news_score_sql,
    order_sql,
    plain_terms,
    query_words,
    rank_page,
)
from masthead.search.backends.indexing import (
    FastIndexerMixin,
    MastheadIndexMixin,
    indexer_texts,
)
from masthead.search.backends.postgres_rebuild import (
    MastheadPostgresAtomicRebuilder,
    MastheadPostgresRebuilder,
    ShadowTable,
)
from masthead.search.backends.postgres_sql import SearchSql, UnsupportedQuery

CANDIDATES = 300  # words fetched per misspelling, from pg_trgm and from shared first letters
TEXT_SEARCH_CONFIG = "masthead"  # created by migration 0002 when unaccent is available
# PostgreSQL's text search parser drops anything between < and > as an XML tag, and
# reads "cpac.o", "a/b" or "x@y" as one host, file or email token: "<CPAC.O>" (a ticker
# in a headline) would not be the word "cpac". SQLite's unicode61 splits them all.
_PARSER_GLUE = re.compile(r"[<>./@:]")
_CONFIG_NAME = re.compile(
    r"[A-Za-z_][A-Za-z0-9_.]*"
)  # a text search configuration, written into SQL


class MastheadPostgresObjectIndexer(FastIndexerMixin, ObjectIndexer):
    """Keep ``body_text`` to the body proper (no standfirst or names), as on SQLite: snippets read it.

    Each field's value is read once (modelsearch reads every field once per
    column), StreamField text and related objects the fast way
    (``FastIndexerMixin``).
    """

    def prepare_field(self, obj, field):
        for current, value in self.field_values(obj, field):
            weight = get_weight(current.boost) if isinstance(current, SearchField) else "D"
            yield current, weight, value

    @cached_property
    def texts_by_column(self) -> dict[str, list[tuple[str, str]]]:
        """Return column → [(text, weight)] of the prepared values: "title", "body", "autocomplete".

        One pass over the values (the weight of a boost looked up once per field).
        """
        out: dict[str, list[tuple[str, str]]] = {"title": [], "body": [], "autocomplete": []}
        weights: dict = {}
        for current, value in self.prepared:
            text = value.strip()
            if not text:
                continue
            if isinstance(current, SearchField):
                weight = weights.get(current.boost)
                if weight is None:
                    weight = weights[current.boost] = get_weight(current.boost)
                column = "title" if current.field_name == "title" else "body"
                out[column].append((text, weight))
            elif isinstance(current, AutocompleteField):
                out["autocomplete"].append((text, "D"))
        return out

    @property
    def title_texts(self):
        return self.texts_by_column["title"]

    @property
    def body_texts(self):
        return self.texts_by_column["body"]

    @property
    def autocomplete_texts(self):
        return self.texts_by_column["autocomplete"]

    @cached_property
    def title_text(self):
        return " ".join(text for text, _w in self.title_texts)

    @cached_property
    def body_text(self):
        return " ".join(
            value.strip()
            for current, value in self.prepared
            if isinstance(current, SearchField)
            and current.field_name != "title"
            and (current.boost or 0) <= LEAD_BOOST
            and value.strip()
        )


WEIGHTS = ("A", "B", "C", "D")


def tsvector_sql(config: str | None, weights=WEIGHTS, sources=None) -> str:
    """Return SQL for a weighted tsvector with one text per weight.

    The texts are parameters (``%s``), or the SQL expressions ``sources`` (one
    per weight). One statement shape for every entry; an empty text costs nothing.
    """
    sources = sources or ["%s"] * len(weights)
    if config:
        part = "setweight(to_tsvector('{config}'::regconfig, {source}), '{weight}')"
    else:
        part = "setweight(to_tsvector({source}), '{weight}')"
    return " || ".join(
        part.format(config=config, weight=w, source=source)
        for w, source in zip(weights, sources, strict=True)
    )


def weighted_texts(texts: list[tuple[str, str]], weights=WEIGHTS) -> list[str]:
    """Return one text per weight: the (text, weight) pairs of that weight, joined."""
    by_weight: dict[str, list[str]] = {weight: [] for weight in weights}
    for text, weight in texts:
        by_weight.setdefault(weight, []).append(text)
    return [_PARSER_GLUE.sub(" ", " ".join(by_weight[weight])) for weight in weights]


class MastheadPostgresIndex(MastheadIndexMixin, PostgresIndex):
    # A full rebuild's batch waiting to be written: (SQL, params), sent to PostgreSQL
    # while the next batch is prepared (``add_items``), the last one by ``flush``.
    pending: tuple[str, list] | None = None
    # The table a full rebuild writes instead of the index table (``ShadowTable``), if any,
    # and whether the rebuild starting asks for one (``PendingFlushMixin.start``).
    shadow: "ShadowTable | None" = None
    shadow_wanted = False

    def delete_stale_entries(self):
        """Delete entries of objects that are gone, unless a rebuild writes a new table anyway.

        modelsearch's rebuilders call this first thing, inside their transaction:
        the moment to decide whether the rebuild can write a shadow table.
        """
        if self.shadow_wanted:
            self.shadow = ShadowTable.planned(self.write_connection, IndexEntry._meta.db_table)
            if self.shadow is not None:
                return
        super().delete_stale_entries()

    def add_items(self, model, objs):
        """Upsert ``objs`` into the index as modelsearch does, and add their words to the vocabulary.

        One set-based INSERT … SELECT FROM unnest(…) ON CONFLICT statement for the
        whole batch, its SQL written by hand. During a full rebuild the statement
        of a batch is sent while the next batch is prepared (``pipelined``):
        PostgreSQL builds one batch's vectors while Python reads the next one's
        texts, on two cores instead of one after the other; ``flush`` (the
        rebuilder's ``finish``) writes the last.
        """
        if not model.get_search_fields():
            return
        indexers = self.make_indexers(model, objs, MastheadPostgresObjectIndexer)
        if not indexers:
            return
        if self.rebuild_counts is None:
            self.flush()
            self.write_changed(model, indexers)
            return
        previous, self.pending = self.pending, None
        with self.pipelined(previous):
            self.pending = self.entries_statement(model, indexers)

    def flush(self) -> None:
        """Write the batch a rebuild left pending, if any."""
        previous, self.pending = self.pending, None
        if previous is not None:
            self.execute(previous)

    def write_changed(self, model, indexers) -> None:
        """Upsert the indexers' entries, skipping those unchanged; only written ones add words.

        Publishing saves a page, and indexes it, more than once: an entry
        rewritten with the same texts would count its words again. The
        vocabulary's counts still only grow between rebuilds here (an edit
        that drops a word does not take it off: PostgreSQL's entries keep
        stemmed vectors, not every text), so they stay upper bounds.
        """
        sql, params = self.entries_statement(model, indexers, count_words=False)
        table = IndexEntry._meta.db_table
        sql += (
            f" WHERE ({table}.title, {table}.autocomplete, {table}.body, {table}.title_text, "
            f"{table}.body_text) IS DISTINCT FROM (EXCLUDED.title, EXCLUDED.autocomplete, "
            "EXCLUDED.body, EXCLUDED.title_text, EXCLUDED.body_text) RETURNING object_id"
        )
        written = {row[0] for row in self.execute((sql, params))}
        if written and self.counts_words:
            counts: Counter = Counter()
            for indexer in reversed(indexers):  # an object given twice keeps its last texts
                if indexer.id in written:
                    counts.update(vocabulary.document_words(indexer_texts(indexer)))
                    written.discard(indexer.id)
            self.record_words(counts)

    def execute(self, statement: tuple[str, list]) -> list[tuple]:
        """Run an entries statement on the write connection, its texts sent as binary arrays; return its rows.

        A cursor that binds parameters on the server: the client-side cursor Django
        uses would quote and escape every text into the SQL. Errors are Django's.
        """
        import psycopg

        self.write_connection.ensure_connection()
        with (
            self.write_connection.wrap_database_errors,
            psycopg.Cursor(self.write_connection.connection) as cursor,
        ):
            cursor.execute(*statement)
            return cursor.fetchall() if cursor.description else []

    @contextmanager
    def pipelined(self, statement: tuple[str, list] | None):
        """Send ``statement`` now, run the body while PostgreSQL works, then wait for it.

        Without libpq pipeline mode, the statement runs first. An error of the
        statement is raised when the body ends (the rebuild's transaction then
        rolls back).
        """
        import psycopg

        if statement is None:
            yield
            return
        if not psycopg.Pipeline.is_supported():
            self.execute(statement)
            yield
            return
        self.write_connection.ensure_connection()
        connection = self.write_connection.connection
        with (
            self.write_connection.wrap_database_errors,
            connection.pipeline(),
            psycopg.Cursor(connection) as cursor,
        ):
            cursor.execute(*statement)
            connection.pgconn.flush()
            yield

    def entries_statement(self, model, indexers, *, count_words=True) -> tuple[str, list]:
        """Return (SQL, params) upserting the indexers' entries; their words go to the vocabulary
        (unless ``count_words`` is False).

        During a rebuild that writes a shadow table, a plain INSERT into it: the
        table has no index or constraint yet (``ShadowTable``).
        """
        content_type_pk = get_content_type_pk(model)
        config, autocomplete_config = self.backend.config, self.backend.autocomplete_config
        for name in (config, autocomplete_config):
            if name and not _CONFIG_NAME.fullmatch(name):
                raise ValueError(f"Not a text search configuration name: {name!r}")
        count_words = count_words and self.counts_words
        documents = []
        rows = []
        for indexer in indexers:
            rows.append(
                (
                    content_type_pk,
                    str(indexer.id),
                    *weighted_texts(indexer.title_texts),
                    *weighted_texts(indexer.autocomplete_texts, ("D",)),
                    *weighted_texts(indexer.body_texts),
                    indexer.title_text,
                    indexer.body_text,
                )
            )
            if count_words:
                documents.append(indexer_texts(indexer))
        if count_words:
            self.record_documents(documents)
        # One set-based statement per batch: the texts go as arrays, unnest() makes
        # them rows, and PostgreSQL builds every tsvector in one INSERT … SELECT
        # (an INSERT per entry costs about twice as much). An entry given twice
        # keeps its last texts: ON CONFLICT may not touch a row twice.
        by_id = {row[1]: row for row in rows}
        columns = list(zip(*by_id.values(), strict=True))[1:]  # object_id, then the texts
        names = [f"c{i}" for i in range(len(columns))]
        n = len(WEIGHTS)
        title = tsvector_sql(config, sources=[f"u.{c}" for c in names[1 : 1 + n]])
        autocomplete = tsvector_sql(autocomplete_config, ("D",), sources=[f"u.{names[1 + n]}"])
        body = tsvector_sql(config, sources=[f"u.{c}" for c in names[2 + n : 2 + 2 * n]])
        table = self.shadow.name if self.shadow is not None else IndexEntry._meta.db_table
        sql = (
            f"INSERT INTO {table} "  # noqa: S608
            "(content_type_id, object_id, title, autocomplete, body, title_norm, "
            f"title_text, body_text) SELECT %s, u.c0, {title}, {autocomplete}, {body}, 1.0, "
            f"u.{names[-2]}, u.{names[-1]} "
            f"FROM unnest({', '.join(['%b::text[]'] * len(columns))}) AS u({', '.join(names)})"
        )
        if self.shadow is None:
            sql += (
                " ON CONFLICT (content_type_id, object_id) DO UPDATE SET title = EXCLUDED.title, "
                "title_norm = 1.0, autocomplete = EXCLUDED.autocomplete, body = EXCLUDED.body, "
                "title_text = EXCLUDED.title_text, body_text = EXCLUDED.body_text"
            )
        return sql, [content_type_pk, *[list(column) for column in columns]]


class NewsRankingMixin:
    """Match on the index table first (its GIN indexes), rank there, then join the pages by id.

    modelsearch filters the page queryset on ``title || body @@ query``: an
    expression no index serves, so every search reads every entry. Here each
    positive term becomes ``title @@ term OR body @@ term`` (a bitmap over both
    GIN indexes), which is the whole match when the query is plain words; a
    phrase or an exclusion adds the exact test on the entries found. The
    BEST_CANDIDATES entries with the best headline rank get the full score:
    modelsearch's weighted ``ts_rank`` × recency × headline phrase bonus, the
    same formula as on SQLite.
    """

    COLUMNS = ("title", "body")
    BEST_CANDIDATES = 100  # entries fully ranked (body vectors read), chosen by their headline rank
    CANDIDATE_LIMIT = None  # the typeahead keeps this many newest-indexed matches

    def entry_vectors(self):
        return [(F("title"), F("title_norm")), (F("body"), 1.0)]

    def expanded_query(self):
        """Return the query with Fuzzy leaves expanded through the vocabulary (None if empty)."""
        if "_expanded" not in self.__dict__:
            self._expanded = self._expand()
        return self._expanded

    def _expand(self):
        query = self.query
        backend = getattr(self, "backend", None)
        if backend is not None and fuzzy_words(query):
            query = expand_fuzzy(query, backend.corrections(fuzzy_words(query)))
        return drop_empty(query)

    def match_condition(self, query, config) -> tuple[Q | None, bool]:
        """Return (condition on an index entry using its GIN indexes, whether it is exact)."""
        if len(self.COLUMNS) == 1:
            tsquery = self.build_tsquery(query, config=config)
            return Q(**{self.COLUMNS[0]: tsquery}), True
        leaves = query.subqueries if isinstance(query, And) else [query]
        conditions, exact = [], True
        for leaf in leaves:
            while isinstance(leaf, Boost):
                leaf = leaf.subquery
            if isinstance(leaf, Not):
                exact = False
                continue
            if isinstance(leaf, (PlainText, Phrase)) and (
                isinstance(leaf, Phrase) or leaf.operator == "and"
            ):
                exact = exact and isinstance(leaf, PlainText)
                parts = [PlainText(w) for w in plain_terms(leaf.query_string)]
            else:
                exact = exact and _is_word_union(leaf)
                parts = [leaf]
            for part in parts:
                tsquery = self.build_tsquery(part, config=config)
                if tsquery is not None:
                    # A stop word ("what", "of") makes an empty tsquery, which PostgreSQL
                    # drops from a whole query: numnode() = 0 (folded when planning) says so.
                    empty = Exact(Func(tsquery, function="numnode", output_field=IntegerField()), 0)
                    conditions.append(
                        reduce(
                            or_, [Q(**{column: tsquery}) for column in self.COLUMNS] + [Q(empty)]
                        )
                    )
        if not conditions:
            return None, False
        return reduce(and_, conditions), exact

    def entries_queryset(self, query, config):
        """Return the index entries of the searched model that match ``query`` (built once)."""
        cache = self.__dict__.setdefault("_entries", {})
        if id(query) not in cache:
            cache[id(query)] = (query, self._entries_queryset(query, config))
        return cache[id(query)][1]

    def _entries_queryset(self, query, config):
        cts = get_descendants_content_types_pks(self.queryset.model)
        entries = IndexEntry._default_manager.filter(content_type_id__in=cts)
        condition, exact = self.match_condition(query, config)
        if condition is not None:
            entries = entries.filter(condition)
        if not exact:
            vector = F(self.COLUMNS[0])
            for column in self.COLUMNS[1:]:
                vector = CombinedExpression(
                    vector, "||", F(column), output_field=SearchVectorField()
                )
            entries = entries.annotate(_vector_=vector).filter(
                _vector_=self.build_tsquery(query, config=config)
            )
        return entries

    def fallback_search(self, start, stop, score_field=None):
        config = self.get_config(self.backend)
        return PostgresSearchQueryCompiler.search(
            self, config, start, stop, score_field=score_field, backend=self.backend
        )

    def search(self, config, start, stop, score_field=None, backend=None):
        """Return a queryset of the matching pages (facets, and modelsearch callers)."""
        self.backend = backend
        query = self.expanded_query()
        if query is None:
            return self.queryset.none()
        if isinstance(query, (MatchAll, Not)):
            self.query = query
            return PostgresSearchQueryCompiler.search(
                self, config, start, stop, score_field=score_field, backend=backend
            )
        entries = self.entries_queryset(query, config)
        ids = entries.annotate(_pk=Cast("object_id", IntegerField())).values("_pk")
        queryset = self.queryset.filter(pk__in=ids)
        if not queryset.query.order_by:
            queryset = queryset.order_by("-pk")
        return queryset[start:stop]

    def ranked(self, start, stop, *, count=False, count_limit=None):
        """Return [(pk, score)] of the page start:stop of results, or the count when ``count``.

        None means "use ``fallback_search``" (match-all or purely negative queries).
        The SQL is written by hand (``SearchSql``); a query of another shape than a
        reader's goes through the ORM (``_orm_ranked``).
        """
        query = self.expanded_query()
        if query is None:
            return 0 if count else []
        if isinstance(query, (MatchAll, Not)):
            if count:
                queryset = self.fallback_search(None, None)
                return queryset[:count_limit].count() if count_limit else queryset.count()
            return None
        self.query = query
        config = self.get_config(self.backend)
        try:
            sql = self.search_sql(query, config)
        except UnsupportedQuery:
            return self._orm_ranked(query, start, stop, count=count, count_limit=count_limit)
        connection = connections[self.queryset.db]
        inner_sql, inner_params, has_date, order_fields = joined_queryset_sql(
            self, self.queryset, self.order_by_relevance
        )
        if count:
            matched, params = sql.matches("e.object_id::integer AS id")
            return count_joined(
                connection,
                matched=(matched, params),
                inner=(inner_sql, inner_params),
                join="JOIN",
                limit=count_limit,
            )

        score, score_params, order = self.score_and_order(query, has_date, order_fields)
        if self.order_by_relevance:
            rank, rank_params = sql.rank(self.entry_vectors_sql())
        else:
            rank, rank_params = "0.0", []
        columns = f"e.object_id::integer AS id, {rank} AS _rank, e.title_text AS _title"

        def matches(candidates):
            if candidates:
                if self.CANDIDATE_LIMIT:
                    # The prefix is bounded by prefix_docs: only the other words are looked up.
                    docs = self.backend.words_docs(query_words(query, prefixed=True))
                    at_most = matches_at_most(query, docs, self.backend.prefix_docs)
                    ids, ids_params = sql.newest(candidates, at_most)
                else:
                    ids, ids_params = sql.best_by_headline(candidates)
                m_sql = f"SELECT {columns} FROM {IndexEntry._meta.db_table} e WHERE e.id IN ({ids})"  # noqa: S608
                return f"WITH m AS MATERIALIZED ({m_sql})", [*rank_params, *ids_params]
            m_sql, m_params = sql.matches(columns)
            return f"WITH m AS MATERIALIZED ({m_sql})", [*rank_params, *m_params]

        return self.rank_page(
            connection, matches, score, score_params, order, inner_sql, inner_params, start, stop
        )

    def score_and_order(self, query, has_date: bool, order_fields) -> tuple[str, list, str]:
        """Return the score SQL of ranked rows (``m`` joined to ``q``), its parameters, and the ORDER BY."""
        score, score_params = news_score_sql(
            self.backend,
            rank="m._rank",
            age="GREATEST(0.0, EXTRACT(EPOCH FROM (NOW() - q._date)) / 86400.0)",
            contains="strpos(lower(m._title), %s) > 0",
            has_date=has_date,
            phrase=headline_phrase(query),
        )
        return score, score_params, order_sql(self.order_by_relevance, order_fields)

    def rank_page(
        self, connection, matches, score, score_params, order, inner_sql, inner_params, start, stop
    ):
        """Return the rows of start:stop (``base.rank_page``): the typeahead's newest window is final."""
        best = None
        if self.CANDIDATE_LIMIT:
            best = self.CANDIDATE_LIMIT
        elif self.order_by_relevance and stop is not None and stop <= self.BEST_CANDIDATES:
            best = self.BEST_CANDIDATES
        rows, _total = rank_page(
            connection,
            matches=matches,
            best=best,
            best_is_final=bool(self.CANDIDATE_LIMIT),
            score_params=score_params,
            score=score,
            inner=(inner_sql, inner_params),
            order=order,
            start=start,
            stop=stop,
        )
        return rows

    def entry_vectors_sql(self) -> list[tuple[str, str]]:
        """Return (column, SQL factor) of each vector the full rank adds up (``entry_vectors``)."""
        return [("title", "e.title_norm"), ("body", "1.0")]

    def search_sql(self, query, config) -> "SearchSql":
        """Return the hand-written SQL of ``query`` (built once per query object)."""
        cache = self.__dict__.setdefault("_search_sql", {})
        key = (id(query), config)
        if key not in cache:
            cache[key] = (
                query,
                SearchSql(
                    query,
                    config,
                    columns=self.COLUMNS,
                    content_types=content_type_pks(self.queryset.model),
                    prefix_last=self.LAST_TERM_IS_PREFIX,
                ),
            )
        return cache[key][1]

    def _orm_ranked(self, query, start, stop, *, count=False, count_limit=None):
        """``ranked`` through the ORM: for query shapes ``SearchSql`` does not write (never a reader's)."""
        config = self.get_config(self.backend)
        connection = connections[self.queryset.db]
        entries = self.entries_queryset(query, config)
        # The caller's queryset (filters, permissions, live/public) joined as a subquery q.
        inner_sql, inner_params, has_date, order_fields = joined_queryset_sql(
            self, self.queryset, self.order_by_relevance
        )

        if count:
            matched = (
                entries.annotate(id_=Cast("object_id", IntegerField()))
                .values("id_")
                .query.sql_with_params()
            )
            return count_joined(
                connection,
                matched=(f"SELECT id_ AS id FROM ({matched[0]}) e", list(matched[1])),
                inner=(inner_sql, inner_params),
                join="JOIN",
                limit=count_limit,
            )

        score, score_params, order = self.score_and_order(query, has_date, order_fields)
        rank = PostgresSearchQueryCompiler._build_rank_expression(
            self, self.entry_vectors(), config
        )

        def matches(candidates):
            chosen = entries
            if candidates:
                if self.CANDIDATE_LIMIT:
                    chosen = entries.order_by("-id")[:candidates]
                else:
                    headline = SearchRank(F(self.COLUMNS[0]), self.build_tsquery(query, config))
                    chosen = entries.order_by(headline.desc(), "-id")[:candidates]
                chosen = IndexEntry._default_manager.filter(pk__in=list_sql(chosen))
            m_sql, m_params = (
                chosen.annotate(
                    id_=Cast("object_id", IntegerField()),
                    _rank=rank if self.order_by_relevance else Value(0.0),
                    _title=F("title_text"),
                )
                .values("id_", "_rank", "_title")
                .query.sql_with_params()
            )
            cte = f"WITH m AS MATERIALIZED (SELECT id_ AS id, _rank, _title FROM ({m_sql}) e)"
            return cte, list(m_params)

        return self.rank_page(
            connection, matches, score, score_params, order, inner_sql, inner_params, start, stop
        )


class MastheadPostgresSearchQueryCompiler(
    CheckOnceMixin, NewsRankingMixin, PostgresSearchQueryCompiler
):
    pass


class MastheadPostgresAutocompleteQueryCompiler(
    CheckOnceMixin, NewsRankingMixin, PostgresAutocompleteQueryCompiler
):
    COLUMNS = ("autocomplete",)
    # A two-letter prefix matches a fifth of all headlines; the typeahead ranks the
    # newest-indexed matches only, as on SQLite.
    CANDIDATE_LIMIT = 100

    def entry_vectors(self):
        return [(F("autocomplete"), 1.0)]

    def entry_vectors_sql(self):
        return [("autocomplete", "1.0")]


class MastheadPostgresSearchResults(RankedResultsMixin, CountAtMostMixin, PostgresSearchResults):
    pass


class MastheadPostgresSearchBackend(MastheadSearchMixin, PostgresSearchBackend):
    query_compiler_class = MastheadPostgresSearchQueryCompiler
    autocomplete_query_compiler_class = MastheadPostgresAutocompleteQueryCompiler
    index_class = MastheadPostgresIndex
    results_class = MastheadPostgresSearchResults
    rebuilder_class = MastheadPostgresRebuilder
    plain_rebuilder_class = MastheadPostgresRebuilder
    atomic_rebuilder_class = MastheadPostgresAtomicRebuilder

    def __init__(self, params):
        super().__init__(params)
        if not params.get("SEARCH_CONFIG") and has_text_search_config(self.word_connection):
            self.config = TEXT_SEARCH_CONFIG
        if params.get("ATOMIC_REBUILD", True):
            self.rebuilder_class = self.atomic_rebuilder_class

    entry_text_field = "body_text"

    @property
    def supports_typo_tolerance(self) -> bool:
        return has_extension(self.word_connection, "pg_trgm")

    def word_candidates(self, word: str) -> list[tuple[str, int]]:
        """Return vocabulary words similar by trigrams (pg_trgm) or sharing the first letters."""
        from masthead.search.models import Word

        table = Word._meta.db_table
        low, high = len(word) - vocabulary.max_distance(word), len(word) + 2
        prefix = word[: vocabulary.PREFIX_LENGTH]
        with self.word_connection.cursor() as cursor:
            # pg_trgm's default similarity threshold (0.3) misses a swapped pair in a
            # short word, so ask for more and let the edit distance decide.
            cursor.execute("SELECT set_limit(0.2)")
            cursor.execute(
                f"(SELECT word, docs FROM {table} WHERE word %% %s "  # noqa: S608
                "AND length(word) BETWEEN %s AND %s "
                "ORDER BY similarity(word, %s) DESC LIMIT %s) "
                f"UNION (SELECT word, docs FROM {table} WHERE word >= %s AND word < %s "
                "AND length(word) BETWEEN %s AND %s ORDER BY docs DESC LIMIT %s)",
                [word, low, high, word, CANDIDATES, prefix, prefix + "~", low, high, CANDIDATES],
            )
            return cursor.fetchall()


def list_sql(queryset):
    """Return the ids of a sliced entries queryset as a subquery PostgreSQL runs once."""
    return queryset.values("id")


def _is_word_union(query) -> bool:
    """Return True for a single word, or words joined by OR (one column can hold the match)."""
    if isinstance(query, PlainText):
        return query.operator == "or" or len(query.query_string.split()) <= 1
    if isinstance(query, Or):
        return all(_is_word_union(sub) for sub in query.subqueries)
    return False


def has_extension(connection, name: str) -> bool:
    """Return True when the PostgreSQL extension ``name`` is installed (cached per connection)."""
    return connection_flag(
        connection, f"ext_{name}", "SELECT 1 FROM pg_extension WHERE extname = %s", [name]
    )


def has_text_search_config(connection) -> bool:
    """Return True when the ``masthead`` text search configuration exists (cached per connection)."""
    return connection_flag(
        connection,
        "ts_config",
        "SELECT 1 FROM pg_ts_config WHERE cfgname = %s",
        [TEXT_SEARCH_CONFIG],
    )
