"""Related news: editor picks and blocks, computed suggestions, and the index they come from.

One table, ``RelatedLink``, holds both what the newsroom chose and what the
backend computed, so the article page reads its whole "Related News" list with
one indexed query (``page_id = X OR computed_for_id = X``):

- an editor's row has ``page`` set (a ``ParentalKey``: it is part of the page's
  revisions and its InlinePanel); ``blocked`` turns a pick into "never suggest";
- a computed row has ``computed_for`` set, a ``score`` and a ``reason``; only the
  related backend writes it, and page revisions never see it.

``RelatedDocument``, ``RelatedTerm`` and ``RelatedPosting`` are the default
backend's inverted index; ``RelatedStats`` holds the corpus statistics its
weights were computed with.
"""

import re
import unicodedata

from django.db import models
from django.db.models import Q
from modelcluster.fields import ParentalKey
from wagtail.admin.panels import FieldPanel, PageChooserPanel
from wagtail.models import Orderable


def normalize_headline(text: str) -> str:
    """Return the headline folded for matching: lower case, no accents, punctuation or extra spaces."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return " ".join(text.split())


class RelatedLinkQuerySet(models.QuerySet):
    def picks(self) -> "RelatedLinkQuerySet":
        """Return the newsroom's rows (picks and blocks)."""
        return self.filter(page__isnull=False)

    def computed(self) -> "RelatedLinkQuerySet":
        """Return the backend's stored suggestions."""
        return self.filter(computed_for__isnull=False)


class RelatedLink(Orderable):
    """A related story for a page: an editor's pick or block, or a computed suggestion.

    A pick made by an importer may name a headline that is not in the archive yet;
    it keeps ``target_headline`` until an article with that headline arrives.
    """

    page = ParentalKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="related_links",
    )
    computed_for = models.ForeignKey(
        "wagtailcore.Page",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        editable=False,
        help_text="The page this suggestion was computed for (empty for the newsroom's rows).",
    )
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
    blocked = models.BooleanField(
        default=False,
        verbose_name="Never suggest",
        help_text="Tick to keep this story out of the computed suggestions for this article.",
    )
    score = models.FloatField(null=True, blank=True, editable=False)
    reason = models.CharField(max_length=255, blank=True, editable=False)

    objects = RelatedLinkQuerySet.as_manager()

    panels = [
        PageChooserPanel("target", page_type="news.ArticlePage"),
        FieldPanel("also_read_after"),
        FieldPanel("blocked"),
    ]

    class Meta(Orderable.Meta):
        verbose_name = "related story"
        constraints = [
            models.CheckConstraint(
                condition=Q(page__isnull=False, computed_for__isnull=True)
                | Q(page__isnull=True, computed_for__isnull=False, target__isnull=False),
                name="related_link_is_a_pick_or_a_suggestion",
            ),
            models.UniqueConstraint(
                fields=["computed_for", "target"],
                condition=Q(computed_for__isnull=False),
                name="one_suggestion_per_target",
            ),
        ]

    def save(self, *args, **kwargs):
        self.target_key = "" if self.target_id else normalize_headline(self.target_headline)
        super().save(*args, **kwargs)

    @property
    def is_resolved(self) -> bool:
        return self.target_id is not None

    @property
    def is_computed(self) -> bool:
        return self.computed_for_id is not None

    def __str__(self) -> str:
        return self.target_headline or f"link to page {self.target_id}"


class RelatedDocument(models.Model):
    """A live page as the default backend indexed it: when, where, and its vector's length.

    ``floor`` and ``floor_target`` describe the weakest suggestion in the page's
    full stored list (0 and 0 while the list has room): a newly published page
    enters this page's list only if it beats them.
    """

    page = models.OneToOneField(
        "wagtailcore.Page", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    day = models.FloatField(help_text="Publication time in days since 1970-01-01.")
    group_key = models.CharField(max_length=255, help_text="The parent page's tree path.")
    title_key = models.CharField(max_length=255)
    norm = models.FloatField()
    floor = models.FloatField(default=0.0)
    floor_target = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"indexed page {self.page_id}"


class RelatedTerm(models.Model):
    """A feature of the index (a word, a name, a tag or an author) and its frozen document frequency."""

    key = models.CharField(max_length=120, unique=True)
    label = models.CharField(max_length=120)
    df = models.IntegerField(
        default=0, help_text="Documents holding it when statistics were taken."
    )

    def __str__(self) -> str:
        return self.key


class RelatedPosting(models.Model):
    """One of a document's salient features with its weight (the document's vector, sparse)."""

    term = models.ForeignKey(
        RelatedTerm, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    document = models.ForeignKey(
        RelatedDocument, on_delete=models.CASCADE, related_name="postings", db_index=False
    )
    weight = models.FloatField()
    is_key = models.BooleanField(
        default=False, help_text="One of the document's strongest features: finds candidates."
    )

    class Meta:
        indexes = [
            # Candidates: the pages holding one of a page's keys as a key of their own.
            models.Index(fields=["term", "is_key", "document"], name="related_posting_key"),
            # Their weights for the page's features (covering: no table lookups).
            models.Index(fields=["document", "term", "weight"], name="related_posting_doc"),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}:{self.term_id}={self.weight:.3f}"


class RelatedStats(models.Model):
    """The corpus statistics term weights were computed with (one row; rebuild refreshes it)."""

    documents = models.IntegerField(default=0)
    average_length = models.FloatField(default=0.0)
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "related stats"

    def __str__(self) -> str:
        return f"{self.documents} documents"
