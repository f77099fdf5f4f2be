"""``desktop-rag eval``: retrieval (and answer) quality on labelled or generated questions.

The table goes to stdout, a progress bar to stderr; ``--out DIR`` also writes ``DIR/results.json``
and ``DIR/chart.png`` (and, for ``--generate``, ``DIR/questions.jsonl`` to reuse with ``--questions``).
``--in NAME`` keeps every search in those collections or files (see :mod:`desktop_rag.eval_service`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Generator

from desktop_rag.cli.output import EXIT_FAILED, EXIT_OK, BarStyle, drive
from desktop_rag.config import Settings
from desktop_rag.core.eval.selfeval import questions_jsonl
from desktop_rag.core.types import RETRIEVAL_MODES
from desktop_rag.errors import SettingsError
from desktop_rag.eval_service import (format_table, parse_variants, run_labelled_evaluation, run_self_evaluation,
                                      write_results)
from desktop_rag.services import Services

if TYPE_CHECKING:
    from tqdm import tqdm

    from desktop_rag.core.eval.harness import EvalProgress, EvalResult

EVAL_INTERRUPTED = "\ninterrupted: nothing was written"


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    modes = _modes(args.modes)
    variants = parse_variants(args.variants)
    if args.generate is not None and args.generate <= 0:
        raise SettingsError("--generate needs a positive number of questions")
    with Services(settings.replace(temperature=0.0)) as services:
        if not services.store.stats()["documents"]:
            print("error: the library is empty; index PDFs first with: desktop-rag ingest PATH...", file=sys.stderr)
            return EXIT_FAILED
        gen: Generator[EvalProgress, None, EvalResult]
        scope = args.scope or ()
        if args.generate is not None:
            gen = run_self_evaluation(services, args.generate, variants=variants, modes=modes, seed=args.seed,
                                      method=args.generator, scope=scope)
        else:
            gen = run_labelled_evaluation(services, args.questions, variants=variants, modes=modes,
                                          answer_limit=args.answers, skip_missing=args.skip_missing, scope=scope)
        result = drive(gen, _StageBar(), bar=BarStyle(), interrupted=EVAL_INTERRUPTED)
    print(format_table(result))
    if args.out:
        results, chart = write_results(result, args.out)
        if result.kind == "generated":
            (Path(args.out) / "questions.jsonl").write_text(questions_jsonl(result.questions), encoding="utf-8")
        print(f"\nwrote {results} and {chart}", file=sys.stderr)
    return EXIT_OK


def _modes(text: str) -> list[str]:
    modes = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in modes if m not in RETRIEVAL_MODES]
    if unknown or not modes:
        raise SettingsError(f"--modes: choose from {', '.join(RETRIEVAL_MODES)} (got {text!r})")
    return modes


class _StageBar:
    """Shows evaluation progress on one bar, reset at each stage (indexing, retrieving, ...)."""

    def __init__(self) -> None:
        self.stage = ""

    def __call__(self, event: EvalProgress, bar: tqdm) -> None:
        if event.stage != self.stage or event.total != bar.total:
            self.stage = event.stage
            bar.reset(total=event.total)
        bar.n = event.done
        bar.set_description_str(f"{event.stage} {event.message[:50]}".rstrip(), refresh=False)
        bar.refresh()
