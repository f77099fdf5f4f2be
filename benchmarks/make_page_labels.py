"""Derive page-level gold labels for the SEC 10-Q questions (``qna_data.csv``).

The corpus labels each question with documents only (``Source Docs``, a glob). This script pins the
questions whose glob names exactly one PDF to pages, so retrieval can be scored per page. It needs
only pypdfium2 and the standard library, and gives the same output on every run.

How a label is derived:

1. Each page's text is extracted with pypdfium2 (page N = physical page index + 1).
2. *Figures* of the answer (its ``SOURCE(S):`` trailer and ``(SOURCE: ...)`` notes removed): numbers
   such as ``$82,959 million``, ``4.5%``, ``1.23``, normalised by dropping ``$``, thousands commas and
   ``%``. Left out: years 1990-2035, single digits, day numbers of dates, list markers ("2. ") and
   numbers after "Note", "Item", "Part" and the like. A figure matches a page holding the same number
   as a separate token, normalised the same way; ``$23.198 billion`` also matches ``23,198`` and
   ``102,673,000`` shares also ``102,673`` (tables in millions / thousands).
3. *Phrases*: maximal spans of 4+ words of the answer found verbatim on a page (lower-case words,
   punctuation and spacing ignored), and quoted names of 2-3 words. A span needs two words that are not
   stop words or date/period words ("three months ended June 30" is everywhere). A span that stops at
   an answer figure the page does not hold is the same sentence written for another amount or period
   (Note 7 says "repurchased 365 million shares" where the answer has 102 million) and is not counted.
4. Items found on many pages are not evidence: a figure of 2 digits on more than 2 pages, of 3 digits
   or a phrase on more than 4, of 4+ digits on more than 6, a short quoted name on more than 2. Tables
   of contents and the cross-reference index never count.
5. A page scores the weight of the items it holds (a figure of 3+ digits and a phrase of 12+ words
   weigh 2, other items 1). Gold: the top pages, ties included, plus pages one point behind a top of 5
   or more (the same table in the notes and in the MD&A); then a page scoring at least 60% of the top
   when it adds items of weight 2+ that the chosen pages lack (a table plus the text discussing it).
6. A question is kept when 1-3 pages are gold and the evidence on them is meaningful: a figure of 4+
   digits (or of 3 digits found on at most 2 pages), a phrase of 12+ words, or two items one of which
   is found on the gold pages only.

Limits: labels come from string matching, not from a reader. A figure the answer computed or rounded
("25.93%", "$14.2 billion" for 14,158) matches nothing; an answer assembled from more than three
pages keeps only its best one to three; the same wording written for another name (the North America
segment described like the International one) can pass as evidence; an answer saying "not disclosed"
is pinned to the page whose wording it repeats. Multi-document questions are not labelled.
``benchmarks/data/sec_page_labels_checked.md`` records a hand check.

Output (JSONL, one object per kept question): ``question``, ``answer``, ``docs`` (the one file name),
``pages`` ([{"file", "page"}]), ``figures`` (normalised figures of the answer found on the gold pages,
in the form the page prints them), ``kind`` and ``type`` (Question Type; the app's loader reads
``type``), ``csv_line`` (line of the record in qna_data.csv).

Usage: ``python benchmarks/make_page_labels.py [--corpus DIR] [--out FILE]``
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = Path(os.environ.get("DESKTOP_RAG_CORPUS", HERE.parent.parent / "shared" / "corpus" / "sec-10-q"))
DEFAULT_OUT = HERE / "data" / "sec_page_labels.jsonl"

PHRASE_WORDS = 4        # shortest phrase, in words
LONG_PHRASE_WORDS = 12  # a phrase this long counts as two items
MAX_PAGES = 3           # most gold pages a kept question may have
NEAR_TOP = 0.6          # a page scoring this share of the top score may join the gold pages
MAX_DF_SHORT = 2        # a figure of two digits counting as evidence is on at most this many pages
MAX_DF = 4              # a phrase or a figure of three digits: at most this many pages
MAX_DF_LONG = 6         # a figure of four digits or more: at most this many pages

MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december"
          "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w]|[.,]\d|-\w)")
DATE_BEFORE = re.compile(rf"\b(?:{MONTHS})\.?\s*$", re.I)
DATE_AFTER = re.compile(r"^,?\s*(?:19|20)\d\d\b")
LABEL_BEFORE = re.compile(r"\b(?:note|notes|item|part|section|rule|form|page|level|tier|schedule)\s*$", re.I)
LIST_MARKER = re.compile(r"(?:^|\n)\s*$")
WORD = re.compile(r"[a-z0-9]+")
QUOTED = re.compile(r"\"([^\"]{3,80})\"")
SOURCE_TRAILER = re.compile(r"\n\s*SOURCE\(?S?\)?:.*\Z", re.S | re.I)
SOURCE_NOTE = re.compile(r"\((?:SOURCE:)?\s*\"?[^()]*\.pdf\"?\)", re.I)
TOC_HEAD = re.compile(r"^\s*pages?\s*$", re.I | re.M)
TOC_CROSS = re.compile(r"cross-reference index", re.I)
TOC_LINE = re.compile(r"\D\s\d{1,3}\s*$", re.M)
BILLIONS = re.compile(r"^\s*billion", re.I)
STOP = frozenset(
    "a an and are as at be been by for from has have in is it its of on or that the this to was were "
    "which with our we their its than also other such these those during not no per".split())
PERIOD = frozenset(
    f"{MONTHS} ended ending months month quarter quarters quarterly three six nine twelve first second third "
    "fourth fiscal year years period periods q form 10 as of compared same prior".replace("|", " ").split())
PUNCT = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2014": "-",
                       "\u2013": "-", "\ufffe": "-", "\xa0": " ", "\u00ad": "-"})


@dataclass(frozen=True)
class Page:
    """The text of one page, as tokens for figure and phrase matching."""

    number: int
    numbers: frozenset[str]
    words: tuple[str, ...]
    grams: frozenset[tuple[str, ...]]
    is_toc: bool


@dataclass(frozen=True)
class Figure:
    """A figure of the answer: its normalised value, the forms it may take on a page, and its place."""

    value: str
    forms: frozenset[str]
    start: int
    end: int


@dataclass
class Item:
    """One piece of answer evidence (a figure or a phrase) and the pages holding it."""

    kind: str  # "figure" or "phrase"
    text: str
    weight: int
    pages: set[int] = field(default_factory=set)
    forms: frozenset[str] = frozenset()  # a figure's forms on a page

    def digits(self) -> int:
        return sum(ch.isdigit() for ch in self.text)


# ------------------------------------------------------------------ text


def fix_text(text: str) -> str:
    """Undo the UTF-8-read-as-cp1252 damage in the CSV (``â€™``), and map typographic marks to ASCII."""
    def repair(match: re.Match[str]) -> str:
        try:
            return match.group().encode("cp1252").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return match.group()
    return re.sub(r"[\u00c2-\u00e2][\u0080-\u203a\u20ac\u2122]+", repair, text).translate(PUNCT)


def normalise_number(token: str) -> str:
    """``$82,959`` -> ``82959``; ``4.5%`` -> ``4.5``."""
    return token.strip("$%").replace(",", "")


def words(text: str) -> tuple[str, ...]:
    """Lower-case word tokens, punctuation dropped (``82,959`` gives ``82`` ``959``)."""
    return tuple(WORD.findall(text.lower()))


def ngrams(tokens: tuple[str, ...], n: int) -> set[tuple[str, ...]]:
    """All runs of ``n`` consecutive tokens."""
    return {tokens[i:i + n] for i in range(len(tokens) - n + 1)}


def read_page(number: int, text: str) -> Page:
    """Tokens of one page's text."""
    text = fix_text(text)
    tokens = words(text)
    numbers = frozenset(normalise_number(m.group(1)) for m in NUMBER.finditer(text))
    return Page(number, numbers, tokens, frozenset(ngrams(tokens, PHRASE_WORDS)), is_contents(text))


