"""The window with the files of issue 14: it gives the same reasons as the command line, shows a
name that is not UTF-8 readably and still cites, previews and removes that file, and opens a
library it may not write for reading, saying so."""

# ruff: noqa: F811 - pytest fixtures imported from gui_helpers are used as arguments
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from bad_inputs import SHOWN, latin1_path, mixed_folder
from desktop_rag.cli import main as cli_main
from desktop_rag.config import Settings
from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.ingest.pipeline import ChunkOptions, Ingestion
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Events
from desktop_rag.ui.library_model import NAME
from fakes import HashEmbedder, StreamingChatModel
from gui_helpers import data_dir, docs, make_window, settings  # noqa: F401 - the fixtures
from gui_helpers import WAIT_MS, drop_paths, rows_by_name, wait_idle
from pdfs import write_pdf
from read_only_paths import ReadOnly, read_only  # noqa: F401 - the fixture

COFFEE = "Coffee from the cafe is strong and bitter, roasted dark in small batches."


def ask(qtbot, window, question: str) -> None:  # noqa: ANN001
    window.chat.question.setFocus()
    qtbot.keyClicks(window.chat.question, question)
    qtbot.keyClick(window.chat.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not window.chat.answering and window.chats.worker is None, timeout=WAIT_MS)


def index_here(data: Path, *paths: Path) -> None:
    """Index with the core, as the command line does (the window's models: the hash embedder)."""
    with Store(data) as store, PdfExtractor(60, 512) as extractor:
        list(Events(Ingestion(store, HashEmbedder(), extractor, ChunkOptions(200, 32)).run(list(paths))))


def cli_failures(monkeypatch: pytest.MonkeyPatch, data: Path, folder: Path) -> dict[str, str]:
    """{path: reason} of the files ``desktop-rag ingest FOLDER`` could not index (fake models)."""
    from desktop_rag.services import Services

    monkeypatch.setattr(Services, "embedder", property(lambda self: HashEmbedder()))
    assert cli_main(["--data-dir", str(data), "ingest", str(folder)]) == 1
    with Store(data) as store:
        return {d.path: d.error for d in store.documents() if d.status == "failed"}


