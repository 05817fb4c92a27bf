"""HTML import quality: the `html` importer against naive extraction, on real article pages.

Data: ../shared/data/extraction-benchmark/ (scrapinghub's article-extraction
benchmark: raw HTML and a gold ``articleBody`` per page).

Body: token F1 of the imported body (the article's paragraphs after Masthead's
sanitizer, as a reader would see them) against ``articleBody``. Tokens are
lower-cased runs of letters and digits; precision and recall count tokens as a
multiset, as the benchmark's own evaluate.py does. The same-run baseline is the
text of every ``<p>`` of the page.

Headline: the gold file has no headline, so "correct" is defined from the page
itself and is printed with its criterion, not presented as human-checked:

* correct: the normalized headline (lower case, words only) equals one of
  the titles the page declares for itself — schema.org ``headline``,
  ``og:title``, ``twitter:title``, one of its first ``<h1>``s, ``<title>`` —
  with the pieces that only name the site (og:site_name, a label of the host
  name) cut off at " | ", " - ", " — " and the like, and is not the site's
  name alone. A raw ``<title>`` ending in "| Site" is therefore wrong. This
  gold is derived from the page by rules written for this script (not the
  importer's code), not checked by a person; pages declaring nothing are
  left out.
* slug: independent of the page markup, for URLs whose last path segment is
  a slug of at least 3 words: at least 60 % of the slug's words are words of
  the headline.

The baseline headline is the raw ``<title>``.

    .venv/bin/python bench/import_quality.py [--limit N] [--show-worst 5]
"""

import argparse
import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data" / "extraction-benchmark"
SLUG_MIN_WORDS = 3  # shorter slugs ("index", "story-1") say nothing about the headline
SLUG_MATCH = 0.6  # share of slug words the headline must contain
TARGET_MEDIAN_F1 = 0.9
TARGET_HEADLINES = 0.9


