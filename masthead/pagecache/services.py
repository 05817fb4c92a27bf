"""Writes of the page cache: make every cached page stale, and purge a CDN where one is set up."""

import logging
import time

from django.conf import settings
from django.core.cache import cache

from masthead.pagecache.selectors import VERSION_KEY

logger = logging.getLogger(__name__)


def content_version_bump() -> int:
    """Start a new content version and return it; every page cached before is stale from now.

    Pages are keyed by the version, so nothing is deleted: stale entries are never
    read again and expire on their own. A cache that is down is logged and skipped.
    """
    version = time.time_ns()
    try:
        cache.set(VERSION_KEY, version, timeout=None)
    except Exception:
        logger.warning("Could not bump the page cache version", exc_info=True)
    return version


def frontend_cache_purge(*, page_ids: list[int], urls: list[str] = ()) -> list[str]:
    """Purge the pages, their ancestors (front, section) and ``urls`` from the CDN; return the URLs.

    Does nothing (and returns []) unless ``WAGTAILFRONTENDCACHE`` is configured.
    Other pages that list a story (tags, authors, feeds) follow within
    ``s-maxage``; the server's own cache is already fresh. Deleted pages are skipped.
    """
    if not getattr(settings, "WAGTAILFRONTENDCACHE", None):
        return []
    from wagtail.contrib.frontend_cache.utils import PurgeBatch
    from wagtail.models import Page

    batch = PurgeBatch()
    pages = list(Page.objects.filter(pk__in=page_ids).specific())
    batch.add_pages(pages)
    ancestor_paths = {
        p.path[:i] for p in pages for i in range(2 * p.steplen, len(p.path), p.steplen)
    }
    batch.add_pages(Page.objects.filter(path__in=ancestor_paths).live().specific())
    batch.add_urls(urls)
    batch.purge()
    return sorted(batch.urls)
