"""The ONNX Runtime embedder: a sentence-transformers model without torch.

Questions are embedded with ``onnxruntime``, the ``tokenizers`` package (the model folder's
``tokenizer.json``) and numpy alone, so a ``search`` process takes 0.4-0.7 s instead of the 5-7 s
that importing torch, transformers and sentence-transformers took (benchmarks/bench_startup.py).
Pooling follows the model's own ``modules.json`` / pooling config (mean or CLS tokens), then L2
normalisation, as sentence-transformers does. The copies are made once (see :mod:`.onnx_export`).
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from desktop_rag.core.models.embedder import (
    SINGLE_THREAD_MAX_TEXTS,
    batch_threads,
    bundled_embedding_model_dir,
    model_fingerprint,
)
from desktop_rag.core.models.free_cores import ThreadChooser
from desktop_rag.core.models.hardware import physical_cores
from desktop_rag.errors import ModelLoadError, ModelNotFoundError

log = logging.getLogger(__name__)

POOLING_MODES = ("mean", "cls")
DEFAULT_MAX_SEQ_LENGTH = 512


def read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot read {path}: {exc}") from exc


def pooling_mode(model_dir: Path) -> str:
    """"mean" or "cls", as the folder's Pooling module says (mean where it has none, as
    sentence-transformers does for a bare transformer); ModelLoadError for any other pooling."""
    modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8")) \
        if (model_dir / "modules.json").is_file() else []
    pooling = [m for m in modules if str(m.get("type", "")).endswith(".Pooling")]
    if not pooling:
        return "mean"
    config = read_json(model_dir / pooling[0].get("path", "") / "config.json")
    chosen = [mode for mode in ("mean", "cls", "max", "mean_sqrt_len", "weightedmean", "lasttoken")
              if config.get(f"pooling_mode_{mode}_tokens") or config.get(f"pooling_mode_{mode}_token")]
    if len(chosen) != 1 or chosen[0] not in POOLING_MODES:
        raise ModelLoadError(f"the ONNX embedder pools by mean or CLS token only; {model_dir} asks for "
                             f"{', '.join(chosen) or 'no pooling'}. Set embedding_backend = \"torch\".")
    return chosen[0]


def max_seq_length(model_dir: Path) -> int:
    """The longest input (special tokens included) the model reads, as sentence-transformers reads it."""
    st = read_json(model_dir / "sentence_bert_config.json").get("max_seq_length")
    config = read_json(model_dir / "config.json")
    limit = st or read_json(model_dir / "tokenizer_config.json").get("model_max_length") or DEFAULT_MAX_SEQ_LENGTH
    return int(min(limit, config.get("max_position_embeddings", limit)))


def pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """One L2-normalised float32 vector per row: the mean of the real tokens, or the first token."""
    if mode == "cls":
        vectors = hidden[:, 0, :]
    else:
        weights = mask[:, :, None].astype(np.float32)
        vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


class OnnxEmbedder:
    """A sentence-transformers model folder run by onnxruntime: documents through an int8 copy
    (:meth:`embed_documents`, what ingestion calls), questions and everything else through the
    float32 copy (:meth:`embed`). On the SEC questions int8 questions lost 3 points of dense hit@5
    where float32 questions over the same int8 documents lost 1, and a question is one short text:
    float32 costs a few milliseconds more."""

    def __init__(self, model_path: str | os.PathLike[str] = "", *, batch_size: int, cache_dir: Path,
                 threads: int = 0, recipe: str = "") -> None:
        """``model_path`` "" is the bundled model; ``cache_dir`` holds the ONNX copies; ``threads`` 0
        is the physical cores other processes leave free, read per batch; ``recipe`` the documents'
        (see :data:`.onnx_export.RECIPES`), "" the default. Texts run one at a time, so
        ``batch_size`` is not used."""
        from desktop_rag.core.models.onnx_export import RECIPE

        self.recipe = recipe or RECIPE
        self.model_path = Path(model_path) if model_path else bundled_embedding_model_dir()
        self.batch_size, self.cache_dir = batch_size, cache_dir
        self.threads = threads or physical_cores()  # the most a batch uses
        self.thread_chooser = ThreadChooser(self.threads) if threads == 0 else None
        self._sessions: dict[str, Any] = {}  # recipe -> onnxruntime session, opened on first use
        self._executor: Any = None  # threads for batches, made on the first batch
        self._tokenizer: Any = None  # truncates to the model's length
        self._offsets_tokenizer: Any = None  # never truncates: whole documents, for chunking
        self._pooling, self._max_length, self._specials = "mean", 0, 2
        self._inputs: set[str] = set()
        self._model_id: str | None = None
        self._dimension = 0

    @property
    def model_id(self) -> str:
        """The folder's fingerprint and the documents' recipe: its vectors never pass for PyTorch's."""
        if self._model_id is None:
            self._model_id = f"{model_fingerprint(self.model_path)}+{self.recipe}"
        return self._model_id

    def load(self) -> None:
        """Read the tokenizer and open the question session (made once if missing); idempotent."""
        if self._tokenizer is not None:
            return
        if not self.model_path.is_dir():
            raise ModelNotFoundError(f"embedding model folder not found: {self.model_path}")
        from desktop_rag.core.models.onnx_export import FLOAT32

        self._pooling, self._max_length = pooling_mode(self.model_path), max_seq_length(self.model_path)
        tokenizer = self._read_tokenizer()
        session = self._session(FLOAT32)
        self._inputs = {i.name for i in session.get_inputs()}
        self._dimension = int(session.get_outputs()[0].shape[-1])
        self._tokenizer = tokenizer
        log.info("loaded embedding model %s with onnxruntime (dim %d)", self.model_path, self._dimension)

    def _read_tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        path = self.model_path / "tokenizer.json"
        try:
            tokenizer = Tokenizer.from_file(str(path))
        except Exception as exc:  # noqa: BLE001 - a missing or unreadable file: the user's to read
            raise ModelLoadError(f"cannot read the tokenizer {path}: {exc}. "
                                 "Set embedding_backend = \"torch\" for models without one.") from exc
        tokenizer.no_padding()  # each text runs alone
        self._offsets_tokenizer = Tokenizer.from_str(tokenizer.to_str())
        self._offsets_tokenizer.no_truncation()
        tokenizer.enable_truncation(self._max_length)
        self._specials = len(tokenizer.encode("").ids)
        return tokenizer

    def _session(self, recipe: str) -> Any:
        """The single-threaded session of one copy (made if missing): texts run one at a time, and
        several at once on several threads (onnxruntime's ``run`` may be called from many)."""
        if recipe not in self._sessions:
            import onnxruntime as ort

            from desktop_rag.core.models.onnx_export import ensure_onnx_copy

            path = ensure_onnx_copy(self.model_path, model_fingerprint(self.model_path), self.cache_dir, recipe)
            options = ort.SessionOptions()
            options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.log_severity_level = 3  # errors only: no warnings about unused initializers
            try:
                self._sessions[recipe] = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            except Exception as exc:  # noqa: BLE001 - a damaged copy: say where it is
                raise ModelLoadError(f"cannot open the ONNX embedding model {path}: {exc}. "
                                     "Delete the file to make it again.") from exc
        return self._sessions[recipe]

    @property
    def dimension(self) -> int:
        self.load()
        return self._dimension

    @property
    def max_tokens(self) -> int:
        self.load()
        return self._max_length - self._specials

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        self.load()
        encoding = self._offsets_tokenizer.encode(text, add_special_tokens=False)
        return [span for span in encoding.offsets if span[1] > span[0]]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Questions (and quotes' sentences): the float32 copy."""
        from desktop_rag.core.models.onnx_export import FLOAT32

        return self._embed(texts, FLOAT32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Passages to store: the documents' recipe (int8 by default)."""
        return self._embed(texts, self.recipe)

    def _embed(self, texts: Sequence[str], recipe: str) -> np.ndarray:
        """Each text runs alone: no padding to compute, and a text's vector never depends on the
        texts beside it (int8 activations are scaled per run). Several threads share the texts."""
        self.load()
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        session = self._session(recipe)
        encodings = self._tokenizer.encode_batch(list(texts))
        workers = 1 if len(texts) <= SINGLE_THREAD_MAX_TEXTS else min(self._batch_threads(), len(texts))
        out = np.empty((len(texts), self._dimension), dtype=np.float32)
        shards = [range(first, len(texts), workers) for first in range(workers)]
        if workers == 1:
            self._embed_rows(session, encodings, shards[0], out)
        else:
            for done in [self._pool().submit(self._embed_rows, session, encodings, rows, out) for rows in shards]:
                done.result()
        if workers > 1 and self.thread_chooser is not None:
            self.thread_chooser.update()  # what others used while this batch ran: the next batch's count
        return out

    def _pool(self) -> Any:
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="onnx-embed")
        return self._executor

    def _embed_rows(self, session: Any, encodings: Sequence[Any], rows: Sequence[int], out: np.ndarray) -> None:
        for row in rows:
            ids = np.asarray([encodings[row].ids], dtype=np.int64)
            mask = np.ones_like(ids)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, {name: value for name, value in feed.items() if name in self._inputs})[0]
            out[row] = pool(hidden, mask, self._pooling)[0]

    def _batch_threads(self) -> int:
        """Threads for a batch: every core allowed, or those other processes leave free."""
        return batch_threads(self.thread_chooser, self.threads)
