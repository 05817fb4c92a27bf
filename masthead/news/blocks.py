"""The article body: the blocks a news story is made of."""

from wagtail import blocks
from wagtail.embeds.blocks import EmbedBlock
from wagtail.images.blocks import ImageChooserBlock
from wagtail.rich_text import RichText

from masthead.core.text import html_text
from masthead.news.sanitize import clean_html

PARAGRAPH_FEATURES = [
    "bold",
    "italic",
    "link",
    "ol",
    "ul",
    "superscript",
    "subscript",
    "strikethrough",
]


class ParagraphBlock(blocks.RichTextBlock):
    """Rich text, sanitized with nh3 whatever wrote it."""

    def __init__(self, **kwargs):
        kwargs.setdefault("features", PARAGRAPH_FEATURES)
        super().__init__(**kwargs)

    def get_prep_value(self, value):
        return clean_html(super().get_prep_value(value))

    def get_searchable_content(self, value):
        source = value.source if isinstance(value, RichText) else str(value)
        return [html_text(source)]

    class Meta:
        icon = "pilcrow"
        template = "components/blocks/paragraph.html"


class HeadingBlock(blocks.CharBlock):
    class Meta:
        icon = "title"
        form_classname = "title"
        template = "components/blocks/heading.html"


class QuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock()
    attribution = blocks.CharBlock(required=False)

    class Meta:
        icon = "openquote"
        template = "components/blocks/quote.html"


class BodyImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    alt = blocks.CharBlock(help_text="Describe the picture for readers who cannot see it.")
    caption = blocks.CharBlock(required=False)
    credit = blocks.CharBlock(required=False)

    class Meta:
        icon = "image"
        template = "components/blocks/image.html"


class BodyEmbedBlock(blocks.StructBlock):
    url = EmbedBlock(help_text="A link to a video, post or map, e.g. a YouTube address.")
    caption = blocks.CharBlock(required=False)

    class Meta:
        icon = "media"
        template = "components/blocks/embed.html"


class ArticleBodyBlock(blocks.StreamBlock):
    paragraph = ParagraphBlock()
    heading = HeadingBlock()
    quote = QuoteBlock()
    image = BodyImageBlock()
    embed = BodyEmbedBlock()
