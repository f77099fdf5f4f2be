"""Derive page-level gold labels for the SEC 10-Q questions (``qna_data.csv``).

The corpus labels each question with documents only (``Source Docs``, a glob). This script pins the
single-document questions to pages, so retrieval can be scored per page.

How a label is derived, per question whose glob matches exactly one PDF:

1. Each page's text is extracted with pypdfium2 (page N = physical page index + 1).
2. From the answer (minus its ``SOURCE(S):`` trailer and ``(SOURCE: ...)`` notes) the script takes
   *figures*: numbers such as ``$82,959 million``, ``4.5%``, ``1.23``, normalised by dropping ``$``,
   thousands commas and ``%``. Years (1990-2035), single digits, list markers, day numbers of dates
   and numbers after "Note"/"Item"/"Part" are left out. A figure matches a page when the page has the
   same number as a separate token, normalised the same way.
3. It also takes *phrases*: spans of at least 4 words of the answer (or quoted text) that occur on a
   page verbatim, compared as lower-case words with punctuation and spacing ignored.
4. An item that occurs on many pages of the document is not evidence (a two-digit figure on more than
   two pages, a longer figure or a phrase on more than four). The table of contents is never gold.
5. Each page scores the number of items it holds (a phrase of 12+ words counts 2); the pages with the
   top score (ties included) are gold. A question is kept when 1-3 pages are gold and the evidence is
   meaningful: at least two items, or one figure of four or more digits.

Limits: labels come from string matching, not from a reader. A figure the answer computed or rounded
("25.93%", "$7.1 billion" for 7,127) matches nothing; a figure repeated in several statements gives
ties (up to three pages are kept); an answer that says "not found" may still be pinned to the page its
other figures come from; multi-document questions are not labelled. See
``benchmarks/data/sec_page_labels_checked.md`` for a hand check.

Usage: ``python benchmarks/make_page_labels.py [--corpus DIR] [--out FILE]``
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pypdfium2

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "corpus" / "sec-10-q"
DEFAULT_OUT = HERE / "data" / "sec_page_labels.jsonl"

PHRASE_WORDS = 4        # shortest phrase, in words
LONG_PHRASE_WORDS = 12  # a phrase this long counts as two items
MAX_PAGES = 3           # most gold pages a kept question may have
MAX_DF_SHORT = 2        # a two-digit figure counting as evidence is on at most this many pages
MAX_DF = 4              # any other item counting as evidence is on at most this many pages

MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december"
          "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w]|[.,]\d|-\w)")
DATE_BEFORE = re.compile(rf"\b(?:{MONTHS})\.?\s*$", re.I)
DATE_AFTER = re.compile(r"^,?\s*(?:19|20)\d\d\b")
LABEL_BEFORE = re.compile(r"\b(?:note|notes|item|part|section|rule|form|page|level|tier|schedule)\s*$", re.I)
LIST_MARKER = re.compile(r"(?:^|\n)\s*$")
WORD = re.compile(r"[a-z0-9]+")
QUOTED = re.compile(r"\"([^\"]{8,200})\"")
SOURCE_TRAILER = re.compile(r"\n\s*SOURCE\(?S?\)?:.*\Z", re.S | re.I)
SOURCE_NOTE = re.compile(r"\((?:SOURCE:)?\s*\"?[^()]*\.pdf\"?\)", re.I)
TOC = re.compile(r"table of contents|\bindex\b", re.I)
STOP = frozenset(
    "a an and are as at be been by for from has have in is it its of on or that the this to was were "
    "which with our we their its than also other such these those during not no per".split())
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


@dataclass
class Item:
    """One piece of answer evidence (a figure or a phrase) and the pages holding it."""

    kind: str  # "figure" or "phrase"
    text: str
    weight: int
    pages: set[int] = field(default_factory=set)

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
    return {tokens[i:i + n] for i in range(len(tokens) - n + 1)}


def read_page(number: int, text: str) -> Page:
    """Tokens of one page's text."""
    text = fix_text(text)
    tokens = words(text)
    numbers = frozenset(normalise_number(m.group(1)) for m in NUMBER.finditer(text))
    is_toc = bool(TOC.search(text[:300])) and len(re.findall(r"\n\s*\d{1,3}\s*\r?\n|\s\d{1,3}\r?\n", text)) >= 8
    return Page(number, numbers, tokens, frozenset(ngrams(tokens, PHRASE_WORDS)), is_toc)


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
    """Whether a number in the answer is a figure (not a year, a single digit, a date or a label)."""
    token = match.group(1)
    value = normalise_number(token)
    if "." not in value and (len(value) == 1 or (len(value) == 4 and 1990 <= int(value) <= 2035 and "," not in token)):
        return False
    before, after = text[max(0, match.start() - 20):match.start()], text[match.end():match.end() + 8]
    if DATE_BEFORE.search(before) or (DATE_AFTER.match(after) and "." not in value and len(value) <= 2):
        return False
    if LABEL_BEFORE.search(before):
        return False
    return not (LIST_MARKER.search(before) and re.match(r"[.)]\s", after) and len(value) <= 2)