def is_contents(text: str) -> bool:
    """A table of contents or cross-reference index: a "Page" heading and lines ending in page numbers."""
    head = TOC_HEAD.search(text) or TOC_CROSS.search(text[:300])
    return bool(head) and len(TOC_LINE.findall(text)) >= 6


def read_pdf(path: Path) -> list[Page]:
    """Every page of a PDF, numbered from 1."""
    pdf = pypdfium2.PdfDocument(str(path))
    try:
        return [read_page(i + 1, pdf[i].get_textpage().get_text_range()) for i in range(len(pdf))]
    finally:
        pdf.close()


# ------------------------------------------------------------------ answer evidence


def answer_body(answer: str) -> str:
    """The answer without its source notes, which name files and sections rather than facts."""
    body = SOURCE_TRAILER.sub("", fix_text(answer))
    return SOURCE_NOTE.sub("", body)


def is_figure(text: str, match: re.Match[str]) -> bool:
    """Whether a number in the answer is a figure (not a year, a single digit, a date, a list marker
    or the number of a note or item)."""
    token = match.group(1)
    value = normalise_number(token)
    is_year = value.isdigit() and len(value) == 4 and "," not in token and 1990 <= int(value) <= 2035
    if "." not in value and (len(value) == 1 or is_year):
        return False
    before, after = text[max(0, match.start() - 20):match.start()], text[match.end():match.end() + 8]
    if DATE_BEFORE.search(before) or (DATE_AFTER.match(after) and "." not in value and len(value) <= 2):
        return False
    if LABEL_BEFORE.search(before):
        return False
    return not (LIST_MARKER.search(before) and re.match(r"[.)]\s", after))


