"""What Masthead adds to modelsearch's database backends, whichever the database.

``MastheadSearchMixin`` sits in front of modelsearch's SQLite FTS5 and
PostgreSQL backends. It reads the ranking parameters, keeps the ``Word``
vocabulary in step with the index, and turns ``Fuzzy`` leaves into the words
of the vocabulary a misspelling stands for, so both databases forgive the
same typos. Subclasses say what their database can do with ``supports_*``
flags and implement ``word_candidates``.
"""

import functools
import math
import re
import weakref
from collections import Counter
from collections.abc import Iterable

from django.apps import apps
from django.db import connections, router, transaction

from masthead.search import vocabulary
from masthead.search.models import Word

DEFAULT_TITLE_WEIGHT = 10.0  # a headline word counts ten body words
DEFAULT_LEAD_WEIGHT = 3.0  # standfirst, tags, section and author names
DEFAULT_BODY_WEIGHT = 1.0
DEFAULT_PHRASE_BONUS = 3.0  # the reader's exact words, in order, in the headline
LEAD_BOOST = 1.0  # SearchFields boosted above this count as lead text, not body
PREFIX_WORDS = 200  # words a typeahead prefix may begin before its matches count as many
WORD_BATCH = 900  # parameters per statement stay under SQLite's limit of 999
RECENCY_FIELD = "first_published_at"  # the date the recency boost reads, when the model has it
COUNT_LIMIT = (
    500  # results counted exactly; past it the page says "500+" (a count reads each match)
)


