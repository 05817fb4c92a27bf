"""Users in the newsroom's roles, and articles they own, for the newsroom's tests."""

from django.contrib.auth.models import Group, User

from masthead.news.tests.factories import publish_article

PASSWORD = "a-long-test-password-123"
ROLES = ("Contributor", "Author", "Editor", "Administrator")


def member_of(group_name: str, username: str | None = None) -> User:
    """Return a new active user in ``group_name``."""
    username = username or group_name.lower()
    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def owned_article(user, *, live: bool = True, **kwargs):
    """Return an article owned by ``user``; published, or a never-published draft."""
    article = publish_article(**kwargs)
    article.owner = user
    article.save(update_fields=["owner"])
    if not live:
        article.unpublish()
        article.refresh_from_db()
    return article
