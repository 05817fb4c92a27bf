"""WordPress eXtended RSS (WXR) exports: Tools → Export in WordPress.

What becomes what:

* Published posts (``wp:post_type`` ``post``, ``wp:status`` ``publish``) become
  articles. Scheduled posts (status ``future``) are imported with their date,
  so Masthead schedules them as WordPress did (or publishes them if the date
  has passed). Drafts, pending, private, trashed and password-protected posts
  are skipped, each with a line in the report: Masthead has no place for
  unpublished drafts in an import, and private or password-protected stories
  would become public. Pages, attachments, menu items and other post types
  are not articles; the report counts them.
* The byline is the display name of the ``wp:author`` whose login is the
  post's ``dc:creator`` (the login itself when the export lacks the author).
* The first category is the section ("Uncategorized", WordPress's default,
  means none: the import's default section). Further categories and all
  tags become tags, so no term is lost.
* The date is ``wp:post_date_gmt`` (UTC); a draft-style ``0000-00-00`` falls
  back on ``pubDate``, then on ``wp:post_date`` read as UTC.
* The body is ``content:encoded``: Gutenberg block comments and shortcodes
  are removed, classic posts get ``wpautop``'s paragraphs, and the pieces are
  sanitized on save. The excerpt, if any, is the standfirst.
* The featured image (``_thumbnail_id``) is used when its file is found next
  to the export (``wp-content/uploads/…``, ``uploads/…`` or the URL's path
  under the export's folder); otherwise the report says it was skipped.
* The post's permalink is kept in ``old_urls`` for a redirect to the new page.

The file is read with defusedxml (no DTDs, entities or external references)
and fully checked before the first article is handed over, so a truncated
export fails before anything is written. Both ``wp:`` namespace URIs
(``http://`` and ``https://wordpress.org/export/1.x/``) are read.
"""

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from masthead.ingest.importers.base import ArticleDraft, Importer, ImportFormatError, read_head
from masthead.ingest.importers.html import (
    html_to_paragraphs,
    paragraphs_text,
    parse_date,
    text_of,
    unique_names,
)

WP_NAMESPACE_RE = re.compile(r"^https?://wordpress\.org/export/1\.\d+/$")
EXCERPT_NAMESPACE_RE = re.compile(r"^https?://wordpress\.org/export/1\.\d+/excerpt/$")
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"
DC_NS = "http://purl.org/dc/elements/1.1/"
SNIFF_RE = re.compile(rb"xmlns:wp=[\"']https?://wordpress\.org/export/1\.\d+/[\"']")
SUFFIXES = (".xml", ".wxr")
PEEK_BYTES = 8192  # the namespace declarations sit in the <rss> tag, after a comment banner
BLOCK_COMMENT_RE = re.compile(r"<!--\s*/?wp:[\s\S]*?-->")
# [gallery ids="1,2"], [caption …]…[/caption], [/embed]: the tags go, enclosed text stays.
SHORTCODE_RE = re.compile(r"\[/?[a-zA-Z][\w-]*(?:\s[^\[\]]*)?/?\]")
UNCATEGORIZED = "uncategorized"
NO_DATE = "0000-00-00 00:00:00"
UNTITLED_WORDS = 10  # a post without a title is named by its first words
MAX_REPORTED_SKIPS = 50  # beyond this, skipped posts are counted, not listed
IMPORTED_STATUSES = {"publish", "future"}
SKIP_REASONS = {
    "draft": "a draft",
    "pending": "pending review",
    "private": "private",
    "trash": "in the trash",
    "auto-draft": "an auto-draft",
}
# Where a copy of wp-content/uploads may sit next to the export.
UPLOAD_ROOTS = ("", "wp-content/uploads", "uploads", "media")
READ_CHUNK = 64 * 1024  # bytes fed to the parser at a time; items are freed as they end


class _LineTreeBuilder(TreeBuilder):
    """A TreeBuilder that also records (event, element, line) for the caller to take."""

    def __init__(self):
        super().__init__()
        self.events: list[tuple[str, Element, int | None]] = []
        self.expat = None

    def start(self, tag, attrs):
        element = super().start(tag, attrs)
        self.events.append(("start", element, self.expat.CurrentLineNumber if self.expat else None))
        return element

    def end(self, tag):
        element = super().end(tag)
        self.events.append(("end", element, None))
        return element

    def take(self) -> list[tuple[str, Element, int | None]]:
        events, self.events = self.events, []
        return events


