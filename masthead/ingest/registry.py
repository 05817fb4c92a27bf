"""The importer registry. Built-in importers register here exactly as a plugin would.

A package outside Masthead adds an importer with an entry point in the
``masthead.importers`` group, pointing at an ``Importer`` subclass.
"""

from importlib.metadata import entry_points
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from masthead.ingest.importers.base import Importer, ImportFormatError
from masthead.ingest.importers.feed import FeedImporter
from masthead.ingest.importers.html import HtmlImporter
from masthead.ingest.importers.jsonl import JsonLinesImporter
from masthead.ingest.importers.seed_text import SeedTextImporter
from masthead.ingest.importers.wordpress import WordPressImporter

_registry: dict[str, type[Importer]] = {}
_plugins_loaded = False


class ImporterNotFound(ImproperlyConfigured):
    pass


def register(importer: type[Importer]) -> type[Importer]:
    """Register an importer class under its ``name``; usable as a class decorator."""
    if not importer.name:
        raise ImproperlyConfigured(f"{importer.__module__}.{importer.__qualname__} has no name")
    _registry[importer.name] = importer
    return importer


def _load_plugins() -> None:
    global _plugins_loaded
    if _plugins_loaded:
        return
    _plugins_loaded = True
    for ep in entry_points(group="masthead.importers"):
        try:
            register(ep.load())
        except Exception as exc:  # a broken plugin must name itself
            raise ImproperlyConfigured(
                f"Importer plugin {ep.value!r} failed to load: {exc}"
            ) from exc


def importers() -> dict[str, type[Importer]]:
    """Return the registered importers by name."""
    _load_plugins()
    return dict(_registry)


def get_importer(name: str) -> Importer:
    """Return an instance of the importer called ``name``; ImporterNotFound lists the known names."""
    known = importers()
    if name not in known:
        raise ImporterNotFound(
            f"No importer called {name!r}; known formats: {', '.join(sorted(known))}"
        )
    return known[name]()


def importer_for(source: Path) -> Importer:
    """Return the first importer that can read ``source``, or raise ImportFormatError."""
    for importer_class in importers().values():
        importer = importer_class()
        if importer.can_read(source):
            return importer
    raise ImportFormatError(source, "no importer recognises this file; pass --format")


register(SeedTextImporter)
register(JsonLinesImporter)
register(WordPressImporter)  # before feed: a WXR export is RSS too
register(HtmlImporter)
register(FeedImporter)
