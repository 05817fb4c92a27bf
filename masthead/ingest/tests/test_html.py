"""`masthead import` of article pages saved as HTML: headline, byline, date and body."""

import datetime as dt
import gzip
import html
import io
import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils.html import strip_tags

from masthead.ingest.importers.base import ImportFormatError
from masthead.ingest.importers.html import HtmlImporter, html_to_paragraphs
from masthead.ingest.registry import importer_for
from masthead.news.models import ArticlePage

# (benchmark page id, headline, bylines, publication date)
PAGES = [
    (
        "042bb7b5fedab6eac7db576522b89b93904c237d344bcbe14a6a5ab7f7335856",
        "Google Stadia, Microsoft xCloud, Apple Arcade: So Many Ways to Play…and Pay",
        ["Sarah E. Needleman"],
        dt.date(2019, 11, 19),
    ),
    (
        "06ee193de4bd611f7fafbab0c59b0f6fe3495093516720632cd093b24c7a0e98",
        "The VW ID. SPACE VIZZION is a weird EV sports wagon with a secret message",
        ["Chris Davies"],
        dt.date(2019, 11, 20),
    ),
    (
        "374ac9a59a85196cdacc1679fb8993521a7b7d9d6533720f102300be1c7face4",
        "Emirates inks $9 billion order for 30 Boeing 787 jets, will restart plans to expand "
        "airline by early 2020s",
        ["Natasha Turak"],
        dt.date(2019, 11, 20),
    ),
    (
        "57d46c9d751e3fd3ffaf3ede7ac20cebd30eacb5ea78e1a6aa0a72059244e7ca",
        "Oversupply angst drags oil lower, stocks drift near highs",
        ["Rodrigo Campos"],
        dt.date(2019, 11, 19),
    ),
    (
        "70cb2d5bca75ab5a8f6bb378a38a52f882f6bda508de93b12502e74936d86ff2",
        "Taylor Swift is allowed to play her music at the AMAs after all",
        ["BBC News"],
        dt.date(2019, 11, 19),
    ),
]
MIN_BODY_F1 = 0.8  # per page; over all pages the median is higher (bench/import_quality.py)


def run_import(*args) -> str:
    out = io.StringIO()
    call_command("import", *[str(a) for a in args], stdout=out, stderr=io.StringIO())
    return out.getvalue()


def table_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def token_f1(predicted: str, gold: str) -> float:
    p = Counter(re.findall(r"\w+", predicted.lower()))
    g = Counter(re.findall(r"\w+", gold.lower()))
    common = sum((p & g).values())
    if not common:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def body_text(page: ArticlePage) -> str:
    return "\n".join(html.unescape(strip_tags(str(block.value))) for block in page.body)


@pytest.fixture
def benchmark(shared_dir) -> Path:
    root = shared_dir / "data" / "extraction-benchmark"
    if not (root / "ground-truth.json").is_file():
        pytest.skip(f"{root} is not present")
    return root


@pytest.fixture
def gold(benchmark) -> dict:
    return json.loads((benchmark / "ground-truth.json").read_text(encoding="utf-8"))


def page_path(benchmark: Path, page_id: str) -> Path:
    return benchmark / "html" / f"{page_id}.html.gz"


# --- Benchmark pages ------------------------------------------------------------------------


def test_gzipped_pages_are_recognised_as_html(benchmark):
    for page_id, *_ in PAGES:
        assert importer_for(page_path(benchmark, page_id)).name == "html"


@pytest.mark.django_db
def test_benchmark_pages_import_with_headline_byline_date_and_body(benchmark, gold):
    out = run_import(*[page_path(benchmark, page_id) for page_id, *_ in PAGES])
    assert f"created {len(PAGES)}, updated 0" in out, out
    for page_id, headline, bylines, date in PAGES:
        page = ArticlePage.objects.get(title=headline)
        assert page.live
        assert [a.name for a in page.authors] == bylines, headline
        assert page.first_published_at.date() == date, headline
        # Found again by the page's canonical URL (which may differ from where it was saved).
        host = urlsplit(gold[page_id]["url"]).netloc
        assert urlsplit(page.source_id.removeprefix("html:")).netloc == host
        f1 = token_f1(body_text(page), gold[page_id]["articleBody"])
        assert f1 >= MIN_BODY_F1, (headline, f1)
        # The headline shown above the body is not repeated in it.
        assert not body_text(page).startswith(headline)


@pytest.mark.django_db
def test_reimporting_a_page_updates_it(benchmark):
    path = page_path(benchmark, PAGES[1][0])
    run_import(path)
    out = run_import(path)
    assert "created 0, updated 1" in out, out
    assert ArticlePage.objects.count() == 1


def test_body_keeps_subheads_lists_and_links_but_no_scripts(benchmark):
    # A page of the benchmark with a subhead and a list in its body.
    draft = HtmlImporter().draft_from_html(
        gzip.open(
            page_path(
                benchmark, "0e014df693f182824fe5e24030ddbe1d0b96ddb9685cf20d5766457ed32ffa2d"
            ),
            "rb",
        ).read()
    )
    pieces = "".join(draft.paragraphs)
    assert draft.html
    assert "<h3>Our hiking survival kit is really very simple.</h3>" in pieces
    assert "<li>Arrowhead bottled water</li>" in pieces
    assert '<a href="http://www.arrowheadwater.com">water</a>' in pieces
    assert "<script" not in pieces


