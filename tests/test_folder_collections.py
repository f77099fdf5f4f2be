"""Which collections ingested files join: a folder becomes a collection named after it (or the one
``--collection`` names); each file joins as soon as the library lists it. A real ingestion, with
the fake embedder."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import HashEmbedder
from pdfs import write_pdf

from desktop_rag.config import DEFAULT_EXTRACT_MEMORY_MB, DEFAULT_EXTRACT_TIMEOUT_S
from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.ingest.pipeline import ChunkOptions, Ingestion
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Stage, run_to_end
from desktop_rag.errors import CollectionError
from desktop_rag.folder_collections import collection_plan, join_collections


@pytest.fixture
def folders(tmp_path: Path) -> Path:
    root = tmp_path / "Reports"
    for folder in (root / "2023", tmp_path / "Notes"):
        folder.mkdir(parents=True)
    write_pdf(root / "q1.pdf", ["First quarter revenue rose."])
    write_pdf(root / "2023" / "q2.pdf", ["Second quarter revenue fell."])
    write_pdf(tmp_path / "Notes" / "garden.pdf", ["Tomatoes need sun."])
    write_pdf(tmp_path / "loose.pdf", ["A loose file."])
    (root / "readme.csv").write_text("a,b")  # a format the library does not read
    return tmp_path


def ingest(store: Store, paths: list[Path], plan: dict) -> list:
    with PdfExtractor(DEFAULT_EXTRACT_TIMEOUT_S, DEFAULT_EXTRACT_MEMORY_MB) as extractor:
        run = Ingestion(store, HashEmbedder(), extractor, ChunkOptions(40, 8)).run(paths)
        return run_to_end(join_collections(store, run, plan)).outcomes


def names(store: Store) -> dict[str, list[str]]:
    files = {d.id: d.name for d in store.documents()}
    return {c.name: sorted(files[i] for i in c.doc_ids) for c in store.collections.all()}


def test_each_folder_is_a_collection_named_after_it(folders: Path) -> None:
    plan = collection_plan([folders / "Reports", folders / "Notes", folders / "loose.pdf"])
    assert plan == {str(folders / "Reports" / "2023" / "q2.pdf"): ("Reports",),
                    str(folders / "Reports" / "q1.pdf"): ("Reports",),
                    str(folders / "Notes" / "garden.pdf"): ("Notes",)}  # a file given alone joins none
    assert collection_plan([folders / "Reports"], by_folder=False) == {}
    into = collection_plan([folders / "Reports", folders / "loose.pdf"], into="  All  of it ")
    assert set(into.values()) == {("All of it",)} and len(into) == 3
    with pytest.raises(CollectionError, match="needs a name"):
        collection_plan([folders / "Reports"], into=" ")


def test_ingested_files_join_their_collections(folders: Path, tmp_path: Path) -> None:
    paths = [folders / "Reports", folders / "Notes", folders / "loose.pdf"]
    with Store(tmp_path / "data") as store:
        store.collections.create("reports")  # exists (case aside): the files are added to it
        outcomes = ingest(store, paths, collection_plan(paths))
        assert [o.stage for o in outcomes] == [Stage.INDEXED] * 4
        assert names(store) == {"Notes": ["garden.pdf"], "reports": ["q1.pdf", "q2.pdf"]}
        # again: every file is skipped as unchanged, and still joins (here, a new collection)
        again = ingest(store, [folders / "Reports"], collection_plan([folders / "Reports"], into="Again"))
        assert {o.stage for o in again} == {Stage.SKIPPED}
        assert names(store)["Again"] == ["q1.pdf", "q2.pdf"]


def test_a_copy_of_an_indexed_file_joins_as_that_document(folders: Path, tmp_path: Path) -> None:
    copy = tmp_path / "Copies" / "same-as-q1.pdf"
    copy.parent.mkdir()
    copy.write_bytes((folders / "Reports" / "q1.pdf").read_bytes())
    with Store(tmp_path / "data") as store:
        ingest(store, [folders / "Reports"], {})
        outcomes = ingest(store, [copy.parent], collection_plan([copy.parent]))
        assert [(o.stage, o.message.startswith("same content as")) for o in outcomes] == [(Stage.SKIPPED, True)]
        assert names(store) == {"Copies": ["q1.pdf"]}


def test_a_failed_file_joins_so_the_collection_shows_why(folders: Path, tmp_path: Path) -> None:
    (folders / "Reports" / "broken.pdf").write_text("not really a PDF")
    with Store(tmp_path / "data") as store:
        ingest(store, [folders / "Reports"], collection_plan([folders / "Reports"]))
        assert names(store) == {"Reports": ["broken.pdf", "q1.pdf", "q2.pdf"]}


def test_a_collection_deleted_while_its_files_are_indexed_is_not_made_again(folders: Path, tmp_path: Path) -> None:
    paths = [folders / "Reports"]
    with Store(tmp_path / "data") as store, PdfExtractor(DEFAULT_EXTRACT_TIMEOUT_S, DEFAULT_EXTRACT_MEMORY_MB) as ex:
        events = join_collections(store, Ingestion(store, HashEmbedder(), ex, ChunkOptions(40, 8)).run(paths),
                                  collection_plan(paths))
        first = next(events)  # the collection is made before the first file
        assert first.stage == Stage.HASHING and names(store) == {"Reports": []}
        store.collections.delete(store.collections.find("Reports").id)
        report = run_to_end(events)
        assert len(report.indexed) == 2 and store.collections.all() == []
