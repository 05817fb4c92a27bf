from django.core.paginator import Paginator
from django.db import models
from django.db.models import Case, F, Q, Value, When, Window
from django.db.models.functions import RowNumber, Substr
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.functional import cached_property
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import Tag, TaggedItemBase
from wagtail.admin.forms import WagtailAdminPageForm
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path, re_path
from wagtail.fields import RichTextField, StreamField
from wagtail.images import get_image_model
from wagtail.models import Orderable, Page, PageManager, Site
from wagtail.search import index
from wagtail.url_routing import RouteResult

from masthead.core.ordering import newest_first
from masthead.core.seo import STRUCTURED_IMAGE_RENDITIONS
from masthead.images.renditions import ARTICLE_RENDITIONS, AUTHOR_RENDITIONS
from masthead.news.blocks import ArticleBodyBlock
from masthead.news.models.querysets import ArticlePageQuerySet, NewsPageQuerySet, author_queryset
from masthead.news.models.snippets import Author
from masthead.related.panels import RelatedSuggestionsPanel
from masthead.related.selectors import related_for_page
from masthead.trending.selectors import trending_list

# Listing sizes; each is one query, whatever its value.
PAGE_SIZE = 20
RELATED_LIMIT = 5
TRENDING_LIMIT = 5
RECENT_LIMIT = 5
FRONT_PER_SECTION = 4
FRONT_LATEST = 12
# Newsroom (issue 8): a story flagged breaking leads the front page for this long after publishing.
BREAKING_MAX_AGE = timezone.timedelta(hours=24)


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    """Return a valid page of results, even if ?page= is not a number or out of range."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def sidebar_context(*, exclude_ids: list[int], candidates=None) -> dict:
    """Return the Trending and Recent News lists shown beside every reader page (two queries)."""
    # `is None`, not `or`: a queryset's truth value loads every article (issue 6 bench).
    if candidates is None:
        candidates = ArticlePage.objects.for_links()
    candidates = candidates.exclude(pk__in=exclude_ids)
    return {
        "trending": trending_list(candidates=candidates, limit=TRENDING_LIMIT),
        "recent": list(candidates[:RECENT_LIMIT]),
    }


class HomePage(RoutablePageMixin, Page):
    """The front page; it also owns the author and tag archives."""

    intro = models.CharField(max_length=255, blank=True)

    objects = PageManager.from_queryset(NewsPageQuerySet)()

    subpage_types = ["news.SectionPage", "news.StandardPage"]
    parent_page_types = ["wagtailcore.Page"]
    max_count = 1
    content_panels = Page.content_panels + [FieldPanel("intro")]

    @cached_property
    def sections(self) -> list["SectionPage"]:
        """Return the live public sections under this front page, in menu (tree) order.

        The ``pk__in`` subquery makes the database start from the few section
        rows: a plain ``child_of`` filter has SQLite walk every page of the
        archive in path order (200 ms per page view at 100,000 articles).
        """
        few = SectionPage.objects.filter(pk__in=SectionPage.objects.values("pk"))
        return list(few.child_of(self).live().public().order_by("path"))

    def route(self, request, path_components):
        """Route /<section>/<slug>/ to its article in one query; defer the rest to Wagtail.

        Wagtail's own routing costs two queries per tree level; an article is two
        levels down and is the page readers ask for most.
        """
        if self.live and len(path_components) == 2:
            try:
                view, args, kwargs = self.resolve_subpage("/" + "/".join(path_components) + "/")
                return RouteResult(self, args=(view, args, kwargs))
            except Http404:
                pass
            url_path = f"{self.url_path}{path_components[0]}/{path_components[1]}/"
            article = (
                ArticlePage.objects.select_related("featured_image")
                .filter(slug=path_components[1], url_path=url_path)
                .first()
            )
            if article is not None:
                return article.route(request, [])
        return super().route(request, path_components)

    @path("")
    def front(self, request):
        """Return the front page: the lead story, the latest stories, then the latest by section."""
        sections = self.sections
        cards = ArticlePage.objects.for_cards()
        # Newsroom (issue 8): a recent story flagged "breaking" leads, in the same query.
        breaking_since = timezone.now() - BREAKING_MAX_AGE
        recent_breaking = Case(
            When(breaking=True, first_published_at__gte=breaking_since, then=1),
            default=Value(0),
        )
        # Sorting every article by the computed flag would read the whole archive: pick
        # the candidates (the newest, and the recent breaking ones) through the date
        # index in subqueries, then order those few.
        published = ArticlePage.objects.published()
        candidates = Q(pk__in=published.values("pk")[: FRONT_LATEST + 1]) | Q(
            pk__in=published.filter(breaking=True, first_published_at__gte=breaking_since).values(
                "pk"
            )[: FRONT_LATEST + 1]
        )
        latest = list(
            cards.filter(candidates)
            .annotate(breaking_now=recent_breaking)
            .order_by("-breaking_now", *newest_first())[: FRONT_LATEST + 1]
        )
        attach_sections(latest, sections)
        # The newest few of every section in one query, whatever the number of sections;
        # each section's few come through the date index, so the archive's size does not count.
        newest_by_section = Q(pk__in=[])
        for section in sections:
            newest_by_section |= Q(
                pk__in=published.filter(ArticlePage.objects.child_of_q(section)).values("pk")[
                    :FRONT_PER_SECTION
                ]
            )
        ranked = (
            cards.filter(newest_by_section)
            .annotate(
                section_path=Substr("path", 1, self.depth * self.steplen + self.steplen),
                row=Window(
                    RowNumber(),
                    partition_by=[F("section_path")],
                    order_by=[F("first_published_at").desc(), F("pk").desc()],
                ),
            )
            .filter(row__lte=FRONT_PER_SECTION)
        )
        grouped: dict[str, list] = {}
        for article in ranked:
            grouped.setdefault(article.section_path, []).append(article)
        by_section = [(s, grouped[s.path]) for s in sections if grouped.get(s.path)]
        return self.render(
            request,
            context_overrides={
                "lead": latest[0] if latest else None,
                "latest": latest[1:],
                "by_section": by_section,
                "is_front": True,
            },
        )

    @re_path(r"^authors/(?P<slug>[-\w]+)/$", name="author")
    def author(self, request, slug):
        """Return the author's page: picture, bio and their articles, paginated."""
        author = get_object_or_404(author_queryset(), slug=slug)
        articles = paginate(request, ArticlePage.objects.for_cards().by_author(author))
        attach_sections(articles.object_list, self.sections)
        return self.render(
            request,
            template="news/author_page.html",
            context_overrides={"author": author, "articles": articles},
        )

    @re_path(r"^tags/(?P<slug>[-\w]+)/$", name="tag")
    def tag(self, request, slug):
        """Return the tag's page: its articles, paginated; 404 for an unknown tag."""
        tag = get_object_or_404(Tag, slug=slug)
        articles = paginate(request, ArticlePage.objects.for_cards().tagged(tag))
        attach_sections(articles.object_list, self.sections)
        return self.render(
            request,
            template="news/tag_page.html",
            context_overrides={"tag": tag, "articles": articles},
        )

    # --- Feeds (issue 7): RSS 2.0 at feed/, Atom at feed/atom/; built in news/feeds.py ---
    @re_path(r"^feed/$", name="feed")
    @re_path(r"^feed/(?P<kind>atom)/$", name="feed_atom")
    def feed(self, request, kind="rss"):
        """Return the whole site's feed of the newest articles."""
        from masthead.news import feeds

        return feeds.site_feed(request, self, atom=kind == "atom")

    @re_path(r"^authors/(?P<slug>[-\w]+)/feed/$", name="author_feed")
    @re_path(r"^authors/(?P<slug>[-\w]+)/feed/(?P<kind>atom)/$", name="author_feed_atom")
    def author_feed(self, request, slug, kind="rss"):
        """Return an author's feed; 404 for an unknown author."""
        from masthead.news import feeds

        return feeds.author_feed(request, self, slug, atom=kind == "atom")

    @re_path(r"^tags/(?P<slug>[-\w]+)/feed/$", name="tag_feed")
    @re_path(r"^tags/(?P<slug>[-\w]+)/feed/(?P<kind>atom)/$", name="tag_feed_atom")
    def tag_feed(self, request, slug, kind="rss"):
        """Return a tag's feed; 404 for an unknown tag."""
        from masthead.news import feeds

        return feeds.tag_feed(request, self, slug, atom=kind == "atom")

    # --- end of feeds ---

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(chrome_context(request, self, exclude_ids=[]))
        return context


