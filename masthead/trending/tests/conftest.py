"""Trending fixtures: the one BackendTests suite runs on the database always, on Redis when MASTHEAD_TEST_REDIS_URL is set."""

import os
import uuid

import pytest

from conftest import skip_or_fail

DATABASE = {
    "BACKEND": "masthead.trending.backends.database.DatabaseBackend",
    # Tests flush by hand; a timer thread would write from another connection.
    "OPTIONS": {"FLUSH_THREAD": False, "BATCH_SIZE": 1000},
}


def redis_url() -> str:
    """Return MASTHEAD_TEST_REDIS_URL, or skip (fail under MASTHEAD_REQUIRE_SERVICES=1)."""
    url = os.environ.get("MASTHEAD_TEST_REDIS_URL", "")
    if not url:
        skip_or_fail("MASTHEAD_TEST_REDIS_URL is not set")
    return url


def redis_setting() -> dict:
    return {
        "BACKEND": "masthead.trending.backends.redis.RedisBackend",
        "OPTIONS": {"LOCATION": redis_url(), "KEY_PREFIX": f"test:trending:{uuid.uuid4().hex}"},
    }


@pytest.fixture(params=["database", "redis"])
def backend(request, settings, db):
    """Each backend in turn, configured as MASTHEAD_TRENDING and emptied afterwards."""
    from masthead.trending.backends import get_backend

    settings.MASTHEAD_TRENDING = DATABASE if request.param == "database" else redis_setting()
    instance = get_backend()
    instance.clear()
    yield instance
    instance.clear()
