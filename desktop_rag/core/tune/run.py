"""Adapting search to one library, as one action: pairs, training, re-embedding, measuring, switching or not.

1. Pairs (:mod:`.pairs`), saved in the data folder's ``tune-work/`` so a run that was cancelled or
   killed resumes with the same pairs and from its last training checkpoint (:mod:`.train`).
2. The "before" figures: the held-out questions (and labelled ones, when given) searched with the
   model in use over the library's vectors.
3. Training, until done or until the time limit less the time re-embedding will take.
4. The tuned model is saved in the data folder (``embedding-models/tuned-<time>``) with, for the
   ONNX backend, its ONNX copies inside it (``export``), so the library needs no torch to search.
5. Every passage is embedded with it into staged vectors while the current ones keep serving;
   the "after" figures are measured on them (:mod:`.measure`).
6. Only when search improved beyond noise are the staged vectors switched in, in one transaction
   (:mod:`.vectors`); otherwise they and the tuned folder are removed and nothing changes.

Any failure or cancel before the switch leaves the library on the model it had, nothing lost.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Generator, Sequence

import numpy as np

from desktop_rag.core.models.chat import ChatModel, never
from desktop_rag.core.models.embedder import Embedder
from desktop_rag.core.store.library import Store
from desktop_rag.core.tune.locking import tune_lock
from desktop_rag.core.tune.measure import (Judged, SetResult, compare, decide, judged_from_pairs, mean_cosine,
                                           question_metrics, top_ids)
from desktop_rag.core.tune.pairs import PairSet, TuneProgress, build_pairs
from desktop_rag.core.tune.state import META_KEY, MODELS_DIR, WORK_DIR, TunedModel, read_tuned
from desktop_rag.errors import Cancelled, TuneError
from desktop_rag.core.tune.train import TrainOptions, TrainReport, train
from desktop_rag.core.tune.vectors import VectorSets

log = logging.getLogger(__name__)

DEFAULT_PAIRS = 600
DEFAULT_TIME_LIMIT_S = 15 * 60.0
PAIRS_FILE = "pairs.json"


@dataclass(frozen=True, slots=True)
class LabelledSet:
    name: str
    level: str
    questions: Sequence[Judged]


@dataclass(frozen=True, slots=True)
class TuneRequest:
    pairs: int = DEFAULT_PAIRS
    options: TrainOptions = TrainOptions()
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    method: str = "auto"  # who writes the questions: "auto" (chat model, else template), "llm", "template"
    restart: bool = False  # drop an unfinished run's pairs and checkpoint
    force_adopt: bool = False  # adopt whatever the figures say (benchmarks only)


@dataclass(frozen=True, slots=True)
class Models:
    """What tuning runs with. ``current_dir``: the folder of the model in use (what is trained);
    ``make``: the embedder of a model folder, run by the library's backend; ``export``: makes the ONNX
    copies inside a folder (None for the torch backend); ``base_model``: the setting, for the record."""

    current: Embedder
    current_dir: Path
    make: Callable[[Path], Embedder]
    export: Callable[[Path], None] | None
    chat: ChatModel | None
    base_model: str = ""
    backend: str = "onnx"


@dataclass(slots=True)
class TuneResult:
    adopted: bool
    reason: str
    pairs: PairSet
    results: list[SetResult] = field(default_factory=list)
    cosine: tuple[float, float] = (0.0, 0.0)  # mean held-out cosine before, after
    training: TrainReport | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    model_dir: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"adopted": self.adopted, "reason": self.reason, "train_pairs": len(self.pairs.train),
                "held_out_pairs": len(self.pairs.held_out), "attempted": self.pairs.attempted,
                "rejected": dict(self.pairs.rejected), "cosine_before": self.cosine[0], "cosine_after": self.cosine[1],
                "results": [r.to_json() for r in self.results], "seconds": self.seconds, "model_dir": self.model_dir,
                "training": None if self.training is None else asdict(self.training)}


def embed_passages(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Passages to store, through the embedder's document path where it has one (ONNX int8)."""
    documents = getattr(embedder, "embed_documents", None)
    return documents(texts) if documents is not None else embedder.embed(texts)


def tune_library(store: Store, models: Models, request: TuneRequest, labelled: Sequence[LabelledSet] = (),
                 should_cancel: Callable[[], bool] = never) -> Generator[TuneProgress, None, TuneResult]:
    """The whole action (see the module docstring); TuneError when it cannot start."""
    store.require_writable()
    with tune_lock(store.data_dir):
        return (yield from _TuneRun(store, models, request, labelled, should_cancel).run())


