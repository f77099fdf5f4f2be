"""Answer-side evaluation: what the answerer gives the model and shows as quotes (context recall,
quote accuracy, for questions with gold figures), and the answers themselves (answer accuracy,
token F1, ROUGE-L, BLEU, citation precision)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any, Callable, Collection, Generator, Protocol, Sequence

from desktop_rag.core.eval import metrics as m
from desktop_rag.core.eval.questions import LEVELS, ResolvedQuestion, gold_of, levels_of, units_of
from desktop_rag.core.eval.scaled import scaled_figure_found
from desktop_rag.core.models.chat import never
from desktop_rag.core.text import figures_in, is_plain_figure, normalize_figure
from desktop_rag.core.types import Answer, AnswerEvent, Passage, Quote, RetrievalMode, run_to_end
from desktop_rag.errors import Cancelled, DesktopRagError

CONTEXT_METRICS = ("context_recall", "quote_accuracy", "quote_accuracy_scaled", "first_quote_on_gold_page")


@dataclass(frozen=True, slots=True)
class EvalProgress:
    """One progress point: ``stage`` is 'indexing', 'generating', 'retrieving' or 'answering'."""

    stage: str
    done: int
    total: int
    message: str = ""


class AnswerSource(Protocol):
    """What answer metrics need of :class:`desktop_rag.core.answer.Answerer`."""

    mode: RetrievalMode

    def ask(self, question: str, should_stop: Callable[[], bool] = never) -> Generator[AnswerEvent, None, Answer]: ...


def _score_answer(question: ResolvedQuestion, answer: Answer) -> dict[str, Any]:
    record: dict[str, Any] = {
        "text": answer.text,
        **({"answer_accuracy": float(figure_found(question.source.figures, answer.text))}
           if question.source.figures else {}),
        "found_nothing": answer.found_nothing,
        "flagged": bool(answer.unsupported or answer.unquoted),  # a sentence the app marks for checking
        "unquoted": bool(answer.unquoted),  # ... for a figure none of the quotes states
        "token_f1": m.token_f1(answer.text, question.source.answer),
        "rouge_l": m.rouge_l(answer.text, question.source.answer),
        "bleu-1": m.sentence_bleu(answer.text, question.source.answer, 1),
        "citations": [{"file": c.file, "page": c.page, "page_end": c.page_end} for c in answer.citations],
    }
    for level in levels_of(question):
        cited = [units_of(c.path, c.page, c.page_end, level) for c in answer.citations]
        record[f"cited_on_gold@{level}"] = m.citation_hits(cited, gold_of(question, level))[0]
    return record


def _flagged_shares(results: Sequence[dict[str, Any]]) -> dict[str, float]:
    """Of the answers to figure questions, the share of those without the gold figure that the app
    marks for checking (an unsupported sentence, or a figure none of the quotes states), and of those
    with it."""
    shares = {}
    for name, right in (("wrong_answers_flagged", 0.0), ("right_answers_flagged", 1.0)):
        rows = [r["flagged"] for r in results if r["answer_accuracy"] == right]
        if rows:
            shares[name] = sum(rows) / len(rows)
    return shares


def evaluate_answers(
    questions: Sequence[ResolvedQuestion],
    answerer: AnswerSource,
    records: list[dict[str, Any]],
    limit: int,
    should_cancel: Callable[[], bool] = never,
) -> Generator[EvalProgress, None, dict[str, Any]]:
    """Answer the first ``limit`` questions that have a gold answer; score them; fill ``records``."""
    chosen = [i for i, q in enumerate(questions) if q.source.answer][:max(limit, 0)]
    started = time.perf_counter()
    for n, i in enumerate(chosen):
        if should_cancel():
            raise Cancelled("evaluation cancelled")
        yield EvalProgress("answering", n, len(chosen), questions[i].text[:60])
        try:
            answer = run_to_end(answerer.ask(questions[i].text, should_cancel))
        except Cancelled:
            raise
        except DesktopRagError as exc:  # a question too long for the context, a model error ...
            records[i]["answer_result"] = {"error": str(exc)}
            continue
        records[i]["answer_result"] = _score_answer(questions[i], answer)
        if scores_quotes(questions[i]):
            records[i]["context_result"] = _context_of(questions[i], answer.passages, answer.quotes)
    yield EvalProgress("answering", len(chosen), len(chosen))
    summary = summarize_answers(questions, records, chosen)
    summary.update(mode=answerer.mode, seconds=round(time.perf_counter() - started, 3))
    return summary


def figure_found(figures: Sequence[str], text: str) -> bool:
    """Whether any of the gold ``figures`` is written in ``text`` (numbers compared normalized). A
    figure that is no plain number (a version "4.19.0", "0x100", "-1") is looked for as written, as a
    whole token: a manual's answers are often such."""
    if not {normalize_figure(f) for f in figures}.isdisjoint(figures_in(text)):
        return True
    return any(re.search(rf"(?<![\w.-]){re.escape(f)}(?![\w]|[.,]\d)", text) for f in figures if not is_plain_figure(f))


