"""Scanned PDFs in the window: the row says which page OCR is reading and, once indexed, that OCR read it;
a source on a scanned page is shown with the passage highlighted on the image; Settings turns OCR off."""

# ruff: noqa: F811 - pytest fixtures imported from gui_helpers are used as arguments
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from gui_helpers import data_dir, make_window, settings  # noqa: F401 - the fixtures
from gui_helpers import WAIT_MS, close_window, index_docs, rows_by_name, wait_idle
from desktop_rag.config import load_settings
from desktop_rag.core.types import DocumentInfo, DocumentStatus, IngestProgress, Stage
from desktop_rag.ui.library_model import DocumentTableModel, progress_fraction, row_from_document
from scans import write_scan

TIDES = "Lighthouse keepers record the harbour tides every morning before the fishing boats leave."


def document(ocr_pages: int, pages: int = 3) -> DocumentInfo:
    return DocumentInfo(1, "/d/scan.pdf", "scan.pdf", "ab", 1, 1.0, pages, 4, DocumentStatus.INDEXED, "", 1.0, "",
                        ocr_pages)


def test_a_row_says_which_page_ocr_reads_then_that_ocr_read_the_document(qtbot) -> None:  # noqa: ANN001
    model = DocumentTableModel()
    reading = IngestProgress("/d/scan.pdf", Stage.EXTRACTING, 0, 1, pages_done=2, pages_total=40,
                             message="reading page 3 of 40 (OCR)")
    model.apply_progress(reading)

    assert model.row_for("/d/scan.pdf").status_text == "Reading page 3 of 40 (OCR)…"
    assert 0.02 < progress_fraction(reading) < 0.2  # before chunking's 0.2: the bar moves page by page
    assert row_from_document(document(3)).status_text == "Indexed (OCR)"
    assert row_from_document(document(1)).status_text == "Indexed (OCR: 1 page)"
    assert row_from_document(document(0)).status_text == "Indexed"


def test_a_source_on_a_scanned_page_shows_the_passage_highlighted_on_the_image(
        qtbot, make_window, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "made").mkdir()
    scan = write_scan(tmp_path / "made" / "scan.pdf", [TIDES])
    window = make_window()
    index_docs(qtbot, window, [scan])
    assert rows_by_name(window)["scan.pdf"].status_text == "Indexed (OCR)"
    window.chat.question.setFocus()
    qtbot.keyClicks(window.chat.question, "When do lighthouse keepers record the tides?")
    qtbot.keyClick(window.chat.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.chat.answering and window.sources.list.count() > 0, timeout=WAIT_MS)
    sources = window.sources
    sources.page_view.show_message("nothing yet")
    item_rect = sources.list.visualItemRect(sources.list.item(0))
    qtbot.mouseClick(sources.list.viewport(), Qt.MouseButton.LeftButton, pos=item_rect.center())
    qtbot.waitUntil(lambda: sources.page_view.highlight_count > 0, timeout=WAIT_MS)
    page = sources.page_view.page
    assert page.path.endswith("scan.pdf") and page.width > 0
    assert all(0 <= r[0] < r[2] <= page.width and 0 <= r[1] < r[3] <= page.height for r in page.highlights)


def test_ocr_is_on_by_default_and_the_settings_dialog_turns_it_off_for_good(qtbot, make_window) -> None:  # noqa: ANN001
    window = make_window(load_models=False)
    dialog = window.open_settings()
    assert dialog.ocr.isChecked()
    dialog.ocr.setChecked(False)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert window.engine.settings.ocr is False
    wait_idle(qtbot, window)
    close_window(qtbot, window)
    assert load_settings().ocr is False  # what the next start reads
    again = make_window(settings_=load_settings(), load_models=False)
    assert not again.open_settings().ocr.isChecked()
