"""Self-evaluation: sampling, question writing with a fake chat model, the copy filter, the GUI entry point."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Callable, Iterator, Sequence

import pytest
from fakes import HashEmbedder
from pdfs import write_pdf
from test_harness import TOPICS, drive

from desktop_rag.core.eval.questions import load_questions, resolve_questions
from desktop_rag.core.eval.report import format_table
from desktop_rag.core.eval.harness import EvalTarget
from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.models.chat import Message, never
from desktop_rag.core.ingest.pipeline import ChunkOptions, Ingestion
from desktop_rag.core.search.retriever import Retriever
from desktop_rag.core.eval.selfeval import (
    Rarity,
    SampledPassage,
    check_question,
    clean_question,
    generate_questions,
    is_trivial_copy,
    key_sentence,
    library_passages,
    longest_shared_run,
    question_messages,
    questions_jsonl,
    sample_passages,
    self_evaluate,
    template_question,
)
from desktop_rag.core.store.library import Store
from desktop_rag.errors import ModelLoadError

NUMBERS_PAGE = " ".join(f"{n:,} {n * 3:,} {n * 7:,}" for n in range(1000, 1040))


class FakeChatModel:
    """Writes a question from the passage's first content words, or whatever ``reply`` returns."""

    name, context_size = "fake-chat", 4096

    def __init__(self, reply: Callable[[str], str] | None = None, fail: bool = False) -> None:
        self.reply = reply or self.default_reply
        self.fail = fail
        self.calls: list[tuple[Sequence[Message], float]] = []

    @staticmethod
    def default_reply(prompt: str) -> str:
        statement = prompt.split(": ", 1)[1]
        words = re.findall(r"[a-z]{5,}", statement.lower())[:3]
        return f"1. Question: According to the passage, what is said of {', '.join(words)} here?\nExtra text."

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream_chat(self, messages: Sequence[Message], *, max_tokens: int, temperature: float,
                    should_stop: Callable[[], bool] = never) -> Iterator[str]:
        if self.fail:
            raise ModelLoadError("no model here")
        self.calls.append((messages, temperature))
        yield from (w + " " for w in self.reply(messages[-1]["content"]).split(" "))


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("selflib")
    paths = [write_pdf(root / name, pages) for name, pages in TOPICS.items()]
    paths.append(write_pdf(root / "Tables.pdf", [NUMBERS_PAGE]))
    with Store(root / "data") as store, PdfExtractor(timeout_s=60, memory_mb=256) as extractor:
        drive(Ingestion(store, HashEmbedder(), extractor, ChunkOptions(40, 8)).run(paths))
        yield store


def target(store: Store) -> EvalTarget:
    return EvalTarget("current", Retriever(store, HashEmbedder()))


# ------------------------------------------------------------------ the filter


def test_longest_shared_run() -> None:
    assert longest_shared_run("a b c d".split(), "x b c d y".split()) == 3
    assert longest_shared_run([], ["a"]) == 0


def test_a_copied_sentence_is_a_trivial_copy_and_a_paraphrase_is_not() -> None:
    passage = "Bakers knead sourdough with wild yeast and rye flour before proofing it overnight."
    assert is_trivial_copy("Bakers knead sourdough with wild yeast and rye flour?", passage)
    assert is_trivial_copy("Do bakers knead sourdough with wild yeast and rye flour before proofing it?", passage)
    assert not is_trivial_copy("How long is sourdough left to rise?", passage)
    assert not is_trivial_copy("Which grain goes into the sourdough the bakers make?", passage)


def test_model_replies_are_cleaned_to_one_self_contained_question() -> None:
    assert clean_question('1. Question: "According to the passage, what do bakers knead?" More.') == "What do bakers knead?"
    assert clean_question("Here you go:\nQ: Why does lava rise? Because.") == "Why does lava rise?"
    assert clean_question("Based on the text, how old are fjords?") == "How old are fjords?"
    assert clean_question("No question at all") == "No question at all"


@pytest.mark.parametrize("question, reason", [
    ("Tell me about lava", "not a question"),
    ("Why?", "too short or too long"),
    ("What does the passage say about lava?", "needs the passage"),
    ("Volcanoes erupt molten basalt lava from magma chambers?", "trivial copy"),
    ("Where is the molten rock stored before an eruption?", ""),
])
def test_check_question(question: str, reason: str) -> None:
    passage = "Volcanoes erupt molten basalt lava from magma chambers deep beneath. Molten rock is stored there."
    assert check_question(question, passage) == reason


# ------------------------------------------------------------------ sampling


