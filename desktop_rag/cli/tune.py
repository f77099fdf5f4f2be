"""``desktop-rag tune``: adapt search to the library's own documents (fine-tune the embedding model).

Progress goes to stderr (pairs written, training steps with loss and time left, passages
re-embedded), the before/after table to stdout (``--json``: the whole result). The tuned model is
adopted only when search improved beyond noise; ``--revert`` returns to the original model and
``--status`` says which one the library uses. Ctrl+C leaves the library on the model it had; the
next run resumes from the last training checkpoint (``--restart`` drops it).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import TYPE_CHECKING

from desktop_rag.cli.output import EXIT_OK, BarStyle, drive, print_json
from desktop_rag.config import Settings
from desktop_rag.core.tune.train import TrainOptions
from desktop_rag.errors import SettingsError
from desktop_rag.services import Services
from desktop_rag.tune_service import TuneRequest, describe_tuned, format_result, run_revert, run_tune

if TYPE_CHECKING:
    from tqdm import tqdm

    from desktop_rag.tune_service import TuneProgress

INTERRUPTED = "\ninterrupted: the library keeps the model it had (run tune again to resume training)"
STAGES = {"pairs": "writing questions", "training": "training", "embedding": "re-embedding",
          "measuring": "measuring", "switching": "switching"}


def cmd_tune(args: argparse.Namespace, settings: Settings) -> int:
    if args.status:
        print(describe_tuned(settings.data_path))
        return EXIT_OK
    with Services(settings.replace(temperature=0.0)) as services:
        if args.revert:
            result = drive(run_revert(services), _Bar(), bar=BarStyle(unit="passage"),
                           interrupted="\ninterrupted: the library keeps its tuned model")
            print(f"returned to the original model ({result.reused} kept vectors restored, "
                  f"{result.embedded} passages embedded again, {result.seconds:.0f} s)")
            return EXIT_OK
        request = _request(args)
        outcome = drive(run_tune(services, request, args.questions), _Bar(), bar=BarStyle(), interrupted=INTERRUPTED)
    if args.json:
        print_json(outcome.to_json())
    else:
        print(format_result(outcome))
    return EXIT_OK


def _request(args: argparse.Namespace) -> TuneRequest:
    if args.pairs < 20:
        raise SettingsError("--pairs needs at least 20 pairs")
    if not 1 <= args.epochs <= 20:
        raise SettingsError("--epochs must be between 1 and 20")
    if args.time_limit <= 0:
        raise SettingsError("--time-limit must be a positive number of minutes")
    if not 0 < args.learning_rate < 1:
        raise SettingsError("--learning-rate must be between 0 and 1 (e.g. 2e-5)")
    options = replace(TrainOptions(), epochs=args.epochs, learning_rate=args.learning_rate)
    return TuneRequest(pairs=args.pairs, options=options,
                       time_limit_s=args.time_limit * 60.0, method=args.generator, restart=args.restart)


class _Bar:
    """One bar, reset at each stage; loss and time left in its description."""

    def __init__(self) -> None:
        self.stage = ""

    def __call__(self, event: TuneProgress, bar: tqdm | None) -> None:
        if bar is None:
            return
        if event.stage != self.stage or event.total != bar.total:
            self.stage = event.stage
            bar.reset(total=event.total)
        bar.n = event.done
        left = f" ~{event.seconds_left / 60:.1f} min left" if event.seconds_left is not None else ""
        bar.set_description_str(f"{STAGES.get(event.stage, event.stage)} {event.message[:40]}{left}".rstrip(),
                                refresh=False)
        bar.refresh()
