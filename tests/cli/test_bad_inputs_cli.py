"""The command line on inputs that used to hang it, abort it or mislead: special files, names that are
not UTF-8, paths too long, --k out of range, a library that may not be written, empty queries, a
data folder that is a file. In process with the fake models, except where the real stdout matters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import HashEmbedder, StreamingChatModel
from bad_inputs import LATIN1, SHOWN, latin1_path, make_deep, mixed_folder
from pdfs import write_pdf
from read_only_paths import ReadOnly, read_only  # noqa: F401 - the fixture

import desktop_rag
from desktop_rag.cli import main
from desktop_rag.config import MAX_TOP_K

REPO_ROOT = Path(desktop_rag.__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_rag.services import Services

    monkeypatch.setattr(Services, "embedder", property(lambda self: HashEmbedder()))
    monkeypatch.setattr(Services, "chat_model", lambda self: StreamingChatModel("Zebras have stripes."))


def run(capsys: pytest.CaptureFixture[str], data: Path, *args: str) -> tuple[int, str, str]:
    try:
        code = main(["--data-dir", str(data), *args])
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A real process: its stdout is a pipe that takes UTF-8 only, as a terminal's or a script's."""
    return subprocess.run([sys.executable, "-m", "desktop_rag", "--data-dir", str(data), *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def names(tmp_path: Path) -> Path:
    """a-good.pdf, m-caf\\xe9.pdf (a Latin-1 name) and z-good.pdf: the issue's folder."""
    folder = tmp_path / "names"
    folder.mkdir()
    write_pdf(folder / "a-good.pdf", ["Apples grow in the orchard on old trees."])
    write_pdf(latin1_path(folder), ["Coffee from the cafe is strong and bitter."])
    write_pdf(folder / "z-good.pdf", ["Zebras have black and white stripes."])
    return folder


@pytest.mark.timeout(120)
def test_a_folder_of_every_bad_case_indexes_the_good_files_and_reports_each_bad_one(tmp_path: Path,
                                                                                    capsys) -> None:  # noqa: ANN001
    data = tmp_path / "data"
    kept = write_pdf(tmp_path / "kept.pdf", ["Stored before the bad batch, and still there after it."])
    assert run(capsys, data, "ingest", str(kept))[0] == 0
    reasons = mixed_folder(tmp_path / "mixed")
    code, _, err = run(capsys, data, "ingest", str(tmp_path / "mixed"))
    assert code == 1 and "Traceback" not in err
    assert f"indexed 3, skipped 0, failed {len(reasons)}" in err
    failed_lines = [line for line in err.splitlines() if line.startswith("  FAILED  ")]
    assert len(failed_lines) == len(reasons)
    for reason in reasons.values():
        assert any(reason in line for line in failed_lines), reason
    assert not any(word in err for word in ("pip install", "PDFium", "pypdf", "Errno", "\\udc"))
    code, out, _ = run(capsys, data, "list", "--json")
    docs = {d["file"]: d for d in json.loads(out)}
    assert {n for n, d in docs.items() if d["status"] == "indexed"} == {"kept.pdf", "good-1.pdf", "good-2.pdf", SHOWN}
    assert docs["kept.pdf"]["chunks"] > 0  # nothing stored before was lost


def test_a_fifo_given_alone_is_refused_at_once(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    os.mkfifo(tmp_path / "x.pdf")
    code, _, err = run(capsys, tmp_path / "data", "ingest", str(tmp_path / "x.pdf"))
    assert code == 1 and "FAILED  x.pdf: is a named pipe (FIFO), not a regular file; it was not opened" in err


def test_a_name_that_is_not_utf8_is_indexed_listed_searched_and_removed_by_its_shown_name(
        names: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    data = tmp_path / "data"
    code, _, err = run(capsys, data, "ingest", str(names))
    assert code == 0 and "indexed 3, skipped 0, failed 0" in err
    listed = cli(data, "list")
    assert listed.returncode == 0 and SHOWN in listed.stdout, listed.stderr
    as_json = cli(data, "list", "--json")
    by_file = {d["file"]: d["path"] for d in json.loads(as_json.stdout)}
    assert os.fsencode(by_file[SHOWN]) == os.fsencode(names) + b"/" + LATIN1  # the exact file, for scripts
    found = cli(data, "search", "coffee cafe bitter", "--mode", "keyword", "--json", "--k", "1")
    [hit] = json.loads(found.stdout)
    assert hit["file"] == SHOWN and os.fsencode(hit["path"]).endswith(LATIN1)
    shown = cli(data, "search", "coffee cafe bitter", "--mode", "keyword", "--k", "1")
    assert shown.returncode == 0 and f"1. {SHOWN}, page 1" in shown.stdout
    removed = cli(data, "remove", SHOWN)  # the name as list shows it, pasted
    assert removed.returncode == 0 and f"removed {names}/{SHOWN}" in removed.stderr
    assert run(capsys, data, "ingest", str(latin1_path(names)))[0] == 0
    assert run(capsys, data, "remove", str(latin1_path(names)))[0] == 0  # the path the shell completes
    assert sorted(json.loads(cli(data, "list", "--json").stdout), key=lambda d: d["file"])[0]["file"] == "a-good.pdf"
    assert SHOWN not in cli(data, "list").stdout


def test_paths_too_long_are_one_files_failure_and_the_rest_is_indexed(tmp_path: Path, capsys) -> None:  # noqa: ANN001
    folder = tmp_path / "long"
    folder.mkdir()
    write_pdf(folder / "ok.pdf", ["A sibling that opens fine."])
    make_deep(folder)
    given = write_pdf(tmp_path / "given.pdf", ["Given on the same command line."])
    code, _, err = run(capsys, tmp_path / "data", "ingest", str(tmp_path / ("x" * 300 + ".pdf")), str(folder),
                       str(given))
    assert code == 1 and "Traceback" not in err and "indexed 2, skipped 0, failed 2" in err
    assert "a name in its path is longer than the 255 bytes this system allows" in err
    assert "more than the 4,096 this system allows" in err


@pytest.mark.parametrize("command", [["search", "stripes"], ["ask", "what has stripes?"]])
def test_k_follows_one_rule_in_every_command(names: Path, tmp_path: Path, command: list[str],
                                             capsys) -> None:  # noqa: ANN001
    data = tmp_path / "data"
    assert run(capsys, data, "ingest", str(names))[0] == 0
    for bad, why in (("0", "must be at least 1, not 0"), ("-1", "must be at least 1, not -1"),
                     ("many", "expected a whole number of passages, not 'many'")):
        code, out, err = run(capsys, data, *command, "--k", bad)
        assert (code, out) == (2, "") and f"error: argument --k: {why}" in err
    code, out, err = run(capsys, data, *command, "--k", "100000", "--json")
    assert code == 0 and f"is more than the {MAX_TOP_K} passages a search gives at most; using {MAX_TOP_K}" in err
    assert json.loads(out)


def test_search_k_is_capped_and_a_small_k_is_kept(names: Path, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    data = tmp_path / "data"
    assert run(capsys, data, "ingest", str(names))[0] == 0
    assert len(json.loads(run(capsys, data, "search", "stripes", "--k", "1", "--json")[1])) == 1
    assert len(json.loads(run(capsys, data, "search", "stripes", "--k", "100000", "--json")[1])) == 3


def test_a_read_only_library_is_read_and_only_changes_are_refused(names: Path, tmp_path: Path, read_only: ReadOnly,
                                                                  capsys) -> None:  # noqa: ANN001
    data = tmp_path / "data"
    assert run(capsys, data, "ingest", str(names))[0] == 0
    read_only.apply_tree(data)
    code, out, _ = run(capsys, data, "list")
    assert code == 0 and "a-good.pdf" in out and "3 documents" in out
    code, out, _ = run(capsys, data, "search", "zebras stripes", "--json")
    assert code == 0 and json.loads(out)[0]["file"] == "z-good.pdf"
    code, out, _ = run(capsys, data, "ask", "What has stripes?")
    assert code == 0 and "Zebras have stripes." in out
    for command in (["collections"], ["collections", "show", "names"]):
        assert run(capsys, data, *command)[0] == 0
    refused = "the data folder is read-only; nothing was changed"
    for command in (["ingest", str(names)], ["remove", "a-good.pdf"], ["collections", "create", "X", "a-good.pdf"],
                    ["collections", "delete", "names"]):
        code, _, err = run(capsys, data, *command)
        assert code == 1 and refused in err, command
    read_only.restore()
    assert "3 documents" in run(capsys, data, "list")[1]


def test_messages_say_what_is_wrong(names: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys) -> None:  # noqa: ANN001
    (tmp_path / "file").write_text("not a folder")
    code, _, err = run(capsys, tmp_path / "file", "list")
    assert code == 1 and "is a file, not a folder" in err and "Errno" not in err
    data = tmp_path / "data"
    assert run(capsys, data, "ingest", str(names))[0] == 0
    code, _, err = run(capsys, data, "search", "")
    assert code == 1 and "the query is empty" in err and "library" not in err
    code, _, err = run(capsys, data, "search", "?!", "--mode", "keyword")
    assert code == 0 and "no passage of the 3 indexed documents matches the query" in err

    from desktop_rag.services import Services

    def no_models(self: Services) -> None:
        raise AssertionError("an empty question must not load the models")

    monkeypatch.setattr(Services, "answerer", no_models)
    for question in ("", "   "):
        code, _, err = run(capsys, data, "ask", question)
        assert code == 1 and "the question is empty" in err
