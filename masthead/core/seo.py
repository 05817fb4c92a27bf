"""What search engines, aggregators and social networks read about a page.

Plain builders, no page models: canonical URLs, the publication's details
(``PublicationSettings``, the one place they live), social-card images, and
schema.org JSON-LD (``NewsArticle``, ``BreadcrumbList``, ``Person``/``ProfilePage``,
``WebSite`` with a ``SearchAction``, the publisher ``Organization``). The template
tags in ``core/templatetags/seo_tags.py`` feed them from a page's context.
"""

import datetime as dt
import json
from dataclasses import dataclass

from django.utils.safestring import SafeString, mark_safe
from wagtail.models import Site

from masthead.core.models import PublicationSettings
from masthead.images.renditions import renditions_for

SCHEMA_CONTEXT = "https://schema.org"

# Social cards and structured data use JPEG: every network and crawler reads it.
IMAGE_16X9 = "fill-1200x675-c75|format-jpeg|jpegquality-80"
IMAGE_4X3 = "fill-1200x900-c75|format-jpeg|jpegquality-80"
IMAGE_1X1 = "fill-1200x1200-c75|format-jpeg|jpegquality-80"
# Google asks for 16:9, 4:3 and 1:1 versions of an article's picture, each at least
# 50,000 pixels (width × height): https://developers.google.com/search/docs/appearance/structured-data/article
STRUCTURED_IMAGE_RATIOS = ((IMAGE_16X9, 16, 9), (IMAGE_4X3, 4, 3), (IMAGE_1X1, 1, 1))
STRUCTURED_IMAGE_RENDITIONS = tuple(spec for spec, _, _ in STRUCTURED_IMAGE_RATIOS)
STRUCTURED_IMAGE_MAX_WIDTH = 1200
MIN_STRUCTURED_IMAGE_PIXELS = 50_000
# Google: a publisher logo is at least 112×112; 512 keeps the file small.
LOGO = "max-512x512|format-png"

# Characters that could end a <script> element or start an HTML comment are
# written as JSON escapes; JSON parsers read them back as the same characters.
_JSON_SCRIPT_ESCAPES = {
    ord("<"): "\\u003C",
    ord(">"): "\\u003E",
    ord("&"): "\\u0026",
    ord("\u2028"): "\\u2028",
    ord("\u2029"): "\\u2029",
}


@dataclass(frozen=True)
class SocialImage:
    url: str
    width: int
    height: int
    alt: str = ""


def json_ld(data: dict) -> SafeString:
    """Return ``data`` as a ``<script type="application/ld+json">`` element.

    Any text (a headline with ``</script>``, quotes or emoji) stays inside the
    element and parses back to exactly the same string. Raises TypeError for
    values JSON cannot hold.
    """
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return mark_safe(
        '<script type="application/ld+json">' + text.translate(_JSON_SCRIPT_ESCAPES) + "</script>"
    )


def iso(value: dt.datetime | None) -> str:
    """Return a W3C / ISO 8601 date-time with seconds and offset, or "" for None."""
    return value.isoformat(timespec="seconds") if value else ""


def site_for(request) -> Site | None:
    """Return the Wagtail site serving ``request`` (cached on the request), or the default site."""
    site = Site.find_for_request(request) if request is not None else None
    if site is None:
        site = Site.objects.filter(is_default_site=True).first()
    return site


def root_url(request) -> str:
    """Return the site's public root ("https://news.example"), without a trailing slash.

    Canonical URLs, feeds, sitemaps and JSON-LD all use the Wagtail site's
    hostname, never the Host header a reader sent.
    """
    site = site_for(request)
    if site is not None:
        return site.root_url
    return request.build_absolute_uri("/").rstrip("/")


def absolute(request, url: str) -> str:
    """Return ``url`` made absolute against the site's root; absolute URLs come back unchanged."""
    if not url or "://" in url or url.startswith("//"):
        return url
    return root_url(request) + ("" if url.startswith("/") else "/") + url


def canonical_url(request, page_number: int | None = None) -> str:
    """Return the canonical URL of the page ``request`` asked for.

    Query strings are dropped, except ``?page=N`` past the first page of a
    listing: each page of a paginated listing is canonical to itself.
    """
    url = root_url(request) + request.path
    if page_number and page_number > 1:
        url += f"?page={page_number}"
    return url


def publication(request) -> PublicationSettings:
    """Return the publication's details for the request's site.

    Wagtail caches them on the request, so templates reading
    ``settings.core.PublicationSettings`` and this share one query.
    """
    if request is not None:
        return PublicationSettings.for_request(request)
    site = site_for(None)
    return PublicationSettings.for_site(site) if site else PublicationSettings()


def og_locale(language: str) -> str:
    """Return Open Graph's locale for a BCP 47 tag: "en-GB" → "en_GB", "en" → "en"."""
    parts = (language or "en").replace("_", "-").split("-")
    if len(parts) > 1 and len(parts[1]) == 2:
        return f"{parts[0].lower()}_{parts[1].upper()}"
    return parts[0].lower()


