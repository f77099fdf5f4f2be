"""Which documents a question names: file names split as users write them, titles and cover pages,
spelled-out quarters, and "the latest" among near ties."""

from __future__ import annotations

import datetime

from desktop_rag.core.search.naming import (asks_for_latest, asks_for_latest_only, document_date, document_scores,
                                            label_words, named_periods, naming_query, other_periods,
                                            split_file_name)
from desktop_rag.core.types import DocumentProfile


def test_file_names_split_at_separators_and_camel_case() -> None:
    assert split_file_name("3M_2022_10K") == ["3m", "2022", "10", "10k"]
    assert split_file_name("AMCOR_2023Q2_10Q") == ["amcor", "2023", "q2", "2023q2", "10", "10q"]
    assert split_file_name("AnnualReport-2021") == ["annual", "report", "annualreport", "2021"]
    assert split_file_name("2023 Q2 AAPL") == ["2023", "q2", "aapl"]


def test_a_joined_name_splits_into_words_the_document_uses() -> None:
    vocabulary = frozenset({"american", "express", "company"})
    assert split_file_name("AMERICANEXPRESS_2022_10K", vocabulary) == [
        "americanexpress", "american", "express", "2022", "10", "10k"]
    assert split_file_name("AMERICANEXPRESS_2022_10K") == ["americanexpress", "2022", "10", "10k"]  # no vocabulary


def test_document_date_is_the_latest_full_date_written() -> None:
    cover = "For the quarterly period ended July 1, 2023 ... As of 10/20/2023 there were 15,634,232 shares"
    assert document_date(cover) == datetime.date(2023, 10, 20)
    assert document_date("Notes due 2028; February 30, 2023 is no date") is None


def test_spelled_out_quarters_gain_their_short_form() -> None:
    assert naming_query("In the second quarter of 2023, what drove sales?").endswith(" q2")
    assert naming_query("What drove sales?") == "What drove sales?"
    assert asks_for_latest("in the most recent report") and not asks_for_latest("in the 2022 report")


def test_fiscal_years_gain_their_plain_year() -> None:
    assert naming_query("What is the FY2018 capital expenditure?").endswith(" 2018")
    assert naming_query("Q3 FY23 sales").endswith(" 2023")
    assert naming_query("revenue in fiscal year 2022").endswith(" 2022")
    assert naming_query("the FY is long") == "the FY is long"
    profiles = [profile(1, "3M_2018_10K.pdf", "3M Company annual report"),
                profile(2, "3M_2022_10K.pdf", "3M Company annual report"),
                profile(3, "MGM_2018_10K.pdf", "MGM Resorts annual report")]
    scores = document_scores("What is the FY2018 capital expenditure amount for 3M?", profiles, no_counts)
    assert scores[1] > scores[2] and scores[1] > scores.get(3, 0.0)


def profile(doc_id: int, name: str, cover: str, title: str = "") -> DocumentProfile:
    return DocumentProfile(doc_id, name, title, cover)


def no_counts(term: str) -> dict[int, int]:
    return {}


PROFILES = [
    profile(1, "AMERICANEXPRESS_2022_10K.pdf", "American Express Company annual report, December 31, 2022"),
    profile(2, "MGM_2022_10K.pdf", "MGM Resorts International annual report, December 31, 2022"),
    profile(3, "ULTA_2022_10K.pdf", "Ulta Beauty, Inc. annual report, January 28, 2023"),
    profile(4, "PEPSICO_2022_10K.pdf", "PepsiCo, Inc. annual report, December 31, 2022"),
]


def test_a_question_names_the_document_its_cover_names() -> None:
    scores = document_scores("What was the largest liability in American Express's balance sheet?",
                                    PROFILES, no_counts)
    assert max(scores, key=scores.get) == 1 and set(scores) == {1}


