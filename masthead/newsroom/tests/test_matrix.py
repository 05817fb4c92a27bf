"""Every newsroom URL and action, for every role and for anonymous visitors, against the policy.

Outcomes: ``ok`` (200), ``done`` (a redirect after the action happened), ``login`` (sent to
the login page), ``denied`` (403, or Wagtail's redirect to the dashboard with an error).
"""

import pytest
from wagtail.models import Site

from masthead.news.models import HomePage
from masthead.news.tests.factories import publish_article, section
from masthead.newsroom.tests.helpers import PASSWORD, ROLES, member_of, owned_article

ANON = "anonymous"
C, AU, E, AD = ROLES
EVERYONE = {C: "ok", AU: "ok", E: "ok", AD: "ok"}
EDITORS = {C: "denied", AU: "denied", E: "ok", AD: "ok"}
PUBLISHERS = {C: "denied", AU: "ok", E: "ok", AD: "ok"}
ADMINS = {C: "denied", AU: "denied", E: "denied", AD: "ok"}

# (name, URL template, expected outcome by role); anonymous visitors always go to the login page.
GET_MATRIX = [
    ("dashboard", "/newsroom/", EVERYONE),
    ("explore the front page", "/newsroom/pages/{home}/", EVERYONE),
    ("explore a section", "/newsroom/pages/{section}/", EVERYONE),
    ("write an article", "/newsroom/pages/add/news/articlepage/{section}/", EVERYONE),
    ("create a section", "/newsroom/pages/add/news/sectionpage/{home}/", EDITORS),
    ("create a standard page", "/newsroom/pages/add/news/standardpage/{home}/", EDITORS),
    ("edit own article", "/newsroom/pages/{own}/edit/", EVERYONE),
    ("edit someone else's article", "/newsroom/pages/{other}/edit/", EDITORS),
    ("view own draft", "/newsroom/pages/{own}/view_draft/", EVERYONE),
    ("view someone else's draft", "/newsroom/pages/{other}/view_draft/", EDITORS),
    ("history of own article", "/newsroom/pages/{own}/history/", EVERYONE),
    ("history of someone else's", "/newsroom/pages/{other}/history/", EDITORS),
    ("unpublish own article (confirm)", "/newsroom/pages/{own}/unpublish/", PUBLISHERS),
    ("unpublish someone else's (confirm)", "/newsroom/pages/{other}/unpublish/", EDITORS),
    ("privacy of own article", "/newsroom/pages/{own}/privacy/", PUBLISHERS),
    ("privacy of someone else's", "/newsroom/pages/{other}/privacy/", EDITORS),
    ("privacy of a section", "/newsroom/pages/{section}/privacy/", EDITORS),
    ("share a preview of own draft", "/newsroom/preview-link/{own}/", EVERYONE),
    ("share a preview of someone else's", "/newsroom/preview-link/{other}/", EDITORS),
    ("images", "/newsroom/images/", EVERYONE),
    ("upload an image", "/newsroom/images/add/", EVERYONE),
    ("authors", "/newsroom/snippets/news/author/", EVERYONE),
    ("add an author", "/newsroom/snippets/news/author/add/", EDITORS),
    ("tags", "/newsroom/snippets/taggit/tag/", EDITORS),
    ("redirects", "/newsroom/redirects/", EDITORS),
    ("users", "/newsroom/users/", ADMINS),
    ("add a user", "/newsroom/users/new/", ADMINS),
    ("groups", "/newsroom/groups/", ADMINS),
    ("workflows", "/newsroom/workflows/list/", ADMINS),
    ("publication settings", "/newsroom/settings/core/publicationsettings/{site}/", ADMINS),
]

# (name, URL template, expected outcome by role, whether the page is live afterwards when done)
POST_MATRIX = [
    (
        "unpublish own article",
        "/newsroom/pages/{own}/unpublish/",
        {**PUBLISHERS, AU: "done", E: "done", AD: "done"},
    ),
    (
        "unpublish someone else's",
        "/newsroom/pages/{other}/unpublish/",
        {**EDITORS, E: "done", AD: "done"},
    ),
    (
        "bulk-unpublish someone else's",
        "/newsroom/bulk/wagtailcore/page/unpublish/?id={other}",
        {**EDITORS, E: "done", AD: "done"},
    ),
]


def outcome(response) -> str:
    """Return the outcome name of a newsroom response."""
    if response.status_code == 200:
        return "ok"
    if response.status_code == 403:
        return "denied"
    if response.status_code == 302:
        location = response["Location"]
        if location.startswith("/newsroom/login/"):
            return "login"
        if location == "/newsroom/":
            return "denied"
        return "done"
    return f"status {response.status_code}"


def _urls(user):
    home = HomePage.objects.get()
    politics = section("Politics")
    own = owned_article(user, section_page=politics) if user else publish_article()
    other = publish_article(section_page=politics)
    return (
        {
            "home": home.pk,
            "section": politics.pk,
            "own": own.pk,
            "other": other.pk,
            "site": Site.objects.get(is_default_site=True).pk,
        },
        own,
        other,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", [ANON, *ROLES])
def test_every_newsroom_url_for_every_role(client, role):
    user = None
    if role != ANON:
        user = member_of(role)
        assert client.login(username=user.username, password=PASSWORD)
    ids, _, _ = _urls(user)
    wrong = []
    for name, template, expected in GET_MATRIX:
        want = "login" if role == ANON else expected[role]
        got = outcome(client.get(template.format(**ids)))
        if got != want:
            wrong.append(f"{name}: expected {want}, got {got}")
    assert not wrong, f"{role}:\n" + "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize("role", [ANON, *ROLES])
@pytest.mark.parametrize("action", POST_MATRIX, ids=[a[0] for a in POST_MATRIX])
def test_every_publishing_action_for_every_role(client, role, action):
    name, template, expected = action
    user = None
    if role != ANON:
        user = member_of(role)
        assert client.login(username=user.username, password=PASSWORD)
    ids, own, other = _urls(user)
    target = own if "{own}" in template else other
    want = "login" if role == ANON else expected[role]
    got = outcome(client.post(template.format(**ids), {"include_descendants": ""}))
    if "/bulk/" in template and want == "denied":
        # Wagtail's bulk views answer a refusal with a listing of what could not be done;
        # what matters is that nothing was unpublished (checked below).
        assert got in ("ok", "done", "denied"), got
    else:
        assert got == want, f"{role} {name}: expected {want}, got {got}"
    target.refresh_from_db()
    assert target.live is (want != "done"), f"{role} {name}: live={target.live}"
