from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "masthead.search"
    label = "masthead_search"
    verbose_name = "Search"

    def ready(self):
        from masthead.search import checks, conf, signal_handlers  # noqa: F401

        signal_handlers.register()