@dataclass
class _Post:
    """One ``<item>``, as read: text fields and terms, before it becomes a draft."""

    fields: dict[str, str] = field(default_factory=dict)
    terms: list[tuple[str, str, str]] = field(default_factory=list)  # (domain, nicename, name)
    meta: dict[str, str] = field(default_factory=dict)
    line: int | None = None


@dataclass
class _Export:
    """What the first pass learns about the whole file."""

    authors: dict[str, str] = field(default_factory=dict)  # login → display name
    attachments: dict[str, str] = field(default_factory=dict)  # post id → file URL
    types: Counter = field(default_factory=Counter)
    importable: int = 0
    base_url: str = ""


class WordPressImporter(Importer):
    name = "wordpress"
    description = "WordPress export (WXR .xml): posts, authors, categories, tags, images, old URLs."

    def can_read(self, source: Path) -> bool:
        if not source.name.lower().endswith(SUFFIXES):
            return False
        head = read_head(source, PEEK_BYTES)
        if head is None:
            return False
        return b"<rss" in head and bool(SNIFF_RE.search(head))

    def count(self, source: Path) -> int | None:
        try:
            return self._scan(source).importable
        except ImportFormatError:
            return None

    def read(self, source: Path) -> Iterator[ArticleDraft]:
        export = self._scan(source)  # the whole file parses before any draft is handed over
        if not export.types:
            raise ImportFormatError(source, "is a WordPress export without any <item>")
        others = {t: n for t, n in export.types.items() if t != "post"}
        if others:
            listed = ", ".join(f"{n} {t}" for t, n in sorted(others.items()))
            self.warn(f"{source.name}: not articles, not imported: {listed}")
        skipped_listed = 0
        for post in self._items(source):
            if post.fields.get("post_type") != "post":
                continue
            reason = _skip_reason(post)
            if reason:
                self.skipped += 1
                if skipped_listed < MAX_REPORTED_SKIPS:
                    skipped_listed += 1
                    self.warnings.append(
                        f"{source.name}, line {post.line}: post {post.fields.get('post_id')} "
                        f"{_title(post)[:60]!r} skipped: {reason}"
                    )
                continue
            yield self._draft(post, export, source)
        if self.skipped > skipped_listed:
            self.warn(f"{source.name}: {self.skipped - skipped_listed} more posts skipped")

    # --- parsing ------------------------------------------------------------------------------

    def _events(self, source: Path) -> Iterator[tuple[str, Element, int | None]]:
        """Yield (event, element, line) from a safe parse; bad XML raises ImportFormatError."""
        builder = _LineTreeBuilder()
        parser = DefusedXMLParser(target=builder, forbid_dtd=True)
        builder.expat = parser.parser
        try:
            with source.open("rb") as fh:
                while chunk := fh.read(READ_CHUNK):
                    parser.feed(chunk)
                    yield from builder.take()
                parser.close()
            yield from builder.take()
        except ParseError as exc:
            line = exc.position[0] if getattr(exc, "position", None) else None
            reason = str(exc).split(":", 1)[0]
            raise ImportFormatError(source, f"is not well-formed XML ({reason})", line) from exc
        except DefusedXmlException as exc:
            raise ImportFormatError(
                source, f"declares a DTD or entities, which imports refuse ({exc!r})"
            ) from exc
        except OSError as exc:
            raise ImportFormatError(source, f"cannot be read ({exc.strerror})") from exc

    def _items(self, source: Path) -> Iterator[_Post]:
        """Yield every ``<item>`` of the channel; elements are freed as they are read."""
        post: _Post | None = None
        depth = 0
        for event, element, line in self._events(source):
            ns, local = _split(element.tag)
            if event == "start":
                if local == "item" and not ns and post is None:
                    post = _Post(line=line)
                    depth = 0
                elif post is not None:
                    depth += 1
                continue
            if post is None:
                continue
            if local == "item" and not ns and depth == 0:
                yield post
                post = None
                element.clear()
                continue
            depth -= 1
            if depth == 0:
                _collect(post, element, ns, local)

    def _scan(self, source: Path) -> _Export:
        """Return authors, attachments and counts; the whole file is parsed, so errors surface here."""
        cached = getattr(self, "_scanned", None)
        if cached and cached[0] == source:
            return cached[1]
        export = _Export()
        saw_wp = False
        in_item = 0
        for event, element, _ in self._events(source):
            ns, local = _split(element.tag)
            if event == "start":
                if local == "item" and not ns:
                    in_item += 1
                continue
            if ns == "wp":
                saw_wp = True
            if local == "item" and not ns:
                in_item -= 1
                post = _Post()
                for child in element:
                    _collect(post, child, *_split(child.tag))
                post_type = post.fields.get("post_type", "")
                export.types[post_type] += 1
                if post_type == "attachment" and post.fields.get("attachment_url"):
                    export.attachments[post.fields.get("post_id", "")] = post.fields[
                        "attachment_url"
                    ]
                if post_type == "post" and not _skip_reason(post):
                    export.importable += 1
                element.clear()
            elif ns == "wp" and local == "author" and not in_item:
                login = _child_text(element, "author_login")
                name = _child_text(element, "author_display_name") or " ".join(
                    filter(
                        None,
                        [
                            _child_text(element, "author_first_name"),
                            _child_text(element, "author_last_name"),
                        ],
                    )
                )
                if login:
                    export.authors[_login(login)] = text_of(name) or login
            elif ns == "wp" and local == "base_blog_url" and not in_item:
                export.base_url = (element.text or "").strip()
        if not saw_wp:
            raise ImportFormatError(source, "is not a WordPress export (no wp: elements)")
        self._scanned = (source, export)
        return export

    # --- drafts -------------------------------------------------------------------------------

    def _draft(self, post: _Post, export: _Export, source: Path) -> ArticleDraft:
        f = post.fields
        where = f"{source.name}, line {post.line}"
        content = f.get("content", "")
        has_blocks = "<!-- wp:" in content
        content = BLOCK_COMMENT_RE.sub("", content)
        content = SHORTCODE_RE.sub("", content)
        if not has_blocks:
            content = wpautop(content)  # what WordPress does to a classic post on display
        paragraphs = html_to_paragraphs(content)
        if not paragraphs and content.strip():
            self.warn(f"{where}: post {f.get('post_id')} has content but no text after cleaning")
        elif not paragraphs:
            self.warn(f"{where}: post {f.get('post_id')} {_title(post)[:60]!r} has no content")

        title = _title(post)
        if not title:
            words = paragraphs_text(paragraphs).split()
            title = " ".join(words[:UNTITLED_WORDS]).rstrip(".,;:") + (
                "…" if len(words) > UNTITLED_WORDS else ""
            )
            title = title or (f.get("post_name") or "").replace("-", " ").strip().capitalize()
            title = title or f"Untitled (WordPress post {f.get('post_id')})"
            self.warn(f"{where}: post {f.get('post_id')} has no title; named {title[:60]!r}")

        login = _login(f.get("creator", ""))
        author = export.authors.get(login)
        if login and author is None:
            self.warn(
                f"{where}: author {login!r} is not among the export's authors; byline uses the login"
            )
            author = login

        categories = [(nice, name) for domain, nice, name in post.terms if domain == "category"]
        named = [(nice, name) for nice, name in categories if nice != UNCATEGORIZED and name]
        section = named[0][1] if named else ""
        tags = [name for _, name in named[1:]]
        tags += [name for domain, _, name in post.terms if domain == "post_tag" and name]

        published = _post_date(f)
        if published is None:
            raise ImportFormatError(
                source, f"post {f.get('post_id')} has no usable date", post.line
            )

        image_url = ""
        thumbnail = post.meta.get("_thumbnail_id", "")
        if thumbnail:
            remote = export.attachments.get(thumbnail, "")
            if not remote:
                self.warn(f"{where}: featured image {thumbnail} is not in the export; skipped")
            else:
                local = _find_upload(remote, source.parent)
                # A remote URL is left for the import to report as "not a local file".
                image_url = str(local) if local else remote

        return ArticleDraft(
            source_id=f"{self.name}:{_identity(f, export)}",
            title=title,
            paragraphs=paragraphs,
            html=True,
            standfirst=text_of(f.get("excerpt", ""))[:300],
            authors=[author] if author else [],
            section=section,
            tags=unique_names(tags),
            published=published,
            url=f.get("link", ""),
            image_url=image_url,
            line=post.line,
            old_urls=_old_urls(f),
        )


