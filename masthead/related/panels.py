"""The newsroom's view of computed suggestions: a panel in the page editor with pin and block.

Pin and Block are submit buttons of the page's own edit form: the
``before_edit_page`` hook (wagtail_hooks.py) turns the click into one more row of
the page's "Related stories" inline (``pin_or_block``), and the editor's other
changes are saved with it as a draft, so revisions, workflow and publishing
work as for any edit.
"""

from django.http import QueryDict
from wagtail.admin.panels import Panel

from masthead.related.backends import get_backend
from masthead.related.selectors import related_suggestions

FORMSET_PREFIX = "related_links"  # the InlinePanel of RelatedLink.page (related_name)
ACTIONS = ("pin", "block", "unpin", "unblock")
PANEL_LIMIT = 10  # what the backend keeps for each page


def pin_or_block(data: QueryDict, *, action: str, target_id: int) -> QueryDict:
    """Return a copy of the edit form's data with ``target_id`` pinned, blocked or released.

    "pin" adds the story at the end of the editor's picks (or un-blocks it),
    "block" adds it as "never suggest" (or turns its pick into a block),
    "unpin" and "unblock" delete its row. Unknown actions or data without the
    inline's management form come back unchanged.
    """
    total_key = f"{FORMSET_PREFIX}-TOTAL_FORMS"
    if action not in ACTIONS or total_key not in data:
        return data
    data = data.copy()
    try:
        total = int(data.get(total_key) or 0)
    except ValueError:
        return data
    orders = []
    for i in range(total):
        prefix = f"{FORMSET_PREFIX}-{i}-"
        try:
            orders.append(int(data.get(prefix + "ORDER") or 0))
        except ValueError:
            pass
        if data.get(prefix + "DELETE") or str(data.get(prefix + "target") or "") != str(target_id):
            continue
        if action in ("unpin", "unblock"):
            data[prefix + "DELETE"] = "on"
        elif action == "pin":
            data.pop(prefix + "blocked", None)
        else:
            data[prefix + "blocked"] = "on"
            data[prefix + "also_read_after"] = ""
        return data
    if action in ("unpin", "unblock"):
        return data
    prefix = f"{FORMSET_PREFIX}-{total}-"
    data[prefix + "id"] = ""
    data[prefix + "target"] = str(target_id)
    data[prefix + "target_headline"] = ""
    data[prefix + "also_read_after"] = ""
    data[prefix + "ORDER"] = str(max(orders, default=0) + 1)
    if action == "block":
        data[prefix + "blocked"] = "on"
    data[total_key] = str(total + 1)
    return data


class RelatedSuggestionsPanel(Panel):
    """Lists the computed suggestions for the page, with score, reason, and Pin / Block buttons."""

    def __init__(self, heading="Suggested related stories", **kwargs):
        super().__init__(heading=heading, **kwargs)

    class BoundPanel(Panel.BoundPanel):
        template_name = "related/suggestions_panel.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            page = self.instance
            stored = related_suggestions(page=page)
            rows = [{"target": s.target, "score": s.score, "reason": s.reason} for s in stored]
            draft = False
            if not rows and (page.title or "").strip():
                # Never published: suggest from the draft as it stands, without storing.
                backend = get_backend()
                try:
                    found = backend.suggest(page, limit=PANEL_LIMIT)
                except NotImplementedError:
                    found = []
                targets = {
                    p.pk: p
                    for p in backend.candidates().filter(pk__in=[s.target_id for s in found])
                }
                rows = [
                    {"target": targets[s.target_id], "score": s.score, "reason": s.reason}
                    for s in found
                    if s.target_id in targets
                ]
                draft = True
            links = list(page.related_links.all()) if hasattr(page, "related_links") else []
            pinned = {link.target_id for link in links if link.target_id and not link.blocked}
            blocked = {link.target_id for link in links if link.target_id and link.blocked}
            for row in rows:
                row["pinned"] = row["target"].pk in pinned
                row["blocked"] = row["target"].pk in blocked
            context.update({"rows": rows, "draft": draft, "page_saved": page.pk is not None})
            return context
