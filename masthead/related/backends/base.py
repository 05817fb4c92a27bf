"""What every related backend offers, and the shared way suggestions are stored."""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.apps import apps
from django.db import transaction
from wagtail.models import Page

from masthead.related.models import RelatedLink

# How many suggestions each page keeps: twice what Related News shows, so blocks
# and picks (applied when the page is read) still leave the region full.
KEEP = 10

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Suggestion:
    """A computed related story: the target page, its score and the evidence for it."""

    target_id: int
    score: float
    reason: str


def days_apart_text(days: float) -> str:
    """Return "same day", "3 days apart", "2 months apart" or "4 years apart" for a gap in days."""
    days = abs(days)
    if days < 1:
        return "same day"
    if days < 60:
        n = int(days)
        return f"{n} day{'s' if n != 1 else ''} apart"
    if days < 730:
        return f"{int(days // 30)} months apart"
    return f"{int(days // 365)} years apart"


def to_days(moment: dt.datetime | None) -> float:
    """Return ``moment`` as days since 1970-01-01 (UTC); None (never published) is 0."""
    if moment is None:
        return 0.0
    return moment.timestamp() / 86400.0


class BaseRelatedBackend:
    """A source of computed related stories for pages.

    Subclasses implement ``suggest``; an incremental backend also overrides
    ``index_page`` and ``remove_page`` so that publishing one page updates the
    lists it touches instead of the whole site.
    """

    #: Publishing a page also updates the lists of the pages it should appear in.
    supports_incremental = False
    #: Suggestions carry a reason made of their evidence.
    supports_reasons = False

    def __init__(self, options: dict):
        self.options = options

    # --- What is indexed -----------------------------------------------------------------

    def page_models(self) -> list[type[Page]]:
        """Return the page classes named in OPTIONS["MODELS"] ("app_label.ModelName")."""
        return [apps.get_model(label) for label in self.options.get("MODELS", [])]

    def handles(self, page_class: type) -> bool:
        """Return True if pages of ``page_class`` get suggestions."""
        return any(issubclass(page_class, model) for model in self.page_models())

    def candidates(self):
        """Return a queryset of the live pages suggestions may point to (plain Page rows)."""
        models = self.page_models()
        return Page.objects.live().type(*models) if models else Page.objects.none()

    # --- Interface ---------------------------------------------------------------------------

    def suggest(self, page: Page, *, limit: int = KEEP) -> list[Suggestion]:
        """Return up to ``limit`` suggestions for ``page``, best first, without storing them."""
        raise NotImplementedError

    def index_page(self, page_id: int) -> None:
        """Store the suggestions of the page ``page_id`` (after it is published or edited)."""
        page = Page.objects.filter(pk=page_id).first()
        if page is None or not page.live or not self.handles(page.specific_class):
            self.remove_page(page_id)
            return
        self.store(page_id, self.suggest(page.specific, limit=KEEP))

    def remove_page(self, page_id: int) -> None:
        """Forget the page ``page_id`` (unpublished or deleted): its list, and it in others' lists."""
        fast_delete(RelatedLink.objects.computed().filter(computed_for_id=page_id))
        fast_delete(RelatedLink.objects.computed().filter(target_id=page_id))

    def rebuild(self, *, progress: Progress | None = None, refresh_stats: bool = True) -> int:
        """Recompute every page's suggestions; return how many pages were done."""
        ids = list(self.candidates().values_list("pk", flat=True))
        fast_delete(RelatedLink.objects.computed())
        for page in self.candidates().filter(pk__in=ids).specific().iterator(chunk_size=500):
            self.store(page.pk, self.suggest(page, limit=KEEP))
            if progress:
                progress(1)
        return len(ids)

    # --- Storage shared by backends -------------------------------------------------------

    @staticmethod
    def store(page_id: int, suggestions: Iterable[Suggestion]) -> None:
        """Replace the stored suggestions of ``page_id`` with ``suggestions`` (in one transaction)."""
        with transaction.atomic():
            fast_delete(RelatedLink.objects.computed().filter(computed_for_id=page_id))
            RelatedLink.objects.bulk_create(
                [
                    RelatedLink(
                        computed_for_id=page_id,
                        target_id=s.target_id,
                        score=s.score,
                        reason=s.reason[:255],
                        sort_order=rank,
                    )
                    for rank, s in enumerate(suggestions)
                ]
            )


def fast_delete(queryset) -> int:
    """Delete the rows of ``queryset`` in one statement; return how many.

    The index's rows have no dependants, and Django's ``delete()`` would load
    each row to send Wagtail's reference-index signals, which costs a query a
    row: a publish touching a few hundred rows took seconds.
    """
    return queryset._raw_delete(queryset.db)


def decay(days: float, half_days: float, power: float) -> float:
    """Return the time weight of two stories ``days`` apart: 1 on the same day, falling slowly."""
    return (1.0 + abs(days) / half_days) ** -power if half_days > 0 else 1.0
