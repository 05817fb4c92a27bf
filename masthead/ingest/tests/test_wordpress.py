"""`masthead import` of WordPress exports (WXR): posts, bylines, sections, tags, dates, redirects.

Expected counts come from reading the export files here with the standard
library, independently of the importer.
"""

import datetime as dt
import html
import io
import re
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils.html import strip_tags
from PIL import Image
from taggit.models import Tag

from masthead.ingest.importers.base import ImportFormatError
from masthead.ingest.importers.wordpress import WordPressImporter, wpautop
from masthead.ingest.registry import importer_for
from masthead.news.models import ArticlePage, Author, SectionPage

FILES = ("themeunittestdata.wordpress.xml", "64-block-test-data.xml")
WP_NAMESPACES = ("https://wordpress.org/export/1.2/", "http://wordpress.org/export/1.2/")
DC = "{http://purl.org/dc/elements/1.1/}"
DEFAULT_SECTION = "News"


@dataclass
class Post:
    post_id: str
    title: str
    link: str
    status: str
    password: str
    creator: str
    date_gmt: str
    categories: list[str] = field(default_factory=list)  # names, "Uncategorized" left out
    tags: list[str] = field(default_factory=list)


@dataclass
class Export:
    authors: dict[str, str]  # login → display name
    posts: list[Post]

    @property
    def imported(self) -> list[Post]:
        return [p for p in self.posts if p.status in ("publish", "future") and not p.password]


def read_export(path: Path) -> Export:
    """Return authors and posts of a WXR file, read with ElementTree (the test's own reading)."""
    root = ET.parse(path).getroot()
    ns = next(uri for uri in WP_NAMESPACES if root.find(f".//{{{uri}}}post_type") is not None)
    wp = f"{{{ns}}}"
    channel = root.find("channel")
    authors = {
        a.findtext(f"{wp}author_login").strip(): a.findtext(f"{wp}author_display_name")
        for a in channel.findall(f"{wp}author")
    }
    posts = []
    for item in channel.findall("item"):
        if item.findtext(f"{wp}post_type") != "post":
            continue
        terms = [
            (c.get("domain"), c.get("nicename"), c.text or "") for c in item.findall("category")
        ]
        posts.append(
            Post(
                post_id=item.findtext(f"{wp}post_id"),
                title=item.findtext("title") or "",
                link=item.findtext("link"),
                status=item.findtext(f"{wp}status"),
                password=item.findtext(f"{wp}post_password") or "",
                creator=item.findtext(f"{DC}creator"),
                date_gmt=item.findtext(f"{wp}post_date_gmt"),
                categories=[
                    html.unescape(name)
                    for domain, nice, name in terms
                    if domain == "category" and nice != "uncategorized"
                ],
                tags=[html.unescape(name) for domain, _, name in terms if domain == "post_tag"],
            )
        )
    return Export(authors=authors, posts=posts)


def run_import(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import", *[str(a) for a in args], stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def table_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def body_text(page: ArticlePage) -> str:
    return " ".join(html.unescape(strip_tags(str(block.value))) for block in page.body)


def login(creator: str) -> str:
    return re.sub(r"[^A-Za-z0-9 _.@-]", "", creator).strip()


@pytest.fixture
def wxr_files(shared_dir) -> list[Path]:
    paths = [shared_dir / "data" / "wordpress" / name for name in FILES]
    for path in paths:
        if not path.is_file():
            pytest.skip(f"{path} is not present")
    return paths


@pytest.fixture
def exports(wxr_files) -> dict[str, Export]:
    return {path.name: read_export(path) for path in wxr_files}


@pytest.fixture
def imported(db, wxr_files):
    """Import both exports in one run; return the command's output and errors."""
    return run_import(*wxr_files)


# --- Sniffing and namespaces ----------------------------------------------------------------


def test_both_namespace_variants_are_recognised_as_wordpress(wxr_files):
    heads = [path.read_bytes()[:3000].decode() for path in wxr_files]
    assert 'xmlns:wp="https://wordpress.org/export/1.2/"' in heads[0]
    assert 'xmlns:wp="http://wordpress.org/export/1.2/"' in heads[1]
    for path in wxr_files:
        assert importer_for(path).name == "wordpress", path


def test_a_plain_rss_feed_is_not_taken_for_a_wordpress_export(tmp_path):
    feed = tmp_path / "news.xml"
    feed.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    )
    assert not WordPressImporter().can_read(feed)
    assert importer_for(feed).name == "feed"


