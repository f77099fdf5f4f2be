"""GGUF models the user already has: where other local-LLM applications keep them, and folders
the user adds.

Known places (under the home folder): LM Studio (``~/.lmstudio/models``, ``~/.cache/lm-studio/models``),
Ollama (``~/.ollama/models``, or ``$OLLAMA_MODELS``: its manifests name the blob that holds each
model, so ``llama3:8b`` is listed under that name), GPT4All (``~/.local/share/nomic.ai/GPT4All``),
Jan (``~/jan/models``, ``~/.local/share/Jan/data/models``) and the Hugging Face cache
(``~/.cache/huggingface/hub``, or ``$HF_HUB_CACHE`` / ``$HF_HOME``).

Only headers are read (see :mod:`~desktop_rag.core.models.gguf_info`), so a listing of many
multi-GB files takes milliseconds per file. A damaged file is listed with what is wrong with it,
never offered for use; a folder the user added that is gone (an unmounted drive) is reported and
skipped; known places that do not exist are simply not installed and are passed over silently.
"""

from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping, Sequence

from desktop_rag.core.models.chat import never
from desktop_rag.core.models.gguf_info import GgufInfo, check_language_model, memory_needed, read_gguf_info
from desktop_rag.errors import ModelError

log = logging.getLogger(__name__)

MAX_DEPTH = 6  # folders below a root searched at most (LM Studio: publisher/repo/file)
OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
OLLAMA_LIBRARY = ("registry.ollama.ai", "library")
_LATER_SHARD = re.compile(r"-(\d{5})-of-\d{5}\.gguf$", re.IGNORECASE)  # llama.cpp opens a split model by shard 1


@dataclass(frozen=True, slots=True)
class ModelSource:
    """A place to look: ``kind`` is "folder" (any .gguf below it), "ollama" or "huggingface"."""

    label: str
    root: Path
    kind: str = "folder"
    added_by_user: bool = False


@dataclass(frozen=True, slots=True)
class FoundModel:
    """One GGUF found: its header (None when unreadable) and what stands in the way of using it."""

    path: Path
    source: str
    name: str  # what the list shows: "llama3:8b", "Qwen/Qwen3-4B-GGUF/Qwen3-4B-Q4_K_M.gguf", a file name
    info: GgufInfo | None = None
    problem: str = ""  # why it cannot be used ("" when it can)
    memory_needed: int = 0
    fits: bool | None = None  # in the free memory now; None: unknown

    @property
    def usable(self) -> bool:
        return self.info is not None and not self.problem


@dataclass(slots=True)
class Discovery:
    models: list[FoundModel] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # folders that could not be searched, and why


def known_sources(home: Path, environ: Mapping[str, str] | None = None) -> list[ModelSource]:
    """Where other local-LLM applications keep their models on this machine."""
    env = os.environ if environ is None else environ
    ollama = [Path(env["OLLAMA_MODELS"])] if env.get("OLLAMA_MODELS") else []
    hf = Path(env["HF_HUB_CACHE"]) if env.get("HF_HUB_CACHE") else (
        Path(env["HF_HOME"]) / "hub" if env.get("HF_HOME") else home / ".cache/huggingface/hub")
    return [
        ModelSource("LM Studio", home / ".lmstudio/models"),
        ModelSource("LM Studio", home / ".cache/lm-studio/models"),
        *(ModelSource("Ollama", p, "ollama") for p in [*ollama, home / ".ollama/models",
                                                       Path("/usr/share/ollama/.ollama/models")]),
        ModelSource("GPT4All", home / ".local/share/nomic.ai/GPT4All"),
        ModelSource("Jan", home / "jan/models"),
        ModelSource("Jan", home / ".local/share/Jan/data/models"),
        ModelSource("Hugging Face cache", hf, "huggingface"),
    ]


def user_sources(folders: Sequence[str | os.PathLike[str]]) -> list[ModelSource]:
    return [ModelSource("Added folder", Path(f).expanduser(), "folder", True) for f in folders if str(f).strip()]


