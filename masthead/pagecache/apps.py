from django.apps import AppConfig


class PageCacheConfig(AppConfig):
    name = "masthead.pagecache"
    label = "pagecache"
    verbose_name = "Page cache"

    def ready(self):
        from masthead.pagecache import conf, signal_handlers  # noqa: F401  (conf declares settings)

        signal_handlers.register()
