"""Reading GGUF headers: the ``gguf`` package's GGUFReader against desktop_rag's header walk
(core/models/gguf_info.py), on the bundled model; then listing a folder of 20 models.

    python benchmarks/bench_gguf_header.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from desktop_rag.core.models.discovery import discover_models, user_sources
from desktop_rag.core.models.gguf_info import read_gguf_info
from desktop_rag.core.models.llama_cpp import bundled_llm_path

RUNS = 3


def _time(fn) -> list[float]:  # noqa: ANN001
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    import gguf

    path = bundled_llm_path()
    print(f"load: {os.getloadavg()[0]:.2f} (1 min)")
    reader = _time(lambda: gguf.GGUFReader(str(path)))
    ours = _time(lambda: read_gguf_info(path))
    print(f"{path.name} ({path.stat().st_size / 2**20:.1f} MB, 49,152-token vocabulary), {RUNS} runs, median:")
    print(f"  gguf.GGUFReader        {statistics.median(reader) * 1000:8.1f} ms")
    print(f"  read_gguf_info         {statistics.median(ours) * 1000:8.1f} ms")
    with tempfile.TemporaryDirectory() as folder:
        for i in range(20):
            os.link(path, Path(folder) / f"model-{i}.gguf")
        listing = _time(lambda: discover_models(user_sources([folder]), n_ctx=4096, available=None))
        print(f"  discover_models, 20 files: {statistics.median(listing) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
