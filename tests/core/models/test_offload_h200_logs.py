"""The offload report read from real load logs: llama.cpp 0.3.36 built with CUDA, on an NVIDIA H200,
loading the bundled SmolLM2-135M with n_gpu_layers -1, 15 and 0 (benchmarks/bench_gpu_offload.py
kept them; the lines that matter are in tests/core/models/data)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_rag.core.models.offload import offload_from_log

DATA = Path(__file__).parent / "data"


def read_log(layers: int) -> str:
    return (DATA / f"h200_cuda_load_log_layers{layers}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(("layers", "offloaded", "gpu_mib"), [(-1, 31, 92.17), (15, 15, 58.31)])
def test_offloaded_layers_and_video_memory_are_read_from_the_log(layers: int, offloaded: int, gpu_mib: float) -> None:
    report = offload_from_log(read_log(layers), supported=True, requested=layers, blocks=30)
    assert (report.layers_offloaded, report.layers_total) == (offloaded, 31)
    assert report.weights_mib["CUDA0"] == pytest.approx(gpu_mib)
    assert report.describe() == f"{offloaded}/31 layers on the GPU (CUDA0 {round(gpu_mib)} MiB)"


def test_zero_layers_on_a_cuda_build_is_reported_as_cpu_with_offload_available() -> None:
    report = offload_from_log(read_log(0), supported=True, requested=0, blocks=30)
    assert report.layers_offloaded == 0
    assert "CUDA0" not in report.weights_mib  # only the compute buffer went to the GPU, no weights
    assert report.describe() == "CPU only (GPU offload available)"
