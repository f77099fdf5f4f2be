"""The one to three sentences or table rows of the retrieved passages that best answer the question.

Quotes are copied verbatim from the passages, so they are right by construction even when the small
chat model misreads them: the user sees the evidence first, with its file and page, and can open
the page with the quote highlighted. Each line of a passage is a candidate (a table row keeps its
label next to its figures: "Total net sales 82,959 97,278"), long lines are split into sentences.
A candidate scores by meaning (cosine similarity to the question) and by the question's words it
holds; when the question asks for an amount, candidates that hold a figure score higher.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from desktop_rag.core.answer.running import line_key, without_running_lines
from desktop_rag.core.answer.tables import (ROW, YEAR, column_headers, holds_amounts, is_table_row, row_label,
                                            same_figures)
from desktop_rag.core.answer.units import restates, table_unit
from desktop_rag.core.search.boilerplate import asks_for_boilerplate, is_boilerplate
from desktop_rag.core.search.synonyms import with_report_words
from desktop_rag.core.text import (STOPWORDS, content_terms, figures_in, longer_words, query_terms, split_sentences,
                                   title_cased)
from desktop_rag.core.types import Passage, Quote

MAX_QUOTES = 3
MAX_CANDIDATES = 400
EMBED_LIMIT = 96  # lines embedded per question, those sharing most words with it
QUOTE_PAGES = 8  # quotes come from the whole text of the first eight pages found
MIN_WORDS = 3
MAX_HEADING_WORDS = 10
MAX_QUOTE_CHARS = 400
CONTEXT_LINES = 3  # lines above a quoted table row given to the model with it
MIN_SCORE = 0.35  # the best candidate below this: no quote (search found nothing that answers)
# a sentence stating a quoted row's amount in words joins it at this share of the best score ("... was $11.4
# billion" for "11,404" in millions; 0.4 quoted the same, 0.6 one right figure fewer: docs/PERFORMANCE.md)
RESTATED_SHARE = 0.5
KEEP_SHARE = 0.75  # further quotes must score at least this share of the best (0.85 showed fewer answering lines)
FIGURE_BONUS = 0.15
OLDER_YEAR_PENALTY = 0.1
INTRO_PENALTY = 0.1  # a line ending in a colon introduces what answers ("... was as follows:"); it says none of it
# a line that points elsewhere ("Refer to Note 14 – Contingencies ... for information regarding legal proceedings")
# or disclaims ("... the forward-looking statements in this Form 10-Q do not reflect ... divestitures") answers
# nothing: of 243 such lines among the scored lines of the five eval sets, one held a gold figure, by chance
POINTER_PENALTY = 0.3
_POINTER = re.compile(
    # not a pointer in brackets after what a sentence states ("... $13.1 billion ... (refer to Note 5)"), nor
    # what a reader will see ("you should see “Hello, world!” printed")
    r"(?<!\()(?<!should )(?<!will )(?<!would )(?<!you )(?<!can )(?<!may )(?<!to )"
    r"\b(?:see|refers?\s+to)(?:\s+also)?\s+(?:(?:notes?|part|item|section|chapter|exhibit|appendix|page|"
    r"the\s+(?:section|notes?|discussion|caption))\b|[\"“'])"
    r"|\bread in conjunction with\b|\bforward-looking statements?\b|\bincorporated\s+(?:herein\s+)?by\s+reference\b",
    re.IGNORECASE)
# a column header that looks like a title ("Twelve Months Ended"): the rows below it keep the title above it
_PERIOD_HEADER = re.compile(r"\b(?:months?|weeks?|quarters?|years?) ended\b", re.IGNORECASE)
# a part of a report a question names to say where to look ("compare the debt instruments in the financial
# statements with the management discussion"), not what: every line of a statement or of the MD&A is in it
_PART_OF_REPORT = re.compile(r"\b(?:(?:condensed\s+)?(?:consolidated\s+)?financial\s+statements?|management(?:'s|’s)?"
                             r"\s+discussion(?:\s+and\s+analysis)?|md&a|notes\s+section|the\s+notes)\b", re.IGNORECASE)
_CONTENTS_ENTRY = re.compile(r"^([^\d$€£%]+?)\s+\d{1,3}$")  # a title, then a page number
_YEAR_IN_TEXT = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")  # also inside "FY2023"
SEMANTIC_SHARE = 0.5
ROW_LABEL_SHARE = 0.8
# a row label earns its share in full only when the row and its title hold this share of the question's word
# weight, in part below: "Cargo 1.46 (2020-08-27)" is all question words in a book where every line says "Cargo"
LABEL_FULL_WEIGHT = 0.1
_NOTICE = re.compile(r"(?:©|copyright\b|all rights reserved)", re.IGNORECASE)  # "© 2023 NVIDIA Corporation."
WRAP_MIN_CHARS = 80  # a line this long that stops mid-sentence was wrapped
_STOP_STEMS = {w[:5] for w in STOPWORDS} | {"total", "net"}
STEM_CHARS = 5  # words compare on their first letters: "expenses" matches "expense"
_WORD = re.compile(r"[a-z0-9]+")
# a line that starts with a lower-case word runs on from the line above; "iPhone", "eBay" are names that start a line
_LOWER_WORD = re.compile(r"[a-z][^\sA-Z]*(?:\s|$)")
_ASKS_AMOUNT = re.compile(
    r"\b(?:how (?:much|many)|what (?:was|were|is|are) (?:the )?(?:total|amount|number|value|percentage|rate)|"
    r"percentage|percent|amount|total|revenue|sales|income|margin|cost|costs|expenses?|price|rate|ratio|"
    r"cash|debt|earnings|dividend|eps|figure|number of|how (?:big|large|high|low)|scale|extent|size|magnitude|"
    r"how significant|substantial|considerable|sizable|reserve|provision|accrual|accrued|"
    r"changes? in|increase|decrease|growth|grew|spending|spend|"
    # quantities manuals, specifications and brochures state: "what priority range ...", "the maximum length"
    r"range|maximum|minimum|limit|length|how (?:long|often|far|fast|old|heavy)|duration|capacity|threshold|"
    r"frequency|speed|weight|height|width|depth|temperature|voltage|power|resolution|version)s?\b",  # "revenues"
    re.IGNORECASE,
)
# asks for a share or a change in per cent, which a row of percentages states ("Services 70.5 % 71.5 %")
_ASKS_RATIO = re.compile(r"\b(?:percent(?:age)?s?|share|proportion|ratio|rates?|growth|grew|margins?)\b|%",
                         re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class _Candidate:
    text: str
    passage: Passage
    rank: int
    heading: str = ""  # the title above it on its page ("Long-term Debt" above "Net carrying amount 10,954")


def asks_for_amount(question: str) -> bool:
    return bool(_ASKS_AMOUNT.search(question))


def _stems(text: str) -> set[str]:
    return {w[:STEM_CHARS] for w in _WORD.findall(text.lower())}


def _has_figure(text: str) -> bool:
    return any(not YEAR.match(f) and (len(f) > 1 or "." in f) for f in figures_in(text))


def _label_share(text: str, asked: set[str]) -> float:
    """For a table row, the share of its label's words ("Research and development", "Effective
    tax rate") that the question uses (0 for other lines). Rows are mostly figures, so their
    meaning and their share of the question's words say little; their label says what they are."""
    match = ROW.match(text)
    if not match or not is_table_row(text):  # "We repurchased 46.2 million shares ..." is a sentence
        return 0.0
    label = {w for w in _stems(match.group(1)) if not w.isdigit()} - _STOP_STEMS
    return len(label & asked) / len(label) if label else 0.0


