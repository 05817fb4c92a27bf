"""Draft → in review → scheduled/published → unpublished through the newsroom, with its audit log."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.utils import timezone
from wagtail.admin.models import EditingSession
from wagtail.models import PageLogEntry, WorkflowState
from wagtail.test.utils.form_data import (
    nested_form_data,
    querydict_from_html,
    rich_text,
    streamfield,
)

from masthead.news.tests.factories import publish_article
from masthead.newsroom.tests.helpers import PASSWORD, member_of, owned_article


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)


def edit_form(client, page, **changes):
    """Return the article's edit form as the newsroom filled it in, with ``changes`` applied."""
    response = client.get(f"/newsroom/pages/{page.pk}/edit/")
    assert response.status_code == 200
    data = querydict_from_html(response.content.decode(), form_id="page-edit-form")
    if "body-count" not in data:  # the body's StreamField is drawn by JavaScript
        page = page.get_latest_revision_as_object()
        blocks = [(block.block_type, rich_text(block.value.source)) for block in page.body]
        data.update(nested_form_data({"body": streamfield(blocks)}))
    for key, value in changes.items():
        data[key] = value
    return data


def submit(client, page, action: str, **changes):
    data = edit_form(client, page, **changes)
    data[f"action-{action}"] = action
    return client.post(f"/newsroom/pages/{page.pk}/edit/", data)


def actions_logged(page) -> list[tuple[str, str | None]]:
    entries = PageLogEntry.objects.filter(page=page).order_by("timestamp", "pk")
    return [(e.action, e.user.username if e.user else None) for e in entries]


@pytest.mark.django_db
def test_contributor_submits_and_an_editor_approves(client):
    contributor = member_of("Contributor", "casey")
    editor = member_of("Editor", "erin")
    article = owned_article(contributor, live=False, title="Council budget draft")

    login(client, contributor)
    response = submit(client, article, "submit", title="Council budget: the final figures")
    assert response.status_code == 302
    article.refresh_from_db()
    assert not article.live
    state = WorkflowState.objects.get(base_content_type__isnull=False, object_id=str(article.pk))
    assert state.status == WorkflowState.STATUS_IN_PROGRESS

    # The contributor cannot publish, even by posting the publish button.
    submit(client, article, "publish")
    article.refresh_from_db()
    assert not article.live

    # The editor sees it in the review queue on the dashboard, then approves it.
    client.logout()
    login(client, editor)
    dashboard = client.get("/newsroom/").content.decode()
    assert "Council budget: the final figures" in dashboard
    task_state = state.current_task_state
    response = client.post(
        f"/newsroom/pages/workflow/action/{article.pk}/approve/{task_state.pk}/",
        {"comment": "Good to go"},
    )
    assert response.status_code in (200, 302)
    article.refresh_from_db()
    assert article.live
    assert article.title == "Council budget: the final figures"

    logged = actions_logged(article)
    assert ("wagtail.workflow.start", "casey") in logged
    assert ("wagtail.workflow.approve", "erin") in logged
    assert ("wagtail.publish", "erin") in logged


@pytest.mark.django_db
def test_an_editor_rejects_and_the_contributor_is_back_to_a_draft(client):
    contributor = member_of("Contributor", "casey")
    editor = member_of("Editor", "erin")
    article = owned_article(contributor, live=False)
    login(client, contributor)
    submit(client, article, "submit")
    state = WorkflowState.objects.get(object_id=str(article.pk))
    client.logout()
    login(client, editor)
    client.post(
        f"/newsroom/pages/workflow/action/{article.pk}/reject/{state.current_task_state.pk}/",
        {"comment": "Needs a second source"},
    )
    state.refresh_from_db()
    assert state.status == WorkflowState.STATUS_NEEDS_CHANGES
    article.refresh_from_db()
    assert not article.live
    assert ("wagtail.workflow.reject", "erin") in actions_logged(article)


