"""SQLite index entries keyed by page: id = sequence << 32 | page id (migration 0005, ``entry_ids``)."""

import importlib

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from modelsearch.conf import get_app_config
from modelsearch.index import insert_or_update_object
from wagtail.models import Page

from masthead.news.models import ArticlePage, Author
from masthead.news.tests.factories import AuthorFactory, home, section
from masthead.search.selectors import search_page
from masthead.search.tests.test_backends import found, story

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("masthead.search.migrations.0005_entries_keyed_by_page")


@pytest.fixture(autouse=True)
def _on_sqlite(db):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite index's keys (PostgreSQL keeps its ids)")


def sqlite_module():
    from masthead.search.backends import sqlite

    return sqlite


def entries(model) -> dict[str, int]:
    """Return object id → entry id of ``model``'s index entries."""
    entry = get_app_config().get_model("IndexEntry")
    content_type = ContentType.objects.get_for_model(model)
    return dict(entry.objects.filter(content_type=content_type).values_list("object_id", "id"))


def fts_rowids() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rowid FROM {sqlite_module().SQLiteFTSIndexEntry._meta.db_table}")  # noqa: S608
        return sorted(row[0] for row in cursor.fetchall())


def all_entry_ids() -> list[int]:
    entry = get_app_config().get_model("IndexEntry")
    return sorted(entry.objects.values_list("id", flat=True))


def test_a_pages_entry_holds_its_page_id_in_the_order_written():
    first = story("Harbour fees rise", "The port authority met.")
    second = story("Harbour reopens", "Boats are back.")
    keys = entries(ArticlePage)
    bits, mask = sqlite_module().PAGE_ID_BITS, sqlite_module().PAGE_ID_MASK
    assert {keys[str(p.pk)] & mask for p in (first, second)} == {first.pk, second.pk}
    assert keys[str(first.pk)] >> bits < keys[str(second.pk)] >> bits
    assert fts_rowids() == all_entry_ids()  # the FTS5 rowid is the entry's id

    first.title = "Harbour fees rise again"
    first.save()
    insert_or_update_object(first)  # written again: now the newest entry
    keys = entries(ArticlePage)
    assert keys[str(first.pk)] & mask == first.pk
    assert keys[str(first.pk)] > keys[str(second.pk)]
    assert fts_rowids() == all_entry_ids()
    assert sorted(found("harbour")) == ["Harbour fees rise again", "Harbour reopens"]


def test_other_models_entries_take_ids_below_zero_in_the_order_written():
    authors = [AuthorFactory(name=f"Harbour Writer{n}") for n in range(3)]
    keys = entries(Author)
    ids = [keys[str(author.pk)] for author in authors]
    assert all(i < 0 for i in ids) and ids == sorted(ids)
    assert min(ids) >= sqlite_module().OTHER_IDS_START


def test_a_page_search_never_reads_another_models_entry_as_a_page():
    page = story("Harbour fees rise", "The port authority met.")
    entry = get_app_config().get_model("IndexEntry")
    # An author's entry whose low 32 bits are the story's id, holding the same words.
    entry.objects.create(
        id=sqlite_module().OTHER_IDS_START + page.pk,
        content_type=ContentType.objects.get_for_model(Author),
        object_id="12345",
        title="",
        autocomplete="Harbour Writer",
        body="Harbour fees rise",
        title_norm=1.0,
    )
    assert found("harbour") == ["Harbour fees rise"]
    assert found("harbour", order="newest") == ["Harbour fees rise"]


def test_a_page_id_beyond_the_key_is_refused():
    sqlite = sqlite_module()
    content_type = ContentType.objects.get_for_model(ArticlePage).pk
    with connection.cursor() as cursor, pytest.raises(ValueError, match="page ids from 1"):
        sqlite.MastheadSQLiteIndex.entry_ids(
            cursor, ArticlePage, content_type, [str(sqlite.PAGE_ID_MASK + 1)]
        )


