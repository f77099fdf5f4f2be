"""Adapting search to a library (``desktop-rag tune``), measured as the user runs it, on a COPY of a library.

    cp -a /tmp/sec-lib /tmp/tune-lib
    python benchmarks/bench_tune.py --data-dir /tmp/tune-lib [--pairs N] [--epochs E] [--time-limit MIN]

Runs the whole action in a child process (pairs, training, re-embedding, measuring, switching or
not) and prints: pairs generated, the time of each step and of the whole action, the child's peak
memory (``wait4``), the load average before and after, and the before/after figures (mean held-out
cosine; hit@5, MRR@10, nDCG@10 by dense retrieval on the held-out GENERATED questions and on the
labelled SEC questions, page and document level) with the paired sign test. Prints, never asserts.
The copy is changed when the tuned model is adopted: copy the library afresh for another run.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from _measure import run_alone

ROOT = Path(__file__).resolve().parents[1]
SEC_PAGES = ROOT / "benchmarks" / "data" / "sec_page_labels.jsonl"
SEC_DOCS = ROOT.parent / "shared" / "corpus" / "sec-10-q" / "qna_data.csv"
PROTECTED = Path("/tmp/sec-lib")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True, type=Path, help="a COPY of the library (it may be changed)")
    parser.add_argument("--pairs", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--learning-rate", type=float, default=2e-5)
    parser.add_argument("--time-limit", type=float, default=15.0, help="minutes")
    parser.add_argument("--generator", default="auto", choices=("auto", "llm", "template"))
    parser.add_argument("--out", type=Path, help="also write the result JSON here")
    args = parser.parse_args()
    if args.data_dir.resolve() == PROTECTED.resolve():
        print(f"refusing to write into {PROTECTED}: copy it first (cp -a {PROTECTED} /tmp/tune-lib)", file=sys.stderr)
        return 2
    questions = [str(p) for p in (SEC_PAGES, SEC_DOCS) if p.is_file()]
    command = [sys.executable, "-m", "desktop_rag", "--data-dir", str(args.data_dir), "tune", "--json",
               "--pairs", str(args.pairs), "--epochs", str(args.epochs), "--learning-rate", str(args.learning_rate), "--time-limit", str(args.time_limit),
               "--generator", args.generator, *[a for q in questions for a in ("--questions", q)]]
    load_before = os.getloadavg()
    run = run_alone(command)
    load_after = os.getloadavg()
    if run.returncode != 0:
        print(run.stderr[-3000:], file=sys.stderr)
        return 1
    result = json.loads(run.stdout)
    if args.out:
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    report(result, run, load_before, load_after, args)
    return 0


def report(result: dict, run, load_before: tuple, load_after: tuple, args: argparse.Namespace) -> None:  # noqa: ANN001
    print(f"library {args.data_dir}: pairs {args.pairs} asked, {result['train_pairs']} training + "
          f"{result['held_out_pairs']} held out ({result['attempted']} passages tried; rejected {result['rejected']})")
    print(f"whole action: {run.seconds / 60:.1f} min wall, {run.cpu_s / 60:.1f} CPU-min, peak memory "
          f"{run.peak_rss_mb / 1024:.2f} GB; load average {load_before[0]:.2f} before, {load_after[0]:.2f} after "
          f"({os.cpu_count()} CPUs)")
    print("steps (s): " + ", ".join(f"{k} {v:.0f}" for k, v in result["seconds"].items()))
    t = result["training"] or {}
    print(f"training: {t.get('steps')}/{t.get('total_steps')} steps, {t.get('seconds', 0):.0f} s, final loss "
          f"{t.get('final_loss', 0):.3f}{' (stopped at the time limit)' if t.get('stopped_early') else ''}")
    print(f"mean cosine, held-out generated question/passage pairs: {result['cosine_before']:.3f} -> "
          f"{result['cosine_after']:.3f}")
    print(f"{'questions (dense retrieval)':44} {'level':9} {'n':>4}  {'hit@5':>14} {'MRR@10':>14} {'nDCG@10':>14}"
          "  win/loss  p (sign)  95% CI of mean dRR")
    for r in result["results"]:
        cells = " ".join(f"{r['before'][k]:.3f} -> {r['after'][k]:.3f}" for k in ("hit@5", "mrr@10", "ndcg@10"))
        name = r["name"] + (" [GENERATED]" if r["generated"] else "")
        low, high = r["interval"]
        print(f"{name[:44]:44} {r['level']:9} {r['count']:>4}  {cells}  {r['wins']:>4}/{r['losses']:<4} "
              f"{r['p_value']:8.3g}  [{low:+.3f}, {high:+.3f}]")
    print(f"{'ADOPTED' if result['adopted'] else 'NOT ADOPTED'}: {result['reason']}")


if __name__ == "__main__":
    sys.exit(main())