@pytest.mark.django_db
def test_author_publishes_own_article_from_the_editor(client):
    author = member_of("Author", "ari")
    article = owned_article(author, live=False, title="Author's own story")
    login(client, author)
    response = submit(client, article, "publish")
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.live
    assert ("wagtail.publish", "ari") in actions_logged(article)


@pytest.mark.django_db
def test_author_cannot_publish_someone_elses_article(client):
    author = member_of("Author", "ari")
    article = publish_article()
    article.unpublish()
    login(client, author)
    response = client.post(
        f"/newsroom/pages/{article.pk}/edit/", {"title": "Hijacked", "action-publish": "1"}
    )
    assert response.status_code in (302, 403)
    article.refresh_from_db()
    assert not article.live
    assert article.title != "Hijacked"


@pytest.mark.django_db
def test_scheduled_then_published_then_unpublished(client):
    editor = member_of("Editor", "erin")
    article = publish_article(title="Embargoed report")
    article.unpublish()
    login(client, editor)
    go_live = timezone.localtime(timezone.now() + dt.timedelta(hours=2))
    response = submit(client, article, "publish", go_live_at=go_live.strftime("%Y-%m-%d %H:%M"))
    assert response.status_code == 302
    article.refresh_from_db()
    assert not article.live
    assert article.scheduled_revision is not None
    assert ("wagtail.publish.schedule", "erin") in actions_logged(article)

    # The embargo lifts: Wagtail's publish_scheduled (run by the scheduler) publishes it.
    revision = article.scheduled_revision
    lifted = timezone.now() - dt.timedelta(minutes=1)
    revision.approved_go_live_at = lifted
    revision.content["go_live_at"] = lifted.isoformat()
    revision.save(update_fields=["approved_go_live_at", "content"])
    call_command("publish_scheduled")
    article.refresh_from_db()
    assert article.live

    response = client.post(f"/newsroom/pages/{article.pk}/unpublish/", {})
    assert response.status_code == 302
    article.refresh_from_db()
    assert not article.live
    assert ("wagtail.unpublish", "erin") in actions_logged(article)


@pytest.mark.django_db
def test_second_editor_is_told_about_a_newer_version(client):
    """Wagtail's editing sessions: a ping from the first editor reports the second's revision."""
    first = member_of("Editor", "erin")
    second = member_of("Editor", "eli")
    article = publish_article(title="Shared story")
    loaded = article.get_latest_revision()

    login(client, first)
    assert client.get(f"/newsroom/pages/{article.pk}/edit/").status_code == 200
    session = EditingSession.objects.get(user=first, object_id=str(article.pk))

    # The second editor saves a draft while the first still has the form open.
    client.logout()
    login(client, second)
    assert submit(client, article, "save", title="Shared story, edited").status_code == 302
    client.logout()

    login(client, first)
    response = client.post(
        f"/newsroom/editing-sessions/ping/news/articlepage/{article.pk}/{session.pk}/",
        {"revision_id": loaded.pk, "revision_created_at": loaded.created_at.isoformat()},
    )
    assert response.status_code == 200
    others = json.loads(response.content)["other_sessions"]
    newer = [s for s in others if s["revision_id"]]
    assert newer, others
    assert newer[0]["user"] == "eli"


@pytest.mark.django_db
def test_a_locked_article_cannot_be_saved_by_another_editor(client):
    first = member_of("Editor", "erin")
    second = member_of("Editor", "eli")
    article = publish_article(title="Locked story")
    login(client, first)
    assert client.post(f"/newsroom/pages/{article.pk}/lock/").status_code == 302
    article.refresh_from_db()
    assert article.locked and article.locked_by == first
    data = edit_form(client, article, title="Second editor's title")
    client.logout()

    login(client, second)
    assert "locked" in client.get(f"/newsroom/pages/{article.pk}/edit/").content.decode().lower()
    client.post(f"/newsroom/pages/{article.pk}/edit/", data)
    article.refresh_from_db()
    assert article.get_latest_revision_as_object().title == "Locked story"
    assert article.permissions_for_user(second).page_locked()
