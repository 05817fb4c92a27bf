"""Shareable draft previews: a signed, expiring link that shows a draft to someone without an account.

Wagtail has no built-in for this. An editor who may edit a page asks the newsroom for a link
(``create_preview_link``); the link carries the page and the revision it was made from, signed
with the project's SECRET_KEY (``django.core.signing``), and stops working after
``MASTHEAD_PREVIEW_LINK_MAX_AGE`` seconds. Later edits need a new link: a link shows what
the editor shared, not whatever the draft becomes.
"""

from datetime import timedelta

from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from wagtail.log_actions import log
from wagtail.models import Page, Revision

from masthead.core import conf
from masthead.newsroom import conf as newsroom_conf  # noqa: F401  (declares the setting)

SALT = "masthead.newsroom.preview-link"
LOG_ACTION = "masthead.share_preview"


def make_preview_token(revision: Revision) -> str:
    """Return a signed token naming the revision's page and the revision itself."""
    return signing.dumps({"p": int(revision.object_id), "r": revision.pk}, salt=SALT, compress=True)


def read_preview_token(token: str, *, max_age: int | None = None) -> tuple[int, int]:
    """Return (page id, revision id) from a token.

    Raises ``signing.SignatureExpired`` for a token older than ``max_age`` seconds (the
    setting's value when not given) and ``signing.BadSignature`` for a forged or mangled one.
    """
    if max_age is None:
        max_age = conf.get("MASTHEAD_PREVIEW_LINK_MAX_AGE")
    data = signing.loads(token, salt=SALT, max_age=max_age)
    try:
        return int(data["p"]), int(data["r"])
    except (KeyError, TypeError, ValueError) as exc:
        raise signing.BadSignature("Malformed preview token") from exc


def preview_url(request, revision: Revision) -> str:
    """Return the absolute URL of the shareable preview of ``revision``."""
    return request.build_absolute_uri(
        reverse("shared_preview", kwargs={"token": make_preview_token(revision)})
    )


@require_GET
def shared_preview(request, token: str):
    """Return the shared draft rendered with the article's own template, for anyone with the link.

    404 for a forged, mangled or unknown link; 410 once the link has expired. Never cached,
    never indexed.
    """
    try:
        page_id, revision_id = read_preview_token(token)
    except signing.SignatureExpired:
        response = HttpResponse(
            "This preview link has expired. Ask the newsroom for a new one.",
            status=410,
            content_type="text/plain; charset=utf-8",
        )
        return _private(response)
    except signing.BadSignature as exc:
        raise Http404("No such preview") from exc
    revision = get_object_or_404(
        Revision.page_revisions.select_related("content_type"),
        pk=revision_id,
        object_id=str(page_id),
    )
    page = revision.as_object()
    # Rendered straight from this request (not Wagtail's make_preview_request, whose dummy
    # request at the article's URL would pass the page cache and could get the live copy).
    mode = page.default_preview_mode
    request.is_preview = True
    request.preview_mode = mode
    response = page.serve_preview(request, mode)
    if hasattr(response, "render"):
        response.render()
    return _private(response)


def _private(response):
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def create_preview_link(request, page_id: int):
    """Return the newsroom page that hands out a preview link for the page's latest draft.

    403 for a user who may not edit the page; 404 for an unknown page. The link is logged in
    the page's history (Wagtail's audit log).
    """
    page = get_object_or_404(Page, pk=page_id).specific
    if not page.permissions_for_user(request.user).can_edit():
        raise PermissionDenied
    revision = page.get_latest_revision()
    if revision is None:
        revision = page.save_revision(user=request.user, log_action=True)
    max_age = conf.get("MASTHEAD_PREVIEW_LINK_MAX_AGE")
    url = preview_url(request, revision)
    log(page, LOG_ACTION, user=request.user, revision=revision)
    return TemplateResponse(
        request,
        "newsroom/preview_link.html",
        {
            "page": page,
            "link": url,
            "revision": revision,
            "expires_at": timezone.now() + timedelta(seconds=max_age),
            "header_title": f"Share a preview: {page.get_admin_display_title()}",
        },
    )
