"""What every importer shares: the draft it yields and the error it raises."""

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


class ImportFormatError(ValueError):
    """A source cannot be read; the message names the file and, where known, the line."""

    def __init__(self, source: Path | str, message: str, line: int | None = None):
        self.source = str(source)
        self.line = line
        where = f"{self.source}, line {line}" if line else self.source
        super().__init__(f"{where}: {message}")


@dataclass
class RelatedPick:
    headline: str
    after_paragraph: int | None = None


@dataclass
class ArticleDraft:
    """An article as an importer read it, before it meets the database."""

    source_id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    html: bool = False  # paragraphs hold sanitizable HTML rather than plain text
    standfirst: str = ""
    authors: list[str] = field(default_factory=list)
    section: str = ""
    tags: list[str] = field(default_factory=list)
    published: dt.datetime | None = None
    url: str = ""
    image_url: str = ""
    related: list[RelatedPick] = field(default_factory=list)
    line: int | None = None  # where the draft started in its file, for error messages
    # Addresses the story had on the old site (full URLs or paths); each should
    # become a permanent wagtail.contrib.redirects Redirect to the imported page.
    old_urls: list[str] = field(default_factory=list)


class Importer:
    """Base class of importer plugins: parse a source into drafts, never write."""

    name: str = ""
    description: str = ""

    def __init__(self) -> None:
        # What ``read`` passed over or doubts, for the import report (--dry-run prints it).
        self.warnings: list[str] = []
        self.skipped: int = 0

    def warn(self, message: str) -> None:
        """Add a line to the import report."""
        self.warnings.append(message)

    def skip(self, message: str) -> None:
        """Count an item of the source that is deliberately not imported, with the reason."""
        self.skipped += 1
        self.warnings.append(message)

    def can_read(self, source: Path) -> bool:
        """Return True when this importer recognises ``source`` (by name or by a peek at it)."""
        raise NotImplementedError

    def read(self, source: Path) -> Iterator[ArticleDraft]:
        """Yield the drafts in ``source``; raise ImportFormatError on bad input."""
        raise NotImplementedError

    def count(self, source: Path) -> int | None:
        """Return how many drafts ``source`` holds if cheap to know (for a progress bar), else None."""
        return None


def read_head(source: Path, size: int) -> bytes | None:
    """Return the first ``size`` bytes of ``source`` (for sniffing), or None if it cannot be read."""
    try:
        with source.open("rb") as fh:
            return fh.read(size)
    except OSError:
        return None


def read_text(source: Path) -> str:
    """Return the file's text as UTF-8; binary or undecodable files raise ImportFormatError."""
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ImportFormatError(source, f"cannot be read ({exc.strerror})") from exc
    if b"\x00" in data[:8192]:
        raise ImportFormatError(source, "is a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFormatError(source, "is not valid UTF-8 text", line=line) from exc
