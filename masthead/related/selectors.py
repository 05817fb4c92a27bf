"""Reads the related app serves to page models: editor picks first, computed fill second."""

from dataclasses import dataclass, field

from django.db.models import Q
from wagtail.models import Page

from masthead.related.models import RelatedLink

# Where the automatic "also read" goes when the editor placed none: after the
# second paragraph, once the reader is into the story (the seed page's place).
AUTO_ALSO_READ_AFTER = 2


@dataclass(frozen=True)
class AlsoRead:
    """The inline "also read" line: a page, or a headline not in the archive yet."""

    target: Page | None
    target_headline: str
    also_read_after: int
    computed: bool = False

    @property
    def target_id(self) -> int | None:
        return self.target.pk if self.target is not None else None


@dataclass
class RelatedStories:
    """What an article shows: the Related News list and the "also read" line (or None)."""

    stories: list[Page] = field(default_factory=list)
    also_read: AlsoRead | None = None
    picks: list[RelatedLink] = field(default_factory=list)
    suggestions: list[RelatedLink] = field(default_factory=list)


def related_for_page(*, page: Page, limit: int, auto_also_read: bool = True) -> RelatedStories:
    """Return the page's related stories: editor picks in their order, then computed suggestions.

    One indexed query (the page's own rows OR the rows computed for it). Blocked
    stories, the page itself and pages that are not live never appear; a story
    picked by the editor is not repeated by the fill. The "also read" line is the
    first pick placed after a paragraph, else (when ``auto_also_read``) the top
    computed suggestion. A page that was never saved has no stories.
    """
    if page.pk is None:
        return RelatedStories()
    rows = list(
        RelatedLink.objects.filter(Q(page_id=page.pk) | Q(computed_for_id=page.pk))
        .order_by()
        .select_related("target")
    )
    picks = sorted((r for r in rows if r.page_id), key=lambda r: (r.sort_order or 0, r.pk))
    blocked = {r.target_id for r in picks if r.blocked and r.target_id}
    shown = [r for r in picks if not r.blocked]
    seen = {page.pk} | blocked
    stories: list[Page] = []
    for link in shown:
        if link.target_id and link.target.live and link.target_id not in seen:
            stories.append(link.target)
            seen.add(link.target_id)
    computed = sorted(
        (r for r in rows if r.computed_for_id), key=lambda r: (-(r.score or 0.0), r.target_id)
    )
    suggestions = [r for r in computed if r.target.live and r.target_id not in seen]
    stories.extend(r.target for r in suggestions)
    also_read = None
    placed = next((r for r in shown if r.also_read_after), None)
    if placed is not None and (placed.target_id is None or placed.target.live):
        also_read = AlsoRead(placed.target, placed.target_headline, placed.also_read_after)
    elif auto_also_read and suggestions:
        also_read = AlsoRead(suggestions[0].target, "", AUTO_ALSO_READ_AFTER, computed=True)
    return RelatedStories(
        stories=stories[:limit], also_read=also_read, picks=picks, suggestions=suggestions
    )


def related_suggestions(*, page: Page) -> list[RelatedLink]:
    """Return every stored suggestion for the page with its target, best first (for editors).

    Unlike ``related_for_page`` nothing is filtered out: blocked and picked
    stories are listed too, so the newsroom sees what the backend proposed.
    """
    if page.pk is None:
        return []
    return list(
        RelatedLink.objects.computed()
        .filter(computed_for_id=page.pk, target__live=True)
        .select_related("target")
        .order_by("-score", "target_id")
    )


def related_picks(*, page: Page) -> list[RelatedLink]:
    """Return the page's editor picks and blocks in their order, with their targets (one query)."""
    return list(
        RelatedLink.objects.filter(page_id=page.pk)
        .select_related("target")
        .order_by("sort_order", "pk")
    )
