"""Sitemaps (a sitemap index, articles with their pictures, a Google News sitemap,
sections, tags, authors, other pages) and robots.txt.

Each sitemap subclasses ``wagtail.contrib.sitemaps.Sitemap`` and is served by
Django's sitemap views; the Google News sitemap is one more subclass with its
own template. URLs come from the Wagtail site (``Site.root_url``), as canonical
links and feeds do, never from the Host header.
"""

import datetime as dt

from django.contrib.sitemaps import views as sitemap_views
from django.core.paginator import Paginator
from django.db.models import Max
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from taggit.models import Tag
from wagtail.contrib.sitemaps import Sitemap

from masthead.core import seo
from masthead.core.ordering import newest_first
from masthead.news.models import ArticlePage, Author, HomePage, SectionPage, StandardPage

SITEMAP_MAX_URLS = 50_000  # sitemaps.org: at most 50,000 URLs in one sitemap file
NEWS_MAX_URLS = 1_000  # Google News: at most 1,000 URLs in a news sitemap
NEWS_WINDOW = dt.timedelta(hours=48)  # Google News: only articles from the last two days
ROBOTS_DISALLOWED_URL_NAMES = ("search", "wagtailadmin_home")  # search results; the newsroom


class NewsSitemap(Sitemap):
    """Base of Masthead's sitemaps: absolute ``loc``, full ``lastmod`` times, picture entries."""

    limit = SITEMAP_MAX_URLS
    template_name = "sitemaps/sitemap.xml"

    @property
    def paginator(self):
        # One paginator per request: the index and the view both ask for it.
        if not hasattr(self, "_paginator"):
            self._paginator = Paginator(self._items(), self.limit)
        return self._paginator

    @property
    def home(self) -> HomePage | None:
        if not hasattr(self, "_home"):
            root = self.get_wagtail_site().root_page.specific
            self._home = root if isinstance(root, HomePage) else None
        return self._home

    def location(self, item) -> str:
        return item.get_full_url(self.request)

    def lastmod(self, item) -> dt.datetime | None:
        return item.last_published_at

    def images(self, item) -> list[str]:
        return []

    def news(self, item) -> dict | None:
        return None

    def route_location(self, route: str, slug: str) -> str:
        """Return the absolute URL of one of the front page's archive routes."""
        home = self.home
        return seo.absolute(
            self.request, home.get_url(self.request) + home.reverse_subpage(route, args=[slug])
        )

    def get_latest_lastmod(self) -> dt.datetime | None:
        return None

    def _urls(self, page, protocol, domain):
        urls = []
        lastmods = []
        for item in self.paginator.page(page).object_list:
            lastmod = self.lastmod(item)
            lastmods.append(lastmod)
            urls.append(
                {
                    "location": self.location(item),
                    "lastmod": seo.iso(lastmod),
                    "images": self.images(item),
                    "news": self.news(item),
                }
            )
        # Django's view sends Last-Modified only when every URL has a lastmod.
        if lastmods and None not in lastmods:
            self.latest_lastmod = max(lastmods)
        return urls


class ArticleSitemap(NewsSitemap):
    """Every published article, oldest first (so a split sitemap's early files stay put)."""

    def items(self):
        return (
            ArticlePage.objects.live()
            .public()
            .descendant_of(self.get_wagtail_site().root_page)
            .defer_streamfields()
            .select_related("featured_image")
            .order_by("first_published_at", "pk")
        )

    def lastmod(self, item):
        return item.date_modified()

    def images(self, item):
        # The original file: no rendition is made while a 50,000-URL sitemap is built.
        image = item.featured_image
        return [seo.absolute(self.request, image.file.url)] if image and image.file else []

    def get_latest_lastmod(self):
        return self.items().aggregate(latest=Max("last_published_at"))["latest"]


