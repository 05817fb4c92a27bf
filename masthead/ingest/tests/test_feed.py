"""`masthead import` of RSS 2.0 and Atom feeds: one article an item."""

import datetime as dt
import html
import io
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils.html import strip_tags

from masthead.ingest.importers.base import ImportFormatError
from masthead.ingest.importers.feed import FeedImporter
from masthead.ingest.registry import importer_for
from masthead.news.models import ArticlePage

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>The Coastal Courier</title>
  <link>https://courier.example/</link>
  <description>Local news</description>
  <item>
    <title>Harbour bridge reopens after repairs</title>
    <link>https://courier.example/local/harbour-bridge</link>
    <guid isPermaLink="true">https://courier.example/local/harbour-bridge</guid>
    <pubDate>Tue, 05 Mar 2024 06:30:00 GMT</pubDate>
    <dc:creator>Mara Lind</dc:creator>
    <category>Transport</category>
    <category>Harbour</category>
    <description>The bridge is open again.</description>
    <content:encoded><![CDATA[<p>The harbour bridge reopened on Tuesday.</p>
      <script>alert("x")</script>
      <h2>Buses return</h2><p>Routes 4 and 11 return from Monday.</p>]]></content:encoded>
  </item>
  <item>
    <title>Ferry timetable changes &amp; fares</title>
    <link>https://courier.example/local/ferry</link>
    <pubDate>Mon, 04 Mar 2024 09:00:00 +0100</pubDate>
    <author>desk@courier.example (Tom Ek)</author>
    <description>&lt;p&gt;Winter timetable ends on Friday.&lt;/p&gt;</description>
  </item>
</channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Science desk</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2024-03-06T12:00:00Z</updated>
  <author><name>Science Desk</name></author>
  <entry>
    <title type="html">Comet &lt;em&gt;visible&lt;/em&gt; tonight</title>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <link rel="alternate" href="https://courier.example/science/comet"/>
    <published>2024-03-06T10:00:00Z</published>
    <updated>2024-03-06T11:00:00Z</updated>
    <category term="Astronomy"/>
    <summary>Look north after dark.</summary>
    <content type="html">&lt;p&gt;The comet will be visible to the naked eye.&lt;/p&gt;&lt;p&gt;Look north.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Observatory open day</title>
    <id>urn:uuid:2</id>
    <updated>2024-03-01T08:00:00Z</updated>
    <author><name>Ana Ruiz</name></author>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Doors open at ten.</p></div></content>
  </entry>
