"""Whether a model thinks aloud in ``<think>`` tags before it answers, read from its chat template.

Reasoning models (Qwen3, DeepSeek-R1 distills, QwQ) write their thinking between ``<think>`` and
``</think>``. Some templates write ``<think>`` into the prompt themselves (DeepSeek-R1 distills end
the generation prompt with ``<think>\\n``), so the output starts inside the thinking with no
opening tag; Qwen3 writes ``<think>\\n\\n</think>`` there only to turn thinking off. The answer
stage splits the output (see :mod:`desktop_rag.core.answer.thinking`).
"""

from __future__ import annotations

from dataclasses import dataclass

OPEN, CLOSE = "<think>", "</think>"


@dataclass(frozen=True, slots=True)
class ThinkingMode:
    """``reasoning``: the model's template knows ``<think>``; ``starts_inside``: the template opens
    the thinking itself, so the output begins inside it."""

    reasoning: bool = False
    starts_inside: bool = False


def thinking_mode(chat_template: str) -> ThinkingMode:
    """How a model thinks, from its chat template (the part after ``add_generation_prompt`` is
    what the template writes before the model's turn)."""
    if OPEN not in chat_template and CLOSE not in chat_template:
        return ThinkingMode()
    at = chat_template.rfind("add_generation_prompt")
    tail = chat_template[at:] if at >= 0 else ""
    return ThinkingMode(True, OPEN in tail and CLOSE not in tail)
