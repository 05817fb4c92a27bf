"""Add the Author role: writes and publishes their own articles, not other people's.

Wagtail's page permissions are tree-wide: "add" lets a group create pages and edit the ones
it owns, "publish" lets it publish whatever it may edit. An Author gets both; what keeps an
Author off other people's stories is in ``newsroom.wagtail_hooks`` (unpublish and bulk
actions on pages they do not own are refused); editing them is already refused by Wagtail.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLE = "Author"
PAGE_PERMISSIONS = ["add_page", "publish_page", "lock_page"]
COLLECTION_PERMISSIONS = [
    ("wagtailimages", "add_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "choose_document"),
]
MODEL_PERMISSIONS = [("wagtailadmin", "access_admin"), ("news", "view_author")]


def create_author_role(apps, schema_editor):
    """Create the Author group with its page, collection and model permissions (idempotent)."""
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth.Group")
    Permission = apps.get_model("auth.Permission")
    Page = apps.get_model("wagtailcore.Page")
    Collection = apps.get_model("wagtailcore.Collection")
    GroupPagePermission = apps.get_model("wagtailcore.GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore.GroupCollectionPermission")

    def perm(app_label, codename):
        return Permission.objects.get(content_type__app_label=app_label, codename=codename)

    group, _ = Group.objects.get_or_create(name=ROLE)
    group.permissions.add(*[perm(a, c) for a, c in MODEL_PERMISSIONS])
    home = Page.objects.filter(depth=2).order_by("path").first()
    if home is not None:
        for codename in PAGE_PERMISSIONS:
            GroupPagePermission.objects.get_or_create(
                group=group, page=home, permission=perm("wagtailcore", codename)
            )
    root_collection = Collection.objects.filter(depth=1).first()
    if root_collection is not None:
        for app_label, codename in COLLECTION_PERMISSIONS:
            GroupCollectionPermission.objects.get_or_create(
                group=group, collection=root_collection, permission=perm(app_label, codename)
            )


def remove_author_role(apps, schema_editor):
    apps.get_model("auth.Group").objects.filter(name=ROLE).delete()


class Migration(migrations.Migration):
    dependencies = [("newsroom", "0001_roles")]

    operations = [migrations.RunPython(create_author_role, remove_author_role)]
