"""System checks: say which search capability is missing and how to get it back.

modelsearch's own checks (SQLite without FTS5: W002, W003) are not repeated.
"""

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError, connections

BACKEND_PATH = "masthead.search.backends"


@register(Tags.compatibility)
def check_backend_configured(app_configs=None, **kwargs):
    """masthead.W004: WAGTAILSEARCH_BACKENDS does not name Masthead's backend."""
    from django.conf import settings

    backend = getattr(settings, "WAGTAILSEARCH_BACKENDS", {}).get("default", {}).get("BACKEND", "")
    if backend.startswith(BACKEND_PATH):
        return []
    return [
        Warning(
            f"The default search backend is {backend or 'unset'!r}, not Masthead's: reader search "
            "has no typo tolerance, no recency ranking and no 'Did you mean'.",
            hint=f'Set WAGTAILSEARCH_BACKENDS = {{"default": {{"BACKEND": "{BACKEND_PATH}"}}}}.',
            id="masthead.W004",
        )
    ]


@register(Tags.database)
def check_search_capabilities(app_configs=None, databases=None, **kwargs):
    """masthead.W001–W003, W005: the database lacks what typo tolerance or ranking needs."""
    if not databases or "default" not in databases:
        return []
    connection = connections["default"]
    try:
        return _capability_warnings(connection)
    except DatabaseError:
        return []  # not migrated yet: migrate reports that itself


def _capability_warnings(connection) -> list[Warning]:
    warnings = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT extname FROM pg_extension")
            extensions = {row[0] for row in cursor.fetchall()}
            if "pg_trgm" not in extensions:
                warnings.append(
                    Warning(
                        "PostgreSQL lacks the pg_trgm extension: typo tolerance and "
                        "'Did you mean' are off.",
                        hint="Run `masthead enable_trigram` (or CREATE EXTENSION pg_trgm as a "
                        "superuser), then `masthead migrate masthead_search 0001` and "
                        "`masthead migrate` to index the vocabulary.",
                        id="masthead.W001",
                    )
                )
            cursor.execute("SELECT 1 FROM pg_ts_config WHERE cfgname = 'masthead'")
            if "unaccent" not in extensions or cursor.fetchone() is None:
                warnings.append(
                    Warning(
                        "PostgreSQL lacks the unaccent extension or the 'masthead' text search "
                        "configuration: 'Macron' and 'Macrón' are different words to search.",
                        hint="Run `masthead enable_unaccent` (or CREATE EXTENSION unaccent as a "
                        "superuser), then `masthead migrate masthead_search 0001`, "
                        "`masthead migrate` and `masthead search rebuild`.",
                        id="masthead.W002",
                    )
                )
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'masthead_search_word_trigram'"
            )
            if cursor.fetchone() is None:
                warnings.append(
                    Warning(
                        "SQLite has no FTS5 trigram table for the search vocabulary: typo "
                        "tolerance only finds words that share their first two letters.",
                        hint="Use SQLite 3.34 or later, then `masthead migrate masthead_search "
                        "0001` and `masthead migrate`.",
                        id="masthead.W003",
                    )
                )
        else:
            return []
        from modelsearch.conf import get_app_config

        from masthead.search.models import Word

        entries = get_app_config().get_model("IndexEntry")._meta.db_table
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {entries})")  # noqa: S608
        has_entries = bool(cursor.fetchone()[0])
        if has_entries and not Word.objects.exists():
            warnings.append(
                Warning(
                    "The search index has entries but its vocabulary is empty: typo tolerance "
                    "and 'Did you mean' have no words to offer.",
                    hint="Run `masthead search rebuild`.",
                    id="masthead.W005",
                )
            )
    return warnings
