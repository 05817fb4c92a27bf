import hashlib
from urllib.parse import quote

from django.db import models
from django.utils.html import escape
from wagtail.admin.panels import FieldPanel
from wagtail.search import index

# Background colours for generated avatars: dark enough for white initials (WCAG AA).
AVATAR_COLOURS = ("#1d4e89", "#7a2e3a", "#2f5d50", "#5b3f8c", "#8a4b08", "#1f5f7a", "#4a4a4a")


class Author(index.Indexed, models.Model):
    """A person in a byline. Authors without a picture get an initials avatar."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    role = models.CharField(max_length=120, blank=True, help_text="e.g. Politics editor")
    bio = models.TextField(blank=True)
    picture = models.ForeignKey(
        "images.NewsImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    user = models.OneToOneField(
        "auth.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="author_profile",
        help_text="The newsroom account of this author, if any.",
    )

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldPanel("role"),
        FieldPanel("bio"),
        FieldPanel("picture"),
        FieldPanel("user"),
    ]
    search_fields = [
        index.SearchField("name"),
        index.AutocompleteField("name"),
        index.FilterField("slug"),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from masthead.news.models.pages import HomePage

        home = HomePage.objects.live().first()
        return home.url + home.reverse_subpage("author", args=[self.slug]) if home else ""

    @property
    def initials(self) -> str:
        """Return up to two initials from the name ("Pat Quinn" → "PQ")."""
        parts = [p for p in self.name.replace("-", " ").split() if p[:1].isalpha()]
        letters = (
            (parts[0][0] + parts[-1][0]) if len(parts) > 1 else (parts[0][:2] if parts else "?")
        )
        return letters.upper()

    @property
    def avatar_data_uri(self) -> str:
        """Return an SVG data URI with the author's initials: a picture that needs no request."""
        digest = hashlib.sha1(self.name.encode()).digest()
        colour = AVATAR_COLOURS[digest[0] % len(AVATAR_COLOURS)]
        svg = (
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 96 96">'
            f'<rect width="96" height="96" fill="{colour}"/>'
            '<text x="48" y="50" dy=".35em" text-anchor="middle" fill="#fff" '
            'font-family="Helvetica,Arial,sans-serif" font-size="38" font-weight="600">'
            f"{escape(self.initials)}</text></svg>"
        )
        return "data:image/svg+xml," + quote(svg)

    @property
    def picture_alt(self) -> str:
        return f"Picture of {self.name}"