def _walk_gguf(root: Path, problems: list[str]) -> Iterator[Path]:
    """.gguf files below ``root`` (at most MAX_DEPTH deep), in name order; a later shard of a split
    model is left out. Links are followed to files (the Hugging Face cache), never to folders."""
    def failed(exc: OSError) -> None:
        problems.append(f"{exc.filename}: {exc.strerror or exc} (skipped)")

    base = len(root.parts)
    for folder, dirs, files in os.walk(root, onerror=failed):
        here = Path(folder)
        if len(here.parts) - base >= MAX_DEPTH:
            dirs.clear()
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            shard = _LATER_SHARD.search(name)
            if name.lower().endswith(".gguf") and not name.startswith(".") and not (shard and int(shard[1]) > 1):
                yield here / name


def _ollama_name(manifest: Path, manifests: Path) -> str:
    parts = manifest.relative_to(manifests).parts  # registry / namespace / model / tag
    if len(parts) < 3:
        return manifest.name
    model, tag = parts[-2], parts[-1]
    if tuple(parts[:2]) == OLLAMA_LIBRARY:
        return f"{model}:{tag}"
    return "/".join(parts[1:-2] + (f"{model}:{tag}",))


def _ollama_models(root: Path, problems: list[str]) -> Iterator[tuple[Path, str]]:
    """(blob, "name:tag") for each model an Ollama manifest names."""
    manifests = root / "manifests"
    for folder, _dirs, files in os.walk(manifests, onerror=lambda e: problems.append(f"{e.filename}: {e.strerror}")):
        for file in sorted(files):
            manifest = Path(folder) / file
            try:
                layers = json.loads(manifest.read_text(encoding="utf-8")).get("layers", [])
                digest = next(layer["digest"] for layer in layers if layer.get("mediaType") == OLLAMA_MODEL_LAYER)
            except (OSError, ValueError, KeyError, StopIteration, AttributeError, TypeError):
                problems.append(f"{manifest}: not an Ollama model manifest (skipped)")
                continue
            yield root / "blobs" / digest.replace(":", "-"), _ollama_name(manifest, manifests)


def _hf_name(path: Path, root: Path) -> str:
    """"org/repo/file.gguf" from ``models--org--repo/snapshots/<revision>/file.gguf``."""
    parts = path.relative_to(root).parts
    repo = parts[0].removeprefix("models--").replace("--", "/")
    return f"{repo}/{'/'.join(parts[3:])}" if len(parts) > 3 else path.name


def candidates(source: ModelSource, problems: list[str]) -> Iterator[tuple[Path, str]]:
    """(file, name to show) for every model file the source holds."""
    if source.kind == "ollama":
        yield from _ollama_models(source.root, problems)
    elif source.kind == "huggingface":
        for path in _walk_gguf(source.root, problems):
            yield path, _hf_name(path, source.root)
    else:
        for path in _walk_gguf(source.root, problems):
            yield path, str(path.relative_to(source.root))


def describe(path: Path, source: str, name: str, n_ctx: int, available: int | None) -> FoundModel:
    """One file as the list shows it: header, memory it needs, whether it fits; or what is wrong."""
    try:
        info = read_gguf_info(path)
    except ModelError as exc:
        return FoundModel(path, source, name, problem=str(exc))
    need = memory_needed(info, n_ctx)
    fits = None if available is None else need <= available
    try:
        check_language_model(info)
    except ModelError as exc:
        return FoundModel(path, source, name, info, str(exc), need, fits)
    return FoundModel(path, source, name, info, "", need, fits)


def discover_models(sources: Sequence[ModelSource], *, n_ctx: int, available: int | None,
                    should_stop: Callable[[], bool] = never) -> Discovery:
    """Every GGUF in ``sources``, each once (the same blob reached twice is listed once)."""
    found, seen = Discovery(), set()
    for source in sources:
        if not source.root.is_dir():
            if source.added_by_user:
                found.skipped.append(f"{source.root}: folder not found (an unmounted drive?); skipped")
            continue
        for path, name in candidates(source, found.skipped):
            if should_stop():
                return found
            key = os.path.realpath(path)
            if key in seen:
                continue
            seen.add(key)
            found.models.append(describe(path, source.label, name, n_ctx, available))
    return found
