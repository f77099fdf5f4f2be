"""Settings > Language model: models found on this machine, bad model files refused before they
replace the model in use, and the download dialog with progress, cancel and resume."""

# ruff: noqa: F811 - pytest fixtures imported from gui_helpers are used as arguments
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from gui_helpers import data_dir, make_window, settings  # noqa: F401 - the fixtures
from gui_helpers import WAIT_MS
from desktop_rag.core.models.llama_cpp import bundled_llm_path
from file_server import serving
from gguf_files import write_gguf

TINY = "someone/Tiny-GGUF/Tiny-Q8_0.gguf"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    for name in ("OLLAMA_MODELS", "HF_HOME", "HF_HUB_CACHE"):
        monkeypatch.delenv(name, raising=False)
    models = home / ".lmstudio/models/someone/Tiny-GGUF"
    write_gguf(models / "Tiny-Q8_0.gguf", name="LM Tiny")
    write_gguf(models / "mmproj-f16.gguf", arch="clip")
    (models / "Cut-Q4.gguf").write_bytes(write_gguf(models / "whole.tmp").read_bytes()[:3000])
    (models / "whole.tmp").unlink()
    return home


def _rows(picker) -> dict:  # noqa: ANN001
    table = picker.table
    return {table.topLevelItem(i).text(0): table.topLevelItem(i) for i in range(table.topLevelItemCount())}


def _open_settings(qtbot, window):  # noqa: ANN001, ANN202
    dialog = window.open_settings()
    qtbot.waitUntil(lambda: "found" in dialog.model_picker.status.text(), timeout=WAIT_MS)
    return dialog


def test_models_found_are_listed_and_one_can_be_picked(qtbot, make_window, home: Path) -> None:  # noqa: ANN001
    window = make_window(load_models=False)
    dialog = _open_settings(qtbot, window)
    rows = _rows(dialog.model_picker)
    assert {TINY, "someone/Tiny-GGUF/mmproj-f16.gguf", "someone/Tiny-GGUF/Cut-Q4.gguf",
            bundled_llm_path().name} <= set(rows)
    assert rows[bundled_llm_path().name].isSelected()  # the model in use
    tiny = rows[TINY]
    assert [tiny.text(c) for c in (1, 2, 4)] == ["LM Studio", "F32", "2,048"]
    # a GGUF without a chat template or an "instruct" name is usable, and said to be a base model
    assert "base model, answers poorly" in tiny.text(7) and "base model" in tiny.toolTip(0)
    assert "base model" not in rows[bundled_llm_path().name].text(7)
    cut = rows["someone/Tiny-GGUF/Cut-Q4.gguf"]
    assert not cut.flags() & Qt.ItemFlag.ItemIsSelectable and "truncated" in cut.text(7)
    assert "2 cannot be used" in dialog.model_picker.status.text()
    dialog.model_picker.table.setCurrentItem(tiny)
    assert dialog.llm_model.currentData() == str(home / ".lmstudio/models" / TINY)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert window.engine.settings.llm_model == str(home / ".lmstudio/models" / TINY)


@pytest.mark.parametrize(("file", "why"), [("Cut-Q4.gguf", "truncated"), ("mmproj-f16.gguf", "vision projector")])
def test_a_bad_model_file_is_refused_and_the_model_in_use_stays(qtbot, make_window, home: Path,  # noqa: ANN001
                                                                file: str, why: str) -> None:
    window = make_window(load_models=False)
    dialog = _open_settings(qtbot, window)
    dialog.set_llm_model(str(home / ".lmstudio/models/someone/Tiny-GGUF" / file))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.isVisible() and "The language model was not changed" in dialog.error.text()
    assert why in dialog.error.text() and file in dialog.error.text()
    assert window.engine.settings.llm_model == ""  # still the bundled model
    dialog.reject()


def test_a_folder_added_that_is_gone_is_reported(qtbot, make_window, home: Path, tmp_path: Path) -> None:  # noqa: ANN001
    window = make_window(load_models=False)
    dialog = _open_settings(qtbot, window)
    dialog.model_picker.add_folder(str(tmp_path / "usb-stick"))
    qtbot.waitUntil(lambda: "Skipped" in dialog.model_picker.status.text(), timeout=WAIT_MS)
    assert "usb-stick: folder not found (an unmounted drive?)" in dialog.model_picker.status.text()
    assert TINY in _rows(dialog.model_picker)  # the rest is still listed
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert window.engine.settings.model_folders == (str(tmp_path / "usb-stick"),)


@pytest.fixture
def file_server() -> Iterator[str]:
    with serving(bundled_llm_path().parent) as base:
        yield f"{base}/{bundled_llm_path().name}"


def test_download_with_cancel_then_to_the_end(qtbot, make_window, home: Path, file_server: str) -> None:  # noqa: ANN001
    window = make_window(load_models=False)
    settings_dialog = _open_settings(qtbot, window)
    dialog = settings_dialog.open_download()
    dialog.url.setText(file_server)
    dialog.start()
    dialog.cancel()  # asked at once: the download stops at its first cancel point, after a megabyte
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)
    assert dialog.status.text().startswith("Cancelled") and dialog.start_button.isEnabled()
    folder = home / ".local/share/desktop-rag/models"
    assert [p.name for p in folder.iterdir()] == [bundled_llm_path().name + ".part"]  # never listed as a model
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)
    assert dialog.status.text().startswith("Done") and dialog.progress.value() == dialog.progress.maximum()
    assert (folder / bundled_llm_path().name).read_bytes() == bundled_llm_path().read_bytes()
    picker = settings_dialog.model_picker
    qtbot.waitUntil(lambda: picker.current_path() == str(folder / bundled_llm_path().name), timeout=WAIT_MS)
    dialog.reject()
    settings_dialog.reject()


def test_a_failed_download_says_why(qtbot, make_window, home: Path, file_server: str) -> None:  # noqa: ANN001
    window = make_window(load_models=False)
    dialog = _open_settings(qtbot, window).open_download()
    dialog.url.setText(file_server.rsplit("/", 1)[0] + "/missing.gguf")
    dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=WAIT_MS)
    assert "The download failed" in dialog.status.text() and "HTTP 404" in dialog.status.text()
    dialog.reject()
