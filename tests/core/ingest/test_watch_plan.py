"""What a watched folder does about each change: ignored names, debouncing, and the plan (index,
remove, leave alone) from the files on disk and what the library holds. Plain values, no watcher."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from desktop_rag.core.ingest.watch_plan import Coalescer, files_under, is_ignored, plan_changes, signature_of
from desktop_rag.core.types import DocumentInfo, DocumentStatus


def stored(path: Path | str, status: DocumentStatus = DocumentStatus.INDEXED, doc_id: int = 1,
           signature: tuple[int, float] | None = None) -> DocumentInfo:
    size, mtime = signature or signature_of(str(path)) or (0, 0.0)
    return DocumentInfo(doc_id, str(path), Path(path).name, "sha", size, mtime, 1, 1, status, "", 0.0)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_text("# A\n\nalpha\n")
    (folder / "sub" / "b.txt").write_text("bravo\n")
    return folder


@pytest.mark.parametrize("name", ["~$report.docx", ".~lock.report.docx#", "notes.md~", "notes.md.swp", ".notes.md.swp",
                                  "download.pdf.part", "big.pdf.crdownload", "#notes.md#", ".#notes.md",
                                  ".hidden.md", ".git/readme.md", "sub/.cache/page.html"])
def test_temporary_lock_and_hidden_files_are_ignored(name: str) -> None:
    assert is_ignored(f"/w/{name}", "/w")


@pytest.mark.parametrize("name", ["report.docx", "notes.md", "sub/page.html", "a~b.txt", "v1.2.pdf"])
def test_ordinary_documents_are_not_ignored(name: str) -> None:
    assert not is_ignored(f"/w/{name}", "/w")


def test_a_hidden_folder_above_the_watched_one_does_not_hide_it() -> None:
    assert not is_ignored("/home/u/.local/share/docs/a.md", "/home/u/.local/share/docs")


def test_files_under_keeps_readable_formats_and_skips_hidden_folders(root: Path) -> None:
    (root / ".git").mkdir()
    (root / ".git" / "x.md").write_text("x")
    (root / "image.png").write_bytes(b"\x89PNG")
    (root / "~$a.docx").write_bytes(b"lock")
    assert files_under(str(root), str(root)) == [str(root / "a.md"), str(root / "sub" / "b.txt")]


def test_a_path_saved_many_times_in_a_row_is_released_once_when_quiet() -> None:
    events = Coalescer(quiet_s=1.5)
    for t in (0.0, 0.4, 0.8, 1.2):
        events.note("/w/a.md", t)
    assert events.due(2.0) == []  # 0.8 s after the last save
    assert events.due(2.8) == ["/w/a.md"]
    assert events.due(10.0) == []  # released once


def test_a_path_written_without_pause_is_still_released_after_the_longest_wait() -> None:
    events = Coalescer(quiet_s=1.5, max_wait_s=5.0)
    t = 0.0
    while t < 5.0:
        events.note("/w/log.txt", t)
        assert events.due(t) == []
        t += 0.5
    events.note("/w/log.txt", 5.0)
    assert events.due(5.0) == ["/w/log.txt"]


def test_forgetting_a_folder_drops_only_its_waiting_events() -> None:
    events = Coalescer(quiet_s=0.0)
    events.note("/w/a.md", 0.0)
    events.note("/other/b.md", 0.0)
    events.forget_under("/w")
    assert events.due(1.0) == ["/other/b.md"]


def test_a_new_folder_is_indexed_whole(root: Path) -> None:
    plan = plan_changes([str(root)], [str(root)], {})
    assert plan.index == [str(root / "a.md"), str(root / "sub" / "b.txt")] and plan.remove == []


def test_files_stored_as_they_are_are_left_alone(root: Path) -> None:
    docs = {str(p): stored(p) for p in (root / "a.md", root / "sub" / "b.txt")}
    plan = plan_changes([str(root)], [str(root)], docs)
    assert not plan and plan.unchanged == 2


def test_a_changed_file_is_indexed_again(root: Path) -> None:
    docs = {str(root / "a.md"): stored(root / "a.md", signature=(3, 1.0))}
    plan = plan_changes([str(root / "a.md")], [str(root)], docs)
    assert plan.index == [str(root / "a.md")]


def test_a_deleted_file_is_removed_from_the_library(root: Path) -> None:
    doc = stored(root / "a.md")
    (root / "a.md").unlink()
    plan = plan_changes([str(root / "a.md")], [str(root)], {doc.path: doc})
    assert plan.remove == [doc] and plan.index == []


def test_a_folder_moved_within_the_watched_one_moves_its_documents(root: Path) -> None:
    doc = stored(root / "sub" / "b.txt")
    shutil.move(root / "sub", root / "renamed")
    plan = plan_changes([str(root / "sub"), str(root / "renamed")], [str(root)], {doc.path: doc})
    assert plan.remove == [doc] and plan.index == [str(root / "renamed" / "b.txt")]


def test_a_file_that_failed_is_retried_only_once_it_changes(root: Path) -> None:
    failed = {str(root / "a.md"): stored(root / "a.md", DocumentStatus.FAILED)}
    assert not plan_changes([str(root / "a.md")], [str(root)], failed)
    (root / "a.md").write_text("# A\n\nalpha, fixed and longer\n")
    assert plan_changes([str(root / "a.md")], [str(root)], failed).index == [str(root / "a.md")]


def test_a_file_settled_this_session_is_not_offered_again_until_it_changes(root: Path) -> None:
    path = str(root / "a.md")
    settled = {path: signature_of(path)}
    assert not plan_changes([path], [str(root)], {}, settled)  # e.g. skipped: a copy stored under another path
    os.utime(path, (1, 1))
    assert plan_changes([path], [str(root)], {}, settled).index == [path]


def test_nothing_is_done_in_a_folder_that_is_not_there(root: Path, tmp_path: Path) -> None:
    doc = stored(root / "a.md")
    gone = str(tmp_path / "unplugged")
    plan = plan_changes([str(root / "a.md"), gone + "/x.md"], [], {doc.path: doc})
    assert not plan


def test_a_watched_folder_gone_since_it_was_listed_keeps_its_documents(root: Path, tmp_path: Path) -> None:
    doc = stored(root / "a.md")
    root.rename(tmp_path / "unplugged")
    assert not plan_changes([str(root), str(root / "a.md")], [str(root)], {doc.path: doc})


def test_ignored_and_unreadable_kinds_are_never_planned(root: Path) -> None:
    (root / "~$a.docx").write_bytes(b"lock")
    (root / "photo.png").write_bytes(b"png")
    plan = plan_changes([str(root / "~$a.docx"), str(root / "photo.png")], [str(root)], {})
    assert not plan and plan.unchanged == 0