def test_the_latest_of_near_ties_wins_when_the_question_asks_for_it() -> None:
    profiles = [profile(1, "acme-q1.pdf", "ACME Corp. Quarter ended March 31, 2023"),
                profile(2, "acme-q2.pdf", "ACME Corp. Quarter ended June 30, 2023"),
                profile(3, "bolt.pdf", "BOLT Inc. Quarter ended June 30, 2023")]
    plain = document_scores("What did ACME say about costs?", profiles, no_counts)
    assert plain[1] == plain[2] and 3 not in plain
    latest = document_scores("What did ACME say about costs in its latest report?", profiles, no_counts)
    assert max(latest, key=latest.get) == 2
    assert label_words(profiles, [2]) >= {"acme", "corp", "june", "2023"}
    # several recent periods ask about every report alike; "the latest report ... past quarters" still the latest
    trend = document_scores("How have ACME's costs changed over the last quarters?", profiles, no_counts)
    assert trend[1] == trend[2]
    assert not asks_for_latest("How did costs move in recent years?")
    assert asks_for_latest("What changed in the latest 10-Q relative to past quarters?")
    # the latest alone, or the latest beside earlier ones
    assert asks_for_latest_only("What was the gross margin in the latest 10-Q, and how does it compare to "
                                "the statutory rate?")
    assert not asks_for_latest_only("What changed in the latest 10-Q relative to past quarters?")
    assert not asks_for_latest_only("How does the most recent tax rate relate to its historical rates?")
    assert not asks_for_latest_only("What was the gross margin in the 2022 report?")


def test_words_concentrated_in_a_documents_text_name_it() -> None:
    counts = {"tomatoes": {3: 5}}
    scores = document_scores("how much sun do tomatoes need?", PROFILES, lambda t: counts.get(t, {}))
    assert set(scores) == {3}


def test_a_word_every_document_uses_names_none_of_them_by_its_cover() -> None:
    # a manual's first page opens its introduction: "use", "type", "form" on its cover named it for any
    # question using those words, and search then looked nowhere else
    profiles = [profile(1, "libtasn1.pdf", "Libtasn1 Abstract Syntax Notation One (ASN.1) library"),
                profile(2, "shared-mime-info-spec.pdf", "Shared MIME-info Database. Many programs use the MIME "
                                                        "type of a file, in one form or another.")]
    counts = {"use": {1: 9, 2: 4}, "form": {1: 3, 2: 1}, "type": {1: 20, 2: 30}, "libtasn1": {1: 12}}
    question = "What does asn1_get_length_der give back when the length octets use the indefinite form?"
    assert document_scores(question, profiles, lambda t: counts.get(t, {})) == {}
    named = document_scores("Will libtasn1's parser accept the REAL type?", profiles, lambda t: counts.get(t, {}))
    assert set(named) == {1}
    # dates and periods name a document by its cover however often the reports mention them
    quarters = [profile(1, "acme-q1.pdf", "ACME Corp. Quarter ended March 31, 2023"),
                profile(2, "acme-q2.pdf", "ACME Corp. Quarter ended June 30, 2023")]
    everywhere = lambda t: {1: 5, 2: 5}  # noqa: E731
    assert set(document_scores("What did ACME report for the quarter ended June 30?", quarters, everywhere)) == {2}


def test_a_word_names_a_document_by_its_text_only_where_the_text_dwells_on_it() -> None:
    # "Does Rust treat leaking memory or integer overflow as unsafe behaviour?" named the one book that
    # spells "behaviour" the British way, in a few of its 300 passages, and search then kept to that book
    books = [DocumentProfile(d, f"book{d}.pdf", "", f"Book {d}", 300) for d in range(1, 5)]
    rare = {"behaviour": {2: 4}, "overflow": {1: 2}}
    assert document_scores("Is overflow unsafe behaviour?", books, lambda t: rare.get(t, {})) == {}
    dwelt = {"iphone": {3: 60}}
    assert set(document_scores("How did iPhone sales do?", books, lambda t: dwelt.get(t, {}))) == {3}


