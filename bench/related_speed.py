"""Related news speed at 100,000 articles: publish-time update, full rebuild, article page queries.

Builds a fresh database of N synthetic articles (default 100,000) made from
Reuters-21578 stories, then measures, in one run:

- full rebuild (`masthead related rebuild`): articles/s; same-run baseline: the
  same backend computing pages one at a time through its per-page query
  (``suggest``), on a sample;
- publish-time update: ``related_page_update`` for newly published articles
  (their own list plus entering existing lists), edits and unpublishes: p50/p95 ms;
- the article page: queries with related news against the same page with the
  related selector stubbed out (the issue allows one more), and the time of
  the related read against the foundation's per-view tags/section query.

The database is filled by a BENCH-ONLY bulk loader (``bulk_load`` below): it
writes page rows, bylines and tags directly, with no revisions, audit log,
search index or signals, because the normal importer (~40 articles/s) would
take most of an hour. Never use it for a real site.

    .venv/bin/python bench/related_speed.py [--articles 100000] [--database-url postgres://…]
"""

import argparse
import gzip
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "reuters21578" / "articles.jsonl.gz"
SECTIONS = ["Business", "Markets", "World", "Energy", "Farming", "Money", "Companies", "Economy"]
AUTHORS = 40  # bylines spread over a newsroom of this size
TAGS_PER_ARTICLE = 2
PUBLISH_SAMPLE = 200  # newly published articles timed
EDIT_SAMPLE = 100
UNPUBLISH_SAMPLE = 50
BASELINE_SAMPLE = 300  # pages the per-page baseline computes
SPAN_DAYS = 3 * 365  # articles are spread over three years


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite).")
    parser.add_argument("--var", default="", help="Put the database here (default: a temp dir).")
    return parser.parse_args()


def setup(args) -> None:
    var = args.var or tempfile.mkdtemp(prefix="masthead-related-speed-")
    print(f"var dir: {var}")
    os.environ.update(
        {
            "MASTHEAD_VAR_DIR": var,
            "SECRET_KEY": "bench",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "ALLOWED_HOSTS": "testserver,localhost",
            # Static files from the finders: the bench renders pages without collectstatic.
            "DEBUG": "1",
        }
    )
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def stories() -> list[dict]:
    rows = []
    with gzip.open(DATA, "rt") as fh:
        for line in fh:
            row = json.loads(line)
            if row.get("title") and len(row.get("body") or "") > 200:
                rows.append(row)
    return rows


def synthetic(rows: list[dict], n: int, rng: random.Random):
    """Yield n (title, paragraphs, days_ago, tags) made by reshuffling Reuters stories."""
    for i in range(n):
        base = rows[i % len(rows)]
        other = rows[rng.randrange(len(rows))]
        paragraphs = [p for p in base["body"].split("\n\n") if p.strip()]
        rng.shuffle(paragraphs)
        extra = [p for p in other["body"].split("\n\n") if p.strip()][:1]
        title = base["title"].title()
        if i >= len(rows):
            title = f"{title} ({i // len(rows) + 1})"
        topics = (base.get("topics") or []) + (base.get("places") or [])
        tags = topics[:TAGS_PER_ARTICLE]
        yield title, paragraphs[:6] + extra, rng.uniform(0, SPAN_DAYS), tags