class MastheadSearchMixin:
    """Ranking, vocabulary and typo tolerance shared by Masthead's backends."""

    supports_typo_tolerance = False
    supports_recency = True
    supports_highlight = True  # snippets are highlighted in Python (masthead.search.highlight)
    supports_phrase_bonus = True
    vocabulary_from_index = False  # True: a rebuild reads the words from the full-text index itself

    def __init__(self, params):
        super().__init__(params)
        from masthead.core import conf
        from masthead.search import conf as _search_conf  # noqa: F401  (declares the settings)

        self.recency_half_life_days = float(
            params.get("RECENCY_HALF_LIFE_DAYS", conf.get("MASTHEAD_SEARCH_RECENCY_HALF_LIFE_DAYS"))
        )
        self.recency_weight = float(
            params.get("RECENCY_WEIGHT", conf.get("MASTHEAD_SEARCH_RECENCY_WEIGHT"))
        )
        self.title_weight = float(params.get("TITLE_WEIGHT", DEFAULT_TITLE_WEIGHT))
        self.lead_weight = float(params.get("LEAD_WEIGHT", DEFAULT_LEAD_WEIGHT))
        self.body_weight = float(params.get("BODY_WEIGHT", DEFAULT_BODY_WEIGHT))
        self.phrase_bonus = float(params.get("PHRASE_BONUS", DEFAULT_PHRASE_BONUS))

    entry_text_field = "body"  # the IndexEntry column holding an entry's plain body text

    def entry_texts(self, model, pks) -> dict:
        """Return pk → the plain body text the index holds for it (one query; for snippets)."""
        from modelsearch.conf import get_app_config

        pks = list(pks)
        if not pks:
            return {}
        IndexEntry = get_app_config().get_model("IndexEntry")  # noqa: N806
        opts = IndexEntry._meta
        connection = connections[router.db_for_read(IndexEntry)]
        qn = connection.ops.quote_name
        cts = content_type_pks(model)
        # Written by hand: a queryset costs more to compile than this takes to run.
        sql = (
            f"SELECT {qn(opts.get_field('object_id').column)}, "  # noqa: S608
            f"{qn(opts.get_field(self.entry_text_field).column)} FROM {qn(opts.db_table)} "
            f"WHERE {qn(opts.get_field('content_type').column)} IN ({', '.join(['%s'] * len(cts))}) "
            f"AND {qn(opts.get_field('object_id').column)} IN ({', '.join(['%s'] * len(pks))})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*cts, *(str(pk) for pk in pks)])
            rows = cursor.fetchall()
        pk_type = type(pks[0])
        return {pk_type(object_id): text or "" for object_id, text in rows}

    # -- vocabulary -------------------------------------------------------------------

    @property
    def word_connection(self):
        return connections[router.db_for_write(Word)]

    def word_candidates(self, word: str) -> list[tuple[str, int]]:
        """Return (word, docs) pairs that may be spellings of ``word``; unordered, unfiltered."""
        raise NotImplementedError

    @functools.cached_property
    def docs_memo(self) -> dict[str, int]:
        """Word → docs this backend instance has read (one instance per search); see ``words_docs``."""
        return {}

    def words_docs(self, words: Iterable[str]) -> dict[str, int]:
        """Return word → docs for the given words that the vocabulary holds.

        Counts are remembered by this backend instance (one per search, as
        ``get_search_backend`` makes them): the typo check, the corrections and
        the match bound of a search ask about the same words once.
        """
        memo = self.docs_memo
        words = list(dict.fromkeys(words))
        missing = [w for w in words if w not in memo]
        table = Word._meta.db_table
        if missing:
            found: dict[str, int] = {}
            # Written by hand: every search asks this, and a queryset costs more to compile than to run.
            with self.word_connection.cursor() as cursor:
                for i in range(0, len(missing), WORD_BATCH):
                    chunk = missing[i : i + WORD_BATCH]
                    cursor.execute(
                        f"SELECT word, docs FROM {table} WHERE word IN ({', '.join(['%s'] * len(chunk))})",  # noqa: S608
                        chunk,
                    )
                    found.update(cursor.fetchall())
            memo.update((w, found.get(w, 0)) for w in missing)
        return {w: memo[w] for w in words if memo[w]}

    def prefix_docs(self, prefix: str) -> float:
        """Return at most how many entries hold a word beginning with ``prefix`` (``math.inf``: many).

        The sum of the vocabulary's counts of those words, or ``math.inf`` when
        more than PREFIX_WORDS words begin with it (the sum would take long to read).
        """
        table = Word._meta.db_table
        # Written by hand: the typeahead asks on every keystroke.
        with self.word_connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*), coalesce(sum(docs), 0) FROM (SELECT docs FROM {table} "  # noqa: S608
                "WHERE word >= %s AND word < %s LIMIT %s) w",
                [prefix, prefix + "\uffff", PREFIX_WORDS + 1],
            )
            words, total = cursor.fetchone()
        return math.inf if words > PREFIX_WORDS else total

    def corrections(self, words: Iterable[str]) -> dict[str, list[tuple[str, int, int]]]:
        """Return word → [(correction, distance, docs)] for the words better read as others.

        Words too short to correct, or spelled as the index spells them, are left out.
        """
        words = [w for w in dict.fromkeys(words) if len(w) >= vocabulary.MIN_FUZZY_LENGTH]
        if not words or not self.supports_typo_tolerance:
            return {}
        memo = self.__dict__.setdefault("_corrections_memo", {})
        key = tuple(sorted(words))
        if key not in memo:
            memo[key] = self._corrections(words)
        return memo[key]

    def _corrections(self, words: list[str]) -> dict[str, list[tuple[str, int, int]]]:
        known = self.words_docs(words)
        result = {}
        for word in words:
            docs = known.get(word, 0)
            if docs and docs >= vocabulary.RARE_RATIO:
                continue  # a common word is not a typo; skip the candidate lookup
            fixes = vocabulary.best_corrections(word, self.word_candidates(word))
            self.docs_memo.update((fix, docs) for fix, _distance, docs in fixes)
            if vocabulary.needs_correction(word, docs, fixes):
                result[word] = fixes
        return result

    def completions(self, prefix: str, limit: int) -> list[str]:
        """Return up to ``limit`` vocabulary words starting with ``prefix``, commonest first.

        Their counts are remembered as ``words_docs`` remembers them: the
        typeahead's search of those words then asks for none.
        """
        table = Word._meta.db_table
        # Written by hand: the typeahead asks on every keystroke.
        with self.word_connection.cursor() as cursor:
            cursor.execute(
                f"SELECT word, docs FROM {table} WHERE word >= %s AND word < %s "  # noqa: S608
                "ORDER BY docs DESC, word LIMIT %s",
                [prefix, prefix + "\uffff", limit],
            )
            rows = cursor.fetchall()
        self.docs_memo.update(rows)
        return [word for word, _docs in rows]

    def add_words(self, counts: Counter) -> None:
        """Add ``counts`` (word → documents) to the vocabulary: new words are created, known ones counted."""
        if not counts:
            return
        items = sorted(counts.items())
        table = Word._meta.db_table
        connection = self.word_connection
        batch = WORD_BATCH // 2  # two parameters a word
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            for i in range(0, len(items), batch):
                chunk = items[i : i + batch]
                cursor.execute(
                    f"INSERT INTO {table} (word, docs) VALUES "  # noqa: S608
                    + ", ".join(["(%s, %s)"] * len(chunk))
                    + f" ON CONFLICT (word) DO UPDATE SET docs = {table}.docs + excluded.docs",
                    [value for pair in chunk for value in pair],
                )

    def change_words(self, changes: Counter) -> None:
        """Apply signed ``changes`` (word → documents gained, or lost when negative) to the vocabulary.

        Gains go through ``add_words``. A loss lowers a word's count, never
        below zero, and a word no document holds any more is deleted (on
        SQLite its trigrams go with it, by trigger): it must not be offered as
        a correction. A loss of a word the vocabulary lacks is ignored.
        """
        self.add_words(Counter({word: n for word, n in changes.items() if n > 0}))
        losses = sorted((word, -n) for word, n in changes.items() if n < 0)
        if not losses:
            return
        table = Word._meta.db_table
        connection = self.word_connection
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table} SET docs = CASE WHEN docs > %s THEN docs - %s ELSE 0 END "  # noqa: S608
                "WHERE word = %s",
                [(n, n, word) for word, n in losses],
            )
            for i in range(0, len(losses), WORD_BATCH):
                chunk = [word for word, _n in losses[i : i + WORD_BATCH]]
                cursor.execute(
                    f"DELETE FROM {table} WHERE docs = 0 AND word IN "  # noqa: S608
                    f"({', '.join(['%s'] * len(chunk))})",
                    chunk,
                )

    def rebuild_vocabulary(self, counts: Counter) -> None:
        """Replace the vocabulary at the end of a full rebuild (``counts``: the words it indexed)."""
        self.replace_words(counts)

    def replace_words(self, counts: Counter) -> None:
        """Replace the whole vocabulary with ``counts`` (used by a full rebuild)."""
        table = Word._meta.db_table
        connection = self.word_connection
        items = sorted(counts.items())
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            batch = WORD_BATCH // 2
            for i in range(0, len(items), batch):
                chunk = items[i : i + batch]
                cursor.execute(
                    f"INSERT INTO {table} (word, docs) VALUES "  # noqa: S608
                    + ", ".join(["(%s, %s)"] * len(chunk)),
                    [value for pair in chunk for value in pair],
                )


