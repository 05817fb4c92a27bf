"""The PostgreSQL backend's hand-written SQL (``SearchSql``) and its pipelined rebuild.

These run when the tests run on PostgreSQL (``DATABASE_URL``; CI runs the whole
suite once that way). They hold the hand-written SQL to the ORM path it
replaced (``NewsRankingMixin._orm_ranked``, which stays for query shapes the
SQL does not write), where the two are meant to agree, and check the cases
where they are meant to differ.
"""

from collections import Counter

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from masthead.news.models import ArticlePage
from masthead.search.backends import get_backend, postgres_sql
from masthead.search.models import Word
from masthead.search.query import parse
from masthead.search.services import index_rebuild
from masthead.search.tests.test_backends import found, story

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="runs when the tests run on PostgreSQL"
)

# Words, a phrase, an exclusion, OR, a misspelling, stop words, several words.
AGREEING_QUERIES = [
    "harbour",
    "harbour strike",
    '"harbour strike"',
    '"strike at the harbour"',
    "harbour -ferry",
    "ferry OR tram",
    "harbur",
    "strike harbur",
    "the of harbour",
    '"harbour strike" ferry',
    'tram OR "harbour strike"',
]


@pytest.fixture
def newsroom(db):
    """Publish stories whose words overlap, in headlines, standfirsts and bodies."""
    story("Harbour strike ends", "Dockers return to work at the harbour.", days_ago=3)
    story("Strike at the harbour", "A harbour strike began at dawn.", days_ago=10)
    story("Ferry services resume", "The harbour strike is over; ferries sail.", days_ago=1)
    story("Tram fares rise", "Commuters object to the harbour strike too.", days_ago=30)
    story("Council meets", "Nothing about the port.", standfirst="Harbour strike talks.")
    story("Harbour dredging", "Boats wait for the strike to end at the harbour.", days_ago=200)
    story("Tram strike called", "The harbour is quiet.", days_ago=5)


def compilers(text, *, newest=False, autocomplete=False):
    """Return two fresh compilers of the same search (one for each path), backend attached."""
    backend = get_backend()
    queryset = ArticlePage.objects.live().public()
    out = []
    for _ in range(2):
        if autocomplete:
            from modelsearch.query import PlainText

            results = backend.autocomplete(PlainText(text), queryset)
        elif newest:
            results = backend.search(
                parse(text).to_search_query(),
                queryset.order_by("-first_published_at"),
                order_by_relevance=False,
            )
        else:
            results = backend.search(parse(text).to_search_query(), queryset)
        compiler = results.query_compiler
        compiler.backend = backend
        out.append(compiler)
    return out


def orm_ranked(compiler, start, stop, **kwargs):
    query = compiler.expanded_query()
    compiler.query = query
    return compiler._orm_ranked(query, start, stop, **kwargs)


@pytest.mark.parametrize("text", AGREEING_QUERIES)
@pytest.mark.parametrize("newest", [False, True])
def test_hand_written_sql_agrees_with_the_orm_path(newsroom, text, newest):
    hand, orm = compilers(text, newest=newest)
    rows = hand.ranked(0, 20)
    expected = orm_ranked(orm, 0, 20)
    assert [pk for pk, _score in rows] == [pk for pk, _score in expected]
    assert [round(float(s), 6) for _pk, s in rows] == [round(float(s), 6) for _pk, s in expected]
    assert hand.ranked(None, None, count=True) == orm_ranked(orm, None, None, count=True)
    assert rows, f"{text!r} finds nothing: the comparison would prove little"


@pytest.mark.parametrize("text", ["ha", "harb", "harbour st", "tram fa"])
def test_typeahead_sql_agrees_with_the_orm_path(newsroom, text):
    hand, orm = compilers(text, autocomplete=True)
    assert hand.ranked(0, 8) == orm_ranked(orm, 0, 8)
    assert hand.ranked(0, 8)


@pytest.mark.parametrize(("sort_at_most", "sorted_"), [(-1, False), (3000, True)])
def test_typeahead_walks_for_common_words_and_sorts_the_matches_of_rare_ones(
    newsroom, monkeypatch, sort_at_most, sorted_
):
    # The newsroom's words are in a few entries: under 3,000 they are sorted; a limit
    # of -1 makes every word "common", so the index is walked newest first.
    monkeypatch.setattr(postgres_sql, "SORT_NEWEST_AT_MOST", sort_at_most)
    for text in ["ha", "harb", "tram fa"]:
        hand, orm = compilers(text, autocomplete=True)
        with CaptureQueriesContext(connection) as queries:
            rows = hand.ranked(0, 8)
        assert rows and rows == orm_ranked(orm, 0, 8)
        ranking = [q["sql"] for q in queries if "ORDER BY" in q["sql"]][-1]
        assert ("WITH found AS MATERIALIZED" in ranking) is sorted_


def test_a_page_past_the_best_candidates_ranks_every_match(newsroom):
    hand, orm = compilers("harbour")
    hand.BEST_CANDIDATES = orm.BEST_CANDIDATES = 2  # fewer than the page: the full ranking
    assert hand.ranked(0, 5) == orm_ranked(orm, 0, 5)
    assert len(hand.ranked(0, 5)) == 5


