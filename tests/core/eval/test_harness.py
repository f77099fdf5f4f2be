"""The evaluation harness: metrics against reference values, question files, runs, results.json, the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Iterator, Sequence

import pytest
from fakes import HashEmbedder
from pdfs import write_pdf

from desktop_rag.config import DEFAULT_MAX_TOKENS, DEFAULT_RETRIEVAL_MODE
from desktop_rag.core.eval import metrics as m
from desktop_rag.core.answer.answerer import Answerer
from desktop_rag.core.eval.questions import EvalQuestion, load_questions, resolve_questions
from desktop_rag.core.eval.report import format_table, render_chart, write_results
from desktop_rag.core.eval.harness import EvalResult, EvalTarget, run_evaluation
from desktop_rag.core.ingest.extract import PdfExtractor
from desktop_rag.core.models.chat import never
from desktop_rag.core.ingest.pipeline import ChunkOptions, Ingestion
from desktop_rag.core.search.retriever import Retriever
from desktop_rag.core.store.library import Store
from desktop_rag.core.types import Events
from desktop_rag.errors import FileAccessError, InputFileError, SettingsError

TOPICS = {
    "Volcano Report.pdf": [
        "Volcanoes erupt molten basalt lava from magma chambers deep beneath the crust. " * 4,
        "Glaciers carve steep fjords in cold northern valleys over thousands of years. " * 4,
    ],
    "Bakery Notes.pdf": [
        "Bakers knead sourdough with wild yeast and rye flour before proofing it overnight. " * 4,
        "Espresso machines force hot water through finely ground roasted coffee beans. " * 4,
    ],
    "Harbour Log.pdf": [
        "Fishing trawlers unload cod and herring at the harbour pier every dawn. " * 4,
        "Lighthouse keepers polish the great lens and trim the lamp wicks at dusk. " * 4,
    ],
}


def drive(gen):  # noqa: ANN001, ANN201 - any progress generator; returns (events, result)
    events = Events(gen)
    return list(events), events.result


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    root = tmp_path_factory.mktemp("evallib")
    paths = [write_pdf(root / name, pages) for name, pages in TOPICS.items()]
    with Store(root / "data") as store, PdfExtractor(timeout_s=60, memory_mb=256) as extractor:
        drive(Ingestion(store, HashEmbedder(), extractor, ChunkOptions(40, 8)).run(paths))
        yield store


def write_lines(path: Path, lines: Sequence[object]) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------ ranking metrics: reference values


def test_dcg_and_ndcg_match_the_published_wikipedia_example() -> None:
    # en.wikipedia.org/wiki/Discounted_cumulative_gain: relevances 3,2,3,0,1,2 give DCG6 = 6.861;
    # with two more judged documents (3 and 2) the ideal order gives IDCG6 = 8.740 and nDCG6 = 0.785.
    assert m.dcg([3, 2, 3, 0, 1, 2], 6) == pytest.approx(6.861, abs=5e-4)
    assert m.dcg([3, 3, 3, 2, 2, 2], 6) == pytest.approx(8.740, abs=5e-4)
    assert m.ndcg([3, 2, 3, 0, 1, 2], [3, 2, 3, 0, 1, 2, 3, 2], 6) == pytest.approx(0.785, abs=5e-4)


def test_mrr_matches_the_published_example() -> None:
    # en.wikipedia.org/wiki/Mean_reciprocal_rank: first correct answers at ranks 3, 2, 1 -> 11/18.
    a, b = frozenset({"a"}), frozenset({"b"})
    runs = [[b, b, a], [b, a, b], [a, b, b]]
    assert m.mean_metrics({"mrr": m.reciprocal_rank(r, frozenset({"a"}))} for r in runs)["mrr"] == pytest.approx(11 / 18)


def test_ranking_metrics_on_a_hand_computed_case() -> None:
    # Gold pages P1, P2. Passages: miss, P1, P1 again (no new unit), P1+P2 span (covers P2), miss.
    x, p1, p12 = frozenset({"X"}), frozenset({"P1"}), frozenset({"P1", "P2"})
    ranked, gold = [x, p1, p1, p12, x], frozenset({"P1", "P2"})
    got = m.retrieval_metrics(ranked, gold, ks=(1, 5, 10))
    assert got["hit@1"] == 0 and got["hit@5"] == 1 and got["hit@10"] == 1
    assert got["precision@1"] == 0 and got["precision@5"] == pytest.approx(3 / 5) and got["precision@10"] == pytest.approx(3 / 10)
    assert got["recall@1"] == 0 and got["recall@5"] == 1 and got["recall@10"] == 1
    assert got["mrr@10"] == pytest.approx(1 / 2)
    # gains 0,1,0,1,0 -> DCG = 1/log2(3) + 1/log2(5); IDCG (two gold units) = 1 + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert got["ndcg@10"] == pytest.approx(expected)
    assert list(got) == m.metric_names((1, 5, 10))


def test_ranking_metrics_when_nothing_relevant_or_nothing_retrieved() -> None:
    gold = frozenset({"A"})
    for ranked in ([], [frozenset({"B"})] * 10):
        assert set(m.retrieval_metrics(ranked, gold).values()) == {0.0}
    assert m.ndcg_at([frozenset({"A"})], gold) == 1.0
    assert m.ndcg_at([frozenset({"B"}), frozenset({"A"})], gold) == pytest.approx(1 / math.log2(3))


# ------------------------------------------------------------------ answer metrics: reference values


def test_token_f1_follows_the_squad_definition() -> None:
    assert m.normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert m.token_f1("the Denver Broncos", "Denver Broncos") == 1.0
    assert m.token_f1("Denver Broncos won", "Denver Broncos") == pytest.approx(0.8)  # P 2/3, R 1
    assert m.token_f1("Carolina Panthers", "Denver Broncos") == 0.0
    assert m.token_f1("", "") == 1.0 and m.token_f1("", "x") == 0.0


def test_rouge_l_uses_the_longest_common_subsequence() -> None:
    # LCS of "the cat sat on the mat" / "the cat is on the mat" = "the cat on the mat": P = R = 5/6.
    assert m.rouge_l("the cat sat on the mat", "the cat is on the mat") == pytest.approx(5 / 6)
    assert m.rouge_l("testing", "testing one two") == pytest.approx(0.5)  # P 1, R 1/3


def test_bleu_1_matches_papineni_et_al_modified_unigram_precision() -> None:
    # Papineni et al. (2002), section 2.1: "the the the the the the the" against two references has
    # modified unigram precision 2/7; it is longer than the closest reference, so no brevity penalty.
    refs = [["The cat is on the mat", "There is a cat on the mat"]]
    assert m.corpus_bleu(["the the the the the the the"], refs, max_order=1) == pytest.approx(2 / 7)
    assert m.corpus_bleu(["the cat is on the mat"], [["the cat is on the mat"]], max_order=4) == pytest.approx(1.0)
    assert m.sentence_bleu("the cat", "the cat is on the mat", 1) == pytest.approx(math.exp(1 - 6 / 2))  # BP only
    assert "case:lc" in m.bleu_signature(1)


def test_citation_hits_counts_cited_passages_on_gold() -> None:
    gold = frozenset({"A"})
    assert m.citation_hits([frozenset({"A"}), frozenset({"B"}), frozenset({"A", "B"})], gold) == (2, 3)
    assert m.citation_hits([], gold) == (0, 0)


# ------------------------------------------------------------------ question files


def test_jsonl_questions_load_with_their_line_numbers(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "q.jsonl", [
        {"question": "Where does lava come from?", "answer": "magma", "docs": ["Volcano Report.pdf"]},
        "",
        {"question": "Who kneads dough?", "pages": [{"file": "Bakery Notes.pdf", "page": 1}], "type": "single"},
    ])
    first, second = load_questions(path)
    assert (first.line, first.question, first.answer, first.docs, first.pages) == (
        1, "Where does lava come from?", "magma", ("Volcano Report.pdf",), ())
    assert (second.line, second.pages, second.kind) == (3, (("Bakery Notes.pdf", 1),), "single")


@pytest.mark.parametrize("line, message", [
    ('{"question": "x", "docs": ["a.pdf"]', "line 2: not valid JSON"),
    ('["not", "an", "object"]', "line 2: expected a JSON object, got list"),
    ('{"docs": ["a.pdf"]}', "line 2: the field 'question' is missing"),
    ('{"question": "   ", "docs": ["a.pdf"]}', "line 2: 'question' is empty"),
    ('{"question": 3, "docs": ["a.pdf"]}', "line 2: 'question' must be a string"),
    ('{"question": "x"}', "line 2: no gold evidence"),
    ('{"question": "x", "docs": [1]}', "line 2: 'docs' must be a list of file names"),
    ('{"question": "x", "pages": [{"file": "a.pdf", "page": 0}]}', "line 2: pages item 1: 'page' must be a whole number"),
    ('{"question": "x", "pages": [{"page": 2}]}', "line 2: pages item 1 must be an object with a 'file'"),
    ('{"question": "x", "pages": {"file": "a.pdf"}}', "line 2: 'pages' must be a list"),
    ('{"question": "x", "answer": ["y"], "docs": ["a.pdf"]}', "line 2: 'answer' must be a string"),
])
def test_a_malformed_jsonl_line_is_named(tmp_path: Path, line: str, message: str) -> None:
    path = write_lines(tmp_path / "q.jsonl", [{"question": "fine", "docs": ["a.pdf"]}, line])
    with pytest.raises(InputFileError, match="1 problem") as err:
        load_questions(path)
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_every_bad_line_is_listed_at_once(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "q.jsonl", ["{oops", {"question": "ok", "docs": ["a.pdf"]}, {"question": "no gold"}])
    with pytest.raises(InputFileError, match="2 problems") as err:
        load_questions(path)
    assert "line 1: not valid JSON" in str(err.value) and "line 3: no gold evidence" in str(err.value)


def test_missing_empty_and_folder_question_files(tmp_path: Path) -> None:
    with pytest.raises(FileAccessError, match="not found"):
        load_questions(tmp_path / "nope.jsonl")
    with pytest.raises(FileAccessError, match="is a folder"):
        load_questions(tmp_path)
    (tmp_path / "empty.jsonl").write_text("\n\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no questions"):
        load_questions(tmp_path / "empty.jsonl")


CSV_HEADER = "\ufeffQuestion,Source Docs,Question Type,Source Chunk Type,Answer\n"


def test_csv_questions_in_the_sec_format_keep_their_start_lines(tmp_path: Path) -> None:
    path = tmp_path / "qna.csv"
    path.write_text(CSV_HEADER + 'How did sales change?,*AAPL*,Multi-Doc RAG,Table,"Up.\n\nSOURCE(S): a"\n'
                    "What is the cash?,*2023 Q3 AAPL*,Single-Doc Single-Chunk RAG,Text,Plenty\n", encoding="utf-8")
    first, second = load_questions(path)
    assert (first.line, first.docs, first.answer, first.kind) == (2, ("*AAPL*",), "Up.\n\nSOURCE(S): a", "Multi-Doc RAG")
    assert (second.line, second.docs, second.answer) == (5, ("*2023 Q3 AAPL*",), "Plenty")


def test_csv_problems_are_named_by_line(tmp_path: Path) -> None:
    path = tmp_path / "qna.csv"
    path.write_text(CSV_HEADER + ",*AAPL*,t,t,a\nWhat?,,t,t,a\n", encoding="utf-8")
    with pytest.raises(InputFileError) as err:
        load_questions(path)
    assert "line 2: the Question is empty" in str(err.value)
    assert "line 3: 'Source Docs' is empty" in str(err.value)
    path.write_text("Query,Docs\nx,y\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="line 1: the CSV header has no column 'Question', 'Source Docs'"):
        load_questions(path)


def test_the_sec_corpus_question_file_loads(corpus: Path) -> None:
    questions = load_questions(corpus / "qna_data.csv")
    assert len(questions) == 195
    assert all(q.docs and q.answer for q in questions)


# ------------------------------------------------------------------ resolving against the library


def test_gold_names_resolve_by_name_glob_stem_and_page(library: Store) -> None:
    questions = [
        EvalQuestion(1, "a?", docs=("volcano report.PDF",)),
        EvalQuestion(2, "b?", docs=("*Notes*", "Harbour Log")),
        EvalQuestion(3, "c?", pages=(("Harbour Log.pdf", 2),)),
    ]
    resolved, skipped = resolve_questions(questions, library.documents(), "q")
    assert not skipped
    by_name = {d.name: d.path for d in library.documents()}
    assert resolved[0].gold_docs == {by_name["Volcano Report.pdf"]}
    assert resolved[1].gold_docs == {by_name["Bakery Notes.pdf"], by_name["Harbour Log.pdf"]}
    assert resolved[2].gold_pages == {(by_name["Harbour Log.pdf"], 2)}
    assert resolved[2].gold_docs == {by_name["Harbour Log.pdf"]}


def test_unknown_files_and_pages_are_errors_naming_the_line(library: Store) -> None:
    questions = [
        EvalQuestion(4, "a?", docs=("Volcano Report.pdf",)),
        EvalQuestion(7, "b?", docs=("Missing.pdf",)),
        EvalQuestion(9, "c?", pages=(("Harbour Log.pdf", 5),)),
        EvalQuestion(12, "d?", docs=("*NVDA*",)),
    ]
    with pytest.raises(InputFileError) as err:
        resolve_questions(questions, library.documents(), "q.jsonl")
    text = str(err.value)
    assert "3 problems" in text
    assert "line 7: no document in the library matches 'Missing.pdf'" in text
    assert "line 9: Harbour Log.pdf has 2 pages; page 5 does not exist" in text
    assert "line 12: no document in the library matches '*NVDA*'" in text
    assert "--skip-missing" in text
    resolved, skipped = resolve_questions(questions, library.documents(), "q.jsonl", skip_missing=True)
    assert [q.line for q in resolved] == [4]
    assert [(s.line, s.question) for s in skipped] == [(7, "b?"), (9, "c?"), (12, "d?")]


# ------------------------------------------------------------------ runs and results.json


class FakeChatModel:
    """Answers every question with a fixed sentence citing source [1]."""

    name, context_size = "fake-chat", 4096

    def __init__(self, reply: str = "Volcanoes erupt basalt lava from magma chambers [1].") -> None:
        self.reply, self.temperatures = reply, []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def stream_chat(self, messages, *, max_tokens: int, temperature: float,  # noqa: ANN001
                    should_stop: Callable[[], bool] = never) -> Iterator[str]:
        self.temperatures.append(temperature)
        yield from (w + " " for w in self.reply.split())


def labelled(library: Store, tmp_path: Path) -> list:
    path = write_lines(tmp_path / "q.jsonl", [
        {"question": "Where does basalt lava come from?", "answer": "From magma chambers beneath the crust.",
         "pages": [{"file": "Volcano Report.pdf", "page": 1}]},
        {"question": "How is sourdough proofed?", "answer": "Overnight, with wild yeast.", "docs": ["Bakery Notes.pdf"]},
        {"question": "When do keepers trim the lamp wicks?", "docs": ["Harbour Log.pdf"]},
    ])
    return resolve_questions(load_questions(path), library.documents(), str(path))[0]


def evaluate(library: Store, questions: list, **kwargs: object) -> EvalResult:
    target = EvalTarget("chunk_tokens=40 (current)", Retriever(library, HashEmbedder()), {"chunk_tokens": 40})
    return drive(run_evaluation(questions, [target], **kwargs))[1]


def test_a_run_scores_every_mode_and_level_and_reports_progress(library: Store, tmp_path: Path) -> None:
    questions = labelled(library, tmp_path)
    events, result = drive(run_evaluation(questions, [EvalTarget("v", Retriever(library, HashEmbedder()))]))
    assert [e.done for e in events] == list(range(1, 10)) and {e.total for e in events} == {9}
    assert result.level_counts == {"document": 3, "page": 1}
    for mode in ("dense", "keyword", "hybrid"):
        assert list(result.metrics["v"][mode]) == ["document", "page"]
        assert list(result.metrics["v"][mode]["document"]) == m.metric_names()
        assert result.metric("v", mode, "document", "hit@10") == 1.0  # three distinct topics
    record = result.per_question[1]
    assert set(record["retrieval"]["v"]["hybrid"]) == {"hits", "document"}  # no gold pages, no page level


def test_results_json_holds_every_number_and_the_chart_is_a_png(library: Store, tmp_path: Path) -> None:
    result = evaluate(library, labelled(library, tmp_path), answerer=None)
    results, chart = write_results(result, tmp_path / "out")
    data = json.loads(results.read_text(encoding="utf-8"))
    variant = "chunk_tokens=40 (current)"
    assert data["metrics"][variant]["hybrid"]["document"]["hit@5"] == result.metric(variant, "hybrid", "document", "hit@5")
    assert {"mrr@10", "ndcg@10", "precision@1", "recall@10"} <= set(data["metrics"][variant]["dense"]["page"])
    assert data["variants"][variant] == {"chunk_tokens": 40}
    assert data["question_count"] == 3 and data["levels"] == {"document": 3, "page": 1} and data["skipped"] == []
    question = data["questions"][0]
    assert question["gold"] == {"docs": ["Volcano Report.pdf"], "pages": [{"file": "Volcano Report.pdf", "page": 1}]}
    assert question["retrieval"][variant]["keyword"]["hits"][0]["file"] == "Volcano Report.pdf"
    assert set(question["retrieval"][variant]["keyword"]["page"]) == set(m.metric_names())
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = format_table(data)
    assert "Document level (3 questions)" in table and "Page level (1 question)" in table and "ndcg@10" in table


def test_same_inputs_give_the_same_numbers(library: Store, tmp_path: Path) -> None:
    first = evaluate(library, labelled(library, tmp_path)).to_json()
    second = evaluate(library, labelled(library, tmp_path)).to_json()
    first.pop("timings"), second.pop("timings")
    assert first == second


def test_answer_metrics_use_temperature_zero_and_score_citations(library: Store, tmp_path: Path) -> None:
    chat = FakeChatModel()
    answerer = Answerer(library, Retriever(library, HashEmbedder()), HashEmbedder(), chat, k=3, temperature=0.0,
                        mode=DEFAULT_RETRIEVAL_MODE, max_tokens=DEFAULT_MAX_TOKENS, min_relevance=0.0)
    result = evaluate(library, labelled(library, tmp_path), answerer=answerer, answer_limit=5)
    answers = result.answers
    assert answers is not None and answers["count"] == 2 and answers["errors"] == 0  # only two have gold answers
    assert set(chat.temperatures) == {0.0}
    assert set(answers["metrics"]) >= {"token_f1", "rouge_l", "bleu-1", "bleu-4", "citation_precision@document"}
    assert all(0.0 <= v <= 1.0 for v in answers["metrics"].values())
    first = result.per_question[0]["answer_result"]
    assert first["token_f1"] == pytest.approx(m.token_f1(first["text"], "From magma chambers beneath the crust."))
    assert first["citations"] and first["cited_on_gold@document"] == 1  # [1] is the volcano passage
    assert "answer_result" not in result.per_question[2]
    assert "Answers (2 answered" in format_table(result)


def test_render_chart_accepts_a_saved_results_dict(library: Store, tmp_path: Path) -> None:
    data = evaluate(library, labelled(library, tmp_path)).to_json()
    out = render_chart(json.loads(json.dumps(data)), tmp_path / "sub" / "chart.png")
    assert out.stat().st_size > 1000


def test_unknown_modes_are_refused(library: Store, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="retrieval modes"):
        evaluate(library, labelled(library, tmp_path), modes=("semantic",))


# ------------------------------------------------------------------ the CLI, with the fake embedder


@pytest.fixture
def fake_models(monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_rag.services import Services

    monkeypatch.setattr(Services, "embedder", property(lambda self: HashEmbedder()))
    monkeypatch.setattr(Services, "chat_model", lambda self: FakeChatModel())


@pytest.fixture
def cli_library(tmp_path: Path, fake_models: None) -> Path:
    from desktop_rag.cli import main

    docs = tmp_path / "docs"
    docs.mkdir()
    for name, pages in TOPICS.items():
        write_pdf(docs / name, pages)
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "ingest", str(docs)]) == 0
    return data


def test_cli_eval_prints_the_table_and_writes_results(cli_library: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from desktop_rag.cli import main

    questions = write_lines(tmp_path / "q.jsonl", [
        {"question": "Where does basalt lava come from?", "answer": "magma", "docs": ["Volcano Report.pdf"]},
        {"question": "What do trawlers unload?", "docs": ["Missing.pdf"]},
    ])
    capsys.readouterr()
    assert main(["--data-dir", str(cli_library), "eval", "--questions", str(questions)]) == 1
    assert "line 2: no document in the library matches 'Missing.pdf'" in capsys.readouterr().err
    out = tmp_path / "out"
    code = main(["--data-dir", str(cli_library), "eval", "--questions", str(questions), "--skip-missing",
                 "--modes", "dense,hybrid", "--answers", "1", "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    assert "Document level (1 question)" in captured.out and "hybrid" in captured.out
    assert "line 2: no document in the library matches 'Missing.pdf'" in captured.out  # reported, not dropped
    data = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert list(data["metrics"]["chunk_tokens=200 (current)"]) == ["dense", "hybrid"]
    assert data["skipped"][0]["line"] == 2 and data["answers"]["count"] == 1
    assert (out / "chart.png").exists()


def test_cli_eval_names_the_bad_line(cli_library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from desktop_rag.cli import main

    questions = write_lines(tmp_path / "q.jsonl", [{"question": "ok?", "docs": ["Volcano Report.pdf"]}, "{bad json"])
    assert main(["--data-dir", str(cli_library), "eval", "--questions", str(questions)]) == 1
    assert "line 2: not valid JSON" in capsys.readouterr().err
    assert main(["--data-dir", str(cli_library), "eval", "--questions", str(tmp_path / "none.jsonl")]) == 1
    assert "not found" in capsys.readouterr().err


def test_cli_variants_get_their_own_store_reused_on_later_runs(cli_library: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from desktop_rag.cli import main
    from desktop_rag.core.store.library import Store as RealStore

    questions = write_lines(tmp_path / "q.jsonl", [{"question": "Who polishes the lens?", "docs": ["Harbour Log.pdf"]}])
    args = ["--data-dir", str(cli_library), "eval", "--questions", str(questions), "--out", str(tmp_path / "o"),
            "--variants", "chunk_tokens=70,chunk_tokens=200", "--variants", "chunk_tokens=60+chunk_overlap=4"]
    assert main(args) == 0
    stores = cli_library / "eval-stores"
    assert sorted(p.name for p in stores.iterdir()) == ["chunk_overlap=4+chunk_tokens=60", "chunk_tokens=70"]
    with RealStore(stores / "chunk_tokens=70") as variant:
        first_ids = [r[0] for r in variant._db.execute("SELECT id FROM chunks ORDER BY id")]
        assert variant.stats()["documents"] == 3
    assert main(args) == 0  # the second run re-indexes nothing: same chunk ids
    with RealStore(stores / "chunk_tokens=70") as variant:
        assert [r[0] for r in variant._db.execute("SELECT id FROM chunks ORDER BY id")] == first_ids
    data = json.loads((tmp_path / "o" / "results.json").read_text(encoding="utf-8"))
    assert list(data["metrics"]) == ["chunk_overlap=32+chunk_tokens=200 (current)", "chunk_tokens=70",
                                     "chunk_overlap=4+chunk_tokens=60"]
    assert "chunk_tokens=70" in capsys.readouterr().out


def test_variant_specs_are_parsed_and_checked() -> None:
    from desktop_rag.eval_service import parse_variants, variant_name

    assert parse_variants(["chunk_tokens=128,chunk_tokens=254", "chunk_tokens=128"]) == [
        {"chunk_tokens": 128}, {"chunk_tokens": 254}]
    assert variant_name(parse_variants(["chunk_tokens=300+chunk_overlap=48"])[0]) == "chunk_overlap=48+chunk_tokens=300"
    with pytest.raises(SettingsError, match="SETTING=VALUE"):
        parse_variants(["top_k=3"])
    with pytest.raises(SettingsError, match="chunk_tokens must be a int"):
        parse_variants(["chunk_tokens=big"])


def test_an_impossible_variant_is_named(cli_library: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from desktop_rag.cli import main

    questions = write_lines(tmp_path / "q.jsonl", [{"question": "Who polishes the lens?", "docs": ["Harbour Log.pdf"]}])
    assert main(["--data-dir", str(cli_library), "eval", "--questions", str(questions),
                 "--variants", "chunk_tokens=30"]) == 1
    assert "variant chunk_tokens=30: chunk_overlap must be between 0 and half of chunk_tokens" in capsys.readouterr().err


def test_questions_are_embedded_in_one_batch_with_the_same_rankings(library: Store, tmp_path: Path) -> None:
    class CountingEmbedder(HashEmbedder):
        def __init__(self) -> None:
            super().__init__()
            self.calls: list[int] = []

        def embed(self, texts):  # noqa: ANN001, ANN202
            self.calls.append(len(texts))
            return super().embed(texts)

    questions = labelled(library, tmp_path)
    inner = CountingEmbedder()
    batched = Retriever(library, inner)
    _, with_batch = drive(run_evaluation(questions, [EvalTarget("v", batched)]))
    # one batch, which every search of every mode reused; a hybrid search that names a document
    # also embeds the question without the naming words (one text, at most once per question)
    assert inner.calls[0] == 3 and inner.calls[1:] == [1] * len(inner.calls[1:])
    assert len(inner.calls) - 1 <= len(questions)
    one_by_one = Retriever(library, HashEmbedder())  # each question embedded by the search itself
    for question, record in zip(questions, with_batch.per_question):
        for mode in ("dense", "keyword", "hybrid"):
            hits = one_by_one.search(question.text, k=m.RANK_CUTOFF, mode=mode)
            expected = [{"file": h.file, "page": h.page, "page_end": h.page_end} for h in hits]
            assert record["retrieval"]["v"][mode]["hits"] == expected
    _, plain = drive(run_evaluation(questions, [EvalTarget("v", Retriever(library, HashEmbedder()))]))
    assert with_batch.metrics == plain.metrics and with_batch.per_question == plain.per_question
    assert batched.embed_queries(["not primed"]).shape == (1, inner.dimension)


def test_answer_summary_says_how_many_wrong_and_right_figure_answers_the_app_flags() -> None:
    from desktop_rag.core.eval.answers import summarize_answers

    base = {"token_f1": 0.5, "rouge_l": 0.5, "text": "x", "citations": []}
    rows = [{**base, "answer_accuracy": 0.0, "flagged": True}, {**base, "answer_accuracy": 0.0, "flagged": True},
            {**base, "answer_accuracy": 0.0, "flagged": False}, {**base, "answer_accuracy": 1.0, "flagged": False},
            {**base, "flagged": True}]  # no gold figure: counted in neither
    records = [{"answer_result": r} for r in rows]
    questions = [SimpleNamespace(source=SimpleNamespace(answer="x"))] * len(rows)
    metrics = summarize_answers(questions, records, range(len(rows)))["metrics"]
    assert metrics["wrong_answers_flagged"] == pytest.approx(2 / 3) and metrics["right_answers_flagged"] == 0.0
