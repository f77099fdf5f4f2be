"""The whole action with stand-in models: adopted only when better, and the library untouched otherwise."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import HashEmbedder
from tune_library import build_library, vectors_of

from desktop_rag.core.tune import run as tune_run
from desktop_rag.core.tune.pairs import TuneProgress
from desktop_rag.core.tune.run import Models, TuneRequest, tune_library
from desktop_rag.core.tune.state import META_KEY, WORK_DIR, read_tuned, tuned_model_dir
from desktop_rag.core.tune.train import TrainOptions, TrainReport
from desktop_rag.core.types import Events
from desktop_rag.errors import Cancelled

POOR = HashEmbedder(dimension=8, model_id="poor")  # words collide: retrieval is weak
GOOD = HashEmbedder(dimension=1024, model_id="tuned-good")
REQUEST = TuneRequest(pairs=120, options=TrainOptions(batch_size=8), method="template")


def fake_train(fail: BaseException | None = None):  # noqa: ANN201
    def train(base, pairs, out_dir, work_dir, options, *, deadline, should_cancel):  # noqa: ANN001, ANN202
        yield TuneProgress("training", 1, 1, "loss 1.0", 1.0, 0.0)
        if fail is not None:
            raise fail
        out_dir.mkdir(parents=True)
        (out_dir / "config.json").write_text("{}")
        return TrainReport(1, 1, 0.1, 1.0, False, 0)
    return train


def models(tuned: HashEmbedder, exported: list[Path] | None = None) -> Models:
    return Models(current=POOR, current_dir=Path("/nowhere"), make=lambda folder: tuned,
                  export=None if exported is None else exported.append, chat=None)


def drive(gen) -> tuple[Any, list[TuneProgress]]:  # noqa: ANN001
    events = Events(gen)
    seen = list(events)
    return events.result, seen


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setattr(tune_run, "train", fake_train())
    with build_library(tmp_path, embedder=POOR) as store:
        yield store


def test_a_better_model_is_adopted_and_recorded(library) -> None:  # noqa: ANN001
    exported: list[Path] = []
    result, events = drive(tune_library(library, models(GOOD, exported), REQUEST))
    assert result.adopted, result.reason
    assert {e.stage for e in events} >= {"pairs", "training", "embedding", "measuring", "switching"}
    tuned = read_tuned(library.data_dir)
    assert tuned is not None and tuned.model_id == "tuned-good" and tuned.base_model_id == "poor"
    assert tuned_model_dir(library.data_dir) == Path(result.model_dir) == exported[0]
    assert library.meta("embed_model") == "tuned-good" and tuned.gains["sets"]
    texts = [r[0] for r in library._db.execute("SELECT text FROM chunks ORDER BY id")]
    assert np.allclose(vectors_of(library), GOOD.embed(texts))
    assert not (library.data_dir / WORK_DIR).exists()
    page = next(r for r in result.results if r.level == "page" and r.generated)
    assert page.after["mrr@10"] > page.before["mrr@10"] and page.p_value < 0.05


def test_a_model_that_does_not_help_changes_nothing(library) -> None:  # noqa: ANN001
    same = HashEmbedder(dimension=8, model_id="tuned-same")
    old = vectors_of(library)
    result, _ = drive(tune_library(library, models(same), REQUEST))
    assert not result.adopted and "no improvement" in result.reason
    assert np.array_equal(vectors_of(library), old) and library.meta("embed_model") == "poor"
    assert library.meta(META_KEY) is None and not Path(result.model_dir).exists()
    assert library._db.execute("SELECT count(*) FROM tune_staged_vectors").fetchone()[0] == 0


def test_cancel_while_re_embedding_leaves_the_original(library) -> None:  # noqa: ANN001
    old = vectors_of(library)
    stages: list[str] = []
    gen = tune_library(library, models(GOOD), REQUEST, should_cancel=lambda: stages[-1:] == ["embedding"])
    with pytest.raises(Cancelled, match="keeps its current model"):
        for event in gen:
            stages.append(event.stage)
    assert np.array_equal(vectors_of(library), old) and library.meta(META_KEY) is None
    assert not list((library.data_dir / "embedding-models").glob("tuned-*"))
    assert library._db.execute("SELECT count(*) FROM tune_staged_vectors").fetchone()[0] == 0


def test_a_full_disk_while_saving_the_model_leaves_the_original(library, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(tune_run, "train", fake_train(OSError(28, "No space left on device")))
    old = vectors_of(library)
    with pytest.raises(OSError, match="No space"):
        drive(tune_library(library, models(GOOD), REQUEST))
    assert np.array_equal(vectors_of(library), old) and library.meta("embed_model") == "poor"
    assert (library.data_dir / WORK_DIR / "pairs.json").is_file()  # the next run resumes with these pairs


def test_a_killed_run_resumes_with_its_pairs(library) -> None:  # noqa: ANN001
    gen = tune_library(library, models(GOOD), REQUEST)
    for event in gen:
        if event.stage == "training":
            break
    gen.close()
    saved = (library.data_dir / WORK_DIR / "pairs.json").read_text()
    result, events = drive(tune_library(library, models(GOOD), REQUEST))
    assert result.adopted and not any(e.stage == "pairs" for e in events)
    assert len(result.pairs.train) + len(result.pairs.held_out) == 120 and saved
