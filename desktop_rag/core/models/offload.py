"""What llama.cpp actually put on a GPU, read from what it logs while loading a model.

llama.cpp reports "offloaded N/M layers to GPU" (builds with GPU support only) and the size of
the weight buffer on each device ("CUDA0 model buffer size = ... MiB", "CPU_Mapped ..."). The
report below is built from those lines, so it states what llama.cpp did, not what was asked.
"""

from __future__ import annotations

import ctypes
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Iterator

_OFFLOADED = re.compile(r"offloaded (\d+)/(\d+) layers to GPU")
_BUFFER = re.compile(r"(\S+) model buffer size =\s*([\d.]+) MiB")


@dataclass(frozen=True, slots=True)
class OffloadReport:
    supported: bool
    requested: int
    layers_total: int
    layers_offloaded: int
    weights_mib: dict[str, float] = field(default_factory=dict)  # weight buffer size per device

    def describe(self) -> str:
        if not self.supported:
            return "CPU only (this llama.cpp build has no GPU support)"
        if self.layers_offloaded == 0:
            return "CPU only (GPU offload available)"
        on_gpu = ", ".join(f"{name} {mib:.0f} MiB" for name, mib in self.weights_mib.items()
                           if not name.upper().startswith("CPU"))
        return f"{self.layers_offloaded}/{self.layers_total} layers on the GPU" + (f" ({on_gpu})" if on_gpu else "")


def offload_from_log(log: str, *, supported: bool, requested: int, blocks: int) -> OffloadReport:
    """The report for one model load, from the text llama.cpp logged during it."""
    weights: dict[str, float] = {}
    for name, mib in _BUFFER.findall(log):
        weights[name] = weights.get(name, 0.0) + float(mib)
    found = _OFFLOADED.search(log)
    if found:
        return OffloadReport(supported, requested, int(found[2]), int(found[1]), weights)
    return OffloadReport(supported, requested, blocks, 0, weights)


@contextmanager
def llama_log_captured() -> Iterator[list[str]]:
    """Collect what llama.cpp logs inside the block instead of printing it; llama-cpp-python's
    own handler is put back afterwards."""
    import llama_cpp
    from llama_cpp import _logger

    lines: list[str] = []

    @llama_cpp.llama_log_callback
    def collect(_level: int, text: bytes, _user_data: ctypes.c_void_p) -> None:
        lines.append(text.decode("utf-8", "replace"))

    llama_cpp.llama_log_set(collect, ctypes.c_void_p(0))
    try:
        yield lines
    finally:
        llama_cpp.llama_log_set(_logger.llama_log_callback, ctypes.c_void_p(0))
