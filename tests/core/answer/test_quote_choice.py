"""Which lines become quotes: sentences are not scored as table rows, lines about earlier years
than the question's give way, contents pages and headings are never quoted."""

from __future__ import annotations

from fakes import HashEmbedder

from desktop_rag.core.answer.quotes import candidates, is_heading, select_quotes
from desktop_rag.core.types import Passage

REPURCHASES = (
    "Stock Repurchase Activity\n"
    "We repurchased 46.2 million shares of our common stock for $6.0 billion during the nine months ended "
    "September 30, 2022 under these programs.\n"
    "There were no repurchases of our common stock during the nine months ended September 30, 2023.\n"
    "As of September 30, 2023, we have $6.1 billion remaining under the repurchase program.\n")
CONTENTS = ("Table of Contents\n" + "\n".join(
    f"{title} {n}" for n, title in enumerate(
        ["Financial Statements", "Notes to Financial Statements", "Stock Repurchases", "Risk Factors",
         "Legal Proceedings", "Controls and Procedures", "Exhibits", "Signatures", "Market Risk"], 3)))
RESULTS_2022 = ("Results of Operations (In Millions)\nThree Months Ended\nQ3 2022 Q3 2021\n"
                "Net revenue $ 15,338 $ 19,192\nGross margin 6,535 10,746")
RESULTS_2023 = ("Results of Operations (In Millions)\nThree Months Ended\nQ3 2023 Q3 2022\n"
                "Net revenue $ 14,158 $ 15,338\nGross margin 6,018 6,535")
# one table restating each segment's row as growth and as a share of the total (Amazon's 10-Q, page 24)
SEGMENTS = ("Net Sales\nThree Months Ended June 30, Six Months Ended June 30,\n2022 2023 2022 2023\n"
            "Net Sales:\nNorth America $ 74,430 $ 82,546 $ 143,674 $ 158,926\n"
            "International 27,065 29,697 55,824 58,820\nAWS 19,739 22,140 38,182 43,494\n"
            "Year-over-year Percentage Growth (Decline):\nNorth America 10 % 11 % 10 % 11 %\n"
            "International (12) 10 (9) 5\nAWS 33 12 35 14\n"
            "Net sales mix:\nNorth America 61 % 61 % 60 % 61 %\nInternational 22 22 24 22\nAWS 17 17 16 17\n")
# a filing that calls its sales "revenue" (Microsoft's 10-Q), and sells securities too
REVENUE = ("Income Statements (In millions)\nThree Months Ended September 30, 2023 2022\n"
           "Total revenue 56,517 50,122\nRealized losses from sales of available-for-sale securities (25) (20)\n")
PAGES = {(1, 3): REVENUE, (1, 2): CONTENTS, (1, 16): REPURCHASES, (1, 24): SEGMENTS, (1, 30): RESULTS_2022, (1, 31): RESULTS_2023}
EMB = HashEmbedder()


def passage(number: int, page: int) -> Passage:
    text = PAGES[(1, page)]
    return Passage(number=number, doc_id=1, file="report.pdf", path="/d/report.pdf", page=page, page_end=page,
                   start_offset=0, end_offset=len(text), chunk_ids=(number,), text=text)


def quotes_for(question: str, pages: list[int]) -> list[str]:
    embedder = HashEmbedder()
    passages = [passage(n, page) for n, page in enumerate(pages, 1)]
    return [q.text for q in select_quotes(question, embedder.embed([question])[0], passages, embedder.embed,
                                          lambda doc_id, page: PAGES.get((doc_id, page)))]


def test_a_sentence_that_starts_like_a_table_row_is_scored_as_a_sentence() -> None:
    # "We repurchased 46.2 ..." is a label and a figure to a row pattern: scored as a row label
    # ("repurchased"), it outranked every other line whatever the question asked
    quotes = quotes_for("How much common stock did the company repurchase in 2023?", [16])
    assert quotes and "2022" not in quotes[0]
    assert any("2023" in q for q in quotes)


