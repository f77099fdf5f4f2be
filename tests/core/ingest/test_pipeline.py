"""The ingestion pipeline with real PDFs, the real store and a fake embedder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Callable, Generator, Iterator

import pytest
from fakes import HashEmbedder
from pdfs import encrypt_pdf, flate_bomb_pdf, make_pdf, write_pdf

from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.ingest.pipeline import EMBED_STEP, ChunkOptions, Ingestion
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Events, IngestProgress, IngestReport, Stage
from desktop_rag.errors import StoreIncompatibleError

TESTS_DIR = Path(__file__).resolve().parents[2]
CHUNKS = ChunkOptions(max_tokens=40, overlap_tokens=8)


def pages_about(word: str, pages: int = 3, sentences: int = 8) -> list[str]:
    return [" ".join(f"Page {n} of {word} notes, line {s}, says {word}{n} matters." for s in range(sentences))
            for n in range(1, pages + 1)]


def run(store: Store, extractor: PdfExtractor, paths: list[Path], embedder: HashEmbedder | None = None,
        should_cancel: Callable[[], bool] = lambda: False) -> tuple[list[IngestProgress], IngestReport]:
    ingestion = Ingestion(store, embedder or HashEmbedder(), extractor, CHUNKS, should_cancel)
    return drive(ingestion.run(paths))


def drive(gen: Generator[IngestProgress, None, IngestReport], events: list[IngestProgress] | None = None
          ) -> tuple[list[IngestProgress], IngestReport]:
    """Runs the pipeline to the end; ``events`` fills up as it goes (should_cancel may look at it)."""
    events = [] if events is None else events
    run = Events(gen)
    for event in run:  # one at a time: should_cancel may look at the list as it grows
        events.append(event)
    return events, run.result


def outcomes(report: IngestReport) -> dict[str, tuple[Stage, str]]:
    return {Path(o.path).name: (o.stage, o.message) for o in report.outcomes}


def assert_complete_or_absent(store: Store) -> None:
    db = store._db
    db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('integrity-check')")
    for doc in store.documents():
        n_chunks = db.execute("SELECT count(*) FROM chunks WHERE doc_id=?", (doc.id,)).fetchone()[0]
        n_pages = db.execute("SELECT count(*) FROM pages WHERE doc_id=?", (doc.id,)).fetchone()[0]
        if doc.status == "indexed":
            assert (n_chunks, n_pages) == (doc.chunk_count, doc.page_count) and n_chunks > 0, doc.path
        else:
            assert (n_chunks, n_pages) == (0, 0), doc.path
    assert db.execute("SELECT count(*) FROM chunks WHERE doc_id NOT IN (SELECT id FROM documents)").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM (SELECT 1 FROM chunks GROUP BY doc_id, ordinal HAVING count(*) > 1)"
                      ).fetchone()[0] == 0
    all_ids = {r[0] for r in db.execute("SELECT id FROM chunks")}
    assert {cid for cid, _ in store.dense_search(HashEmbedder().embed(["x"])[0], 10**6)} == all_ids


@pytest.fixture(scope="module")
def extractor() -> Iterator[PdfExtractor]:
    with PdfExtractor(timeout_s=60, memory_mb=256) as ex:
        yield ex


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "library") as s:
        yield s


@pytest.fixture
def good(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    return [write_pdf(folder / f"{w}.pdf", pages_about(w)) for w in ("apple", "banana", "cherry")]


def test_mixed_batch_indexes_the_good_and_fails_each_bad_file_with_its_reason(
    store: Store, extractor: PdfExtractor, good: list[Path], tmp_path: Path
) -> None:
    d = tmp_path / "in"
    (d / "notes.pdf").write_text("plain text pretending to be a PDF\n")
    (d / "empty.pdf").write_bytes(b"")
    (d / "half.pdf").write_bytes(make_pdf(pages_about("half"))[:700])
    encrypt_pdf(good[0], d / "locked.pdf", user_password="pw")
    write_pdf(d / "scan.pdf", ["x", "y"], scanned=True)
    flate_bomb_pdf(d / "bomb.pdf", inflated_mb=320)
    nested = d / "sub"
    nested.mkdir()
    write_pdf(nested / "nested.pdf", pages_about("nested", pages=2))
    open_copy = encrypt_pdf(write_pdf(tmp_path / "plain.pdf", pages_about("opened")), d / "opened.pdf", "")
    batch = [good[0], d / "notes.pdf", nested, d / "empty.pdf", d / "half.pdf", d / "locked.pdf", good[1],
             d / "scan.pdf", d / "missing.pdf", d / "bomb.pdf", open_copy, good[2]]

    events, report = run(store, extractor, batch)

    expected_failures = {
        "notes.pdf": "not a PDF", "empty.pdf": "0 bytes", "half.pdf": "truncated", "locked.pdf": "password",
        # under 256 MB the OCR engine cannot load: the scan says so (see test_ocr_extract.py for the rest)
        "scan.pdf": "reading its scanned pages by OCR needs more than the 256 MB memory limit",
        "missing.pdf": "not found", "bomb.pdf": "256 MB memory limit",
    }
    got = outcomes(report)
    for name, reason in expected_failures.items():
        stage, message = got[name]
        assert stage == Stage.FAILED and name in message and reason in message, (name, message)
    indexed = {"apple.pdf", "banana.pdf", "cherry.pdf", "nested.pdf", "opened.pdf"}
    assert {n for n, (stage, _) in got.items() if stage == Stage.INDEXED} == indexed
    assert (len(report.indexed), len(report.failed), len(report.skipped)) == (5, 7, 0)
    assert report.pages == 4 * 3 + 2 and not report.cancelled
    assert [e.file_count for e in events] == [12] * len(events)

    docs = {d.name: d for d in store.documents()}
    assert {n for n, d in docs.items() if d.status == "indexed"} == indexed
    for name in expected_failures:
        assert docs[name].status == "failed" and docs[name].error == got[name][1]
    assert store.keyword_search('"banana2"', 10) and store.keyword_search('"opened3"', 10)
    assert_complete_or_absent(store)


def test_rerun_skips_unchanged_files_without_embedding_anything(
    store: Store, extractor: PdfExtractor, good: list[Path]
) -> None:
    run(store, extractor, good)
    ids_before = {r[0] for r in store._db.execute("SELECT id FROM chunks")}
    embedder = HashEmbedder()
    _, report = run(store, extractor, [good[0].parent], embedder)
    assert [o.stage for o in report.outcomes] == [Stage.SKIPPED] * 3
    assert all(o.message == "already indexed, unchanged" and o.chunks > 0 for o in report.outcomes)
    assert embedder.embedded == []
    assert {r[0] for r in store._db.execute("SELECT id FROM chunks")} == ids_before


def test_same_content_at_another_path_is_skipped_as_a_duplicate(
    store: Store, extractor: PdfExtractor, good: list[Path], tmp_path: Path
) -> None:
    run(store, extractor, good[:1])
    copy = tmp_path / "copy of apple.pdf"
    copy.write_bytes(good[0].read_bytes())
    embedder = HashEmbedder()
    _, report = run(store, extractor, [copy], embedder)
    [outcome] = report.outcomes
    assert outcome.stage == Stage.SKIPPED and outcome.message == f"same content as {good[0]}"
    assert embedder.embedded == [] and [d.path for d in store.documents()] == [str(good[0])]


def test_changed_file_is_reindexed_and_its_old_chunks_are_gone(
    store: Store, extractor: PdfExtractor, good: list[Path]
) -> None:
    run(store, extractor, good[:2])
    old_doc = store.document_by_path(str(good[0]))
    old_ids = {r[0] for r in store._db.execute("SELECT id FROM chunks WHERE doc_id=?", (old_doc.id,))}
    write_pdf(good[0], pages_about("durian", pages=2))
    embedder = HashEmbedder()
    _, report = run(store, extractor, good[:2], embedder)
    assert [o.stage for o in report.outcomes] == [Stage.INDEXED, Stage.SKIPPED]
    assert embedder.embedded and all("durian" in text for text in embedder.embedded)
    new_doc = store.document_by_path(str(good[0]))
    assert new_doc.page_count == 2 and new_doc.sha256 != old_doc.sha256
    assert not old_ids & {r[0] for r in store._db.execute("SELECT id FROM chunks")}
    assert store.keyword_search('"apple1"', 10) == [] and store.keyword_search('"durian1"', 10)
    assert_complete_or_absent(store)


def test_cancelling_mid_file_stores_nothing_of_that_file(
    store: Store, extractor: PdfExtractor, good: list[Path], tmp_path: Path
) -> None:
    big = write_pdf(tmp_path / "in" / "big.pdf", pages_about("big", pages=20, sentences=20))
    batch = [good[0], big, good[1]]
    seen: list[IngestProgress] = []

    def should_cancel() -> bool:  # stop once the big file has embedded one batch and started the next
        return any(e.path == str(big) and e.stage == Stage.EMBEDDING and e.chunks_done > 0 for e in seen)

    embedder = HashEmbedder()
    gen = Ingestion(store, embedder, extractor, CHUNKS, should_cancel).run(batch)
    seen_events, report = drive(gen, seen)
    assert outcomes(report) == {
        "apple.pdf": (Stage.INDEXED, ""), "big.pdf": (Stage.CANCELLED, "cancelled; nothing of this file was stored"),
    }
    assert report.cancelled and seen_events[-1].stage == Stage.CANCELLED
    assert any("big" in text for text in embedder.embedded), "the big file was cancelled while embedding"
    assert [d.path for d in store.documents()] == [str(good[0])]
    assert store.keyword_search('"big1"', 10) == []
    assert_complete_or_absent(store)

    _, rerun = run(store, extractor, batch)
    assert [o.stage for o in rerun.outcomes] == [Stage.SKIPPED, Stage.INDEXED, Stage.INDEXED]


def test_progress_events_carry_file_stage_and_counts(
    store: Store, extractor: PdfExtractor, good: list[Path], tmp_path: Path
) -> None:
    big = write_pdf(tmp_path / "in" / "big.pdf", pages_about("big", pages=30, sentences=20))
    missing = tmp_path / "in" / "missing.pdf"
    events, report = run(store, extractor, [big, missing])
    mine = [e for e in events if e.path == str(big)]
    assert [e.file_index for e in mine] == [0] * len(mine) and {e.file_count for e in events} == {2}
    stages = [e.stage for e in mine]
    assert stages[:3] == [Stage.HASHING, Stage.EXTRACTING, Stage.CHUNKING] and stages[-2:] == [Stage.STORING, Stage.INDEXED]
    [chunking] = [e for e in mine if e.stage == Stage.CHUNKING]
    assert chunking.pages_total == 30
    total = report.outcomes[0].chunks
    assert total > 2 * EMBED_STEP
    embedding = [e for e in mine if e.stage == Stage.EMBEDDING]
    assert [e.chunks_done for e in embedding] == list(range(0, total, EMBED_STEP))
    assert all((e.chunks_total, e.pages_done, e.pages_total) == (total, 30, 30) for e in embedding)
    assert (mine[-1].chunks_done, mine[-1].chunks_total, mine[-1].pages_done) == (total, total, 30)
    assert [e.is_final for e in mine] == [False] * (len(mine) - 1) + [True]
    other = [e for e in events if e.path == str(missing)]
    assert [e.stage for e in other] == [Stage.HASHING, Stage.FAILED] and other[-1].file_index == 1
    assert "not found" in other[-1].message


def test_library_of_another_embedding_model_stops_the_batch(
    store: Store, extractor: PdfExtractor, good: list[Path]
) -> None:
    run(store, extractor, good[:1])
    with pytest.raises(StoreIncompatibleError):
        run(store, extractor, good[1:], HashEmbedder(model_id="another-model"))
    assert [d.path for d in store.documents()] == [str(good[0])]


CRASH_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    from fakes import HashEmbedder
    from desktop_rag.config import DEFAULT_EXTRACT_MEMORY_MB, DEFAULT_EXTRACT_TIMEOUT_S
    from desktop_rag.core.ingest.extract import PdfExtractor
    from desktop_rag.core.ingest.pipeline import ChunkOptions, Ingestion
    from desktop_rag.core.store.library import Store
    store, extractor = Store(sys.argv[1]), PdfExtractor(DEFAULT_EXTRACT_TIMEOUT_S, DEFAULT_EXTRACT_MEMORY_MB)
    kill_sql, kill_nth, seen = os.environ.get("KILL_AT_SQL", ""), int(os.environ.get("KILL_AT_NTH", "0")), set()

    def trace(sql):  # SIGKILL ourselves as SQLite starts the Nth matching statement: mid-transaction
        if kill_sql and sql.startswith(kill_sql) and sql not in seen:  # the FTS trigger repeats a row's SQL
            seen.add(sql)
            if len(seen) == kill_nth:
                os.kill(os.getpid(), signal.SIGKILL)

    store._db.set_trace_callback(trace)
    for event in Ingestion(store, HashEmbedder(), extractor, ChunkOptions(40, 8)).run(sys.argv[2:]):
        print(event.file_index, event.stage.value, flush=True)
    print("finished", flush=True)
""")
KILL_POINTS = {
    # name: (progress line the parent kills at, SQL the child kills itself at, its count, files complete)
    "parent kills while embedding file 2": ("2 embedding", "", 0, 2),
    "parent kills while extracting file 3": ("3 extracting", "", 0, 3),
    "parent kills as file 1 is stored": ("1 storing", "", 0, 1),
    "killed inside the insert of file 1's chunks": ("", "INSERT INTO chunks(", 400, 1),  # file 0 has ~310
    "killed inside the insert of file 2's pages": ("", "INSERT INTO pages(", 60, 2),  # 25 pages a file
}


