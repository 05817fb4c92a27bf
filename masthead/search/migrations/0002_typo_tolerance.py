"""Give the vocabulary a trigram index: FTS5 ``trigram`` on SQLite, ``pg_trgm`` on PostgreSQL.

On PostgreSQL this also enables ``unaccent`` (with modelsearch's immutable
``f_unaccent()`` wrapper) and creates the ``masthead`` text search
configuration: English stemming on accent-free words, so "Macron" and
"Macrón" are the same word there as they are on SQLite. Each step runs in its
own savepoint: a database user who may not create extensions still migrates,
and the system check (masthead.W001, W002) says what is missing.
"""

import logging

from django.db import DatabaseError, migrations, transaction

logger = logging.getLogger("masthead.search")

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE masthead_search_word_trigram USING fts5("
    "word, content='masthead_search_word', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER masthead_search_word_ai AFTER INSERT ON masthead_search_word BEGIN "
    "INSERT INTO masthead_search_word_trigram(rowid, word) VALUES (new.id, new.word); END",
    "CREATE TRIGGER masthead_search_word_ad AFTER DELETE ON masthead_search_word BEGIN "
    "INSERT INTO masthead_search_word_trigram(masthead_search_word_trigram, rowid, word) "
    "VALUES ('delete', old.id, old.word); END",
    "CREATE TRIGGER masthead_search_word_au AFTER UPDATE OF word ON masthead_search_word BEGIN "
    "INSERT INTO masthead_search_word_trigram(masthead_search_word_trigram, rowid, word) "
    "VALUES ('delete', old.id, old.word); "
    "INSERT INTO masthead_search_word_trigram(rowid, word) VALUES (new.id, new.word); END",
    "INSERT INTO masthead_search_word_trigram(masthead_search_word_trigram) VALUES ('rebuild')",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS masthead_search_word_ai",
    "DROP TRIGGER IF EXISTS masthead_search_word_ad",
    "DROP TRIGGER IF EXISTS masthead_search_word_au",
    "DROP TABLE IF EXISTS masthead_search_word_trigram",
]

POSTGRES_FORWARD = [
    ["CREATE EXTENSION IF NOT EXISTS pg_trgm"],
    [
        "CREATE INDEX IF NOT EXISTS masthead_search_word_trgm "
        "ON masthead_search_word USING gin (word gin_trgm_ops)"
    ],
    ["CREATE EXTENSION IF NOT EXISTS unaccent"],
    [
        # The same immutable wrapper modelsearch's enable_unaccent command creates.
        "CREATE OR REPLACE FUNCTION f_unaccent(text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS "
        "$func$ SELECT public.unaccent('public.unaccent', $1) $func$"
    ],
    [
        "DROP TEXT SEARCH CONFIGURATION IF EXISTS masthead",
        "CREATE TEXT SEARCH CONFIGURATION masthead (COPY = pg_catalog.english)",
        "ALTER TEXT SEARCH CONFIGURATION masthead "
        "ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem",
    ],
]
POSTGRES_BACKWARD = [
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS masthead",
    "DROP INDEX IF EXISTS masthead_search_word_trgm",
]


def forward(apps, schema_editor):
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        steps = [SQLITE_FORWARD]
    elif connection.vendor == "postgresql":
        steps = POSTGRES_FORWARD
    else:
        return
    for statements in steps:
        try:
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)
        except DatabaseError as error:
            logger.warning("Search typo tolerance step skipped (%s): %s", statements[0], error)


def backward(apps, schema_editor):
    connection = schema_editor.connection
    statements = {"sqlite": SQLITE_BACKWARD, "postgresql": POSTGRES_BACKWARD}.get(
        connection.vendor, []
    )
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("masthead_search", "0001_initial")]

    operations = [migrations.RunPython(forward, backward)]
