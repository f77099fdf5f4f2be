"""A Q8_0 copy of small Q4_1/Q5_1 GGUF models, made once and cached, for faster prompts.

Most of the time to first token is prompt processing: matrix-matrix products. llama.cpp's CPU
backend has fast kernels for those with Q8_0, Q4_0 and F16 weights (llamafile's sgemm, repacked
Q4_0), but multiplies Q4_1 and Q5_1 weights one dot product at a time. The bundled
SmolLM2-135M-Instruct is Q4_1. On a 1,526-token prompt here (portable AVX2 build, 2 threads,
bare llama-cpp-python, 3 runs each): Q4_1 4.8-5.0 s to the first token at 61-63 tokens/s;
its Q8_0 copy 3.1-3.2 s at 61-63 tokens/s; an F16 copy 2.7-2.9 s but 52-57 tokens/s. Q8_0 keeps
decoding as fast and is half F16's size. Each Q8_0 weight is the Q4_1 weight rounded to 1/254
of its block's largest value, far below Q4_1's own step (1/15 of the block's range), though
greedy answers are not always word for word the same.

Only models whose copy stays small (MAX_COPY_BYTES) are converted: it doubles their memory.
Models offloaded to a GPU are left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import struct
import threading
from pathlib import Path
from typing import BinaryIO

from desktop_rag.core.models.cache_files import mark_used, remove_unused

log = logging.getLogger(__name__)

# llama_ftype -> bits per weight of the file (block of 32: scale + minimum in F16 + packed values)
SLOW_PROMPT_TYPES = {3: ("Q4_1", 5.0), 9: ("Q5_1", 6.0)}
LLAMA_FTYPE_MOSTLY_Q8_0 = 7
COPY_BITS_PER_WEIGHT = 8.5  # Q8_0: 32 int8 values and an F16 scale per block
MAX_COPY_BYTES = 512 * 2**20  # a Q8_0 copy of a model of up to about 500M parameters

_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


def _read(fh: BinaryIO, fmt: str) -> int | float | bool:
    size = struct.calcsize("<" + fmt)
    data = fh.read(size)
    if len(data) != size:
        raise ValueError("truncated GGUF header")
    return struct.unpack("<" + fmt, data)[0]


def _skip(fh: BinaryIO, kind: int) -> None:
    if kind == _STRING:
        fh.seek(int(_read(fh, "Q")), os.SEEK_CUR)
    elif kind == _ARRAY:
        item, count = int(_read(fh, "I")), int(_read(fh, "Q"))
        if item in _SCALARS:
            fh.seek(struct.calcsize("<" + _SCALARS[item]) * count, os.SEEK_CUR)
        else:
            for _ in range(count):
                _skip(fh, item)
    elif kind in _SCALARS:
        _read(fh, _SCALARS[kind])
    else:
        raise ValueError(f"unknown GGUF value type {kind}")


def gguf_file_type(path: Path) -> int | None:
    """The ``general.file_type`` (a llama_ftype) in a GGUF header, or None if it has none."""
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            return None
        _read(fh, "I")  # version
        _read(fh, "Q")  # tensor count
        for _ in range(int(_read(fh, "Q"))):
            key = fh.read(int(_read(fh, "Q"))).decode("utf-8", "replace")
            kind = int(_read(fh, "I"))
            if key == "general.file_type" and kind in _SCALARS:
                return int(_read(fh, _SCALARS[kind]))
            _skip(fh, kind)
    return None


def prompt_fast_model(path: Path, cache_dir: Path) -> Path:
    """The Q8_0 copy of ``path`` (made now if missing) when it is a small Q4_1/Q5_1 model, else ``path``.

    Any failure (unreadable header, full disk, a llama.cpp error) is logged and the original
    file is used: the copy is an optimisation, never a reason not to answer.
    """
    try:
        kind = SLOW_PROMPT_TYPES.get(gguf_file_type(path) or -1)
        stat = path.stat()
    except (OSError, ValueError) as exc:
        log.debug("no Q8_0 copy of %s: %s", path.name, exc)
        return path
    if kind is None or stat.st_size * COPY_BITS_PER_WEIGHT / kind[1] > MAX_COPY_BYTES:
        return path
    # <stem>.<where the file is>.<which version of it>.Q8_0.gguf: a changed file makes a new copy
    where = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]
    target = cache_dir / f"{path.stem}.{where}.{_version_key(stat)}.Q8_0.gguf"
    if target.is_file():
        mark_used(target)
        return target
    try:
        _quantize(path, target)
    except OSError as exc:
        log.warning("using %s as it is (%s prompts are slow on the CPU); no Q8_0 copy in %s: %s",
                    path.name, kind[0], cache_dir, exc)
        return path
    remove_unused(cache_dir, f"{path.stem}.{where}.*.Q8_0.gguf", target, days=0)  # of an older version of the file
    remove_unused(cache_dir, "*.Q8_0.gguf", target)  # copies of models gone from this machine
    log.info("made a Q8_0 copy of %s for faster prompts: %s", path.name, target)
    return target


def _version_key(stat: os.stat_result) -> str:
    """The file's size and time and the llama.cpp that converts it: a new one of either, a new copy."""
    import llama_cpp

    return hashlib.sha256(f"{stat.st_size}|{stat.st_mtime_ns}|{llama_cpp.__version__}".encode()).hexdigest()[:8]


def _quantize(path: Path, target: Path) -> None:
    """Write the Q8_0 copy to a temporary name, then move it into place; OSError when it cannot."""
    import llama_cpp

    partial = target.with_name(f"{target.name}.{os.getpid()}-{threading.get_ident()}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        params = llama_cpp.llama_model_quantize_default_params()
        params.ftype = LLAMA_FTYPE_MOSTLY_Q8_0
        params.allow_requantize = True
        if llama_cpp.llama_model_quantize(str(path).encode(), str(partial).encode(), params) != 0:
            raise OSError("llama.cpp could not write the copy")
        os.replace(partial, target)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise
