"""Library > Adapt search to my documents…, and Settings > Embeddings > Return to the original model."""

# ruff: noqa: F811 - pytest fixtures imported from gui_helpers are used as arguments
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import data_dir, make_window, settings  # noqa: F401 - the fixtures
from gui_helpers import WAIT_MS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "tune"))
from fakes import HashEmbedder  # noqa: E402
from tune_library import build_library, vectors_of  # noqa: E402

import desktop_rag.tune_service as tune_service  # noqa: E402
from desktop_rag.core.tune.pairs import PairSet, TuneProgress  # noqa: E402
from desktop_rag.core.tune.run import TuneResult  # noqa: E402
from desktop_rag.core.tune.state import META_KEY, TunedModel  # noqa: E402
from desktop_rag.core.tune.vectors import VectorSets  # noqa: E402
from desktop_rag.ui.settings_dialog import SettingsDialog  # noqa: E402


def _tuned(data: Path, folder_exists: bool) -> np.ndarray:
    """The library switched to a 'tuned' model (its original vectors kept); returns those."""
    tuned = HashEmbedder(dimension=64, model_id="tuned-x")
    with build_library(data) as store:
        old = vectors_of(store)
        with VectorSets(store.db_path, store.index_path) as sets:
            for ids, texts in sets.unstaged():
                sets.stage(ids, tuned.embed(texts) * -1)
            record = TunedModel("embedding-models/tuned-x", "tuned-x", "hash-embedder", "", 0.0, 480)
            sets.switch("tuned-x", {META_KEY: record.to_json()}, tuned.embed, keep_current=True, drop_kept=False)
    if folder_exists:
        (data / "embedding-models" / "tuned-x").mkdir(parents=True)
        (data / "embedding-models" / "tuned-x" / "config.json").write_text("{}")
    return old


def test_a_library_too_small_is_refused_with_the_reason(make_window, qtbot) -> None:  # noqa: ANN001
    window = make_window()
    qtbot.waitUntil(lambda: not window.engine.busy, timeout=WAIT_MS)
    assert window.tune.open_dialog() is None
    assert "at least 200" in window.statusBar().currentMessage()


def test_tuning_shows_progress_and_the_result(make_window, qtbot, data_dir: Path, monkeypatch) -> None:  # noqa: ANN001
    build_library(data_dir).close()

    def fake_run(services, request, files, should_cancel):  # noqa: ANN001, ANN202
        yield TuneProgress("training", 3, 10, "loss 1.2", 1.2, 90.0)
        return TuneResult(False, "no improvement beyond noise", PairSet(), cosine=(0.5, 0.6))

    monkeypatch.setattr(tune_service, "run_tune", fake_run)
    window = make_window()
    dialog = window.tune.open_dialog()
    assert dialog is not None and "kept aside to measure" in dialog.intro.text()
    dialog.start_button.click()
    assert window.tune.worker is not None
    assert window.tune.start() is None  # a second run while one runs is refused
    qtbot.waitUntil(lambda: dialog.close_button.isVisible(), timeout=WAIT_MS)
    assert "search is unchanged" in dialog.stage.text()
    assert "NOT ADOPTED" in dialog.result.toPlainText() and "0.500 -> 0.600" in dialog.result.toPlainText()
    qtbot.waitUntil(lambda: window.tune.worker is None, timeout=WAIT_MS)


def test_settings_show_the_tuned_model_and_return_to_the_original(make_window, qtbot, data_dir: Path,
                                                                   monkeypatch) -> None:  # noqa: ANN001
    old = _tuned(data_dir, folder_exists=True)
    monkeypatch.setattr(tune_service, "make_embedder", lambda settings, model=None: HashEmbedder())
    window = make_window()
    dialog = SettingsDialog(window.engine.settings, None, window)
    box = dialog.embeddings
    assert "trained on 480 question/passage pairs" in box.description.text() and not box.revert_button.isHidden()
    box.revert_button.click()
    qtbot.waitUntil(lambda: "original embedding model" in box.description.text(), timeout=WAIT_MS)
    assert box.revert_button.isHidden()
    assert np.allclose(vectors_of(window.engine.store), old)
    assert window.engine.store.meta("embed_model") == "hash-embedder"
    dialog.close()


def test_a_missing_tuned_model_is_announced_with_the_way_back(make_window, qtbot, data_dir: Path,
                                                             monkeypatch) -> None:  # noqa: ANN001
    old = _tuned(data_dir, folder_exists=False)
    monkeypatch.setattr(tune_service, "make_embedder", lambda settings, model=None: HashEmbedder())
    window = make_window(load_models=False)
    qtbot.waitUntil(lambda: "missing" in window.banner.label.text(), timeout=WAIT_MS)
    buttons = {b.text(): b for b in window.banner.action_buttons}
    buttons["Return to the original model"].click()
    qtbot.waitUntil(lambda: window.engine.store.meta("embed_model") == "hash-embedder", timeout=WAIT_MS)
    assert np.allclose(vectors_of(window.engine.store), old)
    qtbot.waitUntil(lambda: window.tune.worker is None, timeout=WAIT_MS)


@pytest.mark.parametrize("ingesting", [True])
def test_tuning_waits_for_indexing_to_finish(make_window, data_dir: Path, ingesting: bool, monkeypatch) -> None:  # noqa: ANN001
    build_library(data_dir).close()
    window = make_window()
    monkeypatch.setattr(type(window.engine), "ingesting", property(lambda self: ingesting))
    assert window.tune.open_dialog() is None
    assert "being indexed" in window.statusBar().currentMessage()
