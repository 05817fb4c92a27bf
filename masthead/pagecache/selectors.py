"""Reads of the page cache: the site's content version, which every cached page's key includes."""

import time

from django.core.cache import cache

VERSION_KEY = "pagecache:version"


def content_version_get() -> int:
    """Return the site's content version: the time (ns) of the last public change.

    A missing version (empty or evicted cache) starts at the current time, never
    at a fixed number, so pages stored under an older version are never served
    again. Errors of the cache propagate; the middleware then renders afresh.
    """
    version = cache.get(VERSION_KEY)
    if version is None:
        version = time.time_ns()
        if not cache.add(VERSION_KEY, version, timeout=None):
            version = cache.get(VERSION_KEY) or version
    return version
