"""The newsroom's Wagtail hooks: the Author role's limits, shareable previews, audit-log actions.

Why hooks for "Authors publish their own": Wagtail's page permissions are tree-wide, so the
Author group holds "add" (create, and edit what it owns) and "publish". Editing other people's
pages is already refused by Wagtail's own tester, which closes the edit and create views (and
so their Publish and Schedule buttons) to them. Two doors stay open: the Unpublish view and
the bulk publish/unpublish actions, which check "publish" only. The hooks below shut those
doors for pages the user does not own when the user holds no "change" permission there, and
hide the matching menu items; ``newsroom.middleware`` does the same for the other views that
check "publish" alone (privacy, unschedule, reorder). Contributors and Authors create
articles only: sections and standard pages are the Editors'. This keeps Wagtail's stock permission tester and policy, so
Editors, Administrators, workflows and the rest of the admin behave exactly as documented;
overriding ``ArticlePage.permissions_for_user`` would have coupled ``news`` to ``newsroom``
against the import direction (STYLE.md) and reimplemented Wagtail's tester.
"""

from django.core.exceptions import PermissionDenied
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html
from taggit.models import Tag
from wagtail import hooks
from wagtail.admin.panels import FieldPanel
from wagtail.admin.ui.menus.pages import PageMenuItem
from wagtail.admin.views.pages.edit import EditView
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from masthead.newsroom import conflicts, views

ARTICLE_MODEL = "news.articlepage"

PUBLISH_ACTIONS = {"publish", "unpublish"}


def publishes_only_own(user, page) -> bool:
    """Return True when ``user`` may publish ``page`` only because they own it (an Author).

    False for superusers and for anyone holding "change" on the page (Editors, Administrators).
    """
    if not user.is_active or user.is_superuser:
        return False
    permissions = page.permissions_for_user(user).permissions
    return "publish" in permissions and "change" not in permissions


def refuse_others_page(user, page) -> bool:
    """Return True when ``user`` must not publish or unpublish ``page``: an Author, not its owner."""
    return publishes_only_own(user, page) and page.owner_id != user.pk


@hooks.register("before_create_page")
def writers_create_articles_only(request, parent_page, page_class):
    """Raise PermissionDenied (403) when someone without "change" creates anything but an article."""
    user = request.user
    if user.is_superuser or page_class._meta.label_lower == ARTICLE_MODEL:
        return None
    if "change" not in parent_page.permissions_for_user(user).permissions:
        raise PermissionDenied("Contributors and Authors create articles only.")
    return None


@hooks.register("before_publish_page")
def author_publishes_own_only(request, page):
    """Raise PermissionDenied (403) when an Author publishes someone else's page."""
    if refuse_others_page(request.user, page):
        raise PermissionDenied("Authors publish their own articles only.")


@hooks.register("before_unpublish_page")
def author_unpublishes_own_only(request, page):
    """Raise PermissionDenied (403) when an Author unpublishes someone else's page."""
    if refuse_others_page(request.user, page):
        raise PermissionDenied("Authors unpublish their own articles only.")


@hooks.register("before_bulk_action")
def author_bulk_publishes_own_only(request, action_type, objects, action_class_instance):
    """Raise PermissionDenied (403) when an Author bulk-(un)publishes any page they do not own."""
    if action_type not in PUBLISH_ACTIONS:
        return None
    if any(refuse_others_page(request.user, obj) for obj in objects if hasattr(obj, "owner_id")):
        raise PermissionDenied("Authors publish and unpublish their own articles only.")
    return None


@hooks.register("construct_page_listing_buttons")
def hide_unpublish_from_authors(buttons, page, user, context=None):
    """Remove "Unpublish" from the menus of pages an Author may not unpublish."""
    if refuse_others_page(user, page):
        buttons[:] = [
            b for b in buttons if getattr(b, "url_name", None) != "wagtailadmin_pages:unpublish"
        ]


# --- Writing: character counts under the headline, standfirst and search fields ----------


@hooks.register("insert_editor_js")
def character_counter_js():
    return format_html('<script src="{}"></script>', static("newsroom/js/counters.js"))


@hooks.register("insert_global_admin_css")
def character_counter_css():
    return format_html('<link rel="stylesheet" href="{}">', static("newsroom/css/editor.css"))


# --- Two editors on one article: a stale save is refused ---------------------------------


@hooks.register("before_edit_page")
def refuse_stale_save(request, page):
    """Return the edit view drawn again with an error when the form predates the latest save.

    None (carry on) for GET, for autosave (Wagtail already refuses a stale one with JSON) and
    for an up-to-date form. See ``newsroom.conflicts``.
    """
    if request.method != "POST" or getattr(request, "newsroom_stale_save", None):
        return None
    if not request.accepts("text/html"):
        return None
    conflict = conflicts.stale_save(request.POST, page)
    if conflict is None:
        return None
    request.newsroom_stale_save = conflict
    match = request.resolver_match
    view_class = getattr(match.func, "view_class", EditView)
    stale_view = type(
        f"Stale{view_class.__name__}",
        (conflicts.StaleSaveMixin, view_class),
        {"conflict": conflict},
    )
    return stale_view.as_view()(request, *match.args, **match.kwargs)


# --- Shareable previews -------------------------------------------------------------------


@hooks.register("register_admin_urls")
def newsroom_admin_urls():
    return [
        path(
            "preview-link/<int:page_id>/",
            views.create_preview_link,
            name="newsroom_preview_link",
        )
    ]


class SharePreviewButton(PageMenuItem):
    label = "Share a preview link"
    icon_name = "link"
    url_name = "newsroom_preview_link"

    def is_shown(self, user):
        return self.page.permissions_for_user(user).can_edit()


@hooks.register("register_page_header_buttons")
def share_preview_header_button(page, user, view_name, next_url=None):
    if page.depth > 1:
        yield SharePreviewButton(page=page, priority=25)


@hooks.register("register_page_listing_more_buttons")
def share_preview_listing_button(page, user, next_url=None):
    if page.depth > 1:
        yield SharePreviewButton(page=page, priority=25)


@hooks.register("register_log_actions")
def newsroom_log_actions(actions):
    actions.register_action(views.LOG_ACTION, "Share preview", "Preview link shared")


def preview_link_url(page) -> str:
    """Return the newsroom URL that hands out a preview link for ``page``."""
    return reverse("newsroom_preview_link", args=[page.pk])


# --- Tags: Editors manage them (rename, merge by hand, delete) ----------------------------


class TagViewSet(SnippetViewSet):
    model = Tag
    icon = "tag"
    add_to_admin_menu = True
    menu_label = "Tags"
    menu_order = 210
    list_display = ["name", "slug"]
    search_fields = ("name",)
    panels = [FieldPanel("name"), FieldPanel("slug")]


register_snippet(TagViewSet)