AUTOP_BLOCKS = (
    r"(?:table|thead|tfoot|caption|col|colgroup|tbody|tr|td|th|div|dl|dd|dt|ul|ol|li|pre|form|map|"
    r"area|blockquote|address|math|style|p|h[1-6]|hr|fieldset|legend|section|article|aside|hgroup|"
    r"header|footer|nav|figure|figcaption|details|menu|summary)"
)
PRE_RE = re.compile(r"<pre[\s>][\s\S]*?</pre>", re.IGNORECASE)


def wpautop(text: str) -> str:
    """Return classic-editor content with paragraphs, as WordPress's ``wpautop()`` makes them.

    A blank line separates paragraphs and a single newline becomes ``<br>``;
    block-level tags are left unwrapped and ``<pre>`` is left alone. A
    simplified port of wp-includes/formatting.php.
    """
    if not text.strip():
        return ""
    pres: list[str] = []

    def keep_pre(match: re.Match) -> str:
        pres.append(match.group(0))
        return f"<pre wp-pre-tag-{len(pres) - 1}></pre>"

    text = PRE_RE.sub(keep_pre, text.replace("\r\n", "\n").replace("\r", "\n") + "\n")
    text = re.sub(r"<br\s*/?>\s*<br\s*/?>", "\n\n", text)
    text = re.sub(rf"(<{AUTOP_BLOCKS}[\s/>])", r"\n\n\1", text, flags=re.IGNORECASE)
    text = re.sub(rf"(</{AUTOP_BLOCKS}>)", r"\1\n\n", text, flags=re.IGNORECASE)
    text = re.sub(r"\n\n+", "\n\n", text)
    pieces = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    text = "".join(f"<p>{p}</p>\n" for p in pieces)
    text = re.sub(r"<p>\s*</p>", "", text)
    text = re.sub(rf"<p>\s*(</?{AUTOP_BLOCKS}[^>]*>)\s*</p>", r"\1", text, flags=re.IGNORECASE)
    text = re.sub(r"<p>(<li.+?)</p>", r"\1", text, flags=re.IGNORECASE)
    text = re.sub(r"<p><blockquote([^>]*)>", r"<blockquote\1><p>", text, flags=re.IGNORECASE)
    text = text.replace("</blockquote></p>", "</p></blockquote>")
    text = re.sub(rf"<p>\s*(</?{AUTOP_BLOCKS}[^>]*>)", r"\1", text, flags=re.IGNORECASE)
    text = re.sub(rf"(</?{AUTOP_BLOCKS}[^>]*>)\s*</p>", r"\1", text, flags=re.IGNORECASE)
    text = re.sub(r"(?<!<br>)\s*\n(?!$)", "<br>\n", text)
    text = re.sub(rf"(</?{AUTOP_BLOCKS}[^>]*>)\s*<br>", r"\1", text, flags=re.IGNORECASE)
    text = re.sub(
        r"<br>(\s*</?(?:p|li|div|dl|dd|dt|th|pre|td|ul|ol)[^>]*>)", r"\1", text, flags=re.IGNORECASE
    )
    text = re.sub(r"<pre wp-pre-tag-(\d+)></pre>", lambda m: pres[int(m.group(1))], text)
    return text


