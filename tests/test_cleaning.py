"""The seed format and the rules that strip a site's chrome."""

from __future__ import annotations

from index.cleaning import clean_paragraphs, drop_head_appeals, is_teaser_heading
from index.readers import SourceFile, parse_txt, read_file
from tests.conftest import SEEDS

SEED = next(SEEDS.glob("*.txt"))


def test_seed_article_metadata_and_title():
    article = read_file(SourceFile(SEED, SEED.stem))[0]
    assert article.published == "2021-11-18"
    assert article.title == "Russia Evacuates More Citizens From Taliban-Controlled Afghanistan"
    assert article.id == SEED.stem


def test_seed_article_body_has_no_site_chrome():
    text = read_file(SourceFile(SEED, SEED.stem))[0].text
    for chrome in ("Support The Moscow Times", "Contribute today", "Read more about",
                   "Read more", "DIPLOMATIC TALKS", "Russia Lauds Taliban Efforts",
                   "Russia-Led Drills Begin", "We need your help", "Your donation",
                   "Independent media outlets"):
        assert chrome not in text, chrome
    assert text.startswith("The Russian Air Force's Ilyushin Il-76 aircraft")  # the caption
    assert text.endswith("The Taliban is a terrorist organization banned in Russia.")
    assert "36 metric tons of humanitarian aid" in text


def test_raw_seed_file_is_not_modified():
    before = SEED.read_bytes()
    read_file(SourceFile(SEED, SEED.stem))
    assert SEED.read_bytes() == before


def test_metadata_lines_without_banner():
    raw = "date 2020-05-01\nurl https://example.org/a\nsource Example News\n\nTitle here\n\nBody."
    article = parse_txt(raw, "a")
    assert (article.published, article.url, article.source) == (
        "2020-05-01", "https://example.org/a", "Example News")
    assert article.title == "Title here"
    assert article.text == "Body."


def test_no_metadata_first_line_is_title():
    article = parse_txt("Just a title\n\nFirst paragraph.\n\nSecond paragraph.", "b")
    assert article.title == "Just a title"
    assert article.published is None
    assert article.text == "First paragraph.\n\nSecond paragraph."


def test_teaser_block_without_appeal_is_dropped():
    body = ["Story sentence one.", "Story sentence two.", "Related", "OTHER NEWS",
            "Another headline", "Its summary."]
    assert clean_paragraphs(body) == ["Story sentence one.", "Story sentence two."]


def test_tail_appeal_without_teasers_is_dropped():
    body = ["The council met on Tuesday.", "It approved the budget.",
            "We need your help now more than ever.",
            "Independent journalism is under threat across the region.",
            "Your donation keeps our reporters in the field."]
    assert clean_paragraphs(body) == ["The council met on Tuesday.", "It approved the budget."]


def test_support_inside_the_story_is_kept():
    body = ["Lawmakers voted to support the new hospital.",
            "The minister said the support would continue.", "The vote passed 40 to 2."]
    assert clean_paragraphs(body) == body


def test_appeal_far_from_the_end_is_kept():
    # An appeal opener deep inside a long story is quoted speech, not site chrome.
    body = ["Support for the strike grew on Monday; unions asked members to donate."] + [
        f"Paragraph {i} of the story." for i in range(8)]
    assert clean_paragraphs(body) == body


def test_tag_lines_are_dropped_anywhere():
    assert clean_paragraphs(["A.", "Tags: politics, elections", "B."]) == ["A.", "B."]
    assert clean_paragraphs(["A.", "Read more about: Afghanistan , Taliban"]) == ["A."]


def test_head_appeals_stop_at_the_first_real_line():
    lines = ["Support our newsroom!", "Subscribe today", "", "Real Title", "Support grows."]
    assert drop_head_appeals(lines) == ["Real Title", "Support grows."]


def test_teaser_headings():
    assert is_teaser_heading("Read more")
    assert is_teaser_heading("You may also like:")
    assert not is_teaser_heading("Read more about the plan in our report.")


def test_capitalised_title_that_looks_like_a_key_is_a_title():
    article = parse_txt("Source of the leak found\n\nInvestigators said on Monday.", "c")
    assert article.title == "Source of the leak found"
    assert article.source is None
