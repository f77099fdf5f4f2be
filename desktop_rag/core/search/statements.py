"""Financial statements a question points at, and the pages that hold them.

Questions about annual and quarterly reports often say where the answer is: "relying on the
details shown in the cash flow statement", "in American Express's balance sheet", "from the
income statement"; a stock's level ("inventory levels") is a balance, read on the balance sheet.
Reports title those pages differently ("Consolidated Statements of Operations", "Statement of
Financial Position", "Condensed Consolidated Statements of Cash Flows"), and the pages are mostly
figures, so neither keyword nor dense search ranks them by the question's words. A page whose title
(one of its first lines) names a statement is that statement's page; search ranks it up when the
question names the same statement.
"""

from __future__ import annotations

import re

TITLE_LINES = 8  # a statement's title is among the first lines of its page (after running headers)
MAX_TITLE_CHARS = 90

_COMPANY = (r"(?:[^\s].{0,60}?\b(?:and\s+subsidiaries|inc|corporation|corp|company|co|plc|ltd|limited|llc|group|"
            r"holdings|ag|s\.a|n\.v)\b\.?,?\s+)?")  # "3M Company and Subsidiaries Consolidated Statement of Income"
_PREFIX = _COMPANY + r"(?:(?:condensed|consolidated|interim|unaudited|combined|group|company)\s+)*"
_SUFFIX = r"\s*(?:\((?:unaudited|continued)\)\s*)*[.:]?$"
_TITLES = {
    "income": r"(?:statements?\s+of\s+(?:consolidated\s+)?(?:income|operations|earnings|(?:comprehensive\s+)?income"
              r"|profit\s+(?:and|or)\s+loss)|income\s+statements?"
              r"|profit\s+(?:and|or)\s+loss\s+(?:statements?|accounts?))"
              r"(?:\s+and\s+(?:other\s+)?comprehensive\s+income)?",
    "balance": r"(?:balance\s+sheets?|statements?\s+of\s+(?:consolidated\s+)?financial\s+(?:position|condition))",
    "cash": r"(?:statements?\s+of\s+(?:consolidated\s+)?cash\s+flows?|cash\s+flows?\s+statements?)",
    "equity": r"(?:statements?\s+of\s+(?:changes\s+in\s+)?(?:stockholders|shareholders|owners)['’]?\s+equity"
              r"|statements?\s+of\s+changes\s+in\s+equity)",
}
_TITLE = {kind: re.compile(rf"^\s*{_PREFIX}{pattern}{_SUFFIX}", re.IGNORECASE) for kind, pattern in _TITLES.items()}
_ASKED = {
    "income": re.compile(r"\b(?:income\s+statements?|statements?\s+of\s+(?:income|operations|earnings)|"
                         r"p\s*&\s*l|profit\s+(?:and|&)\s+loss(?:\s+statement)?)\b", re.IGNORECASE),
    # also the level of a stock: "inventory levels", "the level of cash" are balances
    "balance": re.compile(r"\b(?:balance\s+sheets?|statements?\s+of\s+financial\s+(?:position|condition)|"
                          r"(?:inventor(?:y|ies)|cash|debt|borrowings?)\s+levels?|"
                          r"levels?\s+of\s+(?:inventor(?:y|ies)|cash|debt))\b", re.IGNORECASE),
    "cash": re.compile(r"\b(?:cash\s+flows?\s+statements?|statements?\s+of\s+cash\s+flows?)\b", re.IGNORECASE),
    "equity": re.compile(r"\b(?:statements?\s+of\s+(?:changes\s+in\s+)?(?:stockholders|shareholders)['’]?\s+equity|"
                         r"equity\s+statements?)\b", re.IGNORECASE),
}


def statements_asked(question: str) -> frozenset[str]:
    """The kinds of statement the question names ("income", "balance", "cash", "equity")."""
    return frozenset(kind for kind, pattern in _ASKED.items() if pattern.search(question))


def statement_of_page(page_text: str) -> str:
    """The kind of statement the page holds, from its title; "" for any other page."""
    lines = [line.strip() for line in page_text.splitlines() if line.strip()][:TITLE_LINES]
    for line in lines:
        if len(line) > MAX_TITLE_CHARS:
            continue
        for kind, title in _TITLE.items():
            if title.match(line):
                return kind
    return ""