def _word_scores(pool: Sequence[_Candidate], terms: Sequence[str]) -> list[tuple[float, float]]:
    """(share of the question's words a line or the title above it holds, weighted by rarity; row-label
    share) per line."""
    stems = [_stems(c.text) | _stems(c.heading) for c in pool]
    weights = _rarity({t[:STEM_CHARS] for t in terms}, stems)
    total = sum(weights.values())
    asked = _stems(" ".join(terms))
    return [(sum(w for t, w in weights.items() if t in words) / total, _label_share(c.text, asked))
            for c, words in zip(pool, stems)]


def _rarity(wanted: set[str], pool: Sequence[set[str]]) -> dict[str, float]:
    """Weights of the question's words: a word found in every candidate says little about which
    one answers ("quarter" in a quarterly report), one found in few says much ("iPhone")."""
    n = len(pool)
    return {t: math.log(1 + n / (1 + sum(1 for words in pool if t in words))) for t in wanted}


def page_passages(passages: Sequence[Passage], page_text: Callable[[int, int], str | None],
                  pages: int, skip: Callable[[int, int], bool] = lambda doc_id, page: False) -> list[Passage]:
    """The whole text of the first ``pages`` distinct pages the passages come from, in rank order:
    a table's answering row is often on the page but outside the passage that matched. Pages
    ``skip(doc id, page)`` refuses (a table of contents) are passed over."""
    out: list[Passage] = []
    seen: set[tuple[int, int]] = set()
    for p in passages:
        for number in range(p.page, p.page_end + 1):
            if (p.doc_id, number) in seen or len(out) >= pages:
                continue
            seen.add((p.doc_id, number))
            if skip(p.doc_id, number):
                continue
            text = page_text(p.doc_id, number) or ""
            out.append(Passage(p.number, p.doc_id, p.file, p.path, number, number, 0, len(text), p.chunk_ids, text,
                               p.label if number == p.page else ""))
    return out