def fuzzy_words(query) -> list[str]:
    """Return the folded words of every Fuzzy leaf of a query object."""
    from modelsearch.query import And, Fuzzy, Not, Or

    if isinstance(query, Fuzzy):
        return [vocabulary.fold(w) for w in query.query_string.split()]
    if isinstance(query, (And, Or)):
        return [w for sub in query.subqueries for w in fuzzy_words(sub)]
    if isinstance(query, Not):
        return fuzzy_words(query.subquery)
    return []


def expand_fuzzy(query, corrections: dict[str, list[tuple[str, int, int]]]):
    """Return the query with each Fuzzy leaf replaced by its word OR its corrections.

    A word with no correction stays as it is typed (a PlainText), so a query the
    vocabulary cannot help with simply finds what it finds.
    """
    from modelsearch.query import And, Boost, Fuzzy, Not, Or, PlainText

    if isinstance(query, Fuzzy):
        alternatives = []
        for word in query.query_string.split():
            fixes = vocabulary.likely_corrections(corrections.get(vocabulary.fold(word), []))
            options = [word] + [fix for fix, _d, _n in fixes]
            alternatives.append(PlainText(" ".join(options), operator="or"))
        if len(alternatives) == 1:
            return alternatives[0]
        return (And if query.operator == "and" else Or)(alternatives)
    if isinstance(query, And):
        return And([expand_fuzzy(sub, corrections) for sub in query.subqueries])
    if isinstance(query, Or):
        return Or([expand_fuzzy(sub, corrections) for sub in query.subqueries])
    if isinstance(query, Not):
        return Not(expand_fuzzy(query.subquery, corrections))
    if isinstance(query, Boost):
        return Boost(expand_fuzzy(query.subquery, corrections), query.boost)
    return query


