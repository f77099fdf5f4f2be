"""What a GGUF file holds, read from its header alone: architecture, quantisation, context length,
parameter count, and whether the file is whole.

The ``gguf`` package's ``GGUFReader`` parses every metadata array element by element: 2.0 s for
the bundled 135M model (a 49k-token vocabulary), longer for the 150k-token vocabularies of Qwen or
Llama 3. Discovery lists dozens of files, so the header is walked here with ``struct`` over a
memory map (the vocabulary arrays are skipped, never decoded; only the pages touched are read:
a few MB of a multi-GB file). The tables of tensor types and block sizes come from ``gguf``,
llama.cpp's own package, so new quantisation types are known as soon as it knows them.

:func:`read_gguf_info` raises :class:`~desktop_rag.errors.ModelLoadError` with a message that
says what is wrong: not a GGUF, truncated (the header, or tensor data that ends past the file's
end), a vision projector rather than a language model.
"""

from __future__ import annotations

import mmap
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_rag.core.models.chat_formats import looks_like_base_model
from desktop_rag.errors import ModelLoadError, ModelNotFoundError

MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
MAX_COUNT = 10_000_000  # more keys or tensors than this: a damaged header, not a model
KEEP_STRING_CHARS = 4096  # longer strings (chat templates aside) are skipped, not decoded
KEPT_LONG_KEYS = ("tokenizer.chat_template",)
RUNTIME_BYTES = 128 * 2**20  # llama.cpp's compute buffers for a small model
PROJECTOR_ARCHITECTURES = frozenset({"clip", "mmproj", "siglip"})
# fixed-size value types: GGUF type number -> struct format
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


class _Truncated(Exception):
    """The header runs past the end of the file."""


@dataclass(frozen=True, slots=True)
class GgufInfo:
    """One GGUF file's header, in the words a user picks a model by."""

    path: Path
    file_size: int
    architecture: str
    name: str
    quantization: str
    context_length: int
    parameter_count: int
    block_count: int
    embedding_length: int
    head_count_kv: int
    head_count: int
    data_end: int  # where the last tensor's data ends; a shorter file is truncated
    metadata: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def is_projector(self) -> bool:
        """A vision projector (the image half of a multimodal model), not a language model."""
        return self.architecture in PROJECTOR_ARCHITECTURES or self.metadata.get("general.type") == "mmproj"

    @property
    def chat_template(self) -> str:
        return str(self.metadata.get("tokenizer.chat_template", ""))

    @property
    def is_base_model(self) -> bool:
        """A pretrained model not tuned to follow instructions (see :func:`looks_like_base_model`)."""
        return looks_like_base_model(self.metadata, self.path.name)

    def parameters_label(self) -> str:
        n = self.parameter_count
        return f"{n / 1e9:.1f}B" if n >= 1e9 else f"{n / 1e6:.0f}M" if n >= 1e6 else f"{n / 1e3:.0f}K"


def size_text(n: int) -> str:
    """Bytes for people: "27 KB", "93.8 MB", "4.6 GB"."""
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n / 2**10:.0f} KB"


