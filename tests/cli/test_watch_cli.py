"""``desktop-rag watch add | list | remove | run`` in process, with the fake embedder."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from fakes import HashEmbedder

from desktop_rag.cli import main
from desktop_rag.core.types import Stage


@pytest.fixture(autouse=True)
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_rag.services import Services

    monkeypatch.setattr(Services, "embedder", property(lambda self: HashEmbedder()))


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "Field notes"
    (path / "2024").mkdir(parents=True)
    (path / "volcanoes.md").write_text("# Volcanoes\n\nBasalt lava flows from magma chambers.\n")
    (path / "2024" / "rivers.txt").write_text("Rivers carry silt to the delta.\n")
    (path / "~$draft.docx").write_bytes(b"an Office lock file")
    (path / ".trash").mkdir()
    (path / ".trash" / "old.md").write_text("deleted long ago")
    return path


def run(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_add_indexes_the_folder_into_its_collection_and_list_shows_it(capsys: pytest.CaptureFixture[str],
                                                                      tmp_path: Path, folder: Path) -> None:
    data = tmp_path / "lib"
    code, _, err = run(capsys, data, "watch", "add", str(folder))
    assert code == 0, err
    assert f"watching {folder}" in err and "indexed 2, skipped 0, failed 0" in err
    code, out, _ = run(capsys, data, "list", "--json")
    listed = {Path(d["path"]).name: d["collections"] for d in json.loads(out)}
    assert listed == {"volcanoes.md": ["Field notes"], "rivers.txt": ["Field notes"]}  # lock and hidden files left out
    code, out, _ = run(capsys, data, "watch", "list", "--json")
    assert json.loads(out) == [{"folder": str(folder), "present": True, "indexed": 2, "failed": 0}]


def test_a_folder_inside_a_watched_one_is_refused_with_the_reason(capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path, folder: Path) -> None:
    data = tmp_path / "lib"
    run(capsys, data, "watch", "add", "--no-index", str(folder))
    code, _, err = run(capsys, data, "watch", "add", str(folder / "2024"))
    assert code == 1 and "inside" in err and "watched already" in err
    code, _, err = run(capsys, data, "watch", "add", str(tmp_path / "nowhere"))
    assert code == 1 and "folder not found" in err


def test_remove_keeps_the_documents_and_a_missing_folder_is_listed_as_such(capsys: pytest.CaptureFixture[str],
                                                                           tmp_path: Path, folder: Path) -> None:
    data = tmp_path / "lib"
    run(capsys, data, "watch", "add", str(folder))
    folder.rename(tmp_path / "unplugged")
    code, out, _ = run(capsys, data, "watch", "list")
    assert code == 0 and "NOT FOUND: its documents are kept" in out and "2 indexed" in out
    code, _, err = run(capsys, data, "watch", "remove", str(folder))
    assert code == 0 and "its 2 indexed documents stay in the library" in err
    _, out, _ = run(capsys, data, "list", "--json")
    assert len(json.loads(out)) == 2
    code, _, err = run(capsys, data, "watch", "remove", str(folder))
    assert code == 1 and "is not watched" in err


def test_run_without_watched_folders_says_how_to_add_one(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, tmp_path / "lib", "watch", "run")
    assert code == 1 and "watch add FOLDER" in err


def test_run_scans_then_stops_on_sigterm(capsys: pytest.CaptureFixture[str], tmp_path: Path, folder: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_rag.cli import watch

    data = tmp_path / "lib"
    run(capsys, data, "watch", "add", "--no-index", str(folder))
    shown, show = [], watch._show

    def show_then_stop(note: object) -> None:  # a service manager stops it once the scan is done
        show(note)
        shown.append(note)
        if sum(getattr(n, "stage", None) == Stage.INDEXED for n in shown) == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(watch, "_show", show_then_stop)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        code, out, _ = run(capsys, data, "watch", "run", "--quiet", "0.2")
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert code == 0
    assert f"watching {folder}" in out and f"indexed {folder / 'volcanoes.md'} (1 page)" in out