# --- Everything arrives ---------------------------------------------------------------------


@pytest.mark.django_db
def test_every_published_post_arrives_once(imported, exports):
    out, _ = imported
    expected = [p for export in exports.values() for p in export.imported]
    assert len(expected) == 56 + 61  # the READMEs' counts, minus 1 draft and 1 password post
    assert f"created {len(expected)}, updated 0" in out, out
    assert ArticlePage.objects.count() == len(expected)
    links = {p.link for p in expected}
    assert len(links) == len(expected)
    imported_ids = set(ArticlePage.objects.values_list("source_id", flat=True))
    assert imported_ids == {f"wordpress:{link}" for link in links}


@pytest.mark.django_db
def test_every_author_arrives_with_the_display_name(imported, exports):
    names = {name for export in exports.values() for name in export.authors.values()}
    assert names == {"Theme Buster", "Theme Reviewer"}
    assert set(Author.objects.values_list("name", flat=True)) == names
    for export in exports.values():
        for post in export.imported:
            page = ArticlePage.objects.get(source_id=f"wordpress:{post.link}")
            assert [a.name for a in page.authors] == [export.authors[login(post.creator)]], (
                post.title
            )


@pytest.mark.django_db
def test_first_category_is_the_section_and_every_other_term_a_tag(imported, exports):
    for export in exports.values():
        for post in export.imported:
            page = ArticlePage.objects.get(source_id=f"wordpress:{post.link}")
            section = page.get_parent().specific
            assert isinstance(section, SectionPage)
            expected_section = post.categories[0] if post.categories else DEFAULT_SECTION
            assert section.title == expected_section, post.title
            tags = {t.name.lower() for t in page.tags.all()}
            terms = {t.lower() for t in [*post.categories[1:], *post.tags]}
            assert tags == terms, post.title


@pytest.mark.django_db
def test_every_category_and_tag_of_an_imported_post_arrives(imported, exports):
    posts = [p for export in exports.values() for p in export.imported]
    categories = {c for p in posts for c in p.categories}
    tags = {t for p in posts for t in p.tags}
    assert len(categories) >= 60 and len(tags) >= 60  # the edge-case posts use most terms
    sections = {s.lower() for s in SectionPage.objects.values_list("title", flat=True)}
    tag_names = {t.lower() for t in Tag.objects.values_list("name", flat=True)}
    for name in categories:
        assert name.lower() in sections | tag_names, name
    for name in tags:
        assert name.lower() in tag_names, name
    first = {p.categories[0].lower() for p in posts if p.categories}
    assert sections == first | {DEFAULT_SECTION.lower()}


@pytest.mark.django_db
def test_posts_keep_their_gmt_publication_dates(imported, exports):
    now = dt.datetime.now(dt.UTC)
    for export in exports.values():
        for post in export.imported:
            page = ArticlePage.objects.get(source_id=f"wordpress:{post.link}")
            expected = dt.datetime.fromisoformat(post.date_gmt).replace(tzinfo=dt.UTC)
            if expected <= now:
                assert page.live and page.first_published_at == expected, post.title
            else:
                assert not page.live and page.go_live_at == expected, post.title


# --- A few named posts ----------------------------------------------------------------------


