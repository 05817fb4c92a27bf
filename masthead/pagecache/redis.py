"""Django's Redis cache, made to degrade: when Redis is down the site serves, uncached.

Wagtail and Masthead read the default cache on every request (site root paths,
the page cache, trending). With Django's ``RedisCache`` a stopped Redis turns
each of those reads into a 500; here a failed call is logged, answers as a miss
(``get`` returns the default, ``add``/``set`` report nothing stored) and Redis
is left alone for ``RETRY_SECONDS`` so a dead server costs no timeouts per request.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)

# After a failure, calls skip Redis for this long before trying it again.
RETRY_SECONDS = 5.0
# Short socket timeouts: a cache that answers slowly is worse than none.
DEFAULT_OPTIONS = {"socket_connect_timeout": 0.25, "socket_timeout": 0.5}


class ResilientRedisCache(RedisCache):
    """A ``RedisCache`` whose connection errors become cache misses for a few seconds."""

    def __init__(self, server, params):
        params = {**params, "OPTIONS": {**DEFAULT_OPTIONS, **params.get("OPTIONS", {})}}
        super().__init__(server, params)
        self._down_until = 0.0

    def _call(self, method: str, fallback, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return fallback
        try:
            return getattr(super(), method)(*args, **kwargs)
        except ValueError:
            raise  # incr/decr of a missing key: the caller's business, as in Django.
        except Exception as exc:
            from redis.exceptions import RedisError

            if not isinstance(exc, RedisError | OSError):
                raise
            self._down_until = time.monotonic() + RETRY_SECONDS
            logger.warning("Redis cache unavailable for %ss: %s", RETRY_SECONDS, exc)
            return fallback

    @property
    def is_down(self) -> bool:
        """Return True while calls are being skipped after a failure."""
        return time.monotonic() < self._down_until

    def get(self, key, default=None, version=None):
        return self._call("get", default, key, default, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", {}, keys, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", False, key, value, timeout, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", None, key, value, timeout, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", list(data), data, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", False, key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", False, key, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", None, keys, version)

    def has_key(self, key, version=None):
        return self._call("has_key", False, key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", delta, key, delta, version)

    def clear(self):
        return self._call("clear", False)
