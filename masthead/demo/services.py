"""Load Masthead's own sample edition: "The Northbridge Courier", a fictional local paper."""

import datetime as dt
import json
from importlib import resources

from django.core.files.images import ImageFile
from django.db import transaction
from django.utils import timezone
from wagtail.images import get_image_model
from wagtail.models import Site

from masthead.core.models import PublicationSettings
from masthead.demo import images as drawings
from masthead.news import services as news
from masthead.news.models import ArticlePage, Author, HomePage, StandardPage

DEMO_SOURCE_PREFIX = "demo:"
CREDIT = "Illustration: Masthead sample edition"
ABOUT_HTML = """
<p>This site is Masthead's sample edition. <b>The Northbridge Courier</b>, the city of
Northbridge, the river Wend and everyone in these stories are invented: the articles were
written for Masthead to show what a news site built with it looks like, and the pictures are
drawn by a small program when the demo is loaded.</p>
<p>Masthead is an open-source news publishing platform built on Wagtail. Editors write, schedule
and publish in the newsroom at <a href="/newsroom/">/newsroom/</a>; readers get the front page,
sections, topics, author pages, search, and on every article the related, trending and recent
stories you see here.</p>
<p>To replace the sample content with your own, delete these pages in the newsroom or import
an archive with <code>masthead import</code>.</p>
"""


def _edition_file(name: str) -> str:
    return resources.files("masthead.demo").joinpath("edition", name).read_text(encoding="utf-8")


def _articles() -> list[dict]:
    rows = []
    for name in ("articles-1.jsonl", "articles-2.jsonl"):
        rows += [json.loads(line) for line in _edition_file(name).splitlines() if line.strip()]
    return rows


def _image(title: str, data: bytes, filename: str, caption: str = ""):
    from django.core.files.base import ContentFile

    return get_image_model().objects.create(
        title=title[:255],
        description=title[:255],  # the alt text the newsroom requires of article pictures
        file=ImageFile(ContentFile(data), name=filename),
        caption=caption[:500],
        credit=CREDIT,
    )


def demo_is_loaded() -> bool:
    return ArticlePage.objects.filter(source_id__startswith=DEMO_SOURCE_PREFIX).exists()


@transaction.atomic
def demo_load(*, now: dt.datetime | None = None) -> int:
    """Load the sample edition once; return the number of articles created (0 if already loaded)."""
    if demo_is_loaded():
        return 0
    now = now or timezone.now()
    edition = json.loads(_edition_file("edition.json"))
    home = news.home_get()
    publication = edition["publication"]
    home.title = publication["name"]
    home.draft_title = publication["name"]
    home.intro = publication["tagline"]
    home.save_revision().publish()
    site = Site.objects.filter(root_page=home).first() or Site.objects.get(is_default_site=True)
    site.site_name = publication["name"]
    site.save()
    settings = PublicationSettings.for_site(site)
    settings.name = publication["name"]
    settings.tagline = publication["tagline"]
    settings.language = publication["language"]
    settings.save()

    sections = {}
    for row in edition["sections"]:
        section = news.section_get_or_create(name=row["name"], home=home)
        if section.slug != row["slug"] or section.intro != row["intro"]:
            section.slug = row["slug"]
            section.intro = row["intro"]
            section.save_revision().publish()
        sections[row["slug"]] = section

    authors = {}
    for row in edition["authors"]:
        author, _ = Author.objects.get_or_create(slug=row["slug"], defaults={"name": row["name"]})
        author.bio = row["bio"]
        if row["picture"] and not author.picture_id:
            author.picture = _image(
                f"Portrait of {row['name']}",
                drawings.portrait(name=row["name"]),
                f"{row['slug']}.jpg",
            )
        author.save()
        authors[row["slug"]] = author

    rows = sorted(_articles(), key=lambda row: -row["age_hours"])  # oldest first, so picks resolve
    titles = {row["key"]: row["title"] for row in rows}
    created = 0
    for row in rows:
        picture = row.get("image") or {}
        image = None
        if picture.get("motif"):
            image = _image(
                picture.get("alt") or row["title"],
                drawings.illustration(
                    motif=picture["motif"], section=row["section"], seed=row["key"]
                ),
                f"{row['key']}.jpg",
                caption=picture.get("caption", ""),
            )
        also = row.get("also_read")
        news.article_save(
            section=sections[row["section"]],
            title=row["title"],
            standfirst=row["standfirst"],
            body=news.body_from_paragraphs(row["body"]),
            authors=[authors[slug] for slug in row["authors"]],
            tags=row["tags"],
            published_at=now - dt.timedelta(hours=row["age_hours"]),
            source_id=f"{DEMO_SOURCE_PREFIX}{row['key']}",
            featured_image=image,
            related=[(titles[also["key"]], also["after_paragraph"])]
            if also and also["key"] in titles
            else [],
        )
        created += 1

    if not StandardPage.objects.child_of(home).filter(slug="about-this-demo").exists():
        about = home.add_child(
            instance=StandardPage(
                title="About this demo", slug="about-this-demo", body=ABOUT_HTML.strip()
            )
        )
        about.save_revision().publish()
    return created


__all__ = ["demo_load", "demo_is_loaded", "HomePage"]