def candidates(passages: Sequence[Passage],
               running: Callable[[int], frozenset[str]] = lambda doc_id: frozenset()) -> list[_Candidate]:
    """Lines and sentences of the passages, in passage order, long enough to say something, other
    than the document's running headers and footers (``running(doc_id)``: their line keys). Titles are
    no candidates; each candidate keeps the last title above it on its page."""
    found: list[_Candidate] = []
    seen: set[str] = set()
    for rank, passage in enumerate(passages):
        repeated = running(passage.doc_id)
        heading, announced = "", False
        # running lines go before lines are joined: "Table of Contents" above a wrapped sentence
        # was joined to it and the result quoted
        for unit in split_sentences(unwrap(without_running_lines(passage.text, repeated))):
            unit = " ".join(unit.split())
            if line_key(unit) in repeated or not any(c.isalpha() for c in unit):
                continue
            if is_heading(unit):  # never quoted; it lends its words to the lines below it ("Long-term Debt")
                if not (announced or _PERIOD_HEADER.search(unit)):
                    heading = unit
                continue
            # "... were as follows:" announces a table: the title-like lines after it are its column headers
            # ("Carrying Value at", "Effective"), and the rows keep the title above ("Long-Term Debt")
            announced = unit.endswith(":")
            if len(unit.split()) < MIN_WORDS or len(unit) > MAX_QUOTE_CHARS or unit in seen or _NOTICE.match(unit):
                continue
            seen.add(unit)
            found.append(_Candidate(unit, passage, rank, heading))
    return found[:MAX_CANDIDATES]


def is_heading(text: str) -> bool:
    """A title ("Stock Repurchase Activity", "Legal and Regulatory Risks"): short, no figures, no
    closing punctuation, its longer words capitalised. It names what follows; it answers nothing."""
    words = text.split()
    if len(words) > MAX_HEADING_WORDS or text.rstrip()[-1:] in ".!?:;,0123456789" or holds_amounts(text) \
            or "%" in text:  # "Fourth Quarter 2023 Guidance" is a title; "Risk Factors 25", a contents line
        return False
    return title_cased(text)


