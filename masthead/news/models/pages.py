from django.core.paginator import Paginator
from django.db import models
from django.db.models import F, Window
from django.db.models.functions import RowNumber, Substr
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.functional import cached_property
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import Tag, TaggedItemBase
from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path, re_path
from wagtail.fields import RichTextField, StreamField
from wagtail.images import get_image_model
from wagtail.models import Orderable, Page, PageManager, Site
from wagtail.search import index
from wagtail.url_routing import RouteResult

from masthead.images.renditions import ARTICLE_RENDITIONS, AUTHOR_RENDITIONS
from masthead.news.blocks import ArticleBodyBlock
from masthead.news.models.querysets import ArticlePageQuerySet, NewsPageQuerySet, author_queryset
from masthead.news.models.snippets import Author
from masthead.related.selectors import related_fill, related_picks
from masthead.trending.selectors import trending_list

# Listing sizes; each is one query, whatever its value.
PAGE_SIZE = 20
RELATED_LIMIT = 5
TRENDING_LIMIT = 5
RECENT_LIMIT = 5
FRONT_PER_SECTION = 4
FRONT_LATEST = 12


def paginate(request, queryset, per_page: int = PAGE_SIZE):
    """Return a valid page of results, even if ?page= is not a number or out of range."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def sidebar_context(*, exclude_ids: list[int], candidates=None) -> dict:
    """Return the Trending and Recent News lists shown beside every reader page (two queries)."""
    candidates = (candidates or ArticlePage.objects.for_links()).exclude(pk__in=exclude_ids)
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
        return list(SectionPage.objects.child_of(self).live().public().order_by("path"))

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
        latest = list(cards[: FRONT_LATEST + 1])
        attach_sections(latest, sections)
        # The newest few of every section in one query, whatever the number of sections.
        ranked = cards.child_of_any(sections).annotate(
            section_path=Substr("path", 1, self.depth * self.steplen + self.steplen),
            row=Window(
                RowNumber(),
                partition_by=[F("section_path")],
                order_by=[F("first_published_at").desc(), F("pk").desc()],
            ),
        ).filter(row__lte=FRONT_PER_SECTION)
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

    def get_context(self, request, *args, **kwargs):
        context = super().get_context(request, *args, **kwargs)
        context.update(chrome_context(request, self, exclude_ids=[]))
        return context


class SectionPage(Page):
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

    parent_page_types = ["news.SectionPage"]
    subpage_types = []

    objects = PageManager.from_queryset(ArticlePageQuerySet)()

    content_panels = Page.content_panels + [
        FieldPanel("standfirst"),
        InlinePanel("article_authors", label="Bylines", min_num=1),
        MultiFieldPanel(
            [FieldPanel("featured_image"), FieldPanel("featured_image_caption")], "Picture"
        ),
        FieldPanel("body"),
        FieldPanel("tags"),
        InlinePanel("related_links", label="Related stories (editor's picks)"),
    ]

    search_fields = Page.search_fields + [
        index.SearchField("standfirst"),
        index.SearchField("body"),
        index.RelatedFields("tags", [index.SearchField("name")]),
        index.RelatedFields(
            "article_authors", [index.RelatedFields("author", [index.SearchField("name")])]
        ),
        index.FilterField("first_published_at"),
    ]

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
            {featured: ARTICLE_RENDITIONS}
            | {b.author.picture: AUTHOR_RENDITIONS for b in bylines if b.author.picture_id}
        )
        tags = list(self.tags.all()) if self.pk else []
        picks = related_picks(page=self)
        resolved = [link.target for link in picks if link.target_id and link.target.live]
        also_read = next((link for link in picks if link.also_read_after), None)
        candidates = ArticlePage.objects.for_links()
        fill = related_fill(
            page=self,
            candidates=candidates,
            tag_ids=[tag.pk for tag in tags],
            exclude_ids=[page.pk for page in resolved],
            limit=RELATED_LIMIT - len(resolved),
        )
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
                "related": resolved[:RELATED_LIMIT] + fill,
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
