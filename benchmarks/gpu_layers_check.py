"""What the automatic GPU layer choice picks on this machine's GPU (reads nvidia-smi; no model is
loaded): prints the free video memory and the choice for two model shapes at two context sizes.

    python benchmarks/gpu_layers_check.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from desktop_rag.core.models.gguf_info import GgufInfo  # noqa: E402
from desktop_rag.core.models.gpu_layers import GpuMemory, choose_gpu_layers, gpu_memory  # noqa: E402

SHAPES = (("Qwen3-32B Q4_K_M", 19_762_150_000, 64, 5120, 64, 8), ("Llama-3-8B Q4_K_M", 4_920_000_000, 32, 4096, 32, 8))


def main() -> None:
    gpus = gpu_memory()
    print("GPUs:", ", ".join(f"{g.name}: {g.free_bytes / 2**30:.1f} of {g.total_bytes / 2**30:.1f} GiB free"
                             for g in gpus) or "none readable")
    for name, size, blocks, width, heads, kv_heads in SHAPES:
        info = GgufInfo(Path(name), size, "llama", name, "Q4_K_M", 40960, 0, blocks, width, kv_heads, heads, size)
        for n_ctx in (4096, 32768):
            print(f"{name} at {n_ctx} tokens:", choose_gpu_layers(info, n_ctx, supported=True, gpus=gpus).reason)
        if gpus:
            small = [GpuMemory(gpus[0].name, 6 * 2**30, gpus[0].total_bytes)]
            print(f"{name} with 6 GiB free:", choose_gpu_layers(info, 4096, supported=True, gpus=small).reason)


if __name__ == "__main__":
    main()