@pytest.mark.parametrize("kill_point", KILL_POINTS.values(), ids=KILL_POINTS.keys())
def test_kill_9_mid_batch_leaves_every_document_complete_or_absent(
    extractor: PdfExtractor, tmp_path: Path, kill_point: tuple[str, str, int, int]
) -> None:
    at_event, at_sql, nth, complete = kill_point
    folder = tmp_path / "in"
    folder.mkdir()
    batch = [write_pdf(folder / f"doc{i}.pdf", pages_about(f"doc{i}", pages=25, sentences=25)) for i in range(5)]
    script = tmp_path / "ingest_script.py"
    script.write_text(CRASH_SCRIPT.format(tests=str(TESTS_DIR)))
    library = tmp_path / "library"
    env = dict(os.environ, KILL_AT_SQL=at_sql, KILL_AT_NTH=str(nth))
    child = subprocess.Popen([sys.executable, str(script), str(library), *map(str, batch)],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        for line in child.stdout:
            assert line.strip() != "finished", "the batch ended before the kill point"
            if line.strip() == at_event:
                os.kill(child.pid, signal.SIGKILL)
                break
    finally:
        child.kill()
        assert child.wait(30) == -signal.SIGKILL

    with Store(library) as store:
        assert_complete_or_absent(store)
        done_before = {d.path for d in store.documents()}
        assert done_before <= {str(p) for p in batch}
        # A self-kill lands exactly there; the parent's kill may arrive just after the file in flight is done.
        assert done_before == {str(p) for p in batch[:complete]} or (at_event and len(done_before) == complete + 1)
        _, report = run(store, extractor, batch)
        assert not report.failed
        assert {o.path for o in report.skipped} == done_before
        assert sorted(d.path for d in store.documents()) == sorted(map(str, batch))
        assert_complete_or_absent(store)