def _split(tag) -> tuple[str, str]:
    """Return (namespace kind, local name): kind is "wp", "excerpt", "content", "dc" or the URI."""
    if not isinstance(tag, str):
        return "", ""
    if tag[0] != "{":
        return "", tag
    uri, local = tag[1:].split("}", 1)
    if WP_NAMESPACE_RE.match(uri):
        return "wp", local
    if EXCERPT_NAMESPACE_RE.match(uri):
        return "excerpt", local
    if uri == CONTENT_NS:
        return "content", local
    if uri == DC_NS:
        return "dc", local
    return uri, local


def _collect(post: _Post, element: Element, ns: str, local: str) -> None:
    """Store one child element of an ``<item>`` on ``post``."""
    text = element.text or ""
    if not ns and local == "category":
        domain = element.get("domain", "")
        post.terms.append((domain, element.get("nicename", ""), text_of(text)))
    elif ns == "wp" and local == "postmeta":
        key = _child_text(element, "meta_key")
        if key:
            post.meta[key] = _child_text(element, "meta_value")
    elif ns == "content" and local == "encoded":
        post.fields["content"] = text
    elif ns == "excerpt" and local == "encoded":
        post.fields["excerpt"] = text
    elif ns == "dc" and local == "creator":
        post.fields["creator"] = text.strip()
    elif ns == "wp" and local == "comment":
        pass  # comments are not imported
    elif ns in ("wp", ""):
        post.fields[local] = text.strip() if local not in ("title",) else text


