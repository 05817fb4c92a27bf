"""Article pages saved as HTML (``.html``, ``.htm``, and either gzip-compressed).

The body comes from trafilatura, which finds the article among a page's
navigation, adverts and comments. Headline, byline and date come from what the
publisher declares (JSON-LD, Open Graph, ``<meta name="author">``,
``article:published_time``, ``<time datetime>``) and fall back on trafilatura's
own guesses. One file is one article.

``html_to_paragraphs`` also serves the WordPress and feed importers: it turns
any HTML fragment into the block-level pieces an article body is made of.
"""

import contextlib
import datetime as dt
import email.utils
import gzip
import hashlib
import html as html_lib
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

from masthead.core.text import html_text
from masthead.ingest.importers.base import ArticleDraft, Importer, ImportFormatError

SUFFIXES = (".html", ".htm", ".xhtml", ".html.gz", ".htm.gz")
PEEK_BYTES = 4096  # enough to see a doctype or <html> after a long comment banner
MAX_PAGE_BYTES = 20 * 1024 * 1024  # a saved article page is far smaller; more is not a page
MAX_HEADLINE = 300  # longer "headlines" are prose picked up by mistake
MAX_H1S = 5  # a page with more <h1>s uses them for teasers; the headline is among the first
MAX_AUTHORS = 6  # more names than a byline carries means a list of contributors was caught
HTML_SNIFF_RE = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
# " | Site", " - Site", " — Site": what sites append to <title> and og:title.
TITLE_SEPARATORS_RE = re.compile(r"\s+(?:\||-|–|—|·|::|»)\s+")
AUTHOR_SPLIT_RE = re.compile(r"\s*(?:;|,|\band\b|&)\s*")
BYLINE_PREFIX_RE = re.compile(
    r"^\s*(?:(?:analysis|opinion|commentary|story|text|words|reporting)\s+)?(?:by|von|par|por)\s+",
    re.IGNORECASE,
)
# What page templates glue after a name: "Jeff Foust Monday, November 18", "Staff Pub".
_DATE_WORD = (
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|"
    r"apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|"
    r"dec(?:ember)?)"
)
BYLINE_TAIL_RE = re.compile(
    # A date word only counts when a date follows it ("May 5", "Monday, November"),
    # so "Anna May Wong" keeps her name.
    rf"\s+(?:(?:pub(?:lished)?|updated|posted)\b|{_DATE_WORD}(?=\s*(?:[,.\d]|$)))[\s\S]*$",
    re.IGNORECASE,
)
CREDENTIAL_RE = re.compile(r"^(?:[A-Z]{2,5}|Ph\.?D\.?|M\.?D\.?|Jr\.?|Sr\.?)$")  # "MS", "RDN", "PhD"
EARLIEST_YEAR = 1800  # older "dates" are placeholders such as 0001-01-01
JSONLD_ARTICLE_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "blogposting",
    "techarticle",
    "scholarlyarticle",
    "report",
    "webpage",
}

# --- HTML fragments → body pieces -----------------------------------------------------------

BLOCK_TAGS = {"p", "ul", "ol", "blockquote", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}
HEADING_MAP = {"h1": "h2", "h2": "h2", "h3": "h3", "h4": "h4", "h5": "h4", "h6": "h4"}
# Elements whose children are the content: walk into them.
CONTAINER_TAGS = {
    "div",
    "section",
    "article",
    "main",
    "header",
    "footer",
    "aside",
    "figure",
    "figcaption",
    "details",
    "summary",
    "center",
    "body",
    "html",
    "li",  # a stray <li> outside a list
    "dd",
    "dt",
    "dl",
    "address",
    "hgroup",
}
# Elements that are not article text at all.
DROP_TAGS = {
    "script",
    "style",
    "noscript",
    "iframe",
    "object",
    "embed",
    "video",
    "audio",
    "source",
    "track",
    "svg",
    "canvas",
    "form",
    "button",
    "input",
    "select",
    "textarea",
    "template",
    "nav",
    "map",
    "head",
    "title",
    "meta",
    "link",
}