def test_searching_articles_leaves_out_other_page_types():
    section("Harbour")  # a section page named like the story: indexed, but not an article
    story("Harbour fees rise", "The port authority met.")
    assert found("harbour") == ["Harbour fees rise"]
    assert search_page(text="harbour", root=home()).count == 1


def test_a_page_filed_under_another_page_type_is_filed_once_when_written_again():
    page = story("Harbour fees rise", "The port authority met.")
    entry = get_app_config().get_model("IndexEntry")
    stale = entry.objects.create(
        id=(999 << sqlite_module().PAGE_ID_BITS) | page.pk,
        content_type=ContentType.objects.get_for_model(Page),
        object_id=str(page.pk),
        title="Harbour fees rise",
        autocomplete="",
        body="",
        title_norm=1.0,
    )
    page.title = "Harbour fees rise again"
    page.save()
    insert_or_update_object(page)
    assert not entry.objects.filter(pk=stale.pk).exists()
    assert entry.objects.filter(object_id=str(page.pk)).count() == 1
    assert found("harbour") == ["Harbour fees rise again"]


def renumber_as_before(extra=()):
    """Give every entry the small, increasing id the index had before migration 0005, plus ``extra`` rows.

    Written through the entry table, so its triggers keep the FTS5 table in step
    (as the old backend did). Returns object id → old id of the renumbered entries.
    """
    table = get_app_config().get_model("IndexEntry")._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, content_type_id, object_id, title, autocomplete, body FROM {table} "  # noqa: S608
            "ORDER BY id"
        )
        rows = [row[1:] for row in cursor.fetchall()] + list(extra)
        cursor.execute(f"DELETE FROM {table}")  # noqa: S608
        cursor.executemany(
            f"INSERT INTO {table} (id, content_type_id, object_id, title, autocomplete, body, "  # noqa: S608
            "title_norm) VALUES (%s, %s, %s, %s, %s, %s, 1.0)",
            [(i, *row) for i, row in enumerate(rows, start=1)],
        )
    return {(row[0], row[1]): i for i, row in enumerate(rows, start=1)}


def test_the_migration_keys_an_old_index_by_page():
    sqlite = sqlite_module()
    old_story = story("Harbour report 1", "The port authority met.", days_ago=3)
    new_story = story("Harbour report 2", "Boats are back.", days_ago=1)
    author = AuthorFactory(name="Harbour Writer")
    page_type = ContentType.objects.get_for_model(Page).pk
    article_type = ContentType.objects.get_for_model(ArticlePage).pk
    old_ids = renumber_as_before(
        extra=[
            # Stale: the story filed under another page type, and a page entry of no page id.
            (page_type, str(new_story.pk), "Harbour report 2", "", ""),
            (article_type, "not-a-page", "Harbour junk", "", ""),
        ]
    )
    assert max(old_ids.values()) < 1 << sqlite.PAGE_ID_BITS

    MIGRATION.key_entries_by_page(connection)

    keys = entries(ArticlePage)
    for page in (old_story, new_story):
        assert keys[str(page.pk)] == old_ids[(article_type, str(page.pk))] << 32 | page.pk
    assert "not-a-page" not in keys
    assert entries(Page) == {
        object_id: i << 32 | int(object_id)
        for (content_type, object_id), i in old_ids.items()
        if content_type == page_type and object_id != str(new_story.pk)
    }
    author_type = ContentType.objects.get_for_model(Author).pk
    assert (
        entries(Author)[str(author.pk)]
        == sqlite.OTHER_IDS_START + old_ids[(author_type, str(author.pk))]
    )
    assert fts_rowids() == all_entry_ids()
    assert found("harbour") == ["Harbour report 2", "Harbour report 1"]

    # The triggers are back: a story written now is in the full-text index.
    story("Harbour report 3", "Cranes are idle.", days_ago=0)
    assert found("harbour")[0] == "Harbour report 3"
    assert fts_rowids() == all_entry_ids()
    # Run again, it changes nothing.
    before = all_entry_ids()
    MIGRATION.key_entries_by_page(connection)
    assert all_entry_ids() == before
