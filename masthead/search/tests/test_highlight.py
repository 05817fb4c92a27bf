"""Snippets: escaped first, then the reader's words marked."""

from masthead.search.highlight import highlight, snippet


def test_highlight_escapes_then_marks():
    html = highlight("<script>alert(1)</script> Zelensky & Kyiv", ["zelensky"])
    assert html == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Zelensky</mark> &amp; Kyiv"


def test_highlight_marks_plurals_and_accents():
    html = highlight("Elections in Genève", ["election", "geneve"])
    assert html == "<mark>Elections</mark> in <mark>Genève</mark>"


def test_highlight_does_not_mark_words_inside_words():
    assert highlight("soil and oil", ["oil"]) == "soil and <mark>oil</mark>"


def test_snippet_picks_the_text_with_a_match_and_cuts_around_it():
    body = "Filler words. " * 40 + "The grain deal was signed in Istanbul. " + "More filler. " * 40
    html = snippet(["A standfirst without it.", body], ["grain"])
    assert "<mark>grain</mark> deal" in html
    assert html.startswith("…") and html.endswith("…")
    assert len(html) < 400


def test_snippet_without_match_shows_the_first_text():
    assert snippet(["", "Standfirst here."], ["absent"]) == "Standfirst here."


def test_empty_snippet_is_empty():
    assert snippet([], ["x"]) == ""
