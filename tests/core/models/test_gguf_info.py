"""GGUF headers: what is read from them, and a clear error for every kind of bad model file."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_rag.core.models.gguf_info import (
    check_fits,
    check_language_model,
    check_model_file,
    kv_cache_bytes,
    memory_needed,
    read_gguf_info,
)
from desktop_rag.core.models.llama_cpp import bundled_llm_path
from desktop_rag.errors import ModelLoadError, ModelNotFoundError
from gguf_files import write_gguf


def test_the_bundled_model_header_is_read() -> None:
    info = read_gguf_info(bundled_llm_path())
    assert (info.architecture, info.quantization, info.context_length, info.block_count) == ("llama", "Q4_1", 8192, 30)
    assert info.parameter_count == 134_515_008 and info.parameters_label() == "135M"
    assert info.data_end == info.file_size  # the whole file is accounted for by its header
    assert "im_start" in info.chat_template and not info.is_projector


def test_parameter_count_and_sizes_of_a_written_model(tmp_path: Path) -> None:
    info = read_gguf_info(write_gguf(tmp_path / "tiny.gguf", blocks=3, width=64, vocab=300, name="Tiny"))
    assert info.parameter_count == 3 * 64 * 64 + 300 * 64
    assert (info.name, info.quantization, info.context_length, info.head_count_kv) == ("Tiny", "F32", 2048, 2)
    # K and V, 3 layers, 1024 tokens, 2 of 4 heads of width 16, f16
    assert kv_cache_bytes(info, 1024) == 2 * 3 * 1024 * 32 * 2
    assert kv_cache_bytes(info, 10_000) == kv_cache_bytes(info, 2048)  # at most the model's own context
    assert memory_needed(info, 1024) > info.file_size + kv_cache_bytes(info, 1024)


@pytest.mark.parametrize("cut", [3, 6, 40, 2000])
def test_a_header_cut_short_is_reported(tmp_path: Path, cut: int) -> None:
    whole = write_gguf(tmp_path / "whole.gguf").read_bytes()
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(whole[:cut])
    with pytest.raises(ModelLoadError, match="broken.gguf") as err:
        read_gguf_info(broken)
    assert "truncated" in str(err.value) or "not a GGUF" in str(err.value)


def test_tensor_data_cut_short_is_reported_as_truncated(tmp_path: Path) -> None:
    whole = bundled_llm_path().read_bytes()
    broken = tmp_path / "half.gguf"
    broken.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(ModelLoadError, match=r"half.gguf is truncated: 46.9 MB of the 93.8 MB"):
        read_gguf_info(broken)


def test_not_a_gguf_empty_missing_and_folder(tmp_path: Path) -> None:
    (tmp_path / "zip.gguf").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    (tmp_path / "empty.gguf").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="zip.gguf: not a GGUF model file"):
        read_gguf_info(tmp_path / "zip.gguf")
    with pytest.raises(ModelLoadError, match="empty.gguf is not a GGUF model file"):
        read_gguf_info(tmp_path / "empty.gguf")
    with pytest.raises(ModelNotFoundError, match="not found"):
        read_gguf_info(tmp_path / "gone.gguf")
    with pytest.raises(ModelLoadError, match="folder"):
        read_gguf_info(tmp_path)


@pytest.mark.parametrize(("arch", "model_type"), [("clip", ""), ("mmproj", ""), ("llama", "mmproj")])
def test_a_vision_projector_is_not_a_language_model(tmp_path: Path, arch: str, model_type: str) -> None:
    path = write_gguf(tmp_path / "mmproj-model-f16.gguf", arch=arch, model_type=model_type)
    with pytest.raises(ModelLoadError, match="vision projector"):
        check_model_file(path, 2048, None)


def test_a_model_without_layers_is_not_a_language_model(tmp_path: Path) -> None:
    info = read_gguf_info(write_gguf(tmp_path / "odd.gguf", blocks=0))
    with pytest.raises(ModelLoadError, match="no transformer layers"):
        check_language_model(info)


def test_too_large_for_memory_says_how_much_is_needed(tmp_path: Path) -> None:
    info = read_gguf_info(bundled_llm_path())
    with pytest.raises(ModelLoadError, match=r"needs about 0\.3 GB .* 4096-token context .* only 0\.1 GB is free"):
        check_fits(info, 4096, 100 * 2**20)
    check_fits(info, 4096, 100 * 2**20, on_gpu=True)  # on a GPU, main memory is not the limit
    check_fits(info, 4096, None)  # unknown: no claim either way
    assert check_model_file(bundled_llm_path(), 4096, 2**40).name.startswith("Smollm2")
