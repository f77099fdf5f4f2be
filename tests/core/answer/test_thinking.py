"""Reasoning models' <think> parts: split from the answer as they stream, folded away, never cited."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pytest
from fakes import HashEmbedder
from pdfs import write_pdf

from desktop_rag.config import DEFAULT_EXTRACT_MEMORY_MB, DEFAULT_EXTRACT_TIMEOUT_S, DEFAULT_MAX_TOKENS
from desktop_rag.core.answer.answerer import Answerer
from desktop_rag.core.answer.thinking import (
    THINKING_CUT_OFF,
    THINKING_TOKENS,
    ThinkingMode,
    ThinkingSplitter,
    split_thinking,
    thinking_mode,
)
from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.ingest.pipeline import ChunkOptions, Ingestion
from desktop_rag.core.search.retriever import Retriever
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Events

QWEN3_TAIL = ("{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- if enable_thinking is defined "
              "and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}{%- endif %}")
R1_TAIL = "{% if add_generation_prompt %}{{'<｜Assistant｜><think>\\n'}}{% endif %}"


def _feed(pieces: Sequence[str], starts_inside: bool = False) -> list[tuple[str, str]]:
    splitter = ThinkingSplitter(starts_inside)
    parts = [p for piece in pieces for p in splitter.feed(piece)] + splitter.finish()
    merged: list[tuple[str, str]] = []
    for kind, text in parts:  # adjacent parts of one kind joined, to compare whole texts
        merged[-1:] = [(kind, merged[-1][1] + text)] if merged and merged[-1][0] == kind else merged[-1:] + [(kind, text)]
    return merged


def test_thinking_and_answer_are_split_even_when_tags_are_cut_between_tokens() -> None:
    whole = "<think>Revenue is on page 3.</think>\n\nRevenue was $12M."
    expected = [("thinking", "Revenue is on page 3."), ("token", "Revenue was $12M.")]
    assert _feed([whole]) == expected
    assert _feed(list(whole)) == expected  # one character at a time: every tag cut somewhere
    assert _feed(["<thi", "nk>a</th", "ink>", "b"]) == [("thinking", "a"), ("token", "b")]


def test_a_model_without_tags_is_all_answer_and_a_lone_angle_bracket_is_kept() -> None:
    assert _feed(["Costs rose <", "5% a year."]) == [("token", "Costs rose <5% a year.")]
    assert _feed(["Ends with <th"]) == [("token", "Ends with <th")]  # held back, then given at the end


def test_unterminated_thinking_gives_no_answer() -> None:
    assert _feed(["<think>Let me see", " the filings"]) == [("thinking", "Let me see the filings")]


def test_output_that_starts_inside_thinking() -> None:
    assert _feed(["Checking page 3.", "</think>", "It was $12M."], starts_inside=True) == \
        [("thinking", "Checking page 3."), ("token", "It was $12M.")]
    # the template opened it but we were not told: the whole output still splits
    assert split_thinking("Checking page 3.</think>It was $12M.") == ("Checking page 3.", "It was $12M.")
    assert split_thinking("No thinking here.") == ("", "No thinking here.")


def test_the_chat_template_says_how_a_model_thinks() -> None:
    assert thinking_mode("{{ messages }}") == ThinkingMode(False, False)
    assert thinking_mode("<think>" + QWEN3_TAIL) == ThinkingMode(True, False)  # Qwen3: the model opens it
    assert thinking_mode("{{'</think>'}}" + R1_TAIL) == ThinkingMode(True, True)  # R1 distills: the template does


class ThinkingChatModel:
    """Streams a scripted reply word by word (one token a word), as a reasoning model would."""

    def __init__(self, reply: str, mode: ThinkingMode = ThinkingMode(True, False)) -> None:
        self.reply, self.thinking = reply, mode
        self.max_tokens_asked: list[int] = []

    name, context_size = "thinker", 4096

    def count_tokens(self, text: str) -> int:
        return len(re.findall(r"\S+", text))

    def stream_chat(self, messages: Sequence[dict[str, str]], *, max_tokens: int, temperature: float,
                    should_stop: Callable[[], bool] = lambda: False) -> Iterator[str]:
        self.max_tokens_asked.append(max_tokens)
        yield from re.findall(r"\S+\s*|\s+", self.reply)[:max_tokens]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    write_pdf(tmp_path / "acme.pdf", ["ACME revenue was 12 million dollars in 2023.",
                                      "ACME employs 300 engineers in Ohio."])
    store = Store(tmp_path / "data")
    with PdfExtractor(DEFAULT_EXTRACT_TIMEOUT_S, DEFAULT_EXTRACT_MEMORY_MB) as extractor:
        list(Ingestion(store, HashEmbedder(), extractor, ChunkOptions(16, 2)).run([tmp_path]))
    yield store
    store.close()


def _ask(store: Store, model: ThinkingChatModel, max_tokens: int = DEFAULT_MAX_TOKENS):  # noqa: ANN202
    embedder = HashEmbedder()
    answerer = Answerer(store, Retriever(store, embedder), embedder, model, k=5, mode="hybrid",
                        max_tokens=max_tokens, temperature=0.0)
    events = Events(answerer.ask("What was ACME revenue?"))
    return list(events), events.result


def test_thinking_is_streamed_apart_and_never_cited(store: Store) -> None:
    model = ThinkingChatModel("<think>I like pizza with pineapple topping. Page 1 says revenue. </think>\n"
                              "ACME revenue was 12 million dollars in 2023.")
    events, answer = _ask(store, model)
    thinking = "".join(e.text for e in events if e.kind == "thinking")
    assert "pineapple" in thinking and "<think>" not in thinking
    assert "".join(e.text for e in events if e.kind == "token") == "ACME revenue was 12 million dollars in 2023."
    assert answer.text == "ACME revenue was 12 million dollars in 2023."
    assert answer.unsupported == [] and all("pineapple" not in s.text for s in answer.sentences)
    assert answer.citations and answer.citations[0].file == "acme.pdf"
    assert answer.timings["first_answer_token_ms"] > answer.timings["first_token_ms"]
    assert model.max_tokens_asked == [DEFAULT_MAX_TOKENS + THINKING_TOKENS]  # room to think


def test_thinking_cut_off_by_the_token_limit_says_so(store: Store) -> None:
    model = ThinkingChatModel("<think>" + "Let me check the pages once more. " * 50)
    events, answer = _ask(store, model, max_tokens=20)
    assert answer.text == THINKING_CUT_OFF and answer.citations == []
    assert [s.supported for s in answer.sentences] == [True]  # our note, not a claim to check
    assert "first_answer_token_ms" not in answer.timings and not any(e.kind == "token" for e in events)


def test_a_model_whose_template_opens_the_thinking(store: Store) -> None:
    model = ThinkingChatModel("The filing gives revenue. </think> ACME revenue was 12 million dollars in 2023.",
                              ThinkingMode(True, True))
    events, answer = _ask(store, model)
    assert answer.text == "ACME revenue was 12 million dollars in 2023."
    assert "".join(e.text for e in events if e.kind == "thinking").strip() == "The filing gives revenue."


def test_an_ordinary_model_is_unchanged(store: Store) -> None:
    model = ThinkingChatModel("ACME revenue was 12 million dollars in 2023.", ThinkingMode())
    events, answer = _ask(store, model)
    assert answer.text == "ACME revenue was 12 million dollars in 2023." and model.max_tokens_asked == [DEFAULT_MAX_TOKENS]
    assert answer.timings["first_answer_token_ms"] == answer.timings["first_token_ms"]
