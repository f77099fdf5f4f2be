"""Watched folders in the window: "Watch a folder…" indexes it and lists it with what it is doing;
saved, deleted and new files are picked up while the window is open; a folder that goes away is
shown as an error and keeps its documents; a restart catches what changed while it was closed."""

# ruff: noqa: F811 - pytest fixtures imported from gui_helpers are used as arguments
from __future__ import annotations

from pathlib import Path

import pytest
from gui_helpers import data_dir, make_window, settings  # noqa: F401 - the fixtures
from gui_helpers import WAIT_MS, close_window, wait_idle
from PySide6.QtWidgets import QFileDialog

from desktop_rag.core.types import Stage


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "Notes"
    folder.mkdir()
    (folder / "volcanoes.md").write_text("# Volcanoes\n\nBasalt lava flows from magma chambers.\n")
    (folder / "rivers.txt").write_text("Rivers carry silt to the delta.\n")
    (folder / "~$draft.docx").write_bytes(b"an Office lock file: never indexed")
    return folder


def names(window) -> set[str]:  # noqa: ANN001
    return {d.name for d in window.engine.documents()}


def shown(window) -> list[str]:  # noqa: ANN001
    view = window.library.watched.list
    return [view.item(i).text() for i in range(view.count())]


def text_of(window, name: str) -> str:  # noqa: ANN001
    doc = next(d for d in window.engine.documents() if d.name == name)
    return " ".join(window.engine.store.page_texts_of(doc.id))


def watch_with_the_button(qtbot, window, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    window.library.watched.watch_button.click()
    qtbot.waitUntil(lambda: names(window) == {"volcanoes.md", "rivers.txt"}, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: shown(window) == ["Notes \u2014 idle"], timeout=WAIT_MS)


def test_a_watched_folder_is_indexed_and_kept_up_to_date(qtbot, make_window, notes: Path,  # noqa: ANN001
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window()
    assert shown(window) == [] and window.library.watched.hint.isVisibleTo(window)
    watch_with_the_button(qtbot, window, notes, monkeypatch)
    qtbot.waitUntil(lambda: {c.name: c.count for c in window.engine.collections()} == {"Notes": 2}, timeout=WAIT_MS)
    indexed: list[str] = []
    window.engine.ingest_progressed.connect(lambda e: e.stage == Stage.INDEXED and indexed.append(Path(e.path).name))
    for i in range(5):
        (notes / "volcanoes.md").write_text(f"# Volcanoes\n\nObsidian forms when lava cools fast (save {i}).\n")
    (notes / "rivers.txt").unlink()
    (notes / "glaciers.md").write_text("# Glaciers\n\nGlaciers carve fjords.\n")
    qtbot.waitUntil(lambda: names(window) == {"volcanoes.md", "glaciers.md"}
                    and "save 4" in text_of(window, "volcanoes.md"), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert indexed.count("volcanoes.md") == 1  # five saves in a row, indexed once
    qtbot.waitUntil(lambda: {c.name: c.count for c in window.engine.collections()} == {"Notes": 2}, timeout=WAIT_MS)


def test_a_folder_that_goes_away_keeps_its_documents_and_comes_back(qtbot, make_window, notes: Path,  # noqa: ANN001
                                                                    tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window()
    watch_with_the_button(qtbot, window, notes, monkeypatch)
    notes.rename(tmp_path / "unplugged")
    qtbot.waitUntil(lambda: shown(window) and "error: not found" in shown(window)[0], timeout=WAIT_MS)
    assert "is not found" in window.banner.message and names(window) == {"volcanoes.md", "rivers.txt"}
    (tmp_path / "unplugged" / "new.md").write_text("# New\n\nWritten while the drive was elsewhere.\n")
    (tmp_path / "unplugged").rename(notes)
    qtbot.waitUntil(lambda: "new.md" in names(window), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: shown(window) == ["Notes \u2014 idle"], timeout=WAIT_MS)
    window.library.watched.list.setCurrentRow(0)
    window.library.watched.stop_button.click()
    qtbot.waitUntil(lambda: shown(window) == [], timeout=WAIT_MS)
    assert names(window) == {"volcanoes.md", "rivers.txt", "new.md"}  # stopping keeps the documents


def test_changes_made_while_the_app_was_closed_are_caught_at_start(qtbot, make_window, notes: Path,  # noqa: ANN001
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window()
    watch_with_the_button(qtbot, window, notes, monkeypatch)
    wait_idle(qtbot, window)
    close_window(qtbot, window)
    (notes / "volcanoes.md").write_text("# Volcanoes\n\nPumice floats on water.\n")
    (notes / "rivers.txt").unlink()
    (notes / "broken.docx").write_bytes(b"not a zip")
    again = make_window()
    qtbot.waitUntil(lambda: names(again) == {"volcanoes.md", "broken.docx"}
                    and "Pumice" in text_of(again, "volcanoes.md"), timeout=WAIT_MS)
    wait_idle(qtbot, again)
    assert "could not be indexed" in again.banner.message
