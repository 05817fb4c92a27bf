"""Read counters, pluggable the Django way (STYLE.md convention 7).

``MASTHEAD_TRENDING = {"BACKEND": "<dotted path>", "OPTIONS": {...}}`` names a
subclass of :class:`BaseTrendingBackend`; :func:`get_backend` imports it once
per process and configuration.
"""

import datetime as dt
import enum
from collections.abc import Iterable, Mapping

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from masthead.core import conf

# Rate limits count beacons per client per clock minute.
RATE_WINDOW_SECONDS = 60


class InvalidTrendingBackendError(ImproperlyConfigured):
    pass


class CounterStoreUnavailable(Exception):
    """The counter store cannot be read right now (Redis down)."""


class Outcome(enum.StrEnum):
    COUNTED = "counted"
    REPEAT = "repeat"  # the visitor read this article within the repeat window
    LIMITED = "limited"  # the client sent more beacons than the rate limit
    DROPPED = "dropped"  # the counter store is down; this read is lost


def hour_of(moment: dt.datetime) -> dt.datetime:
    """Return the start of ``moment``'s clock hour in UTC (naive input is taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def hours_between(since: dt.datetime, until: dt.datetime) -> list[dt.datetime]:
    """Return the starts of the clock hours from ``since``'s up to, not including, ``until``."""
    hours, hour = [], hour_of(since)
    while hour < until:
        hours.append(hour)
        hour += dt.timedelta(hours=1)
    return hours


class BaseTrendingBackend:
    """Counts reads per page per clock hour and reads them back.

    Subclasses implement ``add_reads`` and ``hourly``; the rate limit and the
    repeat-visitor check default to Django's cache, shared by all processes.
    """

    # Reads are buffered and written in batches: call flush() before reading them back.
    supports_batching = False
    # Counts older than the backend's retention disappear on their own.
    supports_expiry = False

    def __init__(self, options: Mapping):
        self.options = dict(options)

    def record_read(
        self, *, page_id: int, visitor: str, client: str, at: dt.datetime, repeat_seconds: int
    ) -> Outcome:
        """Count one read of ``page_id`` unless ``client`` is over the rate limit or
        ``visitor`` already read it within ``repeat_seconds``; return what happened.
        """
        minute = int(at.timestamp()) // RATE_WINDOW_SECONDS
        rate_key = f"trending:rate:{client}:{minute}"
        cache.add(rate_key, 0, RATE_WINDOW_SECONDS * 2)
        try:
            sent = cache.incr(rate_key)
        except ValueError:  # evicted between add and incr
            sent = 1
        if sent > conf.get("MASTHEAD_TRENDING_RATE_LIMIT"):
            return Outcome.LIMITED
        if not cache.add(f"trending:seen:{visitor}:{page_id}", 1, repeat_seconds):
            return Outcome.REPEAT
        self.add_reads({(page_id, hour_of(at)): 1})
        return Outcome.COUNTED

    def add_reads(self, counts: Mapping[tuple[int, dt.datetime], int]) -> None:
        """Add ``counts`` ({(page_id, hour start): reads}) to the store."""
        raise NotImplementedError

    def flush(self) -> None:
        """Write buffered reads now; backends that write at once do nothing."""

    def hourly(
        self,
        *,
        since: dt.datetime,
        until: dt.datetime,
        page_ids: Iterable[int] | None = None,
    ) -> dict[int, dict[dt.datetime, int]]:
        """Return {page_id: {hour start: reads}} for the hours from ``since``'s to ``until``.

        Raises CounterStoreUnavailable when the store cannot be read.
        """
        raise NotImplementedError

    def totals(
        self, *, since: dt.datetime, until: dt.datetime, limit: int
    ) -> list[tuple[int, int]]:
        """Return up to ``limit`` (page_id, reads) pairs over the hours, most read first."""
        sums = {
            page: sum(hours.values())
            for page, hours in self.hourly(since=since, until=until).items()
        }
        return sorted(sums.items(), key=lambda item: (-item[1], -item[0]))[:limit]

    def hourly_totals(self, *, since: dt.datetime, until: dt.datetime) -> dict[dt.datetime, int]:
        """Return {hour start: reads of all pages} for the hours from ``since``'s to ``until``."""
        result: dict[dt.datetime, int] = {}
        for hours in self.hourly(since=since, until=until).values():
            for hour, count in hours.items():
                result[hour] = result.get(hour, 0) + count
        return result

    def clear(self) -> None:
        """Forget every count (tests and benchmarks)."""
        raise NotImplementedError


_backends: dict[str, BaseTrendingBackend] = {}


def get_backend() -> BaseTrendingBackend:
    """Return the configured backend, created once per process and configuration.

    Raises InvalidTrendingBackendError naming the path when it cannot be imported.
    """
    setting = conf.get("MASTHEAD_TRENDING")
    memo_key = repr(sorted((k, repr(v)) for k, v in setting.items()))
    backend = _backends.get(memo_key)
    if backend is None:
        path = setting.get("BACKEND", "")
        try:
            backend_class = import_string(path)
        except ImportError as exc:
            raise InvalidTrendingBackendError(
                f"MASTHEAD_TRENDING names {path!r}, which cannot be imported: {exc}"
            ) from exc
        backend = _backends[memo_key] = backend_class(setting.get("OPTIONS", {}))
    return backend
