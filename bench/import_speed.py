"""Import speed: Masthead's importer against Wagtail's add_child + save_revision().publish().

Both paths import the same Reuters-21578 stories into a fresh SQLite database,
in one transaction each, with search indexing on; the script prints articles/s
for each and the ratio.

    .venv/bin/python bench/import_speed.py [--count 1000]
"""

import argparse
import gzip
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("MASTHEAD_SHARED_DIR", ROOT.parent / "shared")) / "data" / "reuters21578" / "articles.jsonl.gz"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"{DATA} is missing")
    var = tempfile.mkdtemp(prefix="masthead-bench-")
    os.environ.update(
        {
            "MASTHEAD_VAR_DIR": var,
            "SECRET_KEY": "bench",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
    )
    os.environ.pop("DATABASE_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from masthead.ingest.importers.jsonl import JsonLinesImporter
    from masthead.ingest.services import import_articles
    from masthead.news import services as news
    from masthead.news.models import ArticlePage

    call_command("migrate", verbosity=0)
    subset = Path(var) / "subset.jsonl"
    with gzip.open(DATA, "rt") as src, subset.open("w") as out:
        rows = [
            line for line in itertools.islice(src, args.count * 2) if '"title": null' not in line
        ]
        out.writelines(rows[: args.count])

    # Baseline: one page at a time the way Wagtail's docs show, in one transaction.
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
            page.save_revision().publish()
    baseline = len(drafts) / (time.perf_counter() - started)

    started = time.perf_counter()
    report = import_articles([(subset, JsonLinesImporter())], default_section="Imported")
    masthead = report.total / (time.perf_counter() - started)

    print(f"articles: {len(drafts)}")
    print(f"wagtail add_child + publish: {baseline:8.1f} articles/s")
    print(f"masthead import:             {masthead:8.1f} articles/s")
    print(f"ratio: {masthead / baseline:.2f}x")


if __name__ == "__main__":
    main()