def test_lines_about_earlier_years_give_way_to_the_year_asked() -> None:
    assert "2022" in quotes_for("How much common stock was repurchased in 2022?", [16])[0]
    assert "2022" not in quotes_for("How much common stock was repurchased in FY2023?", [16])[0]


def test_rows_of_an_earlier_years_table_give_way_to_the_year_asked() -> None:
    # the rows name no year: their table's column headers do ("Q3 2022 Q3 2021")
    asked_2023 = quotes_for("What was net revenue in the third quarter of 2023?", [30, 31])
    asked_2022 = quotes_for("What was net revenue in the third quarter of 2022?", [30, 31])
    assert asked_2023[0].startswith("Net revenue $ 14,158") and asked_2022[0].startswith("Net revenue $ 15,338")


def test_contents_pages_and_headings_are_never_quoted() -> None:
    # "Stock Repurchases 5" is a row whose label is all question words: it led before contents
    # pages were passed over
    quotes = quotes_for("How much common stock was repurchased in 2023?", [2, 16])
    assert quotes and all(q not in CONTENTS for q in quotes)
    assert "Stock Repurchase Activity" not in quotes
    # a question that asks for the contents is shown them
    assert any(q in CONTENTS for q in quotes_for("Which page of the contents lists the financial statements?", [2]))


def test_headings_are_short_capitalised_lines_without_figures_or_a_full_stop() -> None:
    assert is_heading("Stock Repurchase Activity")
    assert is_heading("Legal and Regulatory Risks")
    assert not is_heading("Warranty period: two years")
    assert not is_heading("Total net sales 82,959")
    assert not is_heading("Revenue grew in Europe.")
    # a note's or a period's title is a title too; a contents line ends in its page number
    assert is_heading("Note 9 : Acquisitions and Divestitures") and is_heading("Fourth Quarter 2023 Guidance")
    assert not is_heading("Risk Factors 25") and not is_heading("Gross Margin 42.5%")


def test_naming_words_left_out_only_while_something_else_matches() -> None:
    # a short document whose first page answers: every question word also named it
    embedder = HashEmbedder()
    question = "How much common stock was repurchased in 2023?"
    passages = [passage(1, 16)]
    leave_out = frozenset({"common", "stock", "repurchased", "2023"})
    quotes = select_quotes(question, embedder.embed([question])[0], passages, embedder.embed,
                           lambda doc_id, page: PAGES.get((doc_id, page)), leave_out)
    assert quotes and any("2023" in q.text for q in quotes)


def test_a_running_header_is_not_joined_to_the_sentence_below_it() -> None:
    from desktop_rag.core.answer.running import line_key

    text = "Table of Contents\npayments of long-term debt and finance leases were $11.8 billion in the quarter.\n"
    page = Passage(number=1, doc_id=1, file="report.pdf", path="/d/report.pdf", page=24, page_end=24,
                   start_offset=0, end_offset=len(text), chunk_ids=(1,), text=text)
    question = "What payments of long-term debt were made?"
    quotes = select_quotes(question, EMB.embed([question])[0], [page], EMB.embed, lambda doc_id, number: text,
                           running=lambda doc_id: frozenset({line_key("Table of Contents")}))
    assert quotes and quotes[0].text.startswith("payments of long-term debt")
    assert text[quotes[0].start_offset:quotes[0].end_offset] == quotes[0].text  # still found on its page


def test_passages_on_the_statement_the_question_names_come_first_for_quoting() -> None:
    from desktop_rag.core.answer.answerer import _statements_first
    from desktop_rag.core.search.statements import statement_of_page

    texts = {16: REPURCHASES, 9: "Consolidated Statements of Cash Flows\nRepurchases of common stock (6,000)"}
    passages = [passage(1, 16), Passage(2, 1, "report.pdf", "/d/report.pdf", 9, 9, 0, 10, (2,), texts[9])]
    read = lambda doc_id, page: statement_of_page(texts[page])  # noqa: E731
    named = _statements_first("How much stock was repurchased, per the cash flow statement?", passages, read)
    assert [p.page for p in named] == [9, 16]
    assert [p.page for p in _statements_first("How much stock was repurchased?", passages, read)] == [16, 9]


