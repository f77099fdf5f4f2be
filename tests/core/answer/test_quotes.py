"""Quotes: the lines of the passages that answer, verbatim, with where they sit on their page."""

from __future__ import annotations

from fakes import HashEmbedder

from desktop_rag.core.answer.quotes import asks_for_amount, candidates, select_quotes
from desktop_rag.core.types import Passage

INCOME = ("CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS\nThree Months Ended June 25, 2022\n"
          "Net sales: Products $ 63,355\nServices 19,604\nTotal net sales 82,959\nCost of sales 47,074\n"
          "Gross margin 35,885\nOperating income 23,076")
PROSE = "The Company designs smartphones. Weather was mild in the quarter. Employees work in many countries."
PAGES = {(1, 4): "Header line of page four.\n" + INCOME, (2, 9): PROSE}


def passage(number: int, doc_id: int, page: int, text: str) -> Passage:
    return Passage(number=number, doc_id=doc_id, file=f"doc{doc_id}.pdf", path=f"/d/doc{doc_id}.pdf", page=page,
                   page_end=page, start_offset=0, end_offset=len(text), chunk_ids=(number,), text=text)


def page_text(doc_id: int, page: int) -> str | None:
    return PAGES.get((doc_id, page))


def quotes_for(question: str, leave_out: frozenset[str] = frozenset()):  # noqa: ANN201
    embedder = HashEmbedder()
    passages = [passage(1, 2, 9, PROSE), passage(2, 1, 4, INCOME)]
    return select_quotes(question, embedder.embed([question])[0], passages, embedder.embed, page_text, leave_out)


def quotes_on_page(question: str, text: str):  # noqa: ANN201
    """The quotes for ``question`` from one page holding ``text``, found by a passage of it all."""
    embedder = HashEmbedder()
    return select_quotes(question, embedder.embed([question])[0], [passage(1, 3, 7, text)], embedder.embed,
                         lambda doc_id, page: text)


def test_the_table_row_with_the_figure_is_quoted_with_its_place_on_the_page() -> None:
    quotes = quotes_for("What were Apple's total net sales?", frozenset({"apple"}))
    assert quotes and quotes[0].text == "Total net sales 82,959"
    best = quotes[0]
    assert (best.file, best.page, best.passage) == ("doc1.pdf", 4, 2)
    assert PAGES[(1, 4)][best.start_offset:best.end_offset] == "Total net sales 82,959"
    assert len(quotes) <= 3


def test_nothing_is_quoted_when_no_line_answers() -> None:
    assert quotes_for("Which rivers flood in spring?") == []


def test_candidates_are_lines_and_sentences_long_enough_to_say_something() -> None:
    texts = [c.text for c in candidates([passage(1, 2, 9, PROSE + "\nOK\n12 14 16")])]
    assert texts == ["The Company designs smartphones.", "Weather was mild in the quarter.",
                     "Employees work in many countries."]


def test_copyright_notices_are_not_candidates() -> None:
    # "Who is the CEO of NVIDIA?" once quoted "© 2023 NVIDIA Corporation." from a page footer
    text = "© 2023 NVIDIA Corporation. All rights reserved.\nCopyright 2023 Acme Inc.\nNVIDIA was founded in 1993."
    assert [c.text for c in candidates([passage(1, 2, 9, text)])] == ["NVIDIA was founded in 1993."]


def test_questions_that_ask_for_an_amount() -> None:
    assert asks_for_amount("How much did Apple spend on research?")
    assert asks_for_amount("What was the gross margin in Q3?")
    assert not asks_for_amount("Who is the chief executive?")
    # plurals too: "revenues from international markets" was read as asking for no amount
    assert asks_for_amount("How do revenues from international markets compare?")
    assert asks_for_amount("What were the margins and prices in Europe?")
    # "substantial stock buyback programs" asks how large they were: "$18.7 billion remained of our $60 billion
    # share repurchase program" scored under the bar for any quote without the figure's bonus
    assert asks_for_amount("Has Microsoft partaken in any substantial stock buyback programs?")
    assert asks_for_amount("Was there a considerable shift in operating costs?")
    # reserves, provisions and accruals are amounts set aside: "we accrued aggregate legal liabilities of $264
    # million" lost to a sentence without a figure
    assert asks_for_amount("How do legal contingencies connect with the reserves or provisions made for them?")
    assert asks_for_amount("What was accrued for legal liabilities?")


def test_questions_about_the_quantities_manuals_state_ask_for_an_amount() -> None:
    # "The default priority value is 50, and the maximum is 100." lost to a sentence without figures
    assert asks_for_amount("What priority range do magic rules use?")
    assert asks_for_amount("What is the maximum length of a name in an ASN.1 definition?")
    assert asks_for_amount("How long does the battery last on one charge?")
    assert not asks_for_amount("Which function decodes a DER structure?")


