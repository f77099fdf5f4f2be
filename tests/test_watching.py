"""The watch service with the real file watcher: events become settled paths, folders that go away
and come back, files that fail reported once; and the headless loop (``watch run``) keeping a library
up to date with the fake embedder."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest
from fakes import HashEmbedder

from desktop_rag.config import Settings
from desktop_rag.core.types import IngestProgress, Stage
from desktop_rag.services import Services
from desktop_rag.watching import FolderState, FolderStatus, WatchNote, WatchService, watch_loop

WAIT_S = 20.0


def wait_for(condition: Callable[[], Any], what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "notes"
    path.mkdir()
    (path / "a.md").write_text("# Alpha\n\nThe alpha budget is twelve million.\n")
    return path


@pytest.fixture
def service():  # noqa: ANN201
    watcher = WatchService(quiet_s=0.2)
    yield watcher
    watcher.close()


def test_a_new_folder_is_reported_once_for_scanning_then_its_changes_settle(service: WatchService,
                                                                          folder: Path) -> None:
    service.set_folders([str(folder)])
    assert service.check_folders().appeared == [str(folder)]
    assert service.check_folders(force=True).appeared == []
    for i in range(5):
        (folder / "a.md").write_text(f"# Alpha\n\nsaved {i} times\n")
    (folder / "b.md").write_text("bravo")
    (folder / "~$b.docx").write_text("lock")  # noted, but the plan ignores it
    released: list[str] = []
    a, b = str(folder / "a.md"), str(folder / "b.md")
    wait_for(lambda: released.extend(service.due()) or {a, b} <= set(released), "settled events")
    assert released.count(a) == 1  # five saves, released once


def test_a_folder_that_goes_away_is_reported_and_watched_again_when_back(service: WatchService, folder: Path,
                                                                         tmp_path: Path) -> None:
    service.set_folders([str(folder)])
    service.check_folders(force=True)
    folder.rename(tmp_path / "away")
    assert service.check_folders(force=True).gone == [str(folder)]
    [state] = service.states()
    assert state.status == FolderStatus.MISSING and state.describe() == "error: not found" and "drive" in state.explain()
    assert service.check_folders(force=True).gone == []  # reported once
    (tmp_path / "away").rename(folder)
    assert service.check_folders(force=True).appeared == [str(folder)]
    (folder / "c.md").write_text("charlie")
    assert str(folder / "c.md") in wait_for(service.due, "an event after the return")


def test_a_file_handed_over_counts_as_indexing_until_ingestion_is_done(service: WatchService, folder: Path) -> None:
    service.set_folders([str(folder)])
    path = str(folder / "a.md")
    service.handed_over([path])
    assert service.states() == [FolderState(str(folder), FolderStatus.INDEXING, 1)]
    assert service.states()[0].describe() == "indexing 1 file"
    assert not service.finished("/elsewhere/x.md", Stage.FAILED)  # a file the user added: not ours
    assert service.finished(path, Stage.FAILED)
    assert service.states()[0].describe() == "idle" and path in service.settled


def run_loop(settings: Settings, stop: threading.Event, seen: list[Any]) -> threading.Thread:
    def loop() -> None:
        with Services(settings, embedder=HashEmbedder()) as services:
            watcher = WatchService(quiet_s=0.2)
            try:
                for note in watch_loop(services, watcher, stop.is_set, poll_s=0.05):
                    seen.append(note)
            finally:
                watcher.close()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def finals(seen: list[Any], path: Path) -> list[Stage]:
    return [e.stage for e in list(seen) if isinstance(e, IngestProgress) and e.is_final and e.path == str(path)]


def test_the_loop_keeps_the_library_up_to_date(tmp_path: Path, folder: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "lib"))
    with Services(settings, embedder=HashEmbedder()) as services:
        services.store.watched.add(folder)
    (folder / "bad.docx").write_bytes(b"not a zip at all")
    stop, seen = threading.Event(), []
    thread = run_loop(settings, stop, seen)
    try:
        wait_for(lambda: finals(seen, folder / "bad.docx"), "the start-up scan")
        assert finals(seen, folder / "a.md") == [Stage.INDEXED] and finals(seen, folder / "bad.docx") == [Stage.FAILED]
        for i in range(4):
            (folder / "a.md").write_text(f"# Alpha\n\nThe alpha budget is now {i} million, saved again.\n")
        (folder / "bad.docx").write_bytes(b"still not a zip")  # changed: tried again, once
        wait_for(lambda: len(finals(seen, folder / "a.md")) == 2, "the re-index")
        wait_for(lambda: len(finals(seen, folder / "bad.docx")) == 2, "the retry")
        (folder / "a.md").rename(folder / "moved.md")
        wait_for(lambda: finals(seen, folder / "moved.md"), "the move")
        assert any(isinstance(n, WatchNote) and n.kind == "removed" and n.path == str(folder / "a.md") for n in seen)
    finally:
        stop.set()
        thread.join(WAIT_S)
    with Services(settings, embedder=HashEmbedder()) as services:
        docs = {Path(d.path).name: d for d in services.store.documents()}
        assert sorted(docs) == ["bad.docx", "moved.md"]
        assert "saved again" in services.store.page_texts_of(docs["moved.md"].id)[0]
    assert finals(seen, folder / "a.md") == [Stage.INDEXED, Stage.INDEXED]  # four saves, indexed once
    assert len(finals(seen, folder / "bad.docx")) == 2  # failed at start and once changed: not in a loop