def test_quotes_pass_over_the_pages_search_judged_boilerplate() -> None:
    # the answerer hands over search's own judgement of each page (kept in the store), so a page
    # is read for its kind once: here page 16 is judged boilerplate, whatever its text
    question = "How much common stock was repurchased in 2023?"
    passages = [passage(1, 16)]
    read = lambda doc_id, page: PAGES.get((doc_id, page))  # noqa: E731
    assert select_quotes(question, EMB.embed([question])[0], passages, EMB.embed, read)
    judged = select_quotes(question, EMB.embed([question])[0], passages, EMB.embed, read,
                           boilerplate=lambda doc_id, page: page == 16)
    assert judged == []


def test_a_line_scoring_three_quarters_of_the_best_is_quoted_too() -> None:
    # a manual's "Returns: Return the decoded length value, or -1 on indefinite length ..." scored 0.80 of
    # the best line and was left out; further quotes now need 0.75 of the best, not 0.85
    from desktop_rag.core.answer import quotes as q

    page = passage(1, 16)
    lines = [q._Candidate(text, page, 0) for text in ("best line here", "close second line", "distant third line")]
    chosen = q._best([(1.0, lines[0]), (0.8, lines[1]), (0.7, lines[2])])
    assert [c.text for c in chosen] == ["best line here", "close second line"]


def test_the_eighth_page_found_is_quoted_from() -> None:
    # NVIDIA's "Gross profit 13,400" sat beyond the sixth page search found
    pages = {n: f"Page {n} says the weather was mild and shipping was slow." for n in range(1, 8)}
    pages[8] = "Gross profit 13,400 3,177"
    found = [Passage(n, 1, "nvda.pdf", "/d/nvda.pdf", n, n, 0, len(t), (n,), t) for n, t in pages.items()]
    question = "What was the gross profit?"
    quotes = select_quotes(question, EMB.embed([question])[0], found, EMB.embed, lambda doc_id, page: pages[page])
    assert [q.text for q in quotes][:1] == ["Gross profit 13,400 3,177"]


DEBT_AND_LEASES = ("Long-term Debt\nNet carrying amount 10,954 10,953\n"
                   "Operating Leases\nTotal 2,120 1,988\nRight-of-use assets 1,900 1,800\n"
                   "Some of our agreements also limit how much debt we can take on.")


def quotes_for_page(question: str, text: str) -> list[str]:
    """The quotes for ``question`` from one more page of the report, holding ``text``."""
    PAGES[(1, 40)] = text
    try:
        return quotes_for(question, [40])
    finally:
        del PAGES[(1, 40)]


def test_a_table_row_is_read_with_the_title_above_it() -> None:
    # "Net carrying amount 10,954 10,953" shares no word with the question: its table's title does
    quotes = quotes_for_page("How much long-term debt did the company have?", DEBT_AND_LEASES)
    assert quotes[0] == "Net carrying amount 10,954 10,953"
    # the next title ends the first one's reach: the leases' total is not debt
    assert "Total 2,120 1,988" not in quotes


def test_a_table_row_restated_in_other_units_is_quoted_once() -> None:
    # "International" labels three rows of one table: amounts, growth, share of sales. All three
    # were quoted, the growth row first, and the amounts ("29,697") not at all
    quotes = quotes_for("How do revenues from international markets compare with the exchange rate risks?", [24])
    assert sum(q.startswith("International") for q in quotes) == 1
    assert "International 27,065 29,697 55,824 58,820" in quotes


def test_a_restated_row_is_quoted_once_when_the_question_asks_for_a_share_too() -> None:
    quotes = quotes_for("What share of net sales did International contribute?", [24])
    assert sum(q.startswith("International") for q in quotes) == 1


