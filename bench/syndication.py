"""Sitemap and feed speed: Masthead's against Wagtail's and Django's plain ones, same database.

Imports N Reuters-21578 stories into a fresh SQLite database, then times (median
of --runs) and counts the queries of:

- the article sitemap (``/sitemap-articles.xml``: lastmod, picture entries)
  against ``wagtail.contrib.sitemaps``' default sitemap of the same site;
- the site RSS feed (``/feed/``: full sanitized text, bylines, categories,
  enclosure) against a bare ``django.contrib.syndication`` feed of the same 30
  articles with titles and links only.

    .venv/bin/python bench/syndication.py [--count 2000] [--runs 5]
"""

import argparse
import gzip
import itertools
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, setup_django

DATA = (
    Path(os.environ.get("MASTHEAD_SHARED_DIR", ROOT.parent / "shared"))
    / "data"
    / "reuters21578"
    / "articles.jsonl.gz"
)


def timed(call, runs: int) -> tuple[float, int]:
    """Return (median milliseconds, queries of the last run) of ``call()``."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = call()
            if hasattr(response, "render"):
                response.render()
            times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    return statistics.median(times), len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} is missing")
    var = tempfile.mkdtemp(prefix="masthead-bench-")
    setup_django(var)
    from django.contrib.syndication.views import Feed
    from django.test import RequestFactory
    from django.test.utils import setup_test_environment
    from wagtail.contrib.sitemaps import views as wagtail_sitemap_views

    from masthead.ingest.importers.jsonl import JsonLinesImporter
    from masthead.ingest.services import import_articles
    from masthead.news import feeds
    from masthead.news import sitemaps as news_sitemaps
    from masthead.news.models import ArticlePage, HomePage

    setup_test_environment()
    subset = Path(var) / "subset.jsonl"
    with gzip.open(DATA, "rt") as src, subset.open("w") as out:
        rows = [
            line for line in itertools.islice(src, args.count * 2) if '"title": null' not in line
        ]
        out.writelines(rows[: args.count])
    import_articles([(subset, JsonLinesImporter())], default_section="Business")
    count = ArticlePage.objects.live().count()

    factory = RequestFactory()

    class BareFeed(Feed):
        title = "Bare"
        link = "/"
        description = "Titles and links only"

        def items(self):
            return ArticlePage.objects.live().order_by("-first_published_at")[:30]

        def item_link(self, item):
            return item.url

    # Views are called directly: a page cache in front would time itself, not the views.
    home = HomePage.objects.get()
    sitemap, sitemap_q = timed(
        lambda: news_sitemaps.sitemap(factory.get("/sitemap-articles.xml"), section="articles"),
        args.runs,
    )
    wagtail_sitemap, wagtail_q = timed(
        lambda: wagtail_sitemap_views.sitemap(factory.get("/sitemap.xml")), args.runs
    )
    feed, feed_q = timed(lambda: feeds.site_feed(factory.get("/feed/"), home), args.runs)
    bare, bare_q = timed(lambda: BareFeed()(factory.get("/bare/")), args.runs)

    print(f"articles: {count}, runs: {args.runs} (median)")
    print(f"article sitemap (masthead):  {sitemap:8.1f} ms  {sitemap_q:4d} queries")
    print(f"wagtail default sitemap:     {wagtail_sitemap:8.1f} ms  {wagtail_q:4d} queries")
    print(f"ratio sitemap: {sitemap / wagtail_sitemap:.2f}x the baseline's time")
    print(f"site feed, 30 full items:    {feed:8.1f} ms  {feed_q:4d} queries")
    print(f"bare django feed, 30 items:  {bare:8.1f} ms  {bare_q:4d} queries")
    print(f"ratio feed: {feed / bare:.2f}x the baseline's time")


if __name__ == "__main__":
    main()
