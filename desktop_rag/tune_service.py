"""Wiring for adapting search to a library (:mod:`desktop_rag.core.tune`), shared by ``desktop-rag tune`` and the GUI.

The library's backend decides how the tuned model runs: for ONNX (the default) its two ONNX copies
(float32 for questions, int8 for passages) are made with :mod:`desktop_rag.core.models.onnx_export`
and placed inside the tuned folder, where the ONNX embedder looks first, so the library searches
without torch, as before, and moving the data folder moves them too; for torch the folder is used
as it is. Tuning itself always needs torch and sentence-transformers (a source install): the desktop
bundle, which leaves torch out, says so.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Callable, Generator, Sequence

from desktop_rag.config import Settings
from desktop_rag.core.eval.questions import load_questions, resolve_questions
from desktop_rag.core.models.chat import ChatModel, never
from desktop_rag.core.models.embedder import Embedder, bundled_embedding_model_dir, model_fingerprint
from desktop_rag.core.tune.measure import judged_from_resolved
from desktop_rag.core.tune.pairs import TuneProgress
from desktop_rag.core.tune.revert import RevertResult, revert_library
from desktop_rag.core.tune.run import LabelledSet, Models, TuneRequest, TuneResult, tune_library
from desktop_rag.core.tune.state import TunedModel, read_tuned, tuned_model_dir
from desktop_rag.errors import ModelLoadError, TuneError
from desktop_rag.services import Services, embedding_backend, make_embedder

__all__ = ["TuneProgress", "TuneRequest", "TuneResult", "RevertResult", "run_tune", "run_revert",
           "labelled_sets", "describe_tuned", "format_result", "tune_job", "revert_job"]


def export_onnx(model_dir: Path) -> None:
    """The ONNX copies of ``model_dir`` made now and placed where the ONNX embedder finds them first."""
    from desktop_rag.core.models.onnx_export import FLOAT32, RECIPE, ensure_onnx_copy, prebuilt_onnx_path

    fingerprint, scratch = model_fingerprint(model_dir), model_dir / "onnx-work"
    try:
        for recipe in (FLOAT32, RECIPE):  # the int8 copy is quantised from the float32 one, found in place
            made = ensure_onnx_copy(model_dir, fingerprint, scratch, recipe)
            target = prebuilt_onnx_path(model_dir, fingerprint, recipe)
            if made != target:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(made, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _require_torch() -> None:
    import importlib.util

    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("sentence_transformers") is None:
        raise ModelLoadError("adapting search to your documents trains the embedding model with PyTorch and "
                             "sentence-transformers, which this build does not include; install desktop_rag "
                             "from source (make setup) to use it")


def tune_models(services: Services) -> Models:
    s = services.settings
    backend = embedding_backend(s)
    current_dir = tuned_model_dir(s.data_path) or (Path(s.embedding_model) if s.embedding_model
                                                   else bundled_embedding_model_dir())
    return Models(current=services.embedder, current_dir=current_dir,
                  make=lambda folder: make_embedder(s, str(folder)),
                  export=export_onnx if backend == "onnx" else None, chat=_chat_or_none(services),
                  base_model=s.embedding_model, backend=backend)


def _chat_or_none(services: Services):  # noqa: ANN202 - a ChatModel or None
    """The local chat model writes the questions; without one the template writes them all."""
    try:
        return services.chat_model()
    except Exception:  # noqa: BLE001 - no model: the deterministic template is the documented fallback
        return None


def labelled_sets(services: Services, files: Sequence[str]) -> list[LabelledSet]:
    """Each file's questions at document level, and at page level those that name pages (questions
    about files not in the library are left out)."""
    out: list[LabelledSet] = []
    documents = services.store.documents()
    for file in files:
        resolved, _ = resolve_questions(load_questions(file), documents, file, skip_missing=True)
        name = Path(file).name
        paged = [q for q in resolved if q.gold_pages]
        if paged:
            out.append(LabelledSet(name, "page", judged_from_resolved(paged)))
        if resolved:
            out.append(LabelledSet(name, "document", judged_from_resolved(resolved)))
    return out


def run_tune(services: Services, request: TuneRequest, question_files: Sequence[str] = (),
             should_cancel: Callable[[], bool] = never) -> Generator[TuneProgress, None, TuneResult]:
    _require_torch()
    labelled = labelled_sets(services, question_files)
    return (yield from tune_library(services.store, tune_models(services), request, labelled, should_cancel))


def run_revert(services: Services, should_cancel: Callable[[], bool] = never,
               ) -> Generator[TuneProgress, None, RevertResult]:
    """Back to the model the settings name (the tuned record is ignored when building it)."""
    s = services.settings
    if read_tuned(s.data_path) is None:
        raise TuneError("this library already uses the original embedding model")
    original = make_embedder(s, s.embedding_model)
    return (yield from revert_library(services.store, original, should_cancel))


def describe_tuned(data_path: Path) -> str:
    """One paragraph for Settings and ``tune --status``: the model in use, when tuned, on what, its gain."""
    tuned: TunedModel | None = read_tuned(data_path)
    if tuned is None:
        return "Search uses the original embedding model."
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(tuned.tuned_at))
    lines = [f"Search uses a model adapted to this library on {when}, trained on {tuned.pairs} question/passage pairs "
             f"({tuned.folder})."]
    cosine = tuned.gains.get("cosine")
    if cosine:
        lines.append(f"Held-out question/passage cosine: {cosine[0]:.2f} -> {cosine[1]:.2f}.")
    for name, figures in tuned.gains.get("sets", {}).items():
        kind = "generated questions" if figures.get("generated") else "your questions"
        lines.append(f"{name}, {kind}: MRR@10 {figures['before'].get('mrr@10', 0):.3f} -> "
                     f"{figures['after'].get('mrr@10', 0):.3f}, hit@5 {figures['before'].get('hit@5', 0):.3f} -> "
                     f"{figures['after'].get('hit@5', 0):.3f} (n={figures['n']}, p={figures['p']:.2g}).")
    if not (data_path / tuned.folder / "config.json").is_file():
        lines.append("The tuned model is MISSING from the data folder: return to the original model to search again.")
    return "\n".join(lines)


def format_result(result: TuneResult) -> str:
    """The before/after table; figures from generated questions are marked as such."""
    p = result.pairs
    lines = [f"pairs: {len(p.train)} for training, {len(p.held_out)} held out (pages never seen in training); "
             f"{p.attempted} passages tried, rejected: {dict(p.rejected) or 'none'}",
             f"mean cosine of held-out question/passage pairs: {result.cosine[0]:.3f} -> {result.cosine[1]:.3f}",
             f"{'questions':44} {'level':9} {'n':>4}  {'hit@5':>13}  {'MRR@10':>13}  {'nDCG@10':>13}  {'+/-':>7}  p"]
    for r in result.results:
        cells = "  ".join(f"{r.before[k]:.3f} -> {r.after[k]:.3f}" for k in ("hit@5", "mrr@10", "ndcg@10"))
        label = f"{r.name}{' [generated]' if r.generated else ''}"
        lines.append(f"{label[:44]:44} {r.level:9} {r.count:>4}  {cells}  {r.wins:>3}/{r.losses:<3}  {r.p_value:.3g}")
    if result.training is not None:
        t = result.training
        lines.append(f"training: {t.steps}/{t.total_steps} steps in {t.seconds:.0f} s, final loss {t.final_loss:.3f}"
                     + (" (stopped at the time limit)" if t.stopped_early else ""))
    lines.append("timings (s): " + ", ".join(f"{k} {v:.0f}" for k, v in result.seconds.items()))
    verdict = "ADOPTED: the library now searches with the tuned model" if result.adopted else \
        "NOT ADOPTED: the library keeps its current model"
    lines.append(f"{verdict} ({result.reason})")
    return "\n".join(lines)


def tune_job(settings: Settings, embedder: Embedder, chat_model: ChatModel | None, request: TuneRequest,
             should_stop: Callable[[], bool]) -> Generator[TuneProgress, None, TuneResult]:
    """The GUI's background job: the window's loaded models, a store (connection) of its own."""
    with Services(settings.replace(temperature=0.0), embedder=embedder, chat_model=chat_model) as services:
        return (yield from run_tune(services, request, (), should_stop))


def revert_job(settings: Settings, should_stop: Callable[[], bool]) -> Generator[TuneProgress, None, RevertResult]:
    with Services(settings) as services:
        return (yield from run_revert(services, should_stop))