def test_a_period_the_text_mentions_names_no_document_by_its_text() -> None:
    # in a library of 28 documents "q2" was in few enough of them to count as a word of their text: Apple's Q2
    # 10-Q, which writes "Q2" often, outscored Microsoft's Q2 10-Q for "For Q2 2023, ... Microsoft's operating income?"
    profiles = [DocumentProfile(1, "2023 Q2 AAPL.pdf", "", "Apple Inc. Quarterly report", 112),
                DocumentProfile(2, "2023 Q2 MSFT.pdf", "", "Microsoft Corporation Quarterly report", 314)]
    profiles += [profile(d, f"manual{d}.pdf", f"Manual {d}") for d in range(3, 9)]
    counts = {"q2": {1: 36, 2: 4}}
    scores = document_scores("For Q2 2023, what was Microsoft's operating income?", profiles,
                             lambda t: counts.get(t, {}))
    assert max(scores, key=scores.get) == 2


def test_the_running_prose_of_a_first_page_names_nothing() -> None:
    from desktop_rag.core.search.naming import cover_names

    cover = ("The rustc book\nWhat is rustc?\nWelcome to The rustc book! rustc is the compiler for the Rust "
             "programming language, provided by the project itself. Compilers take your source code and produce "
             "binary code, either as a library or executable.")
    names = cover_names(cover)
    assert {"rustc", "book", "rust"} <= names
    assert not names & {"library", "compilers", "source", "executable", "binary"}
    filing = "Apple Inc.\nFor the quarterly period ended July 1, 2023\nCommission File Number: 001-36743"
    assert {"apple", "quarterly", "july", "2023", "commission"} <= cover_names(filing)
    long_line = "American Express Company (Exact name of registrant as specified in its charter) of New York"
    assert {"american", "express", "company", "exact", "york"} <= cover_names(long_line)
    books = [profile(1, "rustc-book.pdf", cover), profile(2, "libtasn1.pdf", "Libtasn1\nA library for ASN.1")]
    scores = document_scores("What licence is the library under, and may I link it into a proprietary app?",
                             books + [profile(d, f"other{d}.pdf", f"Other {d}") for d in range(3, 7)], no_counts)
    assert set(scores) == {2}  # the book's first page says "library" in passing; the other's title names one


def _mixed_library() -> tuple[list[DocumentProfile], dict[str, dict[int, int]]]:
    """Three Rust books, a MIME spec and twenty filings, with how many passages of each hold a word."""
    books = [DocumentProfile(1, "cargo-book.pdf", "", "The Cargo Book\nLinks\nCargo is the Rust package manager.", 500),
             DocumentProfile(2, "rustdoc-book.pdf", "", "The rustdoc book", 269),
             DocumentProfile(3, "rustc-book.pdf", "", "The rustc book", 447),
             DocumentProfile(4, "shared-mime-info-spec.pdf", "", "Shared MIME-info Database", 59),
             DocumentProfile(5, "embedded-book.pdf", "", "The Embedded Rust Book\nCortex-M", 345)]
    filings = [DocumentProfile(d, f"2023 Q{d % 3 + 1} FIRM{d}.pdf", "", f"Firm{d} Inc. Quarterly report", 200)
               for d in range(6, 26)]
    counts = {"links": {1: 4, 2: 55, 3: 50, 4: 2}, "podcast": {}, "feed": {4: 1},
              "cargo": {1: 385, 2: 11, 3: 76}, "m": {5: 71, 6: 8}}
    return books + filings, counts


def test_a_first_page_word_the_text_barely_uses_names_nothing() -> None:
    # "Links" on the first page of the Cargo book named it for a question about feed:// links, and
    # search then kept to that book; the MIME spec that answers was never searched
    profiles, counts = _mixed_library()
    lookup = lambda t: counts.get(t, {})  # noqa: E731
    assert document_scores("How should my podcast client declare that it handles feed:// links?",
                           profiles, lookup) == {}
    assert set(document_scores("How does the Cargo book say to publish?", profiles, lookup)) >= {1}
    # a single letter names nothing: the "m" of "I'm" named the book whose first page says "Cortex-M"
    assert document_scores("I'm writing a parser: what byte order?", profiles, lookup) == {}


