"""Two editors on one article: a save from a form loaded before someone else's save is refused.

Wagtail 8's editor puts the revision it was built from in the form (``loaded_revision_id`` and
``loaded_revision_created_at``) and warns in the browser when another session saves, but the
edit view only refuses a stale *autosave* (a JSON request); a plain Save, Publish or Submit
from an out-of-date form still replaces the other editor's version. ``refuse_stale_save`` (a
``before_edit_page`` hook) closes that on the server: the edit view is drawn again with the
editor's own text still in the form and an error naming who saved and when. The form drawn
again still names the revision it was first loaded from, so every later save from it, the
browser's autosave included, is refused as well until the editor reloads: nothing the other
editor wrote is replaced without the editor having seen it.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.utils import timezone
from wagtail.models import Revision

STALE_MESSAGE = (
    "{who} saved this article at {when} while you were editing; your changes were not saved. "
    "Copy them, reload the page and reapply them."
)


@dataclass(frozen=True)
class Conflict:
    """A newer revision than the one the editor's form was loaded from (as the form named it)."""

    revision: Revision
    loaded_id: str = ""
    loaded_created_at: str = ""

    @property
    def who(self) -> str:
        """Return the name of whoever saved the newer revision ("Someone" when unknown)."""
        user = self.revision.user
        if user is None:
            return "Someone"
        name = user.get_full_name() if hasattr(user, "get_full_name") else ""
        return name or getattr(user, get_user_model().USERNAME_FIELD, "") or "Someone"

    @property
    def when(self) -> str:
        """Return when it was saved, local time: "14:05", or "25 Nov 2026, 14:05" if not today."""
        return _clock(self.revision.created_at)

    @property
    def message(self) -> str:
        return STALE_MESSAGE.format(who=self.who, when=self.when)


def stale_save(data, page) -> Conflict | None:
    """Return a Conflict when the posted form was built from an older revision of ``page``.

    ``data`` is the POST (a QueryDict or dict). None when the page has no revision yet, when
    the form names the newest revision (its own autosave included), or when the form names no
    revision at all (a client that sends none cannot be checked; Wagtail's view does the same).
    """
    latest = Revision.page_revisions.filter(object_id=str(page.pk)).order_by("-created_at", "-id")
    latest = latest.select_related("user").first()
    if latest is None:
        return None
    loaded_id = data.get("loaded_revision_id", "")
    loaded_created_at = data.get("loaded_revision_created_at", "")
    conflict = Conflict(latest, loaded_id, loaded_created_at)
    # The same reading of the form as Wagtail's EditView.is_out_of_date (autosave's check).
    if overwrite_id := data.get("overwrite_revision_id"):
        return conflict if overwrite_id != str(latest.pk) else None
    if not loaded_id:
        return None
    if loaded_id != str(latest.pk):
        return conflict
    # The same revision id, overwritten since by another session's autosave.
    if loaded_created_at != latest.created_at.isoformat():
        return conflict
    return None


def _clock(moment: datetime) -> str:
    local = timezone.localtime(moment)
    if local.date() == timezone.localdate():
        return local.strftime("%H:%M")
    return f"{local.day} {local.strftime('%b %Y, %H:%M')}"


class StaleSaveMixin:
    """Mixed into Wagtail's page edit view: the form, valid or not, is drawn again with the conflict.

    The form drawn again keeps the revision id and time it was loaded with (Wagtail would
    write the newest ones), so its next save or autosave is refused too.
    """

    conflict: Conflict

    def form_valid(self, form):
        return self.form_invalid(form)

    def form_invalid(self, form):
        if self.conflict.message not in form.non_field_errors():
            form.add_error(None, self.conflict.message)
        if self.conflict.loaded_id.isdigit():
            self.page.latest_revision_id = int(self.conflict.loaded_id)
            self.latest_revision_created_at = self.conflict.loaded_created_at
        return super().form_invalid(form)