# --- Fallbacks on a page without trafilatura-friendly metadata ------------------------------

FALLBACK_PAGE = """<!doctype html>
<html><head>
<title>Harbour bridge reopens after repairs | The Coastal Courier</title>
<meta property="og:site_name" content="The Coastal Courier">
<meta name="author" content="By Mara Lind and Tom Ek">
<meta property="article:section" content="Local">
<meta property="article:tag" content="Transport"><meta property="article:tag" content="transport">
<link rel="canonical" href="https://courier.example/local/harbour-bridge">
<script>window.tracking = "<p>not text</p>";</script>
</head><body>
<nav><a href="/">Home</a> <a href="/local">Local</a></nav>
<article>
<h1>Harbour bridge reopens after repairs</h1>
<p class="byline">By Mara Lind and Tom Ek, <time datetime="2024-03-05T07:30:00+01:00">5 March</time></p>
<p>The harbour bridge reopened to traffic on Tuesday morning after eight months of repairs
to its steel deck, the city council said.</p>
<p>Engineers replaced more than two hundred rusted plates and repainted the whole span,
work that was delayed twice by winter storms.</p>
<h2>Buses return</h2>
<p>Bus routes 4 and 11, which had been diverted through the old town, return to the bridge
from Monday, the transport office said.</p>
<p>Cyclists get a new protected lane on the seaward side of the deck.</p>
<script>alert("x")</script>
</article>
<footer>© The Coastal Courier</footer>
</body></html>
"""


def test_fallback_metadata_fills_headline_byline_date_section_and_tags(tmp_path):
    path = tmp_path / "bridge.html"
    path.write_text(FALLBACK_PAGE, encoding="utf-8")
    assert importer_for(path).name == "html"
    (draft,) = HtmlImporter().read(path)
    assert draft.title == "Harbour bridge reopens after repairs"
    assert draft.authors == ["Mara Lind", "Tom Ek"]
    assert draft.published == dt.datetime(2024, 3, 5, 6, 30, tzinfo=dt.UTC)
    assert draft.section == "Local"
    assert draft.tags == ["Transport"]
    assert draft.source_id == "html:https://courier.example/local/harbour-bridge"
    text = " ".join(draft.paragraphs)
    assert "eight months of repairs" in text and "protected lane" in text
    assert "<h2>Buses return</h2>" in draft.paragraphs
    assert "Home" not in text and "alert" not in text and "not text" not in text


def test_og_title_wins_over_a_title_tag_when_there_is_no_h1(tmp_path):
    page = FALLBACK_PAGE.replace("<h1>Harbour bridge reopens after repairs</h1>", "").replace(
        "<title>",
        '<meta property="og:title" content="Bridge open again - The Coastal Courier"><title>',
    )
    path = tmp_path / "og.html"
    path.write_text(page, encoding="utf-8")
    (draft,) = HtmlImporter().read(path)
    assert draft.title == "Bridge open again"


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("plain text", ["<p>plain text</p>"]),
        ("<div><p>a</p><div><p>b</p></div></div>", ["<p>a</p>", "<p>b</p>"]),
        ("<h1>Big</h1><h5>small</h5>", ["<h2>Big</h2>", "<h4>small</h4>"]),
        (
            "<table><tr><th>Team</th><th>Pts</th></tr><tr><td>A</td><td>3</td></tr></table>",
            ["<p>Team | Pts</p>", "<p>A | 3</p>"],
        ),
        ("<p>&nbsp;</p><p>  </p><iframe src='x'></iframe>", []),
        ("<figure><img src='a.jpg'><figcaption>Caption</figcaption></figure>", ["<p>Caption</p>"]),
    ],
)
def test_html_fragments_become_body_pieces(fragment, expected):
    assert html_to_paragraphs(fragment) == expected


# --- Bad files ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_page_without_an_article_fails_naming_it_and_saves_nothing(benchmark, tmp_path):
    run_import(page_path(benchmark, PAGES[0][0]))
    before = table_counts()
    empty = tmp_path / "empty.html"
    empty.write_text("<!doctype html><html><head><title>Nothing</title></head><body></body></html>")
    with pytest.raises(CommandError) as raised:
        run_import(page_path(benchmark, PAGES[1][0]), empty)
    assert "empty.html" in str(raised.value) and "nothing was saved" in str(raised.value)
    assert table_counts() == before


def test_a_binary_file_named_html_is_refused(tmp_path):
    path = tmp_path / "photo.html"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(100))
    assert not HtmlImporter().can_read(path)
    with pytest.raises(ImportFormatError, match="photo.html"):
        list(HtmlImporter().read(path))


def test_a_broken_gzip_is_refused_naming_it(tmp_path):
    path = tmp_path / "page.html.gz"
    path.write_bytes(gzip.compress(FALLBACK_PAGE.encode())[:60])
    with pytest.raises(ImportFormatError, match="page.html.gz"):
        list(HtmlImporter().read(path))
