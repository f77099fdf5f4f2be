"""Watched folders kept in the library: added, listed, removed, refused with a reason, kept across
restarts, and made in libraries written before they existed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from desktop_rag.core.store.library import DB_NAME, Store
from desktop_rag.errors import StoreWriteError, WatchError


@pytest.fixture
def store(tmp_path: Path):  # noqa: ANN201
    with Store(tmp_path / "lib") as s:
        yield s


def test_a_folder_added_is_listed_and_kept_after_reopening(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    with Store(tmp_path / "lib") as store:
        added, replaced = store.watched.add(folder)
        assert added.path == str(folder) and replaced == []
    with Store(tmp_path / "lib") as store:
        assert [f.path for f in store.watched.all()] == [str(folder)]
        assert store.watched.folder_of(str(folder / "x" / "a.md")).path == str(folder)


def test_a_relative_path_is_kept_absolute(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "docs").mkdir()
    monkeypatch.chdir(tmp_path)
    added, _ = store.watched.add("docs")
    assert added.path == str(tmp_path / "docs")


@pytest.mark.parametrize("make, reason", [
    (lambda p: None, "folder not found"),
    (lambda p: p.write_text("x"), "is a file, not a folder"),
])
def test_a_path_that_is_no_folder_is_refused(store: Store, tmp_path: Path, make, reason: str) -> None:  # noqa: ANN001
    path = tmp_path / "thing"
    make(path)
    with pytest.raises(WatchError, match=reason):
        store.watched.add(path)
    assert store.watched.all() == []


def test_a_folder_watched_already_or_inside_one_is_refused(store: Store, tmp_path: Path) -> None:
    (tmp_path / "docs" / "sub").mkdir(parents=True)
    store.watched.add(tmp_path / "docs")
    with pytest.raises(WatchError, match="is watched already"):
        store.watched.add(tmp_path / "docs")
    with pytest.raises(WatchError, match="inside .*docs, which is watched already"):
        store.watched.add(tmp_path / "docs" / "sub")


def test_a_folder_holding_watched_ones_replaces_them(store: Store, tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / "top" / name).mkdir(parents=True)
        store.watched.add(tmp_path / "top" / name)
    (tmp_path / "topper").mkdir()
    store.watched.add(tmp_path / "topper")  # a sibling whose name starts the same is not inside
    _, replaced = store.watched.add(tmp_path / "top")
    assert sorted(replaced) == [str(tmp_path / "top" / "a"), str(tmp_path / "top" / "b")]
    assert [f.path for f in store.watched.all()] == [str(tmp_path / "top"), str(tmp_path / "topper")]


def test_removing_a_folder_that_is_gone_works_and_an_unknown_one_is_refused(store: Store, tmp_path: Path) -> None:
    (tmp_path / "usb").mkdir()
    store.watched.add(tmp_path / "usb")
    (tmp_path / "usb").rmdir()
    assert store.watched.remove(tmp_path / "usb").path == str(tmp_path / "usb")
    with pytest.raises(WatchError, match="is not watched"):
        store.watched.remove(tmp_path / "usb")


def test_a_library_from_before_watched_folders_gets_the_table(tmp_path: Path) -> None:
    data = tmp_path / "old"
    with Store(data):
        pass
    with sqlite3.connect(data / DB_NAME) as db:
        db.execute("DROP TABLE watched_folders")
    (tmp_path / "docs").mkdir()
    with Store(data, read_only=True) as reading:  # read-only: listed as none, nothing written
        assert reading.watched.all() == []
        with pytest.raises(StoreWriteError):
            reading.watched.add(tmp_path / "docs")
    with Store(data) as store:
        store.watched.add(tmp_path / "docs")
        assert len(store.watched.all()) == 1
