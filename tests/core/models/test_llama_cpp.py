"""The llama.cpp chat model: bad model files, GPU offload where unsupported, streaming and Stop."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from desktop_rag.config import Settings
from desktop_rag.core.models import llama_cpp
from desktop_rag.core.models.llama_cpp import LlamaCppChatModel, bundled_llm_path, check_gguf_file, gpu_offload_supported
from desktop_rag.errors import Cancelled, GpuOffloadError, ModelLoadError, ModelNotFoundError

DEFAULTS = Settings()


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="not found"):
        LlamaCppChatModel(tmp_path / "nope.gguf", n_gpu_layers=DEFAULTS.n_gpu_layers, n_ctx=DEFAULTS.n_ctx).load()


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="folder"):
        LlamaCppChatModel(tmp_path, n_gpu_layers=DEFAULTS.n_gpu_layers, n_ctx=DEFAULTS.n_ctx).load()


def test_not_a_gguf(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 this is a zip, not a model")
    with pytest.raises(ModelLoadError, match="not a GGUF"):
        LlamaCppChatModel(fake, n_gpu_layers=DEFAULTS.n_gpu_layers, n_ctx=DEFAULTS.n_ctx).load()


def test_truncated_gguf_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(bundled_llm_path().read_bytes()[:4096])
    with pytest.raises(ModelLoadError, match="broken.gguf"):
        LlamaCppChatModel(broken, n_gpu_layers=DEFAULTS.n_gpu_layers, n_ctx=DEFAULTS.n_ctx).load()


def test_gguf_larger_than_free_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = tmp_path / "huge.gguf"
    with big.open("wb") as fh:  # a sparse file: 8 GiB on paper, nothing on disk
        fh.write(b"GGUF")
        fh.truncate(8 * 2**30)
    monkeypatch.setattr(llama_cpp, "_available_memory_bytes", lambda: 2 * 2**30)
    with pytest.raises(ModelLoadError, match="needs about 8.0 GB"):
        check_gguf_file(big)


@pytest.mark.skipif(gpu_offload_supported(), reason="this llama.cpp build can offload to a GPU")
def test_gpu_layers_without_gpu_support_is_a_clear_error() -> None:
    with pytest.raises(GpuOffloadError, match="no GPU support"):
        LlamaCppChatModel(n_gpu_layers=-1, n_ctx=DEFAULTS.n_ctx).load()


@pytest.fixture(scope="module")
def model() -> LlamaCppChatModel:
    m = LlamaCppChatModel(n_gpu_layers=DEFAULTS.n_gpu_layers, n_ctx=1024)
    m.load()
    yield m
    m.close()


MESSAGES = [{"role": "system", "content": "You are brief."}, {"role": "user", "content": "Name three colours."}]


def test_bundled_model_loads_and_reports_offload(model: LlamaCppChatModel) -> None:
    assert model.name.endswith(".gguf") and model.offload is not None
    assert model.offload.layers_total > 0
    assert model.offload.layers_offloaded == 0 and "CPU" in model.offload.describe()
    # read from llama.cpp's own load log: the weights sit in a CPU buffer
    assert sum(mib for name, mib in model.offload.weights_mib.items() if name.upper().startswith("CPU")) > 50
    assert 0 < model.count_tokens("Hello there, world.") < 10


def test_streams_several_pieces(model: LlamaCppChatModel) -> None:
    pieces = list(model.stream_chat(MESSAGES, max_tokens=24, temperature=0.0))
    assert len(pieces) > 3 and "".join(pieces).strip()


def test_same_prompt_same_answer_at_temperature_zero(model: LlamaCppChatModel) -> None:
    first = "".join(model.stream_chat(MESSAGES, max_tokens=16, temperature=0.0))
    second = "".join(model.stream_chat(MESSAGES, max_tokens=16, temperature=0.0))
    assert first == second


def test_stop_between_tokens(model: LlamaCppChatModel) -> None:
    got: list[str] = []
    with pytest.raises(Cancelled):
        for piece in model.stream_chat(MESSAGES, max_tokens=200, temperature=0.0, should_stop=lambda: len(got) >= 2):
            got.append(piece)
    assert len(got) == 2
    assert "".join(model.stream_chat(MESSAGES, max_tokens=8, temperature=0.0)).strip()  # still usable


def test_stop_during_prompt_processing(model: LlamaCppChatModel) -> None:
    """A Stop that arrives while llama.cpp is still reading a long prompt aborts it."""
    flag = threading.Event()
    long_prompt = [{"role": "user", "content": "Summarize: " + "The quarterly report lists revenue. " * 120}]
    threading.Timer(0.05, flag.set).start()
    started = time.perf_counter()
    with pytest.raises(Cancelled):
        for _ in model.stream_chat(long_prompt, max_tokens=200, temperature=0.0, should_stop=flag.is_set):
            pass
    assert flag.is_set()
    assert "".join(model.stream_chat(MESSAGES, max_tokens=8, temperature=0.0)).strip()
    del started
