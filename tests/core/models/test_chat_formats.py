"""A GGUF without a chat template gets its family's prompt format, not Llama 2's by default."""

from __future__ import annotations

from desktop_rag.core.models.chat_formats import fallback_chat_format


def test_a_model_with_its_own_template_keeps_it() -> None:
    assert fallback_chat_format({"tokenizer.chat_template": "{{ messages }}", "general.architecture": "gemma3"}) is None


def test_families_without_a_template_get_their_format() -> None:
    assert fallback_chat_format({"general.architecture": "gemma3"}) == "gemma"
    assert fallback_chat_format({"general.architecture": "qwen2"}) == "chatml"
    assert fallback_chat_format({"general.architecture": "qwen3", "tokenizer.chat_template": ""}) == "chatml"


def test_an_unknown_architecture_is_left_to_llama_cpp() -> None:
    assert fallback_chat_format({"general.architecture": "rwkv6"}) is None
    assert fallback_chat_format({"general.architecture": "llama"}) is None  # llama-cpp-python's Llama 2 default
    assert fallback_chat_format({}) is None


def test_a_loaded_model_without_a_template_is_switched_to_its_family_format() -> None:
    from types import SimpleNamespace

    from desktop_rag.core.models.llama_cpp import LlamaCppChatModel

    model = LlamaCppChatModel("/models/gemma.gguf", n_gpu_layers=0, n_ctx=512)
    model._llm = SimpleNamespace(metadata={"general.architecture": "gemma3"}, chat_format="llama-2")
    model._use_family_format()
    assert model._llm.chat_format == "gemma"
    model._llm = SimpleNamespace(metadata={"general.architecture": "gemma3", "tokenizer.chat_template": "{{x}}"},
                                 chat_format="chat_template.default")
    model._use_family_format()
    assert model._llm.chat_format == "chat_template.default"


def test_a_base_model_is_told_from_a_chat_model() -> None:
    from desktop_rag.core.models.chat_formats import looks_like_base_model

    gemma = {"general.architecture": "gemma3", "general.name": "Gemma 3 270m", "general.basename": "gemma-3"}
    assert looks_like_base_model(gemma, "gemma-3-270m-q4_k_m.gguf")  # google/gemma-3-270m, the pretrained one
    assert not looks_like_base_model({**gemma, "tokenizer.chat_template": "{{ messages }}"}, "gemma-3-270m.gguf")
    assert not looks_like_base_model(gemma, "gemma-3-270m-it-Q4_K_M.gguf")
    assert not looks_like_base_model({"general.name": "Smollm2 135M", "general.finetune": "8k-mix1"}, "smol.gguf")
    for tuned in ("llama-2-7b-chat.Q4_K_M.gguf", "Mistral-7B-Instruct-v0.2.Q4_K_M.gguf", "qwen2.5-7b-instruct.gguf",
                  "Hermes-3-Llama-3.1-8B.Q4_K_M.gguf"):
        assert not looks_like_base_model({}, tuned), tuned
    # "it" counts as a word of the name only: "bitnet" and "digit" are not "-it" builds
    assert looks_like_base_model({"general.name": "Bitnet digit"}, "bitnet-digit-2b.gguf")
