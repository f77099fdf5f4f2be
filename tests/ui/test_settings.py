"""The settings dialog: values round-trip through a restart; chunking changes offer to re-index."""

# ruff: noqa: F811 - pytest fixtures imported from gui_helpers are used as arguments
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from gui_helpers import data_dir, docs, make_window, settings  # noqa: F401 - the fixtures
from gui_helpers import WAIT_MS, close_window, index_docs, wait_idle
from desktop_rag.config import load_settings
from gguf_files import write_gguf


def _ok(dialog) -> None:  # noqa: ANN001
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()


def test_settings_round_trip_through_restart(qtbot, make_window, tmp_path: Path) -> None:
    gguf = write_gguf(tmp_path / "my-model.gguf")  # a model file is checked before it is accepted
    window = make_window(load_models=False)
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = window.settings_dialog
    assert dialog.isVisible()
    dialog.set_llm_model(str(gguf))
    dialog.temperature.setValue(0.7)
    dialog.threads.setValue(3)
    dialog.n_ctx.setValue(8192)
    dialog.fast_prompt.setChecked(False)
    dialog.mode.setCurrentIndex(dialog.mode.findData("keyword"))
    dialog.chunk_tokens.setValue(120)
    dialog.chunk_overlap.setValue(10)
    dialog.remote_group.setChecked(False)
    _ok(dialog)
    assert not dialog.isVisible()
    assert window.engine.settings.temperature == 0.7
    close_window(qtbot, window)

    saved = load_settings()  # what the next start reads
    assert (saved.llm_model, saved.temperature, saved.n_threads, saved.n_ctx) == (str(gguf), 0.7, 3, 8192)
    assert (saved.retrieval_mode, saved.chunk_tokens, saved.chunk_overlap) == ("keyword", 120, 10)
    assert saved.fast_prompt_copy is False
    again = make_window(settings_=saved, load_models=False)
    dialog = again.open_settings()
    assert dialog.llm_model.currentData() == str(gguf)
    assert dialog.temperature.value() == 0.7 and dialog.mode.currentData() == "keyword"
    assert dialog.chunk_tokens.value() == 120 and dialog.chunk_overlap.value() == 10
    assert not dialog.fast_prompt.isChecked()
    dialog.reject()


def test_invalid_settings_are_explained_in_the_dialog(qtbot, make_window) -> None:
    window = make_window(load_models=False)
    dialog = window.open_settings()
    dialog.chunk_tokens.setValue(40)
    dialog.chunk_overlap.setValue(30)  # more than half the passage
    _ok(dialog)
    assert dialog.isVisible() and "chunk_overlap" in dialog.error.text()
    dialog.reject()
    assert window.engine.settings.chunk_overlap == 32


def test_changing_passage_size_offers_to_reindex(qtbot, make_window, docs: Path) -> None:
    window = make_window()
    index_docs(qtbot, window, [docs])
    before = window.engine.stats()["chunks"]
    dialog = window.open_settings()
    dialog.chunk_tokens.setValue(16)
    dialog.chunk_overlap.setValue(2)
    _ok(dialog)
    buttons = {b.text(): b for b in window.banner.action_buttons}
    assert "Re-index everything now" in buttons
    qtbot.mouseClick(buttons["Re-index everything now"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.engine.stats()["chunks"] > before and not window.engine.ingesting,
                    timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert window.engine.stats()["documents"] == 2


def test_font_scaling_changes_and_persists(qtbot, make_window) -> None:
    from PySide6.QtWidgets import QApplication

    window = make_window(load_models=False)
    size = QApplication.font().pointSizeF()
    qtbot.keyClick(window, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.font().pointSizeF() > size
    assert int(window.ui_state.value("view/font_steps")) == 1
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.font().pointSizeF() == size


def test_the_first_window_fits_a_small_screen() -> None:
    from PySide6.QtCore import QRect, QSize

    from desktop_rag.ui.main_window import first_run_size

    assert first_run_size(QRect(0, 0, 1280, 800)) == QSize(1216, 760)
    assert first_run_size(QRect(0, 0, 2560, 1440)) == QSize(1440, 860)
    assert first_run_size(None) == QSize(1440, 860)


def test_the_dialog_fits_a_small_screen_with_its_buttons_in_view(qtbot, settings) -> None:  # noqa: F811
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QScrollArea

    from desktop_rag.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(settings)
    qtbot.addWidget(dialog)
    screen = QGuiApplication.primaryScreen().availableGeometry()
    area = dialog.findChild(QScrollArea)
    assert dialog.sizeHint().height() <= screen.height()  # the groups scroll; OK and Cancel stay on screen
    assert area is not None and area.widget().isAncestorOf(dialog.llm_model)
    assert not area.isAncestorOf(dialog.buttons)
