"""A small published edition for the feed, sitemap, structured-data and HTML-validity tests."""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from wagtail.models import Site

from masthead.core.models import PublicationSettings
from masthead.news.models import ArticlePage, Author, SectionPage
from masthead.news.tests.factories import (
    ArticlePageFactory,
    AuthorFactory,
    NewsImageFactory,
    publish_article,
    section,
)

# The headline the issue names: it must not break out of JSON-LD, and must round-trip.
ADVERSARIAL_HEADLINE = "Mayor says \"no\" to </script><script>alert(1)</script> & 'more' 🗞️🚲"
SITE_ROOT = "http://localhost"  # the default Wagtail site the data migration creates


@dataclass
class Edition:
    politics: SectionPage
    city: SectionPage
    reporter: Author
    editor: Author
    lead: ArticlePage
    articles: list[ArticlePage] = field(default_factory=list)  # every published one, newest first
    draft: ArticlePage | None = None
    old: ArticlePage | None = None


def picture(width: int = 640, height: int = 360, **kwargs):
    """Return a saved NewsImage of the given size."""
    return NewsImageFactory(file__width=width, file__height=height, **kwargs)


def publication_settings(**overrides) -> PublicationSettings:
    """Set the default site's publication details (logo, default image, social accounts)."""
    site = Site.objects.get(is_default_site=True)
    settings = PublicationSettings.for_site(site)
    settings.name = overrides.get("name", "The Test Courier")
    settings.tagline = overrides.get("tagline", "News you can test")
    settings.language = overrides.get("language", "en-GB")
    settings.logo = overrides.get("logo", picture(200, 200, title="Courier logo"))
    settings.default_image = overrides.get("default_image", picture(title="Courier default"))
    settings.twitter_handle = overrides.get("twitter_handle", "testcourier")
    settings.facebook_url = overrides.get("facebook_url", "https://www.facebook.com/testcourier")
    settings.save()
    return settings


def build_edition(*, now: dt.datetime | None = None) -> Edition:
    """Publish a few articles across two sections, two authors and some tags; one draft, one old."""
    now = now or timezone.now()
    publication_settings()
    politics, city = section("Politics"), section("City")
    reporter = AuthorFactory(name="Ada Reporter", slug="ada-reporter", role="City reporter")
    editor = AuthorFactory(name="Bo Editor", slug="bo-editor", role="Politics editor")
    old = publish_article(
        section_page=city,
        title="Archive story from last month",
        authors=[reporter],
        tags=["Transport"],
        published_at=now - dt.timedelta(days=30),
        featured_image=picture(title="Old picture"),
    )
    middle = publish_article(
        section_page=city,
        title="Tram line reopens after repairs",
        authors=[reporter],
        tags=["Transport", "Trams"],
        published_at=now - dt.timedelta(hours=5),
    )
    lead = publish_article(
        section_page=politics,
        title="Council votes on the river crossing",
        paragraphs=[
            "The council voted on Monday.",
            'Read <a href="https://example.org/report">the report</a> and more.',
        ],
        authors=[editor, reporter],
        tags=["Transport", "Wend Bridge"],
        published_at=now - dt.timedelta(hours=1),
        featured_image=picture(title="The river", caption="The Wend at dusk"),
    )
    draft = ArticlePageFactory.build(
        title="Unpublished draft story", slug="unpublished-draft-story"
    )
    draft.live = False
    politics.add_child(instance=draft)
    draft.save_revision()  # a revision, never published
    return Edition(
        politics=politics,
        city=city,
        reporter=reporter,
        editor=editor,
        lead=lead,
        articles=[lead, middle, old],
        draft=ArticlePage.objects.get(pk=draft.pk),
        old=old,
    )
