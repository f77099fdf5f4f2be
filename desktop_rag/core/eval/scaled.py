"""A gold figure found in a quote written in another unit: the answer says "$14.2 billion", the quoted
table row says "Net revenue $ 14,158" under "(In Millions)".

The strict check (:func:`desktop_rag.core.eval.answers.figure_found`) needs the same digits on both
sides, so a quote of the very row the answer was read from counts as a miss whenever the answer
rounded it to billions. This check converts, and only where both sides state their unit: the figure
in the answer by the word after it ("billion", "million", "thousand"), the quoted row by the unit its
table states (``Quote.context``, "in millions, except per share data"). Figures under 100 in a
quote are not converted (per-share amounts and percentages sit in the same tables unscaled), and a
converted figure must round to the gold one at the gold figure's own precision.
"""

from __future__ import annotations

import re
from typing import Sequence

from desktop_rag.core.text import figures_in, normalize_figure
from desktop_rag.core.types import Quote

_FACTOR = {"thousand": 1e3, "million": 1e6, "billion": 1e9}
_STATED = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(thousand|million|billion)s?\b", re.IGNORECASE)
_TABLE_UNIT = re.compile(r"\bin (thousand|million|billion)s\b", re.IGNORECASE)
MIN_CONVERTED = 100


def stated_units(answer: str) -> dict[str, float]:
    """The answer's figures written with a unit word, normalized, and that unit's size:
    "$14.2 billion" gives {"14.2": 1e9}."""
    return {normalize_figure(m.group(1) + (m.group(2) or "")): _FACTOR[m.group(3).lower()]
            for m in _STATED.finditer(answer)}


def scaled_figure_found(figures: Sequence[str], answer: str, quotes: Sequence[Quote]) -> bool:
    """Whether a quote states one of the gold ``figures`` in its table's unit (see the module note)."""
    units = stated_units(answer)
    wanted = [(f.replace(",", ""), units[normalize_figure(f)]) for f in figures if normalize_figure(f) in units]
    for quote in quotes if wanted else ():
        unit = _TABLE_UNIT.search(quote.context)
        if not unit:
            continue
        factor = _FACTOR[unit.group(1).lower()]
        for number in figures_in(quote.text):
            if float(number) < MIN_CONVERTED:
                continue
            if any(round(float(number) * factor / size, _decimals(gold)) == float(gold) for gold, size in wanted):
                return True
    return False


def _decimals(figure: str) -> int:
    """Decimals as written: "30.0" billion is stated to a tenth, so 29,600 million is not it."""
    return len(figure.partition(".")[2])