def test_a_question_about_sales_is_quoted_the_revenue_a_report_states() -> None:
    # "How has Microsoft's total net sales evolved?" was quoted losses "from sales of ... securities"
    assert quotes_for("How have net sales evolved over the quarters?", [3])[0].startswith("Total revenue")


def test_a_tables_column_headers_are_no_titles_for_its_rows() -> None:
    # the headers under "... were as follows:" ("Carrying Value at", "Effective") and period headers
    # ("Twelve Months Ended") took the title's place: the debt row lost "Long-Term Debt", and every
    # line below Amazon's cash flow table was read under "Twelve Months Ended"
    debt = ("Note 12 - Debt\nLong-Term Debt\nThe carrying value of our notes and their interest rates were as follows:\n"
            "Carrying Value at\nExpected\nRemaining Term\nEffective\nInterest Rate April 30, 2023\n(In millions)\n"
            "Net carrying amount 10,954 10,953\nCommercial Paper\nWe have a $575 million commercial paper program.")
    cash = ("Liquidity and Capital Resources\nCash flow information is as follows (in millions):\nThree Months Ended\n"
            "September 30,\nTwelve Months Ended\nSeptember 30,\n2021 2022 2021 2022\n"
            "Operating activities $ 7,313 $ 11,404 $ 54,671 $ 39,665\n"
            "Cash provided by operating activities was $7.3 billion and $11.4 billion for Q3 2021 and Q3 2022.")
    segments = "Segment Results\nNine Months Ended\n2022 2023\nNet sales by segment 1,000 2,000"
    pages = [Passage(1, 1, "r.pdf", "/d/r.pdf", 1, 1, 0, len(text), (1,), text) for text in (debt, cash, segments)]
    headings = {c.text: c.heading for c in candidates(pages)}
    assert headings["Net carrying amount 10,954 10,953"] == "Long-Term Debt"
    assert headings["We have a $575 million commercial paper program."] == "Commercial Paper"  # a title again
    assert headings["Operating activities $ 7,313 $ 11,404 $ 54,671 $ 39,665"] == "Liquidity and Capital Resources"
    assert headings["Cash provided by operating activities was $7.3 billion and $11.4 billion for Q3 2021 and "
                    "Q3 2022."] == "Liquidity and Capital Resources"
    assert headings["Net sales by segment 1,000 2,000"] == "Segment Results"


CASH_FLOWS = ("Liquidity and Capital Resources\nCash flow information is as follows (in millions):\n"
              "Three Months Ended September 30,\n2021 2022\nCash provided by (used in):\n"
              "Operating activities $ 7,313 $ 11,404\nInvesting activities (14,828) (15,608)\n"
              "Our principal sources of liquidity are cash flows generated from operations and our cash balances.\n"
              "Cash provided by (used in) operating activities was $7.3 billion and $11.4 billion for Q3 2021 and "
              "Q3 2022.\nWe made cash payments, net of acquired cash, related to acquisition activity of $654 million.")


def test_the_sentence_stating_a_quoted_rows_amount_in_words_is_quoted_after_it() -> None:
    # Amazon's "Operating activities $ 7,313 $ 11,404" was quoted alone: the sentence saying which
    # quarter "$11.4 billion" is scored under the bar for further quotes
    quotes = quotes_for_page("What cash flows from operations were disclosed?", CASH_FLOWS)
    assert quotes[0] == "Operating activities $ 7,313 $ 11,404"
    assert quotes[1].startswith("Cash provided by (used in) operating activities was $7.3 billion")
    assert len(quotes) <= 3


