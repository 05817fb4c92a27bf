"""Hourly bucket rows in the site's database, written in batches.

Reads are kept in the process and written when ``BATCH_SIZE`` are waiting or
the oldest has waited ``FLUSH_SECONDS`` (a timer flushes an idle process too,
and exit flushes what is left): one INSERT of the batch's visitor keys, which
the database answers with the keys it had not seen (``ReadSeen``: a visitor
counts once per page per repeat window, whichever process saw the read), and
one upsert of the hourly buckets. A spike costs two statements per batch, not
an UPDATE per read, and needs no shared cache. A failed write is logged and its
reads are lost; nothing else is.

Repeat windows are fixed (window = time // repeat seconds), not sliding as in
Redis; the rate limit is counted in each process (a client spread over N
workers gets N times the limit).
"""

import atexit
import datetime as dt
import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable, Mapping

from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Sum

from masthead.core import conf
from masthead.trending.backends import RATE_WINDOW_SECONDS, BaseTrendingBackend, Outcome, hour_of
from masthead.trending.models import ReadBucket, ReadSeen

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 500  # reads per write: a spike of 1,000 reads/s is two upserts a second
DEFAULT_FLUSH_SECONDS = 5.0  # the longest a read waits before the Most read page can see it
RETENTION = dt.timedelta(days=8)  # the Most read page looks back a week
PRUNE_EVERY_SECONDS = 3600
SEEN_CHUNK = 400  # visitor keys per INSERT … RETURNING (two parameters each; SQLite allows 32,766)
RECENT_KEYS = 200_000  # visitor keys remembered in the process to answer REPEAT at once