class _TuneRun:
    def __init__(self, store: Store, models: Models, request: TuneRequest, labelled: Sequence[LabelledSet],
                 should_cancel: Callable[[], bool]) -> None:
        self.store, self.models, self.request, self.labelled = store, models, request, labelled
        self.should_cancel = should_cancel
        self.started = time.monotonic()
        self.work = store.data_dir / WORK_DIR
        self.model_dir = store.data_dir / MODELS_DIR / time.strftime("tuned-%Y%m%d-%H%M%S")
        self.seconds: dict[str, float] = {}

    def run(self) -> Generator[TuneProgress, None, TuneResult]:
        adopted = False
        with VectorSets(self.store.db_path, self.store.index_path) as sets:
            try:
                result = yield from self._steps(sets)
                adopted = result.adopted
                shutil.rmtree(self.work, ignore_errors=True)  # finished: nothing to resume
                return result
            finally:
                if not adopted:  # cancelled, failed, or no gain: the library stays as it was
                    with contextlib.suppress(Exception):
                        sets.clear_staged()
                    shutil.rmtree(self.model_dir, ignore_errors=True)

    def _lap(self, name: str, since: float) -> float:
        now = time.monotonic()
        self.seconds[name] = round(now - since, 2)
        return now

    def _steps(self, sets: VectorSets) -> Generator[TuneProgress, None, TuneResult]:
        now = time.monotonic()
        pairs = yield from self._pairs()
        if len(pairs.train) < 2 * self.request.options.batch_size or len(pairs.held_out) < 10:
            raise TuneError(f"only {len(pairs.train)} training and {len(pairs.held_out)} held-out questions could "
                            "be written from this library: too few to tune on (add more documents)")
        now = self._lap("pairs", now)
        yield TuneProgress("measuring", 0, 2, "search with the current model")
        before = self._measure(self.models.current, sets.matrix(staged=False), pairs)
        now = self._lap("measure before", now)
        report = yield from self._train(pairs, sets.chunk_count())
        now = self._lap("training", now)
        if self.models.export is not None:
            yield TuneProgress("embedding", 0, sets.chunk_count(), "preparing the ONNX copy of the tuned model")
            self.models.export(self.model_dir)
        tuned = self.models.make(self.model_dir)
        yield from self._embed_all(sets, tuned)
        now = self._lap("re-embedding", now)
        yield TuneProgress("measuring", 1, 2, "search with the tuned model")
        after = self._measure(tuned, sets.matrix(staged=True), pairs)
        result = self._result(pairs, before, after, report)
        self._lap("measure after", now)
        if result.adopted:
            yield TuneProgress("switching", 0, 1, "switching the library to the tuned model")
            self._switch(sets, tuned, result)
        return result

    def _pairs(self) -> Generator[TuneProgress, None, PairSet]:
        """The unfinished run's pairs when they were made for the same library and request, else new ones."""
        saved, key = self.work / PAIRS_FILE, self._pairs_key()
        if self.request.restart:
            shutil.rmtree(self.work, ignore_errors=True)
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            raw = json.loads(saved.read_text(encoding="utf-8"))
            if raw["key"] == key:
                log.info("resuming the unfinished tuning run in %s", self.work)
                return PairSet.from_json(raw["pairs"])
        shutil.rmtree(self.work, ignore_errors=True)  # another run's checkpoint is of no use
        pairs = yield from build_pairs(self.store, self.request.pairs, self.models.chat, seed=self.request.options.seed,
                                       method=self.request.method, should_cancel=self.should_cancel)
        self.work.mkdir(parents=True, exist_ok=True)
        partial = saved.with_name(f"{PAIRS_FILE}.partial")
        partial.write_text(json.dumps({"key": key, "pairs": pairs.to_json()}), encoding="utf-8")
        partial.replace(saved)
        return pairs

    def _pairs_key(self) -> str:
        stats = self.store.stats()
        return json.dumps([self.request.pairs, self.request.method, self.request.options.seed, stats["chunks"],
                           stats["documents"], self.models.current.model_id])

    def _train(self, pairs: PairSet, chunks: int) -> Generator[TuneProgress, None, TrainReport]:
        """Train until done, or until the time limit less what re-embedding and measuring will take."""
        reserve = chunks * self.seconds_per_passage * 1.3 + 30.0
        deadline = self.started + self.request.time_limit_s - reserve
        return (yield from train(self.models.current_dir, pairs.train, self.model_dir, self.work,
                                 self.request.options, deadline=deadline, should_cancel=self.should_cancel))

    seconds_per_passage = 0.05  # until measured on this machine (_measure)

    def _measure(self, embedder: Embedder, matrix: tuple[np.ndarray, np.ndarray],
                 pairs: PairSet) -> dict[Any, Any]:
        """{(set name, level): (generated, per-question metrics)}, and "cosine": the held-out mean."""
        ids, vectors = matrix
        where = self._where()
        held = judged_from_pairs(pairs.held_out)
        sets = [("held-out generated questions", level, True, held) for level in ("page", "document")]
        sets += [(s.name, s.level, False, s.questions) for s in self.labelled]
        out: dict[Any, Any] = {}
        asked: dict[int, np.ndarray] = {}
        for name, level, generated, questions in sets:
            if id(questions) not in asked:
                asked[id(questions)] = embedder.embed([q.text for q in questions])
            out[(name, level)] = (generated, question_metrics(top_ids(vectors, ids, asked[id(questions)]),
                                                              questions, level, where))
        row = {int(i): n for n, i in enumerate(ids)}
        kept = [n for n, p in enumerate(pairs.held_out) if p.chunk_id in row]
        out["cosine"] = mean_cosine(asked[id(held)][kept], vectors[[row[pairs.held_out[n].chunk_id] for n in kept]])
        if embedder is self.models.current:  # how long re-embedding will take, for the time limit
            sample = [p.positive for p in pairs.held_out[:32]]
            began = time.monotonic()
            embed_passages(embedder, sample)
            self.seconds_per_passage = (time.monotonic() - began) / max(1, len(sample))
        return out

    def _where(self) -> dict[int, tuple[str, int, int]]:
        if not hasattr(self, "_locations"):
            with VectorSets(self.store.db_path, self.store.index_path) as sets:
                self._locations = sets.locations()
        return self._locations

    def _embed_all(self, sets: VectorSets, tuned: Embedder) -> Generator[TuneProgress, None, None]:
        """Every passage's vector by the tuned model, staged beside those in use."""
        sets.clear_staged()
        total, done, began = sets.chunk_count(), 0, time.monotonic()
        yield TuneProgress("embedding", 0, total, "embedding your passages with the tuned model")
        for ids, texts in sets.unstaged():
            if self.should_cancel():
                raise Cancelled("tuning cancelled while re-embedding; the library keeps its current model")
            sets.stage(ids, embed_passages(tuned, texts))
            done += len(ids)
            rate = (time.monotonic() - began) / done
            yield TuneProgress("embedding", done, total, "", seconds_left=rate * (total - done))

    def _result(self, pairs: PairSet, before: dict[Any, Any], after: dict[Any, Any],
                report: TrainReport) -> TuneResult:
        results: list[SetResult] = []
        for key, value in before.items():
            if key != "cosine":
                results.append(compare(key[0], key[1], value[0], value[1], after[key][1]))
        adopt, reason = decide(results)
        if self.request.force_adopt and not adopt:
            adopt, reason = True, f"adopted as asked, although: {reason}"
        return TuneResult(adopt, reason, pairs, results, (before["cosine"], after["cosine"]), report,
                          self.seconds, str(self.model_dir))

    def _switch(self, sets: VectorSets, tuned: Embedder, result: TuneResult) -> None:
        """The staged vectors and the record in one transaction; the FAISS cache rebuilt after."""
        previous = read_tuned(self.store.data_dir)
        record = TunedModel(
            folder=str(self.model_dir.relative_to(self.store.data_dir)), model_id=tuned.model_id,
            base_model_id=previous.base_model_id if previous else self.models.current.model_id,
            base_model=previous.base_model if previous else self.models.base_model, tuned_at=time.time(),
            pairs=len(result.pairs.train), gains=gains_summary(result), backend=self.models.backend)
        sets.switch(tuned.model_id, {META_KEY: record.to_json()}, lambda texts: embed_passages(tuned, texts),
                    keep_current=previous is None, drop_kept=False)
        self.store.rebuild_index()
        if previous is not None and previous.folder != record.folder:
            shutil.rmtree(previous.path(self.store.data_dir), ignore_errors=True)


def gains_summary(result: TuneResult) -> dict[str, Any]:
    """What Settings shows: the mean held-out cosine and each set's MRR@10 / hit@5 before and after."""
    sets = {f"{r.name} ({r.level})": {"before": r.before, "after": r.after, "p": r.p_value, "n": r.count,
                                      "generated": r.generated} for r in result.results}
    return {"cosine": list(result.cosine), "sets": sets}
