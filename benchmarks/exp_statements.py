"""Mechanism check (issue 10): questions that name a financial statement find its page.

Public questions about annual reports often say where the answer is ("relying on the details shown
in the cash flow statement"); the SEC questions never do. This script takes the SEC page-level
questions whose gold page is one statement (as :func:`statement_of_page` reads its title), adds
"Give a response relying on the details shown in the <statement>." to each, and measures page
hit@k with the statement ranking off (``STATEMENT_WEIGHT = 0``) and on. The added sentence is ours,
so this checks the mechanism; it is not a held-out benchmark.

Measured 2026-11-27 (19 questions, hybrid, SEC library):

    statement ranking   hit@1  hit@5  hit@10  mrr@10
    off                 0.421  0.684  0.842   0.518
    on                  0.842  0.947  1.000   0.871

Usage: python benchmarks/exp_statements.py DATA_DIR
"""

from __future__ import annotations

import json
import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import eval_in_this_process, eval_with_patch, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "benchmarks" / "data" / "sec_page_labels.jsonl"
NAMES = {"income": "income statement", "balance": "balance sheet", "cash": "cash flow statement",
         "equity": "statement of shareholders' equity"}


def statement_questions(data: Path) -> list[dict]:
    from desktop_rag.core.search.statements import statement_of_page

    with sqlite3.connect(data / "library.sqlite3") as db:
        texts = {(name, n): text for name, n, text in db.execute(
            "SELECT d.name, p.number, p.text FROM pages p JOIN documents d ON d.id = p.doc_id")}
    out = []
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        kinds = {statement_of_page(texts.get((g["file"], g["page"]), "")) for g in q["pages"]} - {""}
        if len(kinds) == 1:
            q["question"] = (f"{q['question'].rstrip()} Give a response relying on the details shown in the "
                             f"{NAMES[kinds.pop()]}.")
            out.append(q)
    return out


def child(weight: float, data: str, questions: str, out: str) -> int:
    from desktop_rag.core.search import retriever

    retriever.STATEMENT_WEIGHT = weight
    return eval_in_this_process(data, questions, out)


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        raise SystemExit(child(float(sys.argv[2]), *sys.argv[3:6]))
    source = Path(sys.argv[1])
    from desktop_rag.core.search.retriever import STATEMENT_WEIGHT

    rows = [("statement ranking", "questions", "hit@1", "hit@5", "hit@10", "mrr@10")]
    with tempfile.TemporaryDirectory(prefix="exp-statements-") as tmp:
        questions = Path(tmp) / "questions.jsonl"
        chosen = statement_questions(source)
        questions.write_text("".join(json.dumps(q) + "\n" for q in chosen), encoding="utf-8")
        for name, weight in (("off", 0.0), ("on", STATEMENT_WEIGHT)):
            results = eval_with_patch(__file__, str(weight), source, questions, Path(tmp))
            [variant] = results["metrics"].values()
            page = variant["hybrid"]["page"]
            rows.append((name, str(len(chosen)), *(f"{page[k]:.3f}" for k in ("hit@1", "hit@5", "hit@10", "mrr@10"))))
    print(table(rows))


if __name__ == "__main__":
    main()
