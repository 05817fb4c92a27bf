"""The sample edition: original content, loaded once."""

import io
import re

from django.core.management import call_command
from django.test import TestCase, override_settings
from django.utils.html import strip_tags

from masthead.demo.services import demo_is_loaded, demo_load
from masthead.news.models import ArticlePage, Author, SectionPage, StandardPage
from masthead.news.tests.factories import TEST_MEDIA_ROOT
from masthead.related.models import RelatedLink

MIN_WORDS, MAX_WORDS = 250, 700  # issue 3: "250–700 words each"


def word_count(page: ArticlePage) -> int:
    words = 0
    for block in page.body:
        value = block.value
        if block.block_type == "quote":
            text = f"{value['quote']} {value['attribution']}"
        else:
            text = strip_tags(str(value))
        words += len(re.findall(r"\w+(?:['’-]\w+)*", text))
    return words


@override_settings(MEDIA_ROOT=TEST_MEDIA_ROOT)
class DemoLoadTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.created = demo_load()

    def test_demo_creates_about_forty_articles(self):
        self.assertGreaterEqual(self.created, 35)
        self.assertLessEqual(self.created, 45)
        self.assertEqual(ArticlePage.objects.live().count(), self.created)
        self.assertTrue(demo_is_loaded())

    def test_demo_has_six_sections_each_with_articles(self):
        sections = SectionPage.objects.live()
        self.assertEqual(sections.count(), 6)
        for section in sections:
            self.assertTrue(ArticlePage.objects.child_of(section).exists(), section.title)

    def test_demo_has_seven_authors_one_without_a_picture(self):
        self.assertEqual(Author.objects.count(), 7)
        self.assertEqual(Author.objects.filter(picture__isnull=True).count(), 1)
        for author in Author.objects.all():
            self.assertTrue(author.bio, author.name)
            self.assertTrue(
                ArticlePage.objects.filter(article_authors__author=author).exists(), author.name
            )

    def test_every_article_is_250_to_700_words(self):
        for page in ArticlePage.objects.all():
            with self.subTest(page=page.title):
                self.assertTrue(
                    MIN_WORDS <= word_count(page) <= MAX_WORDS, (page.title, word_count(page))
                )

    def test_every_article_has_tags_a_byline_and_a_date(self):
        for page in ArticlePage.objects.all():
            with self.subTest(page=page.title):
                self.assertTrue(page.tags.exists())
                self.assertTrue(page.article_authors.exists())
                self.assertIsNotNone(page.first_published_at)

    def test_also_read_links_resolve(self):
        also_read = RelatedLink.objects.filter(also_read_after__isnull=False)
        self.assertGreaterEqual(also_read.count(), 5, "developing stories need also-read links")
        unresolved = list(
            also_read.filter(target__isnull=True).values_list("target_headline", flat=True)
        )
        self.assertEqual(unresolved, [])
        for link in also_read.select_related("target"):
            self.assertTrue(link.target.live)

    def test_also_read_renders_as_a_link_to_the_story(self):
        link = (
            RelatedLink.objects.filter(also_read_after__isnull=False)
            .select_related("target")
            .first()
        )
        page = ArticlePage.objects.get(pk=link.page_id)
        html = self.client.get(page.url).content.decode()
        also = html[html.index('data-region="also-read"') :]
        self.assertIn(f'href="{link.target.url}"', also[: also.index("</p>")])

    def test_a_second_load_creates_nothing(self):
        before = (ArticlePage.objects.count(), Author.objects.count(), SectionPage.objects.count())
        self.assertEqual(demo_load(), 0)
        out = io.StringIO()
        call_command("demo", stdout=out)
        self.assertIn("already", out.getvalue())
        after = (ArticlePage.objects.count(), Author.objects.count(), SectionPage.objects.count())
        self.assertEqual(before, after)

    def test_about_this_demo_page_labels_the_sample_content(self):
        about = StandardPage.objects.live().get(title="About this demo")
        response = self.client.get(about.url)
        self.assertEqual(response.status_code, 200)
        self.assertIn("sample", response.content.decode().lower())

    def test_front_page_shows_the_edition(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        content = response.content.decode()
        newest = ArticlePage.objects.live().order_by("-first_published_at").first()
        self.assertIn(newest.url, content)
        self.assertIn("The Northbridge Courier", content)
