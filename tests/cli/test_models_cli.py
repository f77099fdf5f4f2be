"""``desktop-rag models [--json]`` and ``desktop-rag models download URL``."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Iterator

import pytest

from desktop_rag.cli import main
from desktop_rag.core.models.llama_cpp import bundled_llm_path
from file_server import serving
from gguf_files import write_gguf


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    for name in ("OLLAMA_MODELS", "HF_HOME", "HF_HUB_CACHE", "XDG_DATA_HOME"):
        monkeypatch.delenv(name, raising=False)
    write_gguf(home / ".lmstudio/models/someone/Tiny-GGUF/Tiny-Q8_0.gguf", name="LM Tiny", context=4096)
    write_gguf(home / ".lmstudio/models/someone/Tiny-GGUF/mmproj-f16.gguf", arch="clip")
    return home


def test_models_lists_other_apps_models_as_json(home: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["models", "--json", "--folder", str(tmp_path / "unplugged")]) == 0
    out, err = capsys.readouterr()
    listing = json.loads(out)
    by_name = {m["name"]: m for m in listing["models"]}
    bundled = by_name[bundled_llm_path().name]
    assert bundled["in_use"] and bundled["usable"] and bundled["quantization"] == "Q4_1"
    assert bundled["parameters"] == 134_515_008 and bundled["context_length"] == 8192
    assert bundled["memory_needed_bytes"] > bundled["file_bytes"] and bundled["fits_in_free_memory"] in (True, False)
    tiny = by_name["someone/Tiny-GGUF/Tiny-Q8_0.gguf"]
    assert (tiny["source"], tiny["model_name"], tiny["context_length"], tiny["usable"]) == \
        ("LM Studio", "LM Tiny", 4096, True)
    assert tiny["base_model"] and not bundled["base_model"]  # no chat template, nothing says "instruct"
    projector = by_name["someone/Tiny-GGUF/mmproj-f16.gguf"]
    assert not projector["usable"] and "vision projector" in projector["problem"]
    assert listing["skipped"] == [f"{tmp_path / 'unplugged'}: folder not found (an unmounted drive?); skipped"]
    assert "unplugged" in err


def test_models_lists_for_people(home: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    assert "* SmolLM2-135M-Instruct.Q4_1.gguf  [Bundled]" in out  # the one in use is starred
    assert "Q4_1, 135M parameters, context 8192, 94 MB file, needs about" in out
    assert "cannot be used: mmproj-f16.gguf is a vision projector" in out
    noted = [entry.split()[0] for entry in re.split(r"\n(?=[* ] \S)", out) if "looks like a base model" in entry]
    assert noted == ["someone/Tiny-GGUF/Tiny-Q8_0.gguf"]  # not the bundled model, not the unusable projector


@pytest.fixture
def file_server() -> Iterator[str]:
    with serving(bundled_llm_path().parent) as base:
        yield base


def test_download_saves_a_checked_model(file_server: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    name = bundled_llm_path().name
    sha = hashlib.sha256(bundled_llm_path().read_bytes()).hexdigest()
    assert main(["models", "download", f"{file_server}/{name}", "--sha256", sha, "--dir", str(tmp_path / "m")]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(tmp_path / "m" / name) and "Use it with" in err
    assert (tmp_path / "m" / name).read_bytes() == bundled_llm_path().read_bytes()


def test_download_failures_exit_1_with_the_reason(file_server: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture) -> None:
    name = bundled_llm_path().name
    assert main(["models", "download", f"{file_server}/{name}", "--sha256", "0" * 64, "--dir", str(tmp_path)]) == 1
    assert "checksum mismatch" in capsys.readouterr().err
    assert main(["models", "download", f"{file_server}/nope.gguf", "--dir", str(tmp_path)]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
