"""The Q8_0 copy of small Q4_1/Q5_1 models: made once, kept in step with its source, never in the way."""

from __future__ import annotations

import logging
import os
import shutil
import struct
from pathlib import Path

import pytest

from desktop_rag.core.models import model_prep
from desktop_rag.core.models.llama_cpp import LlamaCppChatModel, bundled_llm_path
from desktop_rag.core.models.model_prep import gguf_file_type, prompt_fast_model

MESSAGES = [{"role": "user", "content": "Name three colours."}]


def gguf_header(values: dict[str, tuple[int, bytes]]) -> bytes:
    """A GGUF header with no tensors and the given (type, packed value) pairs."""
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(values))
    for key, (kind, packed) in values.items():
        out += struct.pack("<Q", len(key)) + key.encode() + struct.pack("<I", kind) + packed
    return out


def test_reads_the_file_type_past_strings_and_arrays(tmp_path: Path) -> None:
    assert gguf_file_type(bundled_llm_path()) == 3  # Q4_1
    strings = struct.pack("<IQ", 8, 2) + b"".join(struct.pack("<Q", len(w)) + w for w in (b"ab", b"cde"))
    header = gguf_header({
        "general.name": (8, struct.pack("<Q", 4) + b"tiny"),
        "tokenizer.tokens": (9, strings),
        "tokenizer.scores": (9, struct.pack("<IQ", 6, 3) + struct.pack("<3f", 1, 2, 3)),
        "general.file_type": (4, struct.pack("<I", 7)),
    })
    (tmp_path / "q8.gguf").write_bytes(header)
    assert gguf_file_type(tmp_path / "q8.gguf") == 7
    (tmp_path / "none.gguf").write_bytes(gguf_header({"general.name": (8, struct.pack("<Q", 1) + b"x")}))
    assert gguf_file_type(tmp_path / "none.gguf") is None
    (tmp_path / "text.gguf").write_text("not a model")
    assert gguf_file_type(tmp_path / "text.gguf") is None
    (tmp_path / "cut.gguf").write_bytes(header[:30])
    with pytest.raises(ValueError, match="truncated"):
        gguf_file_type(tmp_path / "cut.gguf")


def test_other_types_big_models_and_broken_headers_are_used_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    q8 = tmp_path / "q8.gguf"
    q8.write_bytes(gguf_header({"general.file_type": (4, struct.pack("<I", 7))}))
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(q8.read_bytes()[:20])
    cache = tmp_path / "cache"
    assert prompt_fast_model(q8, cache) == q8
    assert prompt_fast_model(cut, cache) == cut
    monkeypatch.setattr(model_prep, "MAX_COPY_BYTES", 1024)
    assert prompt_fast_model(bundled_llm_path(), cache) == bundled_llm_path()
    assert not cache.exists()


def test_copy_is_made_once_and_follows_its_source(tmp_path: Path) -> None:
    source = tmp_path / "models" / "small.Q4_1.gguf"
    source.parent.mkdir()
    shutil.copyfile(bundled_llm_path(), source)
    cache = tmp_path / "cache"
    copy = prompt_fast_model(source, cache)
    assert copy.parent == cache and copy.name.startswith("small.Q4_1.") and copy.suffix == ".gguf"
    assert gguf_file_type(copy) == 7  # Q8_0
    made = copy.stat().st_ino
    assert prompt_fast_model(source, cache) == copy and copy.stat().st_ino == made  # the same file, not made again
    later = copy.stat().st_mtime_ns + 10**9
    os.utime(source, ns=(later, later))  # the user replaced the file
    newer = prompt_fast_model(source, cache)
    assert newer != copy and newer.is_file() and not copy.exists()
    assert sorted(p.name for p in cache.iterdir()) == [newer.name]  # no partial files left


def test_copies_of_models_long_gone_are_removed_when_a_copy_is_made(tmp_path: Path) -> None:
    # every reinstall at a new path (a fresh virtual environment, a newer bundle's folder) made
    # another 145 MB copy of the bundled model, and nothing ever removed the old ones
    cache = tmp_path / "cache"
    cache.mkdir()
    weeks_ago = os.path.getmtime(bundled_llm_path()) - 40 * 86400
    gone = cache / "SmolLM2-135M-Instruct.Q4_1.0badc0de.12345678.Q8_0.gguf"
    in_use = cache / "other-model.Q4_1.0badc0de.12345678.Q8_0.gguf"  # used by another install today
    onnx = cache / "embedder-0badc0de-12345678-onnx-int8-v1.onnx"  # another kind of copy: not this one's to judge
    for old in (gone, in_use, onnx):
        old.write_bytes(b"an old copy")
    for old in (gone, onnx):
        os.utime(old, (weeks_ago, weeks_ago))
    source = tmp_path / "models" / "small.Q4_1.gguf"
    source.parent.mkdir()
    shutil.copyfile(bundled_llm_path(), source)
    first = prompt_fast_model(source, cache)
    assert not gone.exists() and in_use.exists() and onnx.exists()
    os.utime(first, (weeks_ago, weeks_ago))
    assert prompt_fast_model(source, cache) == first  # using a copy marks it used ...
    other = tmp_path / "elsewhere" / "small.Q4_1.gguf"
    other.parent.mkdir()
    shutil.copyfile(source, other)
    second = prompt_fast_model(other, cache)
    assert second != first and first.exists()  # ... so a copy made for another file leaves it


def test_unwritable_cache_falls_back_to_the_original(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    with caplog.at_level(logging.WARNING):
        assert prompt_fast_model(bundled_llm_path(), blocker) == bundled_llm_path()
    assert "no Q8_0 copy" in caplog.text


def test_chat_model_runs_from_the_copy_and_survives_a_broken_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    model = LlamaCppChatModel(n_gpu_layers=0, n_ctx=512, prompt_copy_dir=cache)
    model.load()
    assert model.loaded_path is not None and model.loaded_path.parent == cache
    assert model.name == bundled_llm_path().name  # users see the model they chose
    from llama_cpp import Llama

    original = Llama(model_path=str(bundled_llm_path()), vocab_only=True, verbose=False)
    assert model.load().metadata["tokenizer.chat_template"] == original.metadata["tokenizer.chat_template"]
    original.close()
    assert "".join(model.stream_chat(MESSAGES, max_tokens=8, temperature=0.0)).strip()
    copy = model.loaded_path
    model.close()
    copy.write_bytes(b"GGUF" + b"\0" * 64)  # damaged on disk
    again = LlamaCppChatModel(n_gpu_layers=0, n_ctx=512, prompt_copy_dir=cache)
    with caplog.at_level(logging.WARNING):
        again.load()
    assert again.loaded_path == bundled_llm_path() and "did not load" in caplog.text
    assert "".join(again.stream_chat(MESSAGES, max_tokens=8, temperature=0.0)).strip()
    again.close()
