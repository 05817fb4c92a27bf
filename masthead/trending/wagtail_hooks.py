from django.urls import path, reverse
from wagtail import hooks
from wagtail.admin.menu import MenuItem

from masthead.trending.views import MostReadView


@hooks.register("register_admin_urls")
def register_most_read_url():
    return [path("reports/most-read/", MostReadView.as_view(), name="trending_most_read")]


@hooks.register("register_reports_menu_item")
def register_most_read_menu_item():
    return MenuItem(
        "Most read", reverse("trending_most_read"), name="most-read", icon_name="pick", order=50
    )