def html_to_paragraphs(fragment: str) -> list[str]:
    """Return the body pieces of an HTML fragment: ``<p>``, ``<h2>``–``<h4>``, lists, quotes.

    Text outside block elements is wrapped in ``<p>``. Containers (``div``,
    ``figure``…) are walked into, tables become a paragraph per row,
    ``<pre>`` a paragraph of code, scripts and embeds are dropped. The pieces
    still need sanitizing (``news.sanitize.clean_html``). Empty or unparsable
    input gives an empty list.
    """
    if not fragment or not fragment.strip():
        return []
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except (etree.ParserError, ValueError):
        return []
    out: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        piece = "".join(inline).strip()
        inline.clear()
        if piece and _has_text(piece):
            piece = re.sub(r"^(?:\s*<br>\s*)+|(?:\s*<br>\s*)+$", "", piece)
            out.append(f"<p>{piece}</p>")

    def add_text(text: str | None) -> None:
        if text:
            inline.append(html_lib.escape(text, quote=False))

    def walk(element) -> None:
        add_text(element.text)
        for child in element:
            if not isinstance(child.tag, str):  # comments, processing instructions
                add_text(child.tail)
                continue
            tag = child.tag.lower()
            if tag in DROP_TAGS:
                pass
            elif tag in BLOCK_TAGS or tag in {"pre", "table"} or tag in CONTAINER_TAGS:
                flush()
                if tag in CONTAINER_TAGS:
                    walk(child)
                    flush()
                else:
                    out.extend(_block(child, tag))
            else:
                inline.append(_outer(child))
            add_text(child.tail)

    walk(root)
    flush()
    return out


def _block(element, tag: str) -> list[str]:
    """Return the pieces one block-level element becomes."""
    if tag == "hr":
        return ["<hr>"]
    if tag == "pre":
        text = element.text_content().strip("\n")
        if not text.strip():
            return []
        code = html_lib.escape(text, quote=False).replace("\n", "<br>")
        return [f"<p><code>{code}</code></p>"]
    if tag == "table":
        rows = []
        for row in element.iter("tr"):
            cells = [" ".join(c.text_content().split()) for c in row if c.tag in ("td", "th")]
            cells = [c for c in cells if c]
            if cells:
                rows.append("<p>" + html_lib.escape(" | ".join(cells), quote=False) + "</p>")
        return rows
    for dropped in element.xpath(".//script|.//style|.//noscript|.//iframe|.//svg|.//form"):
        dropped.drop_tree()
    if tag in HEADING_MAP:
        text = " ".join(element.text_content().split())
        return (
            [f"<{HEADING_MAP[tag]}>{html_lib.escape(text, quote=False)}</{HEADING_MAP[tag]}>"]
            if text
            else []
        )
    piece = _outer(element)
    return [piece] if _has_text(piece) else []


def _outer(element) -> str:
    return lxml_html.tostring(element, encoding="unicode", with_tail=False, method="html")


def _has_text(piece: str) -> bool:
    """Return True when ``piece`` holds visible text (not only tags, spaces or &nbsp;)."""
    return bool(html_text(piece).replace("\xa0", " ").strip())


def paragraphs_text(paragraphs: list[str]) -> str:
    """Return the plain text of body pieces, a line each (what a reader would see)."""
    lines = []
    for piece in paragraphs:
        text = " ".join(html_text(piece).split())
        if text:
            lines.append(text)
    return "\n".join(lines)


def text_of(fragment: str) -> str:
    """Return the text of an HTML fragment (a title with markup, an entity-escaped name), one line."""
    if not fragment:
        return ""
    if "<" in fragment and ">" in fragment:
        try:
            fragment = lxml_html.fragment_fromstring(fragment, create_parent="div").text_content()
        except (etree.ParserError, ValueError):
            fragment = re.sub(r"<[^>]*>", "", fragment)
    return " ".join(html_lib.unescape(fragment).split())


def unique_names(names, limit: int = 100) -> list[str]:
    """Return names (tags, bylines) trimmed to ``limit``, without blanks or case-insensitive repeats."""
    seen: dict[str, str] = {}
    for name in names:
        name = " ".join(str(name).split())[:limit]
        if name and name.lower() not in seen:
            seen[name.lower()] = name
    return list(seen.values())


