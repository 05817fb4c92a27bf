"""Masthead's PostgreSQL backend: modelsearch's, plus vocabulary typo tolerance and news ranking.

What it changes, and why:

- **Typo tolerance.** modelsearch compiles a top-level ``Fuzzy`` into
  ``word_similarity()`` against every entry's whole text: no index can serve
  that, so it reads the table. Here each ``Fuzzy`` leaf, wherever it sits in
  the query, becomes the word OR its corrections from the ``Word`` vocabulary,
  which ``pg_trgm`` indexes (``word % 'zelensly'``, migration 0002); the
  tsquery then uses the GIN indexes as any other search does.
- **Accents.** The ``masthead`` text search configuration (English stemming
  after ``unaccent``) is used when migration 0002 could create it.
- **Ranking.** modelsearch's weighted ``ts_rank`` (headline, then SearchFields
  by boost: standfirst and names above the body) is multiplied by
  ``1 + weight × h / (h + age_days)`` and by ``PHRASE_BONUS`` when the
  headline holds the query's exact phrase — the same formula as on SQLite.
- **Indexing.** ``title_norm`` is not refreshed after every batch (that is
  an AVG over the whole table each time); the vocabulary is updated in the
  same transaction as the entries.
"""

from collections import Counter
from functools import cached_property

from django.db.models import F, FloatField, Func, Value
from django.db.models.functions import Coalesce
from django.db.models.sql.subqueries import InsertQuery
from modelsearch.backends.database.postgres.postgres import (
    EMPTY_VECTOR,  # noqa: F401  (re-exported for subclasses)
    IndexEntry,
    ObjectIndexer,
    PostgresAutocompleteQueryCompiler,
    PostgresIndex,
    PostgresSearchAtomicRebuilder,
    PostgresSearchBackend,
    PostgresSearchQueryCompiler,
    PostgresSearchRebuilder,
    PostgresSearchResults,
)
from modelsearch.index import SearchField
from modelsearch.utils import get_content_type_pk

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

CANDIDATES = 300  # words fetched per misspelling, from pg_trgm and from shared first letters
TEXT_SEARCH_CONFIG = "masthead"  # created by migration 0002 when unaccent is available
RECENCY_FIELD = "first_published_at"


class AgeInDays(Func):
    """Days since a timestamp, never negative; NULL stays NULL."""

    template = "GREATEST(0.0, EXTRACT(EPOCH FROM (NOW() - %(expressions)s)) / 86400.0)"
    output_field = FloatField()


class HeadlinePhraseBonus(Func):
    """``bonus`` when the lowercased headline text contains ``phrase``, else 1."""

    output_field = FloatField()

    def __init__(self, expression, phrase: str, bonus: float):
        self.phrase, self.bonus = phrase, bonus
        super().__init__(expression)

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return (
            f"(CASE WHEN strpos(lower({sql}), %s) > 0 THEN %s ELSE 1.0 END)",
            [*params, self.phrase, self.bonus],
        )


class MastheadPostgresObjectIndexer(ObjectIndexer):
    """Keep ``body_text`` to the body proper (no standfirst or names), as on SQLite: snippets read it.

    Each field's value is read once (modelsearch reads every field once per column).
    """

    def prepare_value(self, value):
        # PostgreSQL's text search parser drops anything between < and > as an XML tag,
        # so "<WINES>" (a ticker in a headline) would vanish; SQLite reads it as a word.
        return super().prepare_value(value).replace("<", " ").replace(">", " ")

    def prepare_field(self, obj, field):
        if obj is not self.obj:
            return super().prepare_field(obj, field)
        cache = self.__dict__.setdefault("_prepared", {})
        if id(field) not in cache:
            cache[id(field)] = list(super().prepare_field(obj, field))
        return iter(cache[id(field)])

    @cached_property
    def body_text(self):
        texts = []
        for field in self.search_fields:
            for current_field, _boost, value in self.prepare_field(self.obj, field):
                if (
                    isinstance(current_field, SearchField)
                    and current_field.field_name != "title"
                    and (current_field.boost or 0) <= LEAD_BOOST
                    and value.strip()
                ):
                    texts.append(value.strip())
        return " ".join(texts)


