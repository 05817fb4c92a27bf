"""Serving speed: a cached article page against the same bytes as a static file, same server.

Builds (once, then reuses) a SQLite site with ``--articles`` articles, starts
gunicorn with config/gunicorn.py exactly as ``make run`` does (2 sync workers),
and measures with wrk, alternating the two URLs for ``--rounds`` rounds:

- cached article page (the page cache's hit path) req/s
- the same bytes served as a static file by whitenoise in the same server req/s

then the ratio per round and the median of each. Then uncached article
pages through the same server: wrk asks for random articles with a query
parameter the page cache does not keep, so every request renders the page
(WordPress serves about 25 uncached articles/s on this kind of machine). It
also renders uncached article pages in-process (page cache off) and prints
p50/p95 time and the query count.

    .venv/bin/python bench/serve.py [--articles 100000] [--port 8203] [--rounds 3]
"""

import argparse
import datetime as dt
import gzip
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from _common import BIN, ROOT, start_server, stop_server

SECTIONS = ["News", "Politics", "Business", "Sport", "Culture", "Science", "World", "City"]
WORDS = (
    "council harbour bridge budget river vote market school hospital rail museum court "
    "festival league election storm energy housing transport library police climate"
).split()


def env_for(var: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "DEBUG")}
    env.update(
        {
            "MASTHEAD_VAR_DIR": str(var),
            "SECRET_KEY": "bench-serve",
            "PORT": str(port),
            "MASTHEAD_SCHEDULER": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    return env


def synthetic_articles(count: int, path: Path) -> None:
    """Write ``count`` JSON Lines articles of five paragraphs each, spread over the sections."""
    rng = random.Random(6)
    with gzip.open(path, "wt") as out:
        for i in range(count):
            words = rng.sample(WORDS, 6)
            paragraphs = [
                " ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + "." for _ in range(5)
            ]
            row = {
                "id": f"bench-{i}",
                "title": f"{' '.join(words).capitalize()} {i}",
                "body": paragraphs,
                "author": f"Reporter {i % 60}",
                "published": f"20{10 + i % 16:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
                "section": SECTIONS[i % len(SECTIONS)],
                "tags": rng.sample(WORDS, 3),
            }
            out.write(json.dumps(row) + "\n")


SEED_ARTICLES = 48  # imported the ordinary way; the rest are copies of them


def build_site(var: Path, articles: int, env: dict) -> None:
    """Build the site once: demo edition, SEED_ARTICLES imported, then copies up to ``articles``.

    Importing 100,000 articles through the newsroom's path takes hours on a
    shared 2-core machine, so the bulk is made by copying the imported rows
    (page, article, bylines, tags) with new tree paths, slugs and dates: the
    tables and indexes are those of a 100,000-article site.
    """
    stamp = var / f"built-{articles}"
    if stamp.exists():
        print(f"reusing the site in {var} ({articles} articles)")
        return
    shutil.rmtree(var, ignore_errors=True)
    var.mkdir(parents=True)
    print(f"building a site with {articles} articles in {var} (once; later runs reuse it)…")
    started = time.perf_counter()
    subprocess.run([BIN / "masthead", "setup"], env=env, check=True, stdout=subprocess.DEVNULL)
    data = var / "articles.jsonl.gz"
    synthetic_articles(SEED_ARTICLES, data)
    subprocess.run(
        [BIN / "masthead", "import", str(data), "--format", "jsonl"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        [sys.executable, __file__, "--copy-articles", str(articles)], env=env, check=True
    )
    print(f"  built in {time.perf_counter() - started:.0f}s")
    stamp.touch()


def copy_articles(total: int) -> None:
    """Copy the imported articles until the site has ``total`` live articles (runs in-process)."""
    sys.path.insert(0, str(ROOT))
    import uuid

    import django

    django.setup()
    from django.db import connection, transaction
    from wagtail.models import Page

    from masthead.news.models import ArticleAuthor, ArticlePage, ArticleTag

    seeds = list(ArticlePage.objects.live())
    missing = total - ArticlePage.objects.live().count()
    page_cols = [f.column for f in Page._meta.concrete_fields]
    article_cols = [f.column for f in ArticlePage._meta.local_concrete_fields]
    by_parent: dict[str, list] = {}
    for seed in seeds:
        by_parent.setdefault(seed.path[: -seed.steplen], []).append(seed)

    def row(table: str, cols: list[str], pk_col: str, pk) -> dict:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(cols)} FROM {table} WHERE {pk_col} = %s", [pk])
            return dict(zip(cols, cursor.fetchone(), strict=True))

    with transaction.atomic():
        next_id = Page.objects.order_by("-pk").values_list("pk", flat=True).first() + 1
        page_rows, article_rows, bylines, tags = [], [], [], []
        seed_rows: dict[int, tuple] = {}
        counters = {parent: Page.objects.get(path=parent).numchild for parent in by_parent}
        parents = list(by_parent)
        for n in range(missing):
            parent = parents[n % len(parents)]
            seed = by_parent[parent][n % len(by_parent[parent])]
            if seed.pk not in seed_rows:
                seed_rows[seed.pk] = (
                    row("wagtailcore_page", page_cols, "id", seed.pk),
                    row(ArticlePage._meta.db_table, article_cols, "page_ptr_id", seed.pk),
                    list(ArticleAuthor.objects.filter(page_id=seed.pk)),
                    list(ArticleTag.objects.filter(content_object_id=seed.pk)),
                )
            base, art, seed_bylines, seed_tags = (
                dict(seed_rows[seed.pk][0]),
                dict(seed_rows[seed.pk][1]),
                *seed_rows[seed.pk][2:],
            )
            counters[parent] += 1
            slug = f"{seed.slug[:60]}-c{n}"
            base.update(
                id=next_id,
                path=Page._get_path(parent, seed.depth, counters[parent]),
                slug=slug,
                url_path=seed.url_path.rsplit("/", 2)[0] + f"/{slug}/",
                title=f"{seed.title} (copy {n})",
                draft_title=f"{seed.title} (copy {n})",
                translation_key=str(uuid.uuid4()),
                first_published_at=seed.first_published_at - dt.timedelta(minutes=n),
                last_published_at=seed.first_published_at - dt.timedelta(minutes=n),
            )
            page_rows.append([base[c] for c in page_cols])
            art.update(page_ptr_id=next_id, source_id=f"copy-{n}")
            article_rows.append([art[c] for c in article_cols])
            for byline in seed_bylines:
                bylines.append((next_id, byline.author_id, byline.sort_order))
            for tagged in seed_tags:
                tags.append((next_id, tagged.tag_id))
            next_id += 1
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO wagtailcore_page ({', '.join(page_cols)}) "
                f"VALUES ({', '.join(['%s'] * len(page_cols))})",
                page_rows,
            )
            cursor.executemany(
                f"INSERT INTO {ArticlePage._meta.db_table} ({', '.join(article_cols)}) "
                f"VALUES ({', '.join(['%s'] * len(article_cols))})",
                article_rows,
            )
            cursor.executemany(
                f"INSERT INTO {ArticleAuthor._meta.db_table} (page_id, author_id, sort_order) "
                "VALUES (%s, %s, %s)",
                bylines,
            )
            cursor.executemany(
                f"INSERT INTO {ArticleTag._meta.db_table} (content_object_id, tag_id) VALUES (%s, %s)",
                tags,
            )
        for parent, count in counters.items():
            Page.objects.filter(path=parent).update(numchild=count)
    lead = (
        ArticlePage.objects.live()
        .filter(featured_image__isnull=False)
        .order_by("-first_published_at")
        .first()
    )
    from django.conf import settings

    (Path(settings.VAR_DIR) / "article-path").write_text(lead.url)
    print(f"  copied {missing} articles; the measured article is {lead.url}")


UNCACHED_PATHS = 200  # random articles wrk cycles through for the uncached measure
UNCACHED_SCRIPT = """
paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[math.random(#paths)] .. "?uncached=" .. counter)
end
"""


def list_articles(count: int) -> None:
    """Print the paths of ``count`` random live articles (runs in-process)."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from masthead.news.models import ArticlePage

    paths = list(ArticlePage.objects.live().values_list("url_path", flat=True))
    rng = random.Random(7)
    for url_path in rng.sample(paths, min(count, len(paths))):
        # url_path includes the front page's own slug: drop it (the site's root)
        print("/" + url_path.strip("/").split("/", 1)[1] + "/")


def uncached_throughput(env: dict, var: Path, base: str, seconds: int) -> float:
    """Return wrk's req/s over random articles that the page cache does not answer."""
    listed = subprocess.run(
        [sys.executable, __file__, "--list-articles", str(UNCACHED_PATHS)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    paths = var / "uncached-paths.txt"
    paths.write_text(listed)
    script = var / "uncached.lua"
    script.write_text(UNCACHED_SCRIPT % paths)
    # Each picture's renditions are made the first time any page shows it (AVIF takes
    # about half a second); view every page once so wrk measures rendering, not that.
    for path in listed.split():
        _, headers = fetch(base + path + "?uncached=0")
        assert headers.get("X-Masthead-Cache") != "hit", headers
    return wrk(base + "/", seconds, script=script)


def wrk(url: str, seconds: int, script: Path | None = None) -> float:
    extra = ["-s", str(script)] if script else []
    out = subprocess.run(
        ["wrk", "-t2", "-c16", f"-d{seconds}s", *extra, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("Requests/sec"))
    errors = [line for line in out.splitlines() if "Non-2xx" in line or "Socket errors" in line]
    if errors:
        print("   wrk:", "; ".join(errors))
    return float(line.split()[1])


def fetch(url: str) -> tuple[bytes, dict]:
    with urllib.request.urlopen(url) as response:
        return response.read(), dict(response.headers)


def uncached_renders(env: dict, samples: int) -> None:
    """Render ``samples`` random articles in-process with the page cache off; print p50/p95 and queries."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from masthead.news.models import ArticlePage

    total = ArticlePage.objects.live().count()
    ids = list(ArticlePage.objects.live().values_list("pk", flat=True))
    rng = random.Random(1)
    chosen = [ArticlePage.objects.get(pk=pk) for pk in rng.sample(ids, min(samples, len(ids)))]
    client = Client(HTTP_HOST="127.0.0.1")
    times, queries = [], []
    with override_settings(MASTHEAD_PAGE_CACHE=False, ALLOWED_HOSTS=["127.0.0.1"]):
        client.get(chosen[0].url)  # content types, site root paths
        for page in chosen:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(page.url)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, page.url
            queries.append(len(captured))
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    print(f"uncached article render at {total} articles ({len(times)} pages, in-process):")
    print(f"  p50 {statistics.median(times):.1f} ms   p95 {p95:.1f} ms")
    print(
        f"  queries per page: median {statistics.median(queries):.0f}, "
        f"min {min(queries)}, max {max(queries)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--port", type=int, default=8203)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--var", type=Path, default=Path("/tmp/masthead-bench-serve"))
    parser.add_argument("--copy-articles", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--list-articles", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.copy_articles:
        return copy_articles(args.copy_articles)
    if args.list_articles:
        return list_articles(args.list_articles)
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    var = args.var.resolve()
    env = env_for(var, args.port)
    build_site(var, args.articles, env)
    base = f"http://127.0.0.1:{args.port}"

    # First run: find an article and take its cached bytes.
    server = start_server(env, args.port)
    try:
        article_path = (var / "article-path").read_text().strip()
        body, _ = fetch(base + article_path)
    finally:
        stop_server(server)
    static_dir = var / "static" / "bench"
    static_dir.mkdir(parents=True, exist_ok=True)
    (static_dir / "article.html").write_bytes(body)

    # Second run: whitenoise sees the static copy (it indexes files at start).
    server = start_server(env, args.port)
    try:
        fetch(base + article_path)
        cached, headers = fetch(base + article_path)
        static, _ = fetch(base + "/static/bench/article.html")
        assert headers.get("X-Masthead-Cache") == "hit", headers
        assert cached == static == body, "the cached page and the static copy differ"
        print(f"article {article_path}: {len(body)} bytes, X-Masthead-Cache: hit")
        print(f"wrk -t2 -c16 -d{args.seconds}s, gunicorn config/gunicorn.py (as make run)")
        page_rates, static_rates, ratios = [], [], []
        for n in range(1, args.rounds + 1):
            page = wrk(base + article_path, args.seconds)
            file = wrk(base + "/static/bench/article.html", args.seconds)
            page_rates.append(page)
            static_rates.append(file)
            ratios.append(page / file)
            print(
                f"  round {n}: cached page {page:8.0f} req/s   static file {file:8.0f} req/s   ratio {page / file:.2f}x"
            )
        print(
            f"median: cached page {statistics.median(page_rates):.0f} req/s, "
            f"static file {statistics.median(static_rates):.0f} req/s, "
            f"ratio {statistics.median(ratios):.2f}x (target >= 0.5x)"
        )
        uncached = uncached_throughput(env, var, base, args.seconds)
        print(
            f"uncached articles (random of {UNCACHED_PATHS}, every request rendered): "
            f"{uncached:.0f} req/s; {uncached / 25:.1f}x WordPress's ~25 req/s"
        )
    finally:
        stop_server(server)
    uncached_renders(env, args.samples)


if __name__ == "__main__":
    main()
