"""One JSON object a line: title, body, author, published, section, tags, url, image_url.

``.jsonl.gz`` files are read directly. ``body`` is plain text with paragraphs
separated by blank lines (or a list of paragraphs); ``author`` may be a string
or a list; ``id`` (or ``url``) identifies the story for re-imports.
"""

import datetime as dt
import gzip
import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

from masthead.ingest.importers.base import ArticleDraft, Importer, ImportFormatError


class JsonLinesImporter(Importer):
    name = "jsonl"
    description = "JSON Lines (.jsonl, .jsonl.gz): one article object a line."

    def can_read(self, source: Path) -> bool:
        return source.name.lower().endswith((".jsonl", ".jsonl.gz", ".ndjson"))

    def _open(self, source: Path):
        try:
            if source.name.lower().endswith(".gz"):
                return io.TextIOWrapper(gzip.open(source, "rb"), encoding="utf-8")
            return open(source, encoding="utf-8")
        except OSError as exc:
            raise ImportFormatError(source, f"cannot be read ({exc.strerror})") from exc

    def count(self, source: Path) -> int | None:
        try:
            with self._open(source) as fh:
                return sum(1 for line in fh if line.strip())
        except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile):
            return None

    def read(self, source: Path) -> Iterator[ArticleDraft]:
        fh = self._open(source)
        n = 0
        try:
            with fh:
                for n, line in enumerate(fh, start=1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise ImportFormatError(
                            source, f"is not valid JSON ({exc.msg})", n
                        ) from exc
                    if not isinstance(row, dict):
                        raise ImportFormatError(source, "each line must be a JSON object", n)
                    draft = _draft(row, source, n)
                    if draft is not None:
                        yield draft
        except (UnicodeDecodeError, EOFError, gzip.BadGzipFile, OSError) as exc:
            raise ImportFormatError(
                source, f"cannot be read past this point ({exc})", n + 1
            ) from exc


def _draft(row: dict, source: Path, line: int) -> ArticleDraft | None:
    """Return a draft from one row; a row without a title and body is skipped (None)."""
    title = _text(row.get("title") or row.get("headline"))
    body = row.get("body") or row.get("content") or ""
    if isinstance(body, list):
        paragraphs = [_text(p) for p in body if _text(p)]
    elif isinstance(body, str):
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", body) if p.strip()]
    else:
        raise ImportFormatError(source, "'body' must be a string or a list of strings", line)
    if not title:
        if not paragraphs:
            return None
        title = paragraphs[0][:120].rsplit(" ", 1)[0]
    author = row.get("author") or row.get("authors") or []
    authors = [author] if isinstance(author, str) else [a for a in author if isinstance(a, str)]
    tags = row.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    source_key = row.get("id") or row.get("url")
    if not source_key:
        source_key = hashlib.sha1(f"{title}|{row.get('published')}".encode()).hexdigest()
    return ArticleDraft(
        source_id=f"jsonl:{source_key}",
        title=title,
        paragraphs=paragraphs,
        standfirst=_text(row.get("standfirst") or row.get("summary") or ""),
        authors=authors,
        section=_text(row.get("section") or ""),
        tags=[_text(t) for t in tags if _text(t)],
        published=_date(row.get("published"), source, line),
        url=_text(row.get("url") or ""),
        image_url=_text(row.get("image_url") or ""),
        line=line,
    )


def _text(value) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _date(value, source: Path, line: int) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise ImportFormatError(
            source, f"'published' is not an ISO 8601 date: {value!r}", line
        ) from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