def figure_forms(value: str, after: str) -> frozenset[str]:
    """The forms a figure may take in a filing: as written, and ``$23.198 billion`` as ``23198`` (millions)
    or ``102,673,000`` shares as ``102673`` (thousands)."""
    forms = {value}
    whole, _, decimals = value.partition(".")
    if len(decimals) == 3 and BILLIONS.match(after):
        forms.add(str(int(whole + decimals)))
    if not decimals and len(whole) >= 7 and whole.endswith("000"):
        forms.add(whole[:-3])
    return frozenset(forms)


def answer_figures(body: str) -> list[Figure]:
    """The figures of the answer, in order of appearance (repeats included, with their places)."""
    found = []
    for match in NUMBER.finditer(body):
        if is_figure(body, match):
            value = normalise_number(match.group(1))
            forms = figure_forms(value, body[match.end():match.end() + 12])
            found.append(Figure(value, forms, match.start(), match.end()))
    return found


def phrase_spans(answer: tuple[str, ...], page: Page) -> list[tuple[int, int]]:
    """Maximal spans of answer words (start, end) of at least PHRASE_WORDS words found on the page."""
    spans: list[tuple[int, int]] = []
    i, n = 0, PHRASE_WORDS
    while i <= len(answer) - n:
        if answer[i:i + n] not in page.grams:
            i += 1
            continue
        end = i + n
        while end < len(answer) and _on_page(answer[i:end + 1], page):
            end += 1
        spans.append((i, end))
        i = end
    return spans


def _on_page(tokens: tuple[str, ...], page: Page) -> bool:
    """Whether the word sequence occurs on the page (checked as overlapping 4-grams, then exactly)."""
    if tokens[-PHRASE_WORDS:] not in page.grams:
        return False
    joined = " " + " ".join(tokens) + " "
    return joined in " " + " ".join(page.words) + " "


def is_content(tokens: tuple[str, ...]) -> bool:
    """A phrase says something when at least two of its words are neither stop words, numbers, nor
    words of a date or period ("three months ended June 30" is in every statement)."""
    return sum(1 for t in tokens if t not in STOP and t not in PERIOD and not t.isdigit()) >= 2


def is_template(span: tuple[int, int], offsets: list[int], figures: list[Figure], page: Page) -> bool:
    """Whether the page has the wording around a figure of the answer but not the figure: the same
    sentence written for another period or amount ("repurchased 365 million shares" for "102 million")."""
    start, end = span
    places = [offsets[i] for i in (start - 1, end) if 0 <= i < len(offsets)]
    return any(f.start <= at < f.end and not (f.forms & page.numbers) for f in figures for at in places)


def figure_items(figures: list[Figure], pages: list[Page]) -> list[Item]:
    """One item per distinct figure, with the pages holding one of its forms."""
    items: dict[str, Item] = {}
    for f in figures:
        if f.value not in items:
            weight = 2 if sum(ch.isdigit() for ch in f.value) >= 3 else 1
            found = {p.number for p in pages if f.forms & p.numbers}
            items[f.value] = Item("figure", f.value, weight, found, f.forms)
    return list(items.values())


