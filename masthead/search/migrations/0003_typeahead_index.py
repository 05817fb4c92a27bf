"""On PostgreSQL, let the typeahead find the newest matches without reading the index table's rows.

The typeahead ranks the newest entries whose ``autocomplete`` vector matches
the prefix: PostgreSQL walks the primary key backwards and tests each entry.
The rows are wide (three vectors and the body's text), so a short prefix read
about 1,900 pages of them for 100 matches. This btree on ``id`` carries the two
columns the test needs, so the same walk is an index-only scan of narrow
tuples: typeahead p95 17.2 → 12.6 ms at 100,000 articles
(``bench/search.py``'s prefixes). Index-only scans need the table's visibility
map, which VACUUM sets: a full rebuild vacuums the table it swapped in
(``services.index_rebuild``). SQLite's typeahead reads FTS5: nothing to do there.
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger("masthead.search")

INDEX = "masthead_search_entry_newest"


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor != "postgresql":
        return
    table = apps.get_model("wagtailsearch", "IndexEntry")._meta.db_table
    try:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            cursor.execute(
                f"CREATE INDEX IF NOT EXISTS {INDEX} ON {table} (id) "
                "INCLUDE (content_type_id, autocomplete)"
            )
    except DatabaseError as error:  # not the table's owner: searches work without it
        logger.warning("Typeahead index skipped: %s", error)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [
        ("masthead_search", "0002_typo_tolerance"),
        ("wagtailsearch", "0010_add_text_fields"),
    ]

    operations = [migrations.RunPython(forward, backward)]
