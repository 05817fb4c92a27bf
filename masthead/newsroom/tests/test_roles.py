"""The newsroom's roles (data migration 0001_roles) and its preview."""

import pytest
from django.contrib.auth.models import Group, User
from wagtail.models import GroupPagePermission

from masthead.news.models import HomePage
from masthead.news.tests.factories import publish_article, section

PASSWORD = "a-long-test-password-123"


def page_codenames(group_name: str) -> set[str]:
    return set(
        GroupPagePermission.objects.filter(
            group__name=group_name, page=HomePage.objects.get()
        ).values_list("permission__codename", flat=True)
    )


def member_of(group_name: str, username: str) -> User:
    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.mark.django_db
def test_the_three_roles_exist_after_migrations():
    names = set(Group.objects.values_list("name", flat=True))
    assert {"Contributor", "Editor", "Administrator"} <= names


@pytest.mark.django_db
def test_contributor_may_only_add_pages():
    assert page_codenames("Contributor") == {"add_page"}


@pytest.mark.django_db
@pytest.mark.parametrize("group_name", ["Editor", "Administrator"])
def test_editors_add_change_and_publish(group_name):
    assert {"add_page", "change_page", "publish_page"} <= page_codenames(group_name)


@pytest.mark.django_db
def test_roles_may_enter_the_newsroom():
    for name in ("Contributor", "Editor", "Administrator"):
        assert Group.objects.get(name=name).permissions.filter(codename="access_admin").exists(), (
            name
        )


@pytest.mark.django_db
def test_contributor_can_write_under_a_section_but_not_publish(client):
    politics = section("Politics")
    article = publish_article(section_page=politics)
    contributor = member_of("Contributor", "casey")
    assert client.login(username="casey", password=PASSWORD)

    assert client.get("/newsroom/").status_code == 200
    add_url = f"/newsroom/pages/add/news/articlepage/{politics.pk}/"
    response = client.get(add_url)
    assert response.status_code == 200
    assert b'name="title"' in response.content

    assert politics.permissions_for_user(contributor).can_add_subpage()
    assert not politics.permissions_for_user(contributor).can_publish_subpage()
    assert not article.permissions_for_user(contributor).can_publish()


@pytest.mark.django_db
def test_editor_can_publish_any_article():
    article = publish_article()
    editor = member_of("Editor", "eddie")
    permissions = article.permissions_for_user(editor)
    assert permissions.can_edit()
    assert permissions.can_publish()


@pytest.mark.django_db
def test_anonymous_newsroom_visit_redirects_to_login(client):
    response = client.get("/newsroom/")
    assert response.status_code == 302
    assert response["Location"].startswith("/newsroom/login/")


@pytest.mark.django_db
def test_preview_renders_the_real_article_template():
    article = publish_article(title="Story before the edit", paragraphs=["Preview paragraph text."])
    article.title = "Story after an unpublished edit"
    response = article.make_preview_request()
    assert response.status_code == 200
    if hasattr(response, "render"):
        response.render()
        assert (
            response.template_name == "news/article_page.html"
            or "news/article_page.html" in response.template_name
        )
    content = response.content.decode()
    assert "<h1" in content and "Story after an unpublished edit" in content
    assert 'data-region="byline"' in content
    assert "Preview paragraph text." in content


@pytest.mark.django_db
def test_editor_sees_the_preview_in_the_newsroom(client):
    article = publish_article(title="Story previewed in the newsroom")
    member_of("Editor", "erin")
    assert client.login(username="erin", password=PASSWORD)
    response = client.get(f"/newsroom/pages/{article.pk}/view_draft/")
    assert response.status_code == 200
    assert "news/article_page.html" in [t.name for t in response.templates]
    assert 'data-region="byline"' in response.content.decode()
