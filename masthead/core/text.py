"""Plain text from HTML, shared by search indexing and the importers."""

import html
import re

TAG_RE = re.compile(r"<[^>]*>")


def html_text(source: str) -> str:
    """Return the text of an HTML fragment: tags become spaces, entities are decoded.

    A regular expression, not an HTML parser: it reads stored rich text (the
    editor's or an importer's nh3-cleaned HTML) and extracted article pieces,
    and runs over every paragraph of every article. Malformed HTML gives odd
    words, never an error. Whitespace is kept as it is.
    """
    if "<" in source:
        source = TAG_RE.sub(" ", source)
    if "&" in source:
        source = html.unescape(source)
    return source