@pytest.mark.timeout(180)
def test_the_window_gives_the_same_reasons_as_the_command_line(qtbot, make_window, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "mixed"
    reasons = mixed_folder(folder, with_latin1=False)
    expected = cli_failures(monkeypatch, tmp_path / "cli-data", folder)
    assert len(expected) == len(reasons)
    window = make_window()
    drop_paths(window.library, [folder])
    qtbot.waitUntil(lambda: not window.engine.ingesting, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    rows = window.library.model.rows()
    assert {r.path: r.message for r in rows if r.status == "failed"} == expected
    assert {r.name for r in rows if r.status == "indexed"} == {"good-1.pdf", "good-2.pdf"}
    for row in rows:
        if row.status == "failed":  # the row shows the reason, without the file name it repeats
            assert expected[row.path].endswith(row.status_text.removeprefix("Failed: ")), row.status_text
    assert f"{len(expected)} files could not be indexed" in window.banner.message


def test_a_name_that_is_not_utf8_is_listed_cited_previewed_and_removed(qtbot, make_window, tmp_path: Path,
                                                                       data_dir: Path) -> None:
    latin1 = write_pdf(latin1_path(tmp_path), [COFFEE, "The second page is about tea leaves."])
    other = write_pdf(tmp_path / "garden.pdf", ["Tomatoes need full sun and regular watering."])
    index_here(data_dir, latin1, other)
    window = make_window(chat_model=StreamingChatModel("Coffee from the cafe is strong and bitter."))
    rows = rows_by_name(window)
    assert set(rows) == {SHOWN, "garden.pdf"} and rows[SHOWN].path == str(latin1)
    model = window.library.model
    i = [r.name for r in model.rows()].index(SHOWN)
    assert model.data(model.index(i, NAME)) == SHOWN
    assert model.data(model.index(i, NAME), Qt.ItemDataRole.ToolTipRole).startswith(f"{tmp_path}/{SHOWN}")

    ask(qtbot, window, "Is the coffee from the cafe strong?")
    sources = window.sources
    [cited] = [c for c in sources.citations if c.file == SHOWN]
    assert cited.path == str(latin1)
    sources.show_citations(sources.citations, select=cited.number)  # what a click on it does
    qtbot.waitUntil(lambda: sources.page_view.page is not None and sources.page_view.highlight_count > 0,
                    timeout=WAIT_MS)
    assert sources.page_view.page.path == str(latin1) and not sources.page_view.canvas.image.isNull()
    assert sources.page_title.text().startswith(f"{SHOWN} · page 1 of 2")
    row = [c.number for c in sources.citations].index(cited.number)
    assert f"{SHOWN}, page" in sources.list.item(row).data(Qt.ItemDataRole.AccessibleTextRole)

    window.library.table.selectRow(i)
    window.library.table.setFocus()
    qtbot.keyClick(window.library.table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: SHOWN not in rows_by_name(window), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    with Store(data_dir) as store:
        assert [d.name for d in store.documents()] == ["garden.pdf"]


def test_a_dropped_folder_with_a_name_that_is_not_utf8_gets_one_row_per_file(qtbot, make_window,
                                                                             tmp_path: Path) -> None:
    folder = tmp_path / "names"
    folder.mkdir()
    write_pdf(folder / "a-good.pdf", ["Apples grow in the orchard."])
    write_pdf(latin1_path(folder), [COFFEE])
    window = make_window()
    drop_paths(window.library, [folder])
    qtbot.waitUntil(lambda: not window.engine.ingesting, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert sorted((r.name, r.status) for r in window.library.model.rows()) == [("a-good.pdf", "indexed"),
                                                                               (SHOWN, "indexed")]


def test_a_library_the_user_may_not_write_opens_for_reading_and_says_so(qtbot, make_window, tmp_path: Path,
                                                                        read_only: ReadOnly) -> None:
    data = tmp_path / "backup"
    index_here(data, write_pdf(tmp_path / "coffee.pdf", [COFFEE]))
    before = sorted(p.name for p in data.iterdir())
    read_only.apply_tree(data)
    window = make_window(settings_=Settings(data_dir=str(data)),
                         chat_model=StreamingChatModel("Coffee from the cafe is strong and bitter."))
    assert window.engine.store.read_only
    assert "cannot be changed (the folder is read-only): it is open for reading" in window.banner.message
    assert set(rows_by_name(window)) == {"coffee.pdf"}
    ask(qtbot, window, "Is the coffee strong?")
    assert [c.file for c in window.sources.citations] == ["coffee.pdf"]  # answered, with its source
    assert window.chats.conversations.conversations()  # kept in memory for this session

    drop_paths(window.library, [write_pdf(tmp_path / "new.pdf", ["A new file."])])
    assert "the data folder is read-only; nothing was changed" in window.banner.message
    window.library.table.selectRow(0)
    window.library.table.setFocus()
    qtbot.keyClick(window.library.table, Qt.Key.Key_Delete)
    assert "the data folder is read-only; nothing was changed" in window.banner.message
    wait_idle(qtbot, window)
    assert set(rows_by_name(window)) == {"coffee.pdf"} and not window.engine.busy
    assert sorted(p.name for p in data.iterdir()) == before  # nothing written, not even a conversation


def test_cli_and_window_read_one_library_alike(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command line lists the Latin-1 file by the name the window shows."""
    data = tmp_path / "data"
    index_here(data, write_pdf(latin1_path(tmp_path), [COFFEE]))
    assert cli_main(["--data-dir", str(data), "list", "--json"]) == 0
    assert [d["file"] for d in json.loads(capsys.readouterr().out)] == [SHOWN]
