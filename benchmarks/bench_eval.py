"""Retrieval quality on the SEC 10-Q corpus, as the README reports it (issue 5).

1. Index the 20 filings with the current settings into a data dir (skipped when already there).
2. ``desktop-rag eval --questions qna_data.csv`` with chunk-size variants: the 195 labelled
   questions, document level (the labels name documents, not pages), dense / keyword / hybrid for
   every chunk size. The variant stores are built on the first run and reused afterwards.
3. ``desktop-rag eval --generate N``: self-evaluation on generated questions, page level; the
   time to generate the questions and to evaluate them.
4. A summary naming the best configuration by document-level nDCG@10 on the labelled questions.

Each step is the CLI a user runs, in a subprocess, timed. Prints tables; asserts nothing.
Usage: python benchmarks/bench_eval.py [--data-dir DIR] [--out DIR] [--generate N]
       [--variants chunk_tokens=128,chunk_tokens=254] [--answers N]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import CORPUS, DOCS, python, run_measured, table  # noqa: E402

from desktop_rag.config import DEFAULT_RETRIEVAL_MODE  # noqa: E402

SUMMARY_METRICS = ("hit@1", "hit@5", "recall@5", "mrr@10", "ndcg@10")


def cli(data: Path, *args: str) -> list[str]:
    return [python(), "-m", "desktop_rag", "--data-dir", str(data), *args]


def run_step(title: str, args: list[str]) -> float:
    print(f"\n=== {title}\n$ {' '.join(args[1:])}", flush=True)
    run = run_measured(args)
    print(run.stdout.rstrip())
    if run.returncode != 0:
        print(run.stderr[-3000:])
        raise SystemExit(f"{title}: exit code {run.returncode}")
    print(f"({run.seconds:.1f} s wall, exit code {run.returncode})", flush=True)
    return run.seconds


def ranking(results: dict, level: str) -> list[tuple[str, str, dict]]:
    rows = [(variant, mode, levels[level]) for variant, modes in results["metrics"].items()
            for mode, levels in modes.items() if level in levels]
    return sorted(rows, key=lambda r: (-r[2]["ndcg@10"], -r[2]["mrr@10"], r[0], r[1]))


def summary_table(results: dict, level: str) -> str:
    rows = [("rank", "variant", "mode", *SUMMARY_METRICS)]
    for i, (variant, mode, values) in enumerate(ranking(results, level), 1):
        rows.append((str(i), variant, mode, *(f"{values[m]:.3f}" for m in SUMMARY_METRICS)))
    return table(rows)


def sign_test(wins: int, losses: int) -> float:
    """Two-sided exact sign test p-value (ties dropped)."""
    n, low = wins + losses, min(wins, losses)
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(low + 1)) / 2 ** n)


def paired(results: dict, level: str, a: tuple[str, str], b: tuple[str, str], metric: str) -> str:
    """Per-question comparison of configuration a against b: wins, losses, ties, sign-test p."""
    wins = losses = ties = 0
    for q in results["questions"]:
        ra, rb = q["retrieval"][a[0]][a[1]].get(level), q["retrieval"][b[0]][b[1]].get(level)
        if ra is None or rb is None:
            continue
        wins, losses, ties = (wins + (ra[metric] > rb[metric]), losses + (ra[metric] < rb[metric]),
                              ties + (ra[metric] == rb[metric]))
    return f"{metric}: {wins} better, {losses} worse, {ties} equal (sign test p = {sign_test(wins, losses):.3f})"


def compare_with_default(results: dict, level: str) -> None:
    default = next(v for v in results["metrics"] if v.endswith("(current)")), DEFAULT_RETRIEVAL_MODE
    best = ranking(results, level)[0][:2]
    if best == default:
        print(f"  the current default ({default[0]}, {default[1]}) ranks first")
        return
    for metric in ("hit@5", "mrr@10", "ndcg@10"):
        print(f"  {best[0]}, {best[1]} vs {default[0]}, {default[1]}, per question: "
              f"{paired(results, level, best, default, metric)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-eval")
    parser.add_argument("--out", type=Path, default=None, help="results folder (default DATA_DIR/results)")
    parser.add_argument("--generate", type=int, default=100)
    parser.add_argument("--variants", default="chunk_tokens=128,chunk_tokens=254")
    parser.add_argument("--answers", type=int, default=0, help="also score N answers of the chat model")
    args = parser.parse_args()
    data, out = args.data_dir, args.out or args.data_dir / "results"
    ingest_s = run_step("index the corpus (current settings)", cli(data, "ingest", str(DOCS)))
    labelled_args = ["eval", "--questions", str(CORPUS / "qna_data.csv"), "--variants", args.variants,
                     "--out", str(out / "labelled")]
    if args.answers:
        labelled_args += ["--answers", str(args.answers)]
    labelled_s = run_step("195 labelled questions, every mode and chunk size", cli(data, *labelled_args))
    self_s = run_step(f"self-evaluation, {args.generate} generated questions",
                      cli(data, "eval", "--generate", str(args.generate), "--variants", args.variants,
                          "--out", str(out / "selfeval")))
    labelled = json.loads((out / "labelled" / "results.json").read_text(encoding="utf-8"))
    generated = json.loads((out / "selfeval" / "results.json").read_text(encoding="utf-8"))
    print("\n=== summary")
    print(f"index (or re-check) the corpus: {ingest_s:.1f} s; labelled eval: {labelled_s:.1f} s; "
          f"self-evaluation: {self_s:.1f} s wall")
    gen = generated["generation"]
    print(f"self-evaluation: generated {gen['kept']} questions ({gen['by_method']}) from {gen['attempted']} passages "
          f"in {generated['timings']['generation']:.1f} s; evaluated them in {generated['timings']['evaluation']:.1f} s")
    print(f"\nLabelled questions, document level ({labelled['levels']['document']} questions), best first:")
    print(summary_table(labelled, "document"))
    print(f"\nGenerated questions, page level ({generated['levels']['page']} questions), best first:")
    print(summary_table(generated, "page"))
    best_variant, best_mode, _ = ranking(labelled, "document")[0]
    print(f"\nbest on the labelled questions (document nDCG@10): {best_variant}, {best_mode}")
    compare_with_default(labelled, "document")
    best_variant, best_mode, _ = ranking(generated, "page")[0]
    print(f"best on the generated questions (page nDCG@10): {best_variant}, {best_mode}")
    compare_with_default(generated, "page")
    print(f"results: {out}/labelled and {out}/selfeval (results.json, chart.png)")


if __name__ == "__main__":
    main()