def _child_text(element: Element, local: str) -> str:
    for child in element:
        if _split(child.tag) == ("wp", local):
            return (child.text or "").strip()
    return ""


def _login(value: str) -> str:
    """Return a login as WordPress's sanitize_user leaves it (letters, digits, space, _ . - @)."""
    return re.sub(r"[^A-Za-z0-9 _.@-]", "", value).strip().lower()


def _title(post: _Post) -> str:
    return text_of(post.fields.get("title", ""))


def _skip_reason(post: _Post) -> str:
    """Return why a post is not imported, or "" for a post that is."""
    status = post.fields.get("status", "")
    if post.fields.get("post_password"):
        return "password-protected (it would become public)"
    if status in IMPORTED_STATUSES:
        return ""
    return f"{SKIP_REASONS.get(status, f'status {status!r}')}, not published"


def _post_date(fields: dict[str, str]) -> dt.datetime | None:
    gmt = fields.get("post_date_gmt", "")
    if gmt and gmt != NO_DATE:
        parsed = parse_date(gmt.replace(" ", "T"))
        if parsed:
            return parsed.replace(tzinfo=dt.UTC)
    for value in (fields.get("pubDate", ""), fields.get("post_date", "").replace(" ", "T")):
        if value and not value.startswith("0000"):
            parsed = parse_date(value)
            if parsed:
                return parsed
    return None


def _identity(fields: dict[str, str], export: _Export) -> str:
    """Return a stable key for the post: its permalink, else the site and post id.

    Post ids alone are not unique across exports of different sites, and
    export files don't always name their site distinctly.
    """
    link = fields.get("link", "")
    if link and "?p=" not in link:
        return link
    return f"{export.base_url or 'site'}?p={fields.get('post_id', '')}"


def _old_urls(fields: dict[str, str]) -> list[str]:
    """Return the post's permalink as an old URL to redirect; [] for ``/?p=<id>`` links.

    Redirects answer only where the new site has no page, and ``/`` is the
    front page, so a query-string link on ``/`` could never redirect.
    """
    link = fields.get("link", "").strip()
    if not link or urlsplit(link).path in ("", "/"):
        return []
    return [link]


def _find_upload(url: str, base: Path) -> Path | None:
    """Return the local copy of an uploaded file next to the export, or None.

    ``…/wp-content/uploads/2013/03/x.jpg`` is looked for as
    ``<folder>/wp-content/uploads/2013/03/x.jpg``, ``<folder>/uploads/2013/03/x.jpg``,
    ``<folder>/2013/03/x.jpg`` and ``<folder>/x.jpg`` (and ``media/``).
    """
    parts = [unquote(p) for p in urlsplit(url).path.split("/") if p and p not in ("..", ".")]
    if not parts:
        return None
    if "uploads" in parts:
        parts = parts[parts.index("uploads") + 1 :]
    base = base.resolve()
    for root in UPLOAD_ROOTS:
        for start in range(len(parts)):
            candidate = (base / root / Path(*parts[start:])).resolve()
            if candidate.is_file() and candidate.is_relative_to(base):
                return candidate
    return None