</feed>
"""


def run_import(*args) -> str:
    out = io.StringIO()
    call_command("import", *[str(a) for a in args], stdout=out, stderr=io.StringIO())
    return out.getvalue()


def table_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def paragraphs(page: ArticlePage) -> list[str]:
    return [html.unescape(strip_tags(str(block.value))).strip() for block in page.body]


@pytest.fixture
def rss(tmp_path) -> Path:
    path = tmp_path / "courier.rss"
    path.write_text(RSS, encoding="utf-8")
    return path


@pytest.fixture
def atom(tmp_path) -> Path:
    path = tmp_path / "science.atom"
    path.write_text(ATOM, encoding="utf-8")
    return path


def test_feeds_are_recognised_by_name_and_content(rss, atom, tmp_path):
    assert importer_for(rss).name == "feed"
    assert importer_for(atom).name == "feed"
    as_xml = tmp_path / "feed.xml"
    as_xml.write_text(ATOM, encoding="utf-8")
    assert importer_for(as_xml).name == "feed"
    not_a_feed = tmp_path / "sitemap.xml"
    not_a_feed.write_text('<?xml version="1.0"?><urlset><url><loc>x</loc></url></urlset>')
    assert not FeedImporter().can_read(not_a_feed)


@pytest.mark.django_db
def test_rss_items_become_articles(rss):
    out = run_import(rss)
    assert "created 2, updated 0" in out, out
    bridge = ArticlePage.objects.get(title="Harbour bridge reopens after repairs")
    assert bridge.first_published_at == dt.datetime(2024, 3, 5, 6, 30, tzinfo=dt.UTC)
    assert [a.name for a in bridge.authors] == ["Mara Lind"]
    assert {t.name for t in bridge.tags.all()} == {"Transport", "Harbour"}
    assert bridge.standfirst == "The bridge is open again."
    assert paragraphs(bridge) == [
        "The harbour bridge reopened on Tuesday.",
        "Buses return",
        "Routes 4 and 11 return from Monday.",
    ]
    assert "alert" not in "".join(str(b.value) for b in bridge.body)
    assert bridge.get_parent().title == "News"  # the import's default section

    ferry = ArticlePage.objects.get(title="Ferry timetable changes & fares")
    assert ferry.first_published_at == dt.datetime(2024, 3, 4, 8, 0, tzinfo=dt.UTC)
    assert [a.name for a in ferry.authors] == ["Tom Ek"]
    assert paragraphs(ferry) == ["Winter timetable ends on Friday."]


@pytest.mark.django_db
def test_atom_entries_become_articles(atom):
    out = run_import(atom, "--section", "Science")
    assert "created 2, updated 0" in out, out
    comet = ArticlePage.objects.get(title="Comet visible tonight")
    assert comet.first_published_at == dt.datetime(2024, 3, 6, 10, 0, tzinfo=dt.UTC)
    assert [a.name for a in comet.authors] == ["Science Desk"]  # the feed's author
    assert [t.name for t in comet.tags.all()] == ["Astronomy"]
    assert paragraphs(comet) == ["The comet will be visible to the naked eye.", "Look north."]
    assert comet.standfirst == "Look north after dark."
    assert comet.get_parent().title == "Science"

    open_day = ArticlePage.objects.get(title="Observatory open day")
    assert open_day.first_published_at == dt.datetime(2024, 3, 1, 8, 0, tzinfo=dt.UTC)
    assert [a.name for a in open_day.authors] == ["Ana Ruiz"]
    assert paragraphs(open_day) == ["Doors open at ten."]


@pytest.mark.django_db
def test_reimporting_a_feed_updates_its_items(rss):
    run_import(rss)
    rss.write_text(RSS.replace("reopened on Tuesday", "reopened on Tuesday morning"))
    out = run_import(rss)
    assert "created 0, updated 2" in out, out
    bridge = ArticlePage.objects.get(title="Harbour bridge reopens after repairs")
    assert paragraphs(bridge)[0] == "The harbour bridge reopened on Tuesday morning."


@pytest.mark.django_db
def test_truncated_feed_fails_naming_file_and_line_and_saves_nothing(rss, tmp_path):
    run_import(rss)
    before = table_counts()
    cut = tmp_path / "cut.rss"
    cut.write_text(ATOM[: ATOM.index("<entry>", ATOM.index("<entry>") + 1) + 40])
    with pytest.raises(CommandError) as raised:
        run_import(cut)
    message = str(raised.value)
    assert "cut.rss, line " in message and "nothing was saved" in message
    assert table_counts() == before


def test_feed_without_items_is_refused(tmp_path):
    path = tmp_path / "empty.rss"
    path.write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    )
    with pytest.raises(ImportFormatError, match="empty.rss.*without any items"):
        list(FeedImporter().read(path))


def test_undefined_html_entities_are_read_leniently(tmp_path):
    path = tmp_path / "nbsp.rss"
    path.write_text(
        RSS.replace("Mara Lind</dc:creator>", "Mara&nbsp;Lind</dc:creator>"), encoding="utf-8"
    )
    importer = FeedImporter()
    drafts = list(importer.read(path))
    assert len(drafts) == 2
    assert drafts[0].authors == ["Mara Lind"]
    assert any("undefined entity" in w for w in importer.warnings)