def test_sampling_is_seeded_round_robin_and_skips_numbers(library: Store) -> None:
    passages = library_passages(library)
    first = [p.chunk_id for p in sample_passages(passages, seed=0)]
    assert first == [p.chunk_id for p in sample_passages(passages, seed=0)]
    assert first != [p.chunk_id for p in sample_passages(passages, seed=1)] or len(first) < 3
    files = [p.file for p in sample_passages(passages, seed=0)]
    assert len(set(files[:3])) == 3  # one from each document before any document repeats
    assert "Tables.pdf" not in files  # nothing to ask about a page of numbers


def test_template_question_asks_about_rare_words_and_names_the_document() -> None:
    passage = SampledPassage(1, "/x/Harbour Log.pdf", "Harbour Log.pdf", 2, 2,
                             "the end of a line. Lighthouse keepers polish the great lens and trim the lamp wicks at dusk.")
    rarity = Rarity({})
    rarity.df, rarity.total = Counter({"lighthouse": 1, "keepers": 1, "polish": 1, "great": 9, "lens": 1, "trim": 5,
                                       "lamp": 2, "wicks": 1, "dusk": 3}), 10
    assert key_sentence(passage, rarity).startswith("Lighthouse keepers")
    question = template_question(passage, rarity)
    assert question == "What does Harbour Log say about lighthouse keepers polish lens?"
    assert not check_question(question, passage.text, "Harbour Log")


def test_the_model_rewrites_the_key_sentence_after_one_example() -> None:
    passage = SampledPassage(1, "/x/Harbour Log.pdf", "Harbour Log.pdf", 2, 2,
                             "Trawlers unload cod and herring at the pier every dawn before the market opens.")
    messages = question_messages(passage, key_sentence(passage, Rarity({"/x": [passage]})))
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[-1]["content"] == 'From "Harbour Log": ' + passage.text


def test_questions_not_about_the_passage_are_rejected() -> None:
    passage = "Trawlers unload cod and herring at the harbour pier every dawn."
    assert check_question("What's the difference between the two sentences?", passage) == "not about the passage"
    assert check_question("What's the latest news from Harbour Log?", passage, "Harbour Log") == "not about the passage"
    assert check_question("Which fish do trawlers land at dawn?", passage) == ""


# ------------------------------------------------------------------ generating


def test_llm_questions_are_generated_at_temperature_zero_with_page_gold(library: Store) -> None:
    chat = FakeChatModel()
    events, generated = drive(generate_questions(library, 4, chat, seed=3))
    assert len(generated.questions) == 4 and generated.by_method == {"llm": 4}
    assert {t for _, t in chat.calls} == {0.0}
    assert events[-1].done == 4 and {e.total for e in events} == {4}
    passages = {p.chunk_id: p for items in library_passages(library).values() for p in items}
    for q in generated.questions:
        assert q.text.startswith("What is said of") and q.text.endswith("?")
        (path,) = q.gold_docs
        assert {p for _, p in q.gold_pages} and all(doc == path for doc, _ in q.gold_pages)
    sampled = [p for _, p in zip(range(4), sample_passages(library_passages(library), 3))]
    assert [q.gold_pages for q in generated.questions] == [
        frozenset((p.path, n) for n in range(p.page, p.page_end + 1)) for p in sampled]
    assert passages  # the fixture library has passages


def test_copying_replies_are_filtered_and_the_template_stands_in(library: Store) -> None:
    copier = FakeChatModel(lambda prompt: prompt.split(": ", 1)[1].rstrip(".") + "?")
    _, auto = drive(generate_questions(library, 3, copier, method="auto"))
    assert auto.by_method == {"template": 3} and auto.rejected["llm: trivial copy"] == 3
    _, strict = drive(generate_questions(library, 3, copier, method="llm"))
    assert strict.questions == [] and strict.rejected["llm: trivial copy"] == strict.attempted > 0


def test_without_a_working_model_the_template_writes_every_question(library: Store) -> None:
    _, generated = drive(generate_questions(library, 3, FakeChatModel(fail=True)))
    assert generated.by_method == {"template": 3} and "chat model unavailable" in generated.note
    with pytest.raises(ModelLoadError):
        drive(generate_questions(library, 3, FakeChatModel(fail=True), method="llm"))
    _, none = drive(generate_questions(library, 2, None))
    assert none.by_method == {"template": 2}


def test_self_evaluation_scores_pages_and_documents_reproducibly(library: Store) -> None:
    _, result = drive(self_evaluate(library, [target(library)], 5, FakeChatModel(), seed=0))
    assert result.kind == "generated" and result.level_counts == {"document": 5, "page": 5}
    assert result.generation["kept"] == 5 and result.generation["method"] == "auto"
    assert 0.0 <= result.metric("current", "hybrid", "page", "hit@5") <= 1.0
    assert result.metric("current", "keyword", "document", "mrr@10") is not None
    assert result.timings["generation"] >= 0 and result.timings["evaluation"] >= 0
    _, again = drive(self_evaluate(library, [target(library)], 5, FakeChatModel(), seed=0))
    assert again.metrics == result.metrics and again.per_question == result.per_question


