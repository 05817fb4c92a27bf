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
  the caller's queryset and sorts once. bm25() costs microseconds a row, so a
  page of results scores candidates only (the newest matches, and the newest
  with the words in the headline or lead, see ``RECENT_MATCHES``) and joins
  the BEST_CANDIDATES best of them; only when those do not fill the page
  (filters, deep pages) is every match scored. Counts stop at COUNT_LIMIT.
- **Typo tolerance.** ``Fuzzy`` leaves (modelsearch's SQLite backend rejects
  them) become the word OR its likely corrections from the vocabulary
  (``vocabulary.likely_corrections``), found through an FTS5 ``trigram`` table
  over the words (migration 0002) and a prefix scan.
- **Escaping.** Every term is quoted for FTS5 (``"term"``, ``""`` for a quote
  inside, ``"term"*`` for a prefix) and the whole MATCH expression is one
  SQL parameter, so reader text never becomes FTS5 or SQL syntax.
- **Entries keyed by page.** A page's index entry id (and so its FTS5 rowid)
  is ``sequence × 2^32 + page id`` (migration 0005 re-keyed older indexes):
  a search of pages reads the page id off the match's rowid and looks the
  page up directly, one lookup a match instead of two (the entry, then its
  page). The sequence keeps rowid order the order entries were written, which
  a rebuild makes publication order: "newest" matches are read by rowid.
  Entries of other models (authors, images) take ids below zero, from
  OTHER_IDS_START up, so the two never meet.
- **Indexing.** Entries are written with one DELETE and one ``executemany``
  INSERT per batch instead of an UPDATE per object, field values are read
  once and fast (``indexing.FastIndexerMixin``: raw StreamField text, related
  objects one query per batch), a rebuild reads rows of values instead of
  page objects (``indexing.IndexRows``), and ``title_norm`` is not maintained
  (bm25 already normalises by column length). A full rebuild fills the FTS5 table
  with one INSERT … SELECT at the end instead of modelsearch's trigger per row,
  and reads the vocabulary from the index itself (``fts5vocab``).
