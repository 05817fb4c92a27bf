import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Load the URL configuration now rather than on a worker's first request: importing
# Wagtail's admin URLs and indexing every route takes about half a second, which the
# first reader served by each worker would otherwise wait for.
from django.urls import get_resolver  # noqa: E402

get_resolver().reverse_dict  # noqa: B018 (the property builds the route index)
