"""``python -m desktop_rag --data-dir D COMMAND``: results on stdout, messages on stderr, exit codes 0/1/2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pdfs import write_pdf

import desktop_rag

REPO_ROOT = Path(desktop_rag.__file__).resolve().parents[1]


def cli(data_dir: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Runs the CLI in a fresh interpreter; the test's isolated DESKTOP_RAG_CONFIG is inherited."""
    return subprocess.run(
        [sys.executable, "-m", "desktop_rag", "--data-dir", str(data_dir), *args],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout,
    )


@pytest.fixture
def library(tmp_path: Path) -> Path:
    return tmp_path / "library"


# ------------------------------------------------------------------ no model needed


def test_list_of_an_empty_library(library: Path) -> None:
    result = cli(library, "list")
    assert (result.returncode, result.stdout) == (0, "")
    assert "library is empty" in result.stderr
    result = cli(library, "list", "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == []


def test_removing_an_unknown_file_fails(library: Path) -> None:
    result = cli(library, "remove", "nothing-here.pdf")
    assert (result.returncode, result.stdout) == (1, "")
    assert "nothing-here.pdf: not in the library" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["ingest"],  # no paths
        ["list", "--bogus"],  # unknown option
        ["search"],  # no query
        ["search", "q", "--mode", "psychic"],  # not a retrieval mode
        ["ingest", "--chunk-tokens", "many", "a.pdf"],  # not an int
        ["remove"],
    ],
    ids=" ".join,
)
def test_usage_errors_exit_2_with_usage_on_stderr(library: Path, args: list[str]) -> None:
    result = cli(library, *args)
    assert (result.returncode, result.stdout) == (2, "")
    assert "usage:" in result.stderr


def test_ingest_of_bad_files_fails_with_reasons_and_records_them(library: Path, tmp_path: Path) -> None:
    notes = tmp_path / "notes.pdf"
    notes.write_text("not really a PDF")
    result = cli(library, "ingest", str(notes), str(tmp_path / "missing.pdf"))
    assert (result.returncode, result.stdout) == (1, "")
    assert "failed 2" in result.stderr
    assert "notes.pdf: not a PDF file" in result.stderr and "missing.pdf: file not found" in result.stderr
    listed = json.loads(cli(library, "list", "--json").stdout)
    assert {(d["file"], d["status"]) for d in listed} == {("notes.pdf", "failed"), ("missing.pdf", "failed")}
    assert all(d["error"] and d["chunks"] == 0 for d in listed)


def test_malformed_settings_file_is_reported_not_a_traceback(library: Path, tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text("top_k = = 3\n")
    result = subprocess.run(
        [sys.executable, "-m", "desktop_rag", "--data-dir", str(library), "--config", str(config), "list"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "not valid TOML" in result.stderr and "Traceback" not in result.stderr


# ------------------------------------------------------------------ the real embedding model


@pytest.mark.integration
def test_ingest_list_search_remove_with_the_real_model(library: Path, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    volcano = write_pdf(docs / "volcanoes.pdf", [
        "Mountains of the world. Everest is the highest mountain above sea level.",
        "Volcanoes erupt molten lava and ash. Mount Etna in Sicily is one of the most active volcanoes.",
    ])
    bread = write_pdf(docs / "baking.pdf", [
        "Baking bread needs flour, water, salt and yeast. Knead the dough and let it rise overnight.",
    ])

    result = cli(library, "ingest", str(docs))
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    assert "indexed 2, skipped 0, failed 0" in result.stderr

    listed = json.loads(cli(library, "list", "--json").stdout)
    assert {(d["file"], d["pages"], d["status"]) for d in listed} == {("volcanoes.pdf", 2, "indexed"),
                                                                      ("baking.pdf", 1, "indexed")}
    assert all(d["chunks"] >= 1 and d["collections"] == ["docs"] for d in listed)  # the folder's collection

    notes = docs / "notes.pdf"
    notes.write_text("not a PDF")
    result = cli(library, "ingest", str(volcano), str(bread), str(notes))
    assert result.returncode == 1, "any failed file makes the run fail"
    assert "indexed 0, skipped 2, failed 1" in result.stderr

    result = cli(library, "search", "which volcano is very active?", "--json", "--k", "3")
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)  # the whole of stdout is the JSON document
    assert isinstance(hits, list) and 1 <= len(hits) <= 3
    for hit in hits:
        assert {"file", "page", "score", "text"} <= hit.keys()
        assert isinstance(hit["score"], float) and isinstance(hit["page"], int) and hit["text"]
    top = hits[0]
    assert top["file"] == "volcanoes.pdf" and "Etna" in top["text"]
    assert top["page"] <= 2 <= top["page_end"], "the Etna sentence is on page 2 of the file"

    scoped = cli(library, "search", "which volcano is very active?", "--json", "--in", "baking.pdf")
    assert scoped.returncode == 0 and {h["file"] for h in json.loads(scoped.stdout)} == {"baking.pdf"}
    unknown = cli(library, "search", "volcano", "--in", "volcanos.pdf")
    assert unknown.returncode == 2 and unknown.stdout == ""
    assert "'volcanos.pdf' is not a collection or a document in the library (did you mean 'volcanoes.pdf'" \
           in unknown.stderr
    in_folder = cli(library, "search", "which volcano is very active?", "--json", "--in", "docs")  # the folder's
    assert in_folder.returncode == 0 and json.loads(in_folder.stdout)[0]["file"] == "volcanoes.pdf"  # collection

    result = cli(library, "remove", "volcanoes.pdf")
    assert result.returncode == 0 and "removed" in result.stderr
    listed = json.loads(cli(library, "list", "--json").stdout)
    assert {d["file"]: d["status"] for d in listed} == {"baking.pdf": "indexed", "notes.pdf": "failed"}
    result = cli(library, "search", "volcano Etna lava", "--json", "--mode", "keyword")
    assert result.returncode == 0 and json.loads(result.stdout) == []
    assert cli(library, "remove", "volcanoes.pdf").returncode == 1