"""

import math
import sqlite3
from collections import Counter
from functools import cached_property

from django.db import connections, transaction
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
from modelsearch.utils import get_content_type_pk
from wagtail.models import Page

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
    keep_page,
    kept_page,
    matches_at_most,
    news_score_sql,
    order_sql,
    planned_page,
    query_words,
    rank_page,
)
from masthead.search.backends.indexing import (
    FastIndexerMixin,
    MastheadIndexMixin,
    VocabularyRebuilderMixin,
)

TRIGRAM_TABLE = "masthead_search_word_trigram"
VOCAB_VIEW = "masthead_search_fts_vocab"  # fts5vocab over modelsearch's FTS5 table (temp schema)
TRIGRAM_SCAN = 2000  # words sharing a trigram with a typo, all read when there are no more…
TRIGRAM_CANDIDATES = 200  # …else this many, best bm25 first
PREFIX_CANDIDATES = 300  # words fetched by shared first letters, commonest first
DELETE_BATCH = 900  # ids per statement on index entries, under SQLite's 999 parameters
# A page's entry id is sequence << PAGE_ID_BITS | page id (see the module's docstring);
# other models' entries get ids from OTHER_IDS_START up, below zero, in the order written.
PAGE_ID_BITS = 32
PAGE_ID_MASK = 2**PAGE_ID_BITS - 1
OTHER_IDS_START = -(2**62)


def is_page_keyed(model) -> bool:
    """Return True when ``model``'s index entries have its pages' ids as their own (any page model)."""
    return issubclass(model, Page)


def fts_quote(text: str, *, prefix: bool = False) -> str:
    """Return ``text`` as one FTS5 string ("…", inner quotes doubled), with * for a prefix query."""
    quoted = '"' + text.replace('"', '""') + '"'
    return quoted + "*" if prefix else quoted


class MastheadSQLiteObjectIndexer(FastIndexerMixin, ObjectIndexer):
    """Put boosted SearchFields into the lead (``autocomplete``) column instead of the body.

    Each field's value is read once (modelsearch reads every field three times,
    once per column), StreamField text and related objects the fast way
    (``FastIndexerMixin``).
    """

    def prepare_field(self, obj, field):
        return self.field_values(obj, field)

    @staticmethod
    def _is_lead(field) -> bool:
        return isinstance(field, SearchField) and (field.boost or 0) > LEAD_BOOST

    @cached_property
    def columns(self) -> tuple[str, str, str]:
        """Return the (title, autocomplete, body) texts, sorted in one pass over the values.

        The headline's SearchField goes to ``title``; AutocompleteFields and
        SearchFields boosted above LEAD_BOOST to ``autocomplete`` (the lead);
        every other SearchField to ``body``.
        """
        title, lead, body = [], [], []
        for field, value in self.prepared:
            if isinstance(field, AutocompleteField):
                lead.append(value)
            elif isinstance(field, SearchField):
                if field.field_name == "title":
                    title.append(value)
                elif self._is_lead(field):
                    lead.append(value)
                else:
                    body.append(value)
        return " ".join(title), " ".join(lead), " ".join(body)

    @property
    def title(self):
        return self.columns[0]

    @property
    def autocomplete(self):
        return self.columns[1]

    @property
    def body(self):
        return self.columns[2]


class MastheadSQLiteIndex(MastheadIndexMixin, SQLiteIndex):
    _deferred_fts: tuple[set[int], list[str]] | None = None  # (ids written since, dropped triggers)

    def defer_fts(self) -> None:
        """Write entries without filling the FTS5 table row by row, until ``fill_fts``.

        modelsearch's AFTER INSERT trigger tokenizes each entry on its own; one
        INSERT … SELECT of all new entries at the end of a rebuild is about twice
        as fast. Only inside a transaction: a failure restores the trigger.
        """
        connection = self.write_connection
        if self._deferred_fts is not None or not connection.in_atomic_block:
            return
        table = IndexEntry._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [table],
            )
            triggers = [(name, sql) for name, sql in cursor.fetchall() if _is_insert_trigger(sql)]
            if len(triggers) != 1:
                return  # not modelsearch's schema: leave it alone
            cursor.execute(f'DROP TRIGGER "{triggers[0][0]}"')
        self._deferred_fts = (set(), [triggers[0][1]])

    def fill_fts(self) -> None:
        """Index the entries written since ``defer_fts`` in the FTS5 table and restore the trigger.

        ``add_items`` noted their ids (a page's entry keeps its id when it is
        written again, so "ids above the old highest" would miss it). An entry
        written, then deleted, is simply not found.
        """
        if self._deferred_fts is None:
            return
        written, triggers = self._deferred_fts
        self._deferred_fts = None
        fts, table = SQLiteFTSIndexEntry._meta.db_table, IndexEntry._meta.db_table
        ids = sorted(written)
        with self.write_connection.cursor() as cursor:
            for i in range(0, len(ids), DELETE_BATCH):
                chunk = ids[i : i + DELETE_BATCH]
                cursor.execute(
                    f"INSERT INTO {fts} (rowid, title, body, autocomplete) "  # noqa: S608
                    f"SELECT id, title, body, autocomplete FROM {table} "
                    f"WHERE id IN ({', '.join(['%s'] * len(chunk))}) ORDER BY id",
                    chunk,
                )
            for sql in triggers:
                cursor.execute(sql)

    def optimize_fts(self) -> None:
        """Merge the FTS5 index into one segment (FTS5's ``optimize``), as a full rebuild ends.

        A bulk fill leaves the index in several segments, which every MATCH
        reads and merges; one segment makes the searches' statements 7–10%
        faster at 100,000 stories (a whole results page 2–4%; issue 4's
        note), for about 1 s of rebuild. Later writes add segments that FTS5's automerge folds in.
        """
        fts = SQLiteFTSIndexEntry._meta.db_table
        with self.write_connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {fts} ({fts}) VALUES ('optimize')")  # noqa: S608

    def add_items(self, model, objs):
        """Index ``objs`` (replacing their old entries) and keep the vocabulary's counts true.

        One DELETE and one ``executemany`` INSERT per batch, in one transaction.
        Outside a rebuild, an object whose entry already holds the same texts is
        not written again (publishing saves a page, and indexes it, more than
        once), and the vocabulary gains the words a written entry gained and
        loses those it lost (``stored_texts``): a word's count stays the number
        of entries holding it, as a rebuild counts it, instead of growing at
        every save.
        """
        if not model.get_search_fields():
            return
        indexers = self.make_indexers(model, objs, MastheadSQLiteObjectIndexer)
        if not indexers:
            return
        content_type_pk = get_content_type_pk(model)
        rows = {
            indexer.id: (indexer.title, indexer.autocomplete, indexer.body) for indexer in indexers
        }
        table = IndexEntry._meta.db_table
        connection = self.write_connection
        counts: Counter = Counter()
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if self.rebuild_counts is None:
                old = self.stored_texts(cursor, content_type_pk, list(rows))
                rows = {
                    object_id: texts
                    for object_id, texts in rows.items()
                    if old.get(object_id) != texts
                }
                for object_id, texts in rows.items():
                    new_words = vocabulary.document_words(texts)
                    old_words = vocabulary.document_words(old.get(object_id, ()))
                    counts.update(new_words - old_words)
                    counts.subtract(old_words - new_words)
            elif self.counts_words:
                for texts in rows.values():
                    counts.update(vocabulary.document_words(texts))
            ids = self.entry_ids(cursor, model, content_type_pk, list(rows))
            cursor.executemany(
                f"INSERT INTO {table} "  # noqa: S608
                "(id, content_type_id, object_id, title, autocomplete, body, title_norm) "
                "VALUES (%s, %s, %s, %s, %s, %s, 1.0)",
                [
                    (entry_id, content_type_pk, object_id, *values)
                    for entry_id, (object_id, values) in zip(ids, rows.items(), strict=True)
                ],
            )
            if self._deferred_fts is not None:
                self._deferred_fts[0].update(ids)
            if self.rebuild_counts is None:
                self.backend.change_words(counts)
        if counts and self.rebuild_counts is not None:
            self.record_words(counts)

    @staticmethod
    def entry_ids(cursor, model, content_type_pk: int, object_ids: list[str]) -> list[int]:
        """Delete the entries of ``object_ids`` and return the ids their new entries take, in order.

        A page's entry is ``sequence << PAGE_ID_BITS | page id``, the sequence
        one more than the highest written so far; its old entry goes whichever
        page model filed it. Other models' entries get the next ids from
        OTHER_IDS_START up. Writes are serialized, and the highest id is read
        in the write's own transaction.
        """
        table = IndexEntry._meta.db_table
        if not is_page_keyed(model):
            _for_entries(cursor, f"DELETE FROM {table}", content_type_pk, object_ids)  # noqa: S608
            cursor.execute(f"SELECT MAX(id) FROM {table} WHERE id < 0")  # noqa: S608
            highest = cursor.fetchone()[0]
            start = OTHER_IDS_START if highest is None else highest + 1
            return list(range(start, start + len(object_ids)))
        pages = [int(object_id) for object_id in object_ids]
        outside = [page for page in pages if not 0 < page <= PAGE_ID_MASK]
        if outside:
            raise ValueError(
                f"Page id {outside[0]} cannot be indexed: Masthead's SQLite search index "
                f"holds page ids from 1 to {PAGE_ID_MASK}."
            )
        _for_entries(cursor, f"DELETE FROM {table}", content_type_pks(Page), object_ids)  # noqa: S608
        cursor.execute(f"SELECT MAX(id) FROM {table}")  # noqa: S608
        highest = cursor.fetchone()[0]
        sequence = (highest >> PAGE_ID_BITS) + 1 if highest and highest > 0 else 1
        return [(sequence + i) << PAGE_ID_BITS | page for i, page in enumerate(pages)]

    @staticmethod
    def stored_texts(cursor, content_type_pk: int, object_ids: list[str]) -> dict[str, tuple]:
        """Return object id → (title, autocomplete, body) of the entries the index holds for them."""
        select = f"SELECT object_id, title, autocomplete, body FROM {IndexEntry._meta.db_table}"  # noqa: S608
        rows = _for_entries(cursor, select, content_type_pk, object_ids)
        return {object_id: tuple(texts) for object_id, *texts in rows}

    def delete_item(self, item):
        """Delete ``item``'s entries, and take their words off the vocabulary's counts."""
        connection = self.write_connection
        with transaction.atomic(using=connection.alias):
            entries = item.index_entries.using(connection.alias)
            lost: Counter = Counter()
            for texts in entries.values_list("title", "autocomplete", "body"):
                lost.subtract(vocabulary.document_words(texts))
            entries.all()._raw_delete(using=connection.alias)
            self.backend.change_words(lost)


def _for_entries(
    cursor, statement: str, content_type_pk: int | list[int], object_ids: list[str]
) -> list[tuple]:
    """Run ``statement`` (a SELECT or DELETE FROM the index table) on the entries of ``object_ids``.

    The ids go DELETE_BATCH at a time in ``WHERE content_type_id IN (…) AND
    object_id IN (…)`` (``content_type_pk``: one content type or several);
    returns the rows a SELECT read.
    """
    types = content_type_pk if isinstance(content_type_pk, list) else [content_type_pk]
    rows = []
    batch = DELETE_BATCH - len(types)
    for i in range(0, len(object_ids), batch):
        chunk = object_ids[i : i + batch]
        cursor.execute(
            f"{statement} WHERE content_type_id IN ({', '.join(['%s'] * len(types))}) "
            f"AND object_id IN ({', '.join(['%s'] * len(chunk))})",
            [*types, *chunk],
        )
        if cursor.description:
            rows += cursor.fetchall()
    return rows


class BulkFTSRebuilderMixin:
    """Fill the FTS5 table once, at the end of the rebuild (see ``MastheadSQLiteIndex.defer_fts``), and optimize it."""

    def start(self):
        index = super().start()
        index.defer_fts()
        return index

    def finish(self):
        self.index.fill_fts()
        self.index.optimize_fts()
        super().finish()


class MastheadSQLiteRebuilder(
    BulkFTSRebuilderMixin, VocabularyRebuilderMixin, SQLiteSearchRebuilder
):
    """Rebuild the entries, then replace the vocabulary with the words they hold."""


class MastheadSQLiteAtomicRebuilder(
    BulkFTSRebuilderMixin, VocabularyRebuilderMixin, SQLiteSearchAtomicRebuilder
):
    pass


ALL_COLUMNS = "{autocomplete title body}"  # modelsearch's FTS5 table, every column


class MastheadSQLiteSearchQueryCompiler(CheckOnceMixin, SQLiteSearchQueryCompiler):
    """Compile Wagtail's query classes to one FTS5 MATCH parameter and one ranked statement."""

    COLUMNS = ALL_COLUMNS
    PREFIX_LAST = False
    CANDIDATE_LIMIT = None  # full search ranks every match
    # Relevance: the best matches by bm25 alone are rescored; recency and the phrase
    # bonus multiply a score by at most 2 × 3, so a story far below them cannot win.
    BEST_CANDIDATES = 200
    # bm25() costs about 2 µs a match, so a common word is not scored in full: among the
    # MATCH_SCAN newest-indexed matches, the RECENT_MATCHES newest are scored, and so are
    # the HEADLINE_MATCHES newest with the words in the headline or lead, however old:
    # an old story that can still rank first nearly always has them there (weights 10
    # and 3 against 1). See matched_ids_sql. Against scoring every match (200 bench
    # queries, 100k stories) the first result is the same 95.5% of the time, with 200
    # or 400 recent ones; 200 cost less.
    RECENT_MATCHES = 200
    HEADLINE_MATCHES = 800
    MATCH_SCAN = 6000
    HEADLINE_COLUMNS = "{autocomplete title}"

    def match_columns(self) -> str:
        # The index has a title column; every other SearchField lives in the lead or body.
        if self.fields and set(self.fields) <= {"title"}:
            return "{title}"
        return self.COLUMNS

    def column_filter(self, columns: str, expression: str) -> str:
        """Return the MATCH of ``expression`` in ``columns``, unfiltered when they are all the table's.

        A filter naming every column still makes FTS5 read each match's positions
        to check them: the counts and the newest-first scans then cost more.
        """
        if columns == ALL_COLUMNS:
            return expression
        return f"{columns} : {expression}"

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
        if "_prepared" not in self.__dict__:
            self._prepared = self._prepare(backend)
        return self._prepared

    def _prepare(self, backend):
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
        expression = self.match_string(normalized)
        self.headline_match = self.column_filter(self.HEADLINE_COLUMNS, expression)
        match = self.column_filter(self.match_columns(), expression)
        if backend is not None and not self.CANDIDATE_LIMIT:  # the typeahead's SQL has no bounds
            self.matches_at_most = matches_at_most(
                normalized, backend.words_docs(query_words(normalized))
            )
        return match, negated, headline_phrase(query) if not negated else ""

    def matched_ids_sql(
        self, match: str, *, rank: bool = True, best: int | None = None, title: bool = False
    ) -> tuple[str, list]:
        """Return SQL selecting (id, rank) of the index entries the MATCH finds, and their title with ``title``.

        Without ``rank`` the bm25() call is left out (counting needs no score).
        The title (for the headline phrase bonus) is the entry's last column,
        after the body: reading it walks a long body's overflow pages, so only
        a query with a phrase asks for it.
        With ``best``, only the ``best`` entries by bm25 are kept, found by FTS5
        alone before any join; the candidates scored depend on how many entries
        the vocabulary says the query can match at most (``matches_at_most``).
        With CANDIDATE_LIMIT set (the typeahead), only that many matches, most
        recently indexed first, are kept.
        """
        fts = SQLiteFTSIndexEntry._meta.db_table
        title_column = ", e.title AS title" if title else ""
        if best and rank:
            # bm25() costs about 2 µs a row and a common word matches thousands of stories,
            # so only candidates are scored (the class constants say which): each nested
            # SELECT reads rowids newest first and stops, the bounds are computed once, and
            # bm25() runs only on the rows that pass them; the best ``best`` are kept.
            # The vocabulary's counts say when a bound cannot cut anything: a query
            # matching at most RECENT_MATCHES entries is scored whole, and one matching
            # at most MATCH_SCAN needs no scan bound (each bound reads the matches once).
            # The counts are exact (a rebuild counts the index, every write since adds and
            # takes off what it changed) and never under-count, so a bound is dropped only
            # where it was useless.
            at_most = self.__dict__.get("matches_at_most", math.inf)
            headline = self.headline_match
            newest = (
                f"SELECT min(r) FROM (SELECT rowid AS r FROM {fts} WHERE {fts} MATCH %s "
                "ORDER BY rowid DESC LIMIT %s)"
            )
            where, where_params = f"{fts} MATCH %s", [match]
            if at_most > self.MATCH_SCAN:
                where += f" AND rowid >= ({newest})"
                where_params += [match, self.MATCH_SCAN]
            if at_most > self.RECENT_MATCHES:
                # "+rowid": the OR is a test on each match, never a way to look rows up.
                # SQLite 3.51 (3.40 did not) otherwise splits the OR into two lookups of
                # the FTS5 table and fails: "unable to use function MATCH in the
                # requested context".
                where += (
                    f" AND (+rowid >= ({newest}) OR +rowid IN (SELECT rowid FROM {fts} "
                    f"WHERE {fts} MATCH %s ORDER BY rowid DESC LIMIT %s))"
                )
                where_params += [match, self.RECENT_MATCHES, headline, self.HEADLINE_MATCHES]
            join, test, test_params = self._entries("c.rid")
            sql = (
                f"SELECT {self._object_id('c.rid')} AS id, c.rank AS rank{title_column} "  # noqa: S608
                f"FROM (SELECT rid, rank FROM (SELECT rowid AS rid, bm25({fts}, %s, %s, %s) AS rank "
                f"FROM {fts} WHERE {where}) "
                f"ORDER BY rank LIMIT %s) c{join} WHERE {test}"
            )
            return sql, [*self.rank_weights(), *where_params, best, *test_params]
        score = f"bm25({fts}, %s, %s, %s)" if rank else "0.0"
        join, test, test_params = self._entries(f"{fts}.rowid")
        sql = (
            f"SELECT {self._object_id(f'{fts}.rowid')} AS id, "  # noqa: S608
            f"{score} AS rank{title_column} "
            f"FROM {fts}{join} WHERE {fts} MATCH %s AND {test}"
        )
        params = [*(self.rank_weights() if rank else ()), match, *test_params]
        if self.CANDIDATE_LIMIT and rank:
            sql += f" ORDER BY {fts}.rowid DESC LIMIT %s"
            params.append(self.CANDIDATE_LIMIT)
        return sql, params

    # -- from a match to its object ---------------------------------------------------
    # A page's entry holds the page id (``PAGE_ID_MASK`` of its rowid): the match is
    # joined to the caller's queryset by it, and the page's type is checked there
    # (``joined_queryset``), in the lookup of the page the join does anyway. A match of
    # another model is looked up in the index entries, its type checked there.

    def _page_keyed(self) -> bool:
        return is_page_keyed(self.queryset.model)

    def _object_id(self, rowid: str) -> str:
        """Return the SQL of the id of the object a match (``rowid``, an FTS5 rowid) is the entry of."""
        if self._page_keyed():
            return f"({rowid} & {PAGE_ID_MASK})"
        return "CAST(e.object_id AS INTEGER)"

    def _entries(self, rowid: str) -> tuple[str, str, list]:
        """Return (join, test, params) taking matches (``rowid``) to the searched model's entries.

        Pages: no join, and only rowids above zero (other models' entries are
        below, OTHER_IDS_START: their low bits are no page id); the page type
        is tested in ``joined_queryset``. Other models: the index entries,
        as ``e``, of the model's types.
        """
        if self._page_keyed():
            return "", f"{rowid} > 0", []
        cts = content_type_pks(self.queryset.model)
        join = f" CROSS JOIN {IndexEntry._meta.db_table} e ON e.id = {rowid}"
        return join, f"e.content_type_id IN ({', '.join(['%s'] * len(cts))})", cts

    def _title_column(self) -> str:
        """Return the SQL of a result's headline, for the phrase bonus: its page's, or its entry's."""
        return "q._title" if self._page_keyed() else "m.title"

    def joined_queryset(self) -> tuple[str, list, bool, list]:
        """Return ``joined_queryset_sql`` of the caller's queryset, the page type tested for pages.

        A page's matches are not looked up in the index entries (see
        ``_object_id``), so the joined pages are kept to the queryset's page
        types here ("+": a test on each page, not a way to find them), and
        carry their headline as ``_title``.
        """
        if not self._page_keyed():
            return joined_queryset_sql(self, self.queryset, self.order_by_relevance)
        inner_sql, inner_params, has_date, order_fields = joined_queryset_sql(
            self, self.queryset, self.order_by_relevance, ("content_type_id", "title")
        )
        cts = content_type_pks(self.queryset.model)
        inner_sql = (
            f"SELECT * FROM ({inner_sql}) "  # noqa: S608
            f"WHERE +_content_type_id IN ({', '.join(['%s'] * len(cts))})"
        )
        return inner_sql, [*inner_params, *cts], has_date, order_fields

    def rank_weights(self):
        b = self.backend
        return (b.lead_weight, b.body_weight, b.title_weight)

    def ranked(self, start, stop, *, count=False, count_limit=None):
        """Return [(pk, score)] of the page start:stop of results, or the count when ``count``.

        A count stops at ``count_limit`` when one is given. Ordered by relevance,
        the BEST_CANDIDATES entries with the best bm25 are rescored (recency,
        headline phrase) first; when they do not fill the page (filters, a deep
        page) every match is scored.
        """
        match, negated, phrase = self.prepared(self.backend)
        if match is None:
            queryset = self.queryset
            if count:
                return queryset[:count_limit].count() if count_limit else queryset.count()
            return None
        if match == "":
            return 0 if count else []
        if negated:
            matched, params = self.matched_ids_sql(match)
            queryset = self.queryset.exclude(pk__in=RawSQL(f"SELECT id FROM ({matched})", params))
            if count:
                return queryset[:count_limit].count() if count_limit else queryset.count()
            return None

        # The caller's queryset (filters, permissions, live/public) joined as a subquery q.
        joined = self.joined_queryset()
        if count:
            counting = (self.matched_ids_sql(match, rank=False), count_limit)
            planned = planned_page(self)
            if planned is not None and count_limit:
                # The page read next is ranked now, in the statement that counts.
                rows, total = self._ranked_rows(match, phrase, joined, *planned, counting)
                if total is not None:
                    keep_page(self, planned, rows)
                    return total
            return count_joined(
                connections[self.queryset.db],
                matched=counting[0],
                inner=joined[:2],
                join="CROSS JOIN",
                limit=count_limit,
            )
        kept = kept_page(self, start, stop)
        if kept is not None:
            return kept
        return self._ranked_rows(match, phrase, joined, start, stop)[0]

    def _ranked_rows(self, match, phrase, joined, start, stop, counting=None):
        """Return ([(pk, score)] of start:stop, the count or None); see ``ranked``.

        ``joined`` is what ``joined_queryset_sql`` returns. With ``counting``
        ((matches SQL, params), limit) a statement also counts the results up
        to the limit; the count is None when no statement said it (a page past
        the end).
        """
        inner_sql, inner_params, has_date, order_fields = joined
        score, score_params = news_score_sql(
            self.backend,
            rank="-m.rank",
            age="MAX(0.0, julianday('now') - julianday(q._date))",
            contains=f"instr(lower({self._title_column()}), %s) > 0",
            has_date=has_date,
            phrase=phrase,
        )
        best = None
        if (
            self.order_by_relevance
            and self.BEST_CANDIDATES
            and not self.CANDIDATE_LIMIT
            and stop is not None
            and stop <= self.BEST_CANDIDATES
        ):
            best = self.BEST_CANDIDATES

        def matches(candidates):
            matched, params = self.matched_ids_sql(
                match, rank=self.order_by_relevance, best=candidates, title="m.title" in score
            )
            return _cte(matched), params

        return rank_page(
            connections[self.queryset.db],
            matches=matches,
            best=best,
            score_params=score_params,
            counting=counting,
            score=score,
            inner=(inner_sql, inner_params),
            order=order_sql(self.order_by_relevance, order_fields),
            start=start,
            stop=stop,
        )

    def fallback_search(self, start, stop, score_field=None):
        return self.search(None, start, stop, score_field)

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
    # newest-indexed matches only (FTS5 reads them in rowid order and stops): eight
    # suggestions are picked from this many recent headlines.
    CANDIDATE_LIMIT = 100
    LAST_TERM_IS_PREFIX = True
    TARGET_SEARCH_FIELD_TYPE = AutocompleteField
    FTS_TABLE_FIELDS = ["autocomplete"]

    def get_config(self, backend):
        return backend.autocomplete_config

    def get_search_fields_for_model(self):
        return self.queryset.model.get_autocomplete_search_fields()

    def rank_weights(self):
        return (0.0, 0.0, 1.0)


class MastheadSQLiteSearchResults(RankedResultsMixin, CountAtMostMixin, SQLiteSearchResults):
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
    vocabulary_from_index = True
    entry_text_field = "body"

    def rebuild_vocabulary(self, counts: Counter) -> None:
        """Replace the vocabulary with the words the FTS5 index holds, counted by SQLite itself.

        An ``fts5vocab`` view of the index gives every term with the number of
        entries holding it, so a rebuild never tokenizes text in Python. Its
        ``unicode61`` tokens are ``vocabulary.words``' words (lowercased, accents
        removed); the same length and digit rules apply.
        """
        from masthead.search.models import Word

        connection = self.word_connection
        table = Word._meta.db_table
        fts = SQLiteFTSIndexEntry._meta.db_table
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.{VOCAB_VIEW} "
                f"USING fts5vocab(main, {fts}, 'row')"
            )
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            cursor.execute(
                f"INSERT INTO {table} (word, docs) SELECT term, doc FROM temp.{VOCAB_VIEW} "  # noqa: S608
                "WHERE length(term) BETWEEN %s AND %s AND term GLOB '*[^0-9]*'",
                [vocabulary.MIN_WORD_LENGTH, vocabulary.MAX_WORD_LENGTH],
            )

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
                # bm25() costs more than the edit distances of every word it would rank
                # (rapidfuzz, in C), so the words are read unranked unless there are many.
                sql = (
                    f"SELECT w.word, w.docs FROM {TRIGRAM_TABLE} t "  # noqa: S608
                    f"JOIN {table} w ON w.id = t.rowid "
                    f"WHERE {TRIGRAM_TABLE} MATCH %s AND length(w.word) BETWEEN %s AND %s "
                )
                params = [" OR ".join(fts_quote(g) for g in grams), low, high]
                cursor.execute(sql + "LIMIT %s", [*params, TRIGRAM_SCAN + 1])
                rows = cursor.fetchall()
                if len(rows) > TRIGRAM_SCAN:
                    cursor.execute(
                        sql + f"ORDER BY bm25({TRIGRAM_TABLE}) LIMIT %s",
                        [*params, TRIGRAM_CANDIDATES],
                    )
                    rows = cursor.fetchall()
                found.update(rows)
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
    return connection_flag(
        connection,
        "trigram_table",
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s",
        [TRIGRAM_TABLE],
    )


def _is_insert_trigger(sql: str) -> bool:
    return " AFTER INSERT ON " in " ".join((sql or "").upper().split())
