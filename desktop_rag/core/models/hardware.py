"""Facts about this machine that model code sizes itself by: physical cores, native bfloat16."""

from __future__ import annotations

import functools
import os


def native_bf16() -> bool:
    """Whether the CPU has bfloat16 instructions (AVX512-BF16 or AMX); off with DESKTOP_RAG_EMBED_BF16=0."""
    if os.environ.get("DESKTOP_RAG_EMBED_BF16", "1") == "0":
        return False
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            flags = next((line for line in fh if line.startswith("flags")), "")
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


@functools.cache  # read once: it is asked for on every model and settings change
def physical_cores() -> int:
    """Physical cores where we can tell, else logical CPUs."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            cores = {
                line.split(":")[1].strip()
                for line in fh
                if line.startswith("core id")
            }
        # Per-socket core ids repeat across sockets; fall back to the CPU count when unsure.
        if cores and len(cores) <= (os.cpu_count() or 1):
            return max(1, min(len(cores), os.cpu_count() or 1))
    except OSError:
        pass
    return max(1, os.cpu_count() or 1)