class SectionPage(RoutablePageMixin, Page):
    """A section of the paper (Politics, Sport); its articles live under it."""

    intro = models.TextField(blank=True)

    objects = PageManager.from_queryset(NewsPageQuerySet)()

    parent_page_types = ["news.HomePage"]
    subpage_types = ["news.ArticlePage"]
    content_panels = Page.content_panels + [FieldPanel("intro")]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(chrome_context(request, self, exclude_ids=[]))
        context["articles"] = paginate(request, ArticlePage.objects.for_cards().child_of(self))
        attach_sections(context["articles"].object_list, context["nav_sections"])
        return context

    # --- Feeds (issue 7): the section's RSS 2.0 at feed/ and Atom at feed/atom/ ---
    @re_path(r"^feed/$", name="feed")
    @re_path(r"^feed/(?P<kind>atom)/$", name="feed_atom")
    def feed(self, request, kind="rss"):
        """Return the section's feed of its newest articles."""
        from masthead.news import feeds

        return feeds.section_feed(request, self, atom=kind == "atom")


class StandardPage(Page):
    """A plain page (About, Contact, Corrections policy)."""

    body = RichTextField(blank=True)

    parent_page_types = ["news.HomePage"]
    subpage_types = []
    content_panels = Page.content_panels + [FieldPanel("body")]
    search_fields = Page.search_fields + [index.SearchField("body")]

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(chrome_context(request, self, exclude_ids=[]))
        return context


