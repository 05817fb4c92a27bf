"""Which SQLite library Masthead runs on: a current one bundled in a wheel, or Python's.

Python's ``sqlite3`` uses the system's SQLite, which can be old: 3.40 (2022) on
Debian 12. The ``pysqlite3-binary`` wheel bundles a current SQLite (3.51) with
the same module interface. On the search bench (issue 4, 100k stories) the
ranked search statements take 0.82 times as long on 3.51 as on 3.40 (replayed
in one process, alternating), and the FTS5 fixes since 3.40 come with it. The wheel exists for Linux on x86_64 only;
elsewhere Python's sqlite3 is used.

``MASTHEAD_SQLITE`` chooses: ``auto`` (the wheel when it is installed),
``bundled`` (the wheel, or an error) or ``system`` (Python's). The settings
call ``use_sqlite`` before Django loads its SQLite backend, which imports
``sqlite3`` then: putting the wheel's module in its place is all it takes.
"""

import sys

from django.core.exceptions import ImproperlyConfigured

CHOICES = ("auto", "bundled", "system")


def use_sqlite(choice: str) -> str:
    """Put the chosen SQLite library in the place of ``sqlite3``; return the SQLite version in use.

    ``choice`` is one of CHOICES. Raises ImproperlyConfigured for an unknown
    choice, and for ``bundled`` when the wheel is missing or Python's sqlite3
    is already in use (a module imported it first: switching then would give
    two libraries, and errors of one that handlers of the other do not catch).
    """
    if choice not in CHOICES:
        raise ImproperlyConfigured(
            f"MASTHEAD_SQLITE must be one of {', '.join(CHOICES)}, not {choice!r}"
        )
    loaded = sys.modules.get("sqlite3.dbapi2")  # the library already in use, if any
    if loaded is not None:
        if choice == "bundled" and not loaded.__name__.startswith("pysqlite3"):
            raise ImproperlyConfigured(
                "MASTHEAD_SQLITE=bundled, but Python's sqlite3 was imported before the "
                "settings: nothing may import sqlite3 before Django is set up"
            )
    elif choice != "system":
        try:
            import pysqlite3
            import pysqlite3.dbapi2
        except ImportError as exc:
            if choice == "bundled":
                raise ImproperlyConfigured(
                    "MASTHEAD_SQLITE=bundled needs the pysqlite3-binary wheel "
                    "(Linux x86_64): pip install pysqlite3-binary"
                ) from exc
        else:
            sys.modules["sqlite3"] = pysqlite3
            sys.modules["sqlite3.dbapi2"] = pysqlite3.dbapi2
    import sqlite3

    return sqlite3.sqlite_version
