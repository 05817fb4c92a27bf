"""``pytest -p masthead.core.tests.newer_sqlite``: run the tests on a current SQLite.

Python's ``sqlite3`` uses the system's SQLite: 3.40 on Debian 12, newer on
Debian 13, Ubuntu 24.04, macOS or a python.org build. Hand-written FTS5 SQL can
work on one and fail on another (issue 4: SQLite 3.51 refused a query plan
that 3.40 ran). This plugin puts ``pysqlite3`` (the ``pysqlite3-binary`` wheel,
which bundles a current SQLite) in the place of ``sqlite3`` before Django or
any test imports it, so CI runs the suite on both versions.

Loaded with ``-p``, it is imported before pytest-django sets Django up.
"""

import sys

import pytest

if "sqlite3.dbapi2" in sys.modules and "pysqlite3" not in sys.modules["sqlite3.dbapi2"].__name__:
    raise pytest.UsageError("newer_sqlite must load before anything imports sqlite3: use -p")
try:
    import pysqlite3
    import pysqlite3.dbapi2
except ImportError as exc:  # only a test run asks for it: say how to get it
    raise pytest.UsageError(
        "newer_sqlite needs the pysqlite3-binary wheel (pip install pysqlite3-binary; "
        "Linux x86_64 only)"
    ) from exc

sys.modules["sqlite3"] = pysqlite3
sys.modules["sqlite3.dbapi2"] = pysqlite3.dbapi2


def pytest_report_header(config):
    return f"SQLite {pysqlite3.sqlite_version} (pysqlite3, in place of the system's sqlite3)"
