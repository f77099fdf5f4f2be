"""The library panel: drop, index, list, fail one file, cancel, remove, re-index, close mid-ingest."""

# ruff: noqa: F811 - pytest fixtures imported from gui_helpers are used as arguments
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from gui_helpers import data_dir, docs, make_window, settings  # noqa: F401 - the fixtures
from gui_helpers import WAIT_MS, GatedEmbedder, close_window, drop_paths, index_docs, rows_by_name, wait_idle
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import DocumentStatus
from desktop_rag.ui.main_window import RESUME_KEY
from pdfs import write_pdf


def _store_is_consistent(data_dir: Path) -> list[str]:
    """Every stored document is whole: its chunks are all there and searchable; returns the names."""
    with Store(data_dir) as store:
        docs = [d for d in store.documents() if d.status == DocumentStatus.INDEXED]
        chunk_rows = store._db.execute("SELECT count(*) FROM chunks").fetchone()[0]  # every chunk stored
        assert chunk_rows == sum(d.chunk_count for d in docs)
        for d in docs:
            assert d.chunk_count > 0 and d.page_count > 0
            assert store.page_text(d.id, 1) is not None
        if docs:
            first = int(store.chunk_ids_of([docs[0].id])[0])
            vector = store.chunk_vector_map([first])[first]
            assert store.dense_search(vector, 1)[0][1] > 0.99  # FAISS agrees with SQLite
        return sorted(d.name for d in docs)


def test_empty_first_run_explains_what_to_do(make_window) -> None:
    window = make_window()
    assert window.library.stack.currentIndex() == 0
    empty_text = window.library.stack.currentWidget().findChildren(type(window.library.counts_label))
    assert any("Drop files or folders here" in label.text() for label in empty_text)
    assert "Start by adding documents" in window.chat.rendered_text()
    assert "Ask a question" in window.sources.empty.text()


def test_dropped_files_and_folders_are_indexed_and_listed(qtbot, make_window, docs: Path, tmp_path: Path) -> None:
    extra = write_pdf(tmp_path / "single.pdf", ["A single page about lighthouses and the sea."])
    window = make_window()
    drop_paths(window.library, [docs, extra])  # a folder and a file
    assert {r.name for r in window.library.model.rows()} == {"widgets.pdf", "gardening.pdf", "single.pdf"}
    qtbot.waitUntil(lambda: all(r.status == "indexed" for r in window.library.model.rows()), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert window.library.stack.currentIndex() == 1
    assert window.library.counts_label.text().startswith("3 documents · 5 pages")
    assert all(r.progress == 1.0 and r.chunks > 0 for r in window.library.model.rows())
    assert "Index: 3 documents" in window.stats_label.text()
    assert "Ask your documents" in window.chat.rendered_text()


def test_bad_file_shows_its_reason_while_the_others_index(qtbot, make_window, docs: Path, tmp_path: Path) -> None:
    bad = tmp_path / "notes.pdf"
    bad.write_text("this is not a PDF at all")
    window = make_window()
    drop_paths(window.library, [docs / "widgets.pdf", bad, docs / "gardening.pdf"])
    qtbot.waitUntil(lambda: not any(r.busy for r in window.library.model.rows()), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    rows = rows_by_name(window)
    assert rows["widgets.pdf"].status == rows["gardening.pdf"].status == "indexed"
    assert rows["notes.pdf"].status == "failed"
    assert "not a PDF file" in rows["notes.pdf"].status_text  # the reason, in the row
    assert "not a PDF file" in window.banner.message  # and in the one place errors are shown
    assert window.error_dialogs == []  # an expected error is inline, not a dialog


def test_duplicate_is_listed_as_skipped(qtbot, make_window, docs: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy of widgets.pdf"
    copy.write_bytes((docs / "widgets.pdf").read_bytes())
    window = make_window()
    index_docs(qtbot, window, [docs / "widgets.pdf"])
    drop_paths(window.library, [copy])
    qtbot.waitUntil(lambda: rows_by_name(window)["copy of widgets.pdf"].status == "skipped", timeout=WAIT_MS)
    assert "same content as" in rows_by_name(window)["copy of widgets.pdf"].status_text


def test_cancel_stops_ingestion(qtbot, make_window, tmp_path: Path, data_dir: Path) -> None:
    files = [write_pdf(tmp_path / f"doc{i}.pdf", [f"Document number {i} talks about topic {i}."]) for i in range(5)]
    embedder = GatedEmbedder(free=1)
    window = make_window(embedder=embedder)
    drop_paths(window.library, files)
    assert embedder.waiting.wait(WAIT_MS / 1000)  # doc0 is indexed, doc1 is being embedded
    assert window.library.cancel_button.isVisible()
    qtbot.mouseClick(window.library.cancel_button, Qt.MouseButton.LeftButton)
    embedder.gate.set()
    wait_idle(qtbot, window)
    rows = rows_by_name(window)
    assert rows["doc0.pdf"].status == "indexed"
    assert all(rows[f"doc{i}.pdf"].status == "cancelled" for i in range(1, 5))
    assert _store_is_consistent(data_dir) == ["doc0.pdf"]
    assert not window.library.cancel_button.isVisible()


def test_remove_and_reindex(qtbot, make_window, docs: Path, data_dir: Path) -> None:
    window = make_window()
    index_docs(qtbot, window, [docs])
    table = window.library.table
    row = [r.name for r in window.library.model.rows()].index("gardening.pdf")
    table.selectRow(row)
    qtbot.mouseClick(window.library.reindex_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rows_by_name(window)["gardening.pdf"].status == "indexed"
                    and not window.engine.busy, timeout=WAIT_MS)
    row = [r.name for r in window.library.model.rows()].index("gardening.pdf")
    table.selectRow(row)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: "gardening.pdf" not in rows_by_name(window), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert _store_is_consistent(data_dir) == ["widgets.pdf"]
    assert window.library.counts_label.text().startswith("1 document · ")


def test_closing_mid_ingest_keeps_a_consistent_store_and_offers_to_resume(
        qtbot, make_window, tmp_path: Path, data_dir: Path) -> None:
    files = [write_pdf(tmp_path / f"part{i}.pdf", [f"Part {i} of the manual explains step {i}."]) for i in range(4)]
    embedder = GatedEmbedder(free=1)
    window = make_window(embedder=embedder)
    drop_paths(window.library, files)
    assert embedder.waiting.wait(WAIT_MS / 1000)
    window.close()
    assert not window._closed  # waits for the worker instead of killing it mid-write
    embedder.gate.set()
    qtbot.waitUntil(lambda: window._closed, timeout=WAIT_MS)
    assert _store_is_consistent(data_dir) == ["part0.pdf"]
    assert window.ui_state.value(RESUME_KEY)

    again = make_window()  # the next start offers to finish the job
    qtbot.waitUntil(lambda: "still being indexed" in again.banner.message, timeout=WAIT_MS)
    resume = [b for b in again.banner.action_buttons if b.text() == "Resume indexing"][0]
    qtbot.mouseClick(resume, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: again.engine.stats()["documents"] == 4, timeout=WAIT_MS)
    wait_idle(qtbot, again)
    assert _store_is_consistent(data_dir) == [f"part{i}.pdf" for i in range(4)]
    close_window(qtbot, again)
