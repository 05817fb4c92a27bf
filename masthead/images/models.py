from django.db import models
from wagtail.images.models import AbstractImage, AbstractRendition, Image


class NewsImage(AbstractImage):
    """A Wagtail image with the caption and credit a newsroom prints under it."""

    caption = models.CharField(max_length=500, blank=True)
    credit = models.CharField(max_length=200, blank=True)

    admin_form_fields = Image.admin_form_fields + ("caption", "credit")


class NewsRendition(AbstractRendition):
    image = models.ForeignKey(NewsImage, on_delete=models.CASCADE, related_name="renditions")

    class Meta:
        unique_together = (("image", "filter_spec", "focal_point_key"),)
