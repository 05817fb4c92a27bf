"""A simple related backend: most shared tags, then the same section, then newest.

This is what most plugins do; Masthead keeps it as a baseline for
``bench/related_eval.py`` and for sites that want suggestions to follow tags only.
"""

from django.db.models import BooleanField, Case, Count, Q, Value, When
from wagtail.models import Page

from masthead.related.backends.base import KEEP, BaseRelatedBackend, Suggestion
from masthead.related.backends.terms import _walk


class TagsBackend(BaseRelatedBackend):
    supports_reasons = True

    def suggest(self, page: Page, *, limit: int = KEEP) -> list[Suggestion]:
        """Return up to ``limit`` live pages sharing the most tags, same section first, newest first.

        The list is filled even when nothing is shared; a page of a model that is
        not indexed gets [].
        """
        model = type(page)
        if not self.handles(model) or limit <= 0:
            return []
        lookup = self.options.get("TAGS") or ""
        names = _walk(page, lookup) if lookup else []
        parent = page.path[: -page.steplen] if page.path else ""
        shared = Q(**{f"{lookup}__in": names}) if names else Q(pk__in=[])
        candidates = self.page_models()[0].objects.live()
        if lookup:
            candidates = candidates.annotate(
                shared=Count(lookup.split("__")[0], filter=shared, distinct=True)
            )
        else:
            candidates = candidates.annotate(shared=Value(0))
        rows = (
            candidates.exclude(pk=page.pk)
            .annotate(
                same_section=Case(
                    When(path__startswith=parent, then=Value(True)),
                    default=Value(False),
                    output_field=BooleanField(),
                )
            )
            .order_by("-shared", "-same_section", "-first_published_at", "-pk")
            .values_list("pk", "shared", "same_section")[:limit]
        )
        out = []
        for rank, (pk, count, same) in enumerate(rows):
            parts = [f"{count} shared tag{'s' if count != 1 else ''}"] if count else []
            if same:
                parts.append("same section")
            out.append(Suggestion(pk, 1.0 / (rank + 1), "; ".join(parts) or "recent"))
        return out
