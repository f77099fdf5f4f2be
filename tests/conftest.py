from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "sec-10-q"


@pytest.fixture(scope="session")
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache for the run: the Q8_0 copy of the bundled model is made once, not per test."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch, _cache_dir: Path
) -> None:
    """Never read or write the real user's settings, library or cache during tests."""
    home = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("DESKTOP_RAG_CONFIG", str(home / "settings.toml"))
    monkeypatch.delenv("DESKTOP_RAG_DATA_DIR", raising=False)
    monkeypatch.setenv("DESKTOP_RAG_CACHE_DIR", str(_cache_dir))


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "docs").is_dir():
        pytest.skip("the SEC corpus is not beside this checkout (../shared/corpus/sec-10-q)")
    return CORPUS
