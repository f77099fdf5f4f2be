"""Table rows in the text of a page: which lines are rows (a label, then figures), what their
columns are (the unit the table states and the header lines above a row), and when two rows say the
same thing. Quotes use them to score, show and de-duplicate the rows they quote."""

from __future__ import annotations

import re
from typing import Sequence

from desktop_rag.core.text import figures_in, normalize_figure

HEADER_LOOKBACK = 60  # a long statement: its last rows sit 50 lines below the header
HEADER_CHARS = 160
MAX_HEADER_WORDS = 14  # longer: a sentence introducing the table ("The following table shows ..."), no header
HEADER_LINES = 3
SHORT_HEADER_WORDS = 3  # "Three Months Ended" and "Twelve Months Ended" above "2022 2023 2022 2023"
_PERIOD = re.compile(r"\b(?:months? ended|weeks? ended|quarters? ended|year ended|fiscal|as of|"
                     r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"  # "Sep 30, 2023" too
                     r"\s+\d{1,2},?\s+(?:19|20)\d\d|(?:19|20)\d\d\s+(?:19|20)\d\d|"
                     r"(?:q[1-4]|ytd)\s+(?:19|20)\d\d\s+(?:q[1-4]|ytd)\s+(?:19|20)\d\d)", re.IGNORECASE)
_SCALE = re.compile(r"\bin\s+(?:thousands|millions|billions)\b(?! of)(?:,? except [^)\n:;]{1,60})?",
                    re.IGNORECASE)
# a label ("Net income (loss) attributable to Intel"), then its first figure, which stands apart: the "1" of a name
# ("asn1_node definitions = NULL;" in a manual, "H100 GPUs") is no figure
ROW = re.compile(r"^([A-Za-z](?:[^\d$€£(]|\((?=[A-Za-z])){1,80}?)\s*[$€£(]?\s*\(?(?<![A-Za-z0-9_])\d")
_FIRST_FIGURE = re.compile(r"\d[\d,]*(?:\.\d+)?")
_FOOTNOTE = re.compile(r"\(\d\)")
_PROSE_WORD = re.compile(r"[A-Za-z]{3,}")
MAX_ROW_WORDS = 3  # words after a table row's first figure ("% of net revenue"); more: a sentence
YEAR = re.compile(r"^(?:19|20)\d\d$")  # a figure that is a year
_PERCENTAGE = re.compile(r"\(?-?\d[\d,]*(?:\.\d+)?\)?\s*%")


def same_figures(a: str, b: str) -> bool:
    """Two lines stating the same figures (a total repeated in two tables) say the same thing; so
    do two rows with one label and one figure ("Common stock repurchased (6,000)" in the cash
    flow statement and again in the statement of equity), and two rows with one label and the same
    first figure ("Diluted $ 3.71 $ 0.27" on the income statement, "Diluted (2) $ 3.71 $ 0.27" in a
    note; "Net income $ 1,481 11.4 % ..." in the MD&A's table with percentages beside it)."""
    label_a, label_b = row_label(a), row_label(b)
    if label_a and label_a == label_b and first_figure(a) == first_figure(b) != "":
        return True
    amounts = _amounts(a)  # "Total net revenue $ 14,158 $ 15,338" and "Net revenue $ 14,158 100.0 % $ 15,338 100.0 %"
    if len(amounts) >= 2 and amounts == _amounts(b):
        return True
    figures = figures_in(a)
    if not figures or figures != figures_in(b):
        return False
    return len(figures) >= 2 or bool(label_a and label_a == label_b)


def _amounts(text: str) -> set[str]:
    """The amounts a line states, its percentages aside: a statement's row and the MD&A's
    restatement of it with each figure's share of revenue beside it state the same amounts."""
    return {f for f in figures_in(_PERCENTAGE.sub(" ", text)) if len(f.replace(".", "")) >= 3 and not YEAR.match(f)}


def row_label(text: str) -> str:
    """A table row's label, lower case, without footnote marks ("Diluted (2)" -> "diluted")."""
    match = ROW.match(text)
    return " ".join(_FOOTNOTE.sub(" ", match.group(1)).split()).lower() if match and is_table_row(text) else ""


def first_figure(text: str) -> str:
    """The first figure after a row's label, footnote marks aside ("Diluted (2) $ 3.71" -> 3.71)."""
    match = ROW.match(text)
    found = _FIRST_FIGURE.search(_FOOTNOTE.sub(" ", text[match.end(1):] if match else text))
    return normalize_figure(found.group()) if found else ""


def is_table_row(text: str) -> bool:
    """A label and then figures ("Total net sales $ 82,959 $ 81,434 2 %"), not a sentence that
    starts with a figure after a few words ("Total net sales increased 2% or $1.5 billion ...")."""
    match = ROW.match(text)
    return bool(match) and len(_PROSE_WORD.findall(text[match.end(1):])) <= MAX_ROW_WORDS


def holds_amounts(line: str) -> bool:
    """Whether the line states amounts (figures of three digits or more that are not years)."""
    return any(len(f.replace(".", "")) >= 3 and not YEAR.match(f) for f in figures_in(line))


def column_headers(page: str, offset: int) -> str:
    """What a table row's figures are: the unit its table states last above it ("in millions,
    except per share data": 14,158 is $14.2 billion), then the nearest lines above it (within
    :data:`HEADER_LOOKBACK` lines) that name periods ("Three Months Ended", "June 25, 2022"), joined."""
    above = _short_lines_joined(page[:offset].splitlines()[-HEADER_LOOKBACK:])
    headers = [" ".join(line.split())[:HEADER_CHARS] for line in above
               if _PERIOD.search(line) and not holds_amounts(line)]
    headers = headers[-HEADER_LINES:]
    scale = [" ".join(m.group().split()) for m in _SCALE.finditer(page[:offset])][-1:]
    if scale and scale[0].lower() in " ".join(headers).lower():  # "(In Millions) Q3 2023 Q3 2022"
        scale = []
    return " | ".join([*scale, *headers])


def _short_lines_joined(lines: Sequence[str]) -> list[str]:
    """Runs of short lines without amounts joined into one, and a line ending in a comma joined to
    the next: a header a PDF broke up ("June 25," / "2022" / "June 26," / "2021 Change") reads "June
    25, 2022 June 26, 2021 Change", and "April 30, January 29," / "2023 2023" reads "April 30,
    January 29, 2023 2023". A row group's label ("ASSETS", "Current assets:") and an aside in brackets
    ("(In millions)", whose unit is read apart) join nothing: "2023 2023 ASSETS Current assets:" was
    shown as a balance sheet row's columns. A line of more than :data:`MAX_HEADER_WORDS` words is a
    sentence, no header: it is left out."""
    out: list[str] = []
    joining = False
    for line in lines:
        text = line.strip()
        if len(text.split()) > MAX_HEADER_WORDS:
            joining = False
            continue
        group = text.endswith(":") or (text.isupper() and not _PERIOD.search(text)) or (
            text.startswith("(") and text.endswith(")"))  # an aside: "(In millions)", "(Unaudited)"
        joinable = bool(text) and not holds_amounts(text) and not group
        runs_on = joinable and (len(text.split()) <= SHORT_HEADER_WORDS or text.endswith(","))
        if joining and joinable and (runs_on or out[-1].rstrip().endswith(",")):
            out[-1] = f"{out[-1]} {text}"
        else:
            out.append(line)
        joining = runs_on
    return out