class GoogleNewsSitemap(ArticleSitemap):
    """Articles first published in the last 48 hours, newest first, at most 1,000."""

    limit = NEWS_MAX_URLS
    template_name = "sitemaps/news.xml"

    def items(self):
        since = timezone.now() - NEWS_WINDOW
        return (
            super()
            .items()
            .filter(first_published_at__gte=since)
            .order_by(*newest_first())[:NEWS_MAX_URLS]
        )

    def images(self, item):
        return []

    def news(self, item):
        settings = seo.publication(self.request)
        return {
            "name": settings.name,
            "language": seo.news_language(settings.language),
            "date": seo.iso(item.first_published_at),
            "title": item.title,
        }

    def get_latest_lastmod(self):
        since = timezone.now() - NEWS_WINDOW
        return (
            ArticleSitemap.items(self)
            .filter(first_published_at__gte=since)
            .aggregate(latest=Max("last_published_at"))["latest"]
        )


class SectionSitemap(NewsSitemap):
    def items(self):
        return (
            SectionPage.objects.live()
            .public()
            .descendant_of(self.get_wagtail_site().root_page)
            .order_by("path")
        )


class PageSitemap(NewsSitemap):
    """The front page and standard pages (About, Contact…)."""

    def items(self):
        root = self.get_wagtail_site().root_page
        return (
            root.get_descendants(inclusive=True)
            .live()
            .public()
            .type(HomePage, StandardPage)
            .order_by("path")
            .specific()
        )


class TagSitemap(NewsSitemap):
    """Tags with at least one live article; lastmod is their newest article's."""

    def items(self):
        if self.home is None:
            return Tag.objects.none()
        return (
            Tag.objects.filter(news_articletag_items__content_object__live=True)
            .annotate(lastmod=Max("news_articletag_items__content_object__last_published_at"))
            .order_by("slug")
        )

    def location(self, item):
        return self.route_location("tag", item.slug)

    def lastmod(self, item):
        return item.lastmod


class AuthorSitemap(NewsSitemap):
    """Authors with at least one live article; lastmod is their newest article's."""

    def items(self):
        if self.home is None:
            return Author.objects.none()
        return (
            Author.objects.filter(bylines__page__live=True)
            .annotate(lastmod=Max("bylines__page__last_published_at"))
            .order_by("slug")
        )

    def location(self, item):
        return self.route_location("author", item.slug)

    def lastmod(self, item):
        return item.lastmod


SITEMAPS = {
    "news": GoogleNewsSitemap,
    "articles": ArticleSitemap,
    "sections": SectionSitemap,
    "tags": TagSitemap,
    "authors": AuthorSitemap,
    "pages": PageSitemap,
}


@require_GET
def index(request):
    """Return the sitemap index: every sitemap that has URLs, each file of a split one.

    An empty sitemap is left out (the sitemap schema requires at least one URL);
    a quiet two days leave the Google News sitemap out until the next story.
    """
    root = seo.root_url(request)
    entries = []
    for name, cls in SITEMAPS.items():
        sitemap = cls(request)
        pages = sitemap.paginator.num_pages if sitemap.paginator.count else 0
        if not pages:
            continue
        url = root + reverse("sitemap", kwargs={"section": name})
        lastmod = seo.iso(sitemap.get_latest_lastmod())
        entries += [
            {"location": url if n == 1 else f"{url}?p={n}", "lastmod": lastmod}
            for n in range(1, pages + 1)
        ]
    response = TemplateResponse(
        request, "sitemaps/index.xml", {"sitemaps": entries}, content_type="application/xml"
    )
    response.headers["X-Robots-Tag"] = "noindex, noodp, noarchive"
    return response


@require_GET
def sitemap(request, section: str):
    """Return one sitemap (``?p=N`` for the Nth file of a split one); 404 for an unknown name."""
    cls = SITEMAPS.get(section)
    if cls is None:
        raise Http404(f"No sitemap called {section!r}")
    return sitemap_views.sitemap(
        request, {section: cls(request)}, section=section, template_name=cls.template_name
    )


@require_GET
def robots_txt(request):
    """Return robots.txt: crawl everything but search results and the newsroom; name the sitemaps."""
    lines = ["User-agent: *"]
    for name in ROBOTS_DISALLOWED_URL_NAMES:
        try:
            lines.append(f"Disallow: {reverse(name)}")
        except NoReverseMatch:
            continue
    lines += ["", f"Sitemap: {seo.root_url(request)}{reverse('sitemap_index')}", ""]
    return HttpResponse("\n".join(lines), content_type="text/plain; charset=utf-8")
