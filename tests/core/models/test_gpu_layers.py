"""Choosing the GPU layers from the free video memory (fakes stand in for the GPU here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_rag.config import Settings
from desktop_rag.core.models.gguf_info import read_gguf_info
from desktop_rag.core.models.gpu_layers import (
    ALL_LAYERS,
    RESERVE_BYTES,
    GpuMemory,
    choose_gpu_layers,
    gpu_memory,
    parse_nvidia_smi,
)
from desktop_rag.core.models.llama_cpp import LlamaCppChatModel, bundled_llm_path
from desktop_rag.services import make_chat_model

SMI = "NVIDIA GeForce RTX 3060, 6144, 12288\nNVIDIA A100-SXM4-80GB, 81000, 81920\n"
GB = 2**30


@pytest.fixture(scope="module")
def info():  # noqa: ANN201
    return read_gguf_info(bundled_llm_path())  # 30 layers, 94 MB


def test_nvidia_smi_output_is_read() -> None:
    assert parse_nvidia_smi(SMI) == [GpuMemory("NVIDIA GeForce RTX 3060", 6144 * 2**20, 12288 * 2**20),
                                     GpuMemory("NVIDIA A100-SXM4-80GB", 81000 * 2**20, 81920 * 2**20)]
    assert parse_nvidia_smi("NVIDIA-SMI has failed because it couldn't communicate with the driver") == []
    assert gpu_memory(lambda: None) == [] and len(gpu_memory(lambda: SMI)) == 2


def test_all_layers_when_the_model_fits(info) -> None:  # noqa: ANN001
    choice = choose_gpu_layers(info, 4096, supported=True, gpus=parse_nvidia_smi(SMI))
    assert choice.layers == ALL_LAYERS
    assert choice.reason.startswith("all 30 layers on NVIDIA GeForce RTX 3060") and "6.0 GB" in choice.reason


def test_part_of_the_layers_when_memory_is_short(info) -> None:  # noqa: ANN001
    per_layer = info.file_size // 31 + (2 * 30 * 4096 * 192 * 2) // 30
    gpu = GpuMemory("Small GPU", RESERVE_BYTES + 12 * per_layer + per_layer // 2, 2 * GB)
    choice = choose_gpu_layers(info, 4096, supported=True, gpus=[gpu])
    assert choice.layers == 12 and choice.reason.startswith("12 of 30 layers on Small GPU")
    more_context = choose_gpu_layers(info, 8192, supported=True, gpus=[gpu])
    assert more_context.layers < 12  # a longer context's KV cache takes room from the layers


def test_cpu_only_with_a_reason_when_offload_cannot_happen(info) -> None:  # noqa: ANN001
    assert choose_gpu_layers(info, 4096, supported=False, gpus=parse_nvidia_smi(SMI)).reason == \
        "CPU only: this llama.cpp build has no GPU support"
    unknown = choose_gpu_layers(info, 4096, supported=True, gpus=[])
    assert unknown.layers == 0 and "cannot be read" in unknown.reason
    full = choose_gpu_layers(info, 4096, supported=True, gpus=[GpuMemory("Busy GPU", 300 * 2**20, 8 * GB)])
    assert full.layers == 0 and "too little for one layer" in full.reason


def test_the_model_applies_its_choice_before_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    model = LlamaCppChatModel(n_gpu_layers=0, n_ctx=4096, auto_gpu_layers=True)
    assert model.thread_chooser is not None
    model._choose_gpu_layers(True, parse_nvidia_smi(SMI))
    assert model.n_gpu_layers == ALL_LAYERS and model.thread_chooser is None
    assert model.gpu_choice is not None and model.gpu_choice.reason.startswith("all 30 layers")
    by_hand = LlamaCppChatModel(n_gpu_layers=7, n_ctx=4096)
    by_hand._choose_gpu_layers(True, parse_nvidia_smi(SMI))
    assert by_hand.n_gpu_layers == 7 and by_hand.gpu_choice is None  # a count set by hand is kept


def test_on_a_build_without_gpu_support_automatic_loads_on_the_cpu() -> None:
    model = make_chat_model(Settings(n_ctx=1024))
    assert model.auto_gpu_layers and model.n_gpu_layers == 0
    model._choose_gpu_layers(False)
    assert model.n_gpu_layers == 0 and model.thread_chooser is not None
    assert model.gpu_choice.reason == "CPU only: this llama.cpp build has no GPU support"
    manual = make_chat_model(Settings(n_ctx=1024, auto_gpu_layers=False, n_gpu_layers=5))
    assert not manual.auto_gpu_layers and manual.n_gpu_layers == 5


def test_a_count_given_on_the_command_line_turns_automatic_off(tmp_path: Path) -> None:
    from desktop_rag.cli import build_parser, settings_from_args

    config = tmp_path / "none.toml"
    args = build_parser().parse_args(["--config", str(config), "ask", "q", "--n-gpu-layers", "10"])
    assert (settings_from_args(args).auto_gpu_layers, settings_from_args(args).n_gpu_layers) == (False, 10)
    args = build_parser().parse_args(["--config", str(config), "ask", "q"])
    assert settings_from_args(args).auto_gpu_layers