@pytest.mark.django_db
def test_featured_image_post_has_its_date_section_tags_and_author(imported):
    page = ArticlePage.objects.get(title="Template: Featured Image (Horizontal)")
    assert page.first_published_at == dt.datetime(2012, 3, 15, 22, 15, 12, tzinfo=dt.UTC)
    assert page.get_parent().title == "Classic"
    # Tags match case-insensitively: "edge case" is the tag a category "Edge Case" already made.
    assert {t.name.lower() for t in page.tags.all()} == {
        "template",
        "codex",
        "edge case",
        "featured image",
        "image",
    }
    assert [a.name for a in page.authors] == ["Theme Buster"]
    assert "This post tests a horizontal featured image." in body_text(page)
    assert page.featured_image is None  # its file is on wordpress.com, not here


@pytest.mark.django_db
def test_title_markup_is_removed_and_special_characters_kept(imported):
    assert ArticlePage.objects.filter(title="Markup: Title With Markup").exists()
    special = ArticlePage.objects.get(title__startswith="Markup: Title With Special Characters")
    assert special.title.endswith("~`!@#$%^&*()-_=+{}[]/\\;:'\"?,.>")


@pytest.mark.django_db
def test_gutenberg_post_loses_block_comments_and_keeps_its_text(imported):
    page = ArticlePage.objects.get(
        source_id="wordpress:https://wpthemetestdata.wordpress.com/quote/"
    )
    assert page.title == "Quote"
    assert page.get_parent().title == "Text"
    assert page.first_published_at == dt.datetime(2024, 2, 5, 16, 0, 46, tzinfo=dt.UTC)
    stored = "".join(str(block.value) for block in page.body)
    assert "wp:quote" not in stored and "<!--" not in stored
    assert "Quote, default (no alignment)" in body_text(page)
    assert "class=" not in stored  # sanitized on save


@pytest.mark.django_db
def test_classic_post_gets_paragraphs_like_wpautop(imported):
    page = ArticlePage.objects.get(title="Template: Featured Image (Vertical)")
    paragraphs = [html.unescape(strip_tags(str(b.value))) for b in page.body]
    assert paragraphs[1:] == [
        "Non-square images can provide some unique styling issues.",
        "This post tests a vertical featured image.",
    ]