def test_a_name_holding_a_digit_is_not_a_table_row() -> None:
    from desktop_rag.core.answer.tables import is_table_row

    assert not is_table_row("asn1_node definitions = NULL;")
    assert not is_table_row("H100 GPUs ship in volume")
    assert is_table_row("Diluted (2) $ 3.71 $ 0.27")
    manual = ("The main type is asn1_node.\nasn1_node definitions = NULL;\n"
              "ASN1_MAX_NAME_SIZE is the maximum number of characters allowed for an ASN.1 identifier.")
    quotes = quotes_on_page("What is the maximum length of a name in an ASN.1 definition?", manual)
    # the code line's "asn" read as a row label the question names in full outscored every sentence
    assert quotes and quotes[0].text.startswith("ASN1_MAX_NAME_SIZE is the maximum")


def test_a_quote_outside_the_passages_is_given_to_the_model_with_the_lines_above_it() -> None:
    from desktop_rag.core.answer.quotes import passage_of, quoted_passages

    matched = passage(1, 1, 4, "Header line of page four.")  # the hit: the page's first line only
    quotes = select_quotes("What were total net sales?", HashEmbedder().embed(["What were total net sales?"])[0],
                           [matched], HashEmbedder().embed, page_text)
    assert quotes[0].text == "Total net sales 82,959"
    given = quoted_passages(quotes[:1], [matched], page_text)
    assert len(given) == 2 and given[1] is matched
    assert given[0].text.endswith("Total net sales 82,959") and "Services 19,604" in given[0].text
    assert given[0].page == 4 and PAGES[(1, 4)][given[0].start_offset:given[0].end_offset] == given[0].text
    assert passage_of(quotes[0], [matched]) == 0 and quoted_passages(quotes[:1], given, page_text) == given


def test_a_quoted_table_row_carries_the_headers_that_name_its_columns() -> None:
    from desktop_rag.core.answer.tables import column_headers

    page = ("Segment results (dollars in millions)\nThree Months Ended Nine Months Ended\nJune 25,\n2022\n"
            "Americas $ 37,472 $ 35,870 4 % $ 129,850\nTotal net sales $ 82,959 $ 81,434 2 % $ 304,182")
    assert column_headers(page, page.index("Total net sales")) == (
        "in millions | Three Months Ended Nine Months Ended | June 25, 2022")  # "June 25," and "2022" joined
    quote = quotes_for("What were Apple's total net sales?", frozenset({"apple"}))[0]
    assert quote.context == "Three Months Ended June 25, 2022"  # its page states no unit


def test_a_quoted_table_row_carries_the_unit_its_table_states() -> None:
    from desktop_rag.core.answer.tables import column_headers

    page = ("INTEL CORPORATION\nCONSOLIDATED CONDENSED STATEMENTS OF INCOME\n"
            "(In Millions, Except Per Share Amounts; Unaudited)\nThree Months Ended\nSep 30, 2023 Oct 1, 2022\n"
            "Net revenue $ 14,158 $ 15,338\nThe table below is in thousands of units, except as noted.\n"
            "Units shipped (in thousands)\nNotebooks 1,200 1,400\nRevenue in millions of dollars fell.\n"
            "Desktops 900 950")
    assert column_headers(page, page.index("Net revenue")) == (
        "In Millions, Except Per Share Amounts | Three Months Ended | Sep 30, 2023 Oct 1, 2022")
    # the nearest unit above the row counts; "in millions of dollars" in a sentence is not a table's unit
    assert column_headers(page, page.index("Desktops")).startswith("in thousands |")
    header = "(In Millions) Q3 2023 Q3 2022"
    assert column_headers(f"{header}\nRevenue $ 14,158 $ 15,338", 30) == header
    assert column_headers("Revenue $ 14,158 $ 15,338", 0) == ""
    # a sentence introducing the table gives its unit, not a column header
    intro = ("The following table shows net sales by reportable segment for the three- and nine-month periods ended "
             "June 25, 2022 and June 26, 2021 (dollars in millions):\nThree Months Ended Nine Months Ended\n"
             "Total net sales $ 82,959 $ 81,434")
    assert column_headers(intro, intro.index("Total")) == "in millions | Three Months Ended Nine Months Ended"
    # the last rows of a long statement still find its header
    statement = "Three Months Ended Six Months Ended\nQ2 2023 Q2 2022\n" + "".join(
        f"Line item {n} {n},100 {n},200\n" for n in range(45)) + "Net income (loss) 1,473 (454)"
    found = column_headers(statement, statement.index("Net income"))
    assert found == "Three Months Ended Six Months Ended | Q2 2023 Q2 2022"
    # a header the PDF broke into short lines is read joined
    broken = "Three Months Ended\nJune 25,\n2022\nJune 26,\n2021 Change\nAmericas $ 37,472 $ 35,870 4 %"
    assert column_headers(broken, broken.index("Americas")) == "Three Months Ended June 25, 2022 June 26, 2021 Change"
    # a line ending in a comma runs on; a row group's label ("ASSETS", "Current assets:") is no column
    sheet = ("BALANCE SHEETS\n(In millions)\nApril 30, January 29,\n2023 2023\nASSETS\nCurrent assets:\n"
             "Cash and cash equivalents $ 5,079 $ 3,389\nTotal assets $ 44,460 $ 41,182\nLIABILITIES\n"
             "Current liabilities:\nLong-term debt 9,704 9,703")
    assert column_headers(sheet, sheet.index("Long-term debt")) == "In millions | April 30, January 29, 2023 2023"
    # a unit broken over two lines: "were as follows (in" / "millions):"
    note = ("Net sales were as follows (in\nmillions):\nThree Months Ended\nDecember 31,\n2022\n"
            "Total net sales $ 117,154")
    assert column_headers(note, note.index("Total")) == "in millions | Three Months Ended December 31, 2022"


