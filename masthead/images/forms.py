"""The newsroom's image form (``WAGTAILIMAGES_IMAGE_FORM_BASE``): cleans every upload."""

from django.core.files.uploadedfile import UploadedFile
from wagtail.images.forms import BaseImageForm

from masthead.images.uploads import clean_upload


class NewsImageForm(BaseImageForm):
    """Wagtail's image form; a new file is checked, turned upright and stripped of metadata."""

    def clean_file(self):
        """Return the cleaned upload; ValidationError for a file that is not a usable picture."""
        f = self.cleaned_data.get("file")
        if isinstance(f, UploadedFile):
            return clean_upload(f)
        return f