class _Header:
    """A cursor over the memory-mapped header; every read is bounds-checked."""

    def __init__(self, data: mmap.mmap | bytes) -> None:
        self.data, self.pos, self.size = data, 0, len(data)

    def take(self, n: int) -> int:
        if n < 0 or self.pos + n > self.size:
            raise _Truncated
        start, self.pos = self.pos, self.pos + n
        return start

    def unpack(self, fmt: str) -> Any:
        start = self.take(struct.calcsize(fmt))
        return struct.unpack_from(fmt, self.data, start)[0]

    def count(self) -> int:
        n = self.unpack("<Q")
        if n > MAX_COUNT and n > self.size:
            raise _Truncated
        return n

    def string(self, keep: bool = True) -> str | None:
        n = self.count()
        start = self.take(n)
        return bytes(self.data[start:start + n]).decode("utf-8", "replace") if keep else None

    def value(self, kind: int, keep_long: bool = False) -> Any:
        if kind in _SCALARS:
            return self.unpack(_SCALARS[kind])
        if kind == _STRING:
            n = struct.unpack_from("<Q", self.data, self.pos)[0] if self.pos + 8 <= self.size else 0
            return self.string(keep=keep_long or n <= KEEP_STRING_CHARS)
        if kind == _ARRAY:
            self.skip_array(self.unpack("<I"), self.count())
            return None
        raise ModelLoadError(f"unknown GGUF value type {kind}")

    def skip_array(self, kind: int, n: int) -> None:
        if kind in _SCALARS:
            self.take(n * struct.calcsize(_SCALARS[kind]))
        elif kind == _STRING:
            data, pos, size = self.data, self.pos, self.size
            for _ in range(n):  # a vocabulary: 150k strings, each a length and its bytes
                if pos + 8 > size:
                    raise _Truncated
                pos += 8 + struct.unpack_from("<Q", data, pos)[0]
            if pos > size:
                raise _Truncated
            self.pos = pos
        else:
            for _ in range(n):
                self.value(kind)


def _tensor_bytes(dims: list[int], kind: int) -> int:
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType  # 70 ms: only when a header is read

    elements = 1
    for d in dims:
        elements *= d
    try:
        block, size = GGML_QUANT_SIZES[GGMLQuantizationType(kind)]
    except (ValueError, KeyError):
        raise ModelLoadError(f"tensor type {kind} is unknown to this version of the gguf package") from None
    return elements // block * size


def _read_tensors(h: _Header, count: int) -> tuple[int, int]:
    """(parameter count, bytes from the data start to the end of the last tensor)."""
    params, end = 0, 0
    for _ in range(count):
        h.string(keep=False)
        dims = [h.unpack("<Q") for _ in range(h.unpack("<I"))]
        kind, offset = h.unpack("<I"), h.unpack("<Q")
        elements = 1
        for d in dims:
            elements *= d
        params += elements
        end = max(end, offset + _tensor_bytes(dims, kind))
    return params, end


def _read_metadata(h: _Header) -> tuple[dict[str, Any], int]:
    if h.size < 4 or bytes(h.data[:4]) != MAGIC:
        raise ModelLoadError("not a GGUF model file (llama.cpp needs .gguf)")
    h.take(4)
    version = h.unpack("<I")
    if version not in (2, 3):
        raise ModelLoadError(f"GGUF version {version} is not supported (only 2 and 3; a big-endian file?)")
    tensors, keys = h.count(), h.count()
    meta: dict[str, Any] = {}
    for _ in range(keys):
        key = h.string() or ""
        meta[key] = h.value(h.unpack("<I"), keep_long=key in KEPT_LONG_KEYS)
    return meta, tensors


def _quantization(meta: dict[str, Any]) -> str:
    from gguf.constants import LlamaFileType

    file_type = meta.get("general.file_type")
    try:
        return LlamaFileType(int(file_type)).name.removeprefix("MOSTLY_").removeprefix("ALL_")
    except (TypeError, ValueError):
        return "unknown"


def _info(path: Path, size: int, meta: dict[str, Any], params: int, data_end: int) -> GgufInfo:
    arch = str(meta.get("general.architecture", ""))

    def number(key: str) -> int:
        value = meta.get(f"{arch}.{key}", 0)
        return int(value) if isinstance(value, (int, float)) else 0

    return GgufInfo(path=path, file_size=size, architecture=arch, name=str(meta.get("general.name") or path.stem),
                    quantization=_quantization(meta), context_length=number("context_length"),
                    parameter_count=params, block_count=number("block_count"),
                    embedding_length=number("embedding_length"), head_count=number("attention.head_count"),
                    head_count_kv=number("attention.head_count_kv") or number("attention.head_count"),
                    data_end=data_end, metadata=meta)


