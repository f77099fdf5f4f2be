"""GPU offload check: does ``n_gpu_layers`` really put the model on the GPU, and what does it buy?

Runs desktop-rag's own model class (LlamaCppChatModel, the class the app uses) on one GGUF with
``n_gpu_layers`` 0 (CPU), half the layers and -1 (all), on a prompt of real filing text, and for
each prints: load time, the offload report read from llama.cpp's load log, video memory this
process holds after loading (nvidia-smi), time to the first token and tokens/s over the answer.
Needs a llama-cpp-python built with a GPU backend (CUDA here); on a CPU-only build it says so.

Prints a table; asserts nothing. Usage:
    python benchmarks/bench_gpu_offload.py --model FILE.gguf --prompt-file PAGES.txt [--log-dir DIR]
--log-dir keeps each load's llama.cpp log and nvidia-smi's answers (test fixtures for the parsers).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import llama_cpp  # noqa: E402,F401 - first: on the GPU machine a CUDA library loaded before it crashed the load
from desktop_rag.core.models import offload  # noqa: E402
from desktop_rag.core.models.llama_cpp import LlamaCppChatModel, gpu_offload_supported  # noqa: E402

MAX_TOKENS = 128
QUESTION = "Using only the filing text above, what were the total net sales for the quarter? Answer in one sentence."


def nvidia_smi(query: str, section: str = "--query-gpu") -> str:
    try:
        done = subprocess.run(["nvidia-smi", f"{section}={query}", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"nvidia-smi failed: {exc}"
    return done.stdout.strip() or done.stderr.strip()


def process_vram_mib() -> str:
    """Video memory nvidia-smi says this process holds (MiB), '-' when none."""
    rows = nvidia_smi("pid,used_memory", "--query-compute-apps").splitlines()
    mine = [row.split(",")[1].strip() for row in rows if row.split(",")[0].strip() == str(os.getpid())]
    return mine[0] if mine else "-"


def keep_load_log(log_dir: Path | None, label: str):  # noqa: ANN201 - a context manager
    """Wrap llama_log_captured so the load log is also written to ``log_dir``."""
    original = offload.llama_log_captured

    class Saving:
        def __enter__(self):  # noqa: ANN204
            self.inner = original()
            self.lines = self.inner.__enter__()
            return self.lines

        def __exit__(self, *exc):  # noqa: ANN002, ANN204
            if log_dir is not None:
                (log_dir / f"load_log_{label}.txt").write_text("".join(self.lines), encoding="utf-8")
            return self.inner.__exit__(*exc)

    return Saving


def one_setting(model_path: Path, layers: int, prompt: str, log_dir: Path | None) -> dict[str, str]:
    import desktop_rag.core.models.llama_cpp as module

    module.llama_log_captured = keep_load_log(log_dir, f"layers{layers}")
    model = LlamaCppChatModel(model_path, n_gpu_layers=layers, n_ctx=4096)
    started = time.perf_counter()
    model.load()
    loaded = time.perf_counter() - started
    vram = process_vram_mib()
    messages = [{"role": "user", "content": f"{prompt}\n\n{QUESTION}"}]
    prompt_tokens = model.count_tokens(messages[0]["content"])
    first, pieces, t0 = None, [], time.perf_counter()
    for piece in model.stream_chat(messages, max_tokens=MAX_TOKENS, temperature=0.0):
        first = first if first is not None else time.perf_counter() - t0
        pieces.append(piece)
    total = time.perf_counter() - t0
    tokens = model.count_tokens("".join(pieces))
    rate = (tokens - 1) / (total - first) if first is not None and tokens > 1 and total > first else 0.0
    model.close()
    return {"n_gpu_layers": str(layers), "load s": f"{loaded:.2f}", "report": model.offload.describe(),
            "VRAM MiB": vram, "prompt tok": str(prompt_tokens),
            "first token s": f"{first:.3f}" if first is not None else "-",
            "answer tok/s": f"{rate:.1f}", "answer": "".join(pieces)[:80].replace("\n", " ")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--prompt-file", type=Path, required=True)
    parser.add_argument("--log-dir", type=Path)
    args = parser.parse_args()
    if args.log_dir:
        args.log_dir.mkdir(parents=True, exist_ok=True)
        (args.log_dir / "nvidia_smi_gpu.txt").write_text(
            nvidia_smi("name,memory.total,memory.used,memory.free,driver_version") + "\n", encoding="utf-8")
    print("GPU:", nvidia_smi("name,memory.total,memory.free"))
    print("llama.cpp GPU offload supported:", gpu_offload_supported(), "| CPU cores:", os.cpu_count())
    prompt = args.prompt_file.read_text(encoding="utf-8")
    rows = []
    for layers in (0, 15, -1) if gpu_offload_supported() else (0,):
        rows.append(one_setting(args.model, layers, prompt, args.log_dir))
        print(" | ".join(f"{k}: {v}" for k, v in rows[-1].items()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
