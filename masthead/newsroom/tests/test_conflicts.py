"""Two editors on one article: the second save from an out-of-date form is refused, not lost."""

import pytest
from django.test import Client
from django.utils import timezone
from wagtail.test.utils.form_data import querydict_from_html

from masthead.news.tests.factories import publish_article
from masthead.newsroom.conflicts import stale_save
from masthead.newsroom.tests.helpers import member_of
from masthead.newsroom.tests.test_workflow import edit_form, login


def editor_client(username: str) -> Client:
    client = Client()
    login(client, member_of("Editor", username))
    return client


def latest_title(article) -> str:
    article.refresh_from_db()
    return article.get_latest_revision_as_object().title


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["save", "publish"])
def test_second_editor_is_refused_and_keeps_their_text(action):
    article = publish_article(title="Tram line opens")
    erin, eli = editor_client("erin"), editor_client("eli")
    url = f"/newsroom/pages/{article.pk}/edit/"
    erin_form = edit_form(erin, article, title="Tram line opens on Monday")
    eli_form = edit_form(eli, article, title="Tram line opening delayed")

    erin_form[f"action-{action}"] = action
    assert erin.post(url, erin_form).status_code == 302
    article.refresh_from_db()  # the in-memory page still points at the factory's revision
    saved_at = timezone.localtime(article.get_latest_revision().created_at).strftime("%H:%M")

    eli_form[f"action-{action}"] = action
    response = eli.post(url, eli_form)

    assert response.status_code == 200  # the editor again, not a redirect
    assert latest_title(article) == "Tram line opens on Monday"
    page = response.content.decode()
    assert f"erin saved this article at {saved_at} while you were editing" in page
    assert "your changes were not saved" in page
    form = querydict_from_html(page, form_id="page-edit-form")
    assert form["title"] == "Tram line opening delayed"  # what Eli typed is still there
    if action == "publish":
        article.refresh_from_db()
        assert article.title == "Tram line opens on Monday"  # live version is Erin's


@pytest.mark.django_db
def test_the_refused_form_stays_refused_until_the_editor_reloads():
    """Saving (or autosaving) the form drawn again is refused too; a reloaded form saves."""
    article = publish_article(title="Budget vote")
    erin, eli = editor_client("erin"), editor_client("eli")
    url = f"/newsroom/pages/{article.pk}/edit/"
    erin_form = edit_form(erin, article, title="Budget vote passes")
    eli_form = edit_form(eli, article, title="Budget vote fails")
    erin_form["action-save"] = eli_form["action-save"] = "save"
    assert erin.post(url, erin_form).status_code == 302
    refused = eli.post(url, eli_form)
    assert refused.status_code == 200

    again = querydict_from_html(refused.content.decode(), form_id="page-edit-form")
    assert again["loaded_revision_id"] == eli_form["loaded_revision_id"]
    assert again["loaded_revision_created_at"] == eli_form["loaded_revision_created_at"]
    resubmit = eli_form.copy()
    resubmit["loaded_revision_id"] = again["loaded_revision_id"]
    resubmit["loaded_revision_created_at"] = again["loaded_revision_created_at"]
    assert eli.post(url, resubmit).status_code == 200
    autosave = eli.post(url, resubmit, headers={"Accept": "application/json"})
    assert autosave.status_code == 400
    assert autosave.json()["error_code"] == "invalid_revision"
    assert latest_title(article) == "Budget vote passes"

    reloaded = edit_form(eli, article, title="Budget vote fails")
    reloaded["action-save"] = "save"
    assert eli.post(url, reloaded).status_code == 302
    assert latest_title(article) == "Budget vote fails"


@pytest.mark.django_db
def test_one_editor_saving_twice_is_not_a_conflict():
    article = publish_article(title="Flood warning")
    erin = editor_client("erin")
    url = f"/newsroom/pages/{article.pk}/edit/"
    for title in ("Flood warning issued", "Flood warning lifted"):
        data = edit_form(erin, article, title=title)
        data["action-save"] = "save"
        assert erin.post(url, data).status_code == 302
        assert latest_title(article) == title


@pytest.mark.django_db
def test_stale_save_reads_the_form_as_wagtail_does():
    article = publish_article(title="Harbour")
    loaded = article.get_latest_revision()
    current = {
        "loaded_revision_id": str(loaded.pk),
        "loaded_revision_created_at": loaded.created_at.isoformat(),
    }
    assert stale_save(current, article) is None
    assert stale_save({}, article) is None  # nothing to compare: let it through
    article.save_revision()
    assert stale_save(current, article) is not None
    newest = article.get_latest_revision()
    assert stale_save({"overwrite_revision_id": str(newest.pk)}, article) is None
    assert stale_save({"overwrite_revision_id": str(loaded.pk)}, article) is not None
    # Same id, but another session's autosave overwrote that revision since.
    same_id_older_time = {
        "loaded_revision_id": str(newest.pk),
        "loaded_revision_created_at": loaded.created_at.isoformat(),
    }
    assert stale_save(same_id_older_time, article) is not None
