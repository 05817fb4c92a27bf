"""One BackendTests suite: the database and Redis counters give the same answers to the same events."""

import datetime as dt
import time

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext

from masthead.trending.backends import (
    CounterStoreUnavailable,
    InvalidTrendingBackendError,
    Outcome,
    get_backend,
    hour_of,
)
from masthead.trending.models import ReadBucket
from masthead.trending.tests.conftest import DATABASE

NOW = dt.datetime(2026, 11, 25, 14, 37, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)

# (page, hours ago, visitor): a scripted morning of reads.
EVENTS = [
    (1, 0, "a"), (1, 0, "b"), (1, 0, "c"), (1, 1, "a"), (1, 30, "a"),
    (2, 0, "a"), (2, 2, "b"), (2, 2, "c"), (2, 2, "d"), (2, 2, "e"),
    (3, 47, "a"), (3, 47, "b"),
]  # fmt: skip


def read(backend, page_id, at, visitor="v", client="c", repeat_seconds=1800):
    return backend.record_read(
        page_id=page_id, visitor=visitor, client=client, at=at, repeat_seconds=repeat_seconds
    )


def play(backend, events=EVENTS):
    outcomes = [
        read(backend, page, NOW - hours * H, visitor=f"{v}{hours}") for page, hours, v in events
    ]
    backend.flush()
    return outcomes


class TestBackends:
    """BackendTests: every test runs on each backend (see conftest.backend)."""

    def test_each_read_lands_in_its_clock_hour(self, backend):
        assert set(play(backend)) == {Outcome.COUNTED}
        hourly = backend.hourly(since=NOW - 48 * H, until=NOW + H)
        assert hourly == {
            1: {hour_of(NOW): 3, hour_of(NOW - H): 1, hour_of(NOW - 30 * H): 1},
            2: {hour_of(NOW): 1, hour_of(NOW - 2 * H): 4},
            3: {hour_of(NOW - 47 * H): 2},
        }

    def test_hours_outside_the_range_are_left_out(self, backend):
        play(backend)
        hourly = backend.hourly(since=NOW - 2 * H, until=NOW - H + dt.timedelta(minutes=1))
        assert hourly == {1: {hour_of(NOW - H): 1}, 2: {hour_of(NOW - 2 * H): 4}}

    def test_hourly_can_be_limited_to_some_pages(self, backend):
        play(backend)
        hourly = backend.hourly(since=NOW - 48 * H, until=NOW + H, page_ids=[3, 99])
        assert hourly == {3: {hour_of(NOW - 47 * H): 2}}
        assert backend.hourly(since=NOW - 48 * H, until=NOW + H, page_ids=[]) == {}

    def test_totals_rank_pages_by_reads(self, backend):
        play(backend)
        totals = backend.totals(since=NOW - 48 * H, until=NOW + H, limit=10)
        assert totals == [(2, 5), (1, 5), (3, 2)]  # ties: the newer page id first
        assert backend.totals(since=NOW - 3 * H, until=NOW + H, limit=1) == [(2, 5)]

    def test_hourly_totals_add_up_all_pages(self, backend):
        play(backend)
        totals = backend.hourly_totals(since=NOW - 3 * H, until=NOW + H)
        assert totals == {hour_of(NOW): 4, hour_of(NOW - H): 1, hour_of(NOW - 2 * H): 4}

    def test_a_visitor_counts_once_per_article_within_the_window(self, backend):
        assert read(backend, 7, NOW, visitor="x") is Outcome.COUNTED
        assert read(backend, 7, NOW, visitor="x") is Outcome.REPEAT
        assert read(backend, 8, NOW, visitor="x") is Outcome.COUNTED
        assert read(backend, 7, NOW, visitor="y") is Outcome.COUNTED
        backend.flush()
        assert backend.totals(since=NOW - H, until=NOW + H, limit=5) == [(7, 2), (8, 1)]

    def test_a_visitor_counts_again_after_the_window(self, backend):
        assert read(backend, 7, NOW, visitor="x", repeat_seconds=1) is Outcome.COUNTED
        time.sleep(1.2)  # Redis forgets by the clock, the database by the read's time
        later = NOW + dt.timedelta(seconds=2)
        assert read(backend, 7, later, visitor="x", repeat_seconds=1) is Outcome.COUNTED
        backend.flush()
        assert backend.totals(since=NOW - H, until=NOW + H, limit=5) == [(7, 2)]

    def test_a_repeat_seen_by_another_process_is_still_counted_once(self, backend):
        from masthead.trending.backends import get_backend

        assert read(backend, 7, NOW, visitor="x") is Outcome.COUNTED
        backend.flush()
        other = type(backend)(backend.options)  # another gunicorn worker, same store
        other.record_read(page_id=7, visitor="x", client="c", at=NOW, repeat_seconds=1800)
        other.flush()
        assert get_backend().totals(since=NOW - H, until=NOW + H, limit=5) == [(7, 1)]

    def test_a_client_over_the_rate_limit_is_not_counted(self, backend, settings):
        settings.MASTHEAD_TRENDING_RATE_LIMIT = 3
        outcomes = [
            read(backend, page, NOW, visitor=f"v{page}", client="busy") for page in range(1, 6)
        ]
        assert outcomes == [Outcome.COUNTED] * 3 + [Outcome.LIMITED] * 2
        assert read(backend, 9, NOW, visitor="w", client="calm") is Outcome.COUNTED
        backend.flush()
        assert len(backend.hourly(since=NOW - H, until=NOW + H)) == 4

    def test_add_reads_adds_to_what_is_there(self, backend):
        backend.add_reads({(5, hour_of(NOW)): 10, (6, hour_of(NOW - H)): 2})
        backend.add_reads({(5, hour_of(NOW)): 5})
        backend.flush()
        assert backend.hourly(since=NOW - H, until=NOW + H) == {
            5: {hour_of(NOW): 15},
            6: {hour_of(NOW - H): 2},
        }

    def test_clear_forgets_everything(self, backend):
        play(backend)
        backend.clear()
        assert backend.hourly(since=NOW - 48 * H, until=NOW + H) == {}


