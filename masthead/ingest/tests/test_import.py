"""`masthead import`: the seed page, JSON Lines, and imports that fail leaving nothing behind."""

import gzip
import html
import io
import itertools
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from bs4 import BeautifulSoup
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils.html import strip_tags

from masthead.ingest.registry import ImporterNotFound, get_importer, importers
from masthead.news.models import ArticlePage, Author, SectionPage
from masthead.related.models import RelatedLink

SEED_HEADLINE = "President Putin Rejects Western Proposal For Ukraine Security Force"
ALSO_READ = "Putin-Zelensky summit: Macron proposes Geneva talks"
CHROME = ("Related News", "Trending", "Recent News", "Type to Search")


def run_import(*args) -> str:
    out = io.StringIO()
    call_command("import", *[str(a) for a in args], stdout=out, stderr=io.StringIO())
    return out.getvalue()


def seed_paragraphs(seed_page: Path) -> list[str]:
    """Return the seed's body paragraphs: after the repeated headline, before "also read"."""
    lines = [
        line.strip() for line in seed_page.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    start = lines.index(SEED_HEADLINE, 1) + 1
    end = next(i for i, line in enumerate(lines) if line.startswith("In other related news"))
    return lines[start:end]


def body_texts(page: ArticlePage) -> list[str]:
    return [html.unescape(strip_tags(str(block.value))).strip() for block in page.body]


def table_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def write_jsonl(path: Path, rows: list, gz: bool = False) -> Path:
    text = "".join(row if isinstance(row, str) else json.dumps(row) + "\n" for row in rows)
    if gz:
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def row(title: str, **extra) -> dict:
    return {
        "id": title.lower().replace(" ", "-"),
        "title": title,
        "body": "First paragraph of the story.\n\nSecond paragraph of the story.",
        "author": "Wire Reporter",
        "published": "2024-05-01T10:00:00Z",
        "section": "World",
        "tags": ["Europe"],
        **extra,
    }


# --- The seed page ------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_page_imports_as_one_article_with_its_headline_and_author(seed_page):
    out = run_import(seed_page)
    assert "created 1" in out and "updated 0" in out, out
    article = ArticlePage.objects.get()
    assert article.title == SEED_HEADLINE
    assert article.live
    assert [a.name for a in article.authors] == ["Ubaid"]


@pytest.mark.django_db
def test_seed_body_is_the_paragraphs_in_order_without_chrome_or_repeated_headline(seed_page):
    run_import(seed_page)
    body = body_texts(ArticlePage.objects.get())
    expected = seed_paragraphs(seed_page)
    assert len(expected) == 7
    assert body == expected
    assert body[0].startswith("Russian President Vladimir Putin has rejected")
    for line in (*CHROME, SEED_HEADLINE, "Ubaid", "Picture of Ubaid"):
        assert line not in body, line
    assert not any("also read" in p for p in body)


@pytest.mark.django_db
def test_seed_also_read_goes_to_search_until_its_story_exists(client, seed_page):
    run_import(seed_page)
    article = ArticlePage.objects.get()
    link = RelatedLink.objects.get(page=article)
    assert link.target_id is None and link.target_headline == ALSO_READ
    assert link.also_read_after == 7  # after the last paragraph, as in the seed

    soup = BeautifulSoup(client.get(article.url).content.decode(), "html.parser")
    a = soup.select_one('[data-region="also-read"] a[href]')
    assert a.get_text(strip=True) == ALSO_READ
    parts = urlsplit(a["href"])
    assert parts.path == "/search/"
    assert parse_qs(parts.query)["q"] == [ALSO_READ]
    byline = soup.select_one('[data-region="byline"]')
    assert byline.find("img", alt="Picture of Ubaid") is not None
    author_href = byline.find("a", string="Ubaid")["href"]
    assert client.get(author_href).status_code == 200


@pytest.mark.django_db
def test_importing_the_seed_twice_updates_the_one_article(seed_page, tmp_path):
    run_import(seed_page)
    first = ArticlePage.objects.get()
    edited = tmp_path / "article-page.txt"
    edited.write_text(
        seed_page.read_text(encoding="utf-8").replace(
            "Three years into the war", "Four years into the war"
        ),
        encoding="utf-8",
    )
    out = run_import(edited)
    assert "created 0, updated 1" in out, out
    assert ArticlePage.objects.count() == 1
    again = ArticlePage.objects.get()
    assert again.pk == first.pk
    assert any(p.startswith("Four years into the war") for p in body_texts(again))
    assert Author.objects.filter(name="Ubaid").count() == 1
    assert RelatedLink.objects.filter(page=again).count() == 1


@pytest.mark.django_db
def test_also_read_resolves_when_its_story_is_imported_later(client, seed_page, tmp_path):
    run_import(seed_page)
    # Different case and punctuation from the seed's "also read" line.
    later = write_jsonl(
        tmp_path / "later.jsonl", [row("Putin-Zelensky Summit: Macron proposes Geneva talks!")]
    )
    run_import(later)
    target = ArticlePage.objects.get(title="Putin-Zelensky Summit: Macron proposes Geneva talks!")
    seed = ArticlePage.objects.get(title=SEED_HEADLINE)
    assert RelatedLink.objects.get(page=seed).target_id == target.pk

    soup = BeautifulSoup(client.get(seed.url).content.decode(), "html.parser")
    assert soup.select_one('[data-region="also-read"] a[href]')["href"] == target.url
    assert client.get(target.url).status_code == 200


@pytest.mark.django_db
def test_also_read_resolves_to_a_story_that_already_exists(seed_page, tmp_path):
    run_import(
        write_jsonl(
            tmp_path / "first.jsonl", [row("PUTIN-ZELENSKY SUMMIT — Macron proposes Geneva talks")]
        )
    )
    run_import(seed_page)
    seed = ArticlePage.objects.get(title=SEED_HEADLINE)
    target = ArticlePage.objects.exclude(pk=seed.pk).get()
    assert RelatedLink.objects.get(page=seed).target_id == target.pk


# --- Failed imports leave the database as it was ----------------------------------------


@pytest.fixture
def existing_archive(db, tmp_path):
    """Something in the archive already, so "unchanged" means more than "still empty"."""
    run_import(
        write_jsonl(
            tmp_path / "existing.jsonl", [row("An earlier story"), row("Another earlier story")]
        )
    )
    assert ArticlePage.objects.count() == 2
    return table_counts()


def assert_failed_import(path: Path, before: dict, *extra_args, mentions=()) -> str:
    with pytest.raises(CommandError) as raised:
        run_import(path, *extra_args)
    message = str(raised.value)
    assert str(path) in message, message
    for text in mentions:
        assert text in message, message
    assert ArticlePage.objects.count() == before["news.ArticlePage"]
    assert table_counts() == before
    return message


@pytest.mark.django_db
def test_truncated_seed_page_fails_naming_the_file_and_saves_nothing(
    seed_page, tmp_path, existing_archive
):
    truncated = tmp_path / "article-page.txt"
    truncated.write_bytes(seed_page.read_bytes()[:300])
    assert_failed_import(truncated, existing_archive)


@pytest.mark.django_db
@pytest.mark.parametrize("format_args", [(), ("--format", "seed-text"), ("--format", "jsonl")])
def test_binary_file_fails_naming_the_file_and_saves_nothing(
    tmp_path, existing_archive, format_args
):
    binary = tmp_path / "photo.txt"
    binary.write_bytes(bytes(range(256)) * 8 + b"\x89PNG\r\n\x1a\n\x00\x00")
    assert_failed_import(binary, existing_archive, *format_args)


@pytest.mark.django_db
def test_malformed_jsonl_fails_naming_the_line_and_saves_nothing(tmp_path, existing_archive):
    broken = write_jsonl(
        tmp_path / "broken.jsonl",
        [
            row("A perfectly good first story", section="Brand new section"),
            '{"title": "Cut off", "body": \n',
        ],
    )
    assert_failed_import(broken, existing_archive, mentions=("line 2",))
    assert not ArticlePage.objects.filter(title="A perfectly good first story").exists()
    assert not SectionPage.objects.filter(title="Brand new section").exists()


@pytest.mark.django_db
def test_a_bad_file_among_good_ones_saves_nothing(tmp_path, existing_archive):
    good = write_jsonl(tmp_path / "good.jsonl", [row("A good story in a good file")])
    bad = write_jsonl(tmp_path / "bad.jsonl", ["not json at all\n"])
    with pytest.raises(CommandError, match="bad.jsonl"):
        run_import(good, bad)
    assert table_counts() == existing_archive


@pytest.mark.django_db
def test_missing_file_fails_naming_it(tmp_path):
    with pytest.raises(CommandError, match="nowhere.jsonl"):
        run_import(tmp_path / "nowhere.jsonl")


@pytest.mark.django_db
def test_dry_run_saves_nothing(tmp_path, existing_archive):
    path = write_jsonl(tmp_path / "dry.jsonl", [row("A story that is only checked")])
    out = run_import(path, "--dry-run")
    assert "Dry run" in out and "created 1" in out, out
    assert table_counts() == existing_archive


# --- JSON Lines ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_jsonl_gz_is_read_directly(tmp_path):
    path = write_jsonl(
        tmp_path / "archive.jsonl.gz",
        [row("Compressed story one"), row("Compressed story two")],
        gz=True,
    )
    out = run_import(path)
    assert "created 2" in out, out
    story = ArticlePage.objects.get(title="Compressed story one")
    assert story.get_parent().title == "World"
    assert [a.name for a in story.authors] == ["Wire Reporter"]
    assert [t.name for t in story.tags.all()] == ["Europe"]
    assert body_texts(story) == ["First paragraph of the story.", "Second paragraph of the story."]
    assert story.first_published_at.isoformat() == "2024-05-01T10:00:00+00:00"


@pytest.mark.django_db
def test_importing_a_jsonl_twice_does_not_duplicate(tmp_path):
    path = write_jsonl(tmp_path / "twice.jsonl", [row("Story imported twice")])
    run_import(path)
    out = run_import(path)
    assert "created 0, updated 1" in out, out
    assert ArticlePage.objects.filter(title="Story imported twice").count() == 1


# --- The registry ---------------------------------------------------------------------------


def test_registry_lists_the_built_in_importers():
    known = importers()
    assert {"seed-text", "jsonl"} <= set(known)
    assert get_importer("jsonl").name == "jsonl"
    assert get_importer("seed-text").name == "seed-text"


def test_registry_names_the_known_formats_for_an_unknown_one():
    with pytest.raises(ImporterNotFound, match="seed-text"):
        get_importer("no-such-format")


@pytest.mark.django_db
def test_unknown_format_gives_a_clear_command_error(seed_page):
    with pytest.raises(CommandError) as raised:
        run_import(seed_page, "--format", "no-such-format")
    message = str(raised.value)
    assert "no-such-format" in message and "jsonl" in message and "seed-text" in message
    assert ArticlePage.objects.count() == 0


# --- A real archive ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_reuters_rows_keep_their_dates_and_land_in_the_given_section(shared_dir, tmp_path):
    source = shared_dir / "data" / "reuters21578" / "articles.jsonl.gz"
    if not source.is_file():
        pytest.skip(f"{source} is not present")
    with gzip.open(source, "rt", encoding="utf-8") as fh:
        lines = list(itertools.islice(fh, 50))
    subset = tmp_path / "reuters-50.jsonl.gz"
    with gzip.open(subset, "wt", encoding="utf-8") as fh:
        fh.writelines(lines)
    rows = [json.loads(line) for line in lines]

    out = run_import(subset, "--section", "Wire")
    assert "created 50" in out, out
    assert ArticlePage.objects.count() == 50
    wire = SectionPage.objects.get(title="Wire")
    assert ArticlePage.objects.child_of(wire).count() == 50
    by_source = {page.source_id: page for page in ArticlePage.objects.all()}
    for r in rows:
        page = by_source[f"jsonl:{r['id']}"]
        assert page.first_published_at.replace(tzinfo=None).isoformat() == r["published"], r["id"]
        assert page.live
