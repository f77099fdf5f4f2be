"""The evaluation harness: retrieval (and optionally answer) quality over labelled questions.

``run_evaluation`` is a generator of :class:`EvalProgress` that returns an :class:`EvalResult`;
every event is a cancel point. It asks each *target* (one store, i.e. one settings variant, with
its retriever) every question in every retrieval mode, once, to depth 10, and scores the same
ranking at document and page level (see :mod:`desktop_rag.core.eval.metrics` for the definitions).
Answer metrics need the chat model to answer each question, so they are optional and limited to
the first ``answer_limit`` questions that have a gold answer.

Questions come from :mod:`desktop_rag.core.eval.questions` (labelled files) or
:mod:`desktop_rag.core.eval.selfeval` (generated from the library).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Mapping, Protocol, Sequence

import numpy as np

from desktop_rag.core.eval import metrics as m
from desktop_rag.core.eval.answers import AnswerSource, EvalProgress, evaluate_answers, evaluate_context, scores_quotes
from desktop_rag.core.eval.questions import (LEVELS, ResolvedQuestion, SkippedQuestion, gold_of, levels_of,
                                             units_of)
from desktop_rag.core.models.chat import never
from desktop_rag.core.types import RETRIEVAL_MODES, Hit, RetrievalMode
from desktop_rag.errors import Cancelled

log = logging.getLogger(__name__)

RESULTS_FORMAT = 1
QUERY_BATCH = 64  # questions embedded per call: one at a time costs ~20x more per question


class Searcher(Protocol):
    """What the harness needs of :class:`desktop_rag.core.search.retriever.Retriever`."""

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray | None: ...

    def search(self, query: str, *, k: int, mode: RetrievalMode | str,
               vector: np.ndarray | None = None) -> list[Hit]: ...


@dataclass(frozen=True, slots=True)
class EvalTarget:
    """One settings variant: its name (a results key), retriever, and what to report about it."""

    name: str
    searcher: Searcher
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class EvalResult:
    """Every number of one run; ``to_json`` is the content of results.json."""

    kind: str
    source: str
    questions: list[ResolvedQuestion]
    skipped: list[SkippedQuestion]
    variants: dict[str, dict[str, Any]]
    modes: tuple[RetrievalMode, ...]
    ks: tuple[int, ...]
    metrics: dict[str, dict[str, dict[str, dict[str, float]]]]
    level_counts: dict[str, int]
    per_question: list[dict[str, Any]]
    answers: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    generation: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def metric(self, variant: str, mode: str, level: str, name: str) -> float | None:
        return self.metrics.get(variant, {}).get(mode, {}).get(level, {}).get(name)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": RESULTS_FORMAT,
            "kind": self.kind,
            "source": self.source,
            "question_count": len(self.questions),
            "skipped": [{"line": s.line, "question": s.question, "reason": s.reason} for s in self.skipped],
            "levels": dict(self.level_counts),
            "modes": list(self.modes),
            "ks": list(self.ks),
            "metric_names": m.metric_names(self.ks),
            "variants": self.variants,
            "metrics": self.metrics,
            "answers": self.answers,
            "context": self.context,
            "generation": self.generation,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "questions": self.per_question,
        }


def retrieval_modes(modes: Sequence[RetrievalMode | str]) -> tuple[RetrievalMode, ...]:
    """The modes as enums; ValueError naming the unknown ones (or none given)."""
    unknown = [mode for mode in modes if mode not in RETRIEVAL_MODES]
    if unknown or not modes:
        raise ValueError(f"retrieval modes must be among {', '.join(RETRIEVAL_MODES)}, not {unknown or 'none'}")
    return tuple(RetrievalMode(mode) for mode in modes)


# ------------------------------------------------------------------ units and gold


def question_record(question: ResolvedQuestion) -> dict[str, Any]:
    names = question.names
    return {
        "line": question.line,
        "question": question.text,
        "answer": question.source.answer,
        "type": question.source.kind,
        "gold": {"docs": sorted(names[p] for p in question.gold_docs),
                 "pages": [{"file": names[p], "page": n} for p, n in sorted(question.gold_pages)]},
        "retrieval": {},
    }


# ------------------------------------------------------------------ retrieval


def _score_hits(question: ResolvedQuestion, hits: Sequence[Hit]) -> dict[str, Any]:
    record: dict[str, Any] = {"hits": [{"file": h.file, "page": h.page, "page_end": h.page_end} for h in hits]}
    for level in levels_of(question):
        ranked = [units_of(h.path, h.page, h.page_end, level) for h in hits]
        record[level] = m.retrieval_metrics(ranked, gold_of(question, level))
    return record


def evaluate_retrieval(
    questions: Sequence[ResolvedQuestion],
    targets: Sequence[EvalTarget],
    records: list[dict[str, Any]],
    modes: Sequence[RetrievalMode] = tuple(RetrievalMode),
    should_cancel: Callable[[], bool] = never,
) -> Generator[EvalProgress, None, dict[str, float]]:
    """Search every question in every mode of every target; fill ``records[i]['retrieval']``.

    Returns the seconds spent per target and mode.
    """
    total, done = len(questions) * len(targets) * len(modes), 0
    seconds: dict[str, float] = {}
    for target in targets:
        vectors = _question_vectors(target.searcher, questions, modes)
        for mode in modes:
            started = time.perf_counter()
            for i, (question, record) in enumerate(zip(questions, records)):
                if should_cancel():
                    raise Cancelled("evaluation cancelled")
                vector = vectors[i] if vectors is not None else None
                hits = target.searcher.search(question.text, k=m.RANK_CUTOFF, mode=mode, vector=vector)
                record["retrieval"].setdefault(target.name, {})[mode] = _score_hits(question, hits)
                done += 1
                yield EvalProgress("retrieving", done, total, f"{target.name}, {mode}")
            seconds[f"retrieval {target.name} {mode}"] = time.perf_counter() - started
    return seconds


def _question_vectors(searcher: Searcher, questions: Sequence[ResolvedQuestion],
                      modes: Sequence[RetrievalMode]) -> np.ndarray | None:
    """Every question's embedding, made in batches once and reused by every mode that needs it;
    None when no mode does, or the library is empty."""
    if all(mode == RetrievalMode.KEYWORD for mode in modes) or not questions:
        return None
    texts = [q.text.strip() for q in questions]
    parts = [searcher.embed_queries(texts[start:start + QUERY_BATCH]) for start in range(0, len(texts), QUERY_BATCH)]
    return None if any(p is None for p in parts) else np.vstack(parts)


def aggregate(
    records: Sequence[dict[str, Any]], targets: Sequence[EvalTarget], modes: Sequence[str]
) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    """Mean of each metric over the questions that have gold evidence at that level."""
    out: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    for target in targets:
        for mode in modes:
            per_level: dict[str, dict[str, float]] = {}
            for level in LEVELS:
                rows = [r["retrieval"][target.name][mode][level] for r in records
                        if level in r["retrieval"][target.name][mode]]
                if rows:
                    per_level[level] = m.mean_metrics(rows)
            out.setdefault(target.name, {})[mode] = per_level
    return out


# ------------------------------------------------------------------ answers


# ------------------------------------------------------------------ one run


def run_evaluation(
    questions: Sequence[ResolvedQuestion],
    targets: Sequence[EvalTarget],
    *,
    kind: str = "labelled",
    source: str = "",
    skipped: Sequence[SkippedQuestion] = (),
    modes: Sequence[RetrievalMode | str] = tuple(RetrievalMode),
    answerer: AnswerSource | None = None,
    answer_limit: int = 0,
    should_cancel: Callable[[], bool] = never,
) -> Generator[EvalProgress, None, EvalResult]:
    """Retrieval metrics for every target and mode, then answer metrics if an answerer is given."""
    modes = retrieval_modes(modes)
    records = [question_record(q) for q in questions]
    timings = yield from evaluate_retrieval(questions, targets, records, modes, should_cancel)
    answers = context = None
    if answerer is not None and answer_limit > 0:  # first: answers give their passages and quotes too
        answers = yield from evaluate_answers(questions, answerer, records, answer_limit, should_cancel)
        answers["variant"] = targets[0].name if targets else ""
    if answerer is not None and any(scores_quotes(q) for q in questions):
        context = yield from evaluate_context(questions, answerer, records, should_cancel)
        context["variant"] = targets[0].name if targets else ""
    return EvalResult(
        kind=kind, source=source, questions=list(questions), skipped=list(skipped),
        variants={t.name: dict(t.info) for t in targets}, modes=tuple(modes), ks=m.DEFAULT_KS,
        metrics=aggregate(records, targets, modes),
        level_counts={level: sum(1 for q in questions if level in levels_of(q)) for level in LEVELS},
        per_question=records, answers=answers, context=context, timings=timings,
    )
