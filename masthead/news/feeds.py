"""RSS 2.0 and Atom feeds of articles, built on Django's syndication framework.

One feed class serves every listing (the whole site, a section, an author, a
tag); the routes that own them (``feed/`` on ``HomePage`` and each
``SectionPage``, ``authors/<slug>/feed/`` and ``tags/<slug>/feed/`` on
``HomePage``) hand it a ``FeedSource``. Each item has the headline, the
standfirst as summary, the full body as sanitized HTML with absolute links,
bylines, the section and tags as categories, the picture as an enclosure and
``media:content``, and the time it was last updated.
"""

from dataclasses import dataclass

import nh3
from django.contrib.syndication.views import Feed
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.feedgenerator import Atom1Feed, Enclosure, Rss201rev2Feed
from django.utils.html import escape
from taggit.models import Tag
from wagtail.images import get_image_model

from masthead.core import seo
from masthead.images.renditions import renditions_for
from masthead.news.models import ArticleAuthor, ArticlePage, ArticleTag, HomePage, SectionPage
from masthead.news.models.pages import home_for
from masthead.news.models.querysets import author_queryset

FEED_ITEMS = 30  # a busy day's stories; readers poll far more often than that
FEED_IMAGE = seo.IMAGE_16X9  # the social-card crop: JPEG, 1200 wide, already made for articles

# What a feed reader may show of an article body: text structure, links, pictures.
FEED_TAGS = {
    "p", "br", "b", "strong", "i", "em", "u", "s", "sub", "sup", "code", "a", "h2", "h3", "h4",
    "ul", "ol", "li", "blockquote", "hr", "figure", "figcaption", "img", "span",
}  # fmt: skip
FEED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"}}
URL_ATTRIBUTES = {"href", "src"}
URL_SCHEMES = {"http", "https", "mailto", "tel"}


class RssWithContent(Rss201rev2Feed):
    """RSS 2.0 with the full text (``content:encoded``) and the picture (``media:content``)."""

    def rss_attributes(self):
        attrs = super().rss_attributes()
        attrs["xmlns:content"] = "http://purl.org/rss/1.0/modules/content/"
        attrs["xmlns:media"] = "http://search.yahoo.com/mrss/"
        return attrs

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content:encoded", item["content"])
        media = item.get("media")
        if media:
            handler.startElement(
                "media:content",
                {
                    "url": media["url"],
                    "medium": "image",
                    "type": media["type"],
                    "width": str(media["width"]),
                    "height": str(media["height"]),
                },
            )
            if media.get("description"):
                handler.addQuickElement("media:description", media["description"])
            if media.get("credit"):
                handler.addQuickElement("media:credit", media["credit"])
            handler.endElement("media:content")