def select_quotes(
    question: str,
    question_vector: np.ndarray,
    passages: Sequence[Passage],
    embed: Callable[[Sequence[str]], np.ndarray],
    page_text: Callable[[int, int], str | None],
    leave_out: frozenset[str] = frozenset(),
    running: Callable[[int], frozenset[str]] = lambda doc_id: frozenset(),
    boilerplate: Callable[[int, int], bool] | None = None,
) -> list[Quote]:
    """Up to three quotes from the pages of ``passages`` (the first :data:`QUOTE_PAGES`), best
    first. ``question_vector``: the question's embedding; ``leave_out``: words that only named the
    document ("Apple", "Q2"), which every line of it would match; ``boilerplate(doc id, page)``:
    whether a page is a contents page or the like (search knows; by default its text is read)."""
    asks_for_parts = asks_for_boilerplate(set(query_terms(question)))
    if asks_for_parts:
        boilerplate = lambda doc_id, page: False  # noqa: E731 - "which exhibits ...": they answer
    elif boilerplate is None:
        boilerplate = lambda doc_id, page: is_boilerplate(page_text(doc_id, page) or "")  # noqa: E731
    pool = candidates(page_passages(passages, page_text, QUOTE_PAGES, boilerplate), running)
    asked = _asked(question, asks_for_parts)
    terms = content_terms(asked, leave_out) or content_terms(asked)
    if not pool or not terms:
        return []
    words = _word_scores(pool, terms)
    if leave_out and not any(max(w) > 0 for w in words):  # the naming words were all it asked about
        words = _word_scores(pool, content_terms(asked) or terms)
    # Only lines that share a word with the question are embedded (the costly part): a line with
    # none cannot reach MIN_SCORE on meaning alone with this embedder.
    shortlist = sorted((i for i, w in enumerate(words) if max(w) > 0), key=lambda i: max(words[i]),
                       reverse=True)[:EMBED_LIMIT]
    if not shortlist:
        return []
    similarity = embed([_meaning(pool[i]) for i in shortlist]) @ question_vector
    scored = _scored(question, [(pool[i], words[i], float(sim)) for i, sim in zip(shortlist, similarity)])
    prefer_amounts = asks_for_amount(question) and not _ASKS_RATIO.search(question)
    ranked = _one_row_per_table(scored, prefer_amounts)
    return _with_restatement([_quote(c, page_text) for c in _best(ranked)], ranked, page_text)


def _asked(question: str, asks_for_parts: bool) -> str:
    """The question as quotes score it: with the words reports use for its terms ("capex" also asks for
    "additions to property ..."), without the parts of the report it names to say where to look ("in the
    financial statements"), unless it asks for those parts ("Which page lists the financial statements?")
    or names nothing else."""
    asked = with_report_words(question, quoting=True)
    where_left_out = _PART_OF_REPORT.sub(" ", asked)
    return asked if asks_for_parts or not content_terms(where_left_out) else where_left_out


def _meaning(cand: _Candidate) -> str:
    """What is embedded for a candidate: a table row under its title ("Long-term Debt: Net carrying
    amount 10,954 10,953"; the row alone says little), any other line as it is (sentences under their
    titles too measured worse: SEC first quotes on a gold page 40 of 110 instead of 41)."""
    return f"{cand.heading}: {cand.text}" if cand.heading and is_table_row(cand.text) else cand.text


def _scored(question: str, shortlist: Sequence[tuple[_Candidate, tuple[float, float], float]]
            ) -> list[tuple[float, _Candidate]]:
    """(score, candidate), best first, for each (candidate, (word share, row-label share), similarity)."""
    amount = asks_for_amount(question)
    asked_years = _years(question)
    scored = []
    for cand, (lexical, label), sim in shortlist:
        score = SEMANTIC_SHARE * sim + (1 - SEMANTIC_SHARE) * lexical
        if label:
            label *= min(1.0, lexical / LABEL_FULL_WEIGHT)
            score = max(score, ROW_LABEL_SHARE * label + (1 - ROW_LABEL_SHARE) * sim)
        score -= 0.01 * cand.rank + _penalty(cand.text)
        if amount and _has_figure(cand.text):
            score += FIGURE_BONUS
        if asked_years and _about_earlier_years(_with_columns(cand), asked_years):  # columns read only then
            score -= OLDER_YEAR_PENALTY
        scored.append((score, cand))
    scored.sort(key=lambda sc: sc[0], reverse=True)
    return scored


def _penalty(text: str) -> float:
    """What a line loses for saying nothing itself: introducing a list or table, pointing elsewhere (a
    contents entry points to its page)."""
    points = _POINTER.search(text) or _is_contents_entry(text)
    return (INTRO_PENALTY if text.endswith(":") else 0.0) + (POINTER_PENALTY if points else 0.0)


def _is_contents_entry(text: str) -> bool:
    """A title and the page it starts on ("Management's Discussion and Analysis of Financial Condition and
    Results of Operations 23"), read as a table row of one figure: a contents page search did not flag.
    Narrower than search's contents line (``boilerplate._CONTENTS_LINE``), which also takes a date at the
    end of a line ("Version 1.3, 3 November 2008") for a page number: one line is no page of them."""
    match = _CONTENTS_ENTRY.match(text)
    return bool(match) and len(longer_words(match.group(1))) >= 2 and title_cased(match.group(1))


def _years(text: str) -> set[int]:
    return {int(y) for y in _YEAR_IN_TEXT.findall(text)}