class ArticleTag(TaggedItemBase):
    content_object = ParentalKey(
        "news.ArticlePage", on_delete=models.CASCADE, related_name="tagged_items"
    )


class ArticleAuthor(Orderable):
    """One byline of an article, in the order the newsroom gave."""

    page = ParentalKey("news.ArticlePage", on_delete=models.CASCADE, related_name="article_authors")
    author = models.ForeignKey(Author, on_delete=models.PROTECT, related_name="bylines")

    panels = [FieldPanel("author")]

    class Meta(Orderable.Meta):
        verbose_name = "author"
        constraints = [
            models.UniqueConstraint(fields=["page", "author"], name="unique_author_per_article")
        ]


# --- Newsroom (issue 8): corrections and updates, and the admin form's checks ---
class ArticleNote(Orderable):
    """A dated correction or update an editor adds to a published article; shown under it."""

    CORRECTION = "correction"
    UPDATE = "update"
    KINDS = [(CORRECTION, "Correction"), (UPDATE, "Update")]

    page = ParentalKey("news.ArticlePage", on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=20, choices=KINDS, default=CORRECTION)
    noted_at = models.DateTimeField(
        default=timezone.now, help_text="When the correction or update was made."
    )
    text = models.TextField(max_length=1000)

    panels = [FieldPanel("kind"), FieldPanel("noted_at"), FieldPanel("text")]

    class Meta(Orderable.Meta):
        verbose_name = "correction or update"