def phrase_items(body: str, figures: list[Figure], pages: list[Page]) -> list[Item]:
    """Spans of the answer found verbatim on pages, and quoted names of two or three words."""
    matches = list(WORD.finditer(body.lower()))
    tokens, offsets = tuple(m.group() for m in matches), [m.start() for m in matches]
    phrases: dict[str, Item] = {}
    for page in pages:
        for span in phrase_spans(tokens, page):
            words_ = tokens[span[0]:span[1]]
            if is_content(words_) and not is_template(span, offsets, figures, page):
                key, weight = " ".join(words_), 2 if len(words_) >= LONG_PHRASE_WORDS else 1
                phrases.setdefault(key, Item("phrase", key, weight)).pages.add(page.number)
    for quoted in QUOTED.findall(body):
        key = " ".join(words(quoted))
        if 2 <= len(key.split()) < PHRASE_WORDS and is_content(tuple(key.split())) and key not in phrases:
            found = {p.number for p in pages if f" {key} " in " " + " ".join(p.words) + " "}
            phrases[key] = Item("phrase", key, 1, found)
    return _drop_nested(list(phrases.values()))


def collect_items(answer: str, pages: list[Page]) -> list[Item]:
    """Figures and phrases of the answer, each with the pages that hold it."""
    body = answer_body(answer)
    figures = answer_figures(body)
    return figure_items(figures, pages) + phrase_items(body, figures, pages)


def _drop_nested(phrases: list[Item]) -> list[Item]:
    """Phrases inside a longer phrase on the same pages add nothing; keep the longer one."""
    kept = []
    for item in phrases:
        if not any(o is not item and f" {item.text} " in f" {o.text} " and item.pages <= o.pages for o in phrases):
            kept.append(item)
    return kept


# ------------------------------------------------------------------ choosing pages


def evidence(items: list[Item], pages: dict[int, Page]) -> list[Item]:
    """Items found on a few pages (tables of contents not counted): the rest is common wording."""
    kept = []
    for item in items:
        item.pages = {n for n in item.pages if not pages[n].is_toc}
        limit = MAX_DF
        if item.kind == "figure":
            limit = MAX_DF_SHORT if item.digits() <= 2 else MAX_DF_LONG if item.digits() >= 4 else MAX_DF
        elif len(item.text.split()) < PHRASE_WORDS:  # a short quoted name
            limit = MAX_DF_SHORT
        if 0 < len(item.pages) <= limit:
            kept.append(item)
    return kept


def page_scores(items: list[Item]) -> Counter[int]:
    """Page number -> summed weight of the items on the page."""
    scores: Counter[int] = Counter()
    for item in items:
        for number in item.pages:
            scores[number] += item.weight
    return scores


def choose_pages(items: list[Item]) -> list[int]:
    """The top-scoring pages, ties and near ties included (a page one short phrase behind a top score
    of 5 or more: the same table in the notes and in the MD&A). Then pages scoring at least NEAR_TOP
    of the top that add evidence of weight 2 or more not on the pages already chosen (an answer drawn
    from a table and from the text discussing it)."""
    scores = page_scores(items)
    top = max(scores.values())
    chosen = sorted(n for n, s in scores.items() if s == top or (top >= 5 and s >= top - 1))
    for number, score in sorted(scores.items(), key=lambda ns: (-ns[1], ns[0])):
        if number in chosen or score < NEAR_TOP * top or len(chosen) >= MAX_PAGES:
            continue
        new = sum(i.weight for i in items if number in i.pages and not i.pages & set(chosen))
        if new >= 2:
            chosen.append(number)
    return sorted(chosen)


def is_meaningful(items: list[Item], gold: list[int]) -> bool:
    """Evidence on the gold pages is a strong item (a figure of 4+ digits, or of 3 digits found on at most
    two pages; a phrase of 12+ words), or two items or more of which one is found on the gold pages
    only (not two stock phrases found all over)."""
    on_gold = [i for i in items if i.pages & set(gold)]
    return any(is_strong(i) for i in on_gold) or (
        len(on_gold) >= 2 and any(i.pages <= set(gold) for i in on_gold))


