import re
import unicodedata

from django.db import models
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, PageChooserPanel
from wagtail.models import Orderable


def normalize_headline(text: str) -> str:
    """Return the headline folded for matching: lower case, no accents, punctuation or extra spaces."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return " ".join(text.split())


class RelatedLink(Orderable):
    """An editor's pick: a story shown first in "Related News", optionally as the inline "also read".

    A pick made by an importer may name a headline that is not in the archive yet;
    it keeps ``target_headline`` until an article with that headline arrives.
    """

    page = ParentalKey("wagtailcore.Page", on_delete=models.CASCADE, related_name="related_links")
    target = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The related story.",
    )
    target_headline = models.CharField(
        max_length=255,
        blank=True,
        help_text="Headline of a story not in the archive yet; it is linked once it arrives.",
    )
    target_key = models.CharField(max_length=255, blank=True, db_index=True, editable=False)
    also_read_after = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        verbose_name="Show as “also read” after paragraph",
        help_text="Leave empty to list the story only under Related News.",
    )

    panels = [
        PageChooserPanel("target", page_type="news.ArticlePage"),
        FieldPanel("also_read_after"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = "related story"

    def save(self, *args, **kwargs):
        self.target_key = "" if self.target_id else normalize_headline(self.target_headline)
        super().save(*args, **kwargs)

    @property
    def is_resolved(self) -> bool:
        return self.target_id is not None

    def __str__(self) -> str:
        return self.target_headline or f"link to page {self.target_id}"