class AtomWithContent(Atom1Feed):
    """Atom 1.0 with the full text as ``<content type="html">`` beside the summary."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        if item.get("content"):
            handler.addQuickElement("content", item["content"], {"type": "html"})


@dataclass(frozen=True)
class FeedSource:
    """A listing as a feed: its title, the page it mirrors, and its articles."""

    title: str
    description: str
    link: str
    feed_url: str
    articles: QuerySet


def feed_queryset(articles: QuerySet) -> QuerySet:
    """Return the newest live, public articles of ``articles`` with what an item needs prefetched."""
    images = get_image_model().objects.prefetch_renditions(FEED_IMAGE)
    return articles.published().prefetch_related(
        Prefetch("featured_image", queryset=images),
        Prefetch(
            "article_authors",
            queryset=ArticleAuthor.objects.select_related("author").order_by("sort_order"),
        ),
        Prefetch("tagged_items", queryset=ArticleTag.objects.select_related("tag")),
    )[:FEED_ITEMS]


def absolutize(base: str):
    """Return an nh3 attribute filter that makes relative ``href``/``src`` absolute against ``base``."""

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if attribute in URL_ATTRIBUTES and value.startswith("/") and not value.startswith("//"):
            return base + value
        return value

    return attribute_filter


def body_html(page: ArticlePage, request) -> str:
    """Return the article body as sanitized HTML with absolute links, for feed readers.

    Embeds become plain links (no oEmbed provider is called while a feed is
    built); scripts, styles and event attributes never get through.
    """
    parts = []
    for block in page.body:
        if block.block_type == "embed":
            url = block.value["url"].url if block.value.get("url") else ""
            if url:
                parts.append(f'<p><a href="{escape(url)}">{escape(url)}</a></p>')
            continue
        parts.append(block.render(context={"request": request}))
    return nh3.clean(
        "".join(parts),
        tags=FEED_TAGS,
        attributes=FEED_ATTRIBUTES,
        attribute_filter=absolutize(seo.root_url(request)),
        url_schemes=URL_SCHEMES,
        link_rel=None,
        strip_comments=True,
    )


class ArticleFeed(Feed):
    """The RSS 2.0 feed of a ``FeedSource``; ``ArticleAtomFeed`` is the same in Atom."""

    feed_type = RssWithContent

    def __call__(self, request, *args, **kwargs):
        self.request = request
        self.home = kwargs.pop("home")
        self.publication = seo.publication(request)
        self.language = self.publication.language
        return super().__call__(request, *args, **kwargs)

    def get_object(self, request, source: FeedSource):
        return source

    def title(self, source):
        return source.title

    def link(self, source):
        return source.link

    def feed_url(self, source):
        return source.feed_url

    def description(self, source):
        return source.description

    def subtitle(self, source):
        return source.description

    def author_name(self, source):
        # Atom needs an author for entries without one; the publication is the fallback.
        return self.publication.name

    def feed_copyright(self, source):
        return f"© {self.publication.name}"

    def items(self, source):
        items = list(source.articles)
        sections = {s.path: s for s in self.home.sections}
        for item in items:
            item.feed_section = sections.get(item.path[: -item.steplen])
        return items

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.standfirst or item.search_description or item.title

    def item_link(self, item):
        return item.get_full_url(self.request)

    def item_guid(self, item):
        return item.get_full_url(self.request)

    def item_pubdate(self, item):
        return item.first_published_at

    def item_updateddate(self, item):
        return item.date_modified()

    def item_author_name(self, item):
        names = [byline.author.name for byline in item.article_authors.all()]
        if len(names) > 1:
            return ", ".join(names[:-1]) + " and " + names[-1]
        return names[0] if names else None

    def item_author_link(self, item):
        bylines = list(item.article_authors.all())
        if not bylines:
            return None
        return seo.absolute(
            self.request,
            self.home.get_url(self.request)
            + self.home.reverse_subpage("author", args=[bylines[0].author.slug]),
        )

    def item_categories(self, item):
        section = [item.feed_section.title] if item.feed_section else []
        return section + [tagged.tag.name for tagged in item.tagged_items.all()]

    def _rendition(self, item):
        """Return the item's picture as the feed's JPEG rendition (prefetched), or None."""
        if not hasattr(item, "_feed_rendition"):
            item._feed_rendition = None
            if item.featured_image is not None:
                try:
                    found = renditions_for(item.featured_image, [FEED_IMAGE])
                    item._feed_rendition = found[FEED_IMAGE]
                except (OSError, ValueError):  # a missing or unreadable original
                    pass
        return item._feed_rendition

    def item_enclosures(self, item):
        rendition = self._rendition(item)
        if rendition is None:
            return []
        try:
            length = str(rendition.file.size)
        except OSError:  # the file is gone from storage; RSS still requires a length
            length = "0"
        return [Enclosure(seo.absolute(self.request, rendition.url), length, "image/jpeg")]

    def item_extra_kwargs(self, item):
        extra = {"content": body_html(item, self.request)}
        rendition = self._rendition(item)
        if rendition is not None:
            extra["media"] = {
                "url": seo.absolute(self.request, rendition.url),
                "type": "image/jpeg",
                "width": rendition.width,
                "height": rendition.height,
                "description": item.caption,
                "credit": item.featured_image.credit,
            }
        return extra


class ArticleAtomFeed(ArticleFeed):
    feed_type = AtomWithContent


def render(request, home: HomePage, source: FeedSource, *, atom: bool):
    """Return the HTTP response of ``source`` as Atom (``atom=True``) or RSS 2.0."""
    view = ArticleAtomFeed() if atom else ArticleFeed()
    return view(request, source=source, home=home)


def _urls(request, page, route: str, *args, atom: bool) -> tuple[str, str]:
    """Return (absolute URL of the listing, absolute URL of its feed) for a routable page."""
    base = page.get_url(request)
    listing = base + (page.reverse_subpage(route, args=list(args)) if route else "")
    name = f"{route}_feed" if route else "feed"
    feed = base + page.reverse_subpage(
        f"{name}_atom" if atom else name, args=list(args) + (["atom"] if atom else [])
    )
    return seo.absolute(request, listing), seo.absolute(request, feed)


def site_feed(request, home: HomePage, *, atom: bool = False):
    """Return the feed of the newest articles of the whole site."""
    publication = seo.publication(request)
    link, feed_url = _urls(request, home, "", atom=atom)
    source = FeedSource(
        title=publication.name,
        description=publication.tagline or f"The latest stories from {publication.name}.",
        link=link,
        feed_url=feed_url,
        articles=feed_queryset(ArticlePage.objects.descendant_of(home)),
    )
    return render(request, home, source, atom=atom)


def section_feed(request, section: SectionPage, *, atom: bool = False):
    """Return the feed of a section's newest articles."""
    publication = seo.publication(request)
    home = home_for(request, section)
    link, feed_url = _urls(request, section, "", atom=atom)
    source = FeedSource(
        title=f"{section.title} | {publication.name}",
        description=section.intro or f"The latest {section.title} stories from {publication.name}.",
        link=link,
        feed_url=feed_url,
        articles=feed_queryset(ArticlePage.objects.child_of(section)),
    )
    return render(request, home, source, atom=atom)


def author_feed(request, home: HomePage, slug: str, *, atom: bool = False):
    """Return the feed of an author's newest articles; Http404 for an unknown slug."""
    publication = seo.publication(request)
    author = get_object_or_404(author_queryset(), slug=slug)
    link, feed_url = _urls(request, home, "author", slug, atom=atom)
    source = FeedSource(
        title=f"{author.name} | {publication.name}",
        description=author.bio or f"Stories by {author.name} in {publication.name}.",
        link=link,
        feed_url=feed_url,
        articles=feed_queryset(ArticlePage.objects.descendant_of(home).by_author(author)),
    )
    return render(request, home, source, atom=atom)


def tag_feed(request, home: HomePage, slug: str, *, atom: bool = False):
    """Return the feed of a tag's newest articles; Http404 for an unknown slug."""
    publication = seo.publication(request)
    tag = get_object_or_404(Tag, slug=slug)
    link, feed_url = _urls(request, home, "tag", slug, atom=atom)
    source = FeedSource(
        title=f"{tag.name} | {publication.name}",
        description=f"Stories about {tag.name} from {publication.name}.",
        link=link,
        feed_url=feed_url,
        articles=feed_queryset(ArticlePage.objects.descendant_of(home).tagged(tag)),
    )
    return render(request, home, source, atom=atom)
