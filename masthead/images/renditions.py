"""Rendition filter specs shared by querysets (prefetch) and templates (render).

A picture on the site is a ``<picture>``: an AVIF and a WebP ``<source>`` and, as the ``<img>``
every browser reads, the original's own format (JPEG, or PNG for PNG/GIF/WebP/AVIF originals,
by Wagtail's default ``WAGTAILIMAGES_FORMAT_CONVERSIONS``), each at a small and a large width.
A ``PictureRecipe`` names those renditions once, so the template tag that draws the picture and
the queryset that prefetches it ask for the same filter specs; Wagtail stores each rendition as
a row the first time it is asked for and reuses it after.
"""

from dataclasses import dataclass
from functools import cache

from wagtail.images.models import Filter

# Formats offered as <source>s, best first: browsers take the first type they support.
# AVIF is usually the smaller file for a photo; this Pillow encodes it (its wheels bundle
# libavif: PIL.features.check("avif") is True), and browsers without it take the WebP.
SOURCE_FORMATS = ("avif", "webp")
MIME_TYPES = {"avif": "image/avif", "webp": "image/webp"}

CARD = "fill-640x360-c75|format-webp"
CARD_SMALL = "fill-160x90-c75|format-webp"
AVATAR = "fill-96x96|format-webp"
AVATAR_LARGE = "fill-240x240|format-webp"


@dataclass(frozen=True)
class PictureRecipe:
    """The renditions one kind of picture is served as: each crop in every format.

    ``crops`` are Wagtail resize operations, smallest first; ``sizes`` is the default
    ``sizes`` attribute (how wide the picture is drawn), which a template may override.
    """

    crops: tuple[str, ...]
    sizes: str

    def spec(self, crop: str, fmt: str | None = None) -> str:
        """Return the filter spec for ``crop`` in ``fmt``; None keeps the original's format."""
        return f"{crop}|format-{fmt}" if fmt else crop

    @property
    def specs(self) -> tuple[str, ...]:
        """Return every filter spec the picture uses: the sources' formats, then the fallback."""
        return tuple(self.spec(crop, fmt) for fmt in (*SOURCE_FORMATS, None) for crop in self.crops)

    @property
    def filters(self) -> tuple[Filter, ...]:
        """Return ``specs`` as Wagtail ``Filter``s, made once per process (see ``filter_for``)."""
        return tuple(filter_for(spec) for spec in self.specs)


def renditions_for(image, specs) -> dict:
    """Return ``{spec: rendition}`` of ``image`` for ``specs``, making only missing ones.

    Renditions come from those the view prefetched, else from Wagtail's
    rendition cache or one query. Wagtail's own ``get_renditions`` also writes
    every rendition it returns back to the cache, prefetched ones included: a
    file write (or a Redis round trip) per picture per page view; this does
    that only for renditions it has to make. A missing original raises
    ``SourceImageIOError`` (an ``OSError``), as Wagtail's does.
    """
    filters = [filter_for(spec) for spec in specs]
    found = image.find_existing_renditions(*filters)
    if len(found) < len(set(filters)):
        return image.get_renditions(*filters)
    return {f.spec: found[f] for f in filters}


@cache
def filter_for(spec: str) -> Filter:
    """Return the one ``Filter`` of this process for ``spec``.

    Wagtail makes a new ``Filter`` for every spec string it is given, and each
    new one parses its spec again (through ``inspect``, per image, per view):
    a front page of 44 cards spent a quarter of its time there. A Filter holds
    nothing but its spec and the parsed operations, so one can serve every
    image; the set of specs is fixed by the recipes below.
    """
    return Filter(spec=spec)


# The article's lead picture: the article column is at most 42rem wide on a desktop.
LEAD_PICTURE = PictureRecipe(
    crops=("fill-800x450-c75", "fill-1280x720-c75"), sizes="(min-width: 64rem) 42rem, 100vw"
)
# Cards: a 7.5rem thumbnail on phones, a grid column (about 18rem) on wider screens.
CARD_PICTURE = PictureRecipe(
    crops=("fill-320x180-c75", "fill-640x360-c75"), sizes="(max-width: 39.99rem) 7.5rem, 18rem"
)
# The front page's lead card: the same renditions, drawn full width on phones and three
# fifths of the page beside its text on wider screens.
CARD_LEAD_PICTURE = PictureRecipe(
    crops=CARD_PICTURE.crops, sizes="(min-width: 64rem) 32rem, (min-width: 48rem) 55vw, 100vw"
)
# Pictures in an article's body keep their shape; the body column is about 40rem.
BODY_PICTURE = PictureRecipe(
    crops=("width-640", "width-1280"), sizes="(min-width: 48rem) 40rem, 100vw"
)

PICTURES = {
    "lead": LEAD_PICTURE,
    "card": CARD_PICTURE,
    "card_lead": CARD_LEAD_PICTURE,
    "body": BODY_PICTURE,
}

# CARD and CARD_SMALL stay: search's type-ahead shows whichever of them a card already made.
CARD_RENDITIONS = (*CARD_PICTURE.specs, CARD_SMALL)
ARTICLE_RENDITIONS = LEAD_PICTURE.specs
AUTHOR_RENDITIONS = (AVATAR, AVATAR_LARGE)
