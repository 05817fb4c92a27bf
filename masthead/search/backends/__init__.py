"""Masthead's search backends, chosen by the database as modelsearch chooses its own.

``WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "masthead.search.backends"}}``
gives the newsroom's admin search and the reader's /search/ the same engine:
``MastheadSQLiteSearchBackend`` on SQLite with FTS5, ``MastheadPostgresSearchBackend``
on PostgreSQL, and modelsearch's own backend anywhere else (MySQL, SQLite
without FTS5), which has none of Masthead's additions.
"""

from django.core.exceptions import ImproperlyConfigured
from django.db import connection


class InvalidMastheadSearchBackend(ImproperlyConfigured):
    """The configured search backend is not one of Masthead's."""


def SearchBackend(params):  # noqa: N802 (modelsearch looks the factory up by this name)
    """Return Masthead's backend for the default database's vendor, else modelsearch's."""
    if connection.vendor == "postgresql":
        from masthead.search.backends.postgres import MastheadPostgresSearchBackend

        return MastheadPostgresSearchBackend(params)
    if connection.vendor == "sqlite":
        from modelsearch.backends import database

        backend = database.SearchBackend(params)
        from modelsearch.backends.database.sqlite.sqlite import SQLiteSearchBackend

        if isinstance(backend, SQLiteSearchBackend):
            from masthead.search.backends.sqlite import MastheadSQLiteSearchBackend

            return MastheadSQLiteSearchBackend(params)
        return backend
    from modelsearch.backends.database import SearchBackend as ModelSearchBackend

    return ModelSearchBackend(params)


def get_backend(name: str = "default"):
    """Return the configured search backend; raise InvalidMastheadSearchBackend if it is not Masthead's."""
    from modelsearch.backends import get_search_backend

    from masthead.search.backends.base import MastheadSearchMixin

    backend = get_search_backend(name)
    if not isinstance(backend, MastheadSearchMixin):
        raise InvalidMastheadSearchBackend(
            f"WAGTAILSEARCH_BACKENDS[{name!r}] is {type(backend).__module__}.{type(backend).__name__}; "
            "set its BACKEND to 'masthead.search.backends' for typo tolerance and news ranking."
        )
    return backend