def test_phrase_candidates_are_the_best_headlines_that_hold_the_phrase(newsroom):
    """The lazy phrase test returns what ranking every exact match would, best first."""
    hand, _orm = compilers('"harbour strike"')
    query = hand.expanded_query()
    sql = hand.search_sql(query, hand.get_config(hand.backend))
    tsquery, tsquery_params = sql.tsquery(query)
    every, params = sql.matches(f"e.id, ts_rank(e.title, {tsquery}) AS r")
    with connection.cursor() as cursor:
        cursor.execute(f"{every} ORDER BY r DESC, e.id DESC", [*tsquery_params, *params])
        expected = [row[0] for row in cursor.fetchall()]
        for limit in (1, 2, len(expected), len(expected) + 5):
            best, best_params = sql.best_by_headline(limit)
            cursor.execute(best, best_params)
            assert [row[0] for row in cursor.fetchall()] == expected[:limit]
    assert len(expected) >= 3


def test_every_match_of_a_phrase_is_found_through_the_phrase_alone(newsroom):
    """The phrase's own index lookup needs its words in one column: its words add no test."""
    hand, _orm = compilers('"harbour strike" ferry')
    sql = hand.search_sql(hand.expanded_query(), hand.get_config(hand.backend))
    every, params = sql.matches("e.id")
    assert "'ferry'" in params and "'harbour'" not in params and "'strike'" not in params
    assert "harbour strike" in params  # phraseto_tsquery's text
    # The headline-ordered candidates still narrow by the words before the lazy phrase test.
    assert "'harbour'" in sql.where_params
    with connection.cursor() as cursor:
        cursor.execute(every, params)
        ids = {row[0] for row in cursor.fetchall()}
    assert len(ids) == 1  # "Ferry services resume": the phrase is in its body


def test_excluded_phrase_is_excluded(newsroom):
    # modelsearch's compiler drops the negation of a phrase (it would require it).
    titles = found('strike -"harbour strike"')
    assert "Tram strike called" in titles
    assert "Harbour strike ends" not in titles
    assert "Strike at the harbour" not in titles  # "harbour strike" in its body


def test_phrase_is_found_in_the_body_but_not_across_headline_and_body(db):
    story("Talks on the harbour", "Strike votes are counted.")
    story("Votes counted", "The harbour strike goes on.")
    assert found('"harbour strike"') == ["Votes counted"]


def test_quotes_and_backslashes_reach_sql_as_values(newsroom):
    for text in ["o'harbour", "harbour\\", "'; DROP TABLE x; --", '"harbour\\" strike"']:
        hand, _orm = compilers(text)
        hand.ranked(0, 20)
        hand.ranked(None, None, count=True)
    assert ArticlePage.objects.count() >= 7


def test_rebuild_writes_every_batch_including_the_last(newsroom):
    from modelsearch.index import get_indexed_models

    from masthead.search.backends.postgres import IndexEntry

    IndexEntry.objects.all().delete()
    Word.objects.all().delete()
    indexed = index_rebuild(chunk_size=2)  # 7 stories and the site's other pages: odd batches
    assert indexed == sum(m.get_indexed_objects().count() for m in get_indexed_models())
    assert IndexEntry.objects.count() == indexed
    assert Word.objects.filter(word="dredging").exists()
    assert found("dredging") == ["Harbour dredging"]
    assert found('"harbour strike"')


def test_a_failing_pipelined_batch_rolls_the_rebuild_back(newsroom):
    from masthead.search.backends.postgres import IndexEntry

    backend = get_backend()
    index = backend.get_index_for_model(ArticlePage)
    before = IndexEntry.objects.count()
    with pytest.raises(DatabaseError, match="no_such_table"):  # Django's error, not psycopg's
        with transaction.atomic():
            index.rebuild_counts = Counter()
            index.pending = ("INSERT INTO no_such_table VALUES (1)", [])
            index.add_items(ArticlePage, list(ArticlePage.objects.all()[:1]))
    index.rebuild_counts = None
    index.pending = None
    assert IndexEntry.objects.count() == before


def test_rebuild_leaves_no_gin_pending_list(newsroom):
    """Every search reads a GIN index's pending list in full: a rebuild merges them."""
    from masthead.search.backends.postgres import IndexEntry
    from masthead.search.backends.postgres_rebuild import clean_gin_pending_lists

    tables = [IndexEntry._meta.db_table, Word._meta.db_table]
    story("Lighthouse keeper retires", "After forty years on the rock.")  # indexed on publish
    assert clean_gin_pending_lists(connection, tables) > 0  # publishing left entries pending
    story("Lighthouse reopens", "Visitors climb the stairs again.")
    index_rebuild()
    assert clean_gin_pending_lists(connection, tables) == 0
    assert sorted(found("lighthuose")) == ["Lighthouse keeper retires", "Lighthouse reopens"]
