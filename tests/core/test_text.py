"""The leaf text helpers: content words and figures."""

from __future__ import annotations

from desktop_rag.core.text import content_terms, counted, figures_in, normalize_figure


def test_content_terms_drop_single_letters_meta_words_and_naming_words() -> None:
    question = "What was the gross margin in Apple's latest 10-Q report?"
    assert content_terms(question) == ["gross", "margin", "apple", "10"]
    assert content_terms(question, frozenset({"apple", "10"})) == ["gross", "margin"]


def test_figures_are_compared_in_one_spelling() -> None:
    assert figures_in("Total net sales $ 82,959; margin 18.0% (1,576) in Q3 2023") == {"82959", "18", "1576", "2023"}
    assert normalize_figure("1,200.50") == "1200.5" and normalize_figure("$7") == "7"


def test_sentences_do_not_end_at_common_abbreviations() -> None:
    from desktop_rag.core.text import split_sentences

    text = ("Level 1 investments consist primarily of U.S. Treasury securities. Apple Inc. (the Company) and "
            "Acme Corp. Holdings agreed, e.g. Blue terms. Sales rose. Costs fell.")
    assert split_sentences(text) == [
        "Level 1 investments consist primarily of U.S. Treasury securities.",
        "Apple Inc. (the Company) and Acme Corp. Holdings agreed, e.g. Blue terms.", "Sales rose.", "Costs fell."]


def test_counts_read_as_english() -> None:
    # the library panel said "1 documents · 17 pages · 59 chunks"
    assert counted(1, "document") == "1 document"
    assert counted(0, "page") == "0 pages"
    assert counted(4573, "passage") == "4,573 passages"
