"""The related app's settings, declared with their defaults and help (see core.conf)."""

from masthead.core import conf

DEFAULT_BACKEND = "masthead.related.backends.terms.TermsBackend"

MASTHEAD_RELATED = conf.declare(
    "MASTHEAD_RELATED",
    {
        "BACKEND": DEFAULT_BACKEND,
        "OPTIONS": {
            "MODELS": ["news.ArticlePage"],
            "TEXT_FIELDS": {"title": 3.0, "standfirst": 2.0, "body": 1.0},
            "TAGS": "tags__name",
            "AUTHORS": "article_authors__author__name",
        },
    },
    "Related news backend: BACKEND is a dotted path to a BaseRelatedBackend subclass; OPTIONS "
    "name the page MODELS it indexes, their TEXT_FIELDS with weights, and the TAGS and AUTHORS "
    "lookups it reads.",
)


def related_settings() -> dict:
    """Return MASTHEAD_RELATED with the defaults filled in for missing keys and options."""
    value = conf.get("MASTHEAD_RELATED") or {}
    default = MASTHEAD_RELATED.default
    return {
        "BACKEND": value.get("BACKEND", default["BACKEND"]),
        "OPTIONS": {**default["OPTIONS"], **(value.get("OPTIONS") or {})},
    }
