"""RSS 2.0, RSS 1.0 and Atom feeds (``.rss``, ``.atom``, ``.xml``): one article an item.

Parsed with feedparser, which reads every dialect and sanitizes the HTML it
returns. The body is the item's full content (``content:encoded``, Atom
``content``), else its summary; the byline is the item's authors, else the
feed's; the item's categories become tags; the date is the published date,
else the updated one. The feed is read from the file only: feedparser never
fetches anything here.

A feed that is not well-formed XML is refused (naming the line), except for
undefined HTML entities such as ``&nbsp;``, which many feeds contain and
feedparser reads fine.
"""

import calendar
import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from masthead.ingest.importers.base import ArticleDraft, Importer, ImportFormatError, read_head
from masthead.ingest.importers.html import html_to_paragraphs, text_of, unique_names

SUFFIXES = (".rss", ".atom", ".xml", ".rdf", ".feed")
PEEK_BYTES = 4096  # the root element follows the XML declaration and maybe a comment
FEED_ROOT_RE = re.compile(
    rb"<(?:rss[\s>]|feed[^>]*xmlns=[\"']http://www\.w3\.org/2005/Atom[\"']|rdf:RDF[\s>])"
)
WORDPRESS_EXPORT_RE = re.compile(rb"xmlns:wp=[\"']https?://wordpress\.org/export/")
MAX_FEED_BYTES = 50 * 1024 * 1024  # a feed file is far smaller; more is something else
STANDFIRST_MAX = 300
RSS_AUTHOR_RE = re.compile(r"^\S+@\S+\s*\((.+)\)$")


class FeedImporter(Importer):
    name = "feed"
    description = "RSS or Atom feed (.rss, .atom, .xml): one article per item."

    def can_read(self, source: Path) -> bool:
        if not source.name.lower().endswith(SUFFIXES):
            return False
        head = read_head(source, PEEK_BYTES)
        if head is None:
            return False
        # A WordPress export is RSS too, but the wordpress importer reads much more of it.
        return bool(FEED_ROOT_RE.search(head)) and not WORDPRESS_EXPORT_RE.search(head)

    def count(self, source: Path) -> int | None:
        try:
            return len(self._parse(source).entries)
        except ImportFormatError:
            return None

    def read(self, source: Path) -> Iterator[ArticleDraft]:
        feed = self._parse(source)
        if not feed.entries:
            raise ImportFormatError(source, "is a feed without any items")
        feed_authors = _authors(feed.feed)
        feed_key = feed.feed.get("id") or feed.feed.get("link") or source.name
        for n, entry in enumerate(feed.entries, start=1):
            draft = self._draft(entry, n, source, feed_authors, feed_key)
            if draft is not None:
                yield draft

    def _parse(self, source: Path):
        """Return feedparser's result for the file; unreadable or malformed feeds raise ImportFormatError."""
        import feedparser

        cached = getattr(self, "_parsed", None)
        if cached and cached[0] == source:
            return cached[1]
        try:
            if source.stat().st_size > MAX_FEED_BYTES:
                raise ImportFormatError(source, f"is larger than {MAX_FEED_BYTES // 2**20} MB")
            data = source.read_bytes()
        except OSError as exc:
            raise ImportFormatError(source, f"cannot be read ({exc.strerror})") from exc
        feed = feedparser.parse(data, sanitize_html=True, resolve_relative_uris=True)
        if feed.get("bozo"):
            exc = feed.get("bozo_exception")
            message = str(getattr(exc, "getMessage", lambda: exc)())
            line = exc.getLineNumber() if hasattr(exc, "getLineNumber") else None
            if "undefined entity" in message:
                self.warn(f"{source.name}, line {line}: undefined entity; read leniently")
            elif hasattr(exc, "getLineNumber") or not feed.entries:
                raise ImportFormatError(source, f"is not a well-formed feed ({message})", line)
            else:
                self.warn(f"{source.name}: {message}")
        if not feed.get("version") and not feed.entries:
            raise ImportFormatError(source, "is not an RSS or Atom feed")
        self._parsed = (source, feed)
        return feed

    def _draft(
        self, entry, n: int, source: Path, feed_authors: list[str], feed_key: str
    ) -> ArticleDraft | None:
        """Return the draft for one item; an item without title and text is skipped (None)."""
        where = f"{source.name}, item {n}"
        content = ""
        for part in entry.get("content") or []:
            if part.get("value") and len(part["value"]) > len(content):
                content = part["value"]
        summary = entry.get("summary", "")
        body_html = content or summary
        if body_html and "<" not in body_html:
            body_html = "".join(f"<p>{p}</p>" for p in re.split(r"\n\s*\n", body_html))
        paragraphs = html_to_paragraphs(body_html)
        title = text_of(entry.get("title", ""))
        if not title and not paragraphs:
            self.skip(f"{where}: no title and no text; skipped")
            return None
        if not title:
            words = text_of(body_html).split()
            title = " ".join(words[:10]) + ("…" if len(words) > 10 else "")
            self.warn(f"{where}: no title; named {title[:60]!r}")
        if not paragraphs:
            self.warn(f"{where}: {title[:60]!r} has no text")

        parsed = entry.get("published_parsed") or entry.get("updated_parsed")
        published = (
            dt.datetime.fromtimestamp(calendar.timegm(parsed), tz=dt.UTC) if parsed else None
        )
        if published is None:
            self.warn(f"{where}: {title[:60]!r} has no date; it gets the import's time")
        link = entry.get("link", "")
        key = entry.get("id") or link
        if not key:
            key = hashlib.sha1(f"{feed_key}|{title}|{published}".encode()).hexdigest()
        standfirst = text_of(summary) if content and summary else ""
        if standfirst and standfirst == text_of(content):
            standfirst = ""  # Atom readers copy the content into the summary
        tags = [text_of(t.get("term") or t.get("label") or "") for t in entry.get("tags") or []]
        return ArticleDraft(
            source_id=f"{self.name}:{key}",
            title=title,
            paragraphs=paragraphs,
            html=True,
            standfirst=_shorten(standfirst, STANDFIRST_MAX),
            authors=_authors(entry) or feed_authors,
            tags=unique_names(tags),
            published=published,
            url=link,
            line=n,
        )


def _authors(item) -> list[str]:
    """Return the names of an entry's (or feed's) authors; e-mail-only RSS authors give none."""
    # RSS <author> is "email (Name)"; feedparser's split of it cuts long domains
    # ("desk@courier.example" loses "ple"), so the raw value is read first.
    raw = RSS_AUTHOR_RE.match((item.get("author") or "").strip())
    if raw:
        names = [raw.group(1)]
    else:
        names = [a.get("name") or "" for a in item.get("authors") or []]
        if not any(names) and item.get("author"):
            names = [item["author"]]
    return unique_names(n for n in (text_of(n) for n in names) if n and "@" not in n)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