def answer_figures(body: str) -> list[str]:
    """Normalised figures of the answer, in order of appearance, without repeats."""
    found = [normalise_number(m.group(1)) for m in NUMBER.finditer(body) if is_figure(body, m)]
    return list(dict.fromkeys(found))


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
    """A phrase says something when at least two of its words are neither stop words nor numbers."""
    return sum(1 for t in tokens if t not in STOP and not t.isdigit()) >= 2


def collect_items(answer: str, pages: list[Page]) -> list[Item]:
    """Figures and phrases of the answer, each with the pages that hold it."""
    body = answer_body(answer)
    items = [Item("figure", f, 1, {p.number for p in pages if f in p.numbers}) for f in answer_figures(body)]
    phrases: dict[str, Item] = {}
    texts = [body] + QUOTED.findall(body)
    for text in texts:
        tokens = words(text)
        for page in pages:
            for start, end in phrase_spans(tokens, page):
                span = tokens[start:end]
                if is_content(span):
                    key = " ".join(span)
                    weight = 2 if len(span) >= LONG_PHRASE_WORDS else 1
                    phrases.setdefault(key, Item("phrase", key, weight)).pages.add(page.number)
    return items + _drop_nested(list(phrases.values()))


def _drop_nested(phrases: list[Item]) -> list[Item]:
    """Phrases inside a longer phrase on the same pages add nothing; keep the longer one."""
    kept = []
    for item in phrases:
        inside = any(o is not item and f" {item.text} " in f" {o.text} " and item.pages <= o.pages for o in phrases)
        if not inside:
            kept.append(item)
    return kept


# ------------------------------------------------------------------ choosing pages


def is_evidence(item: Item, pages: dict[int, Page]) -> bool:
    """An item found on a few pages, none of them a table of contents."""
    hits = {n for n in item.pages if not pages[n].is_toc}
    limit = MAX_DF_SHORT if item.kind == "figure" and item.digits() <= 2 else MAX_DF
    return 0 < len(hits) <= limit


def page_scores(items: list[Item], pages: dict[int, Page]) -> Counter[int]:
    scores: Counter[int] = Counter()
    for item in items:
        for number in item.pages:
            if not pages[number].is_toc:
                scores[number] += item.weight
    return scores


def is_meaningful(items: list[Item], gold: list[int]) -> bool:
    """At least two items on a gold page, or one figure of 4+ digits."""
    on_gold = [i for i in items if i.pages & set(gold)]
    strong = any(i.kind == "figure" and i.digits() >= 4 for i in on_gold)
    return strong or sum(i.weight for i in on_gold) >= 2


def label(answer: str, pages: list[Page]) -> tuple[list[int], list[str], str]:
    """Gold pages, the figures on them, and why a question is dropped ('' when kept)."""
    by_number = {p.number: p for p in pages}
    items = [i for i in collect_items(answer, pages) if is_evidence(i, by_number)]
    scores = page_scores(items, by_number)
    if not scores:
        return [], [], "no evidence"
    top = max(scores.values())
    gold = sorted(n for n, s in scores.items() if s == top)
    if len(gold) > MAX_PAGES:
        return gold, [], f"{len(gold)} pages tie"
    if not is_meaningful(items, gold):
        return gold, [], "weak evidence"
    figures = [i.text for i in items if i.kind == "figure" and i.pages & set(gold)]
    return gold, figures, ""


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
            dropped[why.split(" ", 1)[1] if why[0].isdigit() else why] += 1
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
    print(f"kept: {len(kept)}  dropped: {sum(dropped.values())} ({', '.join(f'{k}: {v}' for k, v in sorted(dropped.items()))})")
    print("gold pages per kept question: " + ", ".join(f"{k}: {counts[k]}" for k in sorted(counts)))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
