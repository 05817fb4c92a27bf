"""A full rebuild on PostgreSQL writes a shadow table and swaps it in (``ShadowTable``).

Runs when the tests run on PostgreSQL (``DATABASE_URL``; CI runs the whole
suite once that way).
"""

from importlib import import_module

import psycopg
import pytest
from django.db import connection, transaction

from masthead.news.models import ArticlePage
from masthead.search.backends import get_backend
from masthead.search.backends.postgres import IndexEntry, MastheadPostgresIndex
from masthead.search.backends.postgres_rebuild import ShadowTable
from masthead.search.services import index_rebuild
from masthead.search.tests.test_backends import found, story

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="runs when the tests run on PostgreSQL"
)

TABLE = IndexEntry._meta.db_table
_lz4 = import_module("masthead.search.migrations.0004_index_lz4")
has_lz4, COMPRESSED = _lz4.has_lz4, _lz4.COLUMNS


def table_shape() -> tuple[int, list, list, str]:
    """Return the index table's oid, its (index, definition) and (constraint, definition) pairs, and sequence."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::regclass::oid", [TABLE])
        oid = cursor.fetchone()[0]
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass ORDER BY 1",
            [TABLE],
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass ORDER BY 1",
            [TABLE],
        )
        constraints = cursor.fetchall()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        return oid, indexes, constraints, cursor.fetchone()[0]


def entries() -> list[tuple]:
    return sorted(
        IndexEntry.objects.values_list("content_type_id", "object_id", "title_text", "body_text")
    )


def no_shadow_left() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [TABLE + ShadowTable.SUFFIX])
        return cursor.fetchone()[0] is None


@pytest.fixture
def newsroom(db):
    story("Harbour strike ends", "Dockers return to work at the harbour.", days_ago=3)
    story("Tram fares rise", "Commuters object to the new fares.", days_ago=30)
    story("Lighthouse keeper retires", "After forty years on the rock.", days_ago=200)


def test_rebuild_swaps_in_a_new_table_with_the_same_names(newsroom):
    index_rebuild()  # publishing indexed the stories; a rebuild indexes every model
    oid, indexes, constraints, sequence = table_shape()
    before = entries()
    indexed = index_rebuild(chunk_size=2)
    new_oid, new_indexes, new_constraints, new_sequence = table_shape()
    assert new_oid != oid  # a new table: upserting into the old one keeps its oid
    assert (new_indexes, new_constraints, new_sequence) == (indexes, constraints, sequence)
    assert entries() == before and len(before) == indexed
    assert no_shadow_left()
    assert found("harbour") == ["Harbour strike ends"]
    assert found("lighthuose") == ["Lighthouse keeper retires"]  # the vocabulary was rebuilt
    story("Ferry services resume", "The harbour is busy again.")  # indexed on publish
    assert sorted(found("harbour")) == ["Ferry services resume", "Harbour strike ends"]


def test_an_entry_written_twice_in_a_rebuild_keeps_its_last_texts(newsroom, monkeypatch):
    """As ON CONFLICT DO UPDATE did when rebuilding into the live table."""
    original = MastheadPostgresIndex.add_items
    first = ArticlePage.objects.order_by("pk").first()

    def twice(self, model, objs):
        original(self, model, objs)
        if any(obj.pk == first.pk for obj in objs):
            first.title = "Harbour strike ends at last"
            original(self, model, [first])

    monkeypatch.setattr(MastheadPostgresIndex, "add_items", twice)
    index_rebuild()
    assert IndexEntry.objects.filter(object_id=str(first.pk)).count() == 1
    assert found("last") == ["Harbour strike ends"]  # the page's own title; the index's words


def test_an_error_part_way_leaves_the_index_as_it_was(newsroom, monkeypatch):
    oid = table_shape()[0]
    before = entries()
    original = MastheadPostgresIndex.entries_statement
    calls = []

    def fail_on_second(self, model, indexers):
        calls.append(model)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return original(self, model, indexers)

    monkeypatch.setattr(MastheadPostgresIndex, "entries_statement", fail_on_second)
    with pytest.raises(RuntimeError, match="went away"):
        index_rebuild(chunk_size=1)
    assert len(calls) == 2
    assert table_shape()[0] == oid
    assert entries() == before
    assert no_shadow_left()
    assert found("harbour") == ["Harbour strike ends"]


def test_a_table_something_depends_on_is_upserted_into_not_swapped(newsroom):
    """A view, a grant, a foreign key into the table… would not follow a new table."""
    backend = get_backend()
    index = backend.get_index_for_model(ArticlePage)
    assert ShadowTable.planned(index.write_connection, TABLE) is not None  # the test's transaction
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE VIEW masthead_test_entries AS SELECT id FROM {TABLE}")  # noqa: S608
    assert ShadowTable.planned(index.write_connection, TABLE) is None  # a view depends on it
    oid = table_shape()[0]
    index_rebuild()
    assert table_shape()[0] == oid
    assert found("harbour") == ["Harbour strike ends"]


def test_readers_are_not_blocked_and_writers_wait_while_a_rebuild_writes(newsroom):
    """Another connection reads the index table, unblocked, while the rebuild fills its shadow.

    The test's own transaction holds the rebuild (nothing is committed, so no
    flush empties the database for the tests after it): the other connection
    sees the committed table as it was, and its writes wait for the rebuild.
    """
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    other = psycopg.connect(**params, autocommit=True)
    other.execute("SET lock_timeout = '2s'")  # a reader blocked by the rebuild fails, not hangs

    def other_count() -> int:
        return other.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]  # noqa: S608

    backend = get_backend()
    try:
        committed = other_count()
        with transaction.atomic():
            rebuilder = backend.plain_rebuilder_class(backend.get_index_for_model(ArticlePage))
            index = rebuilder.start()
            assert index.shadow is not None
            index.add_model(ArticlePage)
            index.add_items(ArticlePage, list(ArticlePage.objects.all()))
            index.flush()
            assert other_count() == committed  # the old table, read without waiting
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(f"DELETE FROM {TABLE}")  # noqa: S608  (writers wait for the rebuild)
            rebuilder.finish()
        assert found("harbour") == ["Harbour strike ends"]  # the swapped-in table, in here
    finally:
        other.close()


@pytest.mark.django_db
def test_a_rebuild_analyzes_tables_that_never_were():
    from django.test.utils import CaptureQueriesContext

    from masthead.search.services import analyze_if_never_analyzed, never_analyzed

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE masthead_test_fresh (id integer)")
    assert never_analyzed(connection, ["masthead_test_fresh"])
    assert not never_analyzed(connection, ["no_such_table"])
    tables = [ArticlePage._meta.db_table, "wagtailcore_page"]
    expected = never_analyzed(
        connection, tables
    )  # new test tables: usually, unless autovacuum came
    with CaptureQueriesContext(connection) as queries:
        ran = analyze_if_never_analyzed([ArticlePage])
    analyzed = any(q["sql"].strip().upper() == "ANALYZE" for q in queries)
    assert ran is expected and analyzed is expected


def test_the_typeahead_index_survives_a_rebuild_and_serves_the_newest_matches(newsroom):
    def newest_index():
        return [
            name for name, _definition in table_shape()[1] if name == "masthead_search_entry_newest"
        ]

    assert newest_index()  # migration 0003
    index_rebuild()
    assert newest_index()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # two stories: make the choice visible
        cursor.execute(
            f"EXPLAIN SELECT id FROM {TABLE} WHERE autocomplete @@ to_tsquery('simple', 'harb:*') "  # noqa: S608
            "ORDER BY id DESC LIMIT 100"
        )
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan Backward using masthead_search_entry_newest" in plan


def column_compression() -> dict[str, str]:
    """Return the index table's text and vector columns and their compression ("" is the default, "l" lz4)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attcompression FROM pg_attribute WHERE attrelid = %s::regclass "
            "AND attname = ANY(%s)",
            [TABLE, list(COMPRESSED)],
        )
        return dict(cursor.fetchall())


