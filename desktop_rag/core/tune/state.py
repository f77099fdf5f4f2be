"""What a library records about its tuned embedding model, read without loading anything heavy.

A tuned model belongs to one library: it lives in the library's data folder under
``embedding-models/``, and the library's ``meta`` table names it (key ``tuned_model``, a JSON
record: folder, base model, when, on how many pairs, the measured gain). The record and the
vectors it made are switched in the same transaction (:mod:`.vectors`), so a library that names a
tuned model holds that model's vectors and no other's. Services read :func:`read_tuned` to build
the embedder (the tuned folder instead of the configured model).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from desktop_rag.errors import TunedModelMissingError

META_KEY = "tuned_model"
MODELS_DIR = "embedding-models"  # tuned models, inside the data folder
WORK_DIR = "tune-work"  # pairs and training checkpoints of an unfinished run
LOCK_NAME = "tune.lock"
DB_NAME = "library.sqlite3"  # as core.store.library names it (not imported: this module stays light)


@dataclass(frozen=True, slots=True)
class TunedModel:
    folder: str  # relative to the data folder
    model_id: str  # the embedder id its vectors carry
    base_model_id: str  # the id of the vectors it replaced (what "return to the original" restores)
    base_model: str  # the settings' embedding_model at tuning time ("" = bundled)
    tuned_at: float
    pairs: int
    gains: dict[str, Any] = field(default_factory=dict)  # measured before/after figures
    backend: str = "onnx"

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @staticmethod
    def from_json(text: str) -> "TunedModel":
        raw = json.loads(text)
        return TunedModel(**{k: raw[k] for k in TunedModel.__slots__ if k in raw})

    def path(self, data_path: Path) -> Path:
        return data_path / self.folder


def read_tuned(data_path: Path) -> TunedModel | None:
    """The library's tuned model record; None when it has none (or cannot be read: the store says why)."""
    db = Path(data_path) / DB_NAME
    if not db.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=1.0)) as con:
            row = con.execute("SELECT value FROM meta WHERE key=?", (META_KEY,)).fetchone()
    except sqlite3.Error:
        return None
    if row is None:
        return None
    try:
        return TunedModel.from_json(row[0])
    except (ValueError, TypeError, KeyError):
        return None


def tuned_model_dir(data_path: Path) -> Path | None:
    """The folder of the model the library's vectors were made with, when it is a tuned one;
    TunedModelMissingError (saying how to go back) when that folder is gone."""
    tuned = read_tuned(data_path)
    if tuned is None:
        return None
    folder = tuned.path(Path(data_path))
    if not (folder / "config.json").is_file():
        raise TunedModelMissingError(
            f"this library's search was adapted to its documents with a tuned embedding model, which is "
            f"missing from {folder}. Return to the original model (desktop-rag tune --revert, or "
            "Settings > Embeddings > Return to the original model) to search it again.")
    return folder


def tuned_key(data_path: Path) -> str:
    """What changes when the library's tuned model does (for caching embedders): its folder, or ""."""
    tuned = read_tuned(data_path)
    return tuned.folder if tuned is not None else ""


class MissingTunedEmbedder:
    """Stands in for a tuned model whose folder is gone: the window still opens and lists the library,
    and every search says what is missing and how to go back (nothing is embedded with another model,
    whose vectors would not match the library's)."""

    def __init__(self, error: TunedModelMissingError, model_id: str = "") -> None:
        self.error, self._model_id = error, model_id

    @property
    def model_id(self) -> str:
        return self._model_id

    def _fail(self) -> None:
        raise TunedModelMissingError(str(self.error))

    @property
    def dimension(self) -> int:
        self._fail()
        return 0

    @property
    def max_tokens(self) -> int:
        self._fail()
        return 0

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        self._fail()
        return []

    def embed(self, texts: object) -> object:
        self._fail()
        return None

    def load(self) -> None:
        self._fail()


def library_model(data_path: Path, configured: str) -> str | MissingTunedEmbedder:
    """The model folder a library's questions must be embedded with: its tuned model when it has one,
    else ``configured`` (the settings'); a :class:`MissingTunedEmbedder` when the tuned one is gone."""
    try:
        tuned = tuned_model_dir(data_path)
    except TunedModelMissingError as exc:
        record = read_tuned(data_path)
        return MissingTunedEmbedder(exc, record.model_id if record else "")
    return str(tuned) if tuned is not None else configured
