"""Settings: defaults < TOML file < DESKTOP_RAG_DATA_DIR < explicit overrides; bad input is a SettingsError."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest

from desktop_rag import config
from desktop_rag.config import Settings, load_settings, needs_reindex, save_settings
from desktop_rag.core.types import RetrievalMode
from desktop_rag.errors import DesktopRagError, SettingsError


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "conf" / "settings.toml"


def test_defaults_when_there_is_no_file(settings_file: Path) -> None:
    settings = load_settings(settings_file, environ={})
    assert settings == Settings()
    assert settings.chunk_tokens == config.DEFAULT_CHUNK_TOKENS
    assert settings.chunk_overlap == config.DEFAULT_CHUNK_OVERLAP
    assert settings.top_k == config.DEFAULT_TOP_K
    assert settings.retrieval_mode == "hybrid"
    assert settings.data_path == config.default_data_dir()


def test_default_config_file_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.ENV_CONFIG_FILE, str(tmp_path / "elsewhere.toml"))
    assert config.default_config_file() == tmp_path / "elsewhere.toml"
    (tmp_path / "elsewhere.toml").write_text("top_k = 3\n", encoding="utf-8")
    assert load_settings(environ={}).top_k == 3


def test_toml_file_overrides_defaults(settings_file: Path) -> None:
    settings_file.parent.mkdir()
    settings_file.write_text('top_k = 9\nretrieval_mode = "keyword"\ntemperature = 0.5\n', encoding="utf-8")
    settings = load_settings(settings_file, environ={})
    assert (settings.top_k, settings.retrieval_mode, settings.temperature) == (9, "keyword", 0.5)
    assert settings.chunk_tokens == config.DEFAULT_CHUNK_TOKENS  # untouched keys keep their default


def test_int_in_toml_is_accepted_for_a_float_setting(settings_file: Path) -> None:
    settings_file.parent.mkdir()
    settings_file.write_text("extract_timeout_s = 30\n", encoding="utf-8")
    value = load_settings(settings_file, environ={}).extract_timeout_s
    assert value == 30.0 and isinstance(value, float)


def test_env_data_dir_beats_the_file(settings_file: Path, tmp_path: Path) -> None:
    settings_file.parent.mkdir()
    settings_file.write_text(f'data_dir = "{(tmp_path / "from-file").as_posix()}"\n', encoding="utf-8")
    assert load_settings(settings_file, environ={}).data_path == tmp_path / "from-file"
    env = {config.ENV_DATA_DIR: str(tmp_path / "from-env")}
    assert load_settings(settings_file, environ=env).data_path == tmp_path / "from-env"


def test_env_data_dir_is_read_from_os_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(config.ENV_DATA_DIR, str(tmp_path / "lib"))
    assert load_settings(tmp_path / "none.toml").data_path == tmp_path / "lib"


def test_explicit_overrides_win_over_file_and_env(settings_file: Path, tmp_path: Path) -> None:
    settings_file.parent.mkdir()
    settings_file.write_text("top_k = 9\nchunk_tokens = 120\n", encoding="utf-8")
    env = {config.ENV_DATA_DIR: str(tmp_path / "from-env")}
    overrides = {"top_k": 2, "data_dir": str(tmp_path / "flag"), "chunk_tokens": None}
    settings = load_settings(settings_file, overrides, environ=env)
    assert settings.top_k == 2
    assert settings.data_path == tmp_path / "flag"
    assert settings.chunk_tokens == 120  # a None override means "not given", the file value stays


def test_save_then_load_round_trips(settings_file: Path, tmp_path: Path) -> None:
    original = Settings(
        data_dir=str(tmp_path / "lib"), top_k=4, temperature=0.7, retrieval_mode="dense",
        remote_base_url="http://127.0.0.1:8080/v1", n_gpu_layers=-1, extract_timeout_s=12.5,
    )
    written = save_settings(original, settings_file)
    assert written == settings_file
    assert load_settings(settings_file, environ={}) == original
    assert not settings_file.with_suffix(".toml.tmp").exists()


def test_save_writes_only_values_that_differ_from_defaults(settings_file: Path) -> None:
    save_settings(Settings(top_k=11), settings_file)
    assert tomllib.loads(settings_file.read_text(encoding="utf-8")) == {"top_k": 11}


def test_save_replaces_an_existing_file(settings_file: Path) -> None:
    save_settings(Settings(top_k=11), settings_file)
    save_settings(Settings(max_tokens=100), settings_file)
    loaded = load_settings(settings_file, environ={})
    assert (loaded.top_k, loaded.max_tokens) == (config.DEFAULT_TOP_K, 100)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"retrieval_mode": "fuzzy"}, ["retrieval_mode", "fuzzy", "hybrid"]),
        ({"chunk_tokens": 8}, ["chunk_tokens", "16", "8"]),
        ({"chunk_overlap": 150}, ["chunk_overlap", "half"]),
        ({"chunk_overlap": -1}, ["chunk_overlap"]),
        ({"top_k": 0}, ["top_k", "positive"]),
        ({"n_ctx": -5}, ["n_ctx", "positive", "-5"]),
        ({"extract_memory_mb": 0}, ["extract_memory_mb", "positive"]),
        ({"n_gpu_layers": -2}, ["n_gpu_layers", "-1"]),
    ],
)
def test_invalid_values_raise_settings_error_naming_the_setting(changes: dict, words: list[str]) -> None:
    with pytest.raises(SettingsError) as info:
        Settings(**changes)
    for word in words:
        assert word in str(info.value)


def test_invalid_value_in_the_file_is_a_settings_error(settings_file: Path) -> None:
    settings_file.parent.mkdir()
    settings_file.write_text('retrieval_mode = "fuzzy"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="retrieval_mode"):
        load_settings(settings_file, environ={})


def test_value_of_the_wrong_type_names_file_key_and_type(settings_file: Path) -> None:
    settings_file.parent.mkdir()
    settings_file.write_text('top_k = "many"\n', encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        load_settings(settings_file, environ={})
    message = str(info.value)
    assert str(settings_file) in message and "top_k" in message and "int" in message and "'many'" in message


def test_unknown_key_in_the_file_is_named(settings_file: Path) -> None:
    settings_file.parent.mkdir()
    settings_file.write_text("top_k = 3\nchunk_size = 500\n", encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        load_settings(settings_file, environ={})
    assert "unknown setting 'chunk_size'" in str(info.value)
    assert str(settings_file) in str(info.value)


def test_unknown_override_is_rejected() -> None:
    with pytest.raises(SettingsError, match="unknown setting 'colour'"):
        load_settings(Path("/nonexistent/settings.toml"), {"colour": "blue"}, environ={})


def test_wrong_type_override_is_rejected() -> None:
    with pytest.raises(SettingsError, match="top_k must be an? int"):
        load_settings(Path("/nonexistent/settings.toml"), {"top_k": "lots"}, environ={})


def test_malformed_toml_is_a_settings_error_naming_the_file(settings_file: Path) -> None:
    settings_file.parent.mkdir()
    settings_file.write_text("top_k = = 3\n[unclosed\n", encoding="utf-8")
    with pytest.raises(SettingsError) as info:
        load_settings(settings_file, environ={})
    assert str(settings_file) in str(info.value) and "not valid TOML" in str(info.value)
    assert isinstance(info.value, DesktopRagError)


def test_settings_are_frozen_and_replace_validates() -> None:
    settings = Settings()
    with pytest.raises(AttributeError):
        settings.top_k = 3  # type: ignore[misc]
    assert settings.replace(top_k=3).top_k == 3 and settings.top_k == config.DEFAULT_TOP_K
    with pytest.raises(SettingsError):
        settings.replace(top_k=0)


def test_switches_take_only_true_or_false(settings_file: Path) -> None:
    settings_file.parent.mkdir(parents=True)
    settings_file.write_text("fast_prompt_copy = false\n")
    assert load_settings(settings_file).fast_prompt_copy is False
    settings_file.write_text('fast_prompt_copy = "no"\n')  # bool("no") would be True
    with pytest.raises(SettingsError, match="fast_prompt_copy must be true or false"):
        load_settings(settings_file)


def test_cache_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKTOP_RAG_CACHE_DIR", str(tmp_path / "c"))
    assert config.default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("DESKTOP_RAG_CACHE_DIR")
    assert config.default_cache_dir().name == "desktop-rag"


def test_a_retrieval_mode_given_as_text_becomes_the_enum_and_is_saved_as_text(settings_file: Path) -> None:
    settings = load_settings(settings_file, overrides={"retrieval_mode": "keyword"}, environ={})
    assert settings.retrieval_mode is RetrievalMode.KEYWORD
    assert Settings().replace(retrieval_mode="dense").retrieval_mode is RetrievalMode.DENSE
    assert config.RETRIEVAL_MODES == tuple(mode.value for mode in RetrievalMode)
    save_settings(settings, settings_file)
    assert tomllib.loads(settings_file.read_text(encoding="utf-8")) == {"retrieval_mode": "keyword"}
    assert load_settings(settings_file, environ={}) == settings


@pytest.mark.parametrize("name", config.INDEX_SETTINGS)
def test_changing_a_setting_that_shapes_the_index_needs_a_reindex(name: str, tmp_path: Path) -> None:
    old = Settings(data_dir=str(tmp_path))
    new = old.replace(**{name: {"chunk_tokens": 100, "chunk_overlap": 8, "embedding_model": "/models/other",
                                 "embedding_backend": "torch"}[name]})
    assert needs_reindex(old, new)
    assert not needs_reindex(old, new.replace(data_dir=str(tmp_path / "another-library")))  # a new library


def test_other_settings_need_no_reindex(tmp_path: Path) -> None:
    old = Settings(data_dir=str(tmp_path))
    assert not needs_reindex(old, old)
    assert not needs_reindex(old, old.replace(top_k=3, retrieval_mode="keyword", temperature=0.5, n_ctx=2048))
    assert set(config.INDEX_SETTINGS) <= {f.name for f in dataclasses.fields(Settings)}