def test_words_several_documents_dwell_on_name_them_only_when_written_as_names() -> None:
    reports = [DocumentProfile(d, f"report{d}.pdf", "", f"Quarter ended March {d}, 2023", 100) for d in range(1, 5)]
    books = [DocumentProfile(d, f"book{d}.pdf", "", f"Book {d}", 300) for d in range(5, 9)]
    counts = {"iphone": {d: 9 for d in range(1, 5)}, "variance": {7: 30}, "links": {5: 40, 6: 30}}
    lookup = lambda t: counts.get(t, {})  # noqa: E731
    # a product written as a name names every report about it (and "the latest" then picks the newest)
    latest = document_scores("What was iPhone revenue in the latest quarter?", reports + books, lookup)
    assert max(latest, key=latest.get) == 4 and set(latest) == {1, 2, 3, 4}
    # the same word in lower case, shared by several documents, is a topic: it names none of them
    assert document_scores("what was iphone revenue?", reports + books, lookup) == {}
    assert document_scores("How do links work?", reports + books, lookup) == {}
    # a word only one document dwells on names it however it is written
    assert set(document_scores("what is variance for fn pointers?", reports + books, lookup)) == {7}


def test_a_document_named_by_its_label_leads_one_whose_text_dwells_on_another_word() -> None:
    # "Cargo" is the Cargo book's file name; "codegen" only a word the rustc book's text uses often.
    # Both are named, but at a label word's weight of twice a text word's the two nearly tied (19.07 and
    # 19.01), and search weighted the rustc book's pages as much as the book the question names
    profiles, counts = _mixed_library()
    counts["codegen"] = {3: 20}
    scores = document_scores("Which codegen options does Cargo pass?", profiles, lambda t: counts.get(t, {}))
    assert set(scores) >= {1, 3} and scores[1] >= 1.15 * scores[3]


def test_a_quarter_written_with_its_year_is_one_period() -> None:
    assert named_periods("Q3 2022 vs Q3 2023") == [("q3", "2022"), ("q3", "2023")]
    assert named_periods("in the third fiscal quarter of fiscal 2023") == [("q3", "2023")]
    assert named_periods("Q2 FY23 sales, 2023 Q1 costs, Q1'24") == [("q2", "2023"), ("q1", "2023"), ("q1", "2024")]
    assert named_periods("third quarter revenue in 2023") == []  # apart: no period of its own
    assert named_periods("What drove sales in 2023?") == []


FILINGS = [profile(1, "2022 Q3 AMZN.pdf", "Amazon.com, Inc. For the quarterly period ended September 30, 2022"),
           profile(2, "2023 Q3 AMZN.pdf", "Amazon.com, Inc. For the quarterly period ended September 30, 2023"),
           profile(3, "2023 Q1 AMZN.pdf", "Amazon.com, Inc. For the quarterly period ended March 31, 2023"),
           profile(4, "2023 Q3 AAPL.pdf", "Apple Inc. For the quarterly period ended July 1, 2023"),
           profile(5, "amazon-style-guide.pdf", "Amazon Style Guide")]


def test_a_quarter_and_year_name_that_report_and_no_other_period() -> None:
    scores = document_scores("What was Amazon's operating cash flow in Q3 2022?", FILINGS, no_counts)
    assert max(scores, key=scores.get) == 1
    assert 2 not in scores and 3 not in scores  # the same quarter a year later, the same year: other periods
    assert 5 in scores  # a document of no quarter is not ruled out by one
    assert other_periods("What was Amazon's operating cash flow in Q3 2022?", FILINGS) == {2, 3, 4}
    both = document_scores("How did Amazon's sales in Q3 2023 compare with Q3 2022?", FILINGS, no_counts)
    assert {1, 2} <= set(both) and 3 not in both
    # no report of that period in the library: the words name as they did apart
    assert other_periods("Amazon's sales in Q4 2022", FILINGS) == frozenset()
    assert {1, 2, 3} <= set(document_scores("Amazon's sales in Q4 2022", FILINGS, no_counts))
