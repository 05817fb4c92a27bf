"""``{% responsive_picture image "lead" alt="…" %}``: a picture in AVIF, WebP and its own format.

Wagtail's ``{% picture %}`` tag leaves ``width`` and ``height`` off its ``<source>``s, lists two
renditions of the same width twice when the original is smaller than the largest crop (an
invalid ``srcset``), and needs the fallback's format spelt out; this tag does neither.
"""

from django import template
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from wagtail.images.models import SourceImageIOError
from wagtail.images.shortcuts import get_rendition_or_not_found, get_renditions_or_not_found

from masthead.images.renditions import (
    MIME_TYPES,
    PICTURES,
    SOURCE_FORMATS,
    PictureRecipe,
    filter_for,
    renditions_for,
)

register = template.Library()


@register.simple_tag
def responsive_picture(image, recipe: str, **attrs) -> SafeString:
    """Return a ``<picture>`` of ``image`` drawn by a recipe named in ``PICTURES``.

    Keyword arguments become attributes of the ``<img>`` (``alt``, ``loading``, ``class``…);
    ``sizes`` replaces the recipe's. An empty ``image`` gives an empty string; an unknown
    recipe raises ``KeyError``; a missing image file gives Wagtail's "not-found" picture.
    Renditions come from the image's prefetched ones when the view loaded them, else from
    one lookup, and are made (once, in one pass) only when they do not exist yet.
    """
    if not image:
        return mark_safe("")
    return picture_html(image, PICTURES[recipe], attrs)


@register.simple_tag
def rendition_img(image, spec: str, **attrs) -> SafeString:
    """Return an ``<img>`` of ``image`` at the filter ``spec`` ("fill-96x96|format-webp").

    What Wagtail's ``{% image %}`` draws, without its write of the rendition back
    to the cache on every view (``renditions_for``). An empty ``image`` gives "";
    an SVG keeps its own format (Wagtail cannot rasterise it); a missing file
    gives Wagtail's "not-found" image.
    """
    if not image:
        return mark_safe("")
    if image.is_svg():
        spec = "|".join(op for op in spec.split("|") if not op.startswith("format-"))
    try:
        rendition = renditions_for(image, [spec])[spec]
    except SourceImageIOError:
        rendition = get_rendition_or_not_found(image, filter_for(spec))
    return rendition.img_tag(attrs)


def picture_html(image, recipe: PictureRecipe, attrs: dict) -> SafeString:
    """Return the ``<picture>`` element for ``image`` as ``recipe`` describes it."""
    attrs = dict(attrs)
    sizes = attrs.pop("sizes", None) or recipe.sizes
    if image.is_svg():
        # Wagtail drops format and crop operations for SVG: one vector file serves every size.
        rendition = get_rendition_or_not_found(image, filter_for(recipe.crops[-1]))
        return format_html("<picture>{}</picture>", rendition.img_tag(attrs))
    try:
        renditions = renditions_for(image, recipe.specs)
    except SourceImageIOError:
        renditions = get_renditions_or_not_found(image, recipe.filters)

    def renditions_in(fmt):
        return _by_width([renditions[recipe.spec(crop, fmt)] for crop in recipe.crops])

    sources = []
    for fmt in SOURCE_FORMATS:
        found = renditions_in(fmt)
        largest = found[-1]
        source = {
            "type": MIME_TYPES[fmt],
            "srcset": _srcset(found),
            "sizes": sizes,
            "width": largest.width,
            "height": largest.height,
        }
        sources.append((flatatt(source),))
    fallback = renditions_in(None)
    img = fallback[-1].img_tag({"srcset": _srcset(fallback), "sizes": sizes, **attrs})
    return format_html("<picture>{}{}</picture>", format_html_join("", "<source{}>", sources), img)


def _by_width(renditions: list) -> list:
    """Return the renditions narrowest first, one per width (a small original gives duplicates)."""
    by_width = {}
    for rendition in renditions:
        by_width.setdefault(rendition.width, rendition)
    return [by_width[width] for width in sorted(by_width)]


def _srcset(renditions: list) -> str:
    return ", ".join(f"{rendition.url} {rendition.width}w" for rendition in renditions)
