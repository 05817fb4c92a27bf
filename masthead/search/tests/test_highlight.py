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


def test_marker_finds_what_the_regular_expression_finds():
    import random

    from masthead.search.highlight import Marker, _finder

    rng = random.Random(3)
    vocabulary = ["oil", "oils", "soil", "election", "elections", "gulf", "ab", "abba", "u"]
    for _ in range(300):
        words = rng.sample(vocabulary, rng.randint(1, 4))
        prefix = rng.choice(["", "el", "oi"])
        text = " ".join(
            rng.choice(vocabulary + ["and", "the,", "x-oil", "oil_"]) for _ in range(12)
        )
        marker = Marker(words, prefix=prefix)
        expected = [m.span() for m in _finder(tuple(sorted(set(words))), prefix).finditer(text)]
        assert marker._find(text) == expected, (words, prefix, text)
        assert marker._find(text, first=True) == expected[:1]


def test_marker_escapes_text_with_and_without_marks():
    from masthead.search.highlight import Marker

    marker = Marker(["oil"])
    assert marker.highlight("Oil & gas") == "<mark>Oil</mark> &amp; gas"
    assert marker.highlight("<b>gas</b>") == "&lt;b&gt;gas&lt;/b&gt;"
    assert marker.highlight("plain oil") == "plain <mark>oil</mark>"
