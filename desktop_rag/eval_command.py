"""``desktop-rag eval``: retrieval (and answer) quality on labelled or generated questions.

The table goes to stdout, a progress bar to stderr; ``--out DIR`` also writes ``DIR/results.json``
and ``DIR/chart.png`` (and, for ``--generate``, ``DIR/questions.jsonl`` to reuse with ``--questions``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Generator

from typing import TYPE_CHECKING

from desktop_rag.cli import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK
from desktop_rag.config import RETRIEVAL_MODES, Settings
from desktop_rag.errors import SettingsError

if TYPE_CHECKING:  # the evaluation modules load numpy and the models' wiring: only when eval runs
    from desktop_rag.core.eval.harness import EvalProgress, EvalResult

QUESTION_METHODS = ("auto", "llm", "template")  # desktop_rag.core.selfeval.METHODS, without importing it


def add_eval_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """The ``eval`` subcommand's arguments (called from ``cli.build_parser``)."""
    p = sub.add_parser("eval", help="measure retrieval (and answer) quality on labelled or generated questions")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--questions", type=Path, metavar="FILE",
                        help="labelled questions: JSONL (question, answer, docs, pages) or a qna_data.csv-style CSV")
    source.add_argument("--generate", type=int, metavar="N",
                        help="self-evaluation: generate N questions from your library (its pages are the gold)")
    p.add_argument("--modes", default=",".join(RETRIEVAL_MODES),
                   help="comma-separated retrieval modes to compare (default: all of %(default)s)")
    p.add_argument("--variants", action="append", default=[], metavar="SPEC",
                   help="settings variants to compare with the current settings, e.g. chunk_tokens=128,chunk_tokens=254 "
                        "(commas separate variants, + joins settings); each gets its own index under "
                        "DATA_DIR/eval-stores/")
    p.add_argument("--answers", type=int, default=0, metavar="N",
                   help="also answer the first N questions that have a gold answer with the chat model "
                        "(temperature 0) and score the answers; slow (default 0)")
    p.add_argument("--skip-missing", action="store_true",
                   help="evaluate the other questions when some name files not in the library (they are listed)")
    p.add_argument("--seed", type=int, default=0, help="sampling seed for --generate (default 0)")
    p.add_argument("--generator", choices=QUESTION_METHODS, default="auto",
                   help="who writes --generate questions: the chat model with a template fallback (auto), "
                        "only the model, or only the deterministic template")
    p.add_argument("--model", dest="llm_model", help="GGUF chat model for --answers and --generate")
    p.add_argument("--out", type=Path, metavar="DIR", help="write results.json and chart.png here")
    return p


def _modes(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in modes if m not in RETRIEVAL_MODES]
    if unknown or not modes:
        raise SettingsError(f"--modes: choose from {', '.join(RETRIEVAL_MODES)} (got {text!r})")
    return modes


def _drive(gen: Generator["EvalProgress", None, "EvalResult"]) -> "EvalResult":
    """Run the evaluation with a tqdm bar on stderr (one bar, reset at each stage)."""
    from tqdm import tqdm

    bar = tqdm(total=0, file=sys.stderr, dynamic_ncols=True, leave=False)
    stage = ""
    try:
        while True:
            event = next(gen)
            if event.stage != stage or event.total != bar.total:
                stage = event.stage
                bar.reset(total=event.total)
            bar.n = event.done
            bar.set_description_str(f"{event.stage} {event.message[:50]}".rstrip(), refresh=False)
            bar.refresh()
    except StopIteration as stop:
        return stop.value
    finally:
        bar.close()


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from desktop_rag.core.eval.selfeval import questions_jsonl
    from desktop_rag.eval_service import (format_table, parse_variants, run_labelled_evaluation, run_self_evaluation,
                                        write_results)
    from desktop_rag.services import Services

    modes = _modes(args.modes)
    variants = parse_variants(args.variants)
    if args.generate is not None and args.generate <= 0:
        raise SettingsError("--generate needs a positive number of questions")
    with Services(settings.replace(temperature=0.0)) as services:
        if not services.store.stats()["documents"]:
            print("error: the library is empty; index PDFs first with: desktop-rag ingest PATH...", file=sys.stderr)
            return EXIT_FAILED
        if args.generate is not None:
            gen = run_self_evaluation(services, args.generate, variants=variants, modes=modes, seed=args.seed,
                                      method=args.generator)
        else:
            gen = run_labelled_evaluation(services, args.questions, variants=variants, modes=modes,
                                          answer_limit=args.answers, skip_missing=args.skip_missing)
        try:
            result = _drive(gen)
        except KeyboardInterrupt:
            gen.close()
            print("\ninterrupted: nothing was written", file=sys.stderr)
            return EXIT_INTERRUPTED
    print(format_table(result))
    if args.out:
        results, chart = write_results(result, args.out)
        if result.kind == "generated":
            (Path(args.out) / "questions.jsonl").write_text(questions_jsonl(result.questions), encoding="utf-8")
        print(f"\nwrote {results} and {chart}", file=sys.stderr)
    return EXIT_OK
