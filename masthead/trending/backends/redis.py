"""Hourly hash counters in Redis: one hash per clock hour, page id → reads.

A read costs one round trip: a Lua script checks the client's rate, marks the
visitor as seen (SET NX EX) and increments the hour's hash, atomically. Hashes
expire after ``RETENTION``. When Redis is down a read is dropped (and logged),
calls skip Redis for ``RETRY_SECONDS``, and reads raise CounterStoreUnavailable.
"""

import datetime as dt
import logging
import time
from collections.abc import Iterable, Mapping

from masthead.core import conf
from masthead.trending.backends import (
    RATE_WINDOW_SECONDS,
    BaseTrendingBackend,
    CounterStoreUnavailable,
    Outcome,
    hour_of,
    hours_between,
)

logger = logging.getLogger(__name__)

RETENTION = dt.timedelta(days=8)  # the Most read page looks back a week
RETRY_SECONDS = 5.0  # after a failure, skip Redis this long instead of waiting on timeouts
SOCKET_TIMEOUTS = {"socket_connect_timeout": 0.25, "socket_timeout": 0.5}

# KEYS: rate key, seen key, hour hash. ARGV: rate limit, repeat seconds, page id,
# hash ttl, rate ttl. Returns 0 counted, 1 repeat, 2 limited.
RECORD_SCRIPT = """
local sent = redis.call('INCR', KEYS[1])
if sent == 1 then redis.call('EXPIRE', KEYS[1], ARGV[5]) end
if sent > tonumber(ARGV[1]) then return 2 end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then return 1 end
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
redis.call('EXPIRE', KEYS[3], ARGV[4])
return 0
"""
OUTCOMES = {0: Outcome.COUNTED, 1: Outcome.REPEAT, 2: Outcome.LIMITED}


class RedisBackend(BaseTrendingBackend):
    supports_expiry = True

    def __init__(self, options: Mapping):
        super().__init__(options)
        location = self.options.get("LOCATION")
        if not location:
            from masthead.trending.backends import InvalidTrendingBackendError

            raise InvalidTrendingBackendError(
                "MASTHEAD_TRENDING's RedisBackend needs OPTIONS['LOCATION'], a Redis URL."
            )
        self.location = location
        self.prefix = self.options.get("KEY_PREFIX", "masthead:trending")
        self._client = None
        self._script = None
        self._down_until = 0.0

    @property
    def client(self):
        """Return the Redis client, created on first use (never at import time)."""
        if self._client is None:
            import redis

            self._client = redis.Redis.from_url(self.location, **SOCKET_TIMEOUTS)
            self._script = self._client.register_script(RECORD_SCRIPT)
        return self._client

    def _hour_key(self, hour: dt.datetime) -> str:
        return f"{self.prefix}:h:{hour:%Y%m%d%H}"

    def _failed(self, exc: Exception) -> None:
        self._down_until = time.monotonic() + RETRY_SECONDS
        logger.warning("Trending counter store (Redis) unavailable for %ss: %s", RETRY_SECONDS, exc)

    def _available(self) -> bool:
        return time.monotonic() >= self._down_until

    def record_read(
        self, *, page_id: int, visitor: str, client: str, at: dt.datetime, repeat_seconds: int
    ) -> Outcome:
        from redis.exceptions import RedisError

        if not self._available():
            return Outcome.DROPPED
        minute = int(at.timestamp()) // RATE_WINDOW_SECONDS
        keys = [
            f"{self.prefix}:rate:{client}:{minute}",
            f"{self.prefix}:seen:{visitor}:{page_id}",
            self._hour_key(hour_of(at)),
        ]
        args = [
            conf.get("MASTHEAD_TRENDING_RATE_LIMIT"),
            repeat_seconds,
            page_id,
            int(RETENTION.total_seconds()),
            RATE_WINDOW_SECONDS * 2,
        ]
        try:
            self.client  # noqa: B018  (creates the client and script)
            return OUTCOMES[int(self._script(keys=keys, args=args))]
        except (RedisError, OSError) as exc:
            self._failed(exc)
            return Outcome.DROPPED

    def add_reads(self, counts: Mapping[tuple[int, dt.datetime], int]) -> None:
        from redis.exceptions import RedisError

        if not self._available():
            return
        ttl = int(RETENTION.total_seconds())
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for (page_id, hour), n in counts.items():
                    key = self._hour_key(hour_of(hour))
                    pipe.hincrby(key, page_id, n)
                    pipe.expire(key, ttl)
                pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)

    def hourly(
        self,
        *,
        since: dt.datetime,
        until: dt.datetime,
        page_ids: Iterable[int] | None = None,
    ) -> dict[int, dict[dt.datetime, int]]:
        from redis.exceptions import RedisError

        if not self._available():
            raise CounterStoreUnavailable("Redis was unavailable a moment ago")
        hours = hours_between(since, until)
        wanted = None if page_ids is None else [str(p) for p in page_ids]
        if wanted == []:
            return {}
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for hour in hours:
                    if wanted is None:
                        pipe.hgetall(self._hour_key(hour))
                    else:
                        pipe.hmget(self._hour_key(hour), wanted)
                replies = pipe.execute()
        except (RedisError, OSError) as exc:
            self._failed(exc)
            raise CounterStoreUnavailable(str(exc)) from exc
        result: dict[int, dict[dt.datetime, int]] = {}
        for hour, reply in zip(hours, replies, strict=True):
            pairs = reply.items() if wanted is None else zip(wanted, reply or [], strict=False)
            for page, count in pairs:
                if count is not None and int(count):
                    result.setdefault(int(page), {})[hour] = int(count)
        return result

    def clear(self) -> None:
        keys = list(self.client.scan_iter(match=f"{self.prefix}:*", count=1000))
        if keys:
            self.client.delete(*keys)
