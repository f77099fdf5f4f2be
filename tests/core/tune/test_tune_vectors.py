"""The switch between two sets of vectors: one transaction, kill -9 safe, full-disk safe, reversible."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from fakes import HashEmbedder
from tune_library import build_library, vectors_of

from desktop_rag.core.store.library import Store
from desktop_rag.core.tune.locking import tune_lock
from desktop_rag.core.tune.revert import revert_library
from desktop_rag.core.tune.state import META_KEY, TunedModel
from desktop_rag.errors import StoreWriteError, TuneError
from desktop_rag.core.tune.vectors import VectorSets

NEW = HashEmbedder(dimension=64, model_id="tuned-model")


def _stage_all(sets: VectorSets, embedder: HashEmbedder = NEW) -> None:
    for ids, texts in sets.unstaged():
        sets.stage(ids, embedder.embed(texts))


def _record(model_id: str = "tuned-model") -> str:
    return TunedModel("embedding-models/x", model_id, "hash-embedder", "", 0.0, 10).to_json()


def test_switch_replaces_every_vector_and_the_model_id_together(tmp_path: Path) -> None:
    with build_library(tmp_path, docs=3, pages=10) as store:
        old = vectors_of(store)
        with VectorSets(store.db_path, store.index_path) as sets:
            _stage_all(sets)
            assert np.array_equal(vectors_of(store), old)  # staging never touches what serves
            sets.switch("tuned-model", {META_KEY: _record()}, NEW.embed, keep_current=True, drop_kept=False)
            assert sets.kept_count() == 30 and sets.staged_count() == 0
        assert store.meta("embed_model") == "tuned-model" and store.meta(META_KEY)
        texts = [r[0] for r in store._db.execute("SELECT text FROM chunks ORDER BY id")]
        assert np.allclose(vectors_of(store), NEW.embed(texts))
        store.rebuild_index()
        assert store.dense_search(NEW.embed([texts[4]])[0], 1)[0][0] == 5


def test_chunks_added_while_re_embedding_are_embedded_at_the_switch(tmp_path: Path) -> None:
    with build_library(tmp_path, docs=2, pages=10) as store:
        with VectorSets(store.db_path, store.index_path) as sets:
            _stage_all(sets)
            build_library(tmp_path, docs=3, pages=10).close()  # a third document arrives (same paths replaced)
            sets.switch("tuned-model", {}, NEW.embed, keep_current=True, drop_kept=False)
        texts = [r[0] for r in store._db.execute("SELECT text FROM chunks ORDER BY id")]
        assert len(texts) == 30 and np.allclose(vectors_of(store), NEW.embed(texts))


def test_a_failure_inside_the_switch_leaves_the_old_vectors(tmp_path: Path) -> None:
    def broken(texts):  # noqa: ANN001, ANN202
        raise OSError("no space left on device")

    with build_library(tmp_path, docs=2, pages=10) as store:
        old = vectors_of(store)
        with VectorSets(store.db_path, store.index_path) as sets:
            ids, texts = next(sets.unstaged(batch=5))
            sets.stage(ids, NEW.embed(texts))  # the rest must be embedded inside the switch: it fails
            with pytest.raises(OSError):
                sets.switch("tuned-model", {META_KEY: _record()}, broken, keep_current=True, drop_kept=False)
        assert np.array_equal(vectors_of(store), old) and store.meta("embed_model") == "hash-embedder"
        assert store.meta(META_KEY) is None


def test_a_full_disk_while_staging_is_a_clear_error_and_loses_nothing(tmp_path: Path) -> None:
    with build_library(tmp_path, docs=3, pages=10) as store:
        old = vectors_of(store)
        with VectorSets(store.db_path, store.index_path) as sets:
            pages = sets._db.execute("PRAGMA page_count").fetchone()[0]
            sets._db.execute(f"PRAGMA max_page_count={pages}")  # the disk is full from now on
            with pytest.raises(StoreWriteError, match="keeps its current vectors"):
                _stage_all(sets, HashEmbedder(dimension=2048, model_id="tuned-model"))
        assert np.array_equal(vectors_of(store), old) and store.meta("embed_model") == "hash-embedder"


def _switch_slowly(folder: str) -> None:
    """Child: stage everything, then switch with an embedder that takes its time (killed meanwhile)."""
    with VectorSets(Path(folder) / "library.sqlite3", Path(folder) / "vectors.faiss") as sets:
        _stage_all(sets)
        sets._db.execute("DELETE FROM tune_staged_vectors WHERE id IN (SELECT id FROM chunks ORDER BY id LIMIT 3)")

        def slow(texts):  # noqa: ANN001, ANN202
            (Path(folder) / "switching").touch()  # inside the transaction, with a vector left to make
            time.sleep(60)
            return NEW.embed(texts)

        sets.switch("tuned-model", {META_KEY: _record()}, slow, keep_current=True, drop_kept=False)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="kill -9 is a POSIX signal")
def test_kill_9_during_the_switch_leaves_the_old_model_whole(tmp_path: Path) -> None:
    with build_library(tmp_path, docs=2, pages=10) as store:
        old = vectors_of(store)
        store.save_index()
    child = multiprocessing.get_context("spawn").Process(target=_switch_slowly, args=(str(tmp_path),))
    child.start()
    deadline = time.monotonic() + 60
    while not (tmp_path / "switching").exists():
        assert time.monotonic() < deadline and child.is_alive()
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.join()
    with Store(tmp_path) as store:
        assert store.meta("embed_model") == "hash-embedder" and store.meta(META_KEY) is None
        assert np.array_equal(vectors_of(store), old)
        assert store.dense_search(old[2], 1)[0][0] == 3  # the cache answers with the old vectors


def test_revert_restores_kept_vectors_and_embeds_what_came_after(tmp_path: Path) -> None:
    original = HashEmbedder()
    with build_library(tmp_path, docs=2, pages=10) as store:
        old = vectors_of(store)
        with VectorSets(store.db_path, store.index_path) as sets:
            _stage_all(sets)
            sets.switch("tuned-model", {META_KEY: _record()}, NEW.embed, keep_current=True, drop_kept=False)
        build_library(tmp_path, docs=3, pages=10, embedder=NEW).close()  # indexed with the tuned model
        list(revert_library(store, original))
        assert store.meta("embed_model") == "hash-embedder" and store.meta(META_KEY) is None
        texts = [r[0] for r in store._db.execute("SELECT text FROM chunks ORDER BY id")]
        assert np.allclose(vectors_of(store)[:20], old) and np.allclose(vectors_of(store), original.embed(texts))
        assert store._db.execute("SELECT count(*) FROM tune_original_vectors").fetchone()[0] == 0
        with pytest.raises(TuneError, match="already uses the original"):
            list(revert_library(store, original))


def test_a_second_run_is_refused_while_one_holds_the_lock(tmp_path: Path) -> None:
    with tune_lock(tmp_path):
        with pytest.raises(TuneError, match="already being adapted"):
            with tune_lock(tmp_path):
                pass
    with tune_lock(tmp_path):  # let go when the first ended
        pass
