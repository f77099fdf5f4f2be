"""Amounts in other units: a sentence's "$11.4 billion" is a table's "11,404" in millions."""

from __future__ import annotations

from desktop_rag.core.answer.units import (amounts_in, restates, same_amount, states_an_amount_of, stated_units,
                                           table_unit)


def test_the_units_an_answer_states_are_read_with_its_figures() -> None:
    found = stated_units("Revenue was $14.2 billion (up from 13,500 million); 250 thousand units; 30.0 Billion.")
    assert found == {"14.2": 1e9, "13500": 1e6, "250": 1e3, "30": 1e9}
    assert stated_units("Revenue rose 8% in 2023.") == {}


def test_a_tables_unit_is_read_from_its_columns() -> None:
    assert table_unit("in millions, except per share data | Three Months Ended") == 1e6
    assert table_unit("(In Thousands) | 2023 2022") == 1e3
    assert table_unit("Three Months Ended | September 30, 2023") is None


def test_an_amount_converts_at_the_precision_it_is_written_to() -> None:
    assert same_amount("11404", 1e6, "11.4", 1e9)
    assert not same_amount("29600", 1e6, "30.0", 1e9)  # stated to a tenth: 29.6 is not 30.0
    assert not same_amount("42", 1e9, "42", 1e9)  # under 100 in a table: per-share amounts, percentages


def test_a_sentence_restates_a_row_when_it_states_one_of_its_amounts_in_words() -> None:
    row = "Operating activities $ 7,313 $ 11,404"
    assert restates("Cash provided by operating activities was $7.3 billion and $11.4 billion.", row, 1e6)
    assert not restates("Cash used in investing activities was $15.6 billion.", row, 1e6)
    assert not restates("Operating activities rose 56% in the quarter.", row, 1e6)  # no unit word
    assert restates("We made payments of $7,313 million.", row, 1e6)


def test_the_amounts_a_sentence_states_leave_out_years_and_small_counts() -> None:
    assert amounts_in("Revenue was $1.5 billion in 2023, down $683 million; 12.8% of sales; 10 days; 14,158") == {
        "1.5": 1e9, "683": 1e6, "12.8": None, "14158": None}
    assert amounts_in("In Q3 2023 it had 3 segments.") == {}


def test_an_amount_a_line_states_in_any_unit_is_found() -> None:
    lines = [("Net revenue $ 14,158 $ 15,338", "In Millions, Except Per Share | Q3 2023 Q3 2022"),
             ("Revenue was 12,450 million dollars.", "")]
    assert states_an_amount_of("Net revenue was $14.2 billion.", lines)  # the row, in its table's unit
    assert states_an_amount_of("It was 14,158.", lines)
    assert states_an_amount_of("Revenue was $12.45 billion.", lines)  # a sentence's amount, in another unit word
    assert states_an_amount_of("Revenue was $12,450 million.", lines)
    assert states_an_amount_of("Revenue was $1.5 billion, up $683 million.", lines) is False
    assert states_an_amount_of("Revenue rose in 2023.", lines) is None  # states no amount