class ArticlePageForm(WagtailAdminPageForm):
    """The article editor's form: the picture must have alt text before the story is saved."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["title"].help_text = "The headline readers see on the article and its cards."

    def clean(self):
        cleaned_data = super().clean()
        image = cleaned_data.get("featured_image")
        if image is not None and not (image.description or "").strip():
            self.add_error(
                "featured_image",
                "This picture has no alt text. Add a description to the image "
                "(Images → edit → Description) so readers who cannot see it know what it shows.",
            )
        return cleaned_data


# --- end newsroom ---


class ArticlePage(Page):
    """A news story: headline (the page title), standfirst, bylines, body and picture."""

    standfirst = models.TextField(
        max_length=300, blank=True, help_text="One or two sentences under the headline."
    )
    body = StreamField(ArticleBodyBlock(), blank=True)
    featured_image = models.ForeignKey(
        "images.NewsImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    featured_image_caption = models.CharField(
        max_length=500, blank=True, help_text="Leave empty to use the image's own caption."
    )
    tags = ClusterTaggableManager(through=ArticleTag, blank=True)
    source_id = models.CharField(
        max_length=255,
        blank=True,
        db_index=True,
        editable=False,
        help_text="Where an imported article came from; re-importing the same source updates it.",
    )
    # Newsroom (issue 8): breaking flag; when the last correction/update note was published.
    breaking = models.BooleanField(
        default=False,
        help_text="Breaking news: lead the front page with this story (for 24 hours after publishing).",
    )
    last_noted_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Related news (issue 5): without an editor's "also read", show the top computed story.
    also_read_auto = models.BooleanField(
        default=True,
        verbose_name="Automatic “also read”",
        help_text="When no related story is placed after a paragraph, show the top suggestion.",
    )

    parent_page_types = ["news.SectionPage"]
    subpage_types = []

    objects = PageManager.from_queryset(ArticlePageQuerySet)()
    base_form_class = ArticlePageForm

    content_panels = Page.content_panels + [
        FieldPanel("breaking"),  # newsroom (issue 8)
        FieldPanel("standfirst"),
        InlinePanel("article_authors", heading="Bylines", label="Byline", min_num=1),
        MultiFieldPanel(
            [FieldPanel("featured_image"), FieldPanel("featured_image_caption")], "Picture"
        ),
        FieldPanel("body"),
        FieldPanel("tags"),
        InlinePanel("notes", label="Correction or update", heading="Corrections and updates"),
        # Related news (issue 5): picks and blocks, then the computed suggestions to act on.
        MultiFieldPanel(
            [
                InlinePanel("related_links", label="Related stories (editor's picks)"),
                FieldPanel("also_read_auto"),
                RelatedSuggestionsPanel(),
            ],
            "Related news",
        ),
    ]

    # --- Search (issue 4): headline (boost 2, Page's) > standfirst and names (1.5) > body ---
    search_fields = Page.search_fields + [
        index.SearchField("standfirst", boost=1.5),
        index.SearchField("body"),
        index.SearchField("section_name", boost=1.5),
        # Through the tag links, not ``tags``: taggit's manager costs two queries per article.
        index.RelatedFields(
            "tagged_items", [index.RelatedFields("tag", [index.SearchField("name", boost=1.5)])]
        ),
        index.RelatedFields(
            "article_authors",
            [index.RelatedFields("author", [index.SearchField("name", boost=1.5)])],
        ),
        index.FilterField("first_published_at"),
    ]

    @classmethod
    def get_indexed_objects(cls):
        """Return the articles to index with authors and section title fetched in bulk, not one by one."""
        from django.db.models import OuterRef, Subquery
        from django.db.models.functions import Length, Substr

        parent = Substr(OuterRef("path"), 1, Length(OuterRef("path")) - cls.steplen)
        section = Page.objects.filter(path=parent).values("title")[:1]
        return (
            super()
            .get_indexed_objects()
            .prefetch_related("article_authors__author", "tagged_items__tag")
            .annotate(indexed_section_title=Subquery(section))
        )

    @property
    def section_name(self) -> str:
        """Return the title of the section the article sits in, for the search index."""
        if "indexed_section_title" in self.__dict__:
            return self.indexed_section_title or ""
        parent_path = self.path[: -self.steplen] if self.path else ""
        return Page.objects.filter(path=parent_path).values_list("title", flat=True).first() or ""

    # --- end search ---

    class Meta:
        verbose_name = "article"

    @property
    def headline(self) -> str:
        return self.title

    @property
    def caption(self) -> str:
        """Return the picture's caption for this article (the image's own unless overridden)."""
        if self.featured_image_caption:
            return self.featured_image_caption
        return self.featured_image.caption if self.featured_image_id else ""

    @property
    def authors(self) -> list[Author]:
        """Return the bylines' authors in order (uses the prefetched bylines when present)."""
        return [byline.author for byline in self.article_authors.all()]

    def date_modified(self):
        """Return when the article last changed for readers (feeds, sitemaps, JSON-LD, Open Graph).

        The first publish, or the newest published correction/update note if later: a silent
        typo fix does not count. None before the first publish. No query.
        """
        dates = [d for d in (self.first_published_at, self.last_noted_at) if d]
        return max(dates) if dates else None

    def save(self, *args, **kwargs):
        """Save; a full save (a publish) records the newest note's time in ``last_noted_at``."""
        update_fields = kwargs.get("update_fields")
        if update_fields is None or "last_noted_at" in update_fields:
            times = [note.noted_at for note in self.notes.all() if note.noted_at]
            self.last_noted_at = max(times) if times else None
        return super().save(*args, **kwargs)

    def body_items(self, also_read=None):
        """Return (block, show_also_read_after) pairs; the also-read line follows paragraph N.

        A position past the last paragraph puts the line after the body's last block.
        """
        items = []
        paragraphs = 0
        placed = also_read is None
        for block in self.body:
            insert = False
            if block.block_type == "paragraph":
                paragraphs += 1
                insert = not placed and paragraphs == also_read.also_read_after
                placed = placed or insert
            items.append((block, insert))
        if not placed and items:
            items[-1] = (items[-1][0], True)
        return items

    def get_context(self, request, *args, **kwargs):
        """Return everything the article page shows, in a fixed number of queries."""
        context = super().get_context(request, *args, **kwargs)
        bylines = list(
            ArticleAuthor.objects.filter(page_id=self.pk)
            .order_by("sort_order")
            .select_related("author", "author__picture")
        )
        featured = self.featured_image
        _prefetch_renditions(
            {featured: ARTICLE_RENDITIONS + STRUCTURED_IMAGE_RENDITIONS}  # + social cards, JSON-LD
            | {b.author.picture: AUTHOR_RENDITIONS for b in bylines if b.author.picture_id}
        )
        tags = list(self.tags.all()) if self.pk else []
        # Related news (issue 5): editor picks, then stored suggestions, in one query.
        related = related_for_page(
            page=self, limit=RELATED_LIMIT, auto_also_read=self.also_read_auto
        )
        also_read = related.also_read
        candidates = ArticlePage.objects.for_links()
        context.update(chrome_context(request, self, exclude_ids=[self.pk], candidates=candidates))
        sections = {section.path: section for section in context["nav_sections"]}
        context.update(
            {
                "section": sections.get(self.path[: -self.steplen]),
                "featured": featured,
                "bylines": bylines,
                "tags": tags,
                "also_read": also_read,
                "body_items": self.body_items(also_read),
                "related": related.stories,
                # Newsroom (issue 8): corrections and updates, oldest first, in one query.
                "notes": sorted(self.notes.all(), key=lambda note: note.noted_at),
            }
        )
        return context


