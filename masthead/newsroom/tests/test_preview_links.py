"""Signed, expiring preview links: a draft for someone without an account."""

import pytest
from django.core import signing
from django.test import override_settings
from wagtail.models import PageLogEntry

from masthead.news.tests.factories import publish_article
from masthead.newsroom import views
from masthead.newsroom.tests.helpers import PASSWORD, member_of


def draft_of(article, title):
    article.title = title
    return article.save_revision()


@pytest.mark.django_db
def test_link_shows_the_draft_to_an_anonymous_reader(client):
    article = publish_article(title="Published headline")
    revision = draft_of(article, "Draft headline nobody has seen")
    token = views.make_preview_token(revision)

    response = client.get(f"/preview/{token}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Draft headline nobody has seen" in body
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"]
    # The public page still shows the published version.
    assert "Draft headline nobody has seen" not in client.get(article.url).content.decode()


@pytest.mark.django_db
def test_tampered_or_foreign_links_are_not_found(client):
    article = publish_article()
    token = views.make_preview_token(draft_of(article, "Draft"))
    assert client.get(f"/preview/{token[:-2]}xx/").status_code == 404
    forged = signing.dumps({"p": article.pk, "r": 1}, salt="another-salt")
    assert client.get(f"/preview/{forged}/").status_code == 404
    # A signed token naming a revision of another page is refused too.
    other = publish_article()
    mixed = signing.dumps(
        {"p": other.pk, "r": article.get_latest_revision().pk}, salt=views.SALT, compress=True
    )
    assert client.get(f"/preview/{mixed}/").status_code == 404


@pytest.mark.django_db
def test_links_expire(client):
    article = publish_article()
    token = views.make_preview_token(draft_of(article, "Draft that expires"))
    with override_settings(MASTHEAD_PREVIEW_LINK_MAX_AGE=3600):
        assert client.get(f"/preview/{token}/").status_code == 200
    with override_settings(MASTHEAD_PREVIEW_LINK_MAX_AGE=-1):
        assert client.get(f"/preview/{token}/").status_code == 410
    with pytest.raises(signing.SignatureExpired):
        views.read_preview_token(token, max_age=-1)


@pytest.mark.django_db
def test_newsroom_hands_out_a_link_and_logs_it(client):
    article = publish_article(title="Story to share")
    draft_of(article, "Story to share, revised")
    editor = member_of("Editor", "erin")
    assert client.login(username="erin", password=PASSWORD)
    response = client.get(f"/newsroom/preview-link/{article.pk}/")
    assert response.status_code == 200
    link = response.context["link"]
    assert "/preview/" in link
    assert PageLogEntry.objects.filter(page=article, action=views.LOG_ACTION, user=editor).exists()
    client.logout()
    path = link.split("://", 1)[1].split("/", 1)[1]
    shared = client.get("/" + path)
    assert shared.status_code == 200
    assert "Story to share, revised" in shared.content.decode()


@pytest.mark.django_db
def test_edit_page_offers_the_share_button(client):
    article = publish_article()
    member_of("Editor", "erin")
    assert client.login(username="erin", password=PASSWORD)
    html = client.get(f"/newsroom/pages/{article.pk}/edit/").content.decode()
    assert f"/newsroom/preview-link/{article.pk}/" in html


@pytest.mark.django_db
def test_link_shows_the_draft_even_when_the_live_page_is_cached(client, settings):
    settings.MASTHEAD_PAGE_CACHE = True
    article = publish_article(title="Live headline in the cache")
    assert client.get(article.url).status_code == 200
    assert client.get(article.url).status_code == 200  # now served from the page cache
    token = views.make_preview_token(draft_of(article, "Draft headline behind the cache"))
    body = client.get(f"/preview/{token}/").content.decode()
    assert "Draft headline behind the cache" in body
    assert "Draft headline behind the cache" not in client.get(article.url).content.decode()
