"""The body blocks' own behaviour (what the editor and Wagtail's search see)."""

from wagtail.rich_text import RichText

from masthead.news.blocks import ParagraphBlock


def test_paragraph_searchable_content_is_text_with_entities_decoded():
    block = ParagraphBlock()
    value = RichText("<p>Fish &amp; chips at <b>Caf&eacute;</b> Mar&iacute;a</p>")
    (text,) = block.get_searchable_content(value)
    assert "<" not in text
    assert "Fish & chips" in text
    assert "Café" in text and "María" in text