def test_a_sentence_with_a_matching_amount_about_another_item_is_no_restatement() -> None:
    # "... cash investments were in excess of $1.0 billion" followed a "Foreign currency" row because
    # one of the row's figures rounds to $1.0 billion; here the sentence is about investments, the row
    # about operating activities
    page = CASH_FLOWS.replace("Cash provided by (used in) operating activities was $7.3 billion and $11.4 billion",
                              "Cash flows disclosed for our investments were $7.3 billion and $11.4 billion")
    quotes = quotes_for_page("What cash flows from operations were disclosed?", page)
    assert quotes[0] == "Operating activities $ 7,313 $ 11,404"
    assert not any(q.startswith("Cash flows disclosed") for q in quotes)


def test_a_line_pointing_elsewhere_gives_way_to_a_line_that_answers() -> None:
    # Intel's forward-looking disclaimer named every word of "significant business acquisitions or
    # divestitures" and was quoted first; Microsoft's "Refer to Note 14 ..." led its legal quotes
    page = ("Forward-Looking Statements\nUnless specifically indicated otherwise, the forward-looking statements in "
            "this Form 10-Q do not reflect the potential impact of any divestitures, mergers, acquisitions, or other "
            "business combinations that have not been completed.\nNAND Memory Business\nOn December 29, 2021, we "
            "closed the first phase of our agreement with SK hynix to divest our NAND memory business for $9.0 "
            "billion.\nLegal Proceedings\nRefer to Note 14 – Contingencies of the Notes to Financial Statements for "
            "information regarding legal proceedings.\nAs of September 30, 2022, we accrued aggregate legal "
            "liabilities of $264 million.")
    quotes = quotes_for_page("Were there any significant business acquisitions or divestitures, for how much?", page)
    assert quotes[0].startswith("On December 29, 2021, we closed the first phase")
    quotes = quotes_for_page("What legal proceedings were disclosed, and what liabilities were accrued?", page)
    assert quotes[0].startswith("As of September 30, 2022, we accrued aggregate legal liabilities")


def test_lines_that_point_elsewhere() -> None:
    from desktop_rag.core.answer.quotes import _POINTER

    assert _POINTER.search("Refer to Note 14 – Contingencies of the Notes to Financial Statements.")
    assert _POINTER.search("For more details on the mem::forget problem, see the section on leaks.")
    assert _POINTER.search("This report should be read in conjunction with our 2022 Form 10-K.")
    assert _POINTER.search("Commitments and contingencies - see Note 13")
    # a pointer in brackets after a figure, what a reader will see, and other uses of the words are no pointers
    assert not _POINTER.search("Marketable securities included $13.1 billion (refer to Note 5, “Income Taxes”).")
    assert not _POINTER.search("After running next you should see “Hello, world!” printed on the console.")
    assert not _POINTER.search("You can also refer to items with generic parameters like Vec<T>.")
    assert not _POINTER.search("We see strong demand for data center products.")


def test_a_contents_entry_points_to_its_page() -> None:
    # NVIDIA's contents line "Management's Discussion ... of Operations 23" was quoted as a table row of one figure
    from desktop_rag.core.answer.quotes import _is_contents_entry

    assert _is_contents_entry("Management’s Discussion and Analysis of Financial Condition and Results of Operations 23")
    assert _is_contents_entry("Risk Factors 25")
    assert not _is_contents_entry("Research and development 12")  # a row: its label is no title
    assert not _is_contents_entry("Total Net Sales 82,959")  # an amount, no page number
    assert not _is_contents_entry("Revenue 23")  # one word: as likely a row


def test_the_parts_of_a_report_a_question_names_say_where_to_look_not_what() -> None:
    # "... debt instruments in the financial statements with the management discussion": Intel's investments
    # row "Financial institution instruments" matched two of its three label words and was quoted for debt
    page = ("Assets\nFinancial institution instruments 141 5,019 — 5,160\nLong-Term Debt\n"
            "Senior notes issued in the quarter, net of discount 11,000 —\nShort-term debt 2,700 —")
    quotes = quotes_for_page("Compare the debt instruments in the financial statements with the management "
                             "discussion on debt strategy.", page)
    assert quotes and not quotes[0].startswith("Financial institution instruments")
