"""Settings: a frozen dataclass with defaults, a TOML file in the user config dir, CLI overrides.

Precedence, lowest first: ``DEFAULT_*`` values, the TOML file, environment variables
(``DESKTOP_RAG_DATA_DIR``), explicit overrides (command-line flags, the settings dialog).
An empty model path means "the bundled default model". No Qt here.

This is the one home of every default: the core takes these values as required parameters
(``services.py`` passes them in), so a default changed here is changed everywhere. The words the
settings use (retrieval modes) are the enums of :mod:`desktop_rag.core.types`, a light module.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

import platformdirs
import tomli_w

from desktop_rag.core.types import RETRIEVAL_MODES, RetrievalMode
from desktop_rag.errors import SettingsError

APP_NAME = "desktop-rag"
ENV_DATA_DIR = "DESKTOP_RAG_DATA_DIR"
ENV_CONFIG_FILE = "DESKTOP_RAG_CONFIG"
ENV_CACHE_DIR = "DESKTOP_RAG_CACHE_DIR"

DEFAULT_CHUNK_TOKENS = 200
DEFAULT_CHUNK_OVERLAP = 32
DEFAULT_EMBED_BATCH_SIZE = 32
DEFAULT_EXTRACT_TIMEOUT_S = 120.0
DEFAULT_EXTRACT_MEMORY_MB = 2048
DEFAULT_N_CTX = 4096
DEFAULT_MAX_TOKENS = 384
DEFAULT_TEMPERATURE = 0.1
DEFAULT_TOP_K = 10
MAX_TOP_K = 100  # passages one search returns at most (search --k, ask --k, the top_k setting)
DEFAULT_RETRIEVAL_MODE = RetrievalMode.HYBRID
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"

# The settings that shape the index: change one and the stored passages and vectors no longer
# match it (re-index, or give each value a store of its own, as the evaluation's variants do).
INDEX_SETTINGS: tuple[str, ...] = ("chunk_tokens", "chunk_overlap", "embedding_model", "embedding_backend")
# How the embedding model runs: "onnx" (its int8 ONNX copy: ~4x faster, no torch on the question
# path), "torch" (PyTorch, as before), "auto" (onnx, except for a library indexed with torch).
EMBEDDING_BACKENDS: tuple[str, ...] = ("auto", "onnx", "torch")


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def default_config_file() -> Path:
    env = os.environ.get(ENV_CONFIG_FILE)
    if env:
        return Path(env)
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)) / "settings.toml"


def default_cache_dir() -> Path:
    """Files made from other files, safe to delete (the Q8_0 copies of small models)."""
    env = os.environ.get(ENV_CACHE_DIR)
    return Path(env) if env else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def default_models_dir() -> Path:
    """Where downloaded models go (listed with the models found elsewhere)."""
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "models"


def default_log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: str = ""
    # Models. "" = the bundled default (all-MiniLM-L6-v2 / SmolLM2-135M-Instruct).
    embedding_model: str = ""
    embedding_backend: str = "auto"  # one of EMBEDDING_BACKENDS
    llm_model: str = ""
    n_gpu_layers: int = 0
    n_threads: int = 0  # 0 = the physical cores other processes leave free, read per question and batch
    n_ctx: int = DEFAULT_N_CTX
    temperature: float = DEFAULT_TEMPERATURE
    max_tokens: int = DEFAULT_MAX_TOKENS
    # Run small Q4_1/Q5_1 models from a Q8_0 copy in the cache dir: prompts ~1.5x faster on CPUs.
    fast_prompt_copy: bool = True
    # Folders searched for GGUF models besides the other apps' (LM Studio, Ollama, ...) and downloads.
    model_folders: tuple[str, ...] = ()
    # Choose the GPU layers from the free video memory (when llama.cpp can offload); off: n_gpu_layers.
    auto_gpu_layers: bool = True
    # Remote OpenAI-compatible endpoint; used instead of the local model when base URL is set.
    remote_base_url: str = ""
    remote_model: str = ""
    remote_api_key_env: str = DEFAULT_API_KEY_ENV
    # Retrieval and ingestion. A retrieval mode given as text ("keyword") becomes the enum.
    retrieval_mode: RetrievalMode = DEFAULT_RETRIEVAL_MODE
    top_k: int = DEFAULT_TOP_K
    chunk_tokens: int = DEFAULT_CHUNK_TOKENS
    chunk_overlap: int = DEFAULT_CHUNK_OVERLAP
    embed_batch_size: int = DEFAULT_EMBED_BATCH_SIZE
    extract_timeout_s: float = DEFAULT_EXTRACT_TIMEOUT_S
    extract_memory_mb: int = DEFAULT_EXTRACT_MEMORY_MB
    # Read scanned pages (no text layer, only images) by OCR, with the models in the RapidOCR package.
    ocr: bool = True

    def __post_init__(self) -> None:
        if self.retrieval_mode not in RETRIEVAL_MODES:
            raise SettingsError(
                f"retrieval_mode must be one of {', '.join(RETRIEVAL_MODES)}, not {self.retrieval_mode!r}"
            )
        object.__setattr__(self, "retrieval_mode", RetrievalMode(self.retrieval_mode))  # frozen: set once here
        if self.chunk_tokens < 16:
            raise SettingsError(f"chunk_tokens must be at least 16, not {self.chunk_tokens}")
        if not 0 <= self.chunk_overlap < self.chunk_tokens // 2:
            raise SettingsError("chunk_overlap must be between 0 and half of chunk_tokens")
        if self.embedding_backend not in EMBEDDING_BACKENDS:
            raise SettingsError(f"embedding_backend must be one of {', '.join(EMBEDDING_BACKENDS)}, "
                                f"not {self.embedding_backend!r}")
        for name in ("n_ctx", "max_tokens", "top_k", "embed_batch_size", "extract_memory_mb"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be positive, not {getattr(self, name)}")
        if self.top_k > MAX_TOP_K:
            raise SettingsError(f"top_k must be at most {MAX_TOP_K}, not {self.top_k}")
        if self.n_gpu_layers < -1:
            raise SettingsError("n_gpu_layers must be -1 (all), 0 (CPU only) or a positive count")

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir) if self.data_dir else default_data_dir()

    def replace(self, **changes: Any) -> "Settings":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    known = {f.name: f for f in fields(Settings)}
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise SettingsError(f"{source}: unknown setting {key!r}")
        default = getattr(Settings(), key)
        if isinstance(default, bool) and not isinstance(value, bool):
            raise SettingsError(f"{source}: {key} must be true or false, got {value!r}")
        if isinstance(default, tuple):  # a list of folders: a TOML array of strings
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                raise SettingsError(f"{source}: {key} must be a list of strings, got {value!r}")
            out[key] = tuple(str(v) for v in value)
            continue
        kind = str if isinstance(default, RetrievalMode) else type(default)  # __post_init__ checks the mode
        try:
            out[key] = kind(value)
        except (TypeError, ValueError) as exc:
            raise SettingsError(f"{source}: {key} must be a {type(default).__name__}, got {value!r}") from exc
    return out


def load_settings(
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Defaults < TOML file < environment < overrides (``None`` values in overrides are ignored)."""
    path = config_file or default_config_file()
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    if path.is_file():
        try:
            values.update(_coerce(tomllib.loads(path.read_text(encoding="utf-8")), str(path)))
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    if env.get(ENV_DATA_DIR):
        values["data_dir"] = env[ENV_DATA_DIR]
    if overrides:
        values.update(_coerce({k: v for k, v in overrides.items() if v is not None}, "override"))
    return Settings(**values)


def needs_reindex(old: Settings, new: Settings) -> bool:
    """Whether going from ``old`` to ``new`` leaves the library's index out of date: a setting that
    shapes the index changed, and the data folder (so the library) is the same."""
    changed = any(getattr(old, name) != getattr(new, name) for name in INDEX_SETTINGS)
    return changed and old.data_path == new.data_path


def save_settings(settings: Settings, config_file: Path | None = None) -> Path:
    """Write the settings that differ from the defaults, atomically."""
    path = config_file or default_config_file()
    defaults = Settings().to_dict()
    changed = {k: v for k, v in settings.to_dict().items() if v != defaults[k]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(changed), encoding="utf-8")
    os.replace(tmp, path)
    return path
