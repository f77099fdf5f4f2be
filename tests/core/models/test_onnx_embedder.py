"""The ONNX Runtime embedder: the model's own pooling, a cached copy made once and atomically,
vectors that match PyTorch's, and a question path that never imports torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from desktop_rag.core.models import onnx_export
from desktop_rag.core.models.embedder import SentenceTransformerEmbedder, bundled_embedding_model_dir
from desktop_rag.core.models.onnx_embedder import OnnxEmbedder, max_seq_length, pool, pooling_mode
from desktop_rag.errors import ModelLoadError, ModelNotFoundError

TEXTS = [
    "Apple's total net sales decreased 1% year over year in the third quarter.",
    "  Microsoft repurchased shares worth $5.5 billion under its programme.  ",
    "Risk factors: supply chain disruption, foreign exchange, and litigation.",
    "x",
    "word " * 600,  # longer than the model reads: truncated to 256 tokens
]


def model_folder(tmp_path: Path, pooling: dict[str, bool] | None, modules: bool = True) -> Path:
    folder = tmp_path / "model"
    (folder / "1_Pooling").mkdir(parents=True)
    if modules:
        (folder / "modules.json").write_text(json.dumps([
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        ]))
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling or {}))
    return folder


def test_pooling_follows_the_models_own_config(tmp_path: Path) -> None:
    assert pooling_mode(bundled_embedding_model_dir()) == "mean"
    assert pooling_mode(model_folder(tmp_path / "a", {"pooling_mode_cls_token": True})) == "cls"
    assert pooling_mode(model_folder(tmp_path / "b", None, modules=False)) == "mean"  # a bare transformer
    with pytest.raises(ModelLoadError, match="max.*embedding_backend"):
        pooling_mode(model_folder(tmp_path / "c", {"pooling_mode_max_tokens": True}))


def test_reads_the_length_sentence_transformers_reads(tmp_path: Path) -> None:
    assert max_seq_length(bundled_embedding_model_dir()) == 256
    folder = model_folder(tmp_path, {"pooling_mode_mean_tokens": True})
    (folder / "config.json").write_text(json.dumps({"max_position_embeddings": 128}))
    (folder / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 1000}))
    assert max_seq_length(folder) == 128  # never past the position embeddings


def test_pool_averages_the_real_tokens_only_and_normalises() -> None:
    hidden = np.array([[[1.0, 0.0], [3.0, 4.0], [100.0, 100.0]]], dtype=np.float32)
    mask = np.array([[1, 1, 0]])
    mean = pool(hidden, mask, "mean")
    np.testing.assert_allclose(mean, [[2 / np.sqrt(8), 2 / np.sqrt(8)]], rtol=1e-6)  # mean (2, 2): the pad ignored
    np.testing.assert_allclose(pool(hidden, mask, "cls"), [[1.0, 0.0]])
    assert mean.dtype == np.float32


def test_a_missing_model_folder_is_named(tmp_path: Path) -> None:
    embedder = OnnxEmbedder(tmp_path / "nowhere", batch_size=8, cache_dir=tmp_path)
    with pytest.raises(ModelNotFoundError, match="nowhere"):
        embedder.embed(["a"])


def test_copies_are_made_once_and_a_failed_export_leaves_nothing(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    model = bundled_embedding_model_dir()
    made: list[str] = []

    def fake_trace(model_dir: Path, out: Path) -> None:
        made.append("fp32")
        out.write_bytes(b"fp32")

    def broken_quantize(source: Path, out: Path, **options: bool) -> None:
        out.write_bytes(b"half a file")
        raise OSError("No space left on device")

    monkeypatch.setattr(onnx_export, "_trace", fake_trace)
    monkeypatch.setattr(onnx_export, "_quantize", broken_quantize)
    with pytest.raises(ModelLoadError, match="No space left.*embedding_backend"):
        onnx_export.ensure_onnx_copy(model, "m-1", tmp_path)
    fp32 = onnx_export.onnx_copy_path(model, "m-1", tmp_path, onnx_export.FLOAT32)
    assert [p.name for p in tmp_path.iterdir()] == [fp32.name]  # the finished float32 copy; no partial file

    def quantize(source: Path, out: Path, **options: bool) -> None:
        made.append(f"int8 from {source.read_bytes().decode()}")
        out.write_bytes(b"int8")

    monkeypatch.setattr(onnx_export, "_quantize", quantize)
    int8 = onnx_export.ensure_onnx_copy(model, "m-1", tmp_path)
    assert int8.read_bytes() == b"int8" and sorted(p.name for p in tmp_path.iterdir()) == sorted([fp32.name, int8.name])
    assert onnx_export.ensure_onnx_copy(model, "m-1", tmp_path) == int8
    assert made == ["fp32", "int8 from fp32"]  # cached: each copy made once
    newer = onnx_export.ensure_onnx_copy(model, "m-2", tmp_path)  # the model changed: new copies, the old ones gone
    assert len(list(tmp_path.iterdir())) == 2 and newer.is_file() and not int8.exists() and not fp32.exists()
    with pytest.raises(ModelLoadError, match="unknown ONNX recipe"):
        onnx_export.ensure_onnx_copy(model, "m-2", tmp_path, "int3")


def test_copies_of_model_folders_long_gone_are_removed_when_a_copy_is_made(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(onnx_export, "_trace", lambda model_dir, out: out.write_bytes(b"fp32"))
    monkeypatch.setattr(onnx_export, "_quantize", lambda source, out, **options: out.write_bytes(b"int8"))
    weeks_ago = time.time() - 40 * 86400
    gone = tmp_path / "embedder-0badc0de-12345678-onnx-int8-v1.onnx"  # an earlier install's model folder
    in_use = tmp_path / "embedder-0fedcba9-12345678-onnx-int8-v1.onnx"
    for copy in (gone, in_use):
        copy.write_bytes(b"int8")
    os.utime(gone, (weeks_ago, weeks_ago))
    made = onnx_export.ensure_onnx_copy(bundled_embedding_model_dir(), "m-1", tmp_path)
    assert made.is_file() and not gone.exists() and in_use.exists()
    os.utime(made, (weeks_ago, weeks_ago))
    assert onnx_export.ensure_onnx_copy(bundled_embedding_model_dir(), "m-1", tmp_path) == made
    assert made.stat().st_mtime > weeks_ago + 30 * 86400  # used: kept by the next copy made


@pytest.fixture(scope="module")
def embedders(tmp_path_factory: pytest.TempPathFactory) -> tuple[OnnxEmbedder, SentenceTransformerEmbedder]:
    cache = Path(os.environ.get("DESKTOP_RAG_CACHE_DIR") or tmp_path_factory.mktemp("onnx")) / "models"
    return OnnxEmbedder(batch_size=8, cache_dir=cache), SentenceTransformerEmbedder(batch_size=8, bf16=False)


def test_vectors_match_pytorch_and_never_depend_on_their_neighbours(embedders) -> None:  # noqa: ANN001
    onnx, torch_model = embedders
    reference = torch_model.embed(TEXTS)
    questions, passages = onnx.embed(TEXTS), onnx.embed_documents(TEXTS)
    for vectors in (questions, passages):
        assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert (questions * reference).sum(axis=1).min() > 0.9999  # float32: PyTorch's vectors
    assert (passages * reference).sum(axis=1).min() > 0.98  # int8: close, not equal
    alone = np.stack([onnx.embed_documents([text])[0] for text in TEXTS])
    np.testing.assert_allclose(alone, passages, atol=1e-5)  # a text's vector is the same in any batch
    assert onnx.embed([]).shape == (0, 384) and onnx.embed_documents([]).shape == (0, 384)
    assert onnx.model_id == f"{torch_model.model_id}+{onnx_export.RECIPE}"  # never passes for PyTorch's


def test_token_offsets_and_lengths_are_pytorchs(embedders) -> None:  # noqa: ANN001
    onnx, torch_model = embedders
    text = "Net sales were $81.8 billion — down 1% — in Q3 2023.\n\nItem 1A. Risk Factors " * 40
    assert onnx.max_tokens == torch_model.max_tokens == 254
    assert onnx.token_offsets(text) == torch_model.token_offsets(text)  # whole documents: never truncated
    assert len(onnx.token_offsets(text)) > 256


def test_the_question_path_never_imports_torch(embedders) -> None:  # noqa: ANN001
    onnx, _ = embedders
    onnx.load()  # the copy exists now
    script = (
        "import sys; from pathlib import Path\n"
        "from desktop_rag.core.models.onnx_embedder import OnnxEmbedder\n"
        f"e = OnnxEmbedder(batch_size=8, cache_dir=Path({str(onnx.cache_dir)!r}))\n"
        "assert e.embed(['What were Apple net sales?']).shape == (1, 384)\n"
        "assert e.embed_documents(['Net sales were $81.8 billion.'] * 3).shape == (3, 384)\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
