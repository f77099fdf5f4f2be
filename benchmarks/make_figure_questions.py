"""Held-out figure questions: the SEC questions that ``make_page_labels.py`` could not pin to pages.

The page yardstick (``sec_page_labels.jsonl``) keeps 110 single-document questions whose answer sits on
one to three known pages; the quote and context work of issue 10 was read from its misses. This script
gives the other questions of ``qna_data.csv`` (questions over several filings, and single-filing ones
whose answer is spread over many pages) as a second set for the figure checks only: context recall
(an answer's figure among the passages given to the model) and quote accuracy (one among the quotes).
They need no page labels, so questions nobody here read when tuning the quotes can be scored.

A question is kept when its answer states a figure printed in its source filings that says something:
a figure of 4+ digits found on at most 6 pages of those filings, or of 3 digits or with decimals on
at most 4 (a figure printed everywhere would be found in any quote). Years, single digits, dates and
note numbers are not figures (the rules of ``make_page_labels.py``); contents pages never count.

Output (JSONL): ``question``, ``answer``, ``docs`` (the source file names), ``figures`` (normalised, in
the form a page prints them), ``kind``, ``type``, ``csv_line``. No ``pages``: page metrics are not
reported for this set.

Usage: ``python benchmarks/make_figure_questions.py [--corpus DIR] [--out FILE]``
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import sys
from pathlib import Path

from make_page_labels import (DEFAULT_CORPUS, MAX_DF, MAX_DF_LONG, HERE, Page, answer_body, answer_figures,
                              read_pdf, read_questions)

DEFAULT_OUT = HERE / "data" / "sec_figure_questions.jsonl"
PAGE_LABELS = HERE / "data" / "sec_page_labels.jsonl"


def source_docs(glob: str, names: list[str]) -> list[str]:
    """The files a Source Docs glob names."""
    specs = [s.strip().lower() for s in glob.split(",") if s.strip()]
    return sorted({n for n in names for s in specs if fnmatch.fnmatchcase(n.lower(), s)})


def telling_figures(answer: str, pages: list[Page]) -> list[str]:
    """The answer's figures printed on few enough (non-contents) pages of its filings to say something."""
    found: list[str] = []
    for figure in answer_figures(answer_body(answer)):
        holding = [p for p in pages if not p.is_toc and figure.forms & p.numbers]
        digits = sum(ch.isdigit() for ch in figure.value)
        limit = MAX_DF_LONG if digits >= 4 else MAX_DF if digits >= 3 or "." in figure.value else 0
        if holding and len(holding) <= limit:
            printed = frozenset().union(*(p.numbers for p in holding))
            found.append(sorted(figure.forms & printed)[0])
    return list(dict.fromkeys(found))


def build(corpus: Path, labelled: set[int]) -> tuple[list[dict[str, object]], int]:
    """Records for the questions not in ``labelled`` (csv lines), and how many were left out."""
    docs = corpus / "docs"
    names = sorted(p.name for p in docs.glob("*.pdf"))
    cache: dict[str, list[Page]] = {}
    kept, left = [], 0
    for line, row in read_questions(corpus / "qna_data.csv"):
        files = source_docs(row["Source Docs"], names)
        if line in labelled or not files:
            continue
        pages = [page for name in files for page in cache.setdefault(name, read_pdf(docs / name))]
        figures = telling_figures(row["Answer"], pages)
        if not figures:
            left += 1
            continue
        kind = row.get("Question Type", "").strip()
        kept.append({"question": row["Question"].strip(), "answer": row["Answer"].strip(), "docs": files,
                     "figures": figures, "kind": kind, "type": kind, "csv_line": line})
    return kept, left


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder with docs/ and qna_data.csv")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSONL file to write")
    parser.add_argument("--labels", type=Path, default=PAGE_LABELS,
                        help="the page labels, whose questions are left out")
    args = parser.parse_args(argv)
    labelled = {json.loads(line)["csv_line"] for line in args.labels.read_text(encoding="utf-8").splitlines() if line}
    kept, left = build(args.corpus, labelled)
    with args.out.open("w", encoding="utf-8") as handle:
        for rec in kept:
            handle.write(json.dumps(rec, ensure_ascii=False) + "\n")
    several = sum(1 for r in kept if len(r["docs"]) > 1)  # type: ignore[arg-type]
    print(f"questions not in the page labels: {len(kept) + left}; kept {len(kept)} "
          f"({several} over several filings), without a telling figure: {left}")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
