"""What Masthead adds to modelsearch's database backends, whichever the database.

``MastheadSearchMixin`` sits in front of modelsearch's SQLite FTS5 and
PostgreSQL backends. It reads the ranking parameters, keeps the ``Word``
vocabulary in step with the index, and turns ``Fuzzy`` leaves into the words
of the vocabulary a misspelling stands for, so both databases forgive the
same typos. Subclasses say what their database can do with ``supports_*``
flags and implement ``word_candidates``.
"""

from collections import Counter
from collections.abc import Iterable

from django.db import connections, router, transaction

from masthead.search import vocabulary
from masthead.search.models import Word

DEFAULT_TITLE_WEIGHT = 10.0  # a headline word counts ten body words
DEFAULT_LEAD_WEIGHT = 3.0  # standfirst, tags, section and author names
DEFAULT_BODY_WEIGHT = 1.0
DEFAULT_PHRASE_BONUS = 3.0  # the reader's exact words, in order, in the headline
LEAD_BOOST = 1.0  # SearchFields boosted above this count as lead text, not body
WORD_BATCH = 900  # parameters per statement stay under SQLite's limit of 999


class MastheadSearchMixin:
    """Ranking, vocabulary and typo tolerance shared by Masthead's backends."""

    supports_typo_tolerance = False
    supports_recency = True
    supports_highlight = True  # snippets are highlighted in Python (masthead.search.highlight)
    supports_phrase_bonus = True

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
        from modelsearch.utils import get_descendants_content_types_pks

        IndexEntry = get_app_config().get_model("IndexEntry")  # noqa: N806

        rows = IndexEntry.objects.filter(
            content_type_id__in=get_descendants_content_types_pks(model),
            object_id__in=[str(pk) for pk in pks],
        ).values_list("object_id", self.entry_text_field)
        pk_type = type(next(iter(pks))) if pks else str
        return {pk_type(object_id): text or "" for object_id, text in rows}

    # -- vocabulary -------------------------------------------------------------------

    @property
    def word_connection(self):
        return connections[router.db_for_write(Word)]

    def word_candidates(self, word: str) -> list[tuple[str, int]]:
        """Return (word, docs) pairs that may be spellings of ``word``; unordered, unfiltered."""
        raise NotImplementedError

    def words_docs(self, words: Iterable[str]) -> dict[str, int]:
        """Return word → docs for the given words that the vocabulary holds."""
        words = list(dict.fromkeys(words))
        found: dict[str, int] = {}
        for i in range(0, len(words), WORD_BATCH):
            found.update(
                Word.objects.filter(word__in=words[i : i + WORD_BATCH]).values_list("word", "docs")
            )
        return found

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
            if vocabulary.needs_correction(word, docs, fixes):
                result[word] = fixes
        return result

    def completions(self, prefix: str, limit: int) -> list[str]:
        """Return up to ``limit`` vocabulary words starting with ``prefix``, commonest first."""
        return list(
            Word.objects.filter(word__gte=prefix, word__lt=prefix + "\uffff")
            .order_by("-docs", "word")
            .values_list("word", flat=True)[:limit]
        )

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


def indexer_texts(indexer) -> list[str]:
    """Return every text an ObjectIndexer puts into the index (title, body, autocomplete)."""
    if hasattr(indexer, "prepared"):
        return [value for _field, value in indexer.prepared]
    texts = []
    for field in indexer.search_fields:
        for prepared in indexer.prepare_field(indexer.obj, field):
            value = prepared[-1]
            if value:
                texts.append(value)
    return texts


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
            options = [word] + [fix for fix, _d, _n in corrections.get(vocabulary.fold(word), [])]
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
