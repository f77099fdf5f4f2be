from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).parent))

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "sec-10-q"


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the real user's settings or library during tests."""
    home = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("DESKTOP_RAG_CONFIG", str(home / "settings.toml"))
    monkeypatch.delenv("DESKTOP_RAG_DATA_DIR", raising=False)


@pytest.fixture
def corpus() -> Path:
    if not (CORPUS / "docs").is_dir():
        pytest.skip("the SEC corpus is not beside this checkout (../shared/corpus/sec-10-q)")
    return CORPUS
