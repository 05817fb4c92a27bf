"""Import speed: Masthead's importer against Wagtail's add_child + save_revision().publish().

Both paths import the same Reuters-21578 stories into a fresh SQLite database
of their own (each in a child process), in one transaction each, with
everything publishing does: search index, reference index, related news, page
cache. The script prints articles/s for each, the ratio per article, where
Masthead's import spends its time, and what each path left per article
(revisions, audit-log entries, reference-index rows), which should match.

    .venv/bin/python bench/import_speed.py [--count 10000] [--baseline-count 500]

The baseline is slow (a few articles/s), so it runs on a smaller sample of the
same stories; both rates are per article.
"""

import argparse
import gzip
import itertools
import json
import os
import shutil
import subprocess
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
TARGET_SECONDS_PER_10K = 60  # issue 8: 10,000 JSONL articles in under a minute on SQLite
DEFAULT_BASELINE_COUNT = 500  # enough for a steady rate; at ~5 articles/s it takes minutes


def write_subset(path: Path, count: int) -> int:
    """Write the first ``count`` stories that have a headline to ``path``; return how many."""
    with gzip.open(DATA, "rt", encoding="utf-8") as src, path.open("w") as out:
        rows = list(itertools.islice((ln for ln in src if '"title": null' not in ln), count))
        out.writelines(rows)
    return len(rows)


def leftovers() -> dict[str, float]:
    """Return what the import left per live article: revisions, log entries, references, …"""
    from wagtail.models import PageLogEntry, ReferenceIndex, Revision

    from masthead.news.models import ArticlePage
    from masthead.related.models import RelatedLink

    pages = ArticlePage.objects.live()
    ids = list(pages.values_list("pk", flat=True))
    n = max(len(ids), 1)
    keys = [str(pk) for pk in ids]
    return {
        "live": len(ids),
        "revisions": sum(
            Revision.page_revisions.filter(object_id__in=keys[i : i + 500]).count()
            for i in range(0, len(keys), 500)
        )
        / n,
        "log entries": PageLogEntry.objects.filter(page__in=pages).count() / n,
        "reference rows": sum(
            ReferenceIndex.objects.filter(object_id__in=keys[i : i + 500]).count()
            for i in range(0, len(keys), 500)
        )
        / n,
        "with suggestions": RelatedLink.objects.computed()
        .filter(computed_for__in=pages)
        .values("computed_for")
        .distinct()
        .count()
        / n,
        "pages without revision": pages.filter(live_revision__isnull=True).count(),
    }


def run_baseline(subset: Path) -> dict:
    """Import ``subset`` one page at a time the way Wagtail's docs show, in one transaction."""
    from django.db import transaction

    from masthead.ingest.importers.jsonl import JsonLinesImporter
    from masthead.news import services as news
    from masthead.news.models import ArticlePage

    drafts = list(JsonLinesImporter().read(subset))
    started = time.perf_counter()
    with transaction.atomic():
        section = news.section_get_or_create(name="Baseline")
        author = news.author_get_or_create(name="Reuters")
        for draft in drafts:
            page = ArticlePage(
                title=draft.title,
                slug=f"b{draft.source_id.split('-')[-1]}",
                body=news.body_from_paragraphs(draft.paragraphs),
                first_published_at=draft.published,
            )
            section.add_child(instance=page)
            page.article_authors.create(author=author)
            page.tags.set(draft.tags)
            page.save_revision().publish()
    seconds = time.perf_counter() - started
    return {"articles": len(drafts), "seconds": seconds, "left": leftovers()}


def run_masthead(subset: Path) -> dict:
    from masthead.ingest.importers.jsonl import JsonLinesImporter
    from masthead.ingest.services import import_articles

    started = time.perf_counter()
    report = import_articles([(subset, JsonLinesImporter())], default_section="Imported")
    seconds = time.perf_counter() - started
    return {
        "articles": report.total,
        "seconds": seconds,
        "phases": report.phases,
        "left": leftovers(),
    }


def child(which: str, count: int) -> None:
    """Run one path in this (fresh) process and print its result as one JSON line."""
    var = tempfile.mkdtemp(prefix=f"masthead-bench-{which}-")
    setup_django(var)
    subset = Path(var) / "subset.jsonl"
    write_subset(subset, count)
    try:
        result = (run_baseline if which == "baseline" else run_masthead)(subset)
    finally:
        shutil.rmtree(var, ignore_errors=True)  # a 10,000-article database is a few hundred MB
    print(json.dumps(result))


def spawn(which: str, count: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", which, "--count", str(count)],
        check=True,
        stdout=subprocess.PIPE,  # the child's errors go straight to this terminal
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="articles Masthead imports")
    parser.add_argument(
        "--baseline-count",
        type=int,
        default=None,
        help=f"articles the baseline imports (default: --count, at most {DEFAULT_BASELINE_COUNT})",
    )
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--child", choices=["baseline", "masthead"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} is missing")
    if args.child:
        child(args.child, args.count)
        return

    load = os.getloadavg()
    baseline_count = args.baseline_count or min(args.count, DEFAULT_BASELINE_COUNT)
    masthead = spawn("masthead", args.count)
    baseline = None if args.skip_baseline else spawn("baseline", baseline_count)
    load_after = os.getloadavg()

    m_rate = masthead["articles"] / masthead["seconds"]
    print(f"load average before/after: {load[0]:.2f} / {load_after[0]:.2f} (1 min)")
    print(
        f"masthead import:             {masthead['articles']:6d} articles in "
        f"{masthead['seconds']:7.1f}s = {m_rate:8.1f} articles/s"
    )
    if baseline:
        b_rate = baseline["articles"] / baseline["seconds"]
        print(
            f"wagtail add_child + publish: {baseline['articles']:6d} articles in "
            f"{baseline['seconds']:7.1f}s = {b_rate:8.1f} articles/s"
        )
        print(f"ratio (per article): {m_rate / b_rate:.1f}x")
    per_10k = 10000 / m_rate
    verdict = "meets" if per_10k < TARGET_SECONDS_PER_10K else "misses"
    print(
        f"10,000 articles at this rate: {per_10k:.0f}s ({verdict} the "
        f"{TARGET_SECONDS_PER_10K}s target, {10000 / TARGET_SECONDS_PER_10K:.0f} articles/s)"
    )
    print("masthead phases:")
    total = masthead["seconds"]
    phases = masthead["phases"]
    for name, seconds in sorted(phases.items(), key=lambda kv: -kv[1]):
        print(f"  {name:14s} {seconds:7.2f}s {100 * seconds / total:5.1f}%")
    other = total - sum(phases.values())
    print(f"  {'(other)':14s} {other:7.2f}s {100 * other / total:5.1f}%")
    search = phases.get("search index", 0.0)
    print(
        f"search indexing share: {100 * search / total:.1f}%; "
        f"everything else: {100 * (total - search) / total:.1f}%"
    )
    print("left per live article (masthead | baseline):")
    for key in masthead["left"]:
        b = baseline["left"][key] if baseline else float("nan")
        print(f"  {key:24s} {masthead['left'][key]:8.2f} | {b:8.2f}")


if __name__ == "__main__":
    main()