_TERM_BREAK = re.compile(r"[\s\-]+")


def plain_terms(text: str) -> list[str]:
    """Return the terms of a PlainText's text as modelsearch's PostgreSQL backend splits them.

    Spaces and hyphens separate terms; the typeahead's SQL makes the last one a prefix.
    """
    return [term for term in _TERM_BREAK.split(text) if term]


def query_words(query, *, prefixed: bool = False) -> list[str]:
    """Return the vocabulary words of a query's positive terms (phrases' words too).

    With ``prefixed`` (the typeahead) the last term of each PlainText is left
    out: it is a prefix, which ``matches_at_most`` bounds by ``prefix_docs``
    instead of by the count of a word.
    """
    from modelsearch.query import And, Boost, Or, Phrase, PlainText

    if prefixed and isinstance(query, PlainText):
        return vocabulary.words(" ".join(plain_terms(query.query_string)[:-1]))
    if isinstance(query, (PlainText, Phrase)):
        return vocabulary.words(query.query_string)
    if _and_not(query):
        return query_words(query.subquery_a, prefixed=prefixed)
    if isinstance(query, Boost):
        return query_words(query.subquery, prefixed=prefixed)
    if isinstance(query, (And, Or)):
        return [w for sub in query.subqueries for w in query_words(sub, prefixed=prefixed)]
    return []


def _and_not(query) -> bool:
    """Return True for the SQLite backend's normalized "a AND NOT b" (``subquery_a``, ``subquery_b``).

    Tested by shape: importing its class loads the SQLite backend's models, which
    a PostgreSQL site does not have.
    """
    return hasattr(query, "subquery_a") and hasattr(query, "subquery_b")


def matches_at_most(query, docs: dict[str, int], prefix_docs=None) -> float:
    """Return at most how many index entries a query matches (``math.inf``: unknown).

    ``docs`` maps vocabulary words to the entries holding them (a word it lacks
    is in none). An AND or a phrase is bounded by its rarest word, an OR by
    the sum of its parts; a term without a vocabulary word (too short, all
    digits) or a NOT bounds nothing. With ``prefix_docs`` (the typeahead's
    ``MastheadSearchMixin.prefix_docs``) the last term of each PlainText is a
    prefix, as the typeahead's SQL makes it, bounded by every word it begins.
    Only the amount of work depends on it: a stale count changes which
    candidates are scored or how they are found, never what matches.
    """
    from modelsearch.query import And, Boost, Or, Phrase, PlainText

    if isinstance(query, (PlainText, Phrase)):
        prefixed = prefix_docs is not None and isinstance(query, PlainText)
        if prefixed:  # the terms as the typeahead's SQL splits them
            texts = plain_terms(query.query_string)
        elif isinstance(query, PlainText):
            texts = query.query_string.split()
        else:
            texts = [query.query_string]
        bounds = []
        for text in texts:
            # A term of several tokens is a phrase: all of them must match.
            known = [docs.get(t, 0) for t in vocabulary.tokens(text) if vocabulary.is_word(t)]
            bounds.append(min(known, default=math.inf))
        if prefixed and texts:  # the last term is a prefix: bounded by every word it begins
            tokens = vocabulary.tokens(texts[-1])
            bounds[-1] = prefix_docs(tokens[0]) if len(tokens) == 1 else math.inf
        if isinstance(query, PlainText) and query.operator == "or":
            return sum(bounds)
        return min(bounds, default=math.inf)
    if _and_not(query):
        return matches_at_most(query.subquery_a, docs, prefix_docs)
    if isinstance(query, Boost):
        return matches_at_most(query.subquery, docs, prefix_docs)
    if isinstance(query, And):
        return min(
            (matches_at_most(sub, docs, prefix_docs) for sub in query.subqueries), default=math.inf
        )
    if isinstance(query, Or):
        return sum(matches_at_most(sub, docs, prefix_docs) for sub in query.subqueries)
    return math.inf