def parse_date(value: str | None) -> dt.datetime | None:
    """Return an aware datetime for an ISO 8601 or RFC 2822 date; None when it isn't one."""
    value = (value or "").strip()
    if not value:
        return None
    parsed = None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            match = re.match(r"(\d{4})-(\d{2})-(\d{2})", value)
            if match:
                try:
                    parsed = dt.datetime(*map(int, match.groups()))
                except ValueError:
                    return None
    if parsed is None or parsed.year < EARLIEST_YEAR:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


# --- The importer ---------------------------------------------------------------------------


class HtmlImporter(Importer):
    name = "html"
    description = (
        "Article pages saved as HTML (.html, .htm, .html.gz): headline, byline, date, body."
    )

    def can_read(self, source: Path) -> bool:
        if not source.name.lower().endswith(SUFFIXES):
            return False
        try:
            head = _read_bytes(source, limit=PEEK_BYTES)
        except ImportFormatError:
            return False
        return bool(HTML_SNIFF_RE.search(head))

    def count(self, source: Path) -> int | None:
        return 1

    def read(self, source: Path) -> Iterator[ArticleDraft]:
        data = _read_bytes(source)
        if b"\x00" in data[:PEEK_BYTES] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
            raise ImportFormatError(source, "is a binary file, not an HTML page")
        if not HTML_SNIFF_RE.search(data[: PEEK_BYTES * 4]):
            raise ImportFormatError(source, "is not an HTML page (no <html>, <head> or <body>)")
        yield self.draft_from_html(data, source)

    def draft_from_html(self, data: bytes, source: Path | str = "<page>") -> ArticleDraft:
        """Return the draft of one article page; ImportFormatError when it has no headline or body."""
        import trafilatura
        from trafilatura.utils import load_html

        tree = load_html(data)
        if tree is None:
            raise ImportFormatError(source, "cannot be parsed as HTML")
        meta = page_metadata(tree)
        # trafilatura cleans the tree it is given: metadata above is read first.
        with _quiet_logger("trafilatura"):
            document = trafilatura.bare_extraction(
                tree,
                url=meta.url or None,
                with_metadata=True,
                include_comments=False,
                include_tables=True,
                include_images=False,
                include_formatting=True,
                include_links=True,
            )
        body_html = ""
        if document is not None and getattr(document, "body", None) is not None:
            body_html = _extracted_html(document)
        paragraphs = html_to_paragraphs(body_html)
        headline = pick_headline(meta, getattr(document, "title", "") or "")
        # Pages repeat the headline above the body; the article shows it already.
        while paragraphs and _key(text_of(paragraphs[0])) == _key(headline):
            paragraphs.pop(0)
        if not headline:
            raise ImportFormatError(source, "has no headline (no og:title, <h1> or <title>)")
        if not paragraphs:
            raise ImportFormatError(source, "has no article body that could be found")
        authors = meta.authors or _split_authors(getattr(document, "author", "") or "")
        published = meta.published or parse_date(getattr(document, "date", "") or "")
        key = (
            meta.url
            or hashlib.sha1(
                f"{headline}|{published.isoformat() if published else ''}".encode()
            ).hexdigest()
        )
        standfirst = meta.description or getattr(document, "description", "") or ""
        return ArticleDraft(
            source_id=f"{self.name}:{key}",
            title=headline,
            paragraphs=paragraphs,
            html=True,
            standfirst=text_of(standfirst)[:300],
            authors=authors,
            section=meta.section,
            tags=meta.tags,
            published=published,
            url=meta.url,
        )


@contextlib.contextmanager
def _quiet_logger(name: str):
    """Silence a library's warnings about the page's markup ("empty link") while it runs."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _extracted_html(document) -> str:
    """Return trafilatura's body as HTML, converted as ``extract(output_format="html")`` does."""
    from trafilatura.htmlprocessing import build_html_output

    return build_html_output(document)


