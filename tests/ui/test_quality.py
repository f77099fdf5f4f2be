"""Library > Check retrieval quality: runs self-evaluation on the library and shows table and chart."""

# ruff: noqa: F811 - pytest fixtures imported from gui_helpers are used as arguments
from __future__ import annotations

from pathlib import Path

from gui_helpers import data_dir, docs, make_window, settings  # noqa: F401 - the fixtures
from gui_helpers import WAIT_MS, index_docs
from desktop_rag.eval_service import EvalProgress


def test_quality_check_on_an_empty_library_says_what_to_do(make_window) -> None:
    window = make_window()
    assert window.check_quality() is None
    assert "Add documents first" in window.statusBar().currentMessage()


def test_quality_check_shows_table_and_chart(qtbot, make_window, docs: Path) -> None:
    window = make_window()
    index_docs(qtbot, window, [docs])
    worker = window.check_quality()
    assert worker is not None and not window.quality_action.isEnabled()
    qtbot.waitUntil(lambda: getattr(window, "quality_dialog", None) is not None, timeout=WAIT_MS)
    dialog = window.quality_dialog
    table = dialog.table.toPlainText()
    assert "hit@5" in table and "hybrid" in table and "dense" in table and "keyword" in table
    assert not dialog.chart.pixmap().isNull() and dialog.chart.pixmap().width() > 100
    qtbot.waitUntil(window.quality_action.isEnabled, timeout=WAIT_MS)
    dialog.close()


def test_a_crash_in_the_quality_check_opens_one_dialog(qtbot, make_window, docs: Path, monkeypatch) -> None:  # noqa: ANN001
    import desktop_rag.eval_service

    def crashing(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        yield EvalProgress("generating", 0, 1)
        raise ZeroDivisionError("a bug in the check")

    monkeypatch.setattr(desktop_rag.eval_service, "run_self_evaluation", crashing)
    window = make_window()
    index_docs(qtbot, window, [docs])
    window.check_quality()
    qtbot.waitUntil(lambda: bool(window.error_dialogs), timeout=WAIT_MS)
    qtbot.waitUntil(window.quality_action.isEnabled, timeout=WAIT_MS)
    qtbot.wait(100)  # a second report would arrive now
    assert len(window.error_dialogs) == 1
    assert "ZeroDivisionError: a bug in the check" in window.error_dialogs[0].text()
    assert getattr(window, "quality_dialog", None) is None