def headline_phrase(query) -> str:
    """Return the folded text whose presence in a headline earns the phrase bonus, or "".

    That is the first Phrase of the query, else its positive words in order when
    they are all required (an OR or a lone word earns nothing).
    """
    from modelsearch.query import And, Fuzzy, Phrase, PlainText

    leaves = query.subqueries if isinstance(query, And) else [query]
    words = []
    for leaf in leaves:
        if isinstance(leaf, Phrase):
            return vocabulary.fold(leaf.query_string)
        if isinstance(leaf, (PlainText, Fuzzy)) and getattr(leaf, "operator", "and") == "and":
            words.append(vocabulary.fold(leaf.query_string))
        elif isinstance(leaf, (PlainText, Fuzzy)) and len(leaf.query_string.split()) == 1:
            words.append(vocabulary.fold(leaf.query_string))
    phrase = " ".join(words)
    return phrase if len(phrase.split()) > 1 else ""


def drop_empty(query):
    """Return the query without PlainText leaves that have no words (None if nothing is left)."""
    from modelsearch.query import And, Not, Or, PlainText

    if isinstance(query, PlainText):
        return query if query.query_string.split() else None
    if isinstance(query, (And, Or)):
        subs = [s for s in (drop_empty(q) for q in query.subqueries) if s is not None]
        if not subs:
            return None
        return subs[0] if len(subs) == 1 else type(query)(subs)
    if isinstance(query, Not):
        sub = drop_empty(query.subquery)
        return Not(sub) if sub is not None else None
    return query


class RankedResultsMixin:
    """Search results read from a compiler's ``ranked()``: (pk, score) rows, then the objects."""

    def _do_search(self):
        compiler = self.query_compiler
        compiler.backend = self.backend
        rows = compiler.ranked(self.start, self.stop)
        if rows is None:
            # Everything matched, or a purely negative query: the queryset path.
            return list(compiler.fallback_search(self.start, self.stop, self._score_field))
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

    def ranked_pks(self) -> list | None:
        """Return the primary keys of this slice of the results, best first, loading no object.

        None when only the queryset path can answer (everything matched, or a
        purely negative query): the caller then reads the results as objects.
        """
        if self._results_cache is not None:
            return [obj.pk for obj in self._results_cache]
        compiler = self.query_compiler
        compiler.backend = self.backend
        rows = compiler.ranked(self.start, self.stop)
        return None if rows is None else [row[0] for row in rows]

    def plan_page(self, start: int, stop: int) -> None:
        """Say which slice will be read after the count: a backend may rank it while counting."""
        self.query_compiler.__dict__["_planned_page"] = (start, stop)

    def _do_count(self, limit=None):
        compiler = self.query_compiler
        compiler.backend = self.backend
        return compiler.ranked(None, None, count=True, count_limit=limit)


class CountAtMostMixin:
    """Search results that can count up to a limit: "1,000+ stories" costs no full scan."""

    def count_at_most(self, limit: int) -> int:
        """Return the number of results, or ``limit`` when there are at least that many."""
        if self._count_cache is not None:
            return min(self._count_cache, limit)
        if self._results_cache is not None and self.stop is None:
            return min(len(self._results_cache), limit)
        return min(self._do_count(limit=limit), limit)


def connection_flag(connection, key: str, sql: str, params=()) -> bool:
    """Return whether ``sql`` finds a row, asked once per connection (extensions, tables)."""
    attr = f"_masthead_{key}"
    if not hasattr(connection, attr):
        with connection.cursor() as cursor:
            cursor.execute(sql, list(params))
            setattr(connection, attr, cursor.fetchone() is not None)
    return getattr(connection, attr)