class MastheadPostgresIndex(PostgresIndex):
    def __init__(self, backend):
        super().__init__(backend)
        self.rebuild_counts: Counter | None = None

    def _refresh_title_norms(self, full=False):
        """Do nothing: Masthead's ranking does not use title_norm (see the module docstring)."""

    def add_items(self, model, objs):
        """Upsert ``objs`` into the index as modelsearch does, and add their words to the vocabulary."""
        if not model.get_search_fields():
            return
        indexers = [MastheadPostgresObjectIndexer(obj, self.backend) for obj in objs]
        if not indexers:
            return
        content_type_pk = get_content_type_pk(model)
        compiler = InsertQuery(IndexEntry).get_compiler(connection=self.write_connection)
        fields = {
            name: IndexEntry._meta.get_field(name) for name in ("title", "autocomplete", "body")
        }
        rows, params = [], []
        counts: Counter = Counter()
        for indexer in indexers:
            vectors = []
            params.extend((content_type_pk, indexer.id))
            for name, field in fields.items():
                sql, vector_params = compiler.prepare_value(field, getattr(indexer, name)).as_sql(
                    compiler, self.write_connection
                )
                vectors.append(sql)
                params.extend(vector_params)
            params.extend((indexer.title_text, indexer.body_text))
            rows.append(f"(%s, %s, {vectors[0]}, {vectors[1]}, {vectors[2]}, 1.0, %s, %s)")
            counts.update(vocabulary.document_words(indexer_texts(indexer)))
        with self.write_connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {IndexEntry._meta.db_table} "  # noqa: S608
                "(content_type_id, object_id, title, autocomplete, body, title_norm, title_text, body_text) "
                f"(VALUES {', '.join(rows)}) "
                "ON CONFLICT (content_type_id, object_id) DO UPDATE SET title = EXCLUDED.title, "
                "title_norm = 1.0, autocomplete = EXCLUDED.autocomplete, body = EXCLUDED.body, "
                "title_text = EXCLUDED.title_text, body_text = EXCLUDED.body_text",
                params,
            )
        if self.rebuild_counts is not None:
            self.rebuild_counts.update(counts)
        else:
            self.backend.add_words(counts)


class MastheadPostgresRebuilder(PostgresSearchRebuilder):
    def start(self):
        index = super().start()
        index.rebuild_counts = Counter()
        return index

    def finish(self):
        self.index.backend.replace_words(self.index.rebuild_counts or Counter())
        self.index.rebuild_counts = None


class MastheadPostgresAtomicRebuilder(PostgresSearchAtomicRebuilder):
    def start(self):
        index = super().start()
        index.rebuild_counts = Counter()
        return index

    def finish(self):
        self.index.backend.replace_words(self.index.rebuild_counts or Counter())
        self.index.rebuild_counts = None
        super().finish()


class NewsRankingMixin:
    """Recency and headline-phrase factors on top of modelsearch's rank expression."""

    def _build_rank_expression(self, vectors, config):
        rank = super()._build_rank_expression(vectors, config)
        backend = getattr(self, "backend", None)
        if backend is None:
            return rank
        model = self.queryset.model
        if (
            backend.recency_weight
            and backend.recency_half_life_days > 0
            and any(f.name == RECENCY_FIELD for f in model._meta.get_fields())
        ):
            h = backend.recency_half_life_days
            age = Coalesce(AgeInDays(F(RECENCY_FIELD)), Value(36500.0))
            rank = rank * (Value(1.0) + Value(backend.recency_weight * h) / (Value(h) + age))
        phrase = getattr(self, "phrase", "")
        if phrase and backend.phrase_bonus != 1.0:
            rank = rank * HeadlinePhraseBonus(
                F("index_entries__title_text"), phrase, backend.phrase_bonus
            )
        return rank

    def search(self, config, start, stop, score_field=None, backend=None):
        """Expand Fuzzy leaves through the vocabulary, then search as modelsearch does."""
        self.backend = backend
        query = self.query
        if backend is not None and fuzzy_words(query):
            query = expand_fuzzy(query, backend.corrections(fuzzy_words(query)))
        query = drop_empty(query)
        if query is None:
            return self.queryset.none()
        self.query = query
        self.phrase = headline_phrase(query)
        return super().search(config, start, stop, score_field=score_field, backend=backend)


class MastheadPostgresSearchQueryCompiler(NewsRankingMixin, PostgresSearchQueryCompiler):
    pass


class MastheadPostgresAutocompleteQueryCompiler(
    NewsRankingMixin, PostgresAutocompleteQueryCompiler
):
    pass


class MastheadPostgresSearchResults(PostgresSearchResults):
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


def has_extension(connection, name: str) -> bool:
    """Return True when the PostgreSQL extension ``name`` is installed (cached per connection)."""
    key = f"_masthead_ext_{name}"
    if not hasattr(connection, key):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_extension WHERE extname = %s", [name])
            setattr(connection, key, cursor.fetchone() is not None)
    return getattr(connection, key)


def has_text_search_config(connection) -> bool:
    """Return True when the ``masthead`` text search configuration exists (cached per connection)."""
    key = "_masthead_ts_config"
    if not hasattr(connection, key):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_ts_config WHERE cfgname = %s", [TEXT_SEARCH_CONFIG])
            setattr(connection, key, cursor.fetchone() is not None)
    return getattr(connection, key)