@pytest.mark.django_db
def test_scheduled_post_is_scheduled_not_published(imported):
    page = ArticlePage.objects.get(title="Scheduled")
    assert not page.live
    assert page.go_live_at == dt.datetime(2030, 1, 1, 19, 0, 18, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_post_without_a_title_is_named_by_its_first_words(imported):
    page = ArticlePage.objects.get(
        source_id="wordpress:https://wpthemetestdata.wordpress.com/2009/09/05/edge-case-no-title/"
    )
    assert page.title.startswith("This post has no title, but it still must link")


@pytest.mark.django_db
def test_drafts_and_password_protected_posts_are_not_imported(imported):
    assert not ArticlePage.objects.filter(title="Draft").exists()
    assert not ArticlePage.objects.filter(title__startswith="Template: Password Protected").exists()


# --- Report ---------------------------------------------------------------------------------


def test_importer_reports_skipped_posts_and_other_item_types(wxr_files):
    importer = WordPressImporter()
    drafts = list(importer.read(wxr_files[0]))
    assert len(drafts) == importer.count(wxr_files[0]) == 56
    assert importer.skipped == 2
    report = "\n".join(importer.warnings)
    assert "post 1164 'Draft' skipped: a draft, not published" in report
    assert "post 1168" in report and "password-protected" in report
    assert "37 attachment, 70 nav_menu_item, 21 page" in report
    assert "post 1169 has no title" in report


@pytest.mark.django_db
def test_dry_run_reports_skipped_posts_and_saves_nothing(wxr_files):
    before = table_counts()
    out, err = run_import("--dry-run", wxr_files[0])
    assert "Dry run, nothing saved: would have created 56" in out, out
    assert table_counts() == before
    # The importer's own report lines (skips, untitled posts) reach the command's output.
    assert "skipped 2" in out, out
    assert "'Draft' skipped" in err, err
    # A featured image that is not on this machine is named.
    assert "featured-image-horizontal.jpg" in err, err


# --- Redirects ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_old_permalinks_redirect_permanently_to_the_new_pages(imported, exports, client):
    post = next(
        p for p in exports[FILES[0]].imported if p.title == "Markup: HTML Tags and Formatting"
    )
    page = ArticlePage.objects.get(source_id=f"wordpress:{post.link}")
    old_path = "/2013/01/11/markup-html-tags-and-formatting/"
    assert post.link.endswith(old_path)
    response = client.get(old_path)
    assert response.status_code == 301
    assert response["Location"] in (page.url, page.full_url)
    assert client.get(response["Location"]).status_code == 200
    # One redirect per imported post: every old address answers.
    from wagtail.contrib.redirects.models import Redirect

    assert Redirect.objects.filter(redirect_page__isnull=False).count() == sum(
        len(e.imported) for e in exports.values()
    )


# --- Featured images ------------------------------------------------------------------------


@pytest.mark.django_db
def test_featured_image_found_next_to_the_export_is_imported(wxr_files, tmp_path):
    export = tmp_path / "export.xml"
    shutil.copy(wxr_files[0], export)
    upload = tmp_path / "wp-content" / "uploads" / "2013" / "03" / "featured-image-horizontal.jpg"
    upload.parent.mkdir(parents=True)
    Image.new("RGB", (64, 32), "navy").save(upload, "JPEG")
    _, err = run_import(export)
    page = ArticlePage.objects.get(title="Template: Featured Image (Horizontal)")
    assert page.featured_image is not None
    assert (page.featured_image.width, page.featured_image.height) == (64, 32)
    assert "featured-image-horizontal.jpg" not in err
    vertical = ArticlePage.objects.get(title="Template: Featured Image (Vertical)")
    assert vertical.featured_image is None
    assert "featured-image-vertical.jpg" in err


def test_upload_lookup_stays_inside_the_export_folder(tmp_path):
    from masthead.ingest.importers.wordpress import _find_upload

    (tmp_path / "inside").mkdir()
    (tmp_path / "secret.jpg").write_bytes(b"x")
    assert (
        _find_upload("https://example.com/wp-content/uploads/../../secret.jpg", tmp_path / "inside")
        is None
    )
    assert _find_upload("file:///etc/passwd", tmp_path / "inside") is None


# --- Bad files ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_truncated_export_fails_naming_file_and_line_and_saves_nothing(wxr_files, tmp_path):
    run_import(wxr_files[1])  # an archive already there must stay exactly as it is
    before = table_counts()
    data = wxr_files[0].read_bytes()
    cut = tmp_path / "truncated.xml"
    cut.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(CommandError) as raised:
        run_import(wxr_files[0], cut)
    message = str(raised.value)
    assert "nothing was saved" in message
    assert "truncated.xml, line " in message
    assert table_counts() == before


def test_entity_declarations_are_refused(tmp_path):
    bomb = tmp_path / "bomb.xml"
    bomb.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;">]>\n'
        '<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>'
        "<item><title>&b;</title><wp:post_type>post</wp:post_type></item></channel></rss>"
    )
    with pytest.raises(ImportFormatError, match="bomb.xml"):
        list(WordPressImporter().read(bomb))


def test_an_export_without_wordpress_elements_is_refused(tmp_path):
    plain = tmp_path / "plain.wxr"
    plain.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><item><title>x</title></item></channel></rss>'
    )
    with pytest.raises(ImportFormatError, match="plain.wxr.*not a WordPress export"):
        list(WordPressImporter().read(plain))


# --- wpautop --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("classic", "expected"),
    [
        ("One\n\nTwo", "<p>One</p>\n<p>Two</p>"),
        ("Line one\nline two", "<p>Line one<br>\nline two</p>"),
        ("<h2>Head</h2>\nText", "<h2>Head</h2>\n<p>Text</p>"),
        ("<ul>\n<li>a</li>\n\n<li>b</li>\n</ul>", "<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
        ("<pre>a\n\nb</pre>", "<pre>a\n\nb</pre>"),
    ],
)
def test_wpautop_makes_paragraphs_as_wordpress_does(classic, expected):
    assert wpautop(classic).strip() == expected