def news_language(language: str) -> str:
    """Return the Google News sitemap language for a BCP 47 tag.

    Google wants an ISO 639 code of two or three letters, except ``zh-cn`` and
    ``zh-tw`` for Simplified and Traditional Chinese: "en-GB" → "en",
    "zh-Hant-TW" → "zh-tw". An unusable tag gives "en".
    """
    parts = [p.lower() for p in (language or "").replace("_", "-").split("-") if p]
    if not parts or not parts[0].isalpha() or not 2 <= len(parts[0]) <= 3:
        return "en"
    if parts[0] == "zh":
        return "zh-tw" if {"hant", "tw", "hk", "mo"} & set(parts[1:]) else "zh-cn"
    return parts[0]


def image_rendition(image, spec: str, alt: str = "") -> SocialImage | None:
    """Return a rendition of ``image`` as a SocialImage, or None when there is no image or file."""
    if image is None:
        return None
    try:
        rendition = renditions_for(image, [spec])[spec]
    except (OSError, ValueError):  # a missing or unreadable original file
        return None
    return SocialImage(rendition.url, rendition.width, rendition.height, alt or image.title)


def structured_images(image, alt: str = "") -> list[SocialImage]:
    """Return 16:9, 4:3 and 1:1 crops of ``image``, leaving out those too small to count.

    A crop is kept when the largest version of that shape the original allows
    (never enlarged, at most 1200 wide) has at least 50,000 pixels. No image: [].
    """
    if image is None or not image.width or not image.height:
        return []
    found = []
    for spec, w, h in STRUCTURED_IMAGE_RATIOS:
        width = min(image.width, image.height * w / h, STRUCTURED_IMAGE_MAX_WIDTH)
        if width * (width * h / w) < MIN_STRUCTURED_IMAGE_PIXELS:
            continue
        rendition = image_rendition(image, spec, alt)
        if rendition is not None:
            found.append(rendition)
    return found


def image_object(request, image: SocialImage) -> dict:
    return {
        "@type": "ImageObject",
        "url": absolute(request, image.url),
        "width": image.width,
        "height": image.height,
    }


def same_as(settings: PublicationSettings) -> list[str]:
    """Return the publication's social profiles as URLs (for schema.org ``sameAs``)."""
    urls = []
    if settings.twitter_handle:
        urls.append(f"https://x.com/{settings.twitter_handle.lstrip('@')}")
    if settings.facebook_url:
        urls.append(settings.facebook_url)
    return urls


def organization_ld(request, settings: PublicationSettings, url: str) -> dict:
    """Return the publisher as a schema.org ``NewsMediaOrganization`` (logo when one is set)."""
    data = {"@type": "NewsMediaOrganization", "name": settings.name, "url": url}
    logo = image_rendition(settings.logo, LOGO, settings.name)
    if logo is not None:
        data["logo"] = image_object(request, logo)
    if same_as(settings):
        data["sameAs"] = same_as(settings)
    return data


def website_ld(request, settings: PublicationSettings, *, url: str, search_url: str) -> dict:
    """Return ``WebSite`` with a ``SearchAction`` (the sitelinks search box) and its publisher."""
    return {
        "@context": SCHEMA_CONTEXT,
        "@type": "WebSite",
        "name": settings.name,
        "url": url,
        "inLanguage": settings.language,
        "publisher": organization_ld(request, settings, url),
        "potentialAction": {
            "@type": "SearchAction",
            "target": {
                "@type": "EntryPoint",
                "urlTemplate": f"{search_url}?q={{search_term_string}}",
            },
            "query-input": "required name=search_term_string",
        },
    }


def breadcrumb_ld(items: list[tuple[str, str]]) -> dict:
    """Return a ``BreadcrumbList`` of (name, absolute URL) pairs, outermost first."""
    return {
        "@context": SCHEMA_CONTEXT,
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": n, "name": name, "item": url}
            for n, (name, url) in enumerate(items, start=1)
        ],
    }


def person_ld(
    *, name: str, url: str, description: str = "", job_title: str = "", image: str = ""
) -> dict:
    """Return a schema.org ``Person``; empty fields are left out."""
    data = {"@type": "Person", "name": name, "url": url}
    if job_title:
        data["jobTitle"] = job_title
    if description:
        data["description"] = description
    if image:
        data["image"] = image
    return data


def profile_page_ld(person: dict, *, url: str) -> dict:
    """Return a ``ProfilePage`` whose main entity is ``person`` (Google's author page markup)."""
    return {"@context": SCHEMA_CONTEXT, "@type": "ProfilePage", "url": url, "mainEntity": person}


def news_article_ld(
    request,
    settings: PublicationSettings,
    *,
    url: str,
    home_url: str,
    headline: str,
    description: str,
    images: list[SocialImage],
    published: dt.datetime | None,
    modified: dt.datetime | None,
    authors: list[dict],
    section: str,
    keywords: list[str],
) -> dict:
    """Return a schema.org ``NewsArticle`` with what Google's article guidelines list.

    ``authors`` are ``person_ld`` dicts; empty values are left out rather than
    sent empty.
    """
    data = {
        "@context": SCHEMA_CONTEXT,
        "@type": "NewsArticle",
        "headline": headline,
        "url": url,
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "inLanguage": settings.language,
        "author": authors,
        "publisher": organization_ld(request, settings, home_url),
        "isAccessibleForFree": True,
    }
    if description:
        data["description"] = description
    if images:
        data["image"] = [image_object(request, image) for image in images]
    if published:
        data["datePublished"] = iso(published)
    if modified:
        data["dateModified"] = iso(modified)
    if section:
        data["articleSection"] = section
    if keywords:
        data["keywords"] = keywords
    return data
