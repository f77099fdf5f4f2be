"""Training the real bundled model a few tiny steps: cancel, checkpoint, resume, a folder that loads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_rag.core.models.embedder import SentenceTransformerEmbedder, bundled_embedding_model_dir
from desktop_rag.core.tune.pairs import TrainingPair
from desktop_rag.core.tune.train import CHECKPOINT, TrainOptions, plan_batches, train
from desktop_rag.core.types import Events
from desktop_rag.errors import Cancelled

pytest.importorskip("sentence_transformers")

OPTIONS = TrainOptions(epochs=1, batch_size=4, max_seq_length=32, threads=1, checkpoint_s=3600)


def pairs(n: int = 16) -> list[TrainingPair]:
    return [TrainingPair(f"What happened to widget{i} sales?", f"Widget{i} sales rose {i}% in the quarter.",
                         f"Gadget{i} costs fell.", i, "a.pdf", "a.pdf", i + 1, i + 1, "template") for i in range(n)]


def run(gen):  # noqa: ANN001, ANN201
    events = Events(gen)
    seen = list(events)
    return events.result, seen


def test_batches_are_full_and_seeded() -> None:
    plan = plan_batches(18, TrainOptions(epochs=2, batch_size=4))
    assert len(plan) == 8 and all(len(b) == 4 for b in plan)
    assert plan == plan_batches(18, TrainOptions(epochs=2, batch_size=4))


def test_cancel_keeps_a_checkpoint_and_the_next_run_resumes_from_it(tmp_path: Path) -> None:
    out, work = tmp_path / "tuned", tmp_path / "work"
    work.mkdir()
    steps: list[int] = []
    gen = train(bundled_embedding_model_dir(), pairs(), out, work, OPTIONS, should_cancel=lambda: len(steps) >= 2)
    with pytest.raises(Cancelled, match="resume"):
        for event in gen:
            if event.done and event.loss is not None:
                steps.append(event.done)
    assert (work / CHECKPOINT).is_file() and not out.exists()
    report, events = run(train(bundled_embedding_model_dir(), pairs(), out, work, OPTIONS))
    assert report.resumed_from == 2 and report.steps == report.total_steps == 4
    assert [e.done for e in events if e.loss is not None] == [3, 4]
    vectors = SentenceTransformerEmbedder(out, batch_size=4, threads=1).embed(["widget3 sales", "gadget costs"])
    assert vectors.shape == (2, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)


def test_the_time_limit_ends_training_early_with_a_model(tmp_path: Path) -> None:
    report, _ = run(train(bundled_embedding_model_dir(), pairs(), tmp_path / "tuned", tmp_path, OPTIONS, deadline=0.0))
    assert report.stopped_early and report.steps == 0 and (tmp_path / "tuned" / "config.json").is_file()