class DatabaseBackend(BaseTrendingBackend):
    supports_batching = True

    def __init__(self, options: Mapping):
        super().__init__(options)
        self.batch_size = int(self.options.get("BATCH_SIZE", DEFAULT_BATCH_SIZE))
        self.flush_seconds = float(self.options.get("FLUSH_SECONDS", DEFAULT_FLUSH_SECONDS))
        self.flush_thread = bool(self.options.get("FLUSH_THREAD", True))
        self._pending: Counter = Counter()
        self._reads: dict[str, tuple[int, dt.datetime, dt.datetime]] = {}
        self._recent: dict[str, float] = {}
        self._rates: Counter = Counter()
        self._rate_minute = 0
        self._oldest: float | None = None
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._pruned_at = 0.0
        atexit.register(self.flush)

    def record_read(
        self, *, page_id: int, visitor: str, client: str, at: dt.datetime, repeat_seconds: int
    ) -> Outcome:
        minute = int(at.timestamp()) // RATE_WINDOW_SECONDS
        window = int(at.timestamp()) // max(1, repeat_seconds)
        key = hashlib.blake2b(f"{visitor}:{page_id}:{window}".encode(), digest_size=16).hexdigest()
        expires = dt.datetime.fromtimestamp((window + 1) * max(1, repeat_seconds), dt.UTC)
        with self._lock:
            if minute != self._rate_minute:
                self._rates, self._rate_minute = Counter(), minute
            self._rates[client] += 1
            if self._rates[client] > conf.get("MASTHEAD_TRENDING_RATE_LIMIT"):
                return Outcome.LIMITED
            if key in self._reads or key in self._recent:
                return Outcome.REPEAT
            self._reads[key] = (page_id, hour_of(at), expires)
        self._after_add()
        return Outcome.COUNTED

    def add_reads(self, counts: Mapping[tuple[int, dt.datetime], int]) -> None:
        with self._lock:
            self._pending.update(counts)
        self._after_add()

    def _after_add(self) -> None:
        with self._lock:
            now = time.monotonic()
            if self._oldest is None:
                self._oldest = now
                self._start_timer()
            due = (
                len(self._reads) + sum(self._pending.values()) >= self.batch_size
                or now - self._oldest >= self.flush_seconds
            )
        if due:
            self.flush()

    def _start_timer(self) -> None:
        if self.flush_thread and self._timer is None:
            self._timer = threading.Timer(self.flush_seconds, self._flush_from_timer)
            self._timer.daemon = True
            self._timer.start()

    def _flush_from_timer(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self.flush()
        finally:
            connections.close_all()  # this thread's own connections

    def flush(self) -> None:
        with self._lock:
            batch, self._pending, self._oldest = self._pending, Counter(), None
            reads, self._reads = self._reads, {}
            self._remember(reads)
        if not batch and not reads:
            return
        try:
            with transaction.atomic():
                for key in self._first_sightings(reads):
                    page_id, hour, _ = reads[key]
                    batch[(page_id, hour)] += 1
                self._add_to_buckets(batch)
        except DatabaseError:
            logger.warning(
                "Lost %d reads: the counter tables could not be written",
                len(reads) + sum(batch.values()),
                exc_info=True,
            )
            return
        self._prune()

    def _remember(self, reads: dict) -> None:
        """Keep the batch's keys in the process until their window ends (to answer REPEAT)."""
        clock = time.time()
        if len(self._recent) + len(reads) > RECENT_KEYS:
            self._recent = {k: t for k, t in self._recent.items() if t > clock}
            if len(self._recent) + len(reads) > RECENT_KEYS:
                self._recent.clear()  # the database still tells repeats apart
        for key, (_, _, expires) in reads.items():
            self._recent[key] = expires.timestamp()

    def _first_sightings(self, reads: dict) -> list[str]:
        """Store the visitor keys; return those the database had not seen before."""
        table = connection.ops.quote_name(ReadSeen._meta.db_table)
        adapt = connection.ops.adapt_datetimefield_value
        keys = list(reads)
        fresh = []
        with connection.cursor() as cursor:
            for start in range(0, len(keys), SEEN_CHUNK):
                chunk = keys[start : start + SEEN_CHUNK]
                values = ", ".join(["(%s, %s)"] * len(chunk))
                params = [p for key in chunk for p in (key, adapt(reads[key][2]))]
                cursor.execute(
                    f"INSERT INTO {table} ({connection.ops.quote_name('key')}, expires) "
                    f"VALUES {values} ON CONFLICT DO NOTHING RETURNING {connection.ops.quote_name('key')}",
                    params,
                )
                fresh.extend(row[0] for row in cursor.fetchall())
        return fresh

    def _add_to_buckets(self, batch: Counter) -> None:
        if not batch:
            return
        table = connection.ops.quote_name(ReadBucket._meta.db_table)
        adapt = connection.ops.adapt_datetimefield_value
        # One statement for the whole batch; PostgreSQL and SQLite (3.24+) both upsert this way.
        sql = (
            f"INSERT INTO {table} (page_id, hour, count) VALUES (%s, %s, %s) "
            f"ON CONFLICT (page_id, hour) DO UPDATE SET count = {table}.count + excluded.count"
        )
        rows = [(page_id, adapt(hour), n) for (page_id, hour), n in sorted(batch.items())]
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    def _prune(self) -> None:
        now = time.monotonic()
        if now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        cutoff = dt.datetime.now(dt.UTC) - RETENTION
        try:
            ReadBucket.objects.filter(hour__lt=cutoff).delete()
            ReadSeen.objects.filter(expires__lt=dt.datetime.now(dt.UTC)).delete()
        except DatabaseError:
            logger.warning("Could not prune old read counts", exc_info=True)

    def hourly(
        self,
        *,
        since: dt.datetime,
        until: dt.datetime,
        page_ids: Iterable[int] | None = None,
    ) -> dict[int, dict[dt.datetime, int]]:
        rows = ReadBucket.objects.filter(hour__gte=_floor(since), hour__lt=until)
        if page_ids is not None:
            rows = rows.filter(page_id__in=list(page_ids))
        result: dict[int, dict[dt.datetime, int]] = {}
        for page_id, hour, count in rows.values_list("page_id", "hour", "count").iterator():
            result.setdefault(page_id, {})[hour.astimezone(dt.UTC)] = count
        return result

    def totals(
        self, *, since: dt.datetime, until: dt.datetime, limit: int
    ) -> list[tuple[int, int]]:
        return list(
            ReadBucket.objects.filter(hour__gte=_floor(since), hour__lt=until)
            .values("page_id")
            .annotate(total=Sum("count"))
            .order_by("-total", "-page_id")
            .values_list("page_id", "total")[:limit]
        )

    def hourly_totals(self, *, since: dt.datetime, until: dt.datetime) -> dict[dt.datetime, int]:
        rows = (
            ReadBucket.objects.filter(hour__gte=_floor(since), hour__lt=until)
            .values("hour")
            .annotate(total=Sum("count"))
            .values_list("hour", "total")
        )
        return {hour.astimezone(dt.UTC): total for hour, total in rows}

    def discard_buffered(self) -> None:
        """Forget the reads held in this process and not yet written (tests: nothing to flush at exit)."""
        with self._lock:
            self._pending, self._reads, self._recent, self._oldest = Counter(), {}, {}, None
            self._rates = Counter()

    def clear(self) -> None:
        self.discard_buffered()
        ReadBucket.objects.all().delete()
        ReadSeen.objects.all().delete()


def _floor(moment: dt.datetime) -> dt.datetime:
    return hour_of(moment)
