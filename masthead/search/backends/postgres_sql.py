"""The SQL of a PostgreSQL search, written by hand from a modelsearch query (``SearchSql``).

Compiling the same statements through the ORM cost more than running them.
Every reader term reaches PostgreSQL as a parameter.
"""

import math

from modelsearch.backends.database.postgres.postgres import IndexEntry
from modelsearch.backends.database.postgres.weights import get_sql_weights
from modelsearch.query import And, Boost, Not, Or, Phrase, PlainText

from masthead.search.backends.base import plain_terms


class UnsupportedQuery(Exception):
    """A query node ``SearchSql`` does not write; the ORM path (``_orm_ranked``) takes the query."""


SORT_NEWEST_AT_MOST = 3000  # matches (by the vocabulary) sorted rather than walked, see ``newest``
WEIGHTS_SQL = get_sql_weights()  # modelsearch's weights of A, B, C, D, as a float4[] literal


class SearchSql:
    """The SQL of one search on the index table, written by hand: no queryset is compiled.

    Compiling the matching, ranking and candidate querysets through the ORM cost
    about 3 ms of Python a search, more than most of the searches take to run.
    The tsqueries, conditions and ranks are the ones modelsearch's compiler and
    ``NewsRankingMixin`` build (``to_tsquery`` of quoted lexemes, weighted
    ``ts_rank``, (1 + a)(1 + b) − 1 for And, the mean for Or), with two
    differences: a phrase or an excluded word is tested on each column
    (headline, body) rather than on their concatenation, which costs a copy of
    both vectors per entry (a phrase spanning the end of the headline and the
    start of the body no longer counts); and an excluded phrase is excluded
    (modelsearch's compiler drops the negation of a Phrase).

    Every value is a parameter; column names come from the compiler's COLUMNS.
    Raises UnsupportedQuery for a node other than And, Or, Not, Boost,
    PlainText and Phrase.
    """

    def __init__(self, query, config, *, columns, content_types, prefix_last=False):
        self.query = query
        self.config = config
        self.columns = tuple(columns)
        self.prefix_last = prefix_last
        self.table = IndexEntry._meta.db_table
        # Conditions the GIN indexes serve (each positive term on any column), then the
        # exact tests they leave: phrases and exclusions, read on the entries found.
        self.indexed: list[tuple[str, list]] = []
        self.exact_leaves: list[tuple[object, bool]] = []  # (query, excluded?)
        phrase_words: set[int] = set()  # positions in ``indexed`` of a phrase's own words
        if len(self.columns) == 1:
            self.indexed.append(self.any_column(query))
        else:
            leaves = query.subqueries if isinstance(query, And) else [query]
            for leaf in leaves:
                while isinstance(leaf, Boost):
                    leaf = leaf.subquery
                if isinstance(leaf, Not):
                    self.exact_leaves.append((leaf.subquery, True))
                elif isinstance(leaf, Phrase) or (
                    isinstance(leaf, PlainText) and leaf.operator == "and"
                ):
                    for word in plain_terms(leaf.query_string):
                        if isinstance(leaf, Phrase):
                            phrase_words.add(len(self.indexed))
                        self.indexed.append(self.any_column(PlainText(word), or_empty=True))
                    if isinstance(leaf, Phrase):
                        self.exact_leaves.append((leaf, False))
                else:
                    # Words joined by OR (the expansions of a misspelling), or an Or of
                    # words and phrases: one tsquery, tested on each column.
                    self.indexed.append(self.any_column(leaf, or_empty=True))
        self.where, self.where_params = _conjunction(content_types, self.indexed)
        # ``matches`` tests each phrase through the GIN indexes itself, which finds
        # only entries with all its words in one column: its words alone add nothing
        # there but more index scans and rechecks (the count of "oil prices": 17.9 →
        # 8–12 ms; phrase searches at 100k articles, median 58.0 → 48.8 ms).
        self.matches_where, self.matches_where_params = _conjunction(
            content_types, [c for i, c in enumerate(self.indexed) if i not in phrase_words]
        )

    def exact(self, operator: str = "@@") -> tuple[str, list]:
        """Return (SQL, params) of the phrase and exclusion tests ("" when there are none).

        ``operator`` "@@" lets the planner test a phrase through a GIN index (and
        recheck the entries); ``ts_match_vq``, the same test as a function, keeps
        it a test of the rows a plan reads in order.
        """
        tests, params = [], []
        for leaf, excluded in self.exact_leaves:
            sql, leaf_params = self.any_column(leaf, or_empty=not excluded, operator=operator)
            tests.append(f"NOT {sql}" if excluded else sql)
            params += leaf_params
        return " AND ".join(tests), params

    # -- tsqueries ----------------------------------------------------------------------

    def tsquery(self, query, invert=False) -> tuple[str, list]:
        """Return (SQL, params) of the tsquery of ``query``, as modelsearch builds it."""
        if isinstance(query, PlainText):
            terms = plain_terms(query.query_string)
            if not terms:
                raise UnsupportedQuery("an empty PlainText")
            last = terms.pop()
            lexemes = _lexeme(last, invert=invert, prefix=self.prefix_last)
            connector = "&" if query.operator == "and" else "|"
            for term in terms:
                lexemes = f"({lexemes} {connector} {_lexeme(term, invert=invert)})"
            return self._function("to_tsquery", lexemes)
        if isinstance(query, Phrase):
            sql, params = self._function("phraseto_tsquery", query.query_string)
            return (f"(!! {sql})", params) if invert else (sql, params)
        if isinstance(query, Not):
            return self.tsquery(query.subquery, invert=not invert)
        if isinstance(query, Boost):
            return self.tsquery(query.subquery, invert=invert)
        if isinstance(query, (And, Or)) and query.subqueries:
            parts = [self.tsquery(sub, invert=invert) for sub in query.subqueries]
            connector = "&&" if isinstance(query, And) != invert else "||"
            sql, params = parts[0]
            for other_sql, other_params in parts[1:]:
                sql, params = f"({sql} {connector} {other_sql})", [*params, *other_params]
            return sql, params
        raise UnsupportedQuery(type(query).__name__)

    def _function(self, name: str, value: str) -> tuple[str, list]:
        if self.config:
            return f"{name}(%s::regconfig, %s)", [self.config, value]
        return f"{name}(%s)", [value]

    def any_column(self, query, or_empty=False, operator="@@") -> tuple[str, list]:
        """Return "some column matches ``query``" (and, with ``or_empty``, "or it is only stop words")."""
        tsquery, params = self.tsquery(query)
        if operator == "@@":
            tests = [f"e.{column} @@ {tsquery}" for column in self.columns]
        else:
            tests = [f"{operator}(e.{column}, {tsquery})" for column in self.columns]
        if or_empty:
            # A stop word ("of", "the") makes an empty tsquery, which matches nothing; in a
            # whole query PostgreSQL drops it. numnode() = 0 is folded when planning.
            tests.append(f"numnode({tsquery}) = 0")
        return "(" + " OR ".join(tests) + ")", params * len(tests)

    # -- ranks --------------------------------------------------------------------------

    def rank(self, vectors: list[tuple[str, str]]) -> tuple[str, list]:
        """Return (SQL, params) of modelsearch's weighted rank summed over (column, factor) pairs."""
        parts, params = [], []
        for column, factor in vectors:
            sql, rank_params = self._rank(f"e.{column}", self.query)
            parts.append(f"({sql}) * {factor}")
            params += rank_params
        return " + ".join(parts), params

    def _rank(self, vector: str, query, boost: float = 1.0) -> tuple[str, list]:
        if isinstance(query, (Phrase, PlainText, Not)):
            tsquery, params = self.tsquery(query)
            sql, params = f"ts_rank(%s::float4[], {vector}, {tsquery})", [WEIGHTS_SQL, *params]
            if boost != 1.0:
                sql, params = f"({sql} * %s)", [*params, boost]
            return sql, params
        if isinstance(query, Boost):
            return self._rank(vector, query.subquery, boost * query.boost)
        if isinstance(query, (And, Or)) and query.subqueries:
            parts = [self._rank(vector, sub, boost) for sub in query.subqueries]
            params = [p for _s, ps in parts for p in ps]
            if isinstance(query, And):
                return "((" + " * ".join(f"(1 + {s})" for s, _p in parts) + ") - 1)", params
            return "((" + " + ".join(s for s, _p in parts) + ") / %s)", [*params, len(parts)]
        raise UnsupportedQuery(type(query).__name__)

    # -- statements ---------------------------------------------------------------------

    def matches(self, columns: str) -> tuple[str, list]:
        """Return (SELECT ``columns`` FROM every matching entry ``e``, params)."""
        where, params = self.matches_where, list(self.matches_where_params)
        exact, exact_params = self.exact()
        if exact:
            where += f" AND {exact}"
            params += exact_params
        return f"SELECT {columns} FROM {self.table} e WHERE {where}", params  # noqa: S608

    def newest(self, limit: int, at_most: float = math.inf) -> tuple[str, list]:
        """Return (SQL, params) of the ids of the ``limit`` newest-indexed matching entries.

        PostgreSQL chooses between reading the entries newest first until
        ``limit`` match and sorting every match the index finds. It assumes
        matches are spread evenly over time and guesses wrong for rare words:
        "tai" (259 matches at 100,000 articles) read 42,000 entries in 16 ms,
        where sorting its matches takes 0.6 ms. So when the vocabulary says the
        query matches at most SORT_NEWEST_AT_MOST entries, every match is
        collected and sorted; sorting 3,000 matches costs about 7 ms, while the
        walk finds 100 common ones in 1–2 ms.
        Tried before: searching the newest 5,000 entries first, then older ones,
        in up to three statements: the SQL's own p95 fell from 4.8 to 2.7 ms, but
        the extra statements cost 1.6–2 ms at the median.
        """
        sql, params = self.matches("e.id")
        if at_most <= SORT_NEWEST_AT_MOST:
            sql = f"WITH found AS MATERIALIZED ({sql}) SELECT id FROM found"  # noqa: S608
            return f"{sql} ORDER BY id DESC LIMIT %s", [*params, limit]
        return f"{sql} ORDER BY e.id DESC LIMIT %s", [*params, limit]

    def best_by_headline(self, limit: int) -> tuple[str, list]:
        """Return (SQL, params) of the ids of the ``limit`` matching entries with the best headline rank.

        The entries the indexes find are sorted by headline rank (cheap: headlines
        are small and stored in the row); phrases and exclusions, which read the
        body's vector, are then tested on them in that order, only until ``limit``
        have passed (a nested loop under the LIMIT), not on every entry found.
        """
        tsquery, tsquery_params = self.tsquery(self.query)
        headline = f"ts_rank(e.{self.columns[0]}, {tsquery})"
        exact, exact_params = self.exact("ts_match_vq")
        if not exact:
            sql, params = self.matches("e.id")
            return (
                f"{sql} ORDER BY {headline} DESC, e.id DESC LIMIT %s",
                [*params, *tsquery_params, limit],
            )
        return (
            f"SELECT s.id FROM (SELECT e.id, {headline} AS r FROM {self.table} e "  # noqa: S608
            f"WHERE {self.where} ORDER BY r DESC, e.id DESC OFFSET 0) s "
            f"JOIN {self.table} e ON e.id = s.id WHERE {exact} ORDER BY s.r DESC, s.id DESC LIMIT %s",
            [*tsquery_params, *self.where_params, *exact_params, limit],
        )


def _conjunction(content_types: list, conditions: list[tuple[str, list]]) -> tuple[str, list]:
    """Return (SQL, params): an entry of one of ``content_types`` meeting every condition."""
    ids = ", ".join(["%s"] * len(content_types))
    sql = " AND ".join([f"e.content_type_id IN ({ids})"] + [c for c, _p in conditions])
    return sql, [*content_types, *(p for _c, ps in conditions for p in ps)]


def _lexeme(value: str, *, invert=False, prefix=False) -> str:
    """Return a quoted tsquery lexeme, as modelsearch's ``Lexeme`` writes it."""
    lexeme = "'" + value.replace("'", "''").replace("\\", "\\\\") + "'"
    if prefix:
        lexeme += ":*"
    return "!" + lexeme if invert else lexeme