def _prefetch_renditions(specs_by_image: dict) -> None:
    """Load the renditions of several images in one query and attach them as Wagtail's prefetch does."""
    specs_by_image.pop(None, None)
    if not specs_by_image:
        return
    Rendition = get_image_model().get_rendition_model()
    specs = {spec for specs in specs_by_image.values() for spec in specs}
    found = Rendition.objects.filter(
        image_id__in=[image.pk for image in specs_by_image], filter_spec__in=specs
    )
    by_image: dict[int, list] = {}
    images = {image.pk: image for image in specs_by_image}
    for rendition in found:
        rendition.image = images[rendition.image_id]
        by_image.setdefault(rendition.image_id, []).append(rendition)
    for image in specs_by_image:
        image.prefetched_renditions = by_image.get(image.pk, [])


def attach_sections(articles, sections: list[SectionPage]) -> None:
    """Set ``article.section`` from the given sections by tree path; no queries."""
    by_path = {section.path: section for section in sections}
    for article in articles:
        article.section = by_path.get(article.path[: -article.steplen])


def home_for(request, page: Page) -> HomePage | None:
    """Return the front page above ``page``; free when routing already loaded it."""
    site = Site.find_for_request(request) if request is not None else None
    root = site.root_page.specific if site is not None else None
    if isinstance(root, HomePage) and page.path.startswith(root.path):
        return root
    return HomePage.objects.ancestor_of(page, inclusive=True).first()


def chrome_context(request, page: Page, *, exclude_ids: list[int], candidates=None) -> dict:
    """Return what every reader page shows around its content: front page, sections, sidebars."""
    home = home_for(request, page)
    return {
        "home": home,
        "nav_sections": home.sections if home else [],
        **sidebar_context(exclude_ids=exclude_ids, candidates=candidates),
    }
