"""Settings of the full-page cache (issue 6); read them with ``core.conf.get`` inside functions."""

from masthead.core.conf import declare

declare(
    "MASTHEAD_PAGE_CACHE",
    True,
    "Keep rendered pages for anonymous readers in Django's default cache (False turns it off).",
)
declare(
    "MASTHEAD_PAGE_CACHE_TIMEOUT",
    300,
    "Seconds a rendered page stays in the server's cache; publishing makes it stale at once anyway.",
)
declare(
    "MASTHEAD_PAGE_CACHE_MAX_AGE",
    60,
    "Cache-Control max-age (seconds) browsers may reuse a page without asking again.",
)
declare(
    "MASTHEAD_PAGE_CACHE_S_MAXAGE",
    300,
    "Cache-Control s-maxage (seconds) a CDN or shared proxy may keep a page.",
)
declare(
    "MASTHEAD_PAGE_CACHE_STALE_WHILE_REVALIDATE",
    60,
    "Cache-Control stale-while-revalidate (seconds) a CDN may serve a stale page while refetching.",
)
declare(
    "MASTHEAD_PAGE_CACHE_QUERY_PARAMS",
    ["page"],
    "Query parameters a cached page may carry (?page=2); a request with any other is rendered afresh.",
)