def bulk_load(items, *, sections, authors, tag_objects, start_index: int) -> list[int]:
    """BENCH ONLY: write live ArticlePages directly (no revisions, signals or search index)."""
    import datetime as dt

    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from django.db.models import F
    from django.utils import timezone
    from django.utils.html import escape
    from wagtail.models import Locale, Page

    from masthead.news.models import ArticleAuthor, ArticlePage, ArticleTag

    page_type = ContentType.objects.get_for_model(ArticlePage)
    locale = Locale.get_default()
    now = timezone.now()
    next_child = {}
    for section in sections:
        last = section.get_last_child()
        next_child[section.pk] = (Page._str2int(last.path[-Page.steplen :]) + 1) if last else 1
    pages, bylines, tagged = [], [], []
    for i, (title, paragraphs, days_ago, tags) in enumerate(items, start=start_index):
        section = sections[i % len(sections)]
        n = next_child[section.pk]
        next_child[section.pk] += 1
        slug = f"story-{i}"
        published = now - dt.timedelta(days=days_ago)
        page = ArticlePage(
            title=title[:255],
            draft_title=title[:255],
            slug=slug,
            content_type=page_type,
            locale=locale,
            live=True,
            has_unpublished_changes=False,
            first_published_at=published,
            last_published_at=published,
            standfirst=paragraphs[0][:300],
            body=[("paragraph", f"<p>{escape(p)}</p>") for p in paragraphs[1:]],
            path=Page._get_path(section.path, section.depth + 1, n),
            depth=section.depth + 1,
            numchild=0,
            url_path=f"{section.url_path}{slug}/",
        )
        pages.append(page)
        bylines.append((page, authors[i % len(authors)]))
        tagged.extend((page, tag_objects[t]) for t in tags)
    with transaction.atomic():
        base_rows = Page.objects.bulk_create(
            [
                Page(
                    **{
                        f.attname: getattr(p, f.attname)
                        for f in Page._meta.concrete_fields
                        if f.attname != "id"
                    }
                )
                for p in pages
            ],
            batch_size=2000,
        )
        for page, row in zip(pages, base_rows, strict=True):
            page.pk = page.id = page.page_ptr_id = row.pk
            page._state.adding = False
        ArticlePage.objects._insert(
            pages, fields=list(ArticlePage._meta.local_concrete_fields), using="default"
        )
        ArticleAuthor.objects.bulk_create(
            [ArticleAuthor(page=p, author=a, sort_order=0) for p, a in bylines], batch_size=5000
        )
        ArticleTag.objects.bulk_create(
            [ArticleTag(content_object=p, tag=t) for p, t in tagged], batch_size=5000
        )
        for section in sections:
            count = sum(1 for p in pages if p.path.startswith(section.path))
            Page.objects.filter(pk=section.pk).update(numchild=F("numchild") + count)
    return [p.pk for p in pages]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def main() -> None:
    args = parse()
    if not DATA.exists():
        sys.exit(f"{DATA} is missing")
    setup(args)
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import BooleanField, Case, Count, Q, Value, When
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from taggit.models import Tag
    from wagtail.models import Page

    from masthead.news import services as news
    from masthead.news.models import ArticlePage
    from masthead.news.models import pages as news_pages
    from masthead.related import services
    from masthead.related.backends import get_backend
    from masthead.related.selectors import RelatedStories, related_for_page

    call_command("migrate", verbosity=0)
    print(f"database: {connection.vendor}; articles: {args.articles}")
    rng = random.Random(5)
    rows = stories()
    sections = [news.section_get_or_create(name=name) for name in SECTIONS]
    authors = [news.author_get_or_create(name=f"Reporter {i}") for i in range(AUTHORS)]
    tag_names = sorted({t for r in rows for t in (r.get("topics") or []) + (r.get("places") or [])})
    Tag.objects.bulk_create([Tag(name=t, slug=t) for t in tag_names], ignore_conflicts=True)
    tag_objects = {t.name: t for t in Tag.objects.all()}

    started = time.perf_counter()
    items = list(synthetic(rows, args.articles + PUBLISH_SAMPLE, rng))
    for start in range(0, args.articles, 10_000):
        chunk = items[start : min(start + 10_000, args.articles)]
        bulk_load(
            chunk, sections=sections, authors=authors, tag_objects=tag_objects, start_index=start
        )
        sections = [Page.objects.get(pk=s.pk).specific for s in sections]
    print(
        f"bench-only bulk load: {args.articles} articles in {time.perf_counter() - started:.0f} s"
    )

    # 1. Full rebuild.
    def cpu_seconds() -> float:
        """CPU time of this process and of its finished children (the rebuild's workers)."""
        times = os.times()
        return times.user + times.system + times.children_user + times.children_system

    started, cpu = time.perf_counter(), cpu_seconds()
    done = services.related_rebuild()
    rebuild_seconds = time.perf_counter() - started
    rebuild_cpu = cpu_seconds() - cpu
    rebuild_rate = done / rebuild_seconds
    backend = get_backend()
    sample = rng.sample(
        list(ArticlePage.objects.live().values_list("pk", flat=True)), BASELINE_SAMPLE
    )
    started = time.perf_counter()
    for page in ArticlePage.objects.filter(pk__in=sample).specific():
        backend.suggest(page)
    per_page_rate = BASELINE_SAMPLE / (time.perf_counter() - started)
    print(
        f"full rebuild: {done} articles in {rebuild_seconds:.1f} s = {rebuild_rate:.0f} articles/s "
        f"(CPU time, workers included, {rebuild_cpu:.1f} s = {done / rebuild_cpu:.0f} articles/s "
        f"per core; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"baseline, one page at a time (per-page query): {per_page_rate:.0f} articles/s; "
        f"ratio {rebuild_rate / per_page_rate:.1f}x"
    )

    # 2. Publish-time updates: new articles, edits, unpublishes.
    new_ids = bulk_load(
        items[args.articles :],
        sections=sections,
        authors=authors,
        tag_objects=tag_objects,
        start_index=args.articles,
    )
    timings = {"publish": [], "edit": [], "unpublish": []}
    for page_id in new_ids:
        started = time.perf_counter()
        with transaction.atomic():
            services.related_page_update(page_id=page_id)
        timings["publish"].append((time.perf_counter() - started) * 1000)
    for page_id in rng.sample(sample, EDIT_SAMPLE):
        # A real edit: the standfirst changes, so the page is re-indexed, not skipped.
        ArticlePage.objects.filter(pk=page_id).update(standfirst="Updated: talks resume on Monday.")
        started = time.perf_counter()
        with transaction.atomic():
            services.related_page_update(page_id=page_id)
        timings["edit"].append((time.perf_counter() - started) * 1000)
    for page_id in rng.sample(new_ids, UNPUBLISH_SAMPLE):
        Page.objects.filter(pk=page_id).update(live=False)
        started = time.perf_counter()
        with transaction.atomic():
            services.related_page_remove(page_id=page_id)
        timings["unpublish"].append((time.perf_counter() - started) * 1000)
    for name, values in timings.items():
        print(
            f"{name:9} update: p50 {statistics.median(values):6.1f} ms  "
            f"p95 {percentile(values, 0.95):6.1f} ms  max {max(values):6.1f} ms  (n={len(values)})"
        )

    # 3. The article page: queries, and the related read against the per-view baseline.
    page = ArticlePage.objects.live().filter(pk__in=sample).first()
    client = Client()

    def count_queries() -> int:
        from django.core.cache import cache

        assert client.get(page.url).status_code == 200
        cache.clear()  # the page cache (issue 6) would otherwise answer without SQL
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(page.url).status_code == 200
        return len(ctx.captured_queries)

    with_related = count_queries()
    original = news_pages.related_for_page
    news_pages.related_for_page = lambda **kwargs: RelatedStories()
    try:
        without = count_queries()
    finally:
        news_pages.related_for_page = original
    print(
        f"article page: {with_related} queries with related news, {without} without "
        f"(+{with_related - without})"
    )

    def foundation_fill(article):
        """The foundation's per-view query: most shared tags, same section, newest."""
        tag_ids = list(article.tags.values_list("pk", flat=True))
        parent = article.path[: -article.steplen]
        return list(
            ArticlePage.objects.for_links()
            .exclude(pk=article.pk)
            .annotate(
                shared_tags=Count(
                    "tagged_items", filter=Q(tagged_items__tag_id__in=tag_ids), distinct=True
                ),
                same_section=Case(
                    When(path__startswith=parent, then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                ),
            )
            .order_by("-shared_tags", "-same_section", "-first_published_at", "-pk")[:5]
        )

    reads = ArticlePage.objects.filter(pk__in=sample[:50]).specific()
    started = time.perf_counter()
    for article in reads:
        related_for_page(page=article, limit=5)
    ours = (time.perf_counter() - started) * 1000 / len(reads)
    started = time.perf_counter()
    for article in reads:
        foundation_fill(article)
    theirs = (time.perf_counter() - started) * 1000 / len(reads)
    print(
        f"related read per page view: {ours:.2f} ms stored vs {theirs:.2f} ms per-view tags query "
        f"({theirs / ours:.0f}x faster)"
    )
    print(
        "targets: publish p95 <= 200 ms, rebuild >= 500 articles/s, article page +1 query at most"
    )


if __name__ == "__main__":
    main()