@functools.cache
def _descendant_models(model) -> tuple:
    """Return the model and every installed model inheriting from it (the app registry is fixed)."""
    return (model, *(m for m in apps.get_models() if m is not model and issubclass(m, model)))


def content_type_pks(model) -> list[int]:
    """Return the content type ids of ``model`` and its subclasses (what index entries are filed under).

    modelsearch's ``get_descendants_content_types_pks`` walks every installed model
    on each call; the models are found once here, their ids in ContentType's cache.
    """
    from django.contrib.contenttypes.models import ContentType

    return [ContentType.objects.get_for_model(m).pk for m in _descendant_models(model)]


# A queryset may carry, under this attribute, one that holds the same rows through fewer
# tables: a page model's queryset whose filters are all on the page table names the same
# filters on ``Page``. The matches are index entries of the model's own content types, so
# joining them to either gives the same rows; the lighter one skips a lookup in the
# model's own (wide) table per match. Set by ``selectors.querysets.search_querysets``.
_CHECKED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class CheckOnceMixin:
    """A query compiler that checks a queryset it has already checked only once.

    modelsearch's ``check()`` walks the queryset's filters on every search to
    prove each is a FilterField. Masthead reuses its querysets (and their
    ``Query`` objects, never changed once built: a filter makes a new one), so
    the proof holds for as long as the ``Query`` lives.
    """

    def check(self):
        key = (type(self), self.order_by_relevance, tuple(self.fields or ()), self.fields is None)
        try:
            done = _CHECKED.setdefault(self.queryset.query, set())
        except TypeError:  # a Query that cannot be weakly referenced: check every time
            done = set()
        if key in done:
            return
        super().check()
        done.add(key)


JOIN_QUERYSET = "_masthead_join_queryset"

# Query object → {by_relevance: compiled SQL}. Keyed weakly: a queryset kept for reuse
# (``selectors.querysets.search_querysets``) compiles once; any other is forgotten with it.
_JOINED_SQL: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def joined_queryset_sql(
    compiler, queryset, by_relevance: bool, fields: tuple[str, ...] = ()
) -> tuple[str, list, bool, list]:
    """Return (sql, params, has_date, order_fields) of the queryset a search joins.

    Its columns get fixed aliases: ``_pk``, ``_date`` (the recency field, when the
    model has one), ``_o0``, ``_o1``… (the plain field ordering of a search not
    by relevance) and ``_`` + name for each of ``fields``. The SQL is cached on the queryset's Query object (querysets
    never change in place; every filter makes a new one), so a count and a page
    of one search, or every search of a reused queryset, compile it once.
    """
    from django.db.models import F

    key = (by_relevance, fields)
    try:
        cache = _JOINED_SQL.setdefault(queryset.query, {})
    except TypeError:  # a Query that cannot be weakly referenced: compile per compiler
        cache = compiler.__dict__.setdefault("_joined_sql", {})
        key = (id(queryset), by_relevance, fields)
    if key not in cache:
        model = queryset.model
        has_date = has_fields(model, [RECENCY_FIELD])
        order_fields = [] if by_relevance else _order_fields(queryset)
        joined = getattr(queryset, JOIN_QUERYSET, None)
        needed = [RECENCY_FIELD] * has_date + [name for name, _desc in order_fields] + [*fields]
        if joined is not None and has_fields(joined.model, needed):
            queryset = joined
        columns = {"_pk": F("pk")}
        if has_date:
            columns["_date"] = F(RECENCY_FIELD)
        for i, (name, _desc) in enumerate(order_fields):
            columns[f"_o{i}"] = F(name)
        for name in fields:
            columns[f"_{name}"] = F(name)
        sql, params = queryset.order_by().values(**columns).query.sql_with_params()
        cache[key] = (sql, list(params), has_date, order_fields)
    return cache[key]


def has_fields(model, names) -> bool:
    """Return True when ``model`` has a field by each of ``names``."""
    from django.core.exceptions import FieldDoesNotExist

    try:
        for name in names:
            model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def _order_fields(queryset) -> list[tuple[str, bool]]:
    """Return (field, descending) pairs of the queryset's plain field ordering, pk excluded."""
    fields = []
    for item in queryset.query.order_by:
        if isinstance(item, str):
            name = item.lstrip("-")
            if name != "pk":
                fields.append((name, item.startswith("-")))
    return fields


