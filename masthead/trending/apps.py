from django.apps import AppConfig


class TrendingConfig(AppConfig):
    name = "masthead.trending"
    label = "trending"
    verbose_name = "Trending"

    def ready(self):
        from masthead.trending import conf  # noqa: F401  (declares the MASTHEAD_TRENDING_* settings)
