"""Finding the GGUF models other local-LLM applications keep, and the folders the user adds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from desktop_rag.core.models.discovery import ModelSource, discover_models, known_sources, user_sources
from gguf_files import write_gguf


def _ollama(root: Path, model: str, tag: str, blob_digest: str, namespace: str = "library") -> None:
    manifest = root / "manifests/registry.ollama.ai" / namespace / model / tag
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps({"layers": [
        {"mediaType": "application/vnd.ollama.image.model", "digest": f"sha256:{blob_digest}"},
        {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:0"}]}))


def _fake_home(home: Path) -> None:
    write_gguf(home / ".lmstudio/models/lmstudio-community/Tiny-GGUF/Tiny-Q8_0.gguf", name="LM Tiny")
    write_gguf(home / ".lmstudio/models/lmstudio-community/Tiny-GGUF/mmproj-Tiny-f16.gguf", arch="clip")
    write_gguf(home / ".ollama/models/blobs/sha256-abc123", name="Ollama Tiny", context=8192)
    _ollama(home / ".ollama/models", "llama3", "8b", "abc123")
    _ollama(home / ".ollama/models", "phi", "latest", "missing999", namespace="someone")
    blob = write_gguf(home / ".cache/huggingface/hub/models--Qwen--Tiny-GGUF/blobs/deadbeef", name="HF Tiny")
    snapshot = home / ".cache/huggingface/hub/models--Qwen--Tiny-GGUF/snapshots/rev1/tiny-q4.gguf"
    snapshot.parent.mkdir(parents=True)
    snapshot.symlink_to(blob)
    gpt4all = write_gguf(home / ".local/share/nomic.ai/GPT4All/whole.gguf")
    (home / ".local/share/nomic.ai/GPT4All/cut.gguf").write_bytes(gpt4all.read_bytes()[:5000])
    write_gguf(home / "jan/models/tiny/model-00001-of-00002.gguf")
    write_gguf(home / "jan/models/tiny/model-00002-of-00002.gguf")


def test_models_of_every_known_application_are_found(tmp_path: Path) -> None:
    _fake_home(tmp_path)
    found = discover_models(known_sources(tmp_path, environ={}), n_ctx=2048, available=2**40)
    by_name = {m.name: m for m in found.models}
    assert set(by_name) == {
        "lmstudio-community/Tiny-GGUF/Tiny-Q8_0.gguf", "lmstudio-community/Tiny-GGUF/mmproj-Tiny-f16.gguf",
        "llama3:8b", "someone/phi:latest", "Qwen/Tiny-GGUF/tiny-q4.gguf", "whole.gguf", "cut.gguf",
        "tiny/model-00001-of-00002.gguf"}
    assert by_name["llama3:8b"].source == "Ollama" and by_name["llama3:8b"].info.context_length == 8192
    assert by_name["Qwen/Tiny-GGUF/tiny-q4.gguf"].info.name == "HF Tiny"
    usable = {m.name for m in found.models if m.usable}
    assert usable == {"lmstudio-community/Tiny-GGUF/Tiny-Q8_0.gguf", "llama3:8b", "Qwen/Tiny-GGUF/tiny-q4.gguf",
                      "whole.gguf", "tiny/model-00001-of-00002.gguf"}
    assert "vision projector" in by_name["lmstudio-community/Tiny-GGUF/mmproj-Tiny-f16.gguf"].problem
    assert "truncated" in by_name["cut.gguf"].problem
    assert "not found" in by_name["someone/phi:latest"].problem  # a manifest whose blob is gone
    assert all(m.fits for m in found.models if m.usable)
    assert found.skipped == []  # applications that are not installed are not problems


def test_fits_compares_the_memory_needed_with_what_is_free(tmp_path: Path) -> None:
    write_gguf(tmp_path / "models/a.gguf")
    sources = user_sources([tmp_path / "models"])
    [roomy] = discover_models(sources, n_ctx=2048, available=2**40).models
    [tight] = discover_models(sources, n_ctx=2048, available=1000).models
    [unknown] = discover_models(sources, n_ctx=2048, available=None).models
    assert roomy.fits is True and tight.fits is False and unknown.fits is None
    assert tight.memory_needed == roomy.memory_needed > roomy.info.file_size
    assert tight.usable  # too large now is shown as such, not hidden: memory may be freed


def test_a_folder_that_vanished_is_reported_and_skipped(tmp_path: Path) -> None:
    write_gguf(tmp_path / "here/a.gguf")
    sources = [*user_sources([tmp_path / "unmounted-drive", tmp_path / "here"]),
               ModelSource("Jan", tmp_path / "no-jan")]
    found = discover_models(sources, n_ctx=2048, available=None)
    assert [m.name for m in found.models] == ["a.gguf"]
    assert found.skipped == [f"{tmp_path / 'unmounted-drive'}: folder not found (an unmounted drive?); skipped"]


def test_an_unreadable_subfolder_is_reported_and_the_rest_listed(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m/ok/a.gguf")
    locked = tmp_path / "m/locked"
    write_gguf(locked / "b.gguf")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):  # running as root: permissions do not apply
            pytest.skip("permissions do not apply to this user")
        found = discover_models(user_sources([tmp_path / "m"]), n_ctx=2048, available=None)
    finally:
        locked.chmod(0o755)
    assert [m.name for m in found.models] == ["ok/a.gguf"]
    assert len(found.skipped) == 1 and "locked" in found.skipped[0]


def test_the_same_file_reached_twice_is_listed_once(tmp_path: Path) -> None:
    write_gguf(tmp_path / "m/a.gguf")
    found = discover_models(user_sources([tmp_path / "m", tmp_path / "m"]), n_ctx=2048, available=None)
    assert len(found.models) == 1


def test_environment_variables_move_ollama_and_the_hugging_face_cache(tmp_path: Path) -> None:
    sources = known_sources(tmp_path, environ={"OLLAMA_MODELS": "/srv/ollama", "HF_HOME": "/srv/hf"})
    roots = {(s.label, str(s.root)) for s in sources}
    assert ("Ollama", "/srv/ollama") in roots and ("Hugging Face cache", "/srv/hf/hub") in roots


def test_stop_ends_the_search_early(tmp_path: Path) -> None:
    for i in range(3):
        write_gguf(tmp_path / f"m/{i}.gguf")
    found = discover_models(user_sources([tmp_path / "m"]), n_ctx=2048, available=None, should_stop=lambda: True)
    assert found.models == []