def test_a_quote_joined_across_a_broken_word_is_found_on_its_page() -> None:
    from desktop_rag.core.answer.quotes import _find

    page = "Intro line.\nThis report should be read with the Consolidated Financial Statements in our 2022 Form 10-\nK."
    quote = "This report should be read with the Consolidated Financial Statements in our 2022 Form 10-K."
    start, end = _find(page, quote)
    assert page[start:end].startswith("This report") and page[start:end].endswith("10-\nK.")


def test_a_total_repeated_in_two_tables_is_quoted_once() -> None:
    from desktop_rag.core.answer import tables as q

    assert q.same_figures("Total net sales $ 82,959 $ 81,434", "Total net sales 82,959 81,434")
    assert not q.same_figures("Total net sales 82,959", "Services 19,604")
    assert q.same_figures("Common stock repurchased — — (6,000) — (6,000) —",
                          "Common stock repurchased — — (6,000) —")
    assert not q.same_figures("Services 6,000", "Products 6,000")  # one figure, two labels
    # one label and the same first figure: a footnote mark or a column of percentages aside
    assert q.same_figures("Diluted $ 3.71 $ 0.27 $ 7.01", "Diluted (2) $ 3.71 $ 0.27 $ 7.01")
    assert q.same_figures("Net income (loss) $ 1,481 11.4 % $ (454) (3.0)%",
                          "Net income (loss) $ 1,481 $ (454)")
    assert not q.same_figures("Diluted $ 3.71 $ 0.27", "Diluted 2,494 2,499")  # earnings vs shares
    # the MD&A restates the income statement's row with each amount's share of revenue beside it: Intel's
    # revenue was quoted twice, as "Total net revenue" and as "Net revenue ... 100.0 %"
    assert q.same_figures("Total net revenue $ 14,158 $ 15,338 $ 38,822 $ 49,012",
                          "Net revenue $ 14,158 100.0 % $ 15,338 100.0 % $ 38,822 100.0 % $ 49,012 100.0 %")
    assert not q.same_figures("Net revenue $ 14,158 $ 15,338", "Net revenue $ 15,338 $ 19,192")  # last year's
    assert not q.same_figures("Gross margin $ 6,018 42.5 %", "Operating margin $ 6,018 12.1 %")  # one amount


def test_a_label_may_hold_words_in_brackets() -> None:
    from desktop_rag.core.answer.tables import is_table_row

    assert is_table_row("Net income (loss) attributable to Intel $ 1,481 $ (454)")
    assert is_table_row("Operating income (loss) (8) (175)")


