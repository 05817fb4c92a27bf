"""On SQLite, key each page's index entry by the page: id = sequence × 2^32 + page id.

The entry's id is its FTS5 rowid, so a search of pages reads the page id off a
match and looks the page up directly: one lookup a match instead of two (the
entry, then its page). At 100,000 articles the search statements take about
0.92× the time, a whole results page about 0.93× (issue 4's note). The sequence is the entry's old id, so rowid
order (the order entries were written; a rebuild writes them newest-published
last) is kept. Entries of other models (authors, images) move below zero,
from ``OTHER_IDS_START`` up, in their old order. The SQLite backend writes new
entries the same way (``MastheadSQLiteIndex.entry_ids``).

Every entry row is rewritten and the FTS5 table is filled again, in the
migration's transaction: about 10 s at 100,000 articles. PostgreSQL's index
has no FTS5 table and keeps its ids.
"""

from django.db import migrations

# As in masthead.search.backends.sqlite (a migration keeps its own copy).
PAGE_ID_BITS = 32
OTHER_IDS_START = -(2**62)
ENTRIES = "wagtailsearch_indexentry"
FTS = "wagtailsearch_indexentry_fts"


def key_entries_by_page(connection) -> None:
    """Re-key the index entries of ``connection`` (SQLite): pages by sequence and page id, others below zero.

    Entries already keyed are left as they are. The entry table's triggers
    (which copy each write to the FTS5 table) are dropped while the ids move;
    the FTS5 table is then made again from the entries, and the triggers
    restored. Runs inside the caller's transaction.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, sql FROM sqlite_master WHERE name IN (%s, %s)", [ENTRIES, FTS])
        tables = dict(cursor.fetchall())
        if ENTRIES not in tables:
            return
        pages = "content_type_id IN (SELECT DISTINCT content_type_id FROM wagtailcore_page)"
        old = f"id > 0 AND id < {1 << PAGE_ID_BITS}"
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {ENTRIES} WHERE {old})")  # noqa: S608
        if not cursor.fetchone()[0]:
            return
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
            [ENTRIES],
        )
        triggers = cursor.fetchall()
        for name, _sql in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
        # An entry filed under a page model whose object id is not a page id is no page's;
        # one filed under another type than its page's own is stale (Wagtail indexes a
        # page as its specific type). A search of pages now checks the page's type.
        cursor.execute(
            f"DELETE FROM {ENTRIES} WHERE {old} AND {pages} AND (NOT "  # noqa: S608
            f"(object_id GLOB '[1-9]*' AND NOT object_id GLOB '*[^0-9]*' "
            f"AND CAST(object_id AS INTEGER) < {1 << PAGE_ID_BITS}) OR EXISTS "
            f"(SELECT 1 FROM wagtailcore_page p WHERE p.id = CAST(object_id AS INTEGER) "
            f"AND p.content_type_id != {ENTRIES}.content_type_id))"
        )
        # New ids are 2^32 and above or below zero: none meets an old one.
        cursor.execute(
            f"UPDATE {ENTRIES} SET id = (id << {PAGE_ID_BITS}) | CAST(object_id AS INTEGER) "  # noqa: S608
            f"WHERE {old} AND {pages}"
        )
        cursor.execute(
            f"UPDATE {ENTRIES} SET id = %s + id WHERE {old}",  # noqa: S608
            [OTHER_IDS_START],
        )
        if FTS in tables:
            # Deleting an FTS5 table's rows one by one re-reads each text; a new table is faster.
            cursor.execute(f"DROP TABLE {FTS}")
            cursor.execute(tables[FTS])
            cursor.execute(
                f"INSERT INTO {FTS} (rowid, title, body, autocomplete) "  # noqa: S608
                f"SELECT id, title, body, autocomplete FROM {ENTRIES} ORDER BY id"
            )
            cursor.execute(f"INSERT INTO {FTS} ({FTS}) VALUES ('optimize')")  # noqa: S608
        for _name, sql in triggers:
            cursor.execute(sql)


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        key_entries_by_page(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [
        ("masthead_search", "0004_index_lz4"),
        ("wagtailsearch", "0010_add_text_fields"),
        ("wagtailcore", "0098_apitoken"),
    ]

    # Backwards there is nothing to undo: modelsearch reads entries by any id.
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
