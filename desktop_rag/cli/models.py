"""``desktop-rag models [--json] | models download URL``: the GGUF models on this machine, and
downloading one.

The listing reads only headers, so it is quick even over many multi-GB files. Each model shows
its quantisation, parameter count, context length, file size, the memory it needs at the context
size set, and whether that fits in the memory free now; files that cannot be used say why.
Folders that could not be searched are reported on stderr.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from desktop_rag.cli.output import EXIT_OK, BarStyle, drive, print_json
from desktop_rag.config import Settings, default_models_dir
from desktop_rag.core.models.chat_formats import BASE_MODEL_NOTE
from desktop_rag.core.models.llama_cpp import bundled_llm_path
from desktop_rag.services import find_models

if TYPE_CHECKING:
    from tqdm import tqdm

    from desktop_rag.core.models.discovery import FoundModel
    from desktop_rag.core.models.download import DownloadProgress

DOWNLOAD_INTERRUPTED = "\ndownload stopped; run the same command again to resume it"


def _gb(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def model_to_json(m: FoundModel, current: str) -> dict[str, Any]:
    info = m.info
    return {
        "name": m.name, "source": m.source, "path": str(m.path), "usable": m.usable, "problem": m.problem or None,
        "in_use": str(m.path) == current,
        "architecture": info.architecture if info else None, "model_name": info.name if info else None,
        "quantization": info.quantization if info else None,
        "parameters": info.parameter_count if info else None,
        "context_length": info.context_length if info else None,
        "file_bytes": info.file_size if info else None,
        "memory_needed_bytes": m.memory_needed or None, "fits_in_free_memory": m.fits,
        "base_model": info.is_base_model if info and not m.problem else None,
    }


def _line(m: FoundModel, current: str) -> str:
    mark = "*" if str(m.path) == current else " "
    if m.info is None:
        return f"{mark} {m.name}  [{m.source}]\n    cannot be used: {m.problem}"
    i = m.info
    fits = {True: "fits in free memory", False: "does NOT fit in free memory now", None: "free memory unknown"}[m.fits]
    line = (f"{mark} {m.name}  [{m.source}]\n    {i.quantization}, {i.parameters_label()} parameters, "
            f"context {i.context_length or '?'}, {_gb(i.file_size)} file, needs about {_gb(m.memory_needed)}: {fits}")
    base = f"\n    note: it {BASE_MODEL_NOTE}." if i.is_base_model and not m.problem else ""
    return line + (f"\n    cannot be used: {m.problem}" if m.problem else "") + base + f"\n    {m.path}"


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "download":
        return _download(args)
    found = find_models(settings, args.folders)
    current = settings.llm_model or str(bundled_llm_path())
    for problem in found.skipped:
        print(f"warning: {problem}", file=sys.stderr)
    if args.json:
        print_json({"models": [model_to_json(m, current) for m in found.models], "skipped": found.skipped})
        return EXIT_OK
    if not found.models:
        print("No GGUF models found. Download one with: desktop-rag models download URL", file=sys.stderr)
    for m in found.models:
        print(_line(m, current))
    if found.models:
        print("\nUse one with: desktop-rag ask --model PATH ..., or choose it in Settings > Language model.")
    return EXIT_OK


def _show(event: DownloadProgress, bar: tqdm | None) -> None:
    if bar is None:
        return
    bar.unit_scale, bar.unit_divisor = True, 1024  # "93.8M", not "98362432"
    if event.total is not None and bar.total != event.total:
        bar.reset(total=event.total)
    bar.set_description_str("checking" if event.stage == "verifying" else "downloading", refresh=False)
    bar.update(event.done - bar.n)


def _download(args: argparse.Namespace) -> int:
    from desktop_rag.core.models.download import download_model

    dest = args.dir or default_models_dir()
    path = drive(download_model(args.url, dest, sha256=args.sha256), _show, interrupted=DOWNLOAD_INTERRUPTED,
                 bar=BarStyle(unit="B"))
    print(path)
    print(f"Use it with: desktop-rag ask --model {path} ..., or choose it in Settings > Language model.",
          file=sys.stderr)
    return EXIT_OK
