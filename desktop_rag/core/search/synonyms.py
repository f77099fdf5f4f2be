"""The words reports use for what a question calls by another name.

Annual and quarterly reports label their figures in a house style that questions rarely repeat:
a question asks for "capital expenditure" and the cash flow statement says "Additions to
property, plant and equipment"; it asks for "R&D" and the income statement says "Research and
development"; it asks about "legal battles" or "lawsuits" and the report's section is "Legal
Proceedings". Search and quotes add the report's words for the names below (financial reporting
terms, their common abbreviations, the sections reports have) to the question's own; the
question's words still count.
"""

from __future__ import annotations

import re

_SYNONYMS: tuple[tuple[str, str], ...] = (
    (r"capital\s+expenditures?|capex|capital\s+spending",
     "additions purchases property plant equipment capital expenditures"),
    (r"r\s*&\s*d|research\s+and\s+development", "research development"),
    (r"sg\s*&\s*a", "selling general administrative"),
    (r"eps|earnings\s+per\s+share", "earnings per share diluted basic"),
    (r"cogs|cost\s+of\s+goods\s+sold", "cost of sales revenue goods sold"),
    (r"d\s*&\s*a", "depreciation amortization"),
    (r"gross\s+margin", "gross profit"),
    (r"gross\s+profit", "gross margin"),
    (r"pp\s*&\s*e", "property plant equipment"),
    (r"buybacks?|share\s+repurchases?|stock\s+repurchases?", "repurchases repurchased common stock"),
    (r"net\s+(?:income|profit|earnings)", "net income earnings"),
    (r"operating\s+cash\s+flows?|cash\s+(?:flows?\s+)?from\s+operations", "net cash provided operating activities"),
    (r"dividends?\s+paid|dividend\s+payments?", "dividends paid payments"),
    (r"operat(?:ing|ional)\s+(?:costs?|spending|expenditures?|outlays?)|operational\s+expenses?", "operating expenses"),
    (r"ticker(?:\s+symbols?)?|stock\s+symbols?", "trading symbol symbols"),
    (r"legal\s+(?:battles?|disputes?|issues?|actions?|matters?|challenges?)|lawsuits?|litigations?|sued",
     "legal proceedings litigation"),
    # ratios and measures a question names, by the lines of the statements they are worked out from
    (r"a/r|net\s+ar|ar\s+(?:balance|turnover|days)|receivables", "accounts receivable"),
    (r"a/p|ap\s+(?:balance|turnover|days)|payables|days\s+payable\s+outstanding|dpo", "accounts payable"),
    (r"opex", "operating expenses"),
    (r"ebitda", "operating income depreciation amortization"),
    (r"free\s+cash\s+flows?|fcf", "net cash provided operating activities purchases property equipment"),
    (r"working\s+capital|current\s+ratio", "total current assets liabilities"),
    (r"quick\s+ratio", "cash equivalents marketable securities accounts receivable total current liabilities"),
    (r"inventory\s+turnover", "cost of sales inventories"),
    (r"fixed\s+asset\s+turnover", "revenue property plant equipment net"),
    (r"return\s+on\s+assets|roa", "net income total assets"),
    (r"operating\s+margin", "operating income revenue"),
    (r"(?:net|profit)\s+margin", "net income revenue"),
    (r"(?:dividend\s+)?payout\s+ratio", "dividends net income"),
    (r"ceo", "chief executive officer"),
    (r"cfo", "chief financial officer"),
    (r"coo", "chief operating officer"),
)
# For quotes only. Microsoft, Intel and NVIDIA label what a question calls "total net sales" "Total revenue"
# or "Net revenue", and the lines quoted for it were about "sales of available-for-sale securities";
# search looking for "revenue" and "net sales" alike put the right page in the top five less often
# (SEC 0.773 -> 0.755). A debt note states "borrowings outstanding under the Credit Facility".
_QUOTE_SYNONYMS: tuple[tuple[str, str], ...] = ((r"sales", "revenue"), (r"debt", "borrowings"))


def _compiled(synonyms: tuple[tuple[str, str], ...]) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((re.compile(rf"\b(?:{pattern})\b", re.IGNORECASE), words) for pattern, words in synonyms)


_PATTERNS = _compiled(_SYNONYMS)
_QUOTE_PATTERNS = _PATTERNS + _compiled(_QUOTE_SYNONYMS)


def report_words(question: str, quoting: bool = False) -> list[str]:
    """Words reports use for the terms the question names ("capex" -> additions, property, ...),
    those the question does not already use, in order; ``quoting``: also those only quotes look for."""
    asked = set(re.findall(r"\w+", question.lower()))
    out: dict[str, None] = {}
    for pattern, words in _QUOTE_PATTERNS if quoting else _PATTERNS:
        if pattern.search(question):
            out.update((w, None) for w in words.split() if w not in asked)
    return list(out)


def with_report_words(question: str, quoting: bool = False) -> str:
    """The question followed by :func:`report_words` (for keyword search and, ``quoting``, quote scoring)."""
    extra = report_words(question, quoting)
    return f"{question} {' '.join(extra)}" if extra else question