def test_generated_questions_round_trip_through_the_jsonl_format(library: Store, tmp_path: Path) -> None:
    _, generated = drive(generate_questions(library, 3, FakeChatModel()))
    path = tmp_path / "generated.jsonl"
    path.write_text(questions_jsonl(generated.questions), encoding="utf-8")
    resolved, _ = resolve_questions(load_questions(path), library.documents(), str(path))
    assert [(q.text, q.gold_pages, q.gold_docs) for q in resolved] == [
        (q.text, q.gold_pages, q.gold_docs) for q in generated.questions]
    assert json.loads(path.read_text(encoding="utf-8").splitlines()[0])["type"] == "llm"


# ------------------------------------------------------------------ the GUI entry point and the CLI


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from desktop_rag.config import Settings
    from desktop_rag.services import Services

    monkeypatch.setattr(Services, "embedder", property(lambda self: HashEmbedder()))
    monkeypatch.setattr(Services, "chat_model", lambda self: FakeChatModel())
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, pages in TOPICS.items():
        write_pdf(docs / name, pages)
    with Services(Settings(data_dir=str(tmp_path / "data"), chunk_tokens=40, chunk_overlap=8)) as s:
        drive(s.ingestion().run([docs]))
        yield s


def test_run_self_evaluation_is_a_cancellable_generator_for_the_gui(services: object, tmp_path: Path) -> None:
    from desktop_rag.errors import Cancelled
    from desktop_rag.eval_service import format_table, render_chart, run_self_evaluation

    events, result = drive(run_self_evaluation(services, 3, variants=[{"chunk_tokens": 60}]))
    assert {e.stage for e in events} >= {"indexing", "generating", "retrieving"}
    assert list(result.metrics) == ["chunk_tokens=40 (current)", "chunk_tokens=60"]
    assert "Page level (3 questions)" in format_table(result)
    assert render_chart(result, tmp_path / "c.png").exists()
    calls = {"n": 0}

    def cancel_after_some() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    with pytest.raises(Cancelled):
        drive(run_self_evaluation(services, 3, cancel_after_some))


def test_cli_generate_writes_results_and_reusable_questions(services: object, tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from desktop_rag.cli import main

    data = str(services.settings.data_path)  # type: ignore[attr-defined]
    services.close()  # type: ignore[attr-defined]
    out = tmp_path / "out"
    assert main(["--data-dir", data, "eval", "--generate", "3", "--generator", "template", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Generated 3 questions" in printed and "Page level (3 questions)" in printed
    assert json.loads((out / "results.json").read_text(encoding="utf-8"))["generation"]["by_method"] == {"template": 3}
    assert len(load_questions(out / "questions.jsonl")) == 3
    assert main(["--data-dir", data, "eval", "--generate", "0"]) == 1


@pytest.mark.integration
def test_the_bundled_models_write_and_answer_generated_questions(tmp_path: Path) -> None:
    from desktop_rag.config import Settings
    from desktop_rag.eval_service import run_self_evaluation
    from desktop_rag.services import Services

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, pages in TOPICS.items():
        write_pdf(docs / name, pages)
    with Services(Settings(data_dir=str(tmp_path / "data"))) as services:
        drive(services.ingestion().run([docs]))
        _, result = drive(run_self_evaluation(services, 3))
        _, again = drive(run_self_evaluation(services, 3))
    assert result.generation["kept"] == 3
    assert again.metrics == result.metrics  # temperature 0: the same questions and numbers


def test_echoes_of_the_worked_example_are_rejected() -> None:
    passage = "Observable inputs value the assets and liabilities at fair value."
    assert check_question("What's observable about Harbor Bakery's assets or liabilities?", passage) == "echoes the example"
    assert check_question("What is observable about the assets and liabilities at Harbor Bakery?",
                          passage + " Harbor Bakery owns them.") == ""


def test_generated_results_break_the_metrics_down_by_question_writer(library: Store) -> None:
    half = {"n": 0}

    def every_other(prompt: str) -> str:
        half["n"] += 1
        return FakeChatModel.default_reply(prompt) if half["n"] % 2 else "Nothing useful."

    _, result = drive(self_evaluate(library, [target(library)], 4, FakeChatModel(every_other)))
    by_method = result.generation["metrics_by_method"]
    assert {k: v["count"] for k, v in by_method.items()} == dict(result.generation["by_method"])
    assert set(by_method["llm"]["metrics"]["current"]["hybrid"]) == {"document", "page"}
    assert "llm questions, current, page hit@5/mrr@10: dense" in format_table(result)
