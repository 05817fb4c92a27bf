from django.apps import AppConfig


class RelatedConfig(AppConfig):
    name = "masthead.related"
    label = "related"
    verbose_name = "Related news"

    def ready(self):
        from masthead.related import conf, signal_handlers  # noqa: F401  (declares MASTHEAD_RELATED)

        signal_handlers.register()