def tokens(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def f1(predicted: str, gold: str) -> tuple[float, float, float]:
    """Return (precision, recall, F1) of predicted tokens against gold tokens, as multisets."""
    p, g = Counter(tokens(predicted)), Counter(tokens(gold))
    common = sum((p & g).values())
    if not p or not g or not common:
        return 0.0, 0.0, 0.0 if p or g else 1.0
    precision, recall = common / sum(p.values()), common / sum(g.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def norm(text: str) -> str:
    return " ".join(tokens(text))


def naive_body(tree) -> str:
    return "\n".join(" ".join(p.text_content().split()) for p in tree.xpath("//p"))


SEPARATORS_RE = re.compile(r"\s+(?:\||-|–|—|·|::|»)\s+")
SEGMENT_MIN_WORDS = (
    4  # a piece of a split title this long is a headline, not a site or section name
)


def compact(text: str) -> str:
    return "".join(tokens(text))


def site_names(meta, url: str) -> set[str]:
    """Return compacted names of the site: og:site_name and the labels of the URL's host."""
    host = urlsplit(url).hostname or ""
    names = {compact(label) for label in host.split(".") if len(label) > 3}
    names.add(compact(host))
    if meta.site_name:
        names.add(compact(meta.site_name))
    return names - {""}


def gold_headlines(meta, url: str) -> set[str]:
    """Return normalized titles the page declares for itself, without site-name parts.

    Candidates: schema.org headline, og:title, twitter:title, the first <h1>s
    and <title>. A candidate split by " | ", " - "… loses the pieces that name
    the site; pieces of at least SEGMENT_MIN_WORDS words also count alone.
    Anything that is only the site's name is not a headline.
    """
    names = site_names(meta, url)

    def is_site(text: str) -> bool:
        c = compact(text)
        return (
            not c
            or c in names
            or (len(tokens(text)) <= 3 and any(n in c for n in names if len(n) > 3))
        )

    gold = set()
    for candidate in [
        meta.jsonld_headline,
        meta.og_title,
        meta.twitter_title,
        *meta.h1s,
        meta.title,
    ]:
        if not candidate:
            continue
        parts = SEPARATORS_RE.split(candidate)
        kept = [p for p in parts if not is_site(p)]
        if kept:
            gold.add(norm(" ".join(kept)))
        gold |= {norm(p) for p in kept if len(tokens(p)) >= SEGMENT_MIN_WORDS}
    return {g for g in gold if g and not is_site(g)}


def headline_correct(headline: str, meta, url: str) -> bool | None:
    gold = gold_headlines(meta, url)
    if not gold:
        return None
    return norm(headline) in gold


def declared_headline(meta) -> str:
    return meta.jsonld_headline or meta.og_title or meta.twitter_title or (meta.h1s or [""])[0]


def slug_words(url: str) -> list[str]:
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if not segments:
        return []
    slug = re.sub(r"\.\w+$", "", segments[-1])
    words = [w for w in re.split(r"[-_]+", slug.lower()) if w and not w.isdigit()]
    return words if len(words) >= SLUG_MIN_WORDS else []


def headline_matches_slug(headline: str, url: str) -> bool | None:
    words = slug_words(url)
    if not words:
        return None
    have = set(tokens(headline.replace("’", "").replace("'", "")))
    return sum(w in have for w in words) / len(words) >= SLUG_MATCH


def rate(values: list[bool | None]) -> tuple[float, int]:
    known = [v for v in values if v is not None]
    return (sum(known) / len(known) if known else 0.0), len(known)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=0, help="Only the first N pages.")
    parser.add_argument("--show-worst", type=int, default=5, help="List the N lowest-F1 pages.")
    args = parser.parse_args()
    gold_path = DATA / "ground-truth.json"
    if not gold_path.exists():
        sys.exit(f"{gold_path} is missing")
    sys.path.insert(0, str(ROOT))
    # The html importer and the sanitizer need no database: Django is not set up.
    from trafilatura.utils import load_html

    from masthead.ingest.importers.base import ImportFormatError
    from masthead.ingest.importers.html import (
        HtmlImporter,
        page_metadata,
        paragraphs_text,
    )
    from masthead.news.sanitize import clean_html

    gold = json.loads(gold_path.read_text(encoding="utf-8"))
    ids = sorted(gold)[: args.limit or None]
    importer = HtmlImporter()
    rows = []
    started = time.perf_counter()
    for page_id in ids:
        path = DATA / "html" / f"{page_id}.html.gz"
        data = gzip.open(path, "rb").read()
        tree = load_html(data)
        meta = page_metadata(tree)
        base_body = naive_body(tree)
        try:
            draft = next(importer.read(path))
            body = paragraphs_text([clean_html(p) for p in draft.paragraphs])
            headline = draft.title
            error = ""
        except ImportFormatError as exc:
            body, headline, error = "", "", str(exc)
        truth = gold[page_id]["articleBody"]
        url = gold[page_id]["url"]
        rows.append(
            {
                "id": page_id,
                "url": url,
                "f1": f1(body, truth),
                "base_f1": f1(base_body, truth),
                "declared": headline_correct(headline, meta, url),
                "slug": headline_matches_slug(headline, url),
                "base_declared": headline_correct(meta.title, meta, url),
                "base_slug": headline_matches_slug(meta.title, url),
                "headline": headline,
                "gold_headline": declared_headline(meta),
                "error": error,
            }
        )
    seconds = time.perf_counter() - started

    def stats(key: str) -> tuple[float, float, float, float]:
        values = [r[key] for r in rows]
        return (
            statistics.mean(v[2] for v in values),
            statistics.median(v[2] for v in values),
            statistics.mean(v[0] for v in values),
            statistics.mean(v[1] for v in values),
        )

    mean, median, precision, recall = stats("f1")
    b_mean, b_median, b_precision, b_recall = stats("base_f1")
    declared, n_declared = rate([r["declared"] for r in rows])
    slug, n_slug = rate([r["slug"] for r in rows])
    b_declared, _ = rate([r["base_declared"] for r in rows])
    b_slug, _ = rate([r["base_slug"] for r in rows])
    errors = [r for r in rows if r["error"]]

    print(
        f"HTML import quality on {len(rows)} pages ({seconds:.1f}s, {seconds / len(rows) * 1000:.0f} ms a page)"
    )
    print(f"{'':24}{'importer':>10}{'baseline':>10}{'ratio':>8}")
    print(f"{'body F1 mean':24}{mean:>10.3f}{b_mean:>10.3f}{mean / b_mean:>8.2f}")
    print(f"{'body F1 median':24}{median:>10.3f}{b_median:>10.3f}{median / b_median:>8.2f}")
    print(f"{'body precision mean':24}{precision:>10.3f}{b_precision:>10.3f}")
    print(f"{'body recall mean':24}{recall:>10.3f}{b_recall:>10.3f}")
    print(
        f"{'headline correct':24}{declared:>10.1%}{b_declared:>10.1%}   (of {n_declared} pages that declare one)"
    )
    print(
        f"{'headline ~ URL slug':24}{slug:>10.1%}{b_slug:>10.1%}   (of {n_slug} pages with a slug URL)"
    )
    print(f"pages the importer refused: {len(errors)}")
    for r in errors:
        print(f"  {r['error']}")
    ok_f1 = median >= TARGET_MEDIAN_F1
    ok_head = declared >= TARGET_HEADLINES
    print(
        f"target median F1 >= {TARGET_MEDIAN_F1}: {'met' if ok_f1 else 'NOT met'}; "
        f"headline correct >= {TARGET_HEADLINES:.0%}: {'met' if ok_head else 'NOT met'}"
    )
    if args.show_worst:
        print(f"\n{args.show_worst} lowest body F1:")
        for r in sorted(rows, key=lambda r: r["f1"][2])[: args.show_worst]:
            p, rc, f = r["f1"]
            print(f"  F1 {f:.2f} (P {p:.2f} R {rc:.2f}) {r['url']}")
        misses = [r for r in rows if r["declared"] is False]
        print(f"\nheadlines judged wrong ({len(misses)}):")
        for r in misses:
            print(
                f"  got {r['headline']!r}\n      page declares {r['gold_headline']!r}\n      {r['url']}"
            )


if __name__ == "__main__":
    main()
