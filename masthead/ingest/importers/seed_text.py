"""Pages saved as text from a news site, like the reference page in the issue.

The layout: the headline; "Picture of <name>" and the author's name; the
headline again; the body paragraphs; an "In other related news also read
<headline>" line; then the site's chrome ("Related News", "Trending",
"Recent News", "Type to Search").
"""

import re
from collections.abc import Iterator
from pathlib import Path

from masthead.ingest.importers.base import (
    ArticleDraft,
    Importer,
    ImportFormatError,
    RelatedPick,
    read_text,
)
from masthead.related.models import normalize_headline

CHROME_LINES = {
    "related news",
    "trending",
    "recent news",
    "type to search",
    "share",
    "advertisement",
}
PICTURE_RE = re.compile(r"^picture of\s+(?P<name>.+)$", re.IGNORECASE)
ALSO_READ_RE = re.compile(
    r"^(?:in other related news[,:]?\s*)?also read[:\s]+(?P<headline>.+)$", re.IGNORECASE
)
MIN_BODY_PARAGRAPHS = 1
SENTENCE_END = tuple('.!?"”’)…')
MAX_HEADLINE = 300  # a first line longer than this is prose, not a headline


class SeedTextImporter(Importer):
    name = "seed-text"
    description = "Article pages saved as text: headline, 'Picture of <author>', body, 'also read'."

    def can_read(self, source: Path) -> bool:
        if source.suffix.lower() not in {".txt", ".text"}:
            return False
        try:
            head = source.read_bytes()[:4096].decode("utf-8", "ignore")
        except OSError:
            return False
        return bool(re.search(r"^picture of ", head, re.IGNORECASE | re.MULTILINE))

    def count(self, source: Path) -> int | None:
        return 1

    def read(self, source: Path) -> Iterator[ArticleDraft]:
        text = read_text(source)
        lines = [(n, line.strip()) for n, line in enumerate(text.splitlines(), start=1)]
        lines = [(n, line) for n, line in lines if line]
        if not lines:
            raise ImportFormatError(source, "is empty")
        headline_line, headline = lines[0]
        if len(headline) > MAX_HEADLINE:
            raise ImportFormatError(
                source, "the first line is too long to be a headline", headline_line
            )

        authors: list[str] = []
        chrome_seen = False
        body: list[str] = []
        related: list[RelatedPick] = []
        key = normalize_headline(headline)
        rest = lines[1:]
        i = 0
        while i < len(rest):
            n, line = rest[i]
            picture = PICTURE_RE.match(line)
            if picture:
                name = picture.group("name").strip()
                # The author's name follows the picture's alt text; skip it when it repeats.
                if i + 1 < len(rest) and rest[i + 1][1].lower() == name.lower():
                    i += 1
                authors.append(name)
            elif normalize_headline(line) == key and not body:
                pass  # the headline repeated above the body
            elif line.lower().rstrip(":") in CHROME_LINES:
                chrome_seen = chrome_seen or bool(body)
            elif also := ALSO_READ_RE.match(line):
                related.append(
                    RelatedPick(also.group("headline").strip(), after_paragraph=len(body))
                )
            else:
                body.append(line)
            i += 1

        if not authors:
            raise ImportFormatError(
                source, "has no 'Picture of <author>' line, so no byline was found"
            )
        if len(body) < MIN_BODY_PARAGRAPHS:
            raise ImportFormatError(source, "has no body paragraphs after the byline")
        if not chrome_seen and not related and not body[-1].endswith(SENTENCE_END):
            # A saved page ends with its chrome or a full sentence; anything else was cut off.
            raise ImportFormatError(
                source, "looks truncated: the text stops mid-sentence", lines[-1][0]
            )
        yield ArticleDraft(
            source_id=f"{self.name}:{key}",
            title=headline,
            paragraphs=body,
            authors=authors,
            standfirst=_standfirst(body[0]),
            related=related,
            line=headline_line,
        )


def _standfirst(first_paragraph: str) -> str:
    """Return the first sentence of the body, which news sites use as the summary."""
    sentence = re.split(r"(?<=[.!?])\s+", first_paragraph, maxsplit=1)[0]
    return sentence if len(sentence) <= 300 else sentence[:297].rsplit(" ", 1)[0] + "…"