def context_record(figures: Sequence[str], passages: Sequence[Passage], quotes: Sequence[Quote],
                   answer: str = "", gold_pages: Collection[tuple[str, int]] = ()) -> dict[str, Any]:
    """With gold ``figures``: whether one is among the passages given to the model, and among the
    quotes: as written (``quote_accuracy``), or also in the unit of the quoted table
    (``quote_accuracy_scaled``: "$14.2 billion" in the gold ``answer``, "14,158" in a table "in
    millions"). With ``gold_pages`` ((path, page) pairs): whether the first quote, the line shown
    first, comes from one of them (``first_quote_on_gold_page``; no quote counts as a miss)."""
    record: dict[str, Any] = {
        "quotes": [{"file": q.file, "page": q.page, "text": q.text, "columns": q.context} for q in quotes]}
    if figures:
        strict = figure_found(figures, " ".join(q.text for q in quotes))
        record.update(context_recall=float(figure_found(figures, " ".join(p.text for p in passages))),
                      quote_accuracy=float(strict),
                      quote_accuracy_scaled=float(strict or scaled_figure_found(figures, answer, quotes)))
    if gold_pages:
        record["first_quote_on_gold_page"] = float(bool(quotes) and (quotes[0].path, quotes[0].page) in gold_pages)
    return record


def passages_and_quotes(answerer: AnswerSource, question: str,
                        should_cancel: Callable[[], bool]) -> tuple[tuple[Passage, ...], tuple[Quote, ...]]:
    """What the answerer gives the model (and shows as quotes) for the question, without generating."""
    gen = answerer.ask(question, should_cancel)
    try:
        for event in gen:
            if event.kind == "retrieved":
                return event.passages, event.quotes
    finally:
        gen.close()
    return (), ()


def evaluate_context(
    questions: Sequence[ResolvedQuestion],
    answerer: AnswerSource,
    records: list[dict[str, Any]],
    should_cancel: Callable[[], bool] = never,
) -> Generator[EvalProgress, None, dict[str, Any]]:
    """For questions with gold figures: is one among the passages given to the model (context
    recall), and among the quotes shown above the answer (quote accuracy)? For questions with gold
    pages: does the first quote come from one of them?"""
    chosen = [i for i, q in enumerate(questions) if scores_quotes(q)]
    started = time.perf_counter()
    for n, i in enumerate(chosen):
        if should_cancel():
            raise Cancelled("evaluation cancelled")
        if "context_result" in records[i]:
            continue  # answered already: its passages and quotes were scored then
        yield EvalProgress("quoting", n, len(chosen), questions[i].text[:60])
        try:
            passages, quotes = passages_and_quotes(answerer, questions[i].text, should_cancel)
        except DesktopRagError as exc:
            records[i]["context_result"] = {"error": str(exc)}
            continue
        records[i]["context_result"] = _context_of(questions[i], passages, quotes)
    yield EvalProgress("quoting", len(chosen), len(chosen))
    results = [records[i]["context_result"] for i in chosen if "error" not in records[i]["context_result"]]
    metrics, counts = {}, {}
    for name in CONTEXT_METRICS:
        values = [r[name] for r in results if name in r]
        if values:
            metrics[name], counts[name] = sum(values) / len(values), len(values)
    return {"count": len(results), "errors": len(chosen) - len(results), "mode": answerer.mode,
            "metrics": metrics, "counts": counts, "seconds": round(time.perf_counter() - started, 3)}


def scores_quotes(question: ResolvedQuestion) -> bool:
    """Whether the question's quotes can be judged: it has gold figures or gold pages."""
    return bool(question.source.figures or question.gold_pages)


def _context_of(question: ResolvedQuestion, passages: Sequence[Passage], quotes: Sequence[Quote]) -> dict[str, Any]:
    return context_record(question.source.figures, passages, quotes, question.source.answer, question.gold_pages)


def summarize_answers(
    questions: Sequence[ResolvedQuestion], records: Sequence[dict[str, Any]], chosen: Sequence[int]
) -> dict[str, Any]:
    """Mean token F1 and ROUGE-L, corpus BLEU, citation precision over all cited passages, and for figure
    questions the answers with the gold figure and the shares of wrong and right ones the app flags."""
    scored = [i for i in chosen if "token_f1" in records[i].get("answer_result", {})]
    results = [records[i]["answer_result"] for i in scored]
    metrics: dict[str, float] = {}
    if results:
        metrics["token_f1"] = sum(r["token_f1"] for r in results) / len(results)
        metrics["rouge_l"] = sum(r["rouge_l"] for r in results) / len(results)
        predictions = [r["text"] for r in results]
        references = [[questions[i].source.answer] for i in scored]
        metrics["bleu-1"] = m.corpus_bleu(predictions, references, 1)
        metrics["bleu-4"] = m.corpus_bleu(predictions, references, 4)
    with_figures = [r["answer_accuracy"] for r in results if "answer_accuracy" in r]
    if with_figures:
        metrics["answer_accuracy"] = sum(with_figures) / len(with_figures)
    metrics.update(_flagged_shares([r for r in results if "answer_accuracy" in r and "flagged" in r]))
    for level in LEVELS:
        rows = [r for r in results if f"cited_on_gold@{level}" in r]
        cited = sum(len(r["citations"]) for r in rows)
        if cited:
            metrics[f"citation_precision@{level}"] = sum(r[f"cited_on_gold@{level}"] for r in rows) / cited
    return {
        "count": len(results),
        "errors": len(chosen) - len(results),
        "without_citations": sum(1 for r in results if not r["citations"]),
        "metrics": metrics,
        "bleu_signature": m.bleu_signature(1) if results else "",
    }
