"""How many of a model's layers to put on the GPU, from the free video memory.

Used when the GPU layers setting is automatic and the installed llama.cpp can offload. The
free memory is asked of ``nvidia-smi`` (the llama-cpp-python bindings expose no device memory
query); the model's size and layer count come from its GGUF header. Each layer is taken to weigh
an equal share of the weights (the token embedding and output layers count as one more) plus its
slice of the KV cache; a reserve is left for llama.cpp's compute buffers and the desktop. When
everything fits, every layer goes (``-1``); when the free memory cannot be read, none does, and
the reason says so: the user can set a count by hand.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass
from typing import Callable, Sequence

from desktop_rag.core.models.gguf_info import GgufInfo, kv_cache_bytes

log = logging.getLogger(__name__)

ALL_LAYERS = -1
RESERVE_BYTES = 768 * 2**20  # compute buffers, the CUDA context and the desktop's own use
NVIDIA_SMI_TIMEOUT_S = 5.0


@dataclass(frozen=True, slots=True)
class GpuMemory:
    name: str
    free_bytes: int
    total_bytes: int


@dataclass(frozen=True, slots=True)
class LayerChoice:
    """``layers``: what llama.cpp is given (-1 all, 0 none); ``reason``: one line for the user."""

    layers: int
    reason: str


def _run_nvidia_smi() -> str | None:
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        done = subprocess.run([exe, "--query-gpu=name,memory.free,memory.total", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=NVIDIA_SMI_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.info("nvidia-smi failed: %s", exc)
        return None
    return done.stdout if done.returncode == 0 else None


def parse_nvidia_smi(text: str) -> list[GpuMemory]:
    """GPUs from ``nvidia-smi --query-gpu=name,memory.free,memory.total --format=csv,noheader,nounits`` (MiB)."""
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.rsplit(",", 2)]
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            gpus.append(GpuMemory(parts[0], int(parts[1]) * 2**20, int(parts[2]) * 2**20))
    return gpus


def gpu_memory(run: Callable[[], str | None] = _run_nvidia_smi) -> list[GpuMemory]:
    """The GPUs and their free memory now; empty when it cannot be read."""
    text = run()
    return parse_nvidia_smi(text) if text else []


def _gb(n: int) -> str:
    return f"{n / 2**30:.1f} GB"


def choose_gpu_layers(info: GgufInfo, n_ctx: int, *, supported: bool, gpus: Sequence[GpuMemory]) -> LayerChoice:
    """The layer count for ``info`` at ``n_ctx`` on the first GPU (llama.cpp's main device)."""
    if not supported:
        return LayerChoice(0, "CPU only: this llama.cpp build has no GPU support")
    if not gpus:
        return LayerChoice(0, "CPU only: the free video memory cannot be read (no nvidia-smi); "
                              "set the GPU layers by hand to offload")
    gpu, blocks = gpus[0], max(info.block_count, 1)
    per_layer = info.file_size // (blocks + 1) + kv_cache_bytes(info, n_ctx) // blocks
    budget = gpu.free_bytes - RESERVE_BYTES
    whole = per_layer * (blocks + 1)
    if budget >= whole:
        return LayerChoice(ALL_LAYERS, f"all {blocks} layers on {gpu.name}: the model needs about {_gb(whole)}, "
                                       f"{_gb(gpu.free_bytes)} of video memory is free")
    layers = max(0, min(blocks, budget // per_layer)) if per_layer else 0
    if layers == 0:
        return LayerChoice(0, f"CPU only: {_gb(gpu.free_bytes)} of video memory is free on {gpu.name}, "
                              f"too little for one layer ({_gb(per_layer)}) beside the {_gb(RESERVE_BYTES)} reserve")
    return LayerChoice(int(layers), f"{layers} of {blocks} layers on {gpu.name}: {_gb(gpu.free_bytes)} of video "
                                    f"memory is free, the whole model needs about {_gb(whole)}")