def _about_earlier_years(text: str, asked: set[int]) -> bool:
    """Whether a line names years, all before every year the question asks about: "we repurchased
    ... during the nine months ended September 30, 2022" when the question asks about 2023 (a
    quarterly report states last year's figures beside this year's). A later year is not held
    against a line: fiscal years run ahead of calendar ones ("fiscal 2024" for a 2023 quarter)."""
    years = _years(text)
    return bool(asked and years) and max(years) < min(asked)


def _with_columns(cand: _Candidate) -> str:
    """A candidate's text, and for a table row also its column headers: a row of last year's table
    ("Net revenue $ 15,338 $ 19,192" under "Q3 2022 Q3 2021") names its years only there."""
    if not is_table_row(cand.text):
        return cand.text
    found = _find(cand.passage.text, cand.text)
    return f"{cand.text} {column_headers(cand.passage.text, found[0])}" if found else cand.text


def _best(scored: Sequence[tuple[float, _Candidate]]) -> list[_Candidate]:
    """Up to :data:`MAX_QUOTES` of the candidates (best first), none stating the same figures as
    one before it, each within :data:`KEEP_SHARE` of the best; none when the best is too weak."""
    best = scored[0][0]
    if best < MIN_SCORE:
        return []
    chosen: list[_Candidate] = []
    for s, cand in scored[:MAX_QUOTES * 2]:
        if len(chosen) == MAX_QUOTES or s < KEEP_SHARE * best:
            break
        if not any(same_figures(cand.text, c.text) for c in chosen):
            chosen.append(cand)
    return chosen


def _with_restatement(quotes: list[Quote], ranked: Sequence[tuple[float, _Candidate]],
                      page_text: Callable[[int, int], str | None]) -> list[Quote]:
    """``quotes`` with, after the first quoted table row whose table states a unit, the best sentence
    that states one of the row's amounts in words, if it scores :data:`RESTATED_SHARE` of the best. The
    row gives the figures; the sentence says which period they are, as the report wrote it ("Cash
    provided by (used in) operating activities was $7.3 billion and $11.4 billion for Q3 2021 and Q3
    2022" for "Operating activities $ 7,313 $ 11,404 ..." in millions). The sentence must share a word
    with the row's label: "... cash investments were in excess of $1.0 billion" restates no "Foreign
    currency" row, whatever figure of it rounds to $1.0 billion. The quotes stay at most three."""
    for k, row in enumerate(quotes):
        unit = table_unit(row.context) if row.context else None  # only a table row carries its columns
        if unit is None:
            continue
        bar = RESTATED_SHARE * ranked[0][0]
        label = _stems(row_label(row.text)) - _STOP_STEMS  # the sentence must be about the row's item too
        quoted = {q.text for q in quotes}
        said = next((c for s, c in ranked if s >= bar and not is_table_row(c.text) and c.text not in quoted
                     and label & _stems(c.text) and restates(c.text, row.text, unit)), None)
        return quotes if said is None else [*quotes[:k + 1], _quote(said, page_text), *quotes[k + 1:]][:MAX_QUOTES]
    return quotes


def _one_row_per_table(scored: Sequence[tuple[float, _Candidate]], prefer_amounts: bool
                       ) -> list[tuple[float, _Candidate]]:
    """``scored`` with one row of each label per table: a page's table restates its rows in other
    units ("International 27,065 29,697", then "International (1) 10 0 10" for growth and "22 22"
    for a share), which quoted together say one thing three times. The best-scoring row stays, in
    its place; when the question asks for an amount and not a share, the row stating amounts does."""
    keys = [_table_row_key(cand) for _, cand in scored]
    groups: dict[tuple[int, int, str, str], list[_Candidate]] = {}
    for key, (_, cand) in zip(keys, scored):
        if key is not None:
            groups.setdefault(key, []).append(cand)
    out = []
    for key, (s, cand) in zip(keys, scored):
        if key is not None:
            group = groups[key]
            if group[0] is not cand:
                continue
            if prefer_amounts and not holds_amounts(cand.text):
                cand = next((c for c in group if holds_amounts(c.text)), cand)
        out.append((s, cand))
    return out


def _table_row_key(cand: _Candidate) -> tuple[int, int, str, str] | None:
    """A row's table, as far as lines tell (its page and the title above it), and its label; None for
    a line that is no table row."""
    label = row_label(cand.text)
    return (cand.passage.doc_id, cand.passage.page, cand.heading, label) if label else None