def news_score_sql(
    backend, *, rank: str, age: str, contains: str, has_date: bool, phrase: str
) -> tuple[str, list]:
    """Return the SQL score rank × recency × headline phrase bonus, and its parameters.

    ``age`` is the database's SQL for the story's age in days (from ``q._date``);
    ``contains`` its "headline holds %s" test, ``{}`` standing for the headline
    column. Recency is ``1 + weight × h / (h + age_days)``: half the boost at
    the half-life ``h``; a story without a date counts as a century old.
    """
    score, params = rank, []
    if has_date and backend.recency_weight and backend.recency_half_life_days > 0:
        score += f" * (1.0 + %s * %s / (%s + COALESCE({age}, 36500.0)))"
        h = backend.recency_half_life_days
        params += [backend.recency_weight, h, h]
    if phrase and backend.phrase_bonus != 1.0:
        score += f" * (CASE WHEN {contains} THEN %s ELSE 1.0 END)"
        params += [phrase, backend.phrase_bonus]
    return score, params


def order_sql(by_relevance: bool, order_fields) -> str:
    """Return the ORDER BY of a ranked search: score, or the queryset's own fields; then newest id."""
    if by_relevance:
        return "score DESC, q._pk DESC"
    return ", ".join(
        [f"q._o{i} {'DESC' if desc else 'ASC'}" for i, (_n, desc) in enumerate(order_fields)]
        + ["q._pk DESC"]
    )


def _ranked_sql(connection, *, cte, params, score, inner, order, start, stop, extra=("", [])):
    """Return the SQL and parameters of ``ranked_rows`` (``extra``: more columns, and their parameters)."""
    inner_sql, inner_params = inner
    sql = (
        f"{cte} SELECT q._pk, {score} AS score{extra[0]} FROM m JOIN ({inner_sql}) q "
        f"ON q._pk = m.id ORDER BY {order}"
    )
    params = [*params, *extra[1], *inner_params]
    if stop is not None:
        sql += " LIMIT %s OFFSET %s"
        params += [stop - (start or 0), start or 0]
    elif start:
        # SQLite needs a LIMIT before OFFSET; -1 is none, and PostgreSQL reads LIMIT ALL.
        sql += " LIMIT %s OFFSET %s" if connection.vendor == "sqlite" else " OFFSET %s"
        params += [-1, start] if connection.vendor == "sqlite" else [start]
    return sql, params


def ranked_rows(connection, **statement) -> list[tuple]:
    """Run ``cte`` (a WITH defining ``m`` with ``id``) joined to the queryset ``q``; return (pk, score) rows.

    Keywords: ``cte``; ``params``, the CTE's then the score's parameters;
    ``score``; ``inner`` (the queryset's SQL and parameters); ``order``;
    ``start``/``stop`` slice the result.
    """
    sql, params = _ranked_sql(connection, **statement)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def ranked_rows_and_count(connection, *, counting, **statement) -> tuple[list[tuple], int | None]:
    """Return ``ranked_rows`` and, from the same statement, the number of results.

    ``counting`` is ((SQL of the matches, with an ``id`` column, params), limit):
    the count, as ``count_joined`` makes it, rides along as a column (SQLite
    runs the uncorrelated subquery once). It is None when no row came back (a
    page past the end): only a separate count can tell then.
    """
    matched, limit = counting
    count_sql, count_params = _count_sql(
        matched=matched,
        inner=statement["inner"],
        join=_count_join(connection),
        limit=limit,
    )
    sql, params = _ranked_sql(connection, extra=(f", ({count_sql})", count_params), **statement)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not rows:
        return [], None
    return [row[:2] for row in rows], rows[0][2]


