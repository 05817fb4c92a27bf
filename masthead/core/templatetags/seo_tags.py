"""``{% seo_head %}``: canonical link, feed autodiscovery, Open Graph, Twitter card and JSON-LD.

The tag reads the context a reader page already has, so no page model is
imported here (imports go news → core):

- ``page`` (any Wagtail page): without it (search results, 404) only the feed
  links are written: such pages are not canonical and carry ``noindex``.
- ``home``: the front page; routable, with ``feed``/``feed_atom``, ``author``,
  ``author_feed``/``author_feed_atom`` and ``tag_feed``/``tag_feed_atom`` routes.
- ``is_front``: the front page itself → ``WebSite`` with a ``SearchAction``.
- ``author`` / ``tag``: an author's or a tag's archive.
- ``bylines``, ``section``, ``tags``, ``featured``: an article → ``NewsArticle``,
  ``BreadcrumbList`` and ``article:*`` properties; the page's ``date_modified()``
  is its "modified" date.
- ``articles``: a page of a paginated listing; pages past the first are
  canonical to themselves (``?page=N``).
"""

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.text import Truncator

from masthead.core import seo
from masthead.images.renditions import AVATAR_LARGE

register = template.Library()

DESCRIPTION_MAX_CHARS = 200  # what search and social snippets show before they cut
RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"


def route_url(request, routable, name: str, *args) -> str | None:
    """Return the URL of ``routable``'s route ``name``, or None when it has no such route."""
    if routable is None:
        return None
    try:
        return routable.get_url(request) + routable.reverse_subpage(name, args=list(args))
    except (AttributeError, NoReverseMatch, TypeError):
        return None


def feed_links(request, routable, title: str, rss: str, atom: str, *args) -> list[dict]:
    """Return autodiscovery links for a pair of RSS/Atom routes; [] when they do not exist."""
    links = []
    for name, kind, label, extra in (
        (rss, RSS_TYPE, "RSS", ()),
        (atom, ATOM_TYPE, "Atom", ("atom",)),
    ):
        url = route_url(request, routable, name, *args, *extra)
        if url:
            links.append({"type": kind, "title": f"{title} ({label})", "url": url})
    return links


def _description(*candidates) -> str:
    text = next((c for c in candidates if c), "")
    return Truncator(" ".join(str(text).split())).chars(DESCRIPTION_MAX_CHARS)


@register.inclusion_tag("components/seo_head.html", takes_context=True)
def seo_head(context) -> dict:
    """Return what ``components/seo_head.html`` writes into ``<head>`` for this page."""
    request = context.get("request")
    page = context.get("page")
    home = context.get("home")
    settings = seo.publication(request)
    author, tag, section = context.get("author"), context.get("tag"), context.get("section")
    is_article = "bylines" in context and page is not None
    name = settings.name

    feeds = feed_links(request, home, name, "feed", "feed_atom")
    if author is not None:
        feeds += feed_links(
            request, home, f"{name}: {author.name}", "author_feed", "author_feed_atom", author.slug
        )
    elif tag is not None:
        feeds += feed_links(
            request, home, f"{name}: {tag.name}", "tag_feed", "tag_feed_atom", tag.slug
        )
    elif is_article and section is not None:
        feeds += feed_links(request, section, f"{name}: {section.title}", "feed", "feed_atom")
    elif page is not None and home is not None and page.pk != home.pk:
        feeds += feed_links(request, page, f"{name}: {page.title}", "feed", "feed_atom")

    meta = {
        "feeds": feeds,
        "site_name": name,
        "locale": seo.og_locale(settings.language),
        "twitter_site": settings.twitter_handle.lstrip("@"),
        "json_ld": [],
    }
    if page is None or request is None:
        return {"seo": meta}

    listing = context.get("articles")
    canonical = seo.canonical_url(request, getattr(listing, "number", None))
    home_url = seo.absolute(request, home.get_url(request)) if home else seo.root_url(request) + "/"
    meta.update(canonical=canonical, og_type="website", article=None)
    image = None
    json_ld = []

    if author is not None:
        meta["og_type"] = "profile"
        meta["title"] = author.name
        meta["description"] = _description(author.bio, author.role)
        picture = seo.image_rendition(author.picture, AVATAR_LARGE, author.picture_alt)
        person = seo.person_ld(
            name=author.name,
            url=canonical,
            description=author.bio,
            job_title=author.role,
            image=seo.absolute(request, picture.url) if picture else "",
        )
        json_ld.append(seo.profile_page_ld(person, url=canonical))
    elif tag is not None:
        meta["title"] = tag.name
        meta["description"] = _description(f"Stories about {tag.name} from {name}.")
    elif context.get("is_front"):
        meta["title"] = name
        meta["description"] = _description(
            page.search_description, settings.tagline, getattr(page, "intro", "")
        )
        search_url = seo.absolute(request, reverse("search")) if _has_search() else ""
        json_ld.append(seo.website_ld(request, settings, url=home_url, search_url=search_url))
    elif is_article:
        meta["og_type"] = "article"
        meta["title"] = page.seo_title or page.title
        meta["description"] = _description(page.search_description, getattr(page, "standfirst", ""))
        featured = context.get("featured")
        caption = getattr(page, "caption", "") or (featured.title if featured else "")
        image = seo.image_rendition(featured, seo.IMAGE_16X9, caption)
        authors = [byline.author for byline in context.get("bylines") or []]
        author_urls = [
            seo.absolute(request, route_url(request, home, "author", a.slug) or "") for a in authors
        ]
        modified = (
            page.date_modified()
            if callable(getattr(page, "date_modified", None))
            else page.last_published_at
        )
        tag_names = [t.name for t in context.get("tags") or []]
        meta["article"] = {
            "published": seo.iso(page.first_published_at),
            "modified": seo.iso(modified),
            "authors": author_urls,
            "section": section.title if section else "",
            "tags": tag_names,
        }
        json_ld.append(
            seo.news_article_ld(
                request,
                settings,
                url=canonical,
                home_url=home_url,
                headline=page.title,
                description=meta["description"],
                images=seo.structured_images(featured, caption),
                published=page.first_published_at,
                modified=modified,
                authors=[
                    seo.person_ld(name=a.name, url=u)
                    for a, u in zip(authors, author_urls, strict=True)
                ],
                section=section.title if section else "",
                keywords=tag_names,
            )
        )
        trail = [(name, home_url)]
        if section is not None:
            trail.append((section.title, seo.absolute(request, section.get_url(request))))
        json_ld.append(seo.breadcrumb_ld(trail + [(page.title, canonical)]))
    else:
        meta["title"] = page.seo_title or page.title
        meta["description"] = _description(page.search_description, getattr(page, "intro", ""))
        if home is not None and page.pk != home.pk:
            json_ld.append(seo.breadcrumb_ld([(name, home_url), (page.title, canonical)]))

    if image is None:
        image = seo.image_rendition(settings.default_image, seo.IMAGE_16X9)
    meta["image"] = image
    if image is not None:
        meta["image_url"] = seo.absolute(request, image.url)
    meta["json_ld"] = [seo.json_ld(data) for data in json_ld]
    return {"seo": meta}


def _has_search() -> bool:
    try:
        reverse("search")
    except NoReverseMatch:
        return False
    return True
