"""The command line on scanned PDFs: ``ingest`` reads them by OCR, ``list`` says which documents (or how many
of their pages) were read so, and ``ocr = false`` in the settings file turns it off. Fake embedder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fakes import HashEmbedder
from pdfs import write_pdf
from scans import joined, write_scan

from desktop_rag.cli import main

TIDES = "Lighthouse keepers record the harbour tides every morning before the fishing boats leave."


@pytest.fixture(autouse=True)
def fake_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_rag.services import Services

    monkeypatch.setattr(Services, "embedder", property(lambda self: HashEmbedder()))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    made = tmp_path_factory.mktemp("made")
    docs = tmp_path_factory.mktemp("docs")
    scan = write_scan(made / "scan.pdf", [TIDES])  # beside the text PDF it was made from
    shutil.copy(scan, docs / "scan.pdf")
    text = write_pdf(made / "text.pdf", ["Quarterly revenue rose on strong demand.", "Costs fell."])
    joined(docs / "mixed.pdf", text, scan)
    write_pdf(docs / "plain.pdf", ["Zebras have black and white stripes."])
    return docs


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_list_says_which_documents_and_pages_were_read_by_ocr(capsys: pytest.CaptureFixture[str], folder: Path,
                                                               tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    assert run(capsys, "--data-dir", data, "ingest", str(folder))[0] == 0

    code, out, _ = run(capsys, "--data-dir", data, "list")
    statuses = {line.split()[0]: line.split("  ")[-1].strip() for line in out.splitlines()[1:-1]}
    listed = json.loads(run(capsys, "--data-dir", data, "list", "--json")[1])

    assert code == 0
    assert statuses == {"mixed.pdf": "indexed (OCR: 1 page)", "plain.pdf": "indexed", "scan.pdf": "indexed (OCR)"}
    assert {d["file"]: d["ocr_pages"] for d in listed} == {"mixed.pdf": 1, "plain.pdf": 0, "scan.pdf": 1}


def test_ocr_off_in_the_settings_file_refuses_the_scan_and_says_how_to_turn_it_on(
        capsys: pytest.CaptureFixture[str], folder: Path, tmp_path: Path) -> None:
    config = tmp_path / "settings.toml"
    config.write_text("ocr = false\n")
    data = str(tmp_path / "data")

    code, _, err = run(capsys, "--data-dir", data, "--config", str(config), "ingest", str(folder))
    listed = {d["file"]: (d["status"], d["ocr_pages"])
              for d in json.loads(run(capsys, "--data-dir", data, "list", "--json")[1])}

    assert code == 1 and "scan.pdf: no text on its one page, only images: it is probably scanned; turn OCR on" in err
    assert listed == {"mixed.pdf": ("indexed", 0), "plain.pdf": ("indexed", 0), "scan.pdf": ("failed", 0)}
