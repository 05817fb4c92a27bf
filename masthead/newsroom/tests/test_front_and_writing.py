"""The breaking flag on the front page, and the article editor's writing aids and checks."""

import datetime as dt

import pytest
from bs4 import BeautifulSoup
from django.utils import timezone

from masthead.news.models import ArticlePage
from masthead.news.tests.factories import NewsImageFactory, publish_article
from masthead.newsroom.tests.helpers import PASSWORD, member_of
from masthead.newsroom.tests.test_workflow import submit


def flag_breaking(article, value=True):
    page = article.get_latest_revision_as_object()
    page.breaking = value
    page.save_revision().publish()


@pytest.mark.django_db
def test_breaking_story_leads_the_front_page(client, settings):
    settings.MASTHEAD_PAGE_CACHE = False
    older = publish_article(
        title="Older story turns breaking", published_at=timezone.now() - dt.timedelta(hours=3)
    )
    publish_article(
        title="Newest ordinary story", published_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert client.get("/").context["lead"].title == "Newest ordinary story"

    flag_breaking(older)
    context = client.get("/").context
    assert context["lead"].title == "Older story turns breaking"
    assert "Newest ordinary story" in [a.title for a in context["latest"]]
    assert "Older story turns breaking" not in [a.title for a in context["latest"]]


@pytest.mark.django_db
def test_a_stale_breaking_flag_no_longer_leads(client, settings):
    settings.MASTHEAD_PAGE_CACHE = False
    old = publish_article(
        title="Yesterday's breaking", published_at=timezone.now() - dt.timedelta(days=2)
    )
    flag_breaking(old)
    publish_article(title="Today's story", published_at=timezone.now() - dt.timedelta(minutes=5))
    assert client.get("/").context["lead"].title == "Today's story"


@pytest.mark.django_db
def test_editor_shows_counters_seo_fields_and_the_corrections_panel(client):
    article = publish_article()
    member_of("Editor", "erin")
    assert client.login(username="erin", password=PASSWORD)
    html = client.get(f"/newsroom/pages/{article.pk}/edit/").content.decode()
    soup = BeautifulSoup(html, "html.parser")
    assert soup.find("input", attrs={"name": "title"}).get("maxlength") == "255"
    assert soup.find("textarea", attrs={"name": "standfirst"}).get("maxlength") == "300"
    assert soup.find(attrs={"name": "seo_title"}) is not None
    assert soup.find(attrs={"name": "search_description"}) is not None
    assert soup.find(attrs={"name": "breaking"}) is not None
    assert "Corrections and updates" in html
    assert soup.find(attrs={"name": "notes-TOTAL_FORMS"}) is not None


@pytest.mark.django_db
def test_featured_picture_needs_alt_text(client):
    article = publish_article()
    member_of("Editor", "erin")
    assert client.login(username="erin", password=PASSWORD)
    no_alt = NewsImageFactory(description="")
    response = submit(client, article, "publish", featured_image=str(no_alt.pk))
    assert response.status_code == 200
    assert "no alt text" in response.content.decode()
    assert ArticlePage.objects.get(pk=article.pk).featured_image_id is None

    with_alt = NewsImageFactory(description="Firefighters outside the town hall")
    response = submit(client, article, "publish", featured_image=str(with_alt.pk))
    assert response.status_code == 302
    assert ArticlePage.objects.get(pk=article.pk).featured_image_id == with_alt.pk
    html = client.get(article.url).content.decode()
    assert 'alt="Firefighters outside the town hall"' in html


@pytest.mark.django_db
def test_the_newsroom_carries_its_own_name_not_wagtails(client, settings):
    login = BeautifulSoup(client.get("/newsroom/login/").content, "html.parser")
    assert login.title.string.strip().endswith(f"- {settings.WAGTAIL_SITE_NAME}")
    assert login.h1.get_text(strip=True) == "Sign in to the newsroom"
    assert login.find(class_="login-logo").get_text(strip=True) == settings.WAGTAIL_SITE_NAME
    member_of("Editor", "erin")
    assert client.login(username="erin", password=PASSWORD)
    dashboard = BeautifulSoup(client.get("/newsroom/").content, "html.parser")
    assert "Wagtail" not in dashboard.title.string
    assert dashboard.title.string.strip().endswith(settings.WAGTAIL_SITE_NAME)
