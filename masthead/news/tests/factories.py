"""Factories for news pages and authors.

Page factories come from wagtail-factories; ``publish_article`` goes through
``news.services.article_save`` (bylines, tags, editor picks, a real revision and
publish), which is what most reader-page tests need.
"""

import atexit
import datetime as dt
import shutil
import tempfile

import factory
import wagtail_factories
from django.utils import timezone
from wagtail.images import get_image_model

from masthead.news import services
from masthead.news.models import ArticlePage, Author, HomePage, SectionPage, StandardPage

# For class-level test data (setUpTestData runs before per-test fixtures set MEDIA_ROOT).
TEST_MEDIA_ROOT = tempfile.mkdtemp(prefix="masthead-test-media-")
atexit.register(shutil.rmtree, TEST_MEDIA_ROOT, ignore_errors=True)


class NewsImageFactory(wagtail_factories.ImageFactory):
    class Meta:
        model = get_image_model()

    credit = "Photo: Test Agency"
    caption = "A test picture"


class AuthorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Author
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Reporter Number{n}")
    slug = factory.LazyAttribute(lambda o: o.name.lower().replace(" ", "-"))
    bio = factory.LazyAttribute(lambda o: f"{o.name} covers the city for the paper.")
    picture = factory.SubFactory(NewsImageFactory)


class SectionPageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = SectionPage

    title = factory.Sequence(lambda n: f"Section {n}")
    slug = factory.LazyAttribute(lambda o: o.title.lower().replace(" ", "-"))
    intro = "Stories from this section."


class ArticlePageFactory(wagtail_factories.PageFactory):
    """An article without bylines; use ``publish_article`` for a complete one."""

    class Meta:
        model = ArticlePage

    title = factory.Sequence(lambda n: f"Article number {n}")
    slug = factory.LazyAttribute(lambda o: o.title.lower().replace(" ", "-"))
    standfirst = "A short summary."
    body = factory.LazyFunction(lambda: [("paragraph", "<p>First paragraph.</p>")])


class StandardPageFactory(wagtail_factories.PageFactory):
    class Meta:
        model = StandardPage

    title = factory.Sequence(lambda n: f"Standard {n}")
    slug = factory.LazyAttribute(lambda o: o.title.lower().replace(" ", "-"))


def home() -> HomePage:
    """Return the front page the data migration created."""
    return HomePage.objects.get()


def section(name: str = "Politics") -> SectionPage:
    """Return a published section under the front page."""
    return services.section_get_or_create(name=name, home=home())


_counter = iter(range(1, 10**6))


def publish_article(
    *,
    section_page: SectionPage | None = None,
    title: str | None = None,
    paragraphs: list[str] | None = None,
    authors: list[Author] | None = None,
    tags: list[str] = (),
    related: list[tuple[str, int | None]] = (),
    published_at: dt.datetime | None = None,
    featured_image=None,
) -> ArticlePage:
    """Create and publish an article through ``article_save``; return it."""
    n = next(_counter)
    page, _ = services.article_save(
        section=section_page or section(),
        title=title or f"Test story number {n}",
        body=services.body_from_paragraphs(
            paragraphs or [f"Paragraph one of story {n}.", "Paragraph two."]
        ),
        authors=authors or [AuthorFactory()],
        tags=list(tags),
        related=list(related),
        published_at=published_at or timezone.now() - dt.timedelta(minutes=n),
        featured_image=featured_image,
        standfirst=f"Summary of story {n}.",
    )
    return page
