from django.apps import AppConfig


class TrendingConfig(AppConfig):
    name = "masthead.trending"
    label = "trending"
    verbose_name = "Trending"
