"""Paths the file system allows but a PDF reader does not expect: special files (a named pipe, a
socket, a device) named like PDFs, names that are not UTF-8, paths longer than the system allows.
Each is one file's outcome with its reason; nothing aborts the batch and a special file is never opened."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Iterator

import pytest
from fakes import HashEmbedder
from pdfs import write_pdf

from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.ingest.files import discover_documents
from desktop_rag.core.ingest.pipeline import ChunkOptions, Ingestion
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Events, IngestProgress, IngestReport, Stage
from desktop_rag.errors import StoreWriteError

CHUNKS = ChunkOptions(max_tokens=40, overlap_tokens=8)
LATIN1_NAME = b"m-caf\xe9.pdf"  # "café" written by an old Latin-1 system


@pytest.fixture(scope="module")
def extractor() -> Iterator[PdfExtractor]:
    with PdfExtractor(timeout_s=60, memory_mb=512) as ex:
        yield ex


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "library") as s:
        yield s


def ingest(store: Store, extractor: PdfExtractor, *paths: Path | str) -> tuple[list[IngestProgress], IngestReport]:
    run = Events(Ingestion(store, HashEmbedder(), extractor, CHUNKS).run(list(paths)))
    events = list(run)
    return events, run.result


def by_name(report: IngestReport) -> dict[str, tuple[Stage, str]]:
    return {os.path.basename(o.path): (o.stage, o.message) for o in report.outcomes}


def nested_too_deep(top: Path) -> Path:
    """A folder nested until its path is longer than PATH_MAX (made by walking down, as a user's
    archive extractor can), holding a PDF; returns the deepest folder."""
    here = os.getcwd()
    try:
        os.chdir(top)
        for _ in range(31):  # 31 x 201 characters: about 6,300, past Linux's 4,096
            os.mkdir("d" * 200)
            os.chdir("d" * 200)
        write_pdf(Path("deep.pdf"), ["A document too deep to open by its path."])
    finally:
        os.chdir(here)
    return top.joinpath(*["d" * 200] * 31)


@pytest.mark.timeout(60)  # opening the pipe to hash it would wait for a writer for ever
def test_special_files_named_like_pdfs_are_reported_and_never_opened(store: Store, extractor: PdfExtractor,
                                                                     tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "pipe.pdf")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(folder / "socket.pdf"))
    (folder / "device.pdf").symlink_to("/dev/null")
    write_pdf(folder / "good.pdf", ["Good text about harbours and lighthouses."])
    alone = tmp_path / "alone.pdf"
    os.mkfifo(alone)
    try:
        _, report = ingest(store, extractor, alone, folder)
    finally:
        listener.close()
    got = by_name(report)
    assert got["good.pdf"][0] == Stage.INDEXED
    for name, kind in (("alone.pdf", "a named pipe (FIFO)"), ("pipe.pdf", "a named pipe (FIFO)"),
                       ("socket.pdf", "a socket"), ("device.pdf", "a character device")):
        assert got[name] == (Stage.FAILED, f"{name}: is {kind}, not a regular file; it was not opened")
    failed = {d.name: d.error for d in store.documents() if d.status == "failed"}
    assert set(failed) == {"alone.pdf", "pipe.pdf", "socket.pdf", "device.pdf"}  # listed with their reasons


def test_a_name_that_is_not_utf8_is_indexed_shown_and_found_by_its_own_path(store: Store, extractor: PdfExtractor,
                                                                             tmp_path: Path) -> None:
    folder = tmp_path / "names"
    folder.mkdir()
    write_pdf(folder / "a-good.pdf", ["Apples grow in the orchard."])
    latin1 = Path(os.fsdecode(os.fsencode(folder) + b"/" + LATIN1_NAME))
    write_pdf(latin1, ["Coffee from the cafe is strong and bitter."])
    write_pdf(folder / "z-good.pdf", ["Zebras have stripes."])
    events, report = ingest(store, extractor, folder)
    assert [o.stage for o in report.outcomes] == [Stage.INDEXED] * 3
    assert str(latin1) in {e.path for e in events}  # events carry the path that opens the file
    doc = store.document_by_path(str(latin1))
    assert doc is not None and doc.path == str(latin1) and doc.name == "m-caf\ufffd.pdf"
    assert sorted(d.name for d in store.documents()) == ["a-good.pdf", "m-caf\ufffd.pdf", "z-good.pdf"]
    _, again = ingest(store, extractor, folder)  # the stored path is the file's own: unchanged, skipped
    assert [o.stage for o in again.outcomes] == [Stage.SKIPPED] * 3


def test_paths_too_long_fail_alone_with_their_reason(store: Store, extractor: PdfExtractor, tmp_path: Path) -> None:
    folder = tmp_path / "long"
    folder.mkdir()
    write_pdf(folder / "ok.pdf", ["A sibling that opens fine."])
    nested_too_deep(folder)
    long_name = tmp_path / ("x" * 300 + ".pdf")
    given_ok = write_pdf(tmp_path / "given.pdf", ["Given on the same command line."])
    _, report = ingest(store, extractor, long_name, folder, given_ok)
    got = {o.path: (o.stage, o.message) for o in report.outcomes}
    assert got[str(folder / "ok.pdf")][0] == got[str(given_ok)][0] == Stage.INDEXED
    stage, message = got[str(long_name)]
    assert stage == Stage.FAILED and message.endswith(
        ": cannot be read: a name in its path is longer than the 255 bytes this system allows")
    [(deep, (stage, message))] = [(p, m) for p, m in got.items() if p.startswith(str(folder / "d"))]
    assert stage == Stage.FAILED and "its path is" in message and "more than the 4,096 this system allows" in message
    assert "…" in message and len(message) < 300  # the path shown with its middle left out


def test_discovery_opens_nothing_and_keeps_what_it_cannot_read(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.pdf")
    write_pdf(tmp_path / "b.PDF", ["x"])
    (tmp_path / "notes.csv").write_text("a,b")  # a format the library does not read
    deepest = nested_too_deep(tmp_path)
    found = discover_documents([tmp_path, tmp_path / "b.PDF", tmp_path / ("y" * 300)])
    assert len(found) == 4 and found[0] == tmp_path / "b.PDF" and found[2:] == [tmp_path / "pipe.pdf",
                                                                                 tmp_path / ("y" * 300)]
    assert str(found[1]).startswith(str(tmp_path / "d")) and str(deepest).startswith(str(found[1]))  # unreadable


def test_a_read_only_library_refuses_ingestion_before_looking_at_a_file(tmp_path: Path,
                                                                        extractor: PdfExtractor) -> None:
    good = write_pdf(tmp_path / "good.pdf", ["text"])
    with Store(tmp_path / "library", read_only=True) as store:
        with pytest.raises(StoreWriteError, match="the data folder is read-only; nothing was changed"):
            ingest(store, extractor, good)
        assert store.documents() == []


def test_broken_utf16_in_a_text_layer_is_dropped_so_the_page_can_be_stored(store: Store) -> None:
    from desktop_rag.core.ingest.extract import normalize_page_text
    from desktop_rag.core.types import Page

    text = normalize_page_text("Net sales \ud835rose\udc00 2%")  # unpaired halves of UTF-16 pairs
    assert text == "Net sales rose 2%"
    embedder = HashEmbedder()
    store.add_document(path="/a.pdf", sha256="x", size=1, mtime=1.0, pages=[Page(1, text)], chunks=[],
                       vectors=embedder.embed([]).reshape(0, embedder.dimension), model_id=embedder.model_id)
    assert store.page_texts_of(store.document_by_path("/a.pdf").id) == [text]
