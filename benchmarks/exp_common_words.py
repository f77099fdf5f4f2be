"""Experiment (issue 10): what leaving common words out of keyword queries costs as a library grows.

Until 2026-11 the retriever left out of its keyword queries every word found in 2,000 passages or
more (for speed: FTS5 scores every match). In the SEC library (4,573 passages) that rule touched
few words, but in a library of 40,000 passages, 2,000 is 5% of it, and words such as "revenue",
"net" or "sales" went. This script measures the SEC page-level yardstick as if the library were N
passages large: the old rule with its cut scaled to the SEC library (2,000 x 4,573 / N), against
the rule now in use (only words in half the passages or more, which FTS5's BM25 weighs at zero).

Each row runs ``desktop-rag eval --questions benchmarks/data/sec_page_labels.jsonl --modes hybrid``
in a child process on a copy of the library (eval writes derived facts). Prints a table; asserts
nothing. Latency at 100,000 passages: ``python benchmarks/bench_retrieval.py --scale 100000``.

Measured 2026-11-27 on the SEC library (page level, 110 questions; context recall and quote
accuracy on the 76 with gold figures):

    rule                              hit@1  hit@5  hit@10  mrr@10  context  quotes
    half the passages (now)           0.455  0.764  0.818   0.573   0.803    0.500
    old cut, as if 4,573 (the SEC)    0.455  0.764  0.818   0.573   0.803    0.500
    old cut, as if 20,000 passages    0.373  0.655  0.773   0.496   0.737    0.421
    old cut, as if 40,000 passages    0.264  0.536  0.718   0.389   0.658    0.368
    old cut, as if 100,000 passages   0.309  0.600  0.773   0.430   0.724    0.434

Usage: python benchmarks/exp_common_words.py DATA_DIR [--sizes 20000,40000,100000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import eval_in_this_process, eval_with_patch, table  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LABELS = ROOT / "benchmarks" / "data" / "sec_page_labels.jsonl"
OLD_CUT = 2000


def child(cut: int, data: str, questions: str, out: str) -> int:
    """Run the eval with the old rule at ``cut`` passages (0: the rule in use)."""
    from desktop_rag.core.store import keyword_index

    if cut:
        keyword_index.KeywordIndex.is_common = (
            lambda self, term: sum(self.term_document_counts(term).values()) >= cut)
    return eval_in_this_process(data, questions, out)


def measure(source: Path, cut: int, tmp: Path) -> dict:
    results = eval_with_patch(__file__, str(cut), source, LABELS, tmp)
    [variant] = results["metrics"].values()
    return {**variant["hybrid"]["page"], **results["context"]["metrics"]}


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        raise SystemExit(child(int(sys.argv[2]), *sys.argv[3:6]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--sizes", default="20000,40000,100000")
    args = parser.parse_args()
    import sqlite3

    with sqlite3.connect(args.data_dir / "library.sqlite3") as db:
        passages = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    rows = [("rule", "hit@1", "hit@5", "hit@10", "mrr@10", "context recall", "quote accuracy")]
    sizes = [passages] + [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="exp-common-") as tmp:
        runs = [("half the passages (now)", 0)] + [
            (f"old cut, as if {size:,} passages", max(1, round(OLD_CUT * passages / size))) for size in sizes]
        for name, cut in runs:
            m = measure(args.data_dir, cut, Path(tmp))
            rows.append((name, *(f"{m[k]:.3f}" for k in ("hit@1", "hit@5", "hit@10", "mrr@10",
                                                          "context_recall", "quote_accuracy"))))
            print(f"{name}: done", flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