def is_strong(item: Item) -> bool:
    """A figure of 4+ digits, one of 3 digits on at most two pages, or a phrase of 12+ words."""
    if item.kind == "phrase":
        return item.weight > 1
    return item.digits() >= 4 or (item.digits() == 3 and len(item.pages) <= 2)


def label(answer: str, pages: list[Page]) -> tuple[list[int], list[str], str]:
    """Gold pages, the figures on them, and why a question is dropped ('' when kept)."""
    by_number = {p.number: p for p in pages}
    items = evidence(collect_items(answer, pages), by_number)
    if not items:
        return [], [], "no evidence"
    gold = choose_pages(items)
    if len(gold) > MAX_PAGES:
        return gold, [], "too many pages tie"
    if not is_meaningful(items, gold):
        return gold, [], "weak evidence"
    return gold, gold_figures(items, [by_number[n] for n in gold]), ""


def gold_figures(items: list[Item], gold: list[Page]) -> list[str]:
    """The answer's figures found on the gold pages, each in the form the page prints it."""
    printed = frozenset().union(*(p.numbers for p in gold))
    found = [sorted(i.forms & printed)[0] for i in items if i.kind == "figure" and i.forms & printed]
    return list(dict.fromkeys(found))


# ------------------------------------------------------------------ questions


def read_questions(csv_path: Path) -> list[tuple[int, dict[str, str]]]:
    """Records of qna_data.csv with the line each starts on (as the app's CSV loader counts them)."""
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader)]
        out, start = [], reader.line_num + 1
        for row in reader:
            out.append((start, dict(zip(header, row))))
            start = reader.line_num + 1
    return out


def single_doc(glob: str, names: list[str]) -> str | None:
    """The one file a Source Docs glob names, or None when it names several (or none)."""
    specs = [s.strip().lower() for s in glob.split(",") if s.strip()]
    found = sorted({n for n in names for s in specs if fnmatch.fnmatchcase(n.lower(), s)})
    return found[0] if len(found) == 1 else None


def record(line: int, row: dict[str, str], name: str, gold: list[int], figures: list[str]) -> dict[str, object]:
    """One JSONL object; ``type`` repeats ``kind`` because the app's question loader reads ``type``."""
    kind = row.get("Question Type", "").strip()
    return {"question": row["Question"].strip(), "answer": row["Answer"].strip(), "docs": [name],
            "pages": [{"file": name, "page": p} for p in gold], "figures": figures,
            "kind": kind, "type": kind, "csv_line": line}


def build(corpus: Path) -> tuple[list[dict[str, object]], Counter[str], int]:
    """Labelled records, counts of the reasons questions were dropped, and the single-doc count."""
    docs = corpus / "docs"
    names = sorted(p.name for p in docs.glob("*.pdf"))
    cache: dict[str, list[Page]] = {}
    kept: list[dict[str, object]] = []
    dropped: Counter[str] = Counter()
    singles = 0
    for line, row in read_questions(corpus / "qna_data.csv"):
        name = single_doc(row["Source Docs"], names)
        if name is None:
            continue
        singles += 1
        if name not in cache:
            cache[name] = read_pdf(docs / name)
        pages = cache[name]
        gold, figures, why = label(row["Answer"], pages)
        if why:
            dropped[why] += 1
        else:
            kept.append(record(line, row, name, gold, figures))
    return kept, dropped, singles


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder with docs/ and qna_data.csv")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSONL file to write")
    args = parser.parse_args(argv)
    kept, dropped, singles = build(args.corpus)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as handle:
        for rec in kept:
            handle.write(json.dumps(rec, ensure_ascii=False) + "\n")
    counts = Counter(len(r["pages"]) for r in kept)  # type: ignore[arg-type]
    print(f"single-document questions: {singles}")
    reasons = ", ".join(f"{k}: {v}" for k, v in sorted(dropped.items()))
    print(f"kept: {len(kept)}  dropped: {sum(dropped.values())} ({reasons})")
    print("gold pages per kept question: " + ", ".join(f"{k}: {counts[k]}" for k in sorted(counts)))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