def _read_bytes(source: Path, limit: int | None = None) -> bytes:
    """Return the file's bytes (decompressed for ``.gz``); unreadable files raise ImportFormatError."""
    try:
        if source.name.lower().endswith(".gz"):
            with gzip.open(source, "rb") as fh:
                data = fh.read(limit if limit else MAX_PAGE_BYTES + 1)
        else:
            with source.open("rb") as fh:
                data = fh.read(limit if limit else MAX_PAGE_BYTES + 1)
    except (OSError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ImportFormatError(source, f"cannot be read ({reason})") from exc
    if limit is None and len(data) > MAX_PAGE_BYTES:
        raise ImportFormatError(source, f"is larger than {MAX_PAGE_BYTES // 2**20} MB; not a page")
    return data


# --- What the publisher declares --------------------------------------------------------------


class PageMetadata:
    """Headline candidates, bylines, date, URL and section a page declares about itself."""

    def __init__(self):
        self.jsonld_headline = ""
        self.og_title = ""
        self.twitter_title = ""
        self.h1s: list[str] = []  # the page's first few <h1> texts
        self.title = ""
        self.site_name = ""
        self.authors: list[str] = []
        self.published: dt.datetime | None = None
        self.url = ""
        self.description = ""
        self.section = ""
        self.tags: list[str] = []


def page_metadata(tree) -> PageMetadata:
    """Return what ``tree`` (an lxml HTML document) declares; missing things stay empty."""
    meta = PageMetadata()

    def content(*xpaths: str) -> str:
        for xp in xpaths:
            for value in tree.xpath(xp):
                value = " ".join(str(value).split())
                if value:
                    return value
        return ""

    meta.og_title = text_of(content('//meta[@property="og:title"]/@content'))
    meta.twitter_title = text_of(
        content(
            '//meta[@name="twitter:title"]/@content', '//meta[@property="twitter:title"]/@content'
        )
    )
    meta.title = text_of(content("//title/text()"))
    meta.site_name = text_of(content('//meta[@property="og:site_name"]/@content'))
    meta.description = content(
        '//meta[@property="og:description"]/@content', '//meta[@name="description"]/@content'
    )
    meta.section = text_of(content('//meta[@property="article:section"]/@content'))[:80]
    meta.tags = unique_names(
        text_of(t) for t in tree.xpath('//meta[@property="article:tag"]/@content')
    )
    url = content('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content')
    meta.url = url if urlsplit(url).scheme in ("http", "https") else ""
    for h1 in tree.xpath("//h1"):
        text = " ".join(h1.text_content().split())
        if text and text not in meta.h1s:
            meta.h1s.append(text)
        if len(meta.h1s) >= MAX_H1S:
            break

    jsonld = _jsonld_article(tree)
    meta.jsonld_headline = text_of(str(jsonld.get("headline") or ""))

    authors = _jsonld_authors(jsonld.get("author"))
    if not authors:
        authors = _split_authors(
            content(
                '//meta[@name="author"]/@content',
                '//meta[@property="author"]/@content',
                '//meta[@name="byl"]/@content',
                '//meta[@name="parsely-author"]/@content',
                '//meta[@property="article:author"]/@content',
            )
        )
    if not authors:
        authors = _split_authors(
            content('//a[@rel="author"]//text()', '//*[@rel="author"]//text()')
        )
    meta.authors = authors

    meta.published = (
        parse_date(content('//meta[@property="article:published_time"]/@content'))
        or parse_date(str(jsonld.get("datePublished") or ""))
        or parse_date(
            content(
                '//meta[@itemprop="datePublished"]/@content',
                '//*[@itemprop="datePublished"]/@datetime',
                '//meta[@name="date"]/@content',
                '//meta[@name="pubdate"]/@content',
                '//meta[@name="parsely-pub-date"]/@content',
                "//time[@datetime]/@datetime",
            )
        )
    )
    return meta


def _jsonld_article(tree) -> dict:
    """Return the first schema.org Article-like object in the page's JSON-LD, or {}."""
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(script)
        except (ValueError, TypeError):
            continue
        stack = [data]
        while stack:
            item = stack.pop(0)
            if isinstance(item, list):
                stack.extend(item)
            elif isinstance(item, dict):
                kind = item.get("@type")
                kinds = kind if isinstance(kind, list) else [kind]
                if any(isinstance(k, str) and k.lower() in JSONLD_ARTICLE_TYPES for k in kinds):
                    if item.get("headline") or item.get("datePublished"):
                        return item
                if "@graph" in item:
                    stack.extend(item["@graph"] if isinstance(item["@graph"], list) else [])
    return {}


def _jsonld_authors(value) -> list[str]:
    values = value if isinstance(value, list) else [value]
    names = []
    for author in values:
        if isinstance(author, dict):
            author = author.get("name") or ""
        if isinstance(author, str) and author.strip():
            names.extend(_split_authors(author))
    return list(dict.fromkeys(names))[:MAX_AUTHORS]


def _split_authors(value: str) -> list[str]:
    """Return the names in a byline ("By A and B", "A; B"); URLs and e-mail addresses are dropped."""
    value = BYLINE_PREFIX_RE.sub("", text_of(value or ""))
    value = BYLINE_TAIL_RE.sub("", value)
    names = []
    for name in AUTHOR_SPLIT_RE.split(value):
        name = name.strip(" ,.|")
        if not name or "://" in name or "@" in name or name.startswith("www."):
            continue
        if CREDENTIAL_RE.match(name):
            continue
        if len(name) > 80 or not re.search(r"[^\W\d_]", name):
            continue
        names.append(name)
    names = list(dict.fromkeys(names))
    return names if len(names) <= MAX_AUTHORS else []


def site_keys(meta: PageMetadata) -> set[str]:
    """Return the site's names, compacted (og:site_name, host name labels such as "nytimes")."""
    keys = {_compact(meta.site_name)} if meta.site_name else set()
    if meta.url:
        host = urlsplit(meta.url).hostname or ""
        labels = [p for p in host.split(".") if p not in {"www", "com", "org", "net", "co"}]
        keys |= {_compact(p) for p in labels if len(p) >= 3}
        keys.add(_compact(host))
    return keys - {""}


def names_site(text: str, meta: PageMetadata) -> bool:
    """Return True when ``text`` is only the site's name ("India Post", "The GiveWell Blog")."""
    compact = _compact(text)
    if not compact:
        return True
    keys = site_keys(meta)
    if compact in keys:
        return True
    # "The GiveWell Blog" on blog.givewell.org: a short text built around a host label.
    return len(_key(text).split()) <= 4 and any(len(k) > 3 and k in compact for k in keys)


def _strip_site(title: str, meta: PageMetadata) -> str:
    """Return ``title`` without the " | Site name" (or "Site — ") part sites add to it."""
    parts = TITLE_SEPARATORS_RE.split(title)
    if len(parts) < 2:
        return title
    separator = TITLE_SEPARATORS_RE.search(title).group(0)
    while len(parts) > 1 and names_site(parts[-1], meta):
        parts.pop()
    while len(parts) > 1 and names_site(parts[0], meta):
        parts.pop(0)
    return separator.join(parts)


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def _compact(text: str) -> str:
    return _key(text).replace(" ", "")


def pick_headline(meta: PageMetadata, extracted: str = "") -> str:
    """Return the page's headline: the one readers see, without the site's name; "" if none.

    The visible ``<h1>`` wins when a title the page declares (JSON-LD
    ``headline``, og:title, twitter:title, ``<title>``) agrees with it, since
    those repeat the headline while a lone ``<h1>`` may be the site's logo.
    Otherwise the first declared title, trafilatura's guess, then ``<title>``,
    each without a " | Site" part.
    """
    declared = [meta.jsonld_headline, meta.og_title, meta.twitter_title, meta.title]
    declared = [_strip_site(t, meta) for t in declared if t]
    declared_keys = [_key(t) for t in declared]
    h1s = [h for h in meta.h1s if len(h) <= MAX_HEADLINE and not names_site(h, meta)]
    for h1 in h1s:
        if _key(h1) in declared_keys:
            return h1
    for h1 in h1s:
        # "Opinion | <headline>", "<kicker>: <headline>": the h1 is the headline part.
        key = _key(h1)
        if len(key.split()) >= 3 and any(key in d for d in declared_keys):
            return h1
    for candidate in [*declared[:3], extracted, *declared[3:]]:
        candidate = _strip_site(text_of(candidate), meta) if candidate else ""
        if candidate and len(candidate) <= MAX_HEADLINE and not names_site(candidate, meta):
            return candidate
    return h1s[0] if h1s else ""
