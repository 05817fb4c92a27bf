"""Full-page cache for anonymous readers, keyed by the site's content version.

A reader's GET is answered from Django's default cache when the same URL was
rendered under the current content version; publishing, unpublishing, moving
or deleting any page starts a new version (see ``signal_handlers``), so every
page that shows a story (the article, the front, its section, tags, authors,
feeds) is rendered afresh on its next request. Anyone with a session (the
newsroom) and every preview bypasses the cache. Cached responses carry
``Cache-Control`` for a CDN, an ``ETag`` and a ``Last-Modified``, and
conditional requests get 304. If the cache itself fails, pages are rendered as
if it were empty.
"""

import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from masthead.core import conf
from masthead.pagecache.selectors import content_version_get

logger = logging.getLogger(__name__)

STATUS_HEADER = "X-Masthead-Cache"
# Bodies larger than this are served but not kept: a page is tens of KB.
MAX_BODY_BYTES = 2 * 1024 * 1024
# Headers that belong to one response only and are never replayed from the cache.
UNSTORED_HEADERS = {"set-cookie", "date", "age", STATUS_HEADER.lower()}
# Vary values the key already accounts for: every cached reader has no cookie,
# and bodies are stored uncompressed.
HARMLESS_VARY = {"cookie", "accept-encoding"}
# A view that says any of these wants no shared copy.
PRIVATE_DIRECTIVES = ("private", "no-store", "no-cache")
ALWAYS_EXCLUDED_PREFIXES = ("/-/", "/documents/")


def _excluded_prefixes() -> tuple[str, ...]:
    prefixes = [*ALWAYS_EXCLUDED_PREFIXES, settings.STATIC_URL, settings.MEDIA_URL]
    try:
        prefixes.append(reverse("wagtailadmin_home"))
    except NoReverseMatch:
        pass
    return tuple(p if p.startswith("/") else f"/{p}" for p in prefixes if p)


def cache_key(request, version: int) -> str:
    """Return the cache key of ``request``'s URL (scheme, host, path, query) under ``version``."""
    url = f"{request.scheme}://{request.get_host()}{request.get_full_path()}"
    return f"pagecache:{version}:{hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()}"


class PageCacheMiddleware:
    """Serve anonymous GETs from the cache; store what they render; answer conditional requests."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._excluded = None

    def __call__(self, request):
        if not self._may_serve_from_cache(request):
            response = self.get_response(request)
            if settings.SESSION_COOKIE_NAME in request.COOKIES and request.method in (
                "GET",
                "HEAD",
            ):
                # Pages a signed-in editor sees may carry the userbar: never a shared copy.
                patch_cache_control(response, private=True)
                response[STATUS_HEADER] = "bypass"
            return response

        try:
            version = content_version_get()
            key = cache_key(request, version)
            entry = cache.get(key)
        except Exception:
            logger.warning("Page cache unavailable; rendering afresh", exc_info=True)
            response = self.get_response(request)
            response[STATUS_HEADER] = "error"
            return response

        if entry is not None:
            return self._replay(request, entry)

        response = self.get_response(request)
        if not self._may_store(request, response):
            return response
        entry = {
            "status": response.status_code,
            "headers": [
                (k, v) for k, v in response.headers.items() if k.lower() not in UNSTORED_HEADERS
            ],
            "body": response.content,
            "etag": f'"{hashlib.md5(response.content, usedforsecurity=False).hexdigest()}"',
            # The version is the time of the last public change, which is when this page last could have changed.
            "last_modified": version // 1_000_000_000,
            "stored": time.time(),
        }
        self._add_http_caching(response, entry)
        response[STATUS_HEADER] = "miss"
        if request.method == "GET":
            try:
                cache.set(key, entry, timeout=conf.get("MASTHEAD_PAGE_CACHE_TIMEOUT"))
            except Exception:
                logger.warning("Could not store a page in the cache", exc_info=True)
        return get_conditional_response(
            request, etag=entry["etag"], last_modified=entry["last_modified"], response=response
        )

    def _may_serve_from_cache(self, request) -> bool:
        """Return True for an anonymous reader's GET or HEAD of a public URL with allowed parameters."""
        if request.method not in ("GET", "HEAD") or not conf.get("MASTHEAD_PAGE_CACHE"):
            return False
        if settings.SESSION_COOKIE_NAME in request.COOKIES or "HTTP_AUTHORIZATION" in request.META:
            return False
        if self._excluded is None:
            self._excluded = _excluded_prefixes()
        if request.path_info.startswith(self._excluded):
            return False
        allowed = conf.get("MASTHEAD_PAGE_CACHE_QUERY_PARAMS")
        return all(name in allowed for name in request.GET)

    def _may_store(self, request, response) -> bool:
        """Return True when ``response`` is the same for every anonymous reader of this URL."""
        if response.status_code != 200 or response.streaming or response.cookies:
            return False
        if getattr(request, "is_preview", False) or response.has_header("Content-Encoding"):
            return False
        cache_control = response.get("Cache-Control", "").lower()
        if any(directive in cache_control for directive in PRIVATE_DIRECTIVES):
            return False
        vary = {v.strip().lower() for v in response.get("Vary", "").split(",") if v.strip()}
        return vary <= HARMLESS_VARY and len(response.content) <= MAX_BODY_BYTES

    def _replay(self, request, entry: dict) -> HttpResponse:
        """Return the stored response, or 304 when the reader's copy is current."""
        body = b"" if request.method == "HEAD" else entry["body"]
        response = HttpResponse(body, status=entry["status"])
        for name, value in entry["headers"]:
            response[name] = value
        if request.method == "HEAD":
            response["Content-Length"] = str(len(entry["body"]))
        self._add_http_caching(response, entry)
        response["Age"] = str(max(0, int(time.time() - entry["stored"])))
        response[STATUS_HEADER] = "hit"
        return get_conditional_response(
            request, etag=entry["etag"], last_modified=entry["last_modified"], response=response
        )

    @staticmethod
    def _add_http_caching(response, entry: dict) -> None:
        response["ETag"] = entry["etag"]
        response["Last-Modified"] = http_date(entry["last_modified"])
        response["Cache-Control"] = (
            f"public, max-age={conf.get('MASTHEAD_PAGE_CACHE_MAX_AGE')}, "
            f"s-maxage={conf.get('MASTHEAD_PAGE_CACHE_S_MAXAGE')}, "
            f"stale-while-revalidate={conf.get('MASTHEAD_PAGE_CACHE_STALE_WHILE_REVALIDATE')}"
        )