def test_the_index_is_compressed_with_lz4_and_a_rebuild_keeps_it(newsroom):
    with connection.cursor() as cursor:
        if not has_lz4(cursor):
            pytest.skip("this PostgreSQL was built without lz4")
    assert column_compression() == dict.fromkeys(COMPRESSED, "l")  # migration 0004
    # A long body: its text and vector pass the toast threshold, so they are compressed.
    long_story = story("Budget papers", " ".join(f"clause{i} of the budget" for i in range(600)))
    index_rebuild()
    assert column_compression() == dict.fromkeys(COMPRESSED, "l")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT pg_column_compression(body), pg_column_compression(body_text) "  # noqa: S608
            f"FROM {TABLE} WHERE object_id = %s",
            [str(long_story.pk)],
        )
        assert cursor.fetchone() == ("lz4", "lz4")


class FakeConnection:
    """The parts of a connection ``vacuum_if_outside_transaction`` reads; records statements."""

    def __init__(self, vendor, in_atomic_block):
        self.vendor, self.in_atomic_block, self.ops, self.run = (
            vendor,
            in_atomic_block,
            connection.ops,
            [],
        )

    def cursor(self):
        test = self

        class Cursor:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def execute(self, sql, params=None):
                test.run.append(sql)

        return Cursor()


@pytest.mark.parametrize(
    ("vendor", "in_atomic_block", "runs"),
    [("postgresql", False, True), ("postgresql", True, False), ("sqlite", False, False)],
)
def test_a_rebuild_vacuums_the_index_table_only_outside_a_transaction(
    vendor, in_atomic_block, runs
):
    from types import SimpleNamespace

    from masthead.search.services import vacuum_if_outside_transaction

    fake = FakeConnection(vendor, in_atomic_block)
    assert vacuum_if_outside_transaction(SimpleNamespace(write_connection=fake)) is runs
    assert fake.run == ([f'VACUUM "{TABLE}"'] if runs else [])
