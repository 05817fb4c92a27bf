from django.core.cache import cache
from django.db import models
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting


@register_setting(icon="site")
class PublicationSettings(BaseSiteSetting):
    """The publication's details, edited in the newsroom under Settings → Publication."""

    name = models.CharField(max_length=120, default="Masthead")
    tagline = models.CharField(max_length=200, blank=True)
    language = models.CharField(
        max_length=12,
        default="en",
        help_text="BCP 47 language tag of the publication, e.g. en or en-GB.",
    )
    logo = models.ForeignKey(
        "images.NewsImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    default_image = models.ForeignKey(
        "images.NewsImage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Shown on social cards of pages that have no picture of their own.",
    )
    twitter_handle = models.CharField(max_length=40, blank=True, help_text="Without the @.")
    facebook_url = models.URLField(blank=True)

    panels = [
        MultiFieldPanel(
            [FieldPanel("name"), FieldPanel("tagline"), FieldPanel("language")], "Publication"
        ),
        MultiFieldPanel([FieldPanel("logo"), FieldPanel("default_image")], "Images"),
        MultiFieldPanel(
            [FieldPanel("twitter_handle"), FieldPanel("facebook_url")], "Social accounts"
        ),
    ]

    class Meta:
        verbose_name = "Publication"

    @classmethod
    def cache_key(cls, site_id) -> str:
        return f"masthead:publication:{site_id}"

    @classmethod
    def for_site(cls, site):
        """Return the site's publication details, from the cache when they have not changed."""
        if site is None:
            return super().for_site(site)
        key = cls.cache_key(site.pk)
        found = cache.get(key)
        if found is None:
            found = super().for_site(site)
            cache.set(key, found, None)
        return found

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        cache.delete(self.cache_key(self.site_id))

    def __str__(self) -> str:
        return self.name
