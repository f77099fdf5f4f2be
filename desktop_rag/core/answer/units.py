"""Amounts written in different units: a sentence says "$14.2 billion", the table row it restates says
"14,158" under "(In Millions)".

A figure in a sentence carries its unit in the word after it ("billion", "million", "thousand"); a
table row's figures carry the unit their table states ("in millions, except per share data"). One
converts to the other when it rounds to it at the precision it is written to ("30.0" billion is
stated to a tenth, so 29,600 million is not it). Figures under :data:`MIN_CONVERTED` in a row are
never converted: per-share amounts and percentages sit in the same tables unscaled.
"""

from __future__ import annotations

import re
from typing import Sequence

from desktop_rag.core.answer.tables import YEAR
from desktop_rag.core.text import figures_in, normalize_figure

UNIT_SIZE = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
_STATED = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(thousand|million|billion)s?\b", re.IGNORECASE)
_TABLE_UNIT = re.compile(r"\bin (thousand|million|billion)s\b", re.IGNORECASE)
MIN_CONVERTED = 100


def stated_units(text: str) -> dict[str, float]:
    """The figures of ``text`` written with a unit word, normalized, and that unit's size:
    "$14.2 billion" gives {"14.2": 1e9}."""
    return {normalize_figure(m.group(1) + (m.group(2) or "")): UNIT_SIZE[m.group(3).lower()]
            for m in _STATED.finditer(text)}


def table_unit(columns: str) -> float | None:
    """The size of the unit a table row's columns state ("in millions, except ..." gives 1e6); None
    when they state none."""
    match = _TABLE_UNIT.search(columns)
    return UNIT_SIZE[match.group(1).lower()] if match else None


def same_amount(number: str, unit: float, figure: str, size: float) -> bool:
    """Whether ``number`` in ``unit`` (a table's figure) is ``figure`` in ``size`` (a figure written
    with its unit word), rounded as ``figure`` is written."""
    return float(number) >= MIN_CONVERTED and round(float(number) * unit / size, _decimals(figure)) == float(figure)


def restates(sentence: str, row: str, unit: float) -> bool:
    """Whether ``sentence`` states one of the amounts of table ``row`` (whose table is in ``unit``) in
    words: "Cash provided by (used in) operating activities was $7.3 billion and $11.4 billion ..." for
    "Operating activities $ 7,313 $ 11,404" in millions."""
    stated = stated_units(sentence)
    return bool(stated) and any(same_amount(number, unit, figure, size)
                                for number in figures_in(row) for figure, size in stated.items())


def amounts_in(text: str) -> dict[str, float | None]:
    """The amounts ``text`` states, normalized, with the size of the unit word after each (None:
    none): figures of three digits or more, or with a decimal point, that are not years ("$1.5
    billion", "14,158", "12.8%"; not "2023", "Q3", "10 days")."""
    units = stated_units(text)
    return {f: units.get(f) for f in figures_in(text)
            if not YEAR.match(f) and ("." in f or len(f.lstrip("0")) >= 3 or f in units)}


def states_an_amount_of(sentence: str, lines: Sequence[tuple[str, str]]) -> bool | None:
    """Whether one of the amounts ``sentence`` states is one that a line of ``lines`` (text, its
    columns) states: the same figure, or the same amount in another unit ("$14.2 billion" for a row
    "14,158" whose columns say "In Millions", or for "$14,158 million"). None: it states no amount."""
    amounts = amounts_in(sentence)
    if not amounts:
        return None
    return any(amount_stated(figure, size, lines) for figure, size in amounts.items())


def amount_stated(figure: str, size: float | None, lines: Sequence[tuple[str, str]]) -> bool:
    """Whether a line of ``lines`` (text, its columns or any text stating its table's unit) states
    ``figure`` (normalized; ``size``: the unit word written after it, None for none), in any unit."""
    for text, columns in lines:
        if figure in figures_in(text):
            return True
        if size is not None and (in_table_unit(figure, size, text, columns)
                                 or any(_same_written(figure, size, f, s) for f, s in stated_units(text).items())):
            return True
    return False


def in_table_unit(figure: str, size: float, row: str, columns: str) -> bool:
    """Whether table ``row``, in the unit its ``columns`` state, holds ``figure`` written in ``size``
    ("14,158" under "In Millions" for "14.2" billion); False when the columns state no unit."""
    unit = table_unit(columns)
    return unit is not None and any(same_amount(n, unit, figure, size) for n in figures_in(row))


def _same_written(figure: str, size: float, other: str, other_size: float) -> bool:
    """Whether two amounts written with unit words are the same, each rounded as the other is
    written ("$12.45 billion" and "12,450 million"; "$14,158 million" and "$14.2 billion")."""
    return same_amount(figure, size, other, other_size) or same_amount(other, other_size, figure, size)


def _decimals(figure: str) -> int:
    return len(figure.partition(".")[2])