def _is_title_line(line: str) -> bool:
    """Every longer word capitalised: a title ("Management's Discussion and Analysis of Financial
    Condition and Results of Operations"), however long, is not a sentence wrapped onto the next line."""
    if len(longer_words(line)) < 2:
        return False
    # all capitals ("UNREGISTERED SALES OF EQUITY SECURITIES, USE OF PROCEEDS, AND ...") is a title
    # even with commas; otherwise commas and quotation marks are a sentence citing one
    return line.isupper() or title_cased(line) and not any(c in line for c in ',"“”(')


def unwrap(text: str) -> str:
    """Lines of a paragraph joined back into sentences: a line that runs on in lower case, or a
    long line that stops mid-sentence (on a word or a comma) before one that starts with a word.
    A line opening on a name written in lower case ("iPhone", the heading below a table's last row
    "Total net sales $ 81,797 ... (3)%") starts anew: row, heading and sentence were quoted as one."""
    lines = text.split("\n")
    out = lines[:1]
    for line in lines[1:]:
        previous, current = out[-1].rstrip(), line.lstrip()
        nxt = current[:1]
        if previous and previous[-1] not in ".!?:;" and _LOWER_WORD.match(current):  # not after a blank line
            out[-1] = f"{previous} {current}"
            continue
        runs_on = previous[-1:].isalpha() or previous[-1:] in ",-"
        # "... for the first quarter of fiscal years" / "2024 and 2023." and "Form 10-" / "K" run on too;
        # a bare number is a page's number ("... Profile strip option" / "249" was quoted as a table row)
        if len(previous) >= WRAP_MIN_CHARS and runs_on and not _is_title_line(previous) and (
                nxt.isalpha() or (nxt.isdigit() or nxt in "$€£") and previous[-1:].islower()
                and not current.strip().isdigit()):
            out[-1] = f"{previous}{'' if previous.endswith('-') else ' '}{current}"
        else:
            out.append(line)
    return "\n".join(out)


def _quote(cand: _Candidate, page_text: Callable[[int, int], str | None]) -> Quote:
    """The quote with where it sits on its page (character offsets), for highlighting."""
    p = cand.passage
    found = _find(p.text, cand.text) or (0, 0)
    context = column_headers(p.text, found[0]) if is_table_row(cand.text) and found[1] else ""
    return Quote(cand.text, p.file, p.path, p.page, p.doc_id, found[0], found[1], p.number, context, p.label)


def quoted_passages(quotes: Sequence[Quote], passages: Sequence[Passage],
                    page_text: Callable[[int, int], str | None]) -> list[Passage]:
    """``passages`` led by a short passage for each quote none of them holds (the quoted line and
    the lines just above it, which often name a table's columns), so the model reads what the
    user is shown first."""
    extra: list[Passage] = []
    for q in quotes:
        if any(p.doc_id == q.doc_id and p.page <= q.page <= p.page_end and q.text in " ".join(p.text.split())
               for p in passages):
            continue
        text = page_text(q.doc_id, q.page) or ""
        start = _line_start(text, q.start_offset, CONTEXT_LINES)
        extra.append(Passage(0, q.doc_id, q.file, q.path, q.page, q.page, start, q.end_offset, (),
                             text[start:q.end_offset], q.label))
    return [*extra, *passages]


def passage_of(quote: Quote, passages: Sequence[Passage]) -> int:
    """The [n] of the passage that holds the quote (0 when none does)."""
    for p in passages:
        if p.doc_id == quote.doc_id and p.page <= quote.page <= p.page_end and quote.text in " ".join(p.text.split()):
            return p.number
    return 0


def _line_start(text: str, offset: int, lines: int) -> int:
    start = offset
    for _ in range(lines + 1):
        start = text.rfind("\n", 0, max(start - 1, 0)) + 1
        if start == 0:
            break
    return start


def _find(page: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` (whitespace collapsed, a word broken after its hyphen joined: "10-K") appears in
    ``page``, as (start, end) offsets."""
    words = quote.split()
    pattern = r"\s+".join(re.escape(w).replace(r"\-", r"-\s*") for w in words)
    match = re.search(pattern, page)
    return (match.start(), match.end()) if match else None
