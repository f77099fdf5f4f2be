"""The prompt format for a GGUF that carries no chat template of its own.

llama.cpp formats a conversation with the Jinja template stored in the GGUF
(``tokenizer.chat_template``). Some GGUFs published without one (converted base models, old
conversions) would otherwise be given llama-cpp-python's default Llama 2 format, which such a
model echoes back as ``[INST] ... [/INST]`` text instead of answering. The model's architecture
names the format its family was trained with.
"""

from __future__ import annotations

import re
from typing import Mapping

CHAT_TEMPLATE_KEY = "tokenizer.chat_template"
_FAMILIES: tuple[tuple[str, str], ...] = (
    ("gemma", "gemma"),  # gemma, gemma2, gemma3: <start_of_turn>user ... <end_of_turn>
    ("qwen", "chatml"),  # qwen2, qwen3, qwen2moe: <|im_start|>user ... <|im_end|>
)  # llama and mistral GGUFs without a template are mostly Llama 2 era conversions: the default fits


def fallback_chat_format(metadata: Mapping[str, str]) -> str | None:
    """The llama-cpp-python chat format to use for a GGUF with ``metadata``; None when it has a
    template of its own (llama.cpp uses it) or its architecture is not one we know."""
    if metadata.get(CHAT_TEMPLATE_KEY):
        return None
    architecture = metadata.get("general.architecture", "").lower()
    return next((fmt for prefix, fmt in _FAMILIES if architecture.startswith(prefix)), None)


# Words of an instruction-tuned build's name: "SmolLM2-135M-Instruct", "llama-2-7b-chat", "gemma-3-1b-it"
_TUNED_NAME = re.compile(r"(?:^|[^a-z])(?:instruct\w*|chat|it|sft|dpo|rlhf|assistant|hermes)(?:[^a-z]|$)",
                         re.IGNORECASE)
BASE_MODEL_NOTE = ("looks like a base model (no chat template, and no 'instruct', 'chat' or '-it' in its name): "
                   "base models continue text rather than answer questions; choose an instruction-tuned build")


def looks_like_base_model(metadata: Mapping[str, object], file_name: str) -> bool:
    """Whether a GGUF is a pretrained base model rather than a chat model: it has no chat template,
    no fine-tune named in its header, and nothing in its names says it was tuned to follow
    instructions. "gemma-3-270m-q4_k_m.gguf" (google/gemma-3-270m) is one: asked a question, it
    wrote "Sources: <source" back."""
    if metadata.get(CHAT_TEMPLATE_KEY) or metadata.get("general.finetune"):
        return False
    names = [file_name, *(str(metadata.get(k) or "") for k in ("general.name", "general.basename"))]
    return not any(_TUNED_NAME.search(n) for n in names)
