"""Context recall and quote accuracy: a gold figure among the passages and among the quotes, as
written or in the unit of the quoted table."""

from __future__ import annotations

from desktop_rag.core.types import Passage, Quote


def quote(text: str, columns: str = "") -> Quote:
    return Quote(text, "intel.pdf", "/docs/intel.pdf", 6, 1, 0, len(text), 1, columns)


def passage(text: str) -> Passage:
    return Passage(1, 1, "intel.pdf", "/docs/intel.pdf", 6, 6, 0, len(text), (1,), text)


INCOME = "In Millions, Except Per Share Amounts | Three Months Ended | Sep 30, 2023 Oct 1, 2022"
ANSWER = "Intel reported total revenue of $14.2 billion, and diluted earnings of $0.07 per share."


def test_a_quoted_row_in_millions_holds_a_figure_stated_in_billions() -> None:
    from desktop_rag.core.eval.scaled import scaled_figure_found

    row = "Net revenue $ 14,158 $ 15,338 $ 38,822 $ 49,012"
    assert scaled_figure_found(["14.2"], ANSWER, [quote(row, INCOME)])
    assert not scaled_figure_found(["14.2"], ANSWER, [quote(row)])  # the quote states no unit: no conversion
    assert not scaled_figure_found(["14.2"], "Revenue was 14.2 percent higher.", [quote(row, INCOME)])
    assert not scaled_figure_found(["14.3"], ANSWER.replace("14.2", "14.3"), [quote(row, INCOME)])
    # stated to a tenth: 29,600 million is 29.6 billion, not "30.0 billion"
    assert not scaled_figure_found(["30.0"], "Capex of $30.0 billion.", [quote("Capex 29,600", "in millions")])
    assert scaled_figure_found(["30"], "Capex of $30 billion.", [quote("Capex 29,600", "in millions")])


def test_per_share_amounts_and_percentages_are_not_converted() -> None:
    from desktop_rag.core.eval.scaled import scaled_figure_found

    # 0.07 in a table "in millions, except per share" is $0.07, not $70,000
    assert not scaled_figure_found(["70"], "Earnings of 70 thousand dollars.", [quote("Diluted $ 0.07", INCOME)])


def test_context_records_recall_strict_and_scaled_quote_accuracy() -> None:
    from desktop_rag.core.eval.answers import context_record

    given = [passage("Net revenue $ 14,158 $ 15,338\nTotal revenue of $14.2 billion was down 8%.")]
    row = quote("Net revenue $ 14,158 $ 15,338", INCOME)
    record = context_record(["14.2"], given, [row], ANSWER)
    assert (record["context_recall"], record["quote_accuracy"], record["quote_accuracy_scaled"]) == (1.0, 0.0, 1.0)
    assert record["quotes"][0]["columns"] == INCOME
    sentence = quote("Total revenue of $14.2 billion was down 8%.")
    record = context_record(["14.2"], given, [sentence], ANSWER)
    assert (record["quote_accuracy"], record["quote_accuracy_scaled"]) == (1.0, 1.0)
    record = context_record(["14.2"], [passage("Revenue fell.")], [], ANSWER)
    assert (record["context_recall"], record["quote_accuracy"], record["quote_accuracy_scaled"]) == (0.0, 0.0, 0.0)


def test_the_first_quote_is_checked_against_the_gold_pages_with_or_without_figures() -> None:
    from desktop_rag.core.eval.answers import context_record
    from desktop_rag.core.eval.report import context_table

    row = quote("Net revenue $ 14,158 $ 15,338", INCOME)  # /docs/intel.pdf, page 6
    record = context_record([], [passage("Net revenue $ 14,158")], [row], gold_pages={("/docs/intel.pdf", 6)})
    assert record["first_quote_on_gold_page"] == 1.0 and "quote_accuracy" not in record
    assert context_record([], [], [row], gold_pages={("/docs/intel.pdf", 7)})["first_quote_on_gold_page"] == 0.0
    assert context_record([], [], [], gold_pages={("/docs/intel.pdf", 6)})["first_quote_on_gold_page"] == 0.0
    assert "first_quote_on_gold_page" not in context_record(["14.2"], [], [row], ANSWER)
    data = {"context": {"count": 3, "mode": "hybrid", "variant": "current", "counts": {"first_quote_on_gold_page": 3},
                        "metrics": {"first_quote_on_gold_page": 2 / 3}}}
    text = "\n".join(context_table(data))
    assert "first_quote_on_gold_page" in text and "0.667" in text and "3 with gold pages" in text


def test_the_report_shows_both_quote_accuracies() -> None:
    from desktop_rag.core.eval.report import context_table

    data = {"context": {"count": 2, "mode": "hybrid", "variant": "current",
                        "metrics": {"context_recall": 1.0, "quote_accuracy": 0.5, "quote_accuracy_scaled": 1.0}}}
    text = "\n".join(context_table(data))
    assert "quote_accuracy_scaled" in text and "0.500" in text and "1.000" in text and "in its table's unit" in text
    older = {"context": {**data["context"], "metrics": {"context_recall": 1.0, "quote_accuracy": 0.5}}}
    assert "quote_accuracy_scaled" not in "\n".join(context_table(older))  # results saved before it existed


def test_a_figure_that_is_no_plain_number_is_found_as_written() -> None:
    from desktop_rag.core.eval.answers import figure_found

    # a manual's answers: a version, a flag bit, a return value
    assert figure_found(["4.19.0"], "This manual is for GNU Libtasn1 (version 4.19.0, 18 August 2022)")
    assert figure_found(["0x100"], "a case-sensitive glob sets the 0x100 flag")
    assert figure_found(["-1"], "it returns -1 for the indefinite form")
    assert not figure_found(["-1"], "see section 1-1 of part 2")
    assert not figure_found(["4.19.0"], "version 4.19.01")
    assert figure_found(["82959"], "Total net sales $ 82,959")