def test_sentences_wrapped_across_lines_are_quoted_whole() -> None:
    from desktop_rag.core.answer.quotes import unwrap

    wrapped = ("Total net sales increased 2% or $1.5 billion during the third quarter of 2022 compared to the "
               "same quarter, driven primarily by higher net sales of\nMac and Services.\n"
               "Products 63,355 64,809\nSegment Operating Performance\nThe Company reports segments.")
    lines = unwrap(wrapped).split("\n")
    assert lines[0].endswith("higher net sales of Mac and Services.")
    assert lines[1:] == ["Products 63,355 64,809", "Segment Operating Performance", "The Company reports segments."]
    # a sentence broken before a year, an amount or the end of a hyphenated word runs on too
    cut = ("Revenue from sales to customers outside of the United States accounted for 67% of revenue for "
           "fiscal years\n2024 and 2023, respectively, and we repurchased 8.3 million shares of our common stock "
           "for\n$8.2 billion, as the Form 10-\nK describes.")
    assert unwrap(cut) == cut.replace("\n$", " $").replace("years\n", "years ").replace("10-\n", "10-")
    # a long title is not a wrapped sentence: it was quoted glued to the heading and sentence below it
    titled = ("Management’s Discussion and Analysis of Financial Condition and Results of Operations\n"
              "Forward-Looking Statements\nThis Quarterly Report includes forward-looking statements.")
    assert unwrap(titled).split("\n")[2] == "This Quarterly Report includes forward-looking statements."
    capitals = ("UNREGISTERED SALES OF EQUITY SECURITIES, USE OF PROCEEDS, AND ISSUER PURCHASES OF EQUITY "
                "SECURITIES\nIssuer Purchases of Equity Securities")
    assert unwrap(capitals) == capitals
    # a sentence that cites a title still runs on
    cites = ("See Note 1, “Description of Business, Accounting Policies, and Supplemental Disclosures” of "
             "Item 1 of Part I, “Financial\nStatements” for more.")
    assert unwrap(cites) == cites.replace("\n", " ")
    texts = [c.text for c in candidates([passage(1, 2, 9, wrapped)])]
    assert texts[0].endswith("Mac and Services.")
    # a line opening on a name written in lower case ("iPhone") is no continuation: the table's last
    # row was quoted glued to the heading and the sentence below it
    table = ("Total net sales $ 81,797 $ 82,959 (1)% $ 293,787 $ 304,182 (3)%\niPhone\n"
             "iPhone net sales decreased during the third quarter due primarily to lower net sales from\n"
             "certain iPhone models.")
    assert unwrap(table).split("\n") == [
        "Total net sales $ 81,797 $ 82,959 (1)% $ 293,787 $ 304,182 (3)%", "iPhone",
        "iPhone net sales decreased during the third quarter due primarily to lower net sales from "
        "certain iPhone models."]
    # nor is a page's number below its last line: "... Profile strip option" / "249" was quoted as a row
    page_end = ("Custom named profiles have been stabilized in the 1.57 release. See the profiles chapter for "
                "more information. Profile strip option\n249")
    assert unwrap(page_end) == page_end


def test_only_table_rows_carry_column_headers() -> None:
    from desktop_rag.core.answer.tables import is_table_row

    assert is_table_row("Total net sales $ 82,959 $ 81,434 2 % $ 304,182")
    assert is_table_row("Net carrying amount 10,954")
    assert not is_table_row("Total net sales increased 2% or $1.5 billion during the third quarter of 2022")
    assert not is_table_row("We repurchased 46.2 million shares of our common stock for $6.0 billion.")


def test_a_line_introducing_a_list_gives_way_to_a_line_that_says_something() -> None:
    # "Share repurchase activity during the three months ended June 25, 2022 was as follows ...:" was quoted
    # before the sentence with the amount; a manual's "The files created by update-mime-database are:" likewise
    text = ("Share repurchase activity during the quarter was as follows:\n"
            "The Company repurchased shares of its common stock during the quarter for $6.0 billion.")
    quotes = quotes_on_page("What share repurchase activity was there during the quarter?", text)
    assert quotes and quotes[0].text.startswith("The Company repurchased shares")


def test_a_row_label_of_the_questions_commonest_word_earns_little() -> None:
    # "Cargo 1.46 (2020-08-27)", a changelog heading read as a row labelled "Cargo", was quoted first
    # for a question on git URLs: every line of the Cargo book says "Cargo", so the row held almost
    # none of the question's weight, yet its label was all question words
    page = ("Cargo 1.46 (2020-08-27)\nCargo builds the package with the default profile.\n"
            "Cargo reads the manifest of every member of the workspace.\n"
            "Cargo does not support shorthand git URLs like git@example.com:user/repo.git, write "
            "ssh://git@example.com/user/repo.git.\n"
            "Cargo caches the registry index in its home directory.")
    quotes = quotes_on_page("Cargo refuses my git dependency written as git@github.com:org/tool.git. What URL form "
                            "does Cargo want?", page)
    assert quotes and quotes[0].text.startswith("Cargo does not support shorthand git URLs")
    # a row whose label is what the question asks about still comes first
    assert quotes_for("What were Apple's total net sales?", frozenset({"apple"}))[0].text == "Total net sales 82,959"
