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

from typing import Sequence

from desktop_rag.core.answer.units import in_table_unit, stated_units
from desktop_rag.core.text import normalize_figure
from desktop_rag.core.types import Quote


def scaled_figure_found(figures: Sequence[str], answer: str, quotes: Sequence[Quote]) -> bool:
    """Whether a quote states one of the gold ``figures`` in its table's unit (see the module note)."""
    units = stated_units(answer)
    wanted = [(f.replace(",", ""), units[normalize_figure(f)]) for f in figures if normalize_figure(f) in units]
    return any(in_table_unit(gold, size, quote.text, quote.context) for quote in quotes for gold, size in wanted)
