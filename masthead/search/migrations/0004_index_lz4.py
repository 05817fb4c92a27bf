"""On PostgreSQL, compress the index table's vectors and texts with lz4 instead of pglz.

Each entry holds three tsvectors and the headline's and body's text; most
rows are wider than PostgreSQL's 2 kB toast threshold, so every write
compresses them. pglz is slow to compress: at 100,000 articles an INSERT …
SELECT of fresh entries took 3.6–4.1 s with pglz and 2.3 s with lz4, for the
same table size (201–202 MB), and full rebuilds ran at 1,570–1,610
articles/s instead of 1,431–1,547/s (three interleaved runs each; issue 4's
note). Only new values are written with lz4: the next rebuild rewrites
every entry. A full rebuild's shadow table copies the setting
(``LIKE … INCLUDING ALL``).

PostgreSQL built without lz4 (``default_toast_compression`` does not offer
it) keeps pglz; so does a user who does not own the table.
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger("masthead.search")

COLUMNS = ("title", "autocomplete", "body", "title_text", "body_text")


def has_lz4(cursor) -> bool:
    """Return True when this PostgreSQL can compress with lz4 (built ``--with-lz4``, 14 and later)."""
    cursor.execute(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def set_compression(apps, schema_editor, method: str) -> None:
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    table = apps.get_model("wagtailsearch", "IndexEntry")._meta.db_table
    with connection.cursor() as cursor:
        if method == "lz4" and not has_lz4(cursor):
            logger.info("PostgreSQL without lz4: the search index keeps pglz")
            return
    columns = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}" for column in COLUMNS)
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(f"ALTER TABLE {table} {columns}")
    except DatabaseError as error:  # not the table's owner: the index works with pglz
        logger.warning("Search index compression left as it was: %s", error)


def forward(apps, schema_editor):
    set_compression(apps, schema_editor, "lz4")


def backward(apps, schema_editor):
    set_compression(apps, schema_editor, "pglz")


class Migration(migrations.Migration):
    dependencies = [
        ("masthead_search", "0003_typeahead_index"),
        ("wagtailsearch", "0010_add_text_fields"),
    ]

    operations = [migrations.RunPython(forward, backward)]
