"""MASTHEAD_SQLITE chooses the SQLite library: the bundled current one, or Python's (config/sqlite.py)."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from config.sqlite import use_sqlite

ROOT = Path(__file__).resolve().parents[3]
HAS_WHEEL = importlib.util.find_spec("pysqlite3") is not None


def choose(choice: str, before: str = "") -> subprocess.CompletedProcess:
    """Run ``use_sqlite(choice)`` in a fresh interpreter after ``before``; print module and version."""
    code = (
        f"{before}\n"
        "from config.sqlite import use_sqlite\n"
        f"version = use_sqlite({choice!r})\n"
        "import sqlite3\n"
        "print(sqlite3.__name__, version, sqlite3.sqlite_version)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "MASTHEAD_SQLITE"}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_an_unknown_choice_is_a_clear_error():
    with pytest.raises(ImproperlyConfigured, match="MASTHEAD_SQLITE must be one of"):
        use_sqlite("newest")


def test_system_keeps_pythons_sqlite3():
    out = choose("system")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "sqlite3"


@pytest.mark.skipif(not HAS_WHEEL, reason="pysqlite3-binary installs on Linux x86_64 only")
@pytest.mark.parametrize("choice", ["auto", "bundled"])
def test_auto_and_bundled_put_the_wheels_sqlite_in_place(choice):
    out = choose(choice)
    assert out.returncode == 0, out.stderr
    module, returned, version = out.stdout.split()
    assert module == "pysqlite3"
    assert returned == version


def test_bundled_without_the_wheel_is_a_clear_error():
    out = choose("bundled", before="import sys; sys.modules['pysqlite3'] = None")
    assert out.returncode != 0
    assert "needs the pysqlite3-binary wheel" in out.stderr


def test_auto_without_the_wheel_runs_on_pythons_sqlite3():
    out = choose("auto", before="import sys; sys.modules['pysqlite3'] = None")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "sqlite3"


def test_no_half_switch_once_pythons_sqlite3_is_in_use():
    # Two libraries at once would raise errors that handlers of the other do not catch.
    out = choose("auto", before="import sqlite3")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[0] == "sqlite3"
    out = choose("bundled", before="import sqlite3")
    assert out.returncode != 0
    assert "imported before the settings" in out.stderr


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the library only matters on SQLite")
def test_the_test_run_uses_the_chosen_library():
    # CI runs the suite with MASTHEAD_SQLITE=system, then =bundled: each must really be it.
    choice = os.environ.get("MASTHEAD_SQLITE") or "auto"
    expected = "pysqlite3" if choice == "bundled" or (choice == "auto" and HAS_WHEEL) else "sqlite3"
    assert connection.Database.__name__.split(".")[0] == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT sqlite_version()")
        assert cursor.fetchone()[0] == settings.SQLITE_VERSION