# --- Database backend: batched writes ---------------------------------------------------


@pytest.fixture
def database(settings, db):
    settings.MASTHEAD_TRENDING = DATABASE
    return get_backend()


def test_database_reads_are_written_in_one_batch_not_one_update_per_read(database):
    with CaptureQueriesContext(connection) as queries:
        for i in range(200):
            database.add_reads({(i % 7 + 1, hour_of(NOW)): 1})
    assert len(queries) == 0
    with CaptureQueriesContext(connection) as queries:
        database.flush()
    writes = [q for q in queries if "INSERT" in q["sql"]]
    assert len(writes) == 1
    assert sum(ReadBucket.objects.values_list("count", flat=True)) == 200


def test_database_flushes_by_itself_when_the_batch_is_full(settings, db):
    settings.MASTHEAD_TRENDING = {**DATABASE, "OPTIONS": {"FLUSH_THREAD": False, "BATCH_SIZE": 10}}
    backend = get_backend()
    for _ in range(25):
        backend.add_reads({(1, hour_of(NOW)): 1})
    assert ReadBucket.objects.get().count == 20


def test_database_flushes_by_itself_when_the_oldest_read_has_waited(settings, db):
    settings.MASTHEAD_TRENDING = {
        **DATABASE,
        "OPTIONS": {"FLUSH_THREAD": False, "BATCH_SIZE": 1000, "FLUSH_SECONDS": 0.1},
    }
    backend = get_backend()
    backend.add_reads({(1, hour_of(NOW)): 1})
    time.sleep(0.15)
    backend.add_reads({(1, hour_of(NOW)): 1})
    assert ReadBucket.objects.get().count == 2


def test_a_failed_database_write_loses_that_batch_only(database, monkeypatch):
    database.add_reads({(1, hour_of(NOW)): 3})

    def broken_cursor():
        raise DatabaseError("disk full")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    database.flush()  # logged, not raised
    monkeypatch.undo()
    database.add_reads({(1, hour_of(NOW)): 2})
    database.flush()
    assert ReadBucket.objects.get().count == 2


# --- Redis backend: down means dropped, not broken --------------------------------------


def test_redis_down_drops_reads_and_reports_the_store_unavailable(settings):
    settings.MASTHEAD_TRENDING = {
        "BACKEND": "masthead.trending.backends.redis.RedisBackend",
        "OPTIONS": {"LOCATION": "redis://127.0.0.1:1/0"},
    }
    backend = get_backend()
    started = time.perf_counter()
    assert read(backend, 1, NOW) is Outcome.DROPPED
    assert read(backend, 1, NOW) is Outcome.DROPPED  # skipped without trying again
    backend.add_reads({(1, hour_of(NOW)): 1})
    assert time.perf_counter() - started < 1.0
    with pytest.raises(CounterStoreUnavailable):
        backend.hourly(since=NOW - H, until=NOW)


def test_a_backend_path_that_cannot_be_imported_is_named_in_the_error(settings):
    settings.MASTHEAD_TRENDING = {"BACKEND": "masthead.trending.backends.nope.Backend"}
    with pytest.raises(
        InvalidTrendingBackendError, match="masthead.trending.backends.nope.Backend"
    ):
        get_backend()


def test_the_redis_backend_needs_a_location(settings):
    settings.MASTHEAD_TRENDING = {"BACKEND": "masthead.trending.backends.redis.RedisBackend"}
    with pytest.raises(InvalidTrendingBackendError, match="LOCATION"):
        get_backend()