def rank_page(
    connection, *, matches, best, best_is_final=False, score_params, counting=None, **statement
) -> tuple[list[tuple], int | None]:
    """Return the (pk, score) rows of a page, ranked among the ``best`` candidates first.

    ``matches(candidates)`` returns the WITH clause defining ``m`` and its
    parameters: the best ``candidates`` entries, or every match for None. When
    the candidates do not fill the page (filters, a deep page), every match is
    ranked, unless ``best_is_final`` (a window the caller chose on purpose) or
    the count shows the candidates held every result (``_candidates_hold_all``).
    The other keywords are ``ranked_rows``'s. With ``counting`` (see
    ``ranked_rows_and_count``) the first statement also counts the results;
    the count is None when no statement could say it (a page past the end).
    """
    start, stop = statement["start"], statement["stop"]
    wanted = None if stop is None else stop - (start or 0)
    rows, total = [], None
    for candidates in [best, None] if best else [None]:
        cte, params = matches(candidates)
        page = {**statement, "cte": cte, "params": [*params, *score_params]}
        if counting is not None and total is None:
            rows, total = ranked_rows_and_count(connection, counting=counting, **page)
            if total is None and candidates is not None and not start and wanted != 0:
                # No candidate passed the filters: the count, which rides on the rows, is
                # lost. Counting alone costs less than ranking every match to learn it.
                total = count_joined(
                    connection,
                    matched=counting[0],
                    inner=statement["inner"],
                    join=_count_join(connection),
                    limit=counting[1],
                )
        else:
            rows = ranked_rows(connection, **page)
        if (
            candidates is None
            or best_is_final
            or len(rows) >= (wanted or 0)
            or _candidates_hold_all(rows, total, counting, start)
        ):
            break
    if total is None and counting is not None and not rows and not start and wanted != 0:
        total = 0  # the last statement ranked every match from the first: there are none
    return rows, total


def _candidates_hold_all(rows: list, total: int | None, counting, start) -> bool:
    """Return True when the candidates' rows are every result from ``start`` on, by the count.

    The rows are results; with an exact count (below the counting limit) no
    more than them from ``start`` on means no result was left out of the candidates.
    """
    if total is None or counting is None:
        return False
    limit = counting[1]
    return (limit is None or total < limit) and len(rows) >= total - (start or 0)


def _count_join(connection) -> str:
    """Return the join of a count: SQLite must read the matches first (see ``count_joined``)."""
    return "CROSS JOIN" if connection.vendor == "sqlite" else "JOIN"


def _count_sql(*, matched: tuple[str, list], inner: tuple[str, list], join: str, limit):
    sql = (
        f"SELECT COUNT(*) FROM (SELECT 1 FROM ({matched[0]}) m "
        f"{join} ({inner[0]}) q ON q._pk = m.id"
    )
    params = [*matched[1], *inner[1]]
    if limit:
        sql += " LIMIT %s"
        params.append(limit)
    return sql + ") counted", params


def count_joined(
    connection, *, matched: tuple[str, list], inner: tuple[str, list], join: str, limit
) -> int:
    """Return how many matches (SQL with an ``id`` column) the queryset keeps, stopping at ``limit``.

    No CTE: the matches are read one by one, so a LIMIT stops the scan early.
    ``join`` is "JOIN", or "CROSS JOIN" where SQLite must read the matches first.
    """
    sql, params = _count_sql(matched=matched, inner=inner, join=join, limit=limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


# -- a page ranked while counting --------------------------------------------------------
# A results page asks for the count first (the paginator), then for its slice. A compiler
# told which slice follows (``RankedResultsMixin.plan_page``) may rank it in the counting
# statement and keep the rows for the slice's own call: one statement instead of two.


def planned_page(compiler) -> tuple[int, int] | None:
    """Return the (start, stop) the caller said it will read after counting, if any."""
    return compiler.__dict__.get("_planned_page")


def keep_page(compiler, page: tuple[int, int], rows: list) -> None:
    compiler.__dict__.setdefault("_kept_pages", {})[page] = rows


def kept_page(compiler, start, stop) -> list | None:
    """Return the rows of start:stop from a page kept while counting, or None.

    The paginator may ask for less than was planned (the last page stops at the count).
    """
    for (kept_start, kept_stop), rows in compiler.__dict__.get("_kept_pages", {}).items():
        if start == kept_start and stop is not None and stop <= kept_stop:
            return rows[: stop - start]
    return None