def read_gguf_info(path: Path) -> GgufInfo:
    """The header of the GGUF at ``path``; :class:`ModelLoadError` (``ModelNotFoundError`` when it
    is missing) names what is wrong. Only the header's pages are read."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            size = path.stat().st_size
            if size < 8:
                raise ModelLoadError(f"{path.name} is not a GGUF model file ({size} bytes)")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _parse(path, size, data)
    except FileNotFoundError as exc:
        raise ModelNotFoundError(f"model file not found: {path}") from exc
    except IsADirectoryError as exc:
        raise ModelLoadError(f"{path} is a folder; choose a .gguf model file") from exc
    except ModelLoadError as exc:
        message = str(exc)
        raise ModelLoadError(message if message.startswith(path.name) else f"{path.name}: {message}") from None
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {path}: {exc}") from exc


def _parse(path: Path, size: int, data: mmap.mmap) -> GgufInfo:
    h = _Header(data)
    try:
        meta, tensor_count = _read_metadata(h)
        params, tensor_end = _read_tensors(h, tensor_count)
    except _Truncated:
        raise ModelLoadError(f"{path.name} is truncated: its header ends past the end of the file "
                             f"({size_text(size)}); download it again") from None
    align = int(meta.get("general.alignment") or DEFAULT_ALIGNMENT)
    data_start = -(-h.pos // align) * align
    info = _info(path, size, meta, params, data_start + tensor_end)
    if info.data_end > size:
        raise ModelLoadError(
            f"{path.name} is truncated: {size_text(size)} of the {size_text(info.data_end)} its header "
            "describes; download it again")
    return info


def check_language_model(info: GgufInfo) -> GgufInfo:
    """``info`` if it is a chat-capable language model, else a clear ModelLoadError."""
    if info.is_projector:
        raise ModelLoadError(
            f"{info.path.name} is a vision projector (architecture '{info.architecture}'), the image half of a "
            "multimodal model, not a language model; choose the model's main .gguf file instead")
    if not info.architecture:
        raise ModelLoadError(f"{info.path.name} names no model architecture; it is not a llama.cpp language model")
    if info.block_count == 0:
        raise ModelLoadError(f"{info.path.name} ({info.architecture}) has no transformer layers; "
                             "it is not a language model llama.cpp can chat with")
    return info


def kv_cache_bytes(info: GgufInfo, n_ctx: int) -> int:
    """The f16 key and value cache for ``n_ctx`` tokens (at most the model's own context)."""
    if info.head_count == 0:
        return 0
    tokens = min(n_ctx, info.context_length) if info.context_length else n_ctx
    kv_width = info.embedding_length // info.head_count * info.head_count_kv
    return 2 * info.block_count * tokens * kv_width * 2


def memory_needed(info: GgufInfo, n_ctx: int) -> int:
    """Bytes of memory the model needs to run at ``n_ctx``: its weights, its KV cache and llama.cpp's
    compute buffers (about a tenth of the weights, at least RUNTIME_BYTES)."""
    return info.file_size + kv_cache_bytes(info, n_ctx) + max(RUNTIME_BYTES, info.file_size // 10)


def available_memory() -> int | None:
    """Memory the kernel can give without swapping (MemAvailable), else the free pages; None if unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(info: GgufInfo, n_ctx: int, available: int | None, on_gpu: bool = False) -> None:
    """A clear ModelLoadError when the model cannot fit in ``available`` bytes (None: unknown, no check;
    ``on_gpu``: layers go to video memory, so main memory is not the limit)."""
    need = memory_needed(info, n_ctx)
    if available is None or on_gpu or need <= available:
        return
    raise ModelLoadError(
        f"{info.path.name} needs about {need / 2**30:.1f} GB of memory at a {n_ctx}-token context but only "
        f"{available / 2**30:.1f} GB is free; choose a smaller (more quantized) model, lower the context size, "
        "or offload layers to a GPU")


def check_model_file(path: Path, n_ctx: int, available: int | None, on_gpu: bool = False) -> GgufInfo:
    """Everything that can be said about a model file before llama.cpp opens it: a GGUF, whole, a
    language model, small enough. Returns its header."""
    info = check_language_model(read_gguf_info(path))
    check_fits(info, n_ctx, available, on_gpu)
    return info
